/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-licence.c - feature licences (core/crypto/licence.c): issue, parse,
 * verify against vendor keys, ESN check, and every refusal with its own
 * status: malformed, unknown version, unknown signer, tampered, wrong ESN.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include "licence.h"
#include "sign.h"
#include "tap.h"

static EVP_PKEY *vendor, *other;

static void bail(const char *what, const char *err)
{
	printf("Bail out! %s: %s\n", what, err);
	exit(1);
}

static struct hsm_licence base(void)
{
	struct hsm_licence lic = { 0 };

	snprintf(lic.type, sizeof(lic.type), "%s", HSM_LICENCE_TYPE_MULTI_TENANT);
	snprintf(lic.esn, sizeof(lic.esn), "1A23-BC45-6789");
	lic.max_active_vcms = 8;
	lic.features = HSM_FEAT_FOREIGN_TOKEN_OPEN | HSM_FEAT_REMOTE_SHARE;
	lic.serial = 42;
	lic.issued = 1700000000;
	return lic;
}

/* A signed licence file for lic, malloc'ed. */
static char *issue(struct hsm_licence lic, EVP_PKEY *key, size_t *len)
{
	char err[512], *text;

	if (hsm_licence_sign(&lic, key, &text, len, err, sizeof(err)) != 0)
		bail("issue", err);
	EVP_PKEY_free(lic.signer);
	json_decref(lic.envelope);
	return text;
}

/* A file around an arbitrary body signed with key, with a header that is
 * only the title: for tests of the body rules, checked before the header. */
static char *raw_file(json_t *body, EVP_PKEY *key)
{
	char err[256], *canon, *out;
	json_t *env = hsm_signed_wrap(body, key, err, sizeof(err));

	if (!env)
		bail("wrap", err);
	canon = hsm_json_canonical(env, NULL);
	json_decref(env);
	if (asprintf(&out,
		     "# hsmadmin feature licence\n-----BEGIN HSMADMIN LICENCE-----\n%s\n"
		     "-----END HSMADMIN LICENCE-----\n",
		     canon) < 0)
		bail("asprintf", "");
	free(canon);
	return out;
}

static json_t *good_body(void)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:i, s:i, s:I, s:I}", "format", "hsmadmin-licence",
			 "version", 1, "type", "multi-tenant", "esn", "1A23-BC45-6789",
			 "max_active_vcms", 8, "features", 3, "serial", (json_int_t)42, "issued",
			 (json_int_t)1700000000);
}

static int parse_rc(const char *data, size_t len, char *err, size_t errlen)
{
	struct hsm_licence *lic = NULL;
	int rc = hsm_licence_parse(data, len, &lic, err, errlen);

	if (rc != 0 && lic)
		rc = 99; /* a failure must leave nothing */
	hsm_licence_free(lic);
	return rc;
}

static void replace(char *text, const char *from, const char *to)
{
	char *p = strstr(text, from);

	if (!p || strlen(from) != strlen(to))
		bail("replace", from);
	memcpy(p, to, strlen(to));
}

/* parse_rc of text with from replaced by to (of the same length). */
static int edited_rc(const char *text, size_t len, const char *from, const char *to, char *err,
		     size_t errlen)
{
	char *t = strdup(text);
	int rc;

	replace(t, from, to);
	rc = parse_rc(t, len, err, errlen);
	free(t);
	return rc;
}

