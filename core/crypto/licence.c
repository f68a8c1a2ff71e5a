/* SPDX-License-Identifier: Apache-2.0 */
/*
 * licence.c - feature licence files: issue, parse, verify.
 *
 * A licence file is a header for humans, then the signed envelope between
 * armour lines.  Only the envelope is trusted; the header must be exactly
 * what the body implies, so that what a person reads in an editor is what
 * the device applies.  The parser insists on exact bytes everywhere (the
 * header it would write, canonical JSON, one newline per line), so every
 * byte is covered by the parser or by the signature.  docs/formats/
 * licence.md is the normative description; keep the two in step.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include <hsmadmin/trust.h>
#include "licence.h"
#include "modules.h"
#include "sign.h"

#define ERRS(code, ...) (snprintf(err, errlen, __VA_ARGS__), (code))
#define MALFORMED(...) ERRS(HSM_LICENCE_MALFORMED, __VA_ARGS__)

#define TITLE_LINE "# hsmadmin feature licence\n"
#define BEGIN_LINE "-----BEGIN HSMADMIN LICENCE-----\n"
#define END_LINE "-----END HSMADMIN LICENCE-----\n"

/* Latest "issued" we accept: 9999-12-31T23:59:59Z. */
#define ISSUED_MAX 253402300799LL
/* Length of a base64 Ed25519 signature. */

/* Untrusted text inside an error message: printable ASCII only, at most
 * 40 characters, so a hostile file cannot forge lines or escapes. */
