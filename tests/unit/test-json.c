/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for strict JSON parsing (core/lib/json-strict.c). */
#include <stdlib.h>
#include <string.h>
#include <hsmadmin/fileio.h>
#include "tap.h"

static json_t *parse(const char *s, char *err, size_t errlen)
{
	return hsm_json_parse(s, strlen(s), 0, err, errlen);
}

int main(void)
{
	char err[256];
	json_t *j;

	j = parse("{\"a\":1}", err, sizeof(err));
	tap_ok(j != NULL, "object parses");
	json_decref(j);

	tap_ok(parse("{\"op\":\"read\",\"op\":\"erase\"}", err, sizeof(err)) == NULL,
	       "duplicate key refused");
	tap_ok(strstr(err, "duplicate") != NULL, "reason names the duplicate");

	char deep[200] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	tap_ok(parse(deep, err, sizeof(err)) == NULL, "40 levels refused");
	TAP_STR_EQ(err, "JSON nested deeper than 32 levels", "depth reason");

	char ok[100] = "";
	for (int i = 0; i < 32; i++)
		strcat(ok, "[");
	for (int i = 0; i < 32; i++)
		strcat(ok, "]");
	j = parse(ok, err, sizeof(err));
	tap_ok(j != NULL, "32 levels accepted");
	json_decref(j);

	j = parse("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", err, sizeof(err));
	tap_ok(j != NULL, "brackets inside strings do not count");
	json_decref(j);

	tap_ok(parse("{\"a\":\"\xff\"}", err, sizeof(err)) == NULL, "invalid UTF-8 refused");
	tap_ok(parse("{} {}", err, sizeof(err)) == NULL, "trailing data refused");
	tap_ok(parse("", err, sizeof(err)) == NULL, "empty input refused");
	tap_ok(hsm_json_parse("{\"a\":1}", 7, 6, err, sizeof(err)) == NULL,
	       "over the size bound refused");
	TAP_STR_EQ(err, "JSON document too large (7 bytes, limit 6)", "size reason");
	tap_ok(hsm_json_parse("{\"a\":\0}", 7, 0, err, sizeof(err)) == NULL, "NUL byte refused");
	tap_ok(parse("{\"a\":\"\\u0000\"}", err, sizeof(err)) == NULL, "escaped NUL refused");
	tap_ok(parse("{\"a\":\n\x01\nbad}", err, sizeof(err)) == NULL,
	       "garbage with control bytes refused");
	tap_ok(strpbrk(err, "\n\r\x01") == NULL, "the reason stays one printable line");
	/* hsm_json_unpack: a failed unpack names the field, never jansson's
	 * own text ("Object item not found: format"). */
	{
		const char *str;
		json_int_t i;
		json_t *o;
		int b = 0;

		j = parse("{\"format\":\"x\",\"n\":\"one\",\"c\":{\"offset\":\"z\"}}", err,
			  sizeof(err));
		tap_ok(hsm_json_unpack(j, JSON_STRICT, err, sizeof(err), "{s:s, s:s, s:{s:s}}",
				       "format", &str, "n", &str, "c", "offset", &str) == 0,
		       "hsm_json_unpack: a matching document unpacks");
		tap_ok(hsm_json_unpack(j, JSON_STRICT, err, sizeof(err), "{s:s, s:I, s:o}",
				       "format", &str, "n", &i, "c", &o) != 0,
		       "hsm_json_unpack: a field of the wrong type fails");
		TAP_STR_EQ(err, "field 'n': expected integer, got string", "... naming the field");
		hsm_json_unpack(j, JSON_STRICT, err, sizeof(err), "{s:s, s:s, s:{s:I}}", "format",
				&str, "n", &str, "c", "offset", &i);
		TAP_STR_EQ(err, "field 'c.offset': expected integer, got string",
			   "... a nested field by its path");
		hsm_json_unpack(j, JSON_STRICT, err, sizeof(err), "{s?b, s:s, s:s, s:o, s:s}",
				"flag", &b, "format", &str, "n", &str, "c", &o, "version", &str);
		TAP_STR_EQ(err, "missing field 'version'", "... a missing field");
		hsm_json_unpack(j, JSON_STRICT, err, sizeof(err), "{s:s, s:o}", "format", &str, "c",
				&o);
		TAP_STR_EQ(err, "unknown field 'n'", "... an unknown field");
		hsm_json_unpack(j, JSON_STRICT, err, sizeof(err), "{s:s, s:s, s:{}}", "format",
				&str, "n", &str, "c");
		TAP_STR_EQ(err, "unknown field 'offset' in c", "... an unknown field of a member");
		json_decref(j);
		j = json_array();
		hsm_json_unpack(j, JSON_STRICT, err, sizeof(err), "{s:s}", "format", &str);
		TAP_STR_EQ(err, "expected object, got array", "... a document of the wrong type");
		json_decref(j);
	}
	return tap_done();
}
