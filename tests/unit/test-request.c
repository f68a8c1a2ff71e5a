/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-request.c - tenant request files: build and verify each type, catch
 * every one-byte change, check validity windows, and refuse hostile files
 * with one clear line each.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include "request.h"
#include "sign.h"
#include "tap.h"

#define NOW 1700000000LL

static EVP_PKEY *tenant_key, *sshadmin_key, *other_key;

static EVP_PKEY *genkey(void)
{
	char err[256];
	EVP_PKEY *k = hsm_ed25519_generate(err, sizeof(err));

	if (!k) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	return k;
}

/* A signed request file of the given type, or bail out. */
static char *make(enum hsm_request_type type, int64_t validity, size_t *len)
{
	char err[256], *out = NULL;
	struct hsm_request *req = hsm_request_new(type, NOW, err, sizeof(err));

	if (!req)
		goto fail;
	if (validity && hsm_request_set_validity(req, validity, err, sizeof(err)) != 0)
		goto fail;
	switch (type) {
	case HSM_REQUEST_CREATE:
		req->props.present = HSM_REQP_AUTOSTART | HSM_REQP_RESTRICT_STARTUP |
				     HSM_REQP_SERIAL_CARDREADER | HSM_REQP_FEATURES | HSM_REQP_NAME;
		req->props.autostart = 1;
		req->props.features = 0x9A37;
		snprintf(req->props.name, sizeof(req->props.name), "tenant-1 vcm");
		if (hsm_request_set_sshadmin_key(req, sshadmin_key, err, sizeof(err)) != 0)
			goto fail;
		break;
	case HSM_REQUEST_SETPROPERTIES:
		req->props.present = HSM_REQP_RESTRICT_STARTUP | HSM_REQP_FEATURES;
		req->props.restrict_startup = 1;
		req->props.features = 0x10;
		/* fall through */
	case HSM_REQUEST_START:
		if (hsm_request_set_uuid(req, "4F9D05B8-95f4-41ab-8b0a-0c9c7ce14209", err,
					 sizeof(err)) != 0)
			goto fail;
		break;
	}
	if (hsm_request_sign(req, tenant_key, &out, len, err, sizeof(err)) != 0)
		goto fail;
	hsm_request_free(req);
	return out;
fail:
	printf("Bail out! building a %s request: %s\n", hsm_request_type_name(type), err);
	exit(1);
}

static int one_line(const char *s)
{
	return s[0] != '\0' && strchr(s, '\n') == NULL;
}

/* Parse must fail with a one-line reason containing want. */
static void parse_fails(const void *data, size_t len, const char *want, const char *name)
{
	char err[512] = "";
	struct hsm_request *req = (struct hsm_request *)1;
	int rc = hsm_request_parse(data, len, &req, err, sizeof(err));
	int ok = rc != 0 && req == NULL && one_line(err) && strstr(err, want);

	tap_ok(ok, "%s", name);
	if (!ok)
		printf("#   rc=%d err='%s' (want '%s')\n", rc, err, want);
	if (rc == 0)
		hsm_request_free(req);
}

static json_t *load_env(const char *file, size_t len)
{
	char err[256];
	json_t *j = hsm_json_parse(file, len, 0, err, sizeof(err));

	if (!j) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	return j;
}

