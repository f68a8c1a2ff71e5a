/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request-inspect.c - `hsmadmin vcm inspect-request [--verify] [--key-file
 * KEY] FILE` (guide 4.10.1.16.6): show what a request asks for, and with
 * --verify whether its signature holds.
 *
 * Exit codes: 0 shown (and, with --verify, the signature is valid); 2 the
 * file or key file is unreadable or malformed, or no key to verify with;
 * 4 the signature does not verify.  An expired request is shown as such
 * and warned about, but its signature is still judged on its own.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include "request.h"
#include "sign.h"
#include "vcm.h"

static const char *time_status(const struct hsm_request *req, int64_t now)
{
	char err[256];

	switch (hsm_request_check_time(req, now, HSM_REQUEST_DEFAULT_SKEW, err, sizeof(err))) {
	case HSM_REQUEST_TIME_EXPIRED:
		return "expired";
	case HSM_REQUEST_TIME_NOT_YET:
		return "not_yet_valid";
	default:
		return "valid";
	}
}

static json_t *fingerprint_json(EVP_PKEY *key);

/* The properties as the request carries them, with the features also by
 * name (as vcmadmin shows them, guide 3.3.3.4) and the new request key by
 * its fingerprint. */
static json_t *props_json(const struct hsm_request_props *p)
{
	json_t *o = hsm_request_props_json(p);
	char names[512];

	if (!o)
		return NULL;
	if (p->present & HSM_REQP_FEATURES) {
		hsm_features_format(p->features, names, sizeof(names));
		json_object_set_new(o, "features_names", json_string(names));
	}
	if (p->present & HSM_REQP_K_TENANT_REQ)
		json_object_set_new(o, "k_tenant_req", fingerprint_json(p->k_tenant_req));
	return o;
}

static json_t *fingerprint_json(EVP_PKEY *key)
{
	char *fp = key ? hsm_key_fingerprint(key) : NULL;
	json_t *v = fp ? json_string(fp) : json_null();

	free(fp);
	return v;
}

json_t *vcm_request_describe(const struct hsm_request *req, int64_t now)
{
	const char *status = time_status(req, now);
	json_t *keys = json_object();

	if (req->type == HSM_REQUEST_CREATE) {
		json_object_set_new(keys, "request", fingerprint_json(req->request_key));
		json_object_set_new(keys, "sshadmin", fingerprint_json(req->sshadmin_key));
	}
	json_object_set_new(keys, "signer", fingerprint_json(req->signer));
	return json_pack("{s:s, s:i, s:s, s:I, s:o, s:s, s:b, s:o, s:o, s:o}", "type",
			 hsm_request_type_name(req->type), "version", req->version, "nonce",
			 req->nonce, "issued", (json_int_t)req->issued, "not_after",
			 req->has_not_after ? json_integer(req->not_after) : json_null(), "status",
			 status, "expired", strcmp(status, "expired") == 0, "uuid",
			 req->uuid[0] ? json_string(req->uuid) : json_null(), "properties",
			 props_json(&req->props), "keys", keys);
}

static void print_props(struct hsm_ctx *ctx, const struct hsm_request_props *p)
{
	char names[512];

	if (!p->present)
		return;
	hsm_printf(ctx, "Properties:\n");
	if (p->present & HSM_REQP_AUTOSTART)
		hsm_printf(ctx, "  %-18s %s\n", "autostart", p->autostart ? "true" : "false");
	if (p->present & HSM_REQP_RESTRICT_STARTUP)
		hsm_printf(ctx, "  %-18s %s\n", "restrict_startup",
			   p->restrict_startup ? "true" : "false");
	if (p->present & HSM_REQP_SERIAL_CARDREADER)
		hsm_printf(ctx, "  %-18s %s\n", "serial_cardreader",
			   p->serial_cardreader ? "true" : "false");
	if (p->present & HSM_REQP_FEATURES) {
		hsm_features_format(p->features, names, sizeof(names));
		hsm_printf(ctx, "  %-18s %s (0x%08X)\n", "features", names[0] ? names : "(none)",
			   p->features);
	}
	if (p->present & HSM_REQP_NAME)
		hsm_printf(ctx, "  %-18s %s\n", "name", p->name);
	if (p->present & HSM_REQP_K_TENANT_REQ) {
		char *fp = hsm_key_fingerprint(p->k_tenant_req);
		hsm_printf(ctx, "  %-18s %s (new request key)\n", "k_tenant_req", fp ? fp : "?");
		free(fp);
	}
}

static void print_key(struct hsm_ctx *ctx, const char *label, EVP_PKEY *key)
{
	char *fp = hsm_key_fingerprint(key);

	hsm_printf(ctx, "%-20s %s\n", label, fp ? fp : "?");
	free(fp);
}

