/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the hardened INI reader (core/lib/ini-strict.c). */
#include <stdlib.h>
#include <string.h>
#include <hsmadmin/ini-strict.h>
#include "tap.h"

struct seen {
	int n;
	char last[256];
};

static int handler(void *user, const char *section, const char *name, const char *value, char *err,
		   size_t errlen)
{
	struct seen *s = user;
	if (!strcmp(name, "reject")) {
		snprintf(err, errlen, "unknown key '%s'", name);
		return -1;
	}
	s->n++;
	snprintf(s->last, sizeof(s->last), "%s.%s=%s", section, name, value);
	return 0;
}

static int parse(const char *text, struct seen *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	return hsm_ini_parse_text(text, strlen(text), handler, s, err, errlen);
}

int main(void)
{
	struct seen s;
	char err[256], line[512];

	tap_ok(parse("[a]\nk = v\n# c\n; c\n\n", &s, err, sizeof(err)) == 0, "plain file parses");
	TAP_STR_EQ(s.last, "a.k=v", "value seen");

	memset(line, 'x', sizeof(line));
	memcpy(line, "[a]\nk = ", 8);
	line[8 + 195] = '\0'; /* a 203-byte second line */
	tap_ok(parse(line, &s, err, sizeof(err)) != 0, "long line refused");
	TAP_STR_EQ(err, "line 2: line longer than 198 bytes", "long line reason");
	tap_ok(s.n == 0, "nothing applied from a refused file");

	tap_ok(parse("[a]\nk = v\n  injected = 1\n", &s, err, sizeof(err)) != 0,
	       "indented continuation refused");
	TAP_STR_EQ(err, "line 3: leading white space (indented lines are not allowed)",
		   "indent reason");

	tap_ok(parse("[a]\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1\n", &s, err,
		     sizeof(err)) != 0,
	       "49-character name refused");
	tap_ok(parse("[a]\nk = v\nreject = 1\n", &s, err, sizeof(err)) != 0,
	       "handler refusal stops parsing");
	TAP_STR_EQ(err, "line 3: unknown key 'reject'", "handler reason with line");

	const char nul[] = "[a]\nk = v\0x\n";
	memset(&s, 0, sizeof(s));
	tap_ok(hsm_ini_parse_text(nul, sizeof(nul) - 1, handler, &s, err, sizeof(err)) != 0,
	       "NUL byte refused");
	tap_ok(parse("[a\nk = v\n", &s, err, sizeof(err)) != 0, "unterminated section refused");
	tap_ok(parse("[a]\njust words\n", &s, err, sizeof(err)) != 0, "line without = refused");

	tap_ok(parse("[a]\n\r\tname_that_is_way_too_long_for_inih_to_keep_whole_xxxxx = 1\n", &s,
		     err, sizeof(err)) != 0,
	       "a line starting with CR then text is refused (found by fuzz-ini)");
	TAP_STR_EQ(err, "line 2: leading white space (indented lines are not allowed)",
		   "CR indent reason");
	tap_ok(parse("[a]\n \t\r\nk = v\n", &s, err, sizeof(err)) == 0,
	       "an all-blank line is fine");
	tap_ok(parse("[a]\nreject = 1\nk = v\nreject = 2\n", &s, err, sizeof(err)) != 0,
	       "two refusals");
	TAP_STR_EQ(err, "line 2: unknown key 'reject'", "the first refusal's line and reason");
	tap_ok(s.n == 0, "no handler call after the first refusal");

	int b;
	tap_ok(hsm_ini_bool("yes", &b) == 0 && b == 1, "bool yes");
	tap_ok(hsm_ini_bool("0", &b) == 0 && b == 0, "bool 0");
	tap_ok(hsm_ini_bool("maybe", &b) != 0, "bool maybe refused");
	return tap_done();
}