/* Canonical file bytes of an envelope (possibly tampered with). */
static char *dump(const json_t *env, size_t *len)
{
	size_t n;
	char *c = hsm_json_canonical(env, &n), *out = malloc(n + 2);

	memcpy(out, c, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	free(c);
	return out;
}

/* Re-sign the (possibly edited) body of env with key. */
static char *resign(json_t *env, EVP_PKEY *key, size_t *len)
{
	char err[256];
	json_t *w = hsm_signed_wrap(json_object_get(env, "body"), key, err, sizeof(err));
	char *out = dump(w, len);

	json_decref(w);
	return out;
}

/* One hostile edit of a valid file's body, re-signed with the tenant key:
 * the parser must then refuse it with a line containing want.  The edit
 * sets the member at path (a body member, or "properties.NAME") to the JSON
 * text value, deletes it when value is NULL, or is done by fn when the new
 * value is made from the keys of the test. */
typedef void (*edit_fn)(json_t *body);
struct body_edit {
	const char *path, *value;
	edit_fn fn;
	const char *want, *name;
};

static void edit_member(json_t *body, const char *path, const char *value)
{
	const char *dot = strchr(path, '.');
	json_t *obj = dot ? json_object_get(body, "properties") : body;
	const char *key = dot ? dot + 1 : path;
	json_t *v;

	if (!value) {
		json_object_del(obj, key);
		return;
	}
	v = json_loads(value, JSON_DECODE_ANY, NULL);
	if (!v) {
		printf("Bail out! bad edit value %s\n", value);
		exit(1);
	}
	json_object_set_new(obj, key, v);
}

static void body_edits_fail(const char *file, size_t len, const struct body_edit *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *env = load_env(file, len);
		json_t *body = json_object_get(env, "body");
		size_t blen;
		char *bad;

		if (e[i].fn)
			e[i].fn(body);
		else
			edit_member(body, e[i].path, e[i].value);
		bad = resign(env, tenant_key, &blen);
		parse_fails(bad, blen, e[i].want, e[i].name);
		free(bad);
		json_decref(env);
	}
}
#define BODY_EDITS_FAIL(file, len, edits)                                                          \
	body_edits_fail(file, len, edits, sizeof(edits) / sizeof(edits[0]))

static void e_key_comment(json_t *b)
{
	char line[256];
	snprintf(line, sizeof(line), "%s tenant@host",
		 json_string_value(json_object_get(b, "sshadmin_key")));
	json_object_set_new(b, "sshadmin_key", json_string(line));
}

/* A create request: every field checked (not_after: NOW - 1 and NOW plus two
 * years). */
static const struct body_edit create_edits[] = {
	{ "version", "2", NULL, "unsupported request format version 2",
	  "format version 2 refused" },
	{ "version", "\"1\"", NULL, "'version' must be an integer, not a string",
	  "version as a string" },
	{ "format", "\"hsmadmin-licence\"", NULL, "not a VCM request", "another format refused" },
	{ "nonce", NULL, NULL, "missing field 'nonce'", "missing nonce" },
	{ "issued", NULL, NULL, "missing field 'issued'", "missing issued" },
	{ "type", NULL, NULL, "missing field 'type'", "missing type" },
	{ "properties", NULL, NULL, "missing field 'properties'", "create without properties" },
	{ "sshadmin_key", NULL, NULL, "missing field 'sshadmin_key'",
	  "create without sshadmin key" },
	{ "issued", "\"1700000000\"", NULL, "'issued' must be an integer, not a string",
	  "issued as a string" },
	{ "issued", "1.7e9", NULL, "'issued' must be an integer, not a number",
	  "issued as a real" },
	{ "issued", "-5", NULL, "'issued' is out of range", "negative issued" },
	{ "type", "\"erase\"", NULL, "unknown request type 'erase'", "unknown type" },
	{ "nonce", "\"abcd\"", NULL, "'nonce' must be 32 lower-case hex", "short nonce" },
	{ "nonce", "\"ABCDEF0123456789ABCDEF0123456789\"", NULL,
	  "'nonce' must be 32 lower-case hex", "upper-case nonce" },
	{ "erase_everything", "true", NULL, "unknown field 'erase_everything'",
	  "unknown body field" },
	{ "properties", "[]", NULL, "'properties' must be an object, not an array",
	  "properties as array" },
	{ "properties.autostart", "\"true\"", NULL,
	  "'properties.autostart' must be a boolean, not a string", "autostart as string" },
	{ "properties.autostart", NULL, NULL, "missing field 'properties.autostart'",
	  "create must say autostart" },
	{ "properties.features", "4294967296", NULL, "32-bit word", "features above 32 bits" },
	{ "properties.features", "-1", NULL, "32-bit word", "negative features" },
	{ "properties.name", "\"a\\u001b[2Jb\"", NULL, "'properties.name'",
	  "name with escape sequence" },
	{ "properties.ip_address", "\"10.0.0.1\"", NULL, "unknown field 'properties.ip_address'",
	  "unknown property" },
	{ "properties.restrict_startup", "true", NULL, "cannot both be true",
	  "autostart and restrict_startup both true" },
	{ "uuid", "\"4f9d05b8-95f4-41ab-8b0a-0c9c7ce14209\"", NULL, "must not name a VCM uuid",
	  "uuid in create" },
	{ NULL, NULL, e_key_comment, "without a comment", "key line with comment" },
	{ "sshadmin_key", "\"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ\"", NULL, "not an ssh-ed25519",
	  "RSA key refused" },
	{ "not_after", "1699999999", NULL, "'not_after' must be 1 to", "not_after before issued" },
	{ "not_after", "1763072000", NULL, "'not_after' must be 1 to",
	  "not_after over a year away" },
};

