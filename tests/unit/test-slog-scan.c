/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-slog-scan.c - the verifier's fast reading of entries
 * (hsm_slog_entry_scan) against the full parse (hsm_slog_entry_parse):
 * every entry the scanner vouches for, jansson accepts with the same
 * members, for hostile entries written by hand and for every one-byte
 * change, deletion and insertion of a real entry; and the entries the
 * device writes are read by the scanner (else the fast path would be dead
 * code and the test could not fail).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signed-log.h"
#include "tap.h"

static int disagreements, vouched;

/* 1 when scan and parse agree on json (scan vouching implies parse
 * accepts with the same members); prints the case otherwise. */
static int agree(const char *json, size_t len)
{
	struct hsm_slog_fields f;
	char err[256];
	json_t *e;
	int ok = 1;

	if (!hsm_slog_entry_scan(json, len, &f))
		return 1;
	vouched++;
	e = hsm_slog_entry_parse(json, len, err, sizeof(err));
	if (!e)
		ok = 0;
	else if (json_integer_value(json_object_get(e, "seq")) != f.seq ||
		 json_integer_value(json_object_get(e, "seg")) != f.seg ||
		 json_integer_value(json_object_get(e, "time")) != f.time ||
		 strlen(json_string_value(json_object_get(e, "event"))) != f.event_len ||
		 memcmp(json_string_value(json_object_get(e, "event")), f.event, f.event_len) !=
		     0 ||
		 memcmp(json_string_value(json_object_get(e, "prev")), f.prev,
			2 * HSM_SLOG_HASH_LEN) != 0)
		ok = 0;
	json_decref(e);
	if (!ok) {
		disagreements++;
		printf("# scan vouches for what the parse %s: %.*s\n", e ? "reads otherwise" : err,
		       (int)len, json);
	}
	return ok;
}

static int scans(const char *json)
{
	struct hsm_slog_fields f;
	return hsm_slog_entry_scan(json, strlen(json), &f);
}

#define PREV "\"prev\":\"00000000000000000000000000000000000000000000000000000000000000ab\""
#define ENTRY(detail)                                                                              \
	"{\"detail\":" detail ",\"event\":\"touch\"," PREV                                         \
	",\"seg\":3,\"seq\":42,\"time\":1700000000}"