static void test_roundtrip(void)
{
	struct hsm_licence *lic = NULL;
	EVP_PKEY *trusted[2] = { other, vendor };
	size_t len, len2;
	char err[512], *text = issue(base(), vendor, &len), *again;
	json_t *sum;

	static const char head[] =
	    "# hsmadmin feature licence\n# type: multi-tenant\n# esn: 1A23-BC45-6789\n"
	    "# max-active-vcms: 8\n# features: ForeignTokenOpen|RemoteShare\n"
	    "# issued: 2023-11-14T22:13:20Z\n# serial: 42\n"
	    "-----BEGIN HSMADMIN LICENCE-----\n{\"body\":{";
	tap_ok(strncmp(text, head, strlen(head)) == 0,
	       "the header is human-readable and names the features");
	TAP_INT_EQ(hsm_licence_parse(text, len, &lic, err, sizeof(err)), 0,
		   "a signed licence parses");
	if (!lic)
		bail("parse", err);
	TAP_STR_EQ(lic->esn, "1A23-BC45-6789", "ESN");
	TAP_INT_EQ(lic->max_active_vcms, 8, "max active VCMs");
	TAP_INT_EQ(lic->features, 3, "features word");
	TAP_INT_EQ(lic->speed_upgrade, HSM_LICENCE_SPEED_NONE, "no speed upgrade");
	TAP_INT_EQ(lic->serial, 42, "serial");
	TAP_INT_EQ(lic->issued, 1700000000, "issued");
	TAP_INT_EQ(lic->version, 1, "format version");
	TAP_INT_EQ(hsm_licence_verify(lic, trusted, 2, err, sizeof(err)), HSM_LICENCE_OK,
		   "verifies against a trust list holding the vendor key");
	TAP_INT_EQ(hsm_licence_verify(lic, trusted, 1, err, sizeof(err)),
		   HSM_LICENCE_UNKNOWN_SIGNER, "another vendor key: unknown signer");
	tap_ok(strstr(err, "not a trusted vendor key") != NULL, "the reason says so: %s", err);
	TAP_INT_EQ(hsm_licence_verify(lic, NULL, 0, err, sizeof(err)), HSM_LICENCE_UNKNOWN_SIGNER,
		   "no vendor keys: unknown signer");
	TAP_INT_EQ(hsm_licence_check_esn(lic, "1A23-BC45-6789", err, sizeof(err)), 0,
		   "its own ESN matches");
	TAP_INT_EQ(hsm_licence_check_esn(lic, "1a23-bc45-6789", err, sizeof(err)), 0,
		   "in any case");
	TAP_INT_EQ(hsm_licence_check_esn(lic, "1A23-BC45-6780", err, sizeof(err)),
		   HSM_LICENCE_WRONG_ESN, "another ESN: wrong ESN");
	tap_ok(strstr(err, "for ESN 1A23-BC45-6789, not for 1A23-BC45-6780") != NULL,
	       "names both: %s", err);
	TAP_INT_EQ(hsm_licence_check_esn(lic, "junk", err, sizeof(err)), HSM_LICENCE_WRONG_ESN,
		   "a malformed ESN never matches");

	again = hsm_licence_text(lic, &len2);
	tap_ok(again && len2 == len && memcmp(again, text, len) == 0,
	       "hsm_licence_text gives back the file");
	free(again);
	sum = hsm_licence_summary(lic);
	TAP_STR_EQ(json_string_value(json_object_get(sum, "features_names")),
		   "ForeignTokenOpen|RemoteShare", "summary: feature names");
	TAP_INT_EQ(json_integer_value(json_object_get(sum, "max_active_vcms")), 8, "summary: VCMs");
	tap_ok(json_object_get(sum, "speed_upgrade") == NULL, "summary: no speed upgrade");
	tap_ok(strncmp(json_string_value(json_object_get(sum, "signer")), "SHA256:", 7) == 0,
	       "summary: signer fingerprint");
	json_decref(sum);
	hsm_licence_free(lic);
	free(text);

	/* Speed upgrade, no features. */
	struct hsm_licence l2 = base();
	l2.features = 0;
	l2.speed_upgrade = HSM_LICENCE_SPEED_HIGH;
	l2.max_active_vcms = 1000;
	text = issue(l2, vendor, &len);
	tap_ok(strstr(text, "# features: none\n# speed-upgrade: high\n") != NULL,
	       "header: no features, speed");
	TAP_INT_EQ(hsm_licence_parse(text, len, &lic, err, sizeof(err)), 0, "parses");
	TAP_INT_EQ(lic ? (int)lic->speed_upgrade : -1, HSM_LICENCE_SPEED_HIGH,
		   "speed upgrade high");
	hsm_licence_free(lic);
	free(text);
}