static const char *safe_n(const char *s, size_t n, char buf[48])
{
	size_t o = 0, i;

	for (i = 0; i < n && s[i] && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < n && s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

HSM_API const char *hsm_licence_speed_name(enum hsm_licence_speed speed)
{
	return speed == HSM_LICENCE_SPEED_MID    ? "mid"
	       : speed == HSM_LICENCE_SPEED_HIGH ? "high"
						 : "";
}

HSM_API int hsm_licence_speed_parse(const char *text, enum hsm_licence_speed *out)
{
	if (strcmp(text, "mid") == 0)
		*out = HSM_LICENCE_SPEED_MID;
	else if (strcmp(text, "high") == 0)
		*out = HSM_LICENCE_SPEED_HIGH;
	else
		return -1;
	return 0;
}

/* --- the header ------------------------------------------------------------- */

/* The header the body implies, malloc'ed. */
static char *header_text(const struct hsm_licence *lic)
{
	char names[512], when[32], *out = NULL;
	char speed[48] = "";
	size_t need;

	need = hsm_features_format(lic->features, names, sizeof(names));
	if (need >= sizeof(names))
		return NULL;
	if (lic->speed_upgrade != HSM_LICENCE_SPEED_NONE)
		snprintf(speed, sizeof(speed), "# speed-upgrade: %s\n",
			 hsm_licence_speed_name(lic->speed_upgrade));
	hsm_time_iso(lic->issued, when);
	if (asprintf(&out,
		     TITLE_LINE "# type: %s\n"
				"# esn: %s\n"
				"# max-active-vcms: %u\n"
				"# features: %s\n"
				"%s"
				"# issued: %s\n"
				"# serial: %lld\n",
		     lic->type, lic->esn, lic->max_active_vcms, names[0] ? names : "none", speed,
		     when, (long long)lic->serial) < 0)
		return NULL;
	return out;
}

/* The header in the file must be byte for byte what the body implies. */
static int check_header(const struct hsm_licence *lic, const char *got, size_t gotlen, char *err,
			size_t errlen)
{
	char *want = header_text(lic), q1[48], q2[48];
	size_t wantlen, line = 1, g = 0, w = 0;
	int rc = 0;

	if (!want)
		return MALFORMED("out of memory");
	wantlen = strlen(want);
	if (gotlen == wantlen && memcmp(got, want, wantlen) == 0) {
		free(want);
		return 0;
	}
	/* Name the first line that differs, for the person who reads it. */
	while (g < gotlen && w < wantlen) {
		const char *ge = memchr(got + g, '\n', gotlen - g);
		const char *we = strchr(want + w, '\n');
		size_t gl = ge ? (size_t)(ge - got - g) : gotlen - g, wl = (size_t)(we - want - w);

		if (gl != wl || memcmp(got + g, want + w, wl) != 0) {
			rc = ERRS(HSM_LICENCE_TAMPERED,
				  "header line %zu reads '%s' but the signed body says '%s': the "
				  "licence was altered",
				  line, safe_n(got + g, gl, q1), safe_n(want + w, wl, q2));
			break;
		}
		g += gl + 1;
		w += wl + 1;
		line++;
	}
	if (rc == 0 && w < wantlen)
		rc = ERRS(HSM_LICENCE_TAMPERED,
			  "header line %zu is missing (the signed body says '%s'): the licence was "
			  "altered",
			  line, safe_n(want + w, strcspn(want + w, "\n"), q2));
	else if (rc == 0)
		rc = ERRS(
		    HSM_LICENCE_TAMPERED,
		    "header line %zu ('%s') is not part of the licence: the licence was altered",
		    line, safe_n(got + g, gotlen - g, q1));
	free(want);
	return rc;
}

/* --- the body --------------------------------------------------------------- */

static json_t *body_to_json(const struct hsm_licence *lic)
{
	json_t *b = json_pack("{s:s, s:i, s:s, s:s, s:i, s:I, s:I, s:I}", "format",
			      HSM_LICENCE_FORMAT, "version", HSM_LICENCE_VERSION, "type", lic->type,
			      "esn", lic->esn, "max_active_vcms", (int)lic->max_active_vcms,
			      "features", (json_int_t)lic->features, "serial",
			      (json_int_t)lic->serial, "issued", (json_int_t)lic->issued);

	if (b && lic->speed_upgrade != HSM_LICENCE_SPEED_NONE &&
	    json_object_set_new(b, "speed_upgrade",
				json_string(hsm_licence_speed_name(lic->speed_upgrade))) != 0) {
		json_decref(b);
		return NULL;
	}
	return b;
}

/* An integer field within [min, max]. */
static int int_field(const json_t *b, const char *key, long long min, long long max, long long *out,
		     char *err, size_t errlen)
{
	int bad = 0;
	json_t *v = hsm_json_member(b, "", key, JSON_INTEGER, 1, &bad, err, errlen);

	if (bad)
		return HSM_LICENCE_MALFORMED;
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return MALFORMED("field '%s' must be %lld to %lld, not %lld", key, min, max, *out);
	return 0;
}

static int parse_body(const json_t *b, struct hsm_licence *lic, char *err, size_t errlen)
{
	static const char *const allowed[] = {
		"format",   "version",       "type",   "esn",    "max_active_vcms",
		"features", "speed_upgrade", "serial", "issued", NULL
	};
	long long n;
	int bad = 0;
	json_t *v;
	char q[HSM_PRINTABLE_LEN];

	/* Format and version first: another version may mean other fields. */
	v = hsm_json_member(b, "", "format", JSON_STRING, 1, &bad, err, errlen);
	if (bad)
		return HSM_LICENCE_MALFORMED;
	if (strcmp(json_string_value(v), HSM_LICENCE_FORMAT) != 0)
		return MALFORMED("not a licence (format '%s', expected '%s')",
				 hsm_printable(json_string_value(v), q), HSM_LICENCE_FORMAT);
	v = hsm_json_member(b, "", "version", JSON_INTEGER, 1, &bad, err, errlen);
	if (bad)
		return HSM_LICENCE_MALFORMED;
	if (json_integer_value(v) != HSM_LICENCE_VERSION)
		return ERRS(HSM_LICENCE_UNKNOWN_VERSION,
			    "unknown licence format version %lld (this software reads version %d)",
			    (long long)json_integer_value(v), HSM_LICENCE_VERSION);
	lic->version = HSM_LICENCE_VERSION;
	if (hsm_json_only_keys(b, "", allowed, err, errlen) != 0)
		return HSM_LICENCE_MALFORMED;

	v = hsm_json_member(b, "", "type", JSON_STRING, 1, &bad, err, errlen);
	if (bad)
		return HSM_LICENCE_MALFORMED;
	if (strcmp(json_string_value(v), HSM_LICENCE_TYPE_MULTI_TENANT) != 0)
		return MALFORMED("unknown licence type '%s' (version %d knows '%s')",
				 hsm_printable(json_string_value(v), q), HSM_LICENCE_VERSION,
				 HSM_LICENCE_TYPE_MULTI_TENANT);
	snprintf(lic->type, sizeof(lic->type), "%s", HSM_LICENCE_TYPE_MULTI_TENANT);

	v = hsm_json_member(b, "", "esn", JSON_STRING, 1, &bad, err, errlen);
	if (bad)
		return HSM_LICENCE_MALFORMED;
	if (!hsm_esn_valid(json_string_value(v)))
		return MALFORMED(
		    "field 'esn' must be an upper-case ESN like 1A23-BC45-6789, not '%s'",
		    hsm_printable(json_string_value(v), q));
	memcpy(lic->esn, json_string_value(v), HSM_ESN_LEN + 1);

	if (int_field(b, "max_active_vcms", HSM_LICENCE_VCMS_MIN, HSM_LICENCE_VCMS_MAX, &n, err,
		      errlen))
		return HSM_LICENCE_MALFORMED;
	lic->max_active_vcms = (unsigned)n;
	if (int_field(b, "features", 0, 0xFFFFFFFFLL, &n, err, errlen))
		return HSM_LICENCE_MALFORMED;
	lic->features = (uint32_t)n;
	if (lic->features & HSM_FEAT_SPEED_MASK)
		return MALFORMED("field 'features' holds speed bits (0x%08X): a speed upgrade is "
				 "'speed_upgrade'",
				 (unsigned)(lic->features & HSM_FEAT_SPEED_MASK));
	if (lic->features & ~HSM_FEAT_KNOWN)
		return MALFORMED("field 'features' holds unknown feature bits (0x%08X)",
				 (unsigned)(lic->features & ~HSM_FEAT_KNOWN));

	v = hsm_json_member(b, "", "speed_upgrade", JSON_STRING, 0, &bad, err, errlen);
	if (bad)
		return HSM_LICENCE_MALFORMED;
	lic->speed_upgrade = HSM_LICENCE_SPEED_NONE;
	if (v && hsm_licence_speed_parse(json_string_value(v), &lic->speed_upgrade) != 0)
		return MALFORMED("field 'speed_upgrade' must be 'mid' or 'high', not '%s'",
				 hsm_printable(json_string_value(v), q));

	if (int_field(b, "serial", 1, HSM_LICENCE_SERIAL_MAX, &n, err, errlen))
		return HSM_LICENCE_MALFORMED;
	lic->serial = n;
	if (int_field(b, "issued", 1, ISSUED_MAX, &n, err, errlen))
		return HSM_LICENCE_MALFORMED;
	lic->issued = n;
	return 0;
}

static int parse_signature_block(const json_t *s, struct hsm_licence *lic, char *err, size_t errlen)
{
	return hsm_signature_block_parse(s, &lic->signer, err, errlen) == 0 ? 0
									    : HSM_LICENCE_MALFORMED;
}

static int from_envelope(const json_t *env, struct hsm_licence *lic, char *err, size_t errlen)
{
	static const char *const allowed[] = { "body", "signature", NULL };
	int bad = 0, rc;
	json_t *body, *sig;

	if (!json_is_object(env))
		return MALFORMED("the signed part is JSON %s, not an object",
				 hsm_json_type_name(env));
	if (hsm_json_only_keys(env, "", allowed, err, errlen) != 0)
		return HSM_LICENCE_MALFORMED;
	body = hsm_json_member(env, "", "body", JSON_OBJECT, 1, &bad, err, errlen);
	sig = hsm_json_member(env, "", "signature", JSON_OBJECT, 1, &bad, err, errlen);
	if (bad)
		return HSM_LICENCE_MALFORMED;
	rc = parse_body(body, lic, err, errlen);
	if (rc == 0)
		rc = parse_signature_block(sig, lic, err, errlen);
	return rc;
}

/* --- parsing the file ---------------------------------------------------------- */

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF), no NUL. */
static size_t utf8_bad_at(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], len, cp;

		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return i;
		if (n - i < len)
			return i;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return i;
		i += len;
	}
	return SIZE_MAX;
}

