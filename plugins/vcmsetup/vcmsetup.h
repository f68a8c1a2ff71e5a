/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/vcmsetup/vcmsetup.h - `hsmadmin vcm single-setup` (single-setup.c).
 */
#ifndef HSM_PLUGIN_VCMSETUP_H
#define HSM_PLUGIN_VCMSETUP_H

#include <hsmadmin/plugin.h>

int vs_cmd_single_setup(struct hsm_ctx *ctx);

#endif
