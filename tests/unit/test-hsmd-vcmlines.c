/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hsmd-vcmlines.c - the lines between hsmd and its VCM processes
 * (firmware/hsmd/vcmlines.c) with hostile input, as a VCM running
 * tenant-facing code could send: each status line is one the supervisor
 * knows or malformed (which it logs once and ignores, or refuses as the
 * first line of a start), a platform line is "platform" and words, and
 * through the line reader an over-long line, a line with a NUL byte and
 * one without its newline are never given.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"
#include "tap.h"
#include "vcmlines.h"

static void status_is(const char *line, enum hd_status want, const char *want_text,
		      const char *name)
{
	const char *text = "(unset)";
	enum hd_status got = hd_status_parse(line, &text);

	TAP_INT_EQ(got, want, name);
	if (want_text)
		TAP_STR_EQ(text ? text : "(null)", want_text, name);
	else
		tap_ok(!text, "%s: no text (got '%s')", name, text ? text : "");
}

static void platform_is(const char *line, int want, int clock_lost, int critical, const char *name)
{
	struct hd_platform pf = { 7, 7 };

	TAP_INT_EQ(hd_platform_parse(line, &pf), want, name);
	if (want) {
		TAP_INT_EQ(pf.clock_lost, clock_lost, name);
		TAP_INT_EQ(pf.critical, critical, name);
	} else {
		tap_ok(pf.clock_lost == 7 && pf.critical == 7, "%s: left untouched", name);
	}
}

/* Platform lines (vcmproc.c) and what they say. */
static const struct platform_case {
	const char *line;
	int is, clock_lost, critical;
	const char *name;
} platform_cases[] = {
	{ "platform", 1, 0, 0, "platform: nothing holds" },
	{ "platform clock_lost", 1, 1, 0, "clock_lost" },
	{ "platform critical", 1, 0, 1, "critical" },
	{ "platform critical clock_lost", 1, 1, 1, "both, any order" },
	{ "platform   critical  ", 1, 0, 1, "many spaces" },
	{ "platform frobnicate", 1, 0, 0, "an unknown word is ignored" },
	{ "platform criticalX clock_lostX Xcritical", 1, 0, 0,
	  "words only alike are unknown words" },
	{ "platformX", 0, 0, 0, "platformX is no platform line" },
	{ "platforms critical", 0, 0, 0, "platforms is none" },
	{ "", 0, 0, 0, "empty" },
	{ " platform critical", 0, 0, 0, "a leading space" },
	{ "PLATFORM critical", 0, 0, 0, "upper case" },
};

/* What a peer's bytes give through the line reader, as the status pipe
 * is read: the lines given, each followed by '|', into out. */
static void through_pipe(const char *bytes, size_t n, char *out, size_t outlen, int *dropped)
{
	struct hd_lines l = { 0 };
	char *line;
	int p[2];

	out[0] = '\0';
	if (pipe(p) != 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) != 0 ||
	    write(p[1], bytes, n) != (ssize_t)n) {
		tap_ok(0, "pipe");
		return;
	}
	close(p[1]);
	do
		while ((line = hd_lines_next(&l))) {
			strncat(out, line, outlen - strlen(out) - 1);
			strncat(out, "|", outlen - strlen(out) - 1);
		}
	while (hd_lines_fill(p[0], &l) > 0);
	close(p[0]);
	*dropped = l.dropped;
}

