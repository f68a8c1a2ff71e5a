/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hsmd-lines.c - the line reader of hsmd's pipes (firmware/hsmd/
 * lines.c): two lines that arrive in one read are both given before the
 * next read (a VCM's "ready" and "ncoreapi operational" often do, and the
 * second one used to wait for the VCM's next line), a line cut between
 * reads is given whole, an over-long line is dropped whole (its tail is
 * not a line of its own) and said so, so is a line with a NUL byte, and
 * EOF and an empty non-blocking pipe are told apart.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"
#include "tap.h"

static void put(int fd, const char *s)
{
	size_t n = strlen(s);

	tap_ok(write(fd, s, n) == (ssize_t)n, "wrote %zu bytes", n);
}

static void next_is(struct hd_lines *l, const char *want, const char *name)
{
	const char *got = hd_lines_next(l);

	if (want)
		TAP_STR_EQ(got ? got : "(none)", want, name);
	else
		tap_ok(!got, "%s (got '%s')", name, got ? got : "");
}

int main(void)
{
	struct hd_lines l = { 0 };
	char big[HD_LINE_MAX + 16];
	int p[2];

	if (pipe(p) != 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) != 0)
		return 1;

	put(p[1], "ready\nncoreapi operational\nerr");
	tap_ok(hd_lines_fill(p[0], &l) > 0, "one read takes both lines");
	next_is(&l, "ready", "first line");
	next_is(&l, "ncoreapi operational", "second line of the same read, before any read");
	next_is(&l, NULL, "a cut line is not given yet");
	tap_ok(hd_lines_fill(p[0], &l) < 0 && errno == EAGAIN, "empty pipe: -1, EAGAIN");
	put(p[1], "or boom\n");
	tap_ok(hd_lines_fill(p[0], &l) > 0, "the rest of the cut line");
	next_is(&l, "error boom", "the cut line given whole");
	next_is(&l, NULL, "nothing more");

	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	put(p[1], big);
	tap_ok(hd_lines_fill(p[0], &l) > 0, "an over-long line fills the buffer");
	next_is(&l, NULL, "an over-long line is not given");
	TAP_INT_EQ(l.dropped, 1, "... and is said to be dropped");
	tap_ok(hd_lines_fill(p[0], &l) > 0, "the rest of the over-long line is read");
	next_is(&l, NULL, "... and dropped too, not taken for a line of its own");
	put(p[1], "ncoreapi stopped\n");
	tap_ok(hd_lines_fill(p[0], &l) > 0, "after it, reading goes on");
	next_is(&l, "ncoreapi stopped", "the next line is given");

	l.dropped = 0;
	tap_ok(write(p[1], "ready\0junk\nready\n", 17) == 17, "a line with a NUL byte");
	tap_ok(hd_lines_fill(p[0], &l) > 0, "both lines read");
	next_is(&l, "ready", "the line with a NUL byte is dropped, the next one given");
	TAP_INT_EQ(l.dropped, 1, "... and the dropped one said");

	close(p[1]);
	TAP_INT_EQ(hd_lines_fill(p[0], &l), 0, "EOF: 0");
	close(p[0]);
	return tap_done();
}