static const struct body_edit start_edits[] = {
	{ "properties", "{\"autostart\":true}", NULL, "start request carries no properties",
	  "start with a property" },
	{ "request_key", "\"ssh-ed25519 AAAA\"", NULL, "only a create request carries keys",
	  "start with a key" },
	{ "uuid", "\"4F9D05B8-95F4-41AB-8B0A-0C9C7CE14209\"", NULL, "lower-case UUID",
	  "upper-case uuid in file" },
	{ "uuid", "\"not-a-uuid\"", NULL, "lower-case UUID", "malformed uuid" },
};

static const struct body_edit setproperties_edits[] = {
	{ "properties", "{}", NULL, "at least one property", "setproperties changing nothing" },
};

static void verify_fails(const struct hsm_request *req, EVP_PKEY *key, const char *want,
			 const char *name)
{
	char err[512] = "";
	int rc = hsm_request_verify(req, key, err, sizeof(err));
	int ok = rc != 0 && one_line(err) && strstr(err, want);

	tap_ok(ok, "%s", name);
	if (!ok)
		printf("#   rc=%d err='%s' (want '%s')\n", rc, err, want);
}

/* Every one-byte change (three bit flips and a deletion per position) is
 * caught by the parser or by the signature, for a request of this type. */
static void every_byte(const char *file, size_t len, EVP_PKEY *key, const char *what)
{
	static const uint8_t flips[] = { 0x01, 0x20, 0x80 };
	char *copy = malloc(len);
	size_t accepted = 0, tried = 0, by_sig = 0, first_bad = (size_t)-1;
	char err[512];

	for (size_t i = 0; i < len; i++) {
		for (size_t f = 0; f <= sizeof(flips); f++) {
			struct hsm_request *req;
			size_t n = len;
			memcpy(copy, file, len);
			if (f < sizeof(flips)) {
				copy[i] ^= (char)flips[f];
			} else {
				memmove(copy + i, copy + i + 1, len - i - 1);
				n--;
			}
			tried++;
			if (hsm_request_parse(copy, n, &req, err, sizeof(err)) != 0)
				continue;
			if (hsm_request_verify(req, key, err, sizeof(err)) != 0)
				by_sig++;
			else if (accepted++ == 0)
				first_bad = i;
			hsm_request_free(req);
		}
	}
	tap_ok(accepted == 0, "%s: all %zu one-byte changes refused (%zu by the signature)", what,
	       tried, by_sig);
	if (accepted)
		printf("#   %zu accepted, first at byte %zu\n", accepted, first_bad);
	tap_ok(by_sig > 0, "%s: some changes reach the signature check", what);
	free(copy);
}

