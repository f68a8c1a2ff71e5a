/* SPDX-License-Identifier: Apache-2.0 */
/*
 * features.c - feature words as text (guide 3.3.3).
 *
 * One table serves parsing and printing, so every command that takes or
 * shows features (vcm requests, vcmadmin, fet, info) agrees on the names.
 *
 * Names match case-insensitively: the guide itself spells them three
 * different ways, and a tenant typing "ellipticcurve" means the obvious
 * thing.  Output always uses the canonical spelling.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>

struct feature_name {
	uint32_t bit;
	const char *name;
	int canonical; /* 0: an alias accepted on input, never printed */
};

/* Bit order; canonical name first for each bit. */
static const struct feature_name feature_names[] = {
	{ HSM_FEAT_FOREIGN_TOKEN_OPEN, "ForeignTokenOpen", 1 },
	{ HSM_FEAT_FOREIGN_TOKEN_OPEN, "ForeignTokenpen", 0 }, /* guide 3.3.3.1 */
	{ HSM_FEAT_REMOTE_SHARE, "RemoteShare", 1 },
	{ HSM_FEAT_GENERAL_SEE, "GeneralSEE", 1 },
	{ HSM_FEAT_EXPORT_CGEA, "ExportCGEA", 1 },
	{ HSM_FEAT_KISA_ALGORITHMS, "KISAAlgorithms", 1 },
	{ HSM_FEAT_KISA_ALGORITHMS, "KISAAgorithms", 0 }, /* guide 3.3.3.1 and table */
	{ HSM_FEAT_STANDARD_KM, "StandardKM", 1 },
	{ HSM_FEAT_ELLIPTIC_CURVE, "EllipticCurve", 1 },
	{ HSM_FEAT_ELLIPTIC_CURVE, "Elliptic curve", 0 }, /* guide 3.3.3.3 table */
	{ HSM_FEAT_HSM_SPEED0, "HSMSpeed0", 1 },
	{ HSM_FEAT_ECCMQV, "ECCMQV", 1 },
	{ HSM_FEAT_ACCELERATED_ECC, "AcceleratedECC", 1 },
	{ HSM_FEAT_HSM_SPEED1, "HSMSpeed1", 1 },
	{ HSM_FEAT_HSM_SPEED2, "HSMSpeed2", 1 },
	{ HSM_FEAT_FAST_RANDOM, "FastRandom", 1 },
	/* Built in, always on, and without a bit (guide 3.3.2): naming it
	 * has no effect, like naming any other built-in feature. */
	{ 0, "PostQuantum", 0 },
};
#define N_FEATURE_NAMES (sizeof(feature_names) / sizeof(feature_names[0]))

/* Longest text we look at; a real list of every name is about 170 bytes. */
#define FEATURES_TEXT_MAX 1024

