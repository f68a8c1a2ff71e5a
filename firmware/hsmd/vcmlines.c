/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmlines.c - the lines between hsmd and its VCM processes (see
 * vcmlines.h).
 */
#include "config.h"

#include <string.h>

#include "vcmlines.h"

#define PLATFORM "platform"

/* "platform" alone or followed by a space ("platformX" is not one). */
static int is_platform(const char *line)
{
	size_t n = strlen(PLATFORM);

	return strncmp(line, PLATFORM, n) == 0 && (!line[n] || line[n] == ' ');
}

static int printable(const char *line)
{
	for (const unsigned char *c = (const unsigned char *)line; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return 0;
	return 1;
}

enum hd_status hd_status_parse(const char *line, const char **text)
{
	enum hd_status what = HD_STATUS_MALFORMED;
	const char *t = NULL;

	if (!printable(line))
		what = HD_STATUS_MALFORMED;
	else if (strcmp(line, "ready") == 0)
		what = HD_STATUS_READY;
	else if (strncmp(line, "error ", 6) == 0 && line[6]) {
		what = HD_STATUS_ERROR;
		t = line + 6;
	} else if (strcmp(line, "ncoreapi operational") == 0)
		what = HD_STATUS_OPERATIONAL;
	else if (strcmp(line, "ncoreapi stopped") == 0)
		what = HD_STATUS_STOPPED;
	else if (is_platform(line)) {
		what = HD_STATUS_PLATFORM;
		t = line;
	}
	if (text)
		*text = t;
	return what;
}

/* Is the word of n bytes at w this one? */
static int word_is(const char *w, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(w, want, n) == 0;
}

int hd_platform_parse(const char *line, struct hd_platform *pf)
{
	const char *w = line + strlen(PLATFORM);

	if (!is_platform(line))
		return 0;
	*pf = (struct hd_platform){ 0 };
	while (*w) {
		size_t n;

		w += strspn(w, " ");
		n = strcspn(w, " ");
		if (word_is(w, n, "clock_lost"))
			pf->clock_lost = 1;
		else if (word_is(w, n, "critical"))
			pf->critical = 1;
		w += n;
	}
	return 1;
}