static void test_sign_refuses(void)
{
	static const struct {
		const char *name;
		unsigned vcms;
		uint32_t features;
		const char *esn;
	} bad[] = {
		{ "0 VCMs", 0, 0, "1A23-BC45-6789" },
		{ "1001 VCMs", 1001, 0, "1A23-BC45-6789" },
		{ "speed bits as features", 8, HSM_FEAT_HSM_SPEED2, "1A23-BC45-6789" },
		{ "unknown feature bits", 8, 0x00020000, "1A23-BC45-6789" },
		{ "lower-case ESN", 8, 0, "1a23-bc45-6789" },
		{ "malformed ESN", 8, 0, "1A23BC45-6789" },
	};
	char err[512], *text;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hsm_licence l = base();
		l.max_active_vcms = bad[i].vcms;
		l.features = bad[i].features;
		snprintf(l.esn, sizeof(l.esn), "%s", bad[i].esn);
		int rc = hsm_licence_sign(&l, vendor, &text, &len, err, sizeof(err));
		tap_ok(rc == HSM_LICENCE_MALFORMED && text == NULL, "signing refuses %s: %s",
		       bad[i].name, err);
		EVP_PKEY_free(l.signer);
		json_decref(l.envelope);
	}
}

static void test_tampering(void)
{
	struct hsm_licence *lic = NULL;
	EVP_PKEY *trusted[1] = { vendor };
	char err[512], *text, *t;
	size_t len;

	text = issue(base(), vendor, &len);

	/* One byte of the body, header changed to agree: the signature fails. */
	t = strdup(text);
	replace(t, "\"max_active_vcms\":8", "\"max_active_vcms\":9");
	replace(t, "# max-active-vcms: 8", "# max-active-vcms: 9");
	TAP_INT_EQ(hsm_licence_parse(t, len, &lic, err, sizeof(err)), 0,
		   "a consistent forgery parses");
	TAP_INT_EQ(lic ? hsm_licence_verify(lic, trusted, 1, err, sizeof(err)) : -99,
		   HSM_LICENCE_TAMPERED, "but the body no longer matches the signature: tampered");
	tap_ok(strstr(err, "altered") != NULL, "the reason says so: %s", err);
	hsm_licence_free(lic);
	lic = NULL;
	free(t);

	/* One byte of the body only: the header disagrees. */
	TAP_INT_EQ(edited_rc(text, len, "\"max_active_vcms\":8", "\"max_active_vcms\":9", err,
			     sizeof(err)),
		   HSM_LICENCE_TAMPERED, "body changed, header not: tampered");
	tap_ok(strstr(err, "header line 4") != NULL, "names the header line: %s", err);

	/* The header only. */
	TAP_INT_EQ(edited_rc(text, len, "# esn: 1A23-BC45-6789", "# esn: 1A23-BC45-6788", err,
			     sizeof(err)),
		   HSM_LICENCE_TAMPERED, "header edited: tampered");
	TAP_INT_EQ(edited_rc(text, len, "ForeignTokenOpen|RemoteShare",
			     "ForeignTokenOpen|RemoteSharf", err, sizeof(err)),
		   HSM_LICENCE_TAMPERED, "feature names edited: tampered");
	{
		char *extra;
		if (asprintf(&extra, "# note: hello\n%s", text) < 0)
			bail("asprintf", "");
		TAP_INT_EQ(parse_rc(extra, strlen(extra), err, sizeof(err)), HSM_LICENCE_TAMPERED,
			   "a line added to the header: tampered");
		free(extra);
		const char *cut = strstr(text, "# serial:");
		char *shorter = NULL;
		if (asprintf(&shorter, "%.*s%s", (int)(cut - text), text,
			     strstr(cut, "-----BEGIN")) < 0)
			bail("asprintf", "");
		TAP_INT_EQ(parse_rc(shorter, strlen(shorter), err, sizeof(err)),
			   HSM_LICENCE_TAMPERED, "a header line removed: tampered");
		tap_ok(strstr(err, "missing") != NULL, "says which is missing: %s", err);
		free(shorter);
	}

	/* The signature value. */
	t = strdup(text);
	{
		char *sig = strstr(t, "\"sig\":\"") + 7;
		*sig = *sig == 'A' ? 'B' : 'A';
	}
	TAP_INT_EQ(parse_rc(t, len, err, sizeof(err)), 0, "a changed signature still parses");
	hsm_licence_parse(t, len, &lic, err, sizeof(err));
	TAP_INT_EQ(lic ? hsm_licence_verify(lic, trusted, 1, err, sizeof(err)) : -99,
		   HSM_LICENCE_TAMPERED, "changed signature: tampered");
	hsm_licence_free(lic);
	lic = NULL;
	free(t);

	/* Non-canonical JSON (re-saved by an editor). */
	{
		char *sp = NULL;
		const char *b = strstr(text, "{\"body\":{");
		if (asprintf(&sp, "%.*s{ %s", (int)(b - text), text, b + 1) < 0)
			bail("asprintf", "");
		TAP_INT_EQ(parse_rc(sp, strlen(sp), err, sizeof(err)), HSM_LICENCE_TAMPERED,
			   "white space in the signed part: tampered");
		free(sp);
	}
	free(text);
}

