/* SPDX-License-Identifier: Apache-2.0 */
/* faultctl.h - the control block the fault shim and faultctl share. */
#ifndef FAULTCTL_H
#define FAULTCTL_H

#include <stdint.h>

enum { FAULT_ENOSPC = 1, FAULT_EIO = 2, FAULT_KILL = 3 };

struct fault_ctl {
	uint32_t armed; /* counting only while set */
	uint32_t kind;  /* FAULT_* */
	uint64_t at;    /* fail the at-th operation (1-based); 0: count only */
	uint64_t count; /* operations seen while armed */
	uint32_t fired; /* pid of the process that hit the fault, 0 before */
	int32_t pid;    /* FAULT_KILL: hsmd, killed with the process that hit it */
};

#endif
