/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trust.c - the ownership, mode and symlink rules for files that grant
 * trust or configure a privileged process (see hsmadmin/trust.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/trust.h>

HSM_API int hsm_trust_stat(const struct stat *st, char *why, size_t whylen)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(why, whylen, "owned by uid %u, not by root or by us",
			 (unsigned)st->st_uid);
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whylen, "writable by %s (mode %04o); chmod go-w it",
			 (st->st_mode & S_IWOTH) ? "others" : "its group",
			 (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

HSM_API int hsm_trust_openat(int dirfd, const char *name, const char *shown, int want_dir,
			     char *err, size_t errlen)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
	struct stat st;
	char why[128];
	int fd, e;

	if (!shown)
		shown = name;
	fd = openat(dirfd, name, flags | (want_dir ? O_DIRECTORY : 0));
	if (fd < 0) {
		e = errno;
		if (e == ENOENT) {
			hsm_set_err(err, errlen, "%s: %s", shown, strerror(e));
			return HSM_TRUST_ABSENT;
		}
		/* O_NOFOLLOW fails with ELOOP on a symlink (ENOTDIR with
		 * O_DIRECTORY on some kernels): say which. */
		if ((e == ELOOP || e == ENOTDIR) &&
		    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			return hsm_set_err(err, errlen, "%s: refused: a symbolic link", shown);
		if (e == ENOTDIR && want_dir)
			return hsm_set_err(err, errlen, "%s: refused: not a directory", shown);
		return hsm_set_err(err, errlen, "%s: %s", shown, strerror(e));
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		return hsm_set_err(err, errlen, "%s: %s", shown, strerror(e));
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		close(fd);
		return hsm_set_err(err, errlen, "%s: refused: not a %s", shown,
				   want_dir ? "directory" : "regular file");
	}
	if (hsm_trust_stat(&st, why, sizeof(why)) != 0) {
		close(fd);
		return hsm_set_err(err, errlen, "%s: refused: %s", shown, why);
	}
	return fd;
}

HSM_API int hsm_trust_open(const char *path, int want_dir, char *err, size_t errlen)
{
	return hsm_trust_openat(AT_FDCWD, path, path, want_dir, err, errlen);
}

HSM_API int hsm_trust_dir(const char *path, char *err, size_t errlen)
{
	int fd = hsm_trust_open(path, 1, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

HSM_API int hsm_trust_read_file(const char *path, size_t max, char **data, size_t *len, char *err,
				size_t errlen)
{
	int fd = hsm_trust_open(path, 0, err, errlen);

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return fd;
	return hsm_read_fd(fd, path, max, data, len, err, errlen);
}