static void test_versions_and_bodies(void)
{
	char err[512], *f;
	json_t *b;

	b = good_body();
	json_object_set_new(b, "version", json_integer(2));
	json_object_set_new(b, "new_field", json_string("x"));
	f = raw_file(b, vendor);
	TAP_INT_EQ(parse_rc(f, strlen(f), err, sizeof(err)), HSM_LICENCE_UNKNOWN_VERSION,
		   "format version 2 (with its own fields): unknown version");
	tap_ok(strstr(err, "version 2") != NULL, "names it: %s", err);
	free(f);
	json_decref(b);

	static const struct {
		const char *key;
		json_t *(*val)(void);
		const char *want;
	} edits[] = {
		{ "max_active_vcms", NULL, "missing field 'max_active_vcms'" },
		{ "format", NULL, "missing field 'format'" },
		{ "version", NULL, "missing field 'version'" },
		{ "serial", NULL, "missing field 'serial'" },
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		b = good_body();
		json_object_del(b, edits[i].key);
		f = raw_file(b, vendor);
		tap_ok(parse_rc(f, strlen(f), err, sizeof(err)) == HSM_LICENCE_MALFORMED &&
			   strstr(err, edits[i].want),
		       "without %s: malformed: %s", edits[i].key, err);
		free(f);
		json_decref(b);
	}
	static const struct {
		const char *key, *json, *want;
	} vals[] = {
		{ "max_active_vcms", "0", "1 to 1000" },
		{ "max_active_vcms", "1001", "1 to 1000" },
		{ "max_active_vcms", "\"8\"", "must be an integer" },
		{ "max_active_vcms", "8.0", "must be an integer" },
		{ "features", "4294967296", "0 to 4294967295" },
		{ "features", "-1", "0 to 4294967295" },
		{ "features", "32768", "speed bits" },
		{ "features", "131072", "unknown feature bits" },
		{ "speed_upgrade", "\"base\"", "'mid' or 'high'" },
		{ "speed_upgrade", "null", "must be a string" },
		{ "type", "\"single\"", "unknown licence type" },
		{ "esn", "\"1a23-bc45-6789\"", "upper-case ESN" },
		{ "esn", "\"1A23-BC45-6789\\n\"", "upper-case ESN" },
		{ "serial", "0", "1 to" },
		{ "issued", "0", "1 to" },
		{ "format", "\"hsmadmin-vcm-request\"", "not a licence" },
		{ "extra", "1", "unknown field 'extra'" },
	};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		json_error_t je;
		b = good_body();
		json_object_set_new(b, vals[i].key, json_loads(vals[i].json, JSON_DECODE_ANY, &je));
		f = raw_file(b, vendor);
		tap_ok(parse_rc(f, strlen(f), err, sizeof(err)) == HSM_LICENCE_MALFORMED &&
			   strstr(err, vals[i].want) && !strchr(err, '\n'),
		       "%s = %s: malformed: %s", vals[i].key, vals[i].json, err);
		free(f);
		json_decref(b);
	}
}

