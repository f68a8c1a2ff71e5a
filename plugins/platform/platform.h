/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/platform/platform.h - the commands of the platform plugin.
 */
#ifndef HSMADMIN_PLUGIN_PLATFORM_H
#define HSMADMIN_PLUGIN_PLATFORM_H

#include <hsmadmin/plugin.h>

/* enroll.c */
int platform_enroll(struct hsm_ctx *ctx);
/* enroll --remove, enroll --probe (enroll-remove.c) */
int platform_enroll_remove(struct hsm_ctx *ctx);
int platform_enroll_probe(struct hsm_ctx *ctx);
/* query.c: read-only */
int platform_status(struct hsm_ctx *ctx);
int platform_info(struct hsm_ctx *ctx);
int platform_gettime(struct hsm_ctx *ctx);
int platform_getenvstats(struct hsm_ctx *ctx);
/* change.c: invasive */
int platform_settime(struct hsm_ctx *ctx);
int platform_setminvsn(struct hsm_ctx *ctx);
int platform_reset(struct hsm_ctx *ctx);
int platform_factorystate(struct hsm_ctx *ctx);
int platform_select_acceleration(struct hsm_ctx *ctx);
int platform_cs5_stats(struct hsm_ctx *ctx);

#endif
