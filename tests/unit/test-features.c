/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-features.c - feature words: the guide's examples, aliases, errors,
 * and that printing and parsing agree for every bit.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <hsmadmin/features.h>
#include "tap.h"

static uint32_t parse_ok(const char *text, const char *name)
{
	char err[256] = "";
	uint32_t w = 0xdeadbeef;
	int rc = hsm_features_parse(text, &w, err, sizeof(err));

	tap_ok(rc == 0, "%s: '%s' parses", name, text);
	if (rc != 0)
		printf("#   error: %s\n", err);
	return w;
}

/* Must fail, and the reason must mention want. */
static void parse_fails(const char *text, const char *want, const char *name)
{
	char err[512] = "";
	uint32_t w = 0x12345678;
	int rc = hsm_features_parse(text, &w, err, sizeof(err));

	tap_ok(rc != 0 && strstr(err, want) != NULL && w == 0x12345678, "%s", name);
	if (rc == 0 || !strstr(err, want))
		printf("#   rc=%d err='%s' (want it to mention '%s')\n", rc, err, want);
}

int main(void)
{
	char buf[512];
	size_t n;

	/* Guide 3.3.3.2: the worked example adds up to 9A37. */
	TAP_INT_EQ(parse_ok("9A37", "hex"), 0x9A37, "guide example 9A37");
	TAP_INT_EQ(parse_ok("0x9a37", "hex"), 0x9A37, "0x prefix, lower case");
	TAP_INT_EQ(parse_ok("0X00000001", "hex"), 1, "0X prefix, eight digits with leading zeros");
	TAP_INT_EQ(parse_ok("FFFFFFFF", "hex"), 0xFFFFFFFFu, "all 32 bits");
	TAP_INT_EQ(parse_ok("0", "hex"), 0, "zero word");
	TAP_INT_EQ(parse_ok("  0x10  ", "hex"), 0x10, "surrounding blanks ignored");

	/* Guide 3.3.3.1, with its own misspellings. */
	TAP_INT_EQ(parse_ok("ForeignTokenpen|KISAAgorithms|EllipticCurve", "alias"),
		   HSM_FEAT_FOREIGN_TOKEN_OPEN | HSM_FEAT_KISA_ALGORITHMS | HSM_FEAT_ELLIPTIC_CURVE,
		   "guide example with misspelt names");
	TAP_INT_EQ(parse_ok("ForeignTokenOpen|KISAAlgorithms|Elliptic curve", "alias"), 0x211,
		   "canonical names and the table's 'Elliptic curve'");
	TAP_INT_EQ(parse_ok("ellipticcurve|hsmspeed2", "case"), 0x8200,
		   "names match case-insensitively");
	TAP_INT_EQ(parse_ok("HSMSpeed0 | FastRandom", "blanks"), 0x100400, "blanks around names");
	TAP_INT_EQ(parse_ok("RemoteShare|RemoteShare", "dup"), 0x2, "a repeated name is harmless");
	TAP_INT_EQ(parse_ok("ECCMQV", "single"), HSM_FEAT_ECCMQV, "a single name");

	/* Every canonical name round-trips through format and parse. */
	uint32_t all = 0;
	for (uint32_t bit = 1; bit; bit <<= 1) {
		const char *name = hsm_feature_name(bit);
		if (!name)
			continue;
		all |= bit;
		uint32_t w = 0;
		char err[256];
		tap_ok(hsm_features_parse(name, &w, err, sizeof(err)) == 0 && w == bit,
		       "name %s parses to bit 0x%X", name, bit);
	}
	TAP_INT_EQ(all, HSM_FEAT_KNOWN, "named bits are exactly HSM_FEAT_KNOWN");
	TAP_STR_EQ(hsm_feature_name(0x40), NULL, "reserved bit has no name");
	TAP_STR_EQ(hsm_feature_name(HSM_FEAT_KISA_ALGORITHMS), "KISAAlgorithms",
		   "canonical name is printed, not the guide's alias");

	/* Guide 3.3.3.4: 39459 = 0x9A23 prints as the listed names. */
	n = hsm_features_format(0x9A23, buf, sizeof(buf));
	TAP_STR_EQ(
	    buf,
	    "ForeignTokenOpen|RemoteShare|StandardKM|EllipticCurve|ECCMQV|AcceleratedECC|HSMSpeed2",
	    "guide 3.3.3.4 example output");
	TAP_INT_EQ(n, strlen(buf), "format returns the length");
	n = hsm_features_format(0, buf, sizeof(buf));
	TAP_STR_EQ(buf, "", "zero formats as empty text");
	TAP_INT_EQ(n, 0, "zero has length 0");
	hsm_features_format(0x00020001, buf, sizeof(buf));
	TAP_STR_EQ(buf, "ForeignTokenOpen|0x00020000", "unnamed bits appended as hex");
	hsm_features_format(0x40, buf, sizeof(buf));
	TAP_STR_EQ(buf, "0x00000040", "only unnamed bits: hex alone");

	/* Formatting then parsing gives the same word, named bits or not. */
	static const uint32_t words[] = {
		0x9A37, 0x10DE3F, 0xFFFFFFFF, 0x80000000, 0x1, 0x00104000
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		uint32_t back = 0;
		char err[256];
		hsm_features_format(words[i], buf, sizeof(buf));
		/* Names with a trailing hex part are not input syntax; check the
		 * named part alone plus the leftover bits. */
		char *bar = strstr(buf, "|0x");
		uint32_t extra = 0;
		if (bar) {
			hsm_features_parse(bar + 1, &extra, err, sizeof(err));
			*bar = '\0';
		}
		int ok = buf[0] == '\0' || hsm_features_parse(buf, &back, err, sizeof(err)) == 0;
		tap_ok(ok && (back | extra) == words[i], "format/parse round trip of 0x%08X",
		       words[i]);
	}

	/* Truncation behaves like snprintf. */
	char small[8];
	n = hsm_features_format(0x9A23, small, sizeof(small));
	TAP_STR_EQ(small, "Foreign", "truncated output is NUL-terminated");
	TAP_INT_EQ(n,
		   strlen("ForeignTokenOpen|RemoteShare|StandardKM|EllipticCurve|ECCMQV|"
			  "AcceleratedECC|HSMSpeed2"),
		   "truncated format still returns the full length");

	/* guide 3.3.2: built-in features may be named and have no effect. */
	TAP_INT_EQ(parse_ok("PostQuantum", "guide 3.3.2 built-in PostQuantum"), 0,
		   "guide 3.3.2: PostQuantum alone is the empty word");
	TAP_INT_EQ(
	    parse_ok("RemoteShare|PostQuantum|StandardKM", "guide 3.3.2 built-ins among others"),
	    HSM_FEAT_REMOTE_SHARE | HSM_FEAT_STANDARD_KM,
	    "guide 3.3.2: PostQuantum adds no bit, StandardKM keeps its own");
	n = hsm_features_format(HSM_FEAT_REMOTE_SHARE, buf, sizeof(buf));
	TAP_STR_EQ(buf, "RemoteShare", "PostQuantum is never printed");

	/* Errors name what was wrong. */
	parse_fails("", "empty", "empty text is an error");
	parse_fails("   ", "empty", "blank text is an error");
	parse_fails("0x", "without hex digits", "bare 0x is an error");
	parse_fails("123456789", "wider than 32 bits", "nine hex digits are too wide");
	parse_fails("0x000000001", "wider than 32 bits", "nine digits after 0x are too wide");
	parse_fails("0x12G4", "not a hex word", "bad hex digit after 0x");
	parse_fails("Bogus", "unknown feature name 'Bogus'", "unknown name is named");
	parse_fails("RemoteShare||ECCMQV", "empty feature name", "empty name between bars");
	parse_fails("RemoteShare|", "empty feature name", "trailing bar");
	parse_fails("|RemoteShare", "empty feature name", "leading bar");
	parse_fails("RemoteShare|9A37", "unknown feature name '9A37'", "hex mixed into names");
	parse_fails("Remote\x1b[31mShare", "unknown feature name 'Remote?[31mShare'",
		    "control characters are not echoed");
	char longtext[2000];
	memset(longtext, 'A', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	parse_fails(longtext, "longer than", "over-long text is refused");
	parse_fails(NULL, "no features", "NULL text is an error");

	return tap_done();
}