static void test_hostile_files(void)
{
	char err[512], *text, *t, *big;
	size_t len;

	text = issue(base(), vendor, &len);

	for (size_t cut = 0; cut < len; cut += 37) {
		int rc = parse_rc(text, cut, err, sizeof(err));
		if (rc == 0 || rc == 99 || !err[0] || strchr(err, '\n')) {
			tap_ok(0, "truncated at %zu refused (rc %d)", cut, rc);
			goto truncated_done;
		}
	}
	tap_ok(1, "every truncation is refused with a one-line reason");
truncated_done:
	TAP_INT_EQ(parse_rc(text, len - 1, err, sizeof(err)), HSM_LICENCE_MALFORMED,
		   "missing final newline: malformed");

	big = malloc(HSM_LICENCE_MAX_BYTES + 2);
	memset(big, '#', HSM_LICENCE_MAX_BYTES + 1);
	TAP_INT_EQ(parse_rc(big, HSM_LICENCE_MAX_BYTES + 1, err, sizeof(err)),
		   HSM_LICENCE_MALFORMED, "65537 bytes: malformed");
	tap_ok(strstr(err, "too large") != NULL, "says too large: %s", err);
	free(big);

	t = strdup(text);
	t[3] = (char)0xFF;
	TAP_INT_EQ(parse_rc(t, len, err, sizeof(err)), HSM_LICENCE_MALFORMED,
		   "non-UTF-8: malformed");
	tap_ok(strstr(err, "not UTF-8") != NULL, "says so: %s", err);
	t[3] = (char)0xC0; /* overlong */
	t[4] = (char)0xAF;
	TAP_INT_EQ(parse_rc(t, len, err, sizeof(err)), HSM_LICENCE_MALFORMED,
		   "overlong UTF-8: malformed");
	t[3] = '\0';
	TAP_INT_EQ(parse_rc(t, len, err, sizeof(err)), HSM_LICENCE_MALFORMED,
		   "NUL byte: malformed");
	free(t);

	TAP_INT_EQ(edited_rc(text, len, "-----BEGIN", "-----BEGIM", err, sizeof(err)),
		   HSM_LICENCE_MALFORMED, "missing BEGIN: malformed");
	tap_ok(strstr(err, "BEGIN HSMADMIN LICENCE") != NULL, "names the line: %s", err);
	TAP_INT_EQ(edited_rc(text, len, "-----END", "-----EN_", err, sizeof(err)),
		   HSM_LICENCE_MALFORMED, "missing END: malformed");
	{
		char *more;
		if (asprintf(&more, "%sjunk\n", text) < 0)
			bail("asprintf", "");
		TAP_INT_EQ(parse_rc(more, strlen(more), err, sizeof(err)), HSM_LICENCE_MALFORMED,
			   "data after END: malformed");
		free(more);
	}
	{
		/* CRLF line ends: the BEGIN line is not found as such. */
		char *crlf = malloc(2 * len + 1), *o = crlf;
		for (size_t i = 0; i < len; i++) {
			if (text[i] == '\n')
				*o++ = '\r';
			*o++ = text[i];
		}
		TAP_INT_EQ(parse_rc(crlf, (size_t)(o - crlf), err, sizeof(err)),
			   HSM_LICENCE_MALFORMED, "CRLF line ends: malformed");
		free(crlf);
	}
	{
		/* Duplicate keys: {"body":{"esn":..,"esn":..}} */
		char *dup = NULL;
		const char *b = strstr(text, "{\"body\":{") + 9;
		if (asprintf(&dup, "%.*s\"esn\":\"0000-0000-0000\",%s", (int)(b - text), text, b) <
		    0)
			bail("asprintf", "");
		TAP_INT_EQ(parse_rc(dup, strlen(dup), err, sizeof(err)), HSM_LICENCE_MALFORMED,
			   "duplicate key: malformed");
		tap_ok(strstr(err, "duplicate") != NULL, "says duplicate: %s", err);
		free(dup);
	}
	TAP_INT_EQ(parse_rc("", 0, err, sizeof(err)), HSM_LICENCE_MALFORMED, "empty: malformed");
	{
		const char *arr =
		    "-----BEGIN HSMADMIN LICENCE-----\n[1]\n-----END HSMADMIN LICENCE-----\n";
		TAP_INT_EQ(parse_rc(arr, strlen(arr), err, sizeof(err)), HSM_LICENCE_MALFORMED,
			   "an array inside: malformed");
		char nest[2001], *deep;
		memset(nest, '[', 1000);
		memset(nest + 1000, ']', 1000);
		nest[2000] = '\0';
		if (asprintf(
			&deep,
			"-----BEGIN HSMADMIN LICENCE-----\n%s\n-----END HSMADMIN LICENCE-----\n",
			nest) < 0)
			bail("asprintf", "");
		TAP_INT_EQ(parse_rc(deep, strlen(deep), err, sizeof(err)), HSM_LICENCE_MALFORMED,
			   "1000-deep nesting: malformed");
		free(deep);
	}
	free(text);
}