/* Where a whole line equal to text starts, or NULL. */
static const char *find_line(const char *data, size_t len, const char *text)
{
	const char *p = data, *end = data + len, *nl;
	size_t tl = strlen(text);

	while (p < end) {
		if ((size_t)(end - p) >= tl && memcmp(p, text, tl) == 0)
			return p;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		p = nl + 1;
	}
	return NULL;
}

static int parse_file(const char *data, size_t len, struct hsm_licence *lic, char *err,
		      size_t errlen)
{
	const char *begin, *body, *nl, *end;
	char inner[256], *canon;
	size_t at, blen, clen;
	json_t *env;
	int rc;

	if (len > HSM_LICENCE_MAX_BYTES)
		return MALFORMED("too large for a licence (%zu bytes, at most %d)", len,
				 HSM_LICENCE_MAX_BYTES);
	at = utf8_bad_at((const unsigned char *)data, len);
	if (at != SIZE_MAX)
		return MALFORMED("not a licence: byte %zu is %s", at,
				 data[at] ? "not UTF-8 text" : "a NUL byte");
	begin = find_line(data, len, BEGIN_LINE);
	if (!begin)
		return MALFORMED("not a licence: no '%.*s' line", (int)strlen(BEGIN_LINE) - 1,
				 BEGIN_LINE);
	body = begin + strlen(BEGIN_LINE);
	nl = memchr(body, '\n', len - (size_t)(body - data));
	if (!nl)
		return MALFORMED("the licence ends inside the signed part (no '%.*s' line)",
				 (int)strlen(END_LINE) - 1, END_LINE);
	blen = (size_t)(nl - body);
	end = nl + 1;
	if ((size_t)(data + len - end) < strlen(END_LINE) ||
	    memcmp(end, END_LINE, strlen(END_LINE)) != 0)
		return MALFORMED("the signed part must be one line followed by '%.*s'",
				 (int)strlen(END_LINE) - 1, END_LINE);
	if (end + strlen(END_LINE) != data + len)
		return MALFORMED("there is data after the '%.*s' line", (int)strlen(END_LINE) - 1,
				 END_LINE);

	env = hsm_json_parse(body, blen, HSM_LICENCE_MAX_BYTES, inner, sizeof(inner));
	if (!env) {
		for (char *p = inner; *p; p++) /* jansson quotes raw input */
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		return MALFORMED("the signed part is not valid JSON: %s", inner);
	}
	rc = from_envelope(env, lic, err, errlen);
	if (rc != 0) {
		json_decref(env);
		return rc;
	}
	lic->envelope = env;
	/* Exactly the bytes we would write: then no byte escapes both the
	 * parser and the signature. */
	canon = hsm_json_canonical(env, &clen);
	if (!canon)
		return MALFORMED("out of memory");
	if (clen != blen || memcmp(canon, body, blen) != 0) {
		size_t d = 0;
		while (d < clen && d < blen && canon[d] == body[d])
			d++;
		free(canon);
		return ERRS(HSM_LICENCE_TAMPERED,
			    "the signed part is not in canonical form (differs at byte %zu): the "
			    "licence was altered",
			    d);
	}
	free(canon);
	return check_header(lic, data, (size_t)(begin - data), err, errlen);
}

