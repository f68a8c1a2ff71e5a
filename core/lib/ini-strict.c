/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ini-strict.c - validate INI text line by line, then parse it with inih.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <hsmadmin/fileio.h>
#include <hsmadmin/ini-strict.h>

struct ini_run {
	hsm_ini_handler handler;
	void *user;
	int failed;
	char reason[256];
};

/* Length of a name: the text before '=' or ':' (inih accepts both), with
 * trailing blanks removed. */
static size_t name_length(const char *line, size_t len)
{
	size_t n = 0;

	while (n < len && line[n] != '=' && line[n] != ':')
		n++;
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	return n;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int check_line(const char *line, size_t len, char *why, size_t whylen)
{
	if (len > HSM_INI_MAX_LINE) {
		snprintf(why, whylen, "line longer than %d bytes", HSM_INI_MAX_LINE);
		return -1;
	}
	if (memchr(line, '\0', len)) {
		snprintf(why, whylen, "NUL byte");
		return -1;
	}
	size_t blank = 0;
	while (blank < len && is_blank(line[blank]))
		blank++;
	if (blank == len)
		return 0; /* an empty or all-blank line */
	/* inih skips any leading white space (\r and \f too) and treats an
	 * indented line as a continuation: refuse both. */
	if (blank > 0) {
		snprintf(why, whylen, "leading white space (indented lines are not allowed)");
		return -1;
	}
	if (line[0] == '#' || line[0] == ';')
		return 0;
	if (line[0] == '[') {
		const char *end = memchr(line, ']', len);
		if (!end) {
			snprintf(why, whylen, "section header without ']'");
			return -1;
		}
		if ((size_t)(end - line - 1) > HSM_INI_MAX_NAME) {
			snprintf(why, whylen, "section name longer than %d characters",
				 HSM_INI_MAX_NAME);
			return -1;
		}
		return 0;
	}
	if (!memchr(line, '=', len) && !memchr(line, ':', len)) {
		snprintf(why, whylen, "expected 'name = value'");
		return -1;
	}
	if (name_length(line, len) > HSM_INI_MAX_NAME) {
		snprintf(why, whylen, "name longer than %d characters", HSM_INI_MAX_NAME);
		return -1;
	}
	return 0;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct ini_run *run = user;

	/* inih goes on after a refusal and reports the first failing line:
	 * keep the first reason with it and call the handler no more. */
	if (run->failed)
		return 0;
	if (run->handler(run->user, section, name, value, run->reason, sizeof(run->reason)) != 0) {
		run->failed = 1;
		return 0;
	}
	return 1;
}

/* Each section header of the (already checked) text, with its line, to
 * on_section: inih never reports a section that has no keys, so an unknown
 * one would pass unseen.  The name is what inih takes: the text between
 * '[' and the first ']'. */
static int check_sections(const char *text, size_t len, hsm_ini_section_handler on_section,
			  void *user, char *err, size_t errlen)
{
	size_t lineno = 1;

	for (size_t pos = 0; pos < len; lineno++) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		if (n > 0 && line[0] == '[') {
			const char *end = memchr(line, ']', n);
			char name[HSM_INI_MAX_NAME + 1], why[256];
			size_t k = end ? (size_t)(end - line - 1) : 0;

			if (k > HSM_INI_MAX_NAME) /* refused by check_line already */
				k = HSM_INI_MAX_NAME;
			memcpy(name, line + 1, k);
			name[k] = '\0';
			why[0] = '\0';
			if (on_section(user, name, why, sizeof(why)) != 0) {
				snprintf(err, errlen, "line %zu: %s", lineno,
					 why[0] ? why : "section refused");
				return -1;
			}
		}
		pos += n + 1;
	}
	return 0;
}

HSM_API int hsm_ini_parse_text(const char *text, size_t len, hsm_ini_handler handler, void *user,
			       char *err, size_t errlen)
{
	return hsm_ini_parse_sections(text, len, NULL, handler, user, err, errlen);
}

HSM_API int hsm_ini_parse_sections(const char *text, size_t len, hsm_ini_section_handler on_section,
				   hsm_ini_handler handler, void *user, char *err, size_t errlen)
{
	struct ini_run run = { .handler = handler, .user = user };
	size_t lineno = 1;
	char *copy;
	int rc;

	for (size_t pos = 0; pos < len; lineno++) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char why[96];

		if (check_line(text + pos, n, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "line %zu: %s", lineno, why);
			return -1;
		}
		pos += n + 1;
	}
	copy = malloc(len + 1);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	rc = ini_parse_string(copy, on_pair, &run);
	free(copy);
	if (rc != 0) {
		snprintf(err, errlen, "line %d: %s", rc,
			 run.reason[0] ? run.reason : "syntax error");
		return -1;
	}
	return on_section ? check_sections(text, len, on_section, user, err, errlen) : 0;
}

HSM_API int hsm_ini_parse_file(const char *path, hsm_ini_handler handler, void *user, char *err,
			       size_t errlen)
{
	return hsm_ini_parse_file_sections(path, NULL, handler, user, err, errlen);
}

HSM_API int hsm_ini_parse_file_sections(const char *path, hsm_ini_section_handler on_section,
					hsm_ini_handler handler, void *user, char *err,
					size_t errlen)
{
	char *text, inner[320];
	size_t len;
	int rc;

	if (hsm_read_file(path, HSM_INI_MAX_FILE, &text, &len, err, errlen) != 0)
		return -1;
	rc = hsm_ini_parse_sections(text, len, on_section, handler, user, inner, sizeof(inner));
	if (rc != 0)
		snprintf(err, errlen, "%s:%s", path, inner + 5 /* "line N: why" -> "N: why" */);
	free(text);
	return rc;
}

HSM_API int hsm_ini_bool(const char *value, int *out)
{
	if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
		*out = 1;
	else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}
