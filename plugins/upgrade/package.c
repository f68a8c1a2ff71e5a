/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/upgrade/package.c - reading a firmware package on the host, for
 * npkginfo (to show it) and upgrade (to check it before sending it): the
 * vendor keys of HSMADMIN_CONF/vendor.d, one pass of the streaming reader
 * (for upgrade only over the header and manifest: the HSMs hash the files),
 * and the exit code its verdict maps to.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <hsmadmin/plugin.h>
#include "upgrade.h"

int upgrade_exit_of(int status)
{
	switch (status) {
	case HSM_NPKG_OK:
		return HSM_EXIT_OK;
	case HSM_NPKG_UNKNOWN_SIGNER:
	case HSM_NPKG_BAD_SIGNATURE:
	case HSM_NPKG_DIGEST_MISMATCH:
		return HSM_EXIT_AUTH;
	case HSM_NPKG_MALFORMED:
	case HSM_NPKG_UNKNOWN_VERSION:
	case HSM_NPKG_TRUNCATED:
	case HSM_NPKG_PADDED:
		return HSM_EXIT_USAGE;
	default:
		return HSM_EXIT_FAILED;
	}
}

int upgrade_vendor_keys(struct hsm_ctx *ctx, EVP_PKEY ***keys, size_t *n)
{
	char dir[4096], err[512];

	snprintf(dir, sizeof(dir), "%s/vendor.d", hsm_conf_dir(ctx));
	if (hsm_vendor_keys_load(dir, keys, n, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "vendor keys", "%s", err);
	return 0;
}

int upgrade_package_read(struct hsm_ctx *ctx, const char *path, unsigned flags,
			 struct upgrade_package *p)
{
	int fd, rc, whole = !(flags & UPGRADE_READ_MANIFEST);

	flags &= ~UPGRADE_READ_MANIFEST;
	memset(p, 0, sizeof(*p));
	if ((rc = upgrade_vendor_keys(ctx, &p->keys, &p->nkeys)) != 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = hsm_error(ctx, HSM_EXIT_USAGE, "package", "%s: %s", path, strerror(errno));
		upgrade_package_free(p);
		return rc;
	}
	/* Without host vendor keys only the HSM can judge the signer. */
	if (!p->nkeys)
		flags |= HSM_NPKG_INSPECT;
	p->reader = hsm_npkg_reader_new(p->keys, p->nkeys, flags, NULL, NULL);
	if (!p->reader) {
		close(fd);
		upgrade_package_free(p);
		return hsm_error(ctx, HSM_EXIT_FAILED, "package", "out of memory");
	}
	p->status = whole ? hsm_npkg_read_fd(p->reader, fd, path, p->err, sizeof(p->err))
			  : hsm_npkg_check_fd(p->reader, fd, path, p->err, sizeof(p->err));
	close(fd);
	p->manifest = hsm_npkg_reader_manifest(p->reader);
	return 0;
}

void upgrade_package_free(struct upgrade_package *p)
{
	hsm_npkg_reader_free(p->reader);
	hsm_vendor_keys_free(p->keys, p->nkeys);
	memset(p, 0, sizeof(*p));
}