static void test_create(void)
{
	char err[512], *fp1, *fp2;
	size_t len;
	char *file = make(HSM_REQUEST_CREATE, 3600, &len);
	struct hsm_request *req = NULL;

	tap_ok(len < 2048 && file[len - 1] == '\n' && !memchr(file, '\n', len - 1),
	       "create request is one canonical line of %zu bytes", len);
	tap_ok(hsm_request_parse(file, len, &req, err, sizeof(err)) == 0, "create request parses");
	if (!req) {
		printf("#   %s\n", err);
		exit(1);
	}
	TAP_INT_EQ(req->type, HSM_REQUEST_CREATE, "type create");
	TAP_INT_EQ(req->version, HSM_REQUEST_VERSION, "format version");
	TAP_INT_EQ(strlen(req->nonce), 32, "nonce is 128 bits of hex");
	TAP_INT_EQ(req->issued, NOW, "issued");
	TAP_INT_EQ(req->has_not_after && req->not_after == NOW + 3600, 1,
		   "not_after = issued + validity");
	TAP_STR_EQ(req->uuid, "", "create names no uuid");
	TAP_INT_EQ(req->props.present, 0x1f, "all given properties present");
	TAP_INT_EQ(req->props.autostart, 1, "autostart true");
	TAP_INT_EQ(req->props.restrict_startup, 0, "restrict_startup false");
	TAP_INT_EQ(req->props.features, 0x9A37, "features word");
	TAP_STR_EQ(req->props.name, "tenant-1 vcm", "name");
	fp1 = hsm_key_fingerprint(req->sshadmin_key);
	fp2 = hsm_key_fingerprint(sshadmin_key);
	TAP_STR_EQ(fp1, fp2, "sshadmin key carried");
	free(fp1);
	free(fp2);
	tap_ok(EVP_PKEY_eq(req->request_key, tenant_key) == 1,
	       "request key is the signing key's public half");
	tap_ok(hsm_request_verify(req, NULL, err, sizeof(err)) == 0,
	       "create verifies with its embedded key");
	tap_ok(hsm_request_verify(req, tenant_key, err, sizeof(err)) == 0,
	       "create verifies with the right given key");
	verify_fails(req, other_key, "not the given key", "create with another given key fails");
	hsm_request_free(req);

	/* Two requests never share a nonce. */
	size_t len2;
	char *file2 = make(HSM_REQUEST_CREATE, 0, &len2);
	struct hsm_request *r2;
	hsm_request_parse(file, len, &req, err, sizeof(err));
	hsm_request_parse(file2, len2, &r2, err, sizeof(err));
	tap_ok(req && r2 && strcmp(req->nonce, r2->nonce) != 0, "fresh nonce per request");
	tap_ok(r2 && !r2->has_not_after, "no validity given: no not_after");
	hsm_request_free(req);
	hsm_request_free(r2);
	free(file2);

	every_byte(file, len, NULL, "create");

	/* Signature by another key, or a swapped signature, fails. */
	json_t *env = load_env(file, len);
	size_t n;
	char *bad = resign(env, other_key, &n); /* signature.key = other key */
	hsm_request_parse(bad, n, &req, err, sizeof(err));
	tap_ok(req != NULL, "request signed by a stranger still parses");
	if (req)
		verify_fails(req, NULL, "not by its own request key",
			     "create signed by a key other than its request key fails");
	hsm_request_free(req);
	free(bad);

	json_t *w = hsm_signed_wrap(json_object_get(env, "body"), other_key, err, sizeof(err));
	json_object_set(json_object_get(w, "signature"), "key",
			json_object_get(json_object_get(env, "signature"), "key"));
	bad = dump(w, &n);
	hsm_request_parse(bad, n, &req, err, sizeof(err));
	if (req)
		verify_fails(req, NULL, "signature verification failed",
			     "wrong signature over the right key fails");
	else
		tap_ok(0, "wrong-signature file parses: %s", err);
	hsm_request_free(req);
	free(bad);
	json_decref(w);

	/* A legitimately re-signed body verifies: the checks above are not
	 * failing for everything. */
	bad = resign(env, tenant_key, &n);
	tap_ok(hsm_request_parse(bad, n, &req, err, sizeof(err)) == 0 &&
		   hsm_request_verify(req, NULL, err, sizeof(err)) == 0,
	       "re-signed by the right key verifies");
	hsm_request_free(req);
	free(bad);

	/* Hostile bodies, each signed properly: the parser names the field. */
	BODY_EDITS_FAIL(file, len, create_edits);

	/* The envelope itself. */
	json_t *e2 = json_deep_copy(env);
	json_object_set_new(json_object_get(e2, "signature"), "alg", json_string("rsa"));
	bad = dump(e2, &n);
	parse_fails(bad, n, "unsupported signature algorithm 'rsa'",
		    "signature algorithm other than ed25519");
	free(bad);
	json_object_set_new(json_object_get(e2, "signature"), "alg", json_string("ed25519"));
	json_object_set_new(json_object_get(e2, "signature"), "sig", json_string("AAAA"));
	bad = dump(e2, &n);
	parse_fails(bad, n, "'signature.sig' is not a base64 Ed25519 signature", "short signature");
	free(bad);
	json_object_del(e2, "signature");
	bad = dump(e2, &n);
	parse_fails(bad, n, "missing field 'signature'", "unsigned request");
	free(bad);
	json_object_set_new(e2, "signature", json_string("x"));
	bad = dump(e2, &n);
	parse_fails(bad, n, "'signature' must be an object, not a string", "signature as string");
	free(bad);
	json_decref(e2);

	/* Bytes that are not canonical. */
	char *pretty = json_dumps(env, JSON_INDENT(2) | JSON_SORT_KEYS);
	parse_fails(pretty, strlen(pretty), "not in canonical form",
		    "pretty-printed request refused");
	free(pretty);
	parse_fails(file, len - 1, "not in canonical form", "missing final newline refused");
	char *extra = malloc(len + 1);
	memcpy(extra, file, len);
	extra[len] = '\n';
	parse_fails(extra, len + 1, "not in canonical form", "extra newline refused");
	free(extra);

	/* Truncated at every length. */
	size_t trunc_ok = 0;
	for (size_t cut = 0; cut < len - 1; cut++) {
		struct hsm_request *r;
		if (hsm_request_parse(file, cut, &r, err, sizeof(err)) == 0) {
			trunc_ok++;
			hsm_request_free(r);
		} else if (!one_line(err)) {
			trunc_ok++;
		}
	}
	tap_ok(trunc_ok == 0, "every truncation refused with one line");
	parse_fails(file, len / 2, "invalid JSON", "truncated request says invalid JSON");

	json_decref(env);
	free(file);
}

