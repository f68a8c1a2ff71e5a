/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faultshim.c - an LD_PRELOAD library for the fault-injection tests
 * (tests/fault/README.md): it counts the write(2)s to regular files, the
 * fsync(2)/fdatasync(2)s and the rename(2)s of every process that loads it,
 * and makes the Nth one fail with ENOSPC or EIO, or kills hsmd with
 * SIGKILL just before it, so that a test can try every N.
 *
 * The count lives in a file shared by hsmd and the VCM processes it starts
 * (FAULT_CTL, made and armed by faultctl): hsmd is started with the shim
 * loaded but idle, the test arms it once hsmd serves, so the count starts
 * at the method under test.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "faultctl.h"

static struct fault_ctl *ctl;

static struct fault_ctl *get_ctl(void)
{
	static int tried;
	const char *path;
	int fd;

	if (ctl || tried)
		return ctl;
	tried = 1;
	path = getenv("FAULT_CTL");
	if (!path)
		return NULL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (ctl == MAP_FAILED)
		ctl = NULL;
	return ctl;
}

/* 0: go on; otherwise the errno to fail with. */
static int fault_here(void)
{
	struct fault_ctl *c = get_ctl();
	uint64_t n;

	if (!c || !__atomic_load_n(&c->armed, __ATOMIC_SEQ_CST))
		return 0;
	n = __atomic_add_fetch(&c->count, 1, __ATOMIC_SEQ_CST);
	if (c->at == 0 || n != c->at)
		return 0;
	__atomic_store_n(&c->fired, (uint32_t)getpid(), __ATOMIC_SEQ_CST);
	switch (c->kind) {
	case FAULT_KILL:
		/* The device dies here: hsmd first, then whoever hit it. */
		if (c->pid > 0)
			kill((pid_t)c->pid, SIGKILL);
		kill(getpid(), SIGKILL);
		return EIO;
	case FAULT_ENOSPC:
		return ENOSPC;
	default:
		return EIO;
	}
}

#define REAL(name)                                                                                 \
	static __typeof__(name) *real_##name;                                                      \
	if (!real_##name)                                                                          \
	real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t len)
{
	struct stat sb;
	int e;

	REAL(write);
	if (get_ctl() && ctl->armed && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (e = fault_here())) {
		errno = e;
		return -1;
	}
	return real_write(fd, buf, len);
}

int fsync(int fd)
{
	int e;

	REAL(fsync);
	if ((e = fault_here())) {
		errno = e;
		return -1;
	}
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	int e;

	REAL(fdatasync);
	if ((e = fault_here())) {
		errno = e;
		return -1;
	}
	return real_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
	int e;

	REAL(rename);
	if ((e = fault_here())) {
		errno = e;
		return -1;
	}
	return real_rename(from, to);
}
