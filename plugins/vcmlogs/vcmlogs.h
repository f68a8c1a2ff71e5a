/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/vcmlogs/vcmlogs.h - `hsmadmin vcm logs` (plugin.c, vcm-logs.c).
 * The enrollment records and the call to a VCM's service come from
 * core/tenant (tenant.h, libhsmadmin-net).
 */
#ifndef HSM_PLUGIN_VCMLOGS_H
#define HSM_PLUGIN_VCMLOGS_H

#include <hsmadmin/plugin.h>

int vl_cmd_export(struct hsm_ctx *ctx);
int vl_cmd_expire(struct hsm_ctx *ctx);
int vl_cmd_getkey(struct hsm_ctx *ctx);
int vl_cmd_verify(struct hsm_ctx *ctx);

#endif
