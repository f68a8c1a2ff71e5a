/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atomic-file.c - the one way state reaches disk in hsmadmin and hsmd.
 *
 * A temporary file PATH.tmp.XXXXXX next to the target, written, fsynced,
 * renamed over the target, and the directory fsynced: after a crash the
 * target holds the old or the new bytes.  The temporary file a crash left
 * behind (it may hold a secret) is removed by the writer's next start
 * (hsm_remove_stale_temps).
 *
 * Every step is a plain write(2), fsync(2) and rename(2): the fault
 * injection tests (tests/fault) count and break exactly these calls.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "internal.h"

/* ".tmp." and mkostemp's six letters and digits. */
#define TEMP_SUFFIX ".tmp."
#define TEMP_SUFFIX_LEN 5
#define TEMP_RANDOM_LEN 6

/* hsm_set_err, keeping errno (the cause, for the caller) as it was. */
static int fail(int e, char *err, size_t errlen, const char *fmt, ...) HSM_PRINTF(4, 5);
static int fail(int e, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return -1;
}

/* A new temporary file for path, created with O_EXCL and mode 0600, and
 * locked (flock) while it is open: hsm_remove_stale_temps removes only the
 * ones nobody holds.  A sweep may remove the file between its creation and
 * the lock (it then has no link left): it is made again. */
static int temp_create(const char *path, char *tmp, size_t tmplen)
{
	for (int tries = 0; tries < 8; tries++) {
		struct stat sb;
		int fd;

		snprintf(tmp, tmplen, "%s" TEMP_SUFFIX "XXXXXX", path);
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0)
			return -1;
		/* Without locks (some network file systems) the file is still
		 * written; only a concurrent sweep could then take it. */
		(void)flock(fd, LOCK_EX);
		if (fstat(fd, &sb) == 0 && sb.st_nlink > 0)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

/* Give tmp the name path unless path exists (EEXIST).  Where the file
 * system has no RENAME_NOREPLACE, link() does the same. */
static int rename_noreplace(const char *tmp, const char *path)
{
	int e;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -1;
	if (link(tmp, path) != 0)
		return -1;
	e = errno;
	unlink(tmp);
	errno = e;
	return 0;
}

HSM_API int hsm_write_file_ex(const char *path, const void *data, size_t len, mode_t mode,
			      gid_t gid, unsigned flags, char *err, size_t errlen)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32];
	int fd, e, rc;

	if (strlen(path) >= PATH_MAX || hsm_path_dir(path, dir, sizeof(dir)) != 0)
		return fail(ENAMETOOLONG, err, errlen, "%s: path too long", path);
	fd = temp_create(path, tmp, sizeof(tmp));
	if (fd < 0)
		return fail(errno, err, errlen, "%s: cannot create a temporary file: %s", path,
			    strerror(errno));
	/* The file was created 0600; its group and mode are set before a
	 * byte is written, so a secret is never readable by more than its
	 * final mode allows, and never chmod'ed after it is written. */
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		return fail(e, err, errlen, "%s: cannot give the file to group %ld: %s", path,
			    (long)gid, strerror(e));
	}
	if (fchmod(fd, mode) != 0 || hsm_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		return fail(e, err, errlen, "%s: write failed: %s", path, strerror(e));
	}
	rc = flags & HSM_WRITE_NOREPLACE ? rename_noreplace(tmp, path) : rename(tmp, path);
	if (rc != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		if (e == EEXIST)
			return fail(e, err, errlen, "%s: exists already: not replaced", path);
		return fail(e, err, errlen, "%s: rename failed: %s", path, strerror(e));
	}
	/* Closed only now: the lock keeps a sweep off the file until it has
	 * its name.  The fsync succeeded, so the close cannot lose data. */
	close(fd);
	if (!(flags & HSM_WRITE_NODIRSYNC) && hsm_fsync_dir(dir, err, errlen) != 0)
		return 1;
	return 0;
}

HSM_API int hsm_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
				  char *err, size_t errlen)
{
	return hsm_write_file_ex(path, data, len, mode, (gid_t)-1, 0, err, errlen) == 0 ? 0 : -1;
}

HSM_API int hsm_write_json_atomic(const char *path, const json_t *doc, mode_t mode, char *err,
				  size_t errlen)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return hsm_set_err(err, errlen, "%s: cannot serialise JSON", path);
	size_t n = strlen(text);
	/* End with a newline so the file is friendly to people and tools. */
	char *buf = malloc(n + 2);
	if (!buf) {
		free(text);
		return hsm_set_err(err, errlen, "%s: out of memory", path);
	}
	memcpy(buf, text, n);
	buf[n] = '\n';
	rc = hsm_write_file_atomic(path, buf, n + 1, mode, err, errlen);
	free(buf);
	free(text);
	return rc;
}

/* ---- leftovers ---------------------------------------------------------- */

/* entry is NAME.tmp.XXXXXX (of target name, or of any NAME when name is
 * NULL). */
static int is_temp_of(const char *entry, const char *name)
{
	size_t len = strlen(entry), base;

	if (len <= TEMP_SUFFIX_LEN + TEMP_RANDOM_LEN)
		return 0;
	base = len - TEMP_SUFFIX_LEN - TEMP_RANDOM_LEN;
	if (memcmp(entry + base, TEMP_SUFFIX, TEMP_SUFFIX_LEN) != 0)
		return 0;
	for (const char *t = entry + base + TEMP_SUFFIX_LEN; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9')))
			return 0;
	return !name || (strlen(name) == base && memcmp(entry, name, base) == 0);
}

/* Remove one temporary file unless a live writer holds it (its flock).
 * The lock is taken on what was opened, and only that same file is
 * removed: not a file put in its place meanwhile. */
static int remove_if_stale(int dfd, const char *entry)
{
	struct stat held, now;
	int fd, gone = 0;

	fd = openat(dfd, entry, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    fstatat(dfd, entry, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == held.st_dev &&
	    now.st_ino == held.st_ino && unlinkat(dfd, entry, 0) == 0)
		gone = 1;
	close(fd);
	return gone;
}

HSM_API int hsm_remove_stale_temps(const char *dir, const char *name)
{
	DIR *dp = opendir(dir);
	struct dirent *d;
	int gone = 0;

	if (!dp)
		return 0;
	while ((d = readdir(dp)))
		if (is_temp_of(d->d_name, name))
			gone += remove_if_stale(dirfd(dp), d->d_name);
	closedir(dp);
	if (gone)
		hsm_fsync_dir(dir, NULL, 0);
	return gone;
}

HSM_API int hsm_remove_stale_temps_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (hsm_path_dir(path, dir, sizeof(dir)) != 0)
		return 0;
	return hsm_remove_stale_temps(dir, slash ? slash + 1 : path);
}
