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

/* The pins this host keeps of esn (hostkeys.h): 0, or the exit status
 * reported (3 with "not enrolled from this host", unenrolled appended,
 * when there are none). */
struct hsm_pins;
int logs_load_pins(struct hsm_ctx *ctx, const char *esn, struct hsm_pins *pins,
		   const char *unenrolled);

/* Log keys without certificates (uncertified.c): taken only from an HSM
 * this host enrolled in recovery mode.  logs_uncertified_permitted reads
 * its pins: 0 when they say so, else the exit status reported (4 when it
 * was enrolled in primary mode).  logs_refuse_uncertified reports the
 * refusal (exit 4) of an HSM whose pins say primary mode.  not_done says
 * what the refusal left undone ("nothing exported"). */
int logs_uncertified_permitted(struct hsm_ctx *ctx, const char *esn, const char *not_done);
int logs_refuse_uncertified(struct hsm_ctx *ctx, const char *esn, const char *not_done);

#endif