void vcm_request_print(struct hsm_ctx *ctx, const struct hsm_request *req, int64_t now)
{
	char when[32], why[256];

	hsm_printf(ctx, "%-20s %s (format version %d)\n",
		   "Request:", hsm_request_type_name(req->type), req->version);
	hsm_printf(ctx, "%-20s %s\n", "VCM UUID:", req->uuid[0] ? req->uuid : "(any)");
	hsm_printf(ctx, "%-20s %s\n", "Nonce:", req->nonce);
	hsm_time_iso(req->issued, when);
	hsm_printf(ctx, "%-20s %s\n", "Issued:", when);
	if (req->has_not_after) {
		hsm_time_iso(req->not_after, when);
		hsm_printf(ctx, "%-20s %s\n", "Valid until:", when);
	} else {
		hsm_printf(ctx, "%-20s %s\n", "Valid until:", "no expiry");
	}
	switch (hsm_request_check_time(req, now, HSM_REQUEST_DEFAULT_SKEW, why, sizeof(why))) {
	case HSM_REQUEST_TIME_OK:
		hsm_printf(ctx, "%-20s %s\n", "Status:", "valid");
		break;
	case HSM_REQUEST_TIME_EXPIRED:
		hsm_printf(ctx, "%-20s EXPIRED: %s\n", "Status:", why);
		break;
	case HSM_REQUEST_TIME_NOT_YET:
		hsm_printf(ctx, "%-20s NOT YET VALID: %s\n", "Status:", why);
		break;
	}
	print_props(ctx, &req->props);
	if (req->request_key)
		print_key(ctx, "Request key:", req->request_key);
	if (req->sshadmin_key)
		print_key(ctx, "sshadmin key:", req->sshadmin_key);
	print_key(ctx, "Signed by:", req->signer);
}

/* The key to verify a start/setproperties request with when no --key-file
 * is given: the tenant's own request key, if this is the tenant's machine
 * (its public half: verifying needs no passphrase). */
static EVP_PKEY *default_key(struct hsm_ctx *ctx, char **used, char *err, size_t errlen)
{
	char *path = vcm_tenant_path(ctx, VCM_REQUEST_KEY, ".pub");
	struct stat st;
	EVP_PKEY *key;

	*used = NULL;
	if (!path || stat(path, &st) != 0) {
		snprintf(
		    err, errlen,
		    "no key to verify with: give --key-file (the tenant's request public key)");
		free(path);
		return NULL;
	}
	key = hsm_key_load_public(path, err, errlen);
	if (key)
		*used = path;
	else
		free(path);
	return key;
}

int vcm_cmd_inspect_request(struct hsm_ctx *ctx)
{
	const char *file = hsm_opt_str(ctx, "REQUEST_FILE");
	const char *keyfile = hsm_opt_str(ctx, "key-file");
	int verify = hsm_opt_given(ctx, "verify") || keyfile;
	struct hsm_request *req = NULL;
	EVP_PKEY *key = NULL;
	char err[512], *keypath = NULL, *fp;
	int64_t now = (int64_t)time(NULL);
	json_t *sig;
	int rc = HSM_EXIT_OK;

	if (hsm_request_load_file(file, &req, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "request file", "%s", err);

	/* Find the key before printing anything, so a usage error is alone. */
	if (verify && keyfile) {
		key = hsm_key_load_public(keyfile, err, sizeof(err));
		if (!key) {
			hsm_request_free(req);
			return hsm_error(ctx, HSM_EXIT_USAGE, "--key-file", "%s", err);
		}
		keypath = strdup(keyfile);
	} else if (verify && req->type != HSM_REQUEST_CREATE) {
		key = default_key(ctx, &keypath, err, sizeof(err));
		if (!key) {
			hsm_request_free(req);
			return hsm_error(ctx, HSM_EXIT_USAGE, "--verify", "%s", err);
		}
	}

	json_t *doc = vcm_request_describe(req, now);
	json_object_update(hsm_json(ctx), doc);
	json_decref(doc);
	json_object_set_new(hsm_json(ctx), "file", json_string(file));
	hsm_printf(ctx, "%-20s %s\n", "File:", file);
	vcm_request_print(ctx, req, now);

	sig = json_pack("{s:b}", "checked", verify);
	if (!verify) {
		hsm_printf(ctx, "%-20s %s\n", "Signature:", "not checked (use --verify)");
	} else if (hsm_request_verify(req, key, err, sizeof(err)) == 0) {
		fp = hsm_key_fingerprint(key ? key : req->request_key);
		hsm_printf(ctx, "%-20s valid (key %s)\n", "Signature:", fp ? fp : "?");
		json_object_set_new(sig, "valid", json_true());
		json_object_set_new(sig, "key", json_string(fp ? fp : "?"));
		free(fp);
		if (keypath)
			json_object_set_new(sig, "key_file", json_string(keypath));
		if (strcmp(time_status(req, now), "valid") != 0) {
			char why[256];
			hsm_request_check_time(req, now, HSM_REQUEST_DEFAULT_SKEW, why,
					       sizeof(why));
			hsm_warn(ctx, "%s: the signature is valid but the request %s", file, why);
		}
	} else {
		hsm_printf(ctx, "%-20s INVALID: %s\n", "Signature:", err);
		json_object_set_new(sig, "valid", json_false());
		json_object_set_new(sig, "reason", json_string(err));
		rc = HSM_EXIT_AUTH;
	}
	json_object_set_new(hsm_json(ctx), "signature", sig);
	if (rc == HSM_EXIT_AUTH)
		hsm_error(ctx, HSM_EXIT_AUTH, "signature", "%s: %s", file, err);
	EVP_PKEY_free(key);
	free(keypath);
	hsm_request_free(req);
	return rc;
}