static void test_start_and_setproperties(void)
{
	char err[512];
	size_t len;
	struct hsm_request *req = NULL;
	char *file = make(HSM_REQUEST_START, 60, &len);

	tap_ok(hsm_request_parse(file, len, &req, err, sizeof(err)) == 0, "start request parses");
	TAP_INT_EQ(req->type, HSM_REQUEST_START, "type start");
	TAP_STR_EQ(req->uuid, "4f9d05b8-95f4-41ab-8b0a-0c9c7ce14209", "uuid stored in lower case");
	TAP_INT_EQ(req->props.present, 0, "start carries no properties");
	tap_ok(req->request_key == NULL && req->sshadmin_key == NULL, "start carries no keys");
	tap_ok(hsm_request_verify(req, tenant_key, err, sizeof(err)) == 0,
	       "start verifies with the tenant key");
	verify_fails(req, NULL, "none was given", "start needs a key to verify");
	verify_fails(req, other_key, "not by the given key", "start with another key fails");
	hsm_request_free(req);
	every_byte(file, len, tenant_key, "start");

	json_t *env = load_env(file, len);
	size_t n;
	char *bad;
	json_object_set_new(json_object_get(env, "body"), "properties", json_object());
	bad = resign(env, tenant_key, &n);
	parse_fails(bad, n, "start request carries no properties", "start with properties");
	free(bad);
	json_decref(env);
	BODY_EDITS_FAIL(file, len, start_edits);
	free(file);

	file = make(HSM_REQUEST_SETPROPERTIES, 0, &len);
	tap_ok(hsm_request_parse(file, len, &req, err, sizeof(err)) == 0,
	       "setproperties request parses");
	TAP_INT_EQ(req->type, HSM_REQUEST_SETPROPERTIES, "type setproperties");
	TAP_INT_EQ(req->props.present, HSM_REQP_RESTRICT_STARTUP | HSM_REQP_FEATURES,
		   "only the given properties are carried");
	TAP_INT_EQ(req->props.restrict_startup, 1, "restrict_startup value");
	TAP_INT_EQ(req->props.features, 0x10, "features value");
	tap_ok(hsm_request_verify(req, tenant_key, err, sizeof(err)) == 0,
	       "setproperties verifies");
	verify_fails(req, other_key, "not by the given key",
		     "setproperties with another key fails");
	hsm_request_free(req);
	every_byte(file, len, tenant_key, "setproperties");
	BODY_EDITS_FAIL(file, len, setproperties_edits);
	free(file);

	/* The builder enforces the same rules as the parser. */
	struct hsm_request *b = hsm_request_new(HSM_REQUEST_SETPROPERTIES, NOW, err, sizeof(err));
	char *out = NULL;
	tap_ok(hsm_request_sign(b, tenant_key, &out, &n, err, sizeof(err)) != 0 &&
		   strstr(err, "at least one property"),
	       "builder refuses an empty setproperties");
	free(out);
	b->props.present = HSM_REQP_AUTOSTART | HSM_REQP_RESTRICT_STARTUP;
	b->props.autostart = b->props.restrict_startup = 1;
	tap_ok(hsm_request_sign(b, tenant_key, &out, &n, err, sizeof(err)) != 0 &&
		   strstr(err, "cannot both be true"),
	       "builder refuses autostart with restrict_startup");
	free(out);
	tap_ok(hsm_request_set_sshadmin_key(b, sshadmin_key, err, sizeof(err)) != 0,
	       "only create takes an sshadmin key");
	tap_ok(hsm_request_set_validity(b, 0, err, sizeof(err)) != 0 &&
		   hsm_request_set_validity(b, 31536001, err, sizeof(err)) != 0 &&
		   hsm_request_set_validity(b, 31536000, err, sizeof(err)) == 0,
	       "validity range 1..31536000");
	tap_ok(
	    hsm_request_set_uuid(b, "4f9d05b8-95f4-41ab-8b0a-0c9c7ce1420", err, sizeof(err)) != 0 &&
		hsm_request_set_uuid(b, "4f9d05b8x95f4-41ab-8b0a-0c9c7ce14209", err, sizeof(err)) !=
		    0 &&
		hsm_request_set_uuid(b, "4f9d05b8-95f4-41ab-8b0a-0c9c7ce1420g", err, sizeof(err)) !=
		    0,
	    "malformed UUIDs refused");
	hsm_request_free(b);
	tap_ok(hsm_request_check_name("My_new_VCM1", err, sizeof(err)) == 0 &&
		   hsm_request_check_name("", err, sizeof(err)) != 0 &&
		   hsm_request_check_name(" lead", err, sizeof(err)) != 0 &&
		   hsm_request_check_name("semi;colon", err, sizeof(err)) != 0 &&
		   hsm_request_check_name(
		       "0123456789012345678901234567890123456789012345678901234567890123", err,
		       sizeof(err)) == 0 &&
		   hsm_request_check_name(
		       "01234567890123456789012345678901234567890123456789012345678901234", err,
		       sizeof(err)) != 0,
	       "name rules: 1..64 of letters, digits, _ . - and inner spaces");
	tap_ok(hsm_request_new(HSM_REQUEST_START, 0, err, sizeof(err)) == NULL,
	       "unset clock refused");
}

