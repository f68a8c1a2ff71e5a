/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faultctl - make, arm and read the control file of the fault shim
 * (tests/fault/faultshim.c):
 *
 *   faultctl FILE init              a fresh, idle control file
 *   faultctl FILE arm AT KIND [PID] count from now; fail the AT-th
 *                                   operation (0: count only) with KIND
 *                                   enospc, eio or kill (PID: hsmd)
 *   faultctl FILE show              "COUNT FIRED" (FIRED: 1 when it hit)
 *   faultctl FILE disarm
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "faultctl.h"

static int usage(void)
{
	fprintf(stderr, "usage: faultctl FILE init|arm AT KIND [PID]|show|disarm\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct fault_ctl *c, zero;
	int fd;

	if (argc < 3)
		return usage();
	if (strcmp(argv[2], "init") == 0) {
		memset(&zero, 0, sizeof(zero));
		fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, &zero, sizeof(zero)) != (ssize_t)sizeof(zero)) {
			perror(argv[1]);
			return 1;
		}
		close(fd);
		return 0;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (c == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (strcmp(argv[2], "arm") == 0 && (argc == 5 || argc == 6)) {
		__atomic_store_n(&c->armed, 0, __ATOMIC_SEQ_CST);
		c->at = strtoull(argv[3], NULL, 10);
		c->kind = strcmp(argv[4], "enospc") == 0 ? FAULT_ENOSPC
			  : strcmp(argv[4], "kill") == 0 ? FAULT_KILL
							 : FAULT_EIO;
		c->pid = argc == 6 ? atoi(argv[5]) : 0;
		c->count = 0;
		c->fired = 0;
		__atomic_store_n(&c->armed, 1, __ATOMIC_SEQ_CST);
	} else if (strcmp(argv[2], "show") == 0) {
		printf("%" PRIu64 " %d\n", __atomic_load_n(&c->count, __ATOMIC_SEQ_CST),
		       c->fired != 0);
	} else if (strcmp(argv[2], "disarm") == 0) {
		__atomic_store_n(&c->armed, 0, __ATOMIC_SEQ_CST);
	} else {
		return usage();
	}
	return 0;
}