int main(void)
{
	static const char *const hostile[] = {
		ENTRY("{\"a\":1,\"a\":2}"),                 /* duplicate key */
		ENTRY("{\"a\":1,\"b\":{\"c\":1,\"c\":1}}"), /* duplicate, nested */
		ENTRY("{\"a\":1,\"\\u0061\":2}"),           /* duplicate spelled otherwise */
		ENTRY("{\"a\":\"x\\u0000y\"}"),             /* NUL */
		ENTRY("{\"a\":\"\\ud800\"}"),               /* a lone surrogate */
		ENTRY("{\"a\":\"\\ud83d\\ude00\"}"),        /* a pair (jansson decides) */
		ENTRY("{\"a\":\"\\x\"}"),                   /* bad escape */
		ENTRY("{\"a\":\"\\u12g4\"}"),               /* bad \u */
		ENTRY("{\"a\":\"\x01\"}"),                  /* control byte */
		ENTRY("{\"a\":\"\xc3\x28\"}"),              /* bad UTF-8 */
		ENTRY("{\"a\":\"\xc3\xa9\"}"),              /* good UTF-8 (jansson decides) */
		ENTRY("{\"a\":9223372036854775808}"),       /* past json_int_t */
		ENTRY("{\"a\":1234567890123456789}"),       /* 19 digits */
		ENTRY("{\"a\":1.5}"),                       /* real */
		ENTRY("{\"a\":1e3}"),                       /* real */
		ENTRY("{\"a\":01}"),                        /* leading zero */
		ENTRY("{\"a\":-}"),                         /* sign only */
		ENTRY("{\"a\":+1}"),                        /* plus */
		ENTRY("{\"a\":tru}"),                       /* cut literal */
		ENTRY("{\"a\":[1,]}"),                      /* trailing comma */
		ENTRY("{\"a\":[1 ]}"),                      /* white space */
		ENTRY("{ \"a\":1}"),                        /* white space */
		ENTRY("{\"a\"}"),                           /* no value */
		ENTRY("{\"a\":1,}"),                        /* trailing comma */
		ENTRY("[1]"),                               /* not an object */
		ENTRY("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		      "]]]]]]]]]]]]}"),
		ENTRY("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":1}}}}}}}}}"),
		"{\"detail\":{},\"event\":\"Touch\"," PREV ",\"seg\":3,\"seq\":42,\"time\":1}",
		"{\"detail\":{},\"event\":\"\"," PREV ",\"seg\":3,\"seq\":42,\"time\":1}",
		"{\"detail\":{},\"event\":\"t\\u006fuch\"," PREV
		",\"seg\":3,\"seq\":42,\"time\":1}",
		"{\"detail\":{},\"event\":\"touch\",\"prev\":\"AB\",\"seg\":3,\"seq\":42,\"time\":"
		"1}",
		"{\"detail\":{},\"event\":\"touch\"," PREV ",\"seg\":0,\"seq\":42,\"time\":1}",
		"{\"detail\":{},\"event\":\"touch\"," PREV ",\"seg\":3,\"seq\":0,\"time\":1}",
		"{\"detail\":{},\"event\":\"touch\"," PREV
		",\"seg\":3,\"seq\":1125899906842625,\"time\":1}",
		"{\"detail\":{},\"event\":\"touch\"," PREV ",\"seg\":3,\"seq\":42,\"time\":-1}",
		"{\"detail\":{},\"event\":\"touch\"," PREV
		",\"seg\":3,\"seq\":42,\"time\":253402300800}",
		"{\"detail\":{},\"event\":\"touch\"," PREV
		",\"seg\":3,\"seq\":42,\"time\":1,\"x\":1}",
		"{\"detail\":{},\"event\":\"touch\"," PREV ",\"seg\":3,\"seq\":42,\"time\":1} ",
		"{\"detail\":{},\"event\":\"touch\"," PREV ",\"seg\":3,\"seq\":42,\"time\":1}}",
		"{\"event\":\"touch\",\"detail\":{}," PREV ",\"seg\":3,\"seq\":42,\"time\":1}",
		"{\"detail\":{},\"event\":\"touch\"," PREV ",\"seg\":3,\"seq\":42.0,\"time\":1}",
		"{\"detail\":{},\"event\":\"touch\"," PREV ",\"seg\":3,\"seq\":42,\"time\":1",
		NULL,
	};
	const char *good =
	    ENTRY("{\"a\":[true,false,null,-7,0,\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"],"
		  "\"b\":{},\"c\":[]}");
	size_t glen = strlen(good);
	char *buf = malloc(glen + 2);
	size_t cases = 0;

	tap_ok(scans(good), "an entry as the device writes it is read by the scanner");
	agree(good, glen);
	tap_ok(scans(ENTRY("{\"a\":1,\"b\":2}")), "... a detail with two members");
	tap_ok(!scans(ENTRY("{\"a\":1,\"a\":1}")), "a duplicate key is left to the full parse");
	tap_ok(!scans(ENTRY("{\"a\":\"\\u0000\"}")), "a NUL escape is left to the full parse");
	for (const char *const *h = hostile; *h; h++) {
		agree(*h, strlen(*h));
		cases++;
	}
	/* Every one-byte change, deletion and insertion of a good entry. */
	for (size_t i = 0; i < glen; i++) {
		for (int c = 0; c < 256; c++) {
			memcpy(buf, good, glen);
			buf[i] = (char)c;
			agree(buf, glen);
			memcpy(buf, good, i);
			buf[i] = (char)c;
			memcpy(buf + i + 1, good + i, glen - i);
			agree(buf, glen + 1);
			cases += 2;
		}
		memcpy(buf, good, i);
		memcpy(buf + i, good + i + 1, glen - i - 1);
		agree(buf, glen - 1);
		cases++;
	}
	printf("# %zu cases, %d read by the scanner\n", cases, vouched);
	TAP_INT_EQ(disagreements, 0, "the scanner never vouches for what the full parse refuses");
	tap_ok(vouched > 256, "... and reads many of the changed entries itself");
	free(buf);
	return tap_done();
}
