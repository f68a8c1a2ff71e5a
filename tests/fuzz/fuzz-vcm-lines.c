/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-vcm-lines.c - the lines between hsmd and its VCM processes: bytes
 * written on a pipe as a peer would, cut into lines by the line reader
 * (firmware/hsmd/lines.c) and each line taken as a status line and as a
 * platform line (vcmlines.c).  The first byte sets the size of the
 * writes, so that lines are cut between reads everywhere.  The lines
 * given must be exactly the input's whole lines that fit and hold no NUL.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"
#include "vcmlines.h"

/* The input's next line the reader must give, from *at: its start and
 * length, or 0 when none is left. */
static int next_expected(const uint8_t *data, size_t size, size_t *at, const uint8_t **line,
			 size_t *len)
{
	while (*at < size) {
		const uint8_t *s = data + *at;
		const uint8_t *nl = memchr(s, '\n', size - *at);

		if (!nl)
			return 0; /* never finished: never given */
		*at += (size_t)(nl - s) + 1;
		if ((size_t)(nl - s) <= HD_LINE_MAX - 2 && !memchr(s, '\0', (size_t)(nl - s))) {
			*line = s;
			*len = (size_t)(nl - s);
			return 1;
		}
	}
	return 0;
}

static void parse(const char *line)
{
	const char *text = (const char *)1;
	struct hd_platform pf = { -1, -1 };
	enum hd_status st = hd_status_parse(line, &text);
	int platform = hd_platform_parse(line, &pf);

	switch (st) {
	case HD_STATUS_ERROR:
		if (text != line + 6 || !*text)
			__builtin_trap();
		break;
	case HD_STATUS_PLATFORM:
		if (text != line || !platform)
			__builtin_trap();
		break;
	default:
		if (text)
			__builtin_trap();
	}
	if (platform && ((pf.clock_lost | pf.critical) & ~1))
		__builtin_trap();
	if (!platform && (pf.clock_lost != -1 || pf.critical != -1))
		__builtin_trap();
}

/* Take every line the reader has, checking each against the input. */
static void take(struct hd_lines *l, const uint8_t *data, size_t size, size_t *at)
{
	const uint8_t *want;
	size_t wlen;
	char *line;

	while ((line = hd_lines_next(l))) {
		if (!next_expected(data, size, at, &want, &wlen) || strlen(line) != wlen ||
		    memcmp(line, want, wlen) != 0)
			__builtin_trap();
		parse(line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hd_lines l = { 0 };
	const uint8_t *want;
	size_t chunk, at = 0, wlen, sent = 0;
	char whole[HD_LINE_MAX * 2];
	int p[2];

	if (size < 1)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;

	/* One line as a whole, longer than the reader would give. */
	memcpy(whole, data, size < sizeof(whole) - 1 ? size : sizeof(whole) - 1);
	whole[size < sizeof(whole) - 1 ? size : sizeof(whole) - 1] = '\0';
	parse(whole);

	if (pipe(p) != 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) != 0)
		__builtin_trap();
	while (sent < size) {
		size_t n = size - sent < chunk ? size - sent : chunk;

		if (write(p[1], data + sent, n) != (ssize_t)n)
			__builtin_trap();
		sent += n;
		do
			take(&l, data, size, &at);
		while (hd_lines_fill(p[0], &l) > 0);
	}
	close(p[1]);
	do
		take(&l, data, size, &at);
	while (hd_lines_fill(p[0], &l) > 0);
	if (hd_lines_fill(p[0], &l) != 0 || next_expected(data, size, &at, &want, &wlen))
		__builtin_trap(); /* EOF, and every line was given */
	close(p[0]);
	return 0;
}
