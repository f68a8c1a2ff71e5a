/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmadmin/trust.h - the one check for files and directories that grant
 * trust or configure a privileged process (docs/architecture.md, "Trusted
 * files"): plugins and plugins.d, modules.d, vendor.d, hsmd.conf,
 * services.d and service modules, the configuration and state
 * directories.  Used by the plugin loader, the host tools and hsmd alike.
 *
 * The rules: the path itself is not a symbolic link; it is a regular file
 * (or, where a directory is expected, a directory); it is owned by root or
 * by the effective user; it is not writable by its group or by others.
 * The checks are made on the open descriptor (O_NOFOLLOW, O_NONBLOCK so a
 * FIFO never blocks), so what was checked is what is read.
 */
#ifndef HSMADMIN_TRUST_H
#define HSMADMIN_TRUST_H

#include <stddef.h>
#include <sys/stat.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#define HSM_TRUST_ABSENT (-2) /* the path does not exist */

/* Owner and mode of an fstat'ed file: 0, or -1 with the reason (no path). */
HSM_API int hsm_trust_stat(const struct stat *st, char *why, size_t whylen);

/* Open name (relative to dirfd, or AT_FDCWD) after the checks: a file
 * descriptor, HSM_TRUST_ABSENT, or -1 with "PATH: refused: reason" in err
 * (shown names the path in messages; NULL: name). */
HSM_API int hsm_trust_openat(int dirfd, const char *name, const char *shown, int want_dir,
			     char *err, size_t errlen);
HSM_API int hsm_trust_open(const char *path, int want_dir, char *err, size_t errlen);

/* A directory passes the checks: 0, HSM_TRUST_ABSENT or -1 with err. */
HSM_API int hsm_trust_dir(const char *path, char *err, size_t errlen);

/* Read a whole trusted file of at most max bytes (NUL-terminated): 0,
 * HSM_TRUST_ABSENT or -1 with err. */
HSM_API int hsm_trust_read_file(const char *path, size_t max, char **data, size_t *len, char *err,
				size_t errlen);

#endif
