/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/logs/logs.h - the logs plugin's commands (logs.c) and the
 * collector (collect.c).
 */
#ifndef HSM_PLUGIN_LOGS_H
#define HSM_PLUGIN_LOGS_H

#include <hsmadmin/plugin.h>

/* hsmadmin logs collect [--daemon] */
int logs_collect(struct hsm_ctx *ctx);

#endif