/* k_tenant_req (guide 3.1.2.3.7): edits of a valid rotation request. */
static char *line_of(EVP_PKEY *k)
{
	char *l = hsm_key_to_openssh(k);

	if (!l) {
		printf("Bail out! cannot write a key line\n");
		exit(1);
	}
	return l;
}
static void set_ktr(json_t *b, json_t *v)
{
	json_object_set_new(json_object_get(b, "properties"), "k_tenant_req", v);
}
static void e_ktr_signer(json_t *b)
{
	char *l = line_of(tenant_key);
	set_ktr(b, json_string(l));
	free(l);
}
static void e_ktr_comment(json_t *b)
{
	char *l = line_of(other_key), line[256];
	snprintf(line, sizeof(line), "%s tenant@host", l);
	set_ktr(b, json_string(line));
	free(l);
}
static void e_ktr_newline(json_t *b)
{
	char *l = line_of(other_key), line[256];
	snprintf(line, sizeof(line), "%s\n", l);
	set_ktr(b, json_string(line));
	free(l);
}
static void e_ktr_truncated(json_t *b)
{
	char *l = line_of(other_key);
	l[strlen(l) - 4] = '\0';
	set_ktr(b, json_string(l));
	free(l);
}
static void e_ktr_long(json_t *b)
{
	char *big = malloc(20000);
	memcpy(big, "ssh-ed25519 ", 12);
	memset(big + 12, 'A', 20000 - 13);
	big[19999] = '\0';
	set_ktr(b, json_string(big));
	free(big);
}
static void e_ktr_in_create(json_t *b)
{
	char *l = line_of(other_key);
	set_ktr(b, json_string(l));
	free(l);
}

