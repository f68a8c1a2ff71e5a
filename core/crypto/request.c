/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request.c - tenant request files: build, sign, parse, verify.
 *
 * The file is the canonical JSON of a signed envelope (sign.h) and one
 * newline.  The parser insists on exactly those bytes, on every field the
 * format defines and on nothing else, so that a request means one thing
 * and any change to it is caught: by the parser (structure, canonical
 * form) or by the signature (content).  docs/formats/request.md is the
 * normative description; keep the two in step.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <hsmadmin/fileio.h>
#include "request.h"
#include "sign.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* Latest "issued" we accept: 9999-12-31T23:59:59Z. */
#define ISSUED_MAX 253402300799LL
/* Length of a base64 Ed25519 signature and of a canonical key line. */

static const char *const type_names[] = {
	[HSM_REQUEST_CREATE] = "create",
	[HSM_REQUEST_START] = "start",
	[HSM_REQUEST_SETPROPERTIES] = "setproperties",
};

HSM_API const char *hsm_request_type_name(enum hsm_request_type type)
{
	if (type < HSM_REQUEST_CREATE || type > HSM_REQUEST_SETPROPERTIES)
		return "unknown";
	return type_names[type];
}

/* --- single values ------------------------------------------------------ */

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int check_nonce(const char *s, char *err, size_t errlen)
{
	if (strlen(s) != 2 * HSM_REQUEST_NONCE_BYTES)
		return ERR("field 'nonce' must be %d lower-case hex digits",
			   2 * HSM_REQUEST_NONCE_BYTES);
	for (const char *p = s; *p; p++)
		if (!is_lower_hex(*p))
			return ERR("field 'nonce' must be %d lower-case hex digits",
				   2 * HSM_REQUEST_NONCE_BYTES);
	return 0;
}

/* 8-4-4-4-12 hex digits; lower_only refuses upper-case (the file form). */
static int uuid_ok(const char *s, int lower_only)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!is_lower_hex(c) && (lower_only || !(c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

HSM_API int hsm_request_set_uuid(struct hsm_request *req, const char *uuid, char *err,
				 size_t errlen)
{
	char q[HSM_PRINTABLE_LEN];

	if (!uuid_ok(uuid, 0))
		return ERR("'%s' is not a UUID (8-4-4-4-12 hex digits)", hsm_printable(uuid, q));
	for (int i = 0; i < 36; i++)
		req->uuid[i] =
		    (uuid[i] >= 'A' && uuid[i] <= 'F') ? (char)(uuid[i] - 'A' + 'a') : uuid[i];
	req->uuid[36] = '\0';
	return 0;
}

static int name_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-' || c == ' ';
}

HSM_API int hsm_request_check_name(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n > HSM_REQUEST_NAME_MAX)
		return ERR("VCM name must be 1 to %d characters", HSM_REQUEST_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!name_char_ok(name[i]))
			return ERR(
			    "VCM name may hold only letters, digits, '_', '.', '-' and spaces");
	if (name[0] == ' ' || name[n - 1] == ' ')
		return ERR("VCM name must not begin or end with a space");
	return 0;
}

/* --- building ------------------------------------------------------------ */