HSM_API int hsm_licence_parse(const void *data, size_t len, struct hsm_licence **out, char *err,
			      size_t errlen)
{
	struct hsm_licence *lic;
	int rc;

	*out = NULL;
	if (!data)
		return MALFORMED("no licence data");
	lic = calloc(1, sizeof(*lic));
	if (!lic)
		return MALFORMED("out of memory");
	rc = parse_file(data, len, lic, err, errlen);
	if (rc != 0) {
		hsm_licence_free(lic);
		return rc;
	}
	*out = lic;
	return 0;
}

HSM_API int hsm_licence_load_file(const char *path, struct hsm_licence **out, char *err,
				  size_t errlen)
{
	char inner[384], *data;
	size_t len;
	int rc;

	*out = NULL;
	/* One byte over the limit tells "too large" from "exactly the limit". */
	if (hsm_read_file(path, HSM_LICENCE_MAX_BYTES + 1, &data, &len, inner, sizeof(inner)) != 0)
		return MALFORMED("%s", inner);
	rc = hsm_licence_parse(data, len, out, inner, sizeof(inner));
	free(data);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, inner);
	return rc;
}

/* --- verifying ----------------------------------------------------------------- */

HSM_API int hsm_licence_verify(const struct hsm_licence *lic, EVP_PKEY *const *trusted, size_t n,
			       char *err, size_t errlen)
{
	const json_t *body;
	char inner[256];
	char *fp;

	if (!lic || !lic->envelope || !lic->signer)
		return MALFORMED("no licence to verify");
	for (size_t i = 0; i < n; i++) {
		if (!trusted[i] || !hsm_key_equal(trusted[i], lic->signer))
			continue;
		if (hsm_signed_verify(lic->envelope, trusted[i], &body, NULL, inner,
				      sizeof(inner)) != 0)
			return ERRS(HSM_LICENCE_TAMPERED,
				    "the vendor signature does not match the licence body: the "
				    "licence was altered (%s)",
				    inner);
		return 0;
	}
	fp = hsm_key_fingerprint(lic->signer);
	snprintf(err, errlen, "signed by %s, which is not a trusted vendor key%s",
		 fp ? fp : "an unknown key", n ? "" : " (no vendor keys are configured)");
	free(fp);
	return HSM_LICENCE_UNKNOWN_SIGNER;
}