/* Edits of a valid rotation request's properties.k_tenant_req. */
static const struct body_edit ktr_edits[] = {
	{ NULL, NULL, e_ktr_signer, "must differ from the current one",
	  "k_tenant_req equal to the signing key refused" },
	{ NULL, NULL, e_ktr_comment, "properties.k_tenant_req",
	  "k_tenant_req with a comment refused" },
	{ NULL, NULL, e_ktr_newline, "properties.k_tenant_req",
	  "k_tenant_req with a newline refused" },
	{ NULL, NULL, e_ktr_truncated, "properties.k_tenant_req",
	  "truncated k_tenant_req refused" },
	{ "properties.k_tenant_req", "\"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ\"", NULL,
	  "properties.k_tenant_req", "ssh-rsa k_tenant_req refused" },
	{ "properties.k_tenant_req", "1", NULL, "field 'properties.k_tenant_req' must be a string",
	  "integer k_tenant_req refused" },
	{ "properties.k_tenant_req", "null", NULL, "properties.k_tenant_req",
	  "null k_tenant_req refused" },
	{ "properties.k_tenant_req", "\"\"", NULL, "properties.k_tenant_req",
	  "empty k_tenant_req refused" },
	{ "properties.k_tenant_req", "\"ssh-ed25519 \\u001b[2J AAAA\"", NULL,
	  "properties.k_tenant_req", "k_tenant_req with control characters refused" },
	{ NULL, NULL, e_ktr_long, "properties.k_tenant_req", "20000-byte k_tenant_req refused" },
};
static const struct body_edit ktr_create_edits[] = {
	{ NULL, NULL, e_ktr_in_create, "only a setproperties request carries",
	  "create carrying k_tenant_req refused" },
};

static void test_k_tenant_req(void)
{
	char err[512], *out = NULL, *want = line_of(other_key), *got;
	struct hsm_request *b, *req;
	size_t len;

	b = hsm_request_new(HSM_REQUEST_SETPROPERTIES, NOW, err, sizeof(err));
	tap_ok(hsm_request_set_k_tenant_req(b, other_key, err, sizeof(err)) == 0,
	       "setproperties takes a new k_tenant_req");
	tap_ok(hsm_request_sign(b, tenant_key, &out, &len, err, sizeof(err)) == 0,
	       "rotation request signed by the current key");
	hsm_request_free(b);
	tap_ok(strstr(out, "\"k_tenant_req\":\"ssh-ed25519 ") != NULL,
	       "the file carries properties.k_tenant_req as a key line");
	tap_ok(hsm_request_parse(out, len, &req, err, sizeof(err)) == 0, "rotation request parses");
	if (!req) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	TAP_INT_EQ(req->props.present, HSM_REQP_K_TENANT_REQ, "only k_tenant_req is carried");
	got = line_of(req->props.k_tenant_req);
	TAP_STR_EQ(got, want, "the carried key is the new key");
	free(got);
	tap_ok(hsm_request_verify(req, tenant_key, err, sizeof(err)) == 0,
	       "verifies with the current key");
	verify_fails(req, other_key, "not by the given key",
		     "the new key cannot verify its own rotation");
	hsm_request_free(req);
	every_byte(out, len, tenant_key, "k_tenant_req rotation");

	BODY_EDITS_FAIL(out, len, ktr_edits);
	free(out);

	out = make(HSM_REQUEST_CREATE, 0, &len);
	BODY_EDITS_FAIL(out, len, ktr_create_edits);
	free(out);

	/* The builder: the same rules, before anything is written. */
	b = hsm_request_new(HSM_REQUEST_SETPROPERTIES, NOW, err, sizeof(err));
	hsm_request_set_k_tenant_req(b, tenant_key, err, sizeof(err));
	out = NULL;
	tap_ok(hsm_request_sign(b, tenant_key, &out, &len, err, sizeof(err)) != 0 && out == NULL &&
		   strstr(err, "must differ"),
	       "builder refuses a rotation to the signing key");
	hsm_request_free(b);
	b = hsm_request_new(HSM_REQUEST_START, NOW, err, sizeof(err));
	tap_ok(hsm_request_set_k_tenant_req(b, other_key, err, sizeof(err)) != 0 &&
		   strstr(err, "only a setproperties request"),
	       "a start request takes no k_tenant_req");
	hsm_request_free(b);
	free(want);
}

