/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/signed-log-scan.c - the verifier's fast reading of an
 * ordinary entry: the members of an entry in the exact canonical form the
 * device writes, taken from its bytes without building a jansson tree.
 *
 * It never rejects: it either vouches that hsm_slog_entry_parse would
 * accept the bytes and find the same members, or says it cannot tell, and
 * the caller parses with jansson (which then gives the one true verdict
 * and its reason).  So it only needs to be sure of what it accepts: no
 * white space, keys in canonical order, ASCII strings with escapes jansson
 * decodes to something other than NUL, integers that fit, nesting well
 * under HSM_JSON_MAX_DEPTH, no key twice in one object (jansson is run
 * with JSON_REJECT_DUPLICATES).  Anything else is "cannot tell".
 */
#include "config.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <hsmadmin/fileio.h>
#include "signed-log.h"

#define SCAN_MAX_DEPTH 8 /* of detail; the whole entry stays far below 32 */
#define SCAN_MAX_KEYS 32 /* per object, for the duplicate check */

struct scan {
	const char *p, *end;
};

/* From p: past the bytes a string holds as they are (printable ASCII but
 * the quote and the backslash), 16 at a time; the rest, byte by byte, is
 * scan_string's.  Most of an entry is such bytes. */
static const char *plain_run(const char *p, const char *end)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);

	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* A signed compare: bytes from 0x80 count as below 0x20. */
		__m128i stop =
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
				 _mm_or_si128(_mm_cmplt_epi8(x, space), _mm_cmpeq_epi8(x, del)));
		int m = _mm_movemask_epi8(stop);

		if (m)
			return p + __builtin_ctz((unsigned)m);
		p += 16;
	}
#else
	(void)end;
#endif
	return p;
}

/* A string at s->p (the opening quote).  Key strings may hold no escape
 * (two spellings of one key would defeat the duplicate check). */
static int scan_string(struct scan *s, int key, const char **text, size_t *len)
{
	const char *p = s->p;

	if (p >= s->end || *p != '"')
		return 0;
	p++;
	*text = p;
	for (;;) {
		unsigned char c;

		p = plain_run(p, s->end);
		if (p >= s->end)
			return 0;
		c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c < 0x20 || c >= 0x7f)
			return 0; /* control bytes, UTF-8: jansson decides */
		if (c == '\\') {
			if (key || p + 1 >= s->end)
				return 0;
			c = (unsigned char)p[1];
			if (c == 'u') {
				int v = 0;
				if (s->end - p < 6)
					return 0;
				for (int i = 2; i < 6; i++) {
					int h = hsm_hex_digit(p[i]);
					if (h < 0)
						return 0;
					v = v << 4 | h;
				}
				/* NUL and surrogates (halves or pairs): jansson decides. */
				if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
					return 0;
				p += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", c) || c == '\0')
				return 0;
			p += 2;
			continue;
		}
		p++;
	}
	*len = (size_t)(p - *text);
	s->p = p + 1;
	return 1;
}

/* A JSON integer that fits a json_int_t: -?(0|[1-9][0-9]{0,17}), not
 * followed by a fraction or exponent (jansson would make it a real). */
