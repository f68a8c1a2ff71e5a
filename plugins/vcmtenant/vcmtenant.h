/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/vcmtenant/vcmtenant.h - the tenant's VCM commands (enroll,
 * unenroll, info, getenvstats).  Records, configuration files and calls
 * to a VCM are core/tenant (tenant.h, libhsmadmin-net).
 */
#ifndef HSM_PLUGIN_VCMTENANT_H
#define HSM_PLUGIN_VCMTENANT_H

#include <hsmadmin/plugin.h>
#include "tenant.h"

int vt_cmd_enroll(struct hsm_ctx *ctx);
int vt_cmd_unenroll(struct hsm_ctx *ctx);
int vt_cmd_info(struct hsm_ctx *ctx);
int vt_cmd_getenvstats(struct hsm_ctx *ctx);

#endif