HSM_API struct hsm_request *hsm_request_new(enum hsm_request_type type, int64_t now, char *err,
					    size_t errlen)
{
	uint8_t raw[HSM_REQUEST_NONCE_BYTES];
	struct hsm_request *req;

	if (type < HSM_REQUEST_CREATE || type > HSM_REQUEST_SETPROPERTIES) {
		snprintf(err, errlen, "unknown request type");
		return NULL;
	}
	if (now <= 0 || now > ISSUED_MAX) {
		snprintf(err, errlen, "the system clock is not set (time %lld)", (long long)now);
		return NULL;
	}
	req = calloc(1, sizeof(*req));
	if (!req) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (hsm_random(raw, sizeof(raw)) != 0) {
		free(req);
		snprintf(err, errlen, "cannot get random bytes for the nonce");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(req->nonce + 2 * i, 3, "%02x", raw[i]);
	req->type = type;
	req->version = HSM_REQUEST_VERSION;
	req->issued = now;
	return req;
}

HSM_API int hsm_request_set_validity(struct hsm_request *req, int64_t seconds, char *err,
				     size_t errlen)
{
	if (seconds < HSM_REQUEST_VALIDITY_MIN || seconds > HSM_REQUEST_VALIDITY_MAX)
		return ERR("validity must be %d to %d seconds", HSM_REQUEST_VALIDITY_MIN,
			   HSM_REQUEST_VALIDITY_MAX);
	req->has_not_after = 1;
	req->not_after = req->issued + seconds;
	return 0;
}

HSM_API int hsm_request_set_sshadmin_key(struct hsm_request *req, EVP_PKEY *key, char *err,
					 size_t errlen)
{
	uint8_t raw[HSM_ED25519_PUB_LEN];

	if (req->type != HSM_REQUEST_CREATE)
		return ERR("only a create request carries an sshadmin key");
	if (hsm_ed25519_pub_raw(key, raw) != 0)
		return ERR("the sshadmin key is not an Ed25519 key");
	EVP_PKEY_free(req->sshadmin_key);
	req->sshadmin_key = hsm_ed25519_from_pub_raw(raw, sizeof(raw));
	return req->sshadmin_key ? 0 : ERR("out of memory");
}

HSM_API int hsm_request_set_k_tenant_req(struct hsm_request *req, EVP_PKEY *key, char *err,
					 size_t errlen)
{
	uint8_t raw[HSM_ED25519_PUB_LEN];

	if (req->type != HSM_REQUEST_SETPROPERTIES)
		return ERR("only a setproperties request carries a new k_tenant_req");
	if (hsm_ed25519_pub_raw(key, raw) != 0)
		return ERR("the new request key is not an Ed25519 key");
	EVP_PKEY_free(req->props.k_tenant_req);
	req->props.k_tenant_req = hsm_ed25519_from_pub_raw(raw, sizeof(raw));
	if (!req->props.k_tenant_req) {
		req->props.present &= ~HSM_REQP_K_TENANT_REQ;
		return ERR("out of memory");
	}
	req->props.present |= HSM_REQP_K_TENANT_REQ;
	return 0;
}

static int set_key_line(json_t *obj, const char *field, EVP_PKEY *key)
{
	char *line = hsm_key_to_openssh(key);
	int rc = line ? json_object_set_new(obj, field, json_string(line)) : -1;

	free(line);
	return rc;
}

HSM_API json_t *hsm_request_props_json(const struct hsm_request_props *p)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (p->present & HSM_REQP_AUTOSTART)
		json_object_set_new(o, "autostart", json_boolean(p->autostart));
	if (p->present & HSM_REQP_RESTRICT_STARTUP)
		json_object_set_new(o, "restrict_startup", json_boolean(p->restrict_startup));
	if (p->present & HSM_REQP_SERIAL_CARDREADER)
		json_object_set_new(o, "serial_cardreader", json_boolean(p->serial_cardreader));
	if (p->present & HSM_REQP_FEATURES)
		json_object_set_new(o, "features", json_integer((json_int_t)p->features));
	if (p->present & HSM_REQP_NAME)
		json_object_set_new(o, "name", json_string(p->name));
	if ((p->present & HSM_REQP_K_TENANT_REQ) &&
	    set_key_line(o, "k_tenant_req", p->k_tenant_req) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *body_to_json(const struct hsm_request *req)
{
	json_t *b = json_pack("{s:s, s:i, s:s, s:s, s:I}", "format", HSM_REQUEST_FORMAT, "version",
			      req->version, "type", hsm_request_type_name(req->type), "nonce",
			      req->nonce, "issued", (json_int_t)req->issued);
	int bad = !b;

	if (!bad && req->has_not_after)
		bad |=
		    json_object_set_new(b, "not_after", json_integer((json_int_t)req->not_after));
	if (!bad && req->uuid[0])
		bad |= json_object_set_new(b, "uuid", json_string(req->uuid));
	if (!bad && req->type != HSM_REQUEST_START) {
		json_t *props = hsm_request_props_json(&req->props);
		bad |= !props || json_object_set_new(b, "properties", props);
	}
	if (!bad && req->request_key)
		bad |= set_key_line(b, "request_key", req->request_key);
	if (!bad && req->sshadmin_key)
		bad |= set_key_line(b, "sshadmin_key", req->sshadmin_key);
	if (bad) {
		json_decref(b);
		return NULL;
	}
	return b;
}

static char *with_newline(const char *text, size_t len)
{
	char *out = malloc(len + 2);

	if (out) {
		memcpy(out, text, len);
		out[len] = '\n';
		out[len + 1] = '\0';
	}
	return out;
}

HSM_API int hsm_request_sign(struct hsm_request *req, EVP_PKEY *signing_key, char **out,
			     size_t *outlen, char *err, size_t errlen)
{
	uint8_t raw[HSM_ED25519_PUB_LEN];
	json_t *body, *env;
	struct hsm_request *check = NULL;
	char *text;
	size_t len;

	*out = NULL;
	if (hsm_ed25519_pub_raw(signing_key, raw) != 0)
		return ERR("the request-signing key is not an Ed25519 key");
	if (req->type == HSM_REQUEST_CREATE) {
		EVP_PKEY_free(req->request_key);
		req->request_key = hsm_ed25519_from_pub_raw(raw, sizeof(raw));
		if (!req->request_key)
			return ERR("out of memory");
	}
	body = body_to_json(req);
	if (!body)
		return ERR("cannot build the request body");
	env = hsm_signed_wrap(body, signing_key, err, errlen);
	json_decref(body);
	if (!env)
		return -1;
	/* What we write must pass our own parser: one set of rules, not two. */
	if (hsm_request_from_json(env, &check, err, errlen) != 0) {
		json_decref(env);
		return -1;
	}
	hsm_request_free(check);
	text = hsm_json_canonical(env, &len);
	json_decref(env);
	if (!text)
		return ERR("cannot serialise the request");
	*out = with_newline(text, len);
	free(text);
	if (!*out)
		return ERR("out of memory");
	*outlen = len + 1;
	return 0;
}

/* --- parsing ------------------------------------------------------------- */

static int parse_props(const json_t *o, enum hsm_request_type type, struct hsm_request_props *p,
		       char *err, size_t errlen)
{
	static const char *const allowed[] = { "autostart",
					       "restrict_startup",
					       "serial_cardreader",
					       "features",
					       "name",
					       "k_tenant_req",
					       NULL };
	static const struct {
		const char *key;
		unsigned bit;
		size_t off;
	} flags[] = {
		{ "autostart", HSM_REQP_AUTOSTART, offsetof(struct hsm_request_props, autostart) },
		{ "restrict_startup", HSM_REQP_RESTRICT_STARTUP,
		  offsetof(struct hsm_request_props, restrict_startup) },
		{ "serial_cardreader", HSM_REQP_SERIAL_CARDREADER,
		  offsetof(struct hsm_request_props, serial_cardreader) },
	};
	const char *where = "properties.";
	int bad = 0;
	json_t *v;

	if (hsm_json_only_keys(o, where, allowed, err, errlen) != 0)
		return -1;
	/* A create request says yes or no to every switch; a setproperties
	 * request carries only what it changes. */
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		v = hsm_json_member(o, where, flags[i].key, JSON_TRUE, type == HSM_REQUEST_CREATE,
				    &bad, err, errlen);
		if (v) {
			p->present |= flags[i].bit;
			*(int *)((char *)p + flags[i].off) = json_is_true(v);
		}
	}
	v = hsm_json_member(o, where, "features", JSON_INTEGER, 0, &bad, err, errlen);
	if (v) {
		json_int_t w = json_integer_value(v);
		if (w < 0 || w > 0xFFFFFFFFLL)
			return ERR(
			    "field 'properties.features' must be a 32-bit word (0 to 4294967295)");
		p->present |= HSM_REQP_FEATURES;
		p->features = (uint32_t)w;
	}
	v = hsm_json_member(o, where, "name", JSON_STRING, 0, &bad, err, errlen);
	if (bad)
		return -1;
	if (v) {
		char inner[128];
		if (hsm_request_check_name(json_string_value(v), inner, sizeof(inner)) != 0)
			return ERR("field 'properties.name': %s", inner);
		snprintf(p->name, sizeof(p->name), "%s", json_string_value(v));
		p->present |= HSM_REQP_NAME;
	}
	v = hsm_json_member(o, where, "k_tenant_req", JSON_STRING, 0, &bad, err, errlen);
	if (bad)
		return -1;
	if (v && type != HSM_REQUEST_SETPROPERTIES)
		return ERR("only a setproperties request carries 'properties.k_tenant_req' "
			   "(a create request names its key in 'request_key')");
	if (v) {
		p->k_tenant_req = hsm_key_from_openssh_strict("properties.k_tenant_req",
							      json_string_value(v), err, errlen);
		if (!p->k_tenant_req)
			return -1;
		p->present |= HSM_REQP_K_TENANT_REQ;
	}
	if (type == HSM_REQUEST_SETPROPERTIES && !p->present)
		return ERR("a setproperties request must change at least one property");
	if ((p->present & HSM_REQP_AUTOSTART) && (p->present & HSM_REQP_RESTRICT_STARTUP) &&
	    p->autostart && p->restrict_startup)
		return ERR("autostart and restrict_startup cannot both be true");
	return 0;
}

static int parse_type(const char *s, enum hsm_request_type *type)
{
	for (int t = HSM_REQUEST_CREATE; t <= HSM_REQUEST_SETPROPERTIES; t++)
		if (strcmp(s, type_names[t]) == 0) {
			*type = (enum hsm_request_type)t;
			return 0;
		}
	return -1;
}

static int parse_body(const json_t *b, struct hsm_request *req, char *err, size_t errlen)
{
	static const char *const allowed[] = { "format",      "version",      "type", "nonce",
					       "issued",      "not_after",    "uuid", "properties",
					       "request_key", "sshadmin_key", NULL };
	int bad = 0, create, start;
	json_t *v;
	char q[HSM_PRINTABLE_LEN];

	/* Format and version first: a newer version may mean other fields. */
	v = hsm_json_member(b, "", "format", JSON_STRING, 1, &bad, err, errlen);
	if (bad)
		return -1;
	if (strcmp(json_string_value(v), HSM_REQUEST_FORMAT) != 0)
		return ERR("not a VCM request (format '%s', expected '%s')",
			   hsm_printable(json_string_value(v), q), HSM_REQUEST_FORMAT);
	v = hsm_json_member(b, "", "version", JSON_INTEGER, 1, &bad, err, errlen);
	if (bad)
		return -1;
	if (json_integer_value(v) != HSM_REQUEST_VERSION)
		return ERR("unsupported request format version %lld (this tool reads version %d)",
			   (long long)json_integer_value(v), HSM_REQUEST_VERSION);
	req->version = HSM_REQUEST_VERSION;
	if (hsm_json_only_keys(b, "", allowed, err, errlen) != 0)
		return -1;

	v = hsm_json_member(b, "", "type", JSON_STRING, 1, &bad, err, errlen);
	if (bad)
		return -1;
	if (parse_type(json_string_value(v), &req->type) != 0)
		return ERR("unknown request type '%s' (create, start or setproperties)",
			   hsm_printable(json_string_value(v), q));
	create = req->type == HSM_REQUEST_CREATE;
	start = req->type == HSM_REQUEST_START;

	v = hsm_json_member(b, "", "nonce", JSON_STRING, 1, &bad, err, errlen);
	if (bad || check_nonce(json_string_value(v), err, errlen) != 0)
		return -1;
	memcpy(req->nonce, json_string_value(v), sizeof(req->nonce));

	v = hsm_json_member(b, "", "issued", JSON_INTEGER, 1, &bad, err, errlen);
	if (bad)
		return -1;
	req->issued = json_integer_value(v);
	if (req->issued <= 0 || req->issued > ISSUED_MAX)
		return ERR("field 'issued' is out of range (%lld)", (long long)req->issued);

	v = hsm_json_member(b, "", "not_after", JSON_INTEGER, 0, &bad, err, errlen);
	if (bad)
		return -1;
	if (v) {
		json_int_t na = json_integer_value(v);
		if (na <= req->issued || na - req->issued > HSM_REQUEST_VALIDITY_MAX)
			return ERR("field 'not_after' must be 1 to %d seconds after 'issued'",
				   HSM_REQUEST_VALIDITY_MAX);
		req->has_not_after = 1;
		req->not_after = na;
	}

	v = hsm_json_member(b, "", "uuid", JSON_STRING, 0, &bad, err, errlen);
	if (bad)
		return -1;
	if (v && create)
		return ERR("a create request must not name a VCM uuid");
	if (v) {
		if (!uuid_ok(json_string_value(v), 1))
			return ERR(
			    "field 'uuid' must be a lower-case UUID (8-4-4-4-12 hex digits)");
		memcpy(req->uuid, json_string_value(v), sizeof(req->uuid));
	}

	v = hsm_json_member(b, "", "properties", JSON_OBJECT, !start, &bad, err, errlen);
	if (bad)
		return -1;
	if (v && start)
		return ERR("a start request carries no properties");
	if (v && parse_props(v, req->type, &req->props, err, errlen) != 0)
		return -1;

	if (!create) {
		if (json_object_get(b, "request_key") || json_object_get(b, "sshadmin_key"))
			return ERR("only a create request carries keys");
		return 0;
	}
	v = hsm_json_member(b, "", "request_key", JSON_STRING, 1, &bad, err, errlen);
	if (bad || !(req->request_key = hsm_key_from_openssh_strict(
			 "request_key", json_string_value(v), err, errlen)))
		return -1;
	v = hsm_json_member(b, "", "sshadmin_key", JSON_STRING, 1, &bad, err, errlen);
	if (bad || !(req->sshadmin_key = hsm_key_from_openssh_strict(
			 "sshadmin_key", json_string_value(v), err, errlen)))
		return -1;
	return 0;
}

static int parse_signature_block(const json_t *s, struct hsm_request *req, char *err, size_t errlen)
{
	return hsm_signature_block_parse(s, &req->signer, err, errlen);
}

HSM_API int hsm_request_from_json(const json_t *envelope, struct hsm_request **out, char *err,
				  size_t errlen)
{
	static const char *const allowed[] = { "body", "signature", NULL };
	struct hsm_request *req;
	int bad = 0;
	json_t *body, *sig;

	*out = NULL;
	if (!json_is_object(envelope))
		return ERR("a request is a JSON object, not %s", hsm_json_type_name(envelope));
	if (hsm_json_only_keys(envelope, "", allowed, err, errlen) != 0)
		return -1;
	body = hsm_json_member(envelope, "", "body", JSON_OBJECT, 1, &bad, err, errlen);
	sig = hsm_json_member(envelope, "", "signature", JSON_OBJECT, 1, &bad, err, errlen);
	if (bad)
		return -1;
	req = calloc(1, sizeof(*req));
	if (!req)
		return ERR("out of memory");
	if (parse_body(body, req, err, errlen) != 0 ||
	    parse_signature_block(sig, req, err, errlen) != 0) {
		hsm_request_free(req);
		return -1;
	}
	/* A key cannot hand over to itself: such a request would change
	 * nothing, and most likely the tenant named the wrong file. */
	if ((req->props.present & HSM_REQP_K_TENANT_REQ) &&
	    hsm_key_equal(req->props.k_tenant_req, req->signer)) {
		hsm_request_free(req);
		return ERR("field 'properties.k_tenant_req' is the key that signs the request; "
			   "the new request key must differ from the current one");
	}
	req->envelope = json_deep_copy(envelope);
	if (!req->envelope) {
		hsm_request_free(req);
		return ERR("out of memory");
	}
	*out = req;
	return 0;
}

HSM_API int hsm_request_parse(const void *data, size_t len, struct hsm_request **out, char *err,
			      size_t errlen)
{
	char inner[256];
	json_t *env;
	char *canon;
	size_t clen;
	int rc;

	*out = NULL;
	if (len > HSM_REQUEST_MAX_BYTES)
		return ERR("too large for a request (%zu bytes, at most %d)", len,
			   HSM_REQUEST_MAX_BYTES);
	env = hsm_json_parse(data, len, HSM_REQUEST_MAX_BYTES, inner, sizeof(inner));
	if (!env) {
		/* jansson quotes the input near the error, raw: keep it one line. */
		for (char *p = inner; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		return ERR("%s", inner);
	}
	rc = hsm_request_from_json(env, out, err, errlen);
	if (rc != 0) {
		json_decref(env);
		return -1;
	}
	/* The bytes must be exactly what we would write: then every byte of
	 * the file is covered by the parser or the signature. */
	canon = hsm_json_canonical(env, &clen);
	json_decref(env);
	if (!canon) {
		hsm_request_free(*out);
		*out = NULL;
		return ERR("out of memory");
	}
	if (len != clen + 1 || memcmp(data, canon, clen) != 0 ||
	    ((const char *)data)[clen] != '\n') {
		size_t at = 0;
		while (at < clen && at < len && ((const char *)data)[at] == canon[at])
			at++;
		free(canon);
		hsm_request_free(*out);
		*out = NULL;
		return ERR("not in canonical form (differs at byte %zu): the file was changed "
			   "after signing",
			   at);
	}
	free(canon);
	return 0;
}

HSM_API int hsm_request_load_file(const char *path, struct hsm_request **out, char *err,
				  size_t errlen)
{
	char inner[256], *data;
	size_t len;
	int rc;

	*out = NULL;
	if (hsm_read_file_nofollow(path, HSM_REQUEST_MAX_BYTES, &data, &len, err, errlen) != 0)
		return -1;
	rc = hsm_request_parse(data, len, out, inner, sizeof(inner));
	free(data);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, inner);
	return rc;
}

/* --- verifying ----------------------------------------------------------- */

static int wrong_signer(EVP_PKEY *signer, EVP_PKEY *want, const char *what, char *err,
			size_t errlen)
{
	char *fs = hsm_key_fingerprint(signer), *fw = hsm_key_fingerprint(want);

	snprintf(err, errlen, "signed by %s, not by %s %s", fs ? fs : "?", what, fw ? fw : "?");
	free(fs);
	free(fw);
	return -1;
}

HSM_API int hsm_request_verify(const struct hsm_request *req, EVP_PKEY *key, char *err,
			       size_t errlen)
{
	const json_t *body;
	char inner[256];

	if (!req || !req->envelope || !req->signer)
		return ERR("no request to verify");
	if (req->type == HSM_REQUEST_CREATE) {
		/* The request key is embedded: the signature proves the tenant
		 * holds it.  A key given by the caller must be that key. */
		if (key && !hsm_key_equal(key, req->request_key))
			return ERR("the request key in the request is not the given key");
		if (!hsm_key_equal(req->signer, req->request_key))
			return wrong_signer(req->signer, req->request_key, "its own request key",
					    err, errlen);
		key = req->request_key;
	} else {
		if (!key)
			return ERR("a %s request is verified with the tenant's request key, and "
				   "none was given",
				   hsm_request_type_name(req->type));
		if (!hsm_key_equal(req->signer, key))
			return wrong_signer(req->signer, key, "the given key", err, errlen);
	}
	if (hsm_signed_verify(req->envelope, key, &body, NULL, inner, sizeof(inner)) != 0)
		return ERR("%s", inner);
	return 0;
}

HSM_API enum hsm_request_time hsm_request_check_time(const struct hsm_request *req, int64_t now,
						     int64_t skew, char *err, size_t errlen)
{
	char when[32];

	if (skew < 0)
		skew = 0;
	if (req->issued - skew > now) {
		hsm_time_iso(req->issued, when);
		snprintf(err, errlen, "issued at %s, %lld s in the future: check the clocks", when,
			 (long long)(req->issued - now));
		return HSM_REQUEST_TIME_NOT_YET;
	}
	if (req->has_not_after && now > req->not_after) {
		hsm_time_iso(req->not_after, when);
		snprintf(err, errlen, "expired at %s (%lld s ago)", when,
			 (long long)(now - req->not_after));
		return HSM_REQUEST_TIME_EXPIRED;
	}
	if (errlen)
		err[0] = '\0';
	return HSM_REQUEST_TIME_OK;
}

HSM_API void hsm_request_free(struct hsm_request *req)
{
	if (!req)
		return;
	EVP_PKEY_free(req->request_key);
	EVP_PKEY_free(req->sshadmin_key);
	EVP_PKEY_free(req->props.k_tenant_req);
	EVP_PKEY_free(req->signer);
	json_decref(req->envelope);
	free(req);
}
