/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio.c - bounded reads and the pieces of a crash-safe write (the
 * write itself is atomic-file.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "internal.h"

int hsm_path_dir(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		n = snprintf(dir, len, ".");
	else if (slash == path)
		n = snprintf(dir, len, "/");
	else
		n = snprintf(dir, len, "%.*s", (int)(slash - path), path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
HSM_API int hsm_fsync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return hsm_set_err(err, errlen, "%s: %s", dir, strerror(errno));
	if (fsync(fd) != 0) {
		int e = errno;
		close(fd);
		return hsm_set_err(err, errlen, "%s: fsync: %s", dir, strerror(e));
	}
	close(fd);
	return 0;
}

int hsm_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
HSM_API int hsm_read_fd(int fd, const char *path, size_t max, char **data, size_t *len, char *err,
			size_t errlen)
{
	struct stat st;
	char *buf;
	size_t got = 0;

	*data = NULL;
	*len = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hsm_set_err(err, errlen, "%s: not a regular file", path);
	}
	if ((uintmax_t)st.st_size > max) {
		close(fd);
		return hsm_set_err(err, errlen, "%s: file too large (%jd bytes, limit %zu)", path,
				   (intmax_t)st.st_size, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return hsm_set_err(err, errlen, "%s: out of memory", path);
	}
	/* The size may change under us: read at most st_size, then check EOF. */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return hsm_set_err(err, errlen, "%s: read failed: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

static int read_file(const char *path, int nofollow, size_t max, char **data, size_t *len,
		     char *err, size_t errlen)
{
	int fd;

	*data = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO (or a device) given as a file is refused by
	 * hsm_read_fd instead of blocking the open; regular files ignore the
	 * flag. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0 && nofollow && errno == ELOOP)
		return hsm_set_err(err, errlen,
				   "%s: refused: a symbolic link (give the file itself)", path);
	if (fd < 0)
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	return hsm_read_fd(fd, path, max, data, len, err, errlen);
}

HSM_API int hsm_read_file(const char *path, size_t max, char **data, size_t *len, char *err,
			  size_t errlen)
{
	return read_file(path, 0, max, data, len, err, errlen);
}

HSM_API int hsm_read_file_nofollow(const char *path, size_t max, char **data, size_t *len,
				   char *err, size_t errlen)
{
	return read_file(path, 1, max, data, len, err, errlen);
}

HSM_API int hsm_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return hsm_set_err(err, errlen, "%s: bad directory path", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return hsm_set_err(err, errlen, "%s: cannot create directory: %s", buf,
					   strerror(errno));
		*p = saved;
		if (saved == '\0')
			break;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return hsm_set_err(err, errlen, "%s: not a directory", path);
	return 0;
}
