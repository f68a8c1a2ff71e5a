/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atomic-file.c - the one way state reaches disk in hsmadmin and hsmd.
 *
 * A temporary file PATH.tmp.XXXXXX next to the target, written, fsynced,
 * renamed over the target, and the directory fsynced: after a crash the
 * target holds the old or the new bytes.  The temporary file a crash left
 * behind (it may hold a secret) is removed by the writer's next start
 * (hsm_remove_stale_temps).  hsm_write_file_ex writes bytes held in
 * memory; hsm_atomic_file_open/write/commit the same way a file written a
 * piece at a time (a package, a log segment as it arrives): one code path.
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

/* A write in progress: the locked temporary file and where it goes. */
struct hsm_atomic_file {
	int fd;
	int failed; /* a write failed: nothing may be committed */
	unsigned flags;
	char path[PATH_MAX];
	char dir[PATH_MAX];
	char tmp[PATH_MAX + 32];
};

/* Close and remove the temporary file, keeping errno. */
static void af_discard(struct hsm_atomic_file *f)
{
	int e = errno;

	if (f->fd >= 0) {
		close(f->fd);
		unlink(f->tmp);
	}
	f->fd = -1;
	errno = e;
}

/* Start a write to path in f (see hsm_atomic_file_open). */
static int af_begin(struct hsm_atomic_file *f, const char *path, mode_t mode, gid_t gid,
		    unsigned flags, char *err, size_t errlen)
{
	int e;

	f->fd = -1;
	f->failed = 0;
	f->flags = flags;
	if (strlen(path) >= sizeof(f->path) || hsm_path_dir(path, f->dir, sizeof(f->dir)) != 0)
		return fail(ENAMETOOLONG, err, errlen, "%s: path too long", path);
	memcpy(f->path, path, strlen(path) + 1);
	f->fd = temp_create(path, f->tmp, sizeof(f->tmp));
	if (f->fd < 0)
		return fail(errno, err, errlen, "%s: cannot create a temporary file: %s", path,
			    strerror(errno));
	/* The file was created 0600; its group and mode are set before a
	 * byte is written, so a secret is never readable by more than its
	 * final mode allows, and never chmod'ed after it is written. */
	if (gid != (gid_t)-1 && fchown(f->fd, (uid_t)-1, gid) != 0) {
		e = errno;
		af_discard(f);
		return fail(e, err, errlen, "%s: cannot give the file to group %ld: %s", path,
			    (long)gid, strerror(e));
	}
	if (fchmod(f->fd, mode) != 0) {
		e = errno;
		af_discard(f);
		return fail(e, err, errlen, "%s: write failed: %s", path, strerror(e));
	}
	return 0;
}

static int af_write(struct hsm_atomic_file *f, const void *data, size_t len, char *err,
		    size_t errlen)
{
	if (f->failed || f->fd < 0)
		return fail(EINVAL, err, errlen, "%s: write failed: an earlier write failed",
			    f->path);
	if (hsm_write_all(f->fd, data, len) != 0) {
		f->failed = 1;
		return fail(errno, err, errlen, "%s: write failed: %s", f->path, strerror(errno));
	}
	return 0;
}

/* fsync, rename to path (f->path when NULL), fsync of the directory; the
 * temporary file is gone afterwards in every case. */
static int af_commit(struct hsm_atomic_file *f, const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int e, rc;

	if (f->fd < 0 || f->failed) {
		af_discard(f);
		return fail(EINVAL, err, errlen, "%s: write failed: an earlier write failed",
			    f->path);
	}
	if (!path)
		path = f->path;
	else if (hsm_path_dir(path, dir, sizeof(dir)) != 0 || strcmp(dir, f->dir) != 0) {
		af_discard(f);
		return fail(EXDEV, err, errlen, "%s: not in the directory %s", path, f->dir);
	}
	if (fsync(f->fd) != 0) {
		e = errno;
		af_discard(f);
		return fail(e, err, errlen, "%s: write failed: %s", path, strerror(e));
	}
	rc = f->flags & HSM_WRITE_NOREPLACE ? rename_noreplace(f->tmp, path) : rename(f->tmp, path);
	if (rc != 0) {
		e = errno;
		af_discard(f);
		if (e == EEXIST)
			return fail(e, err, errlen, "%s: exists already: not replaced", path);
		return fail(e, err, errlen, "%s: rename failed: %s", path, strerror(e));
	}
	/* Closed only now: the lock keeps a sweep off the file until it has
	 * its name.  The fsync succeeded, so the close cannot lose data. */
	close(f->fd);
	f->fd = -1;
	if (!(f->flags & HSM_WRITE_NODIRSYNC) && hsm_fsync_dir(f->dir, err, errlen) != 0)
		return 1;
	return 0;
}

HSM_API int hsm_write_file_ex(const char *path, const void *data, size_t len, mode_t mode,
			      gid_t gid, unsigned flags, char *err, size_t errlen)
{
	struct hsm_atomic_file f;

	if (af_begin(&f, path, mode, gid, flags, err, errlen) != 0)
		return -1;
	if (af_write(&f, data, len, err, errlen) != 0) {
		af_discard(&f);
		return -1;
	}
	return af_commit(&f, NULL, err, errlen);
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

/* ---- a write in several pieces ------------------------------------------ */

HSM_API struct hsm_atomic_file *hsm_atomic_file_open(const char *path, mode_t mode, gid_t gid,
						     unsigned flags, char *err, size_t errlen)
{
	struct hsm_atomic_file *f = malloc(sizeof(*f));
	int e;

	if (!f) {
		fail(ENOMEM, err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (af_begin(f, path, mode, gid, flags, err, errlen) != 0) {
		e = errno;
		free(f);
		errno = e;
		return NULL;
	}
	return f;
}

HSM_API int hsm_atomic_file_write(struct hsm_atomic_file *f, const void *data, size_t len,
				  char *err, size_t errlen)
{
	return af_write(f, data, len, err, errlen);
}

HSM_API const char *hsm_atomic_file_temp(const struct hsm_atomic_file *f)
{
	return f->tmp;
}

HSM_API int hsm_atomic_file_commit(struct hsm_atomic_file *f, const char *path, char *err,
				   size_t errlen)
{
	int rc = af_commit(f, path, err, errlen), e = errno;

	free(f);
	errno = e;
	return rc;
}

HSM_API void hsm_atomic_file_abort(struct hsm_atomic_file *f)
{
	if (!f)
		return;
	af_discard(f);
	free(f);
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