HSM_API int hsm_licence_check_esn(const struct hsm_licence *lic, const char *esn, char *err,
				  size_t errlen)
{
	char norm[HSM_ESN_LEN + 1], q[48];

	if (!esn || hsm_esn_normalize(esn, norm) != 0)
		return ERRS(HSM_LICENCE_WRONG_ESN, "'%s' is not an ESN",
			    esn ? hsm_printable(esn, q) : "");
	if (strcmp(norm, lic->esn) != 0)
		return ERRS(HSM_LICENCE_WRONG_ESN, "the licence is for ESN %s, not for %s",
			    lic->esn, norm);
	return 0;
}

/* --- writing -------------------------------------------------------------------- */

HSM_API char *hsm_licence_text(const struct hsm_licence *lic, size_t *len)
{
	char *header, *canon, *out = NULL;
	size_t clen;

	if (!lic || !lic->envelope)
		return NULL;
	header = header_text(lic);
	canon = hsm_json_canonical(lic->envelope, &clen);
	if (header && canon && asprintf(&out, "%s" BEGIN_LINE "%s\n" END_LINE, header, canon) < 0)
		out = NULL;
	free(header);
	free(canon);
	if (out && len)
		*len = strlen(out);
	return out;
}

HSM_API int hsm_licence_sign(struct hsm_licence *lic, EVP_PKEY *vendor_key, char **text,
			     size_t *len, char *err, size_t errlen)
{
	struct hsm_licence *check = NULL;
	json_t *body, *env;
	int rc;

	*text = NULL;
	if (!lic->type[0])
		snprintf(lic->type, sizeof(lic->type), "%s", HSM_LICENCE_TYPE_MULTI_TENANT);
	body = body_to_json(lic);
	if (!body)
		return MALFORMED("cannot build the licence body");
	env = hsm_signed_wrap(body, vendor_key, err, errlen);
	json_decref(body);
	if (!env)
		return HSM_LICENCE_MALFORMED;
	json_decref(lic->envelope);
	EVP_PKEY_free(lic->signer);
	lic->envelope = env;
	lic->signer = NULL;
	lic->version = HSM_LICENCE_VERSION;
	*text = hsm_licence_text(lic, len);
	if (!*text)
		return MALFORMED("out of memory");
	/* What we write must pass our own parser: one set of rules. */
	rc = hsm_licence_parse(*text, *len, &check, err, errlen);
	if (rc == 0) {
		lic->signer = check->signer;
		check->signer = NULL;
	} else {
		free(*text);
		*text = NULL;
	}
	hsm_licence_free(check);
	return rc;
}

