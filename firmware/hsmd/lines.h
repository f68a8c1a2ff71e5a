/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lines.h - '\n'-terminated lines read from a non-blocking pipe: the VCM
 * status pipe (VCM -> supervisor) and the platform pipe (supervisor -> VCM).
 */
#ifndef HSMD_LINES_H
#define HSMD_LINES_H

#include <stddef.h>
#include <sys/types.h>

#define HD_LINE_MAX 512

/* Zero-initialise before the first use. */
struct hd_lines {
	char buf[HD_LINE_MAX];
	size_t len;   /* bytes in buf */
	size_t taken; /* of them, the line hd_lines_next last gave */
	int dropped;  /* a line was dropped: longer than the buffer, or with a NUL */
	int skipping; /* the rest of a dropped over-long line is being skipped */
};

/* One read() from fd into what is left of the buffer: its result (> 0
 * bytes read, 0 at EOF, -1 with errno).  Take every line hd_lines_next
 * gives (until NULL) before each call: that leaves room to read into. */
ssize_t hd_lines_fill(int fd, struct hd_lines *l);

/* The next whole line in the buffer, without its '\n' (valid until the
 * next call), or NULL when none is complete yet.  A line that cannot fit
 * (HD_LINE_MAX - 1 bytes with its '\n') or that holds a NUL byte is not
 * one the peer should send: all of it is dropped and dropped set. */
char *hd_lines_next(struct hd_lines *l);

#endif