HSM_API const char *hsm_feature_name(uint32_t bit)
{
	for (size_t i = 0; i < N_FEATURE_NAMES; i++)
		if (feature_names[i].canonical && feature_names[i].bit == bit)
			return feature_names[i].name;
	return NULL;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy at most 40 bytes of untrusted text into an error message, with
 * anything unprintable shown as '?', so hostile input cannot forge lines
 * or terminal escapes. */
static void quote_part(char *out, size_t outlen, const char *s, size_t n)
{
	size_t o = 0, lim = n > 40 ? 40 : n;

	for (size_t i = 0; i < lim && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (lim < n && o + 3 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

static int parse_hex(const char *s, size_t n, uint32_t *word, char *err, size_t errlen)
{
	char q[48];
	uint32_t w = 0;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
		if (n == 0) {
			snprintf(err, errlen, "'0x' without hex digits");
			return -1;
		}
	}
	if (n > 8) {
		quote_part(q, sizeof(q), s, n);
		snprintf(err, errlen, "hex word '%s' is wider than 32 bits (at most 8 hex digits)",
			 q);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int v = hsm_hex_digit(s[i]);
		if (v < 0) {
			quote_part(q, sizeof(q), s, n);
			snprintf(err, errlen, "'%s' is not a hex word", q);
			return -1;
		}
		w = (w << 4) | (uint32_t)v;
	}
	*word = w;
	return 0;
}

static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hsm_hex_digit(s[i]) < 0)
			return 0;
	return n > 0;
}

static const struct feature_name *lookup(const char *s, size_t n)
{
	for (size_t i = 0; i < N_FEATURE_NAMES; i++)
		if (strlen(feature_names[i].name) == n &&
		    strncasecmp(feature_names[i].name, s, n) == 0)
			return &feature_names[i];
	return NULL;
}

static int parse_names(const char *s, size_t n, uint32_t *word, char *err, size_t errlen)
{
	uint32_t w = 0;
	size_t pos = 0;
	char q[48];

	for (;;) {
		size_t end = pos;
		while (end < n && s[end] != '|')
			end++;
		size_t a = pos, b = end;
		while (a < b && is_space(s[a]))
			a++;
		while (b > a && is_space(s[b - 1]))
			b--;
		if (a == b) {
			snprintf(
			    err, errlen,
			    "empty feature name at offset %zu (names are joined by a single '|')",
			    pos);
			return -1;
		}
		const struct feature_name *f = lookup(s + a, b - a);
		if (!f) {
			quote_part(q, sizeof(q), s + a, b - a);
			snprintf(err, errlen,
				 "unknown feature name '%s' (known: ForeignTokenOpen RemoteShare "
				 "GeneralSEE ExportCGEA KISAAlgorithms StandardKM EllipticCurve "
				 "HSMSpeed0 "
				 "ECCMQV AcceleratedECC HSMSpeed1 HSMSpeed2 FastRandom "
				 "PostQuantum, or a hex word)",
				 q);
			return -1;
		}
		w |= f->bit;
		if (end == n)
			break;
		pos = end + 1;
	}
	*word = w;
	return 0;
}

HSM_API int hsm_features_parse(const char *text, uint32_t *word, char *err, size_t errlen)
{
	size_t a = 0, b;

	if (!text) {
		snprintf(err, errlen, "no features given");
		return -1;
	}
	b = strnlen(text, FEATURES_TEXT_MAX + 1);
	if (b > FEATURES_TEXT_MAX) {
		snprintf(err, errlen, "feature text longer than %d bytes", FEATURES_TEXT_MAX);
		return -1;
	}
	while (a < b && is_space(text[a]))
		a++;
	while (b > a && is_space(text[b - 1]))
		b--;
	if (a == b) {
		snprintf(err, errlen,
			 "empty feature text (give a hex word or names joined by '|')");
		return -1;
	}
	/* No name consists of hex digits only, so the two forms cannot clash. */
	if ((b - a >= 2 && text[a] == '0' && (text[a + 1] == 'x' || text[a + 1] == 'X')) ||
	    all_hex(text + a, b - a))
		return parse_hex(text + a, b - a, word, err, errlen);
	return parse_names(text + a, b - a, word, err, errlen);
}

/* Append s to buf like snprintf would: always count, copy what fits. */
static void append(char *buf, size_t buflen, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (buflen && *len < buflen - 1) {
		size_t room = buflen - 1 - *len;
		memcpy(buf + *len, s, n < room ? n : room);
	}
	*len += n;
	if (buflen)
		buf[*len < buflen ? *len : buflen - 1] = '\0';
}

HSM_API size_t hsm_features_format(uint32_t word, char *buf, size_t buflen)
{
	size_t len = 0;
	uint32_t rest = word;

	if (buflen)
		buf[0] = '\0';
	for (uint32_t bit = 1; bit; bit <<= 1) {
		const char *name = (word & bit) ? hsm_feature_name(bit) : NULL;
		if (!name)
			continue;
		if (len)
			append(buf, buflen, &len, "|");
		append(buf, buflen, &len, name);
		rest &= ~bit;
	}
	if (rest) {
		char hex[16];
		snprintf(hex, sizeof(hex), "0x%08X", rest);
		if (len)
			append(buf, buflen, &len, "|");
		append(buf, buflen, &len, hex);
	}
	return len;
}