HSM_API json_t *hsm_licence_summary(const struct hsm_licence *lic)
{
	char names[512], *fp;
	json_t *o;

	hsm_features_format(lic->features, names, sizeof(names));
	o = json_pack("{s:i, s:s, s:s, s:i, s:I, s:s, s:I, s:I}", "version", lic->version, "type",
		      lic->type, "esn", lic->esn, "max_active_vcms", (int)lic->max_active_vcms,
		      "features", (json_int_t)lic->features, "features_names", names, "serial",
		      (json_int_t)lic->serial, "issued", (json_int_t)lic->issued);
	if (!o)
		return NULL;
	if (lic->speed_upgrade != HSM_LICENCE_SPEED_NONE)
		json_object_set_new(o, "speed_upgrade",
				    json_string(hsm_licence_speed_name(lic->speed_upgrade)));
	fp = lic->signer ? hsm_key_fingerprint(lic->signer) : NULL;
	if (fp)
		json_object_set_new(o, "signer", json_string(fp));
	free(fp);
	return o;
}

HSM_API int hsm_licence_exit(int status)
{
	switch (status) {
	case HSM_LICENCE_OK:
		return HSM_EXIT_OK;
	case HSM_LICENCE_UNKNOWN_SIGNER:
	case HSM_LICENCE_TAMPERED:
		return HSM_EXIT_AUTH;
	case HSM_LICENCE_WRONG_ESN:
		return HSM_EXIT_FAILED;
	default:
		return HSM_EXIT_USAGE; /* malformed, unknown version */
	}
}

HSM_API void hsm_licence_free(struct hsm_licence *lic)
{
	if (!lic)
		return;
	EVP_PKEY_free(lic->signer);
	json_decref(lic->envelope);
	free(lic);
}

/* --- trusted vendor keys ---------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

HSM_API void hsm_vendor_keys_free(EVP_PKEY **keys, size_t n)
{
	for (size_t i = 0; keys && i < n; i++)
		EVP_PKEY_free(keys[i]);
	free(keys);
}

HSM_API int hsm_vendor_keys_load(const char *dir, EVP_PKEY ***keys, size_t *n, char *err,
				 size_t errlen)
{
	char *names[HSM_VENDOR_KEYS_MAX + 1], path[4096], inner[256];
	size_t count = 0, loaded = 0;
	uint8_t raw[HSM_ED25519_PUB_LEN];
	struct dirent *de;
	EVP_PKEY **out;
	DIR *d;
	int rc = 0, dfd, fd;

	*keys = NULL;
	*n = 0;
	/* vendor.d decides whose licences are applied: the trust rules apply
	 * to it and to each key file. */
	dfd = hsm_trust_open(dir, 1, err, errlen);
	if (dfd == HSM_TRUST_ABSENT)
		return 0; /* no vendor.d: nothing is trusted */
	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return hsm_set_err(err, errlen, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".pem") != 0)
			continue;
		if (count == HSM_VENDOR_KEYS_MAX) {
			rc = hsm_set_err(err, errlen, "%s: more than %d vendor keys", dir,
					 HSM_VENDOR_KEYS_MAX);
			break;
		}
		if (!(names[count] = strdup(de->d_name))) {
			rc = hsm_set_err(err, errlen, "out of memory");
			break;
		}
		count++;
	}
	closedir(d);
	out = rc == 0 ? calloc(count ? count : 1, sizeof(*out)) : NULL;
	if (rc == 0 && !out)
		rc = hsm_set_err(err, errlen, "out of memory");
	if (rc == 0)
		qsort(names, count, sizeof(names[0]), cmp_names);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			rc = hsm_set_err(err, errlen, "%s: path too long", dir);
			break;
		}
		/* Checked, then read by name: vendor.d itself is trusted, so
		 * only a trusted user could swap the file in between. */
		if ((fd = hsm_trust_open(path, 0, inner, sizeof(inner))) < 0) {
			rc = hsm_set_err(err, errlen, "vendor key %s", inner);
			break;
		}
		close(fd);
		out[loaded] = hsm_key_load_public(path, inner, sizeof(inner));
		if (!out[loaded]) {
			rc = hsm_set_err(err, errlen, "vendor key: %s", inner);
			break;
		}
		if (hsm_ed25519_pub_raw(out[loaded], raw) != 0) {
			EVP_PKEY_free(out[loaded]);
			rc = hsm_set_err(err, errlen, "vendor key %s is not an Ed25519 key", path);
			break;
		}
		loaded++;
	}
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	if (rc != 0) {
		hsm_vendor_keys_free(out, loaded);
		return -1;
	}
	*keys = out;
	*n = loaded;
	return 0;
}
