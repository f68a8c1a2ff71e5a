/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/upgrade/upgrade.h - what the upgrade plugin's commands share.
 */
#ifndef PLUGINS_UPGRADE_H
#define PLUGINS_UPGRADE_H

#include <hsmadmin/plugin.h>
#include "licence.h" /* hsm_vendor_keys_load */
#include "npkg.h"
#include "sign.h"

/* The host exit code for a package status: 4 signature/vendor/digest,
 * 2 not a well-formed package, 1 otherwise. */
int upgrade_exit_of(int status);
/* The vendor keys of HSMADMIN_CONF/vendor.d (none is not an error). */
int upgrade_vendor_keys(struct hsm_ctx *ctx, EVP_PKEY ***keys, size_t *n);

/* hsmadmin npkginfo (npkginfo.c). */
extern const struct hsm_option upgrade_npkginfo_opts[];
int upgrade_npkginfo_run(struct hsm_ctx *ctx);
/* hsmadmin upgrade (upgrade.c). */
extern const struct hsm_option upgrade_opts[];
int upgrade_run(struct hsm_ctx *ctx);

#endif