static void test_time(void)
{
	char err[512];
	size_t len;
	char *file = make(HSM_REQUEST_START, 600, &len);
	struct hsm_request *req;

	hsm_request_parse(file, len, &req, err, sizeof(err));
	TAP_INT_EQ(hsm_request_check_time(req, NOW, 300, err, sizeof(err)), HSM_REQUEST_TIME_OK,
		   "valid at issue time");
	TAP_INT_EQ(hsm_request_check_time(req, NOW + 600, 300, err, sizeof(err)),
		   HSM_REQUEST_TIME_OK, "valid at not_after");
	TAP_INT_EQ(hsm_request_check_time(req, NOW + 601, 300, err, sizeof(err)),
		   HSM_REQUEST_TIME_EXPIRED, "expired one second later");
	tap_ok(strstr(err, "expired at 2023-11-14T22:23:20Z (1 s ago)") != NULL,
	       "expiry message names the time");
	TAP_INT_EQ(hsm_request_check_time(req, NOW - 300, 300, err, sizeof(err)),
		   HSM_REQUEST_TIME_OK, "skew tolerated");
	TAP_INT_EQ(hsm_request_check_time(req, NOW - 301, 300, err, sizeof(err)),
		   HSM_REQUEST_TIME_NOT_YET, "beyond skew: not yet valid");
	tap_ok(strstr(err, "in the future") != NULL, "not-yet message");
	hsm_request_free(req);
	free(file);

	file = make(HSM_REQUEST_START, 0, &len);
	hsm_request_parse(file, len, &req, err, sizeof(err));
	TAP_INT_EQ(hsm_request_check_time(req, NOW + 10LL * 31536000, 0, err, sizeof(err)),
		   HSM_REQUEST_TIME_OK, "without not_after a request does not expire");
	hsm_request_free(req);
	free(file);
}

static void test_hostile_bytes(void)
{
	char *big;
	size_t n;

	parse_fails("", 0, "empty", "empty file");
	parse_fails("{\"body\":{},\"body\":{}}\n", 22, "duplicate", "duplicate keys refused");
	parse_fails("{\"body\":{\"format\":\"a\xff\"}}\n", 25, "invalid JSON", "non-UTF-8 refused");
	parse_fails("[1]\n", 4, "a request is a JSON object, not an array",
		    "array instead of object");
	parse_fails("{\"a\":1}\x00\n", 9, "NUL", "NUL byte refused");
	parse_fails("{\"body\":{}}\n{}\n", 15, "invalid JSON", "two documents refused");
	/* Found by fuzz-request: jansson quotes raw input, newline included. */
	{
		static const char in[] = "{\"IXwx\\\\\\\\\\\\\\\n";
		parse_fails(in, sizeof(in) - 1, "invalid JSON",
			    "parser error quoting a newline stays one line");
	}

	n = 200000;
	big = malloc(2 * n + 2);
	for (size_t i = 0; i < n; i++) {
		big[i] = '[';
		big[2 * n - 1 - i] = ']';
	}
	big[2 * n] = '\n';
	parse_fails(big, 60000, "nested deeper", "60000 unclosed brackets refused");
	parse_fails(big, 2 * 40, "nested deeper", "40 levels of nesting refused");
	free(big);

	n = (1u << 20) + 100; /* over 1 MiB */
	big = malloc(n);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 2] = '}';
	big[n - 1] = '\n';
	parse_fails(big, n, "too large for a request", "oversized (> 1 MiB) refused");
	parse_fails(big, HSM_REQUEST_MAX_BYTES + 1, "too large for a request",
		    "just over the request limit refused");
	free(big);

	struct hsm_request *r;
	char err[256];
	tap_ok(hsm_request_from_json(NULL, &r, err, sizeof(err)) != 0 && r == NULL,
	       "NULL envelope refused");
}

int main(void)
{
	tenant_key = genkey();
	sshadmin_key = genkey();
	other_key = genkey();

	TAP_STR_EQ(hsm_request_type_name(HSM_REQUEST_SETPROPERTIES), "setproperties", "type names");
	test_create();
	test_start_and_setproperties();
	test_k_tenant_req();
	test_time();
	test_hostile_bytes();

	EVP_PKEY_free(tenant_key);
	EVP_PKEY_free(sshadmin_key);
	EVP_PKEY_free(other_key);
	return tap_done();
}
