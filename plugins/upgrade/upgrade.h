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
 * 2 not a well-formed package, 1 otherwise (package.c). */
int upgrade_exit_of(int status);
/* The vendor keys of HSMADMIN_CONF/vendor.d (none is not an error). */
int upgrade_vendor_keys(struct hsm_ctx *ctx, EVP_PKEY ***keys, size_t *n);

/* A package read once on the host against the vendor keys. */
struct upgrade_package {
	EVP_PKEY **keys; /* HSMADMIN_CONF/vendor.d; the reader borrows them */
	size_t nkeys;
	struct hsm_npkg_reader *reader;
	const struct hsm_npkg_manifest *manifest; /* NULL: not even the manifest parsed */
	int status;                               /* HSM_NPKG_*; 0 when it verified */
	char err[640];                            /* the reason when status is not 0 */
};
/* upgrade_package_read flag: only the header, the signed manifest and the
 * file's exact size (hsm_npkg_check_fd), not the files' digests: for
 * upgrade, whose HSMs hash every file as it arrives. */
#define UPGRADE_READ_MANIFEST 0x10000u
/* Read the whole package at path with the reader flags (HSM_NPKG_INSPECT is
 * added when vendor.d holds no keys).  Returns 0 with the verdict in p, or
 * an exit code after reporting why the file could not be read at all; p is
 * freed with upgrade_package_free() either way. */
int upgrade_package_read(struct hsm_ctx *ctx, const char *path, unsigned flags,
			 struct upgrade_package *p);
void upgrade_package_free(struct upgrade_package *p);

/* hsmadmin npkginfo (npkginfo.c). */
extern const struct hsm_option upgrade_npkginfo_opts[];
int upgrade_npkginfo_run(struct hsm_ctx *ctx);
/* hsmadmin upgrade (upgrade.c). */
extern const struct hsm_option upgrade_opts[];
int upgrade_run(struct hsm_ctx *ctx);

#endif
