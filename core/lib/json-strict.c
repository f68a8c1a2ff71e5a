/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json-strict.c - the one way hsmadmin parses JSON it did not write.
 *
 * jansson alone accepts unbounded input, lets the last duplicate key win
 * and recurses 2048 levels deep; each of those is a way for a hostile file
 * or peer to change meaning or exhaust memory, so we bound all three.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>

/* Nesting depth of the deepest array/object, ignoring brackets in strings.
 * Stops counting once past limit. */
static int json_depth_exceeds(const char *buf, size_t len, int limit)
{
	int depth = 0, in_string = 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (c == '"')
			in_string = 1;
		else if (c == '[' || c == '{') {
			if (++depth > limit)
				return 1;
		} else if (c == ']' || c == '}')
			depth--;
	}
	return 0;
}

HSM_API json_t *hsm_json_parse(const char *buf, size_t len, size_t max, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc;

	if (max == 0)
		max = HSM_JSON_MAX_BYTES;
	if (len > max) {
		snprintf(err, errlen, "JSON document too large (%zu bytes, limit %zu)", len, max);
		return NULL;
	}
	if (len == 0) {
		snprintf(err, errlen, "empty input where a JSON document was expected");
		return NULL;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "JSON document contains a NUL byte");
		return NULL;
	}
	if (json_depth_exceeds(buf, len, HSM_JSON_MAX_DEPTH)) {
		snprintf(err, errlen, "JSON nested deeper than %d levels", HSM_JSON_MAX_DEPTH);
		return NULL;
	}
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		/* jansson quotes the input near the error: keep the reason one
		 * printable line whatever the input held. */
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		return NULL;
	}
	return doc;
}

HSM_API json_t *hsm_json_load_file(const char *path, size_t max, char *err, size_t errlen)
{
	char *buf, inner[256];
	size_t len;
	json_t *doc;

	if (max == 0)
		max = HSM_JSON_MAX_BYTES;
	if (hsm_read_file(path, max, &buf, &len, err, errlen) != 0)
		return NULL;
	doc = hsm_json_parse(buf, len, max, inner, sizeof(inner));
	if (!doc)
		snprintf(err, errlen, "%s: %s", path, inner);
	free(buf);
	return doc;
}