static void test_files(void)
{
	char dir[] = "/tmp/test-licence.XXXXXX", path[256], err[512], *text, *pem;
	struct hsm_licence *lic = NULL;
	EVP_PKEY **keys = NULL;
	size_t len, n = 0;

	if (!mkdtemp(dir))
		bail("mkdtemp", dir);
	text = issue(base(), vendor, &len);
	snprintf(path, sizeof(path), "%s/l.lic", dir);
	if (hsm_write_file_atomic(path, text, len, 0644, err, sizeof(err)) != 0)
		bail("write", err);
	TAP_INT_EQ(hsm_licence_load_file(path, &lic, err, sizeof(err)), 0, "loads from a file");
	hsm_licence_free(lic);
	lic = NULL;
	snprintf(path, sizeof(path), "%s/none.lic", dir);
	TAP_INT_EQ(hsm_licence_load_file(path, &lic, err, sizeof(err)), HSM_LICENCE_MALFORMED,
		   "a missing file: malformed, named");
	free(text);

	/* vendor.d */
	snprintf(path, sizeof(path), "%s/vendor.d", dir);
	TAP_INT_EQ(hsm_vendor_keys_load(path, &keys, &n, err, sizeof(err)), 0,
		   "no vendor.d: no keys");
	TAP_INT_EQ(n, 0, "zero keys");
	hsm_vendor_keys_free(keys, n);
	mkdir(path, 0755);
	pem = hsm_key_public_pem(vendor);
	snprintf(path, sizeof(path), "%s/vendor.d/b.pem", dir);
	hsm_write_file_atomic(path, pem, strlen(pem), 0644, err, sizeof(err));
	free(pem);
	pem = hsm_key_public_pem(other);
	snprintf(path, sizeof(path), "%s/vendor.d/a.pem", dir);
	hsm_write_file_atomic(path, pem, strlen(pem), 0644, err, sizeof(err));
	free(pem);
	snprintf(path, sizeof(path), "%s/vendor.d/README", dir);
	hsm_write_file_atomic(path, "not a key\n", 10, 0644, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/vendor.d", dir);
	TAP_INT_EQ(hsm_vendor_keys_load(path, &keys, &n, err, sizeof(err)), 0,
		   "vendor.d with two keys loads");
	TAP_INT_EQ(n, 2, "two keys; other files ignored");
	text = issue(base(), vendor, &len);
	hsm_licence_parse(text, len, &lic, err, sizeof(err));
	TAP_INT_EQ(lic ? hsm_licence_verify(lic, keys, n, err, sizeof(err)) : -99, 0,
		   "a licence verifies against vendor.d");
	hsm_licence_free(lic);
	free(text);
	hsm_vendor_keys_free(keys, n);
	snprintf(path, sizeof(path), "%s/vendor.d/c.pem", dir);
	hsm_write_file_atomic(path, "garbage\n", 8, 0644, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/vendor.d", dir);
	tap_ok(hsm_vendor_keys_load(path, &keys, &n, err, sizeof(err)) == -1 &&
		   strstr(err, "c.pem"),
	       "a bad key file is an error naming it: %s", err);

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	char err[256];

	vendor = hsm_ed25519_generate(err, sizeof(err));
	other = hsm_ed25519_generate(err, sizeof(err));
	if (!vendor || !other)
		bail("keygen", err);
	test_roundtrip();
	test_sign_refuses();
	test_tampering();
	test_versions_and_bodies();
	test_hostile_files();
	test_files();
	EVP_PKEY_free(vendor);
	EVP_PKEY_free(other);
	return tap_done();
}
