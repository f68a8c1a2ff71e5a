/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-features.c - feature text (core/lib/features.c) both ways.
 *
 * Any text: a refusal names its reason on one line; an accepted word,
 * printed, parses back to itself.  The first four bytes as a word: every
 * '|'-separated part of what is printed for it parses, and together they
 * give the same set of bits back (the round trip every command that shows
 * features relies on).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/features.h>

/* Parse every '|'-separated part of text on its own (the hex tail of
 * unnamed bits is a part of its own) and return the union. */
static uint32_t parse_parts(char *text)
{
	uint32_t all = 0, w;
	char err[512], *save = NULL;

	for (char *part = strtok_r(text, "|", &save); part; part = strtok_r(NULL, "|", &save)) {
		if (hsm_features_parse(part, &w, err, sizeof(err)) != 0)
			__builtin_trap(); /* a printed name does not parse */
		all |= w;
	}
	return all;
}

static void round_trip(uint32_t word)
{
	char buf[512];
	size_t n = hsm_features_format(word, buf, sizeof(buf));

	if (n >= sizeof(buf) || strlen(buf) != n || (n == 0) != (word == 0))
		__builtin_trap();
	if (parse_parts(buf) != word)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512];
	uint32_t word = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if (hsm_features_parse(text, &word, err, sizeof(err)) == 0)
		round_trip(word);
	else if (!err[0] || strchr(err, '\n'))
		__builtin_trap();
	free(text);

	if (size >= 4) {
		memcpy(&word, data, 4);
		round_trip(word);
		round_trip(word & HSM_FEAT_KNOWN);
	}
	return 0;
}