static int scan_int(struct scan *s, int64_t *out)
{
	const char *p = s->p;
	int neg = 0, digits = 0;
	int64_t v = 0;

	if (p < s->end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= s->end || *p < '0' || *p > '9')
		return 0;
	if (*p == '0') {
		p++;
		digits = 1;
	} else {
		/* At most 18 digits: below 10^18, no overflow. */
		for (; p < s->end && *p >= '0' && *p <= '9'; p++) {
			if (++digits > 18)
				return 0;
			v = v * 10 + (*p - '0');
		}
	}
	if (p < s->end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E'))
		return 0;
	*out = neg ? -v : v;
	s->p = p;
	return 1;
}

static int scan_litn(struct scan *s, const char *lit, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return 0;
	s->p += n;
	return 1;
}

/* A string literal's length is known here: no strlen per member. */
#define scan_lit(s, lit) scan_litn((s), (lit), sizeof(lit) - 1)

static int scan_value(struct scan *s, int depth);

static int scan_object(struct scan *s, int depth)
{
	const char *keys[SCAN_MAX_KEYS];
	size_t klen[SCAN_MAX_KEYS], n = 0;

	if (depth > SCAN_MAX_DEPTH || !scan_lit(s, "{"))
		return 0;
	if (scan_lit(s, "}"))
		return 1;
	for (;;) {
		const char *k;
		size_t kl;

		if (n == SCAN_MAX_KEYS || !scan_string(s, 1, &k, &kl))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (klen[i] == kl && memcmp(keys[i], k, kl) == 0)
				return 0; /* a duplicate: jansson refuses it */
		keys[n] = k;
		klen[n++] = kl;
		if (!scan_lit(s, ":") || !scan_value(s, depth))
			return 0;
		if (scan_lit(s, "}"))
			return 1;
		if (!scan_lit(s, ","))
			return 0;
	}
}

static int scan_array(struct scan *s, int depth)
{
	if (depth > SCAN_MAX_DEPTH || !scan_lit(s, "["))
		return 0;
	if (scan_lit(s, "]"))
		return 1;
	for (;;) {
		if (!scan_value(s, depth))
			return 0;
		if (scan_lit(s, "]"))
			return 1;
		if (!scan_lit(s, ","))
			return 0;
	}
}

static int scan_value(struct scan *s, int depth)
{
	const char *t;
	size_t tl;
	int64_t i;

	if (s->p >= s->end)
		return 0;
	switch (*s->p) {
	case '{':
		return scan_object(s, depth + 1);
	case '[':
		return scan_array(s, depth + 1);
	case '"':
		return scan_string(s, 0, &t, &tl);
	case 't':
		return scan_lit(s, "true");
	case 'f':
		return scan_lit(s, "false");
	case 'n':
		return scan_lit(s, "null");
	default:
		return scan_int(s, &i);
	}
}

/* 1 when the n bytes of t are lower-case hex digits (without a branch per
 * digit: prev is 64 of them in every entry). */
static int lower_hex(const char *t, size_t n)
{
	unsigned bad = 0;
	size_t i = 0;
#if defined(__SSE2__)
	/* Signed compares: bytes from 0x80 are below '0' and fail both. */
	const __m128i d0 = _mm_set1_epi8('0' - 1), d9 = _mm_set1_epi8('9' + 1);
	const __m128i a0 = _mm_set1_epi8('a' - 1), f9 = _mm_set1_epi8('f' + 1);

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
		__m128i ok =
		    _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(x, d0), _mm_cmplt_epi8(x, d9)),
				 _mm_and_si128(_mm_cmpgt_epi8(x, a0), _mm_cmplt_epi8(x, f9)));
		bad |= _mm_movemask_epi8(ok) != 0xFFFF;
	}
#endif
	for (; i < n; i++) {
		unsigned c = (unsigned char)t[i];
		bad |= (c - '0' > 9u) & (c - 'a' > 5u);
	}
	return !bad;
}

#define scan_member_int(s, prefix, v) (scan_lit((s), prefix) && scan_int((s), (v)))

int hsm_slog_entry_scan(const char *json, size_t jlen, struct hsm_slog_fields *f)
{
	struct scan s = { json, json + jlen };
	const char *t;
	size_t tl;

	if (jlen > HSM_SLOG_MAX_ENTRY || !scan_lit(&s, "{\"detail\":") || s.p >= s.end ||
	    *s.p != '{' || !scan_value(&s, 0) || !scan_lit(&s, ",\"event\":") ||
	    !scan_string(&s, 1, &t, &tl))
		return 0;
	if (tl == 0 || tl > 47)
		return 0;
	for (size_t i = 0; i < tl; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || t[i] == '_'))
			return 0;
	f->event = t;
	f->event_len = tl;
	if (!scan_lit(&s, ",\"prev\":") || !scan_string(&s, 1, &t, &tl) ||
	    tl != 2 * HSM_SLOG_HASH_LEN)
		return 0;
	if (!lower_hex(t, tl))
		return 0;
	f->prev = t;
	if (!scan_member_int(&s, ",\"seg\":", &f->seg) ||
	    !scan_member_int(&s, ",\"seq\":", &f->seq) ||
	    !scan_member_int(&s, ",\"time\":", &f->time) || !scan_lit(&s, "}") || s.p != s.end)
		return 0;
	/* Out of range: the full parse names what is wrong. */
	if (f->seq < 1 || f->seq > HSM_SLOG_MAX_SEQ || f->seg < 1 || f->seg > HSM_SLOG_MAX_SEQ ||
	    f->time < 0 || f->time > INT64_C(253402300799))
		return 0;
	return 1;
}
