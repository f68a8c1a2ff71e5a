/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fault/enospc-shim.c - an LD_PRELOAD shim that makes the disk
 * "full" for one file: while the control file HSM_FAULT_ENOSPC_CONTROL
 * exists, it holds how many more bytes writes to files whose path ends in
 * "/$HSM_FAULT_ENOSPC_FILE" may put down.  A write that crosses the budget
 * is cut short there (a real short write), the next one fails with ENOSPC.
 * Removing the control file frees the disk again.
 *
 * Built without sanitizers: it is preloaded into shells as well.
 */
#include "config.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);

static int watched(int fd)
{
	const char *name = getenv("HSM_FAULT_ENOSPC_FILE");
	char link[64], path[4096];
	ssize_t n;
	size_t nl;

	if (!name || !*name)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	nl = strlen(name);
	return (size_t)n > nl && path[n - (ssize_t)nl - 1] == '/' &&
	       strcmp(path + n - nl, name) == 0;
}

/* The bytes still allowed, or -1 when no fault is active. */
static long budget(write_fn real, long spend)
{
	const char *ctl = getenv("HSM_FAULT_ENOSPC_CONTROL");
	char buf[32];
	long left;
	int fd;
	ssize_t n;

	if (!ctl || (fd = open(ctl, O_RDWR | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	left = atol(buf);
	if (spend > 0) {
		left -= spend;
		if (ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0) {
			n = snprintf(buf, sizeof(buf), "%ld\n", left < 0 ? 0 : left);
			if (real(fd, buf, (size_t)n) != n)
				left = 0;
		}
	}
	close(fd);
	return left < 0 ? 0 : left;
}

ssize_t write(int fd, const void *data, size_t len)
{
	static write_fn real;
	long left;
	ssize_t w;

	if (!real)
		real = (write_fn)dlsym(RTLD_NEXT, "write");
	if (!watched(fd) || (left = budget(real, 0)) < 0)
		return real(fd, data, len);
	if (left == 0) {
		errno = ENOSPC;
		return -1;
	}
	w = real(fd, data, len < (size_t)left ? len : (size_t)left);
	if (w > 0)
		budget(real, w);
	return w;
}