int main(void)
{
	char big[3 * HD_LINE_MAX], out[4 * HD_LINE_MAX], many[HD_LINE_MAX];
	int dropped;

	/* the status lines a VCM sends (vcmproc.c) */
	status_is("ready", HD_STATUS_READY, NULL, "ready");
	status_is("error no service could be started", HD_STATUS_ERROR,
		  "no service could be started", "error TEXT: TEXT");
	status_is("ncoreapi operational", HD_STATUS_OPERATIONAL, NULL, "ncoreapi operational");
	status_is("ncoreapi stopped", HD_STATUS_STOPPED, NULL, "ncoreapi stopped");
	status_is("platform clock_lost critical", HD_STATUS_PLATFORM,
		  "platform clock_lost critical", "a platform echo: the whole line");
	status_is("platform", HD_STATUS_PLATFORM, "platform", "a platform echo of no words");

	/* hostile status lines: malformed, never half-taken */
	status_is("", HD_STATUS_MALFORMED, NULL, "empty");
	status_is("error", HD_STATUS_MALFORMED, NULL, "error without TEXT");
	status_is("error ", HD_STATUS_MALFORMED, NULL, "error with an empty TEXT");
	status_is("errorboom", HD_STATUS_MALFORMED, NULL, "errorTEXT");
	status_is("ready ", HD_STATUS_MALFORMED, NULL, "ready and a space");
	status_is("READY", HD_STATUS_MALFORMED, NULL, "READY");
	status_is("ready\r", HD_STATUS_MALFORMED, NULL, "ready and a CR");
	status_is("error a\033[2Jb", HD_STATUS_MALFORMED, NULL, "an error with an escape sequence");
	status_is("error a\tb", HD_STATUS_MALFORMED, NULL, "an error with a tab");
	status_is("error \x7f", HD_STATUS_MALFORMED, NULL, "an error with DEL");
	status_is("ncoreapi operational now", HD_STATUS_MALFORMED, NULL,
		  "ncoreapi and a word more");
	status_is("ncoreapi", HD_STATUS_MALFORMED, NULL, "ncoreapi alone");
	status_is("ncoreapi  stopped", HD_STATUS_MALFORMED, NULL, "ncoreapi, two spaces");
	status_is("platformX", HD_STATUS_MALFORMED, NULL, "platformX");
	status_is("platform\tcritical", HD_STATUS_MALFORMED, NULL, "platform and a tab");
	status_is("frobnicate", HD_STATUS_MALFORMED, NULL, "an unknown word");
	status_is("error caf\xc3\xa9", HD_STATUS_ERROR, "caf\xc3\xa9", "UTF-8 in an error: taken");
	/* An echo is the line as the VCM sent it: one that differs from what
	 * was sent, by as much as a space, is not the line taken in, and the
	 * supervisor waits on for it (vcmhost.c, await_platform). */
	status_is("platform  critical", HD_STATUS_PLATFORM, "platform  critical",
		  "an echo is given as sent, not made equal to what was sent");
	status_is("platform critical ", HD_STATUS_PLATFORM, "platform critical ",
		  "... trailing space too");

	/* platform lines (vcmproc.c) */
	for (size_t i = 0; i < sizeof(platform_cases) / sizeof(platform_cases[0]); i++) {
		const struct platform_case *c = &platform_cases[i];
		platform_is(c->line, c->is, c->clock_lost, c->critical, c->name);
	}
	/* as many words as the longest line holds */
	memset(many, 0, sizeof(many));
	memcpy(many, "platform", 8);
	for (size_t at = 8; at + 4 + 9 < HD_LINE_MAX - 1; at += 4)
		memcpy(many + at, " a b", 4);
	memcpy(many + strlen(many), " critical", 9);
	platform_is(many, 1, 0, 1, "many words, the known one last");

	/* through the line reader */
	memset(big, 'x', 600);
	memcpy(big + 600, "ready\nncoreapi stopped\n", 23);
	through_pipe(big, 623, out, sizeof(out), &dropped);
	TAP_STR_EQ(out, "ncoreapi stopped|",
		   "an over-long line is dropped whole: its tail 'ready' is not taken");
	TAP_INT_EQ(dropped, 1, "... and said dropped");
	through_pipe("ready\0\nncoreapi stopped\n", 24, out, sizeof(out), &dropped);
	TAP_STR_EQ(out, "ncoreapi stopped|", "a line with a NUL byte is dropped");
	TAP_INT_EQ(dropped, 1, "... and said dropped");
	through_pipe("ready", 5, out, sizeof(out), &dropped);
	TAP_STR_EQ(out, "", "no newline before EOF: no line");
	TAP_INT_EQ(dropped, 0, "... nothing dropped");
	memset(big, 'y', HD_LINE_MAX - 2);
	big[HD_LINE_MAX - 2] = '\n';
	through_pipe(big, HD_LINE_MAX - 1, out, sizeof(out), &dropped);
	TAP_INT_EQ(strlen(out), HD_LINE_MAX - 1, "the longest line that fits is given");
	TAP_INT_EQ(dropped, 0, "... nothing dropped");
	big[HD_LINE_MAX - 2] = 'y';
	big[HD_LINE_MAX - 1] = '\n';
	through_pipe(big, HD_LINE_MAX, out, sizeof(out), &dropped);
	TAP_STR_EQ(out, "", "one byte more: dropped");
	TAP_INT_EQ(dropped, 1, "... and said dropped");
	return tap_done();
}
