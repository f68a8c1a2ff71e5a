/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lines.c - '\n'-terminated lines read from a non-blocking pipe.
 *
 * Lines are always taken from the buffer before anything more is read:
 * two lines often arrive in one read, and a line left in the buffer would
 * otherwise wait for the peer's next one.  A line dropped is dropped
 * whole: the tail of an over-long one is never taken for a line of its
 * own (a peer could otherwise have its tail read as "ready").
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "lines.h"

/* Forget the line given last. */
static void drop_taken(struct hd_lines *l)
{
	if (!l->taken)
		return;
	l->len -= l->taken;
	memmove(l->buf, l->buf + l->taken, l->len);
	l->taken = 0;
}

ssize_t hd_lines_fill(int fd, struct hd_lines *l)
{
	ssize_t n;

	drop_taken(l);
	n = read(fd, l->buf + l->len, sizeof(l->buf) - 1 - l->len);
	if (n > 0)
		l->len += (size_t)n;
	l->buf[l->len] = '\0';
	return n;
}

/* Skip the rest of an over-long line dropped before: 1 while its '\n'
 * has not come yet. */
static int skip_rest(struct hd_lines *l)
{
	char *nl = memchr(l->buf, '\n', l->len);

	if (!nl) {
		l->len = 0;
		return 1;
	}
	l->taken = (size_t)(nl + 1 - l->buf);
	drop_taken(l);
	l->skipping = 0;
	return 0;
}

char *hd_lines_next(struct hd_lines *l)
{
	char *nl;

	drop_taken(l);
	while (!l->skipping || !skip_rest(l)) {
		nl = memchr(l->buf, '\n', l->len);
		if (!nl) {
			if (l->len == sizeof(l->buf) - 1) {
				l->len = 0;
				l->dropped = 1;
				l->skipping = 1;
				continue;
			}
			return NULL;
		}
		*nl = '\0';
		l->taken = (size_t)(nl + 1 - l->buf);
		if (memchr(l->buf, '\0', (size_t)(nl - l->buf))) {
			l->dropped = 1;
			drop_taken(l);
			continue;
		}
		return l->buf;
	}
	return NULL;
}
