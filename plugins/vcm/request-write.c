/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request-write.c - `hsmadmin vcm create|start|setproperties` (guide
 * 4.10.1.16.1, .2, .5): the tenant writes a signed request file for the
 * service provider.  Nothing here talks to an HSM.
 *
 * Every option is checked before a key is generated or a file is touched,
 * so a usage error leaves HSMADMIN_HOME as it was.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include "request.h"
#include "sign.h"
#include "vcm.h"

/* A --X / --no-X pair: at most one is given (the parser enforces that). */
struct switch_opt {
	const char *on, *off;
	unsigned bit;
	size_t off_in_props;
};

static const struct switch_opt switches[] = {
	{ "autostart", "no-autostart", HSM_REQP_AUTOSTART,
	  offsetof(struct hsm_request_props, autostart) },
	{ "restrict-startup", "no-restrict-startup", HSM_REQP_RESTRICT_STARTUP,
	  offsetof(struct hsm_request_props, restrict_startup) },
	{ "serial-cardreader", "no-serial-cardreader", HSM_REQP_SERIAL_CARDREADER,
	  offsetof(struct hsm_request_props, serial_cardreader) },
};

/* Properties from the command line.  create: every switch is set, true
 * when given; setproperties: only the switches given, on or off. */
static int read_props(struct hsm_ctx *ctx, enum hsm_request_type type, struct hsm_request_props *p)
{
	char err[512];
	const char *s;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < sizeof(switches) / sizeof(switches[0]); i++) {
		int on = hsm_opt_given(ctx, switches[i].on);
		int off = type == HSM_REQUEST_SETPROPERTIES && hsm_opt_given(ctx, switches[i].off);
		if (type == HSM_REQUEST_CREATE || on || off) {
			p->present |= switches[i].bit;
			*(int *)((char *)p + switches[i].off_in_props) = on;
		}
	}
	/* --autostart --no-restrict-startup is fine; both on is not (guide 3.1.2.3). */
	if (p->autostart && p->restrict_startup)
		return hsm_error(ctx, HSM_EXIT_USAGE, "usage",
				 "--autostart and --restrict-startup cannot both be requested");
	if ((s = hsm_opt_str(ctx, "features"))) {
		if (hsm_features_parse(s, &p->features, err, sizeof(err)) != 0)
			return hsm_error(ctx, HSM_EXIT_USAGE, "--features", "%s", err);
		p->present |= HSM_REQP_FEATURES;
	}
	if ((s = hsm_opt_str(ctx, "name"))) {
		if (hsm_request_check_name(s, err, sizeof(err)) != 0)
			return hsm_error(ctx, HSM_EXIT_USAGE, "--name", "%s", err);
		snprintf(p->name, sizeof(p->name), "%s", s);
		p->present |= HSM_REQP_NAME;
	}
	/* --k-tenant-req is a key, not a value: write_request loads it. */
	if (type == HSM_REQUEST_SETPROPERTIES && !p->present && !hsm_opt_given(ctx, "k-tenant-req"))
		return hsm_error(
		    ctx, HSM_EXIT_USAGE, "usage",
		    "nothing to change: give at least one property option "
		    "(--[no-]autostart, --[no-]restrict-startup, --[no-]serial-cardreader, "
		    "--features, --name, --k-tenant-req)");
	return HSM_EXIT_OK;
}

/* --k-tenant-req PUBKEY_FILE: the tenant's next request-signing key
 * (guide 3.1.2.3.7); the current key signs the request. */
static int read_new_request_key(struct hsm_ctx *ctx, struct hsm_request *req)
{
	const char *path = hsm_opt_str(ctx, "k-tenant-req");
	char err[512];
	EVP_PKEY *key = hsm_key_load_public(path, err, sizeof(err));
	int rc;

	if (!key)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--k-tenant-req", "%s", err);
	rc = hsm_request_set_k_tenant_req(req, key, err, sizeof(err));
	EVP_PKEY_free(key);
	if (rc != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--k-tenant-req", "%s: %s", path, err);
	return HSM_EXIT_OK;
}

static void report_key(struct hsm_ctx *ctx, const char *label, const char *field,
		       const struct vcm_key *k)
{
	char *fp = hsm_key_fingerprint(k->key);

	hsm_printf(ctx, "  %-14s %s%s\n", label, fp ? fp : "?",
		   k->generated ? " (new key, stored in HSMADMIN_HOME)" : "");
	json_object_set_new(hsm_json(ctx), field,
			    json_pack("{s:s?, s:s, s:b}", "fingerprint", fp, "file", k->path,
				      "generated", k->generated));
	free(fp);
}

static int write_request(struct hsm_ctx *ctx, enum hsm_request_type type)
{
	const char *file = hsm_opt_str(ctx, "request-file");
	struct vcm_key rk = { 0 }, sk = { 0 };
	struct hsm_request_props props;
	struct hsm_request *req = NULL, *written = NULL;
	char err[512], *out = NULL, uuid[HSM_UUID_LEN + 1];
	size_t len = 0;
	int64_t now = (int64_t)time(NULL);
	int rc;

	rc = read_props(ctx, type, &props);
	if (rc != HSM_EXIT_OK)
		return rc;
	req = hsm_request_new(type, now, err, sizeof(err));
	if (!req)
		return hsm_error(ctx, HSM_EXIT_FAILED, "request", "%s", err);
	req->props = props;
	if (type == HSM_REQUEST_SETPROPERTIES && hsm_opt_given(ctx, "k-tenant-req")) {
		rc = read_new_request_key(ctx, req);
		if (rc != HSM_EXIT_OK)
			goto done;
	}
	if (hsm_opt_given(ctx, "request-validity") &&
	    hsm_request_set_validity(req, hsm_opt_int(ctx, "request-validity"), err, sizeof(err)) !=
		0) {
		rc = hsm_error(ctx, HSM_EXIT_USAGE, "--request-validity", "%s", err);
		goto done;
	}
	if ((rc = hsm_opt_uuid(ctx, "uuid", uuid)) != HSM_EXIT_OK)
		goto done;
	if (uuid[0] && hsm_request_set_uuid(req, uuid, err, sizeof(err)) != 0) {
		rc = hsm_error(ctx, HSM_EXIT_USAGE, "--uuid", "%s", err);
		goto done;
	}
	/* Refuse an existing file before making keys; the final write checks
	 * again without a race. */
	if (access(file, F_OK) == 0) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "request file",
			       "%s: already exists; remove it or choose another file name", file);
		goto done;
	}

	rc = vcm_tenant_key(ctx, VCM_REQUEST_KEY, type == HSM_REQUEST_CREATE, &rk);
	if (rc != HSM_EXIT_OK)
		goto done;
	if (type == HSM_REQUEST_CREATE) {
		rc = vcm_tenant_key(ctx, VCM_SSHADMIN_KEY, 1, &sk);
		if (rc != HSM_EXIT_OK)
			goto done;
		if (hsm_request_set_sshadmin_key(req, sk.key, err, sizeof(err)) != 0) {
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "request", "%s", err);
			goto done;
		}
	}
	if (hsm_request_sign(req, rk.key, &out, &len, err, sizeof(err)) != 0) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "request", "%s", err);
		goto done;
	}
	if (vcm_write_new_file(file, out, len, 0644, err, sizeof(err)) != 0) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "request file", "%s", err);
		goto done;
	}

	/* Describe what was written from the bytes themselves. */
	if (hsm_request_parse(out, len, &written, err, sizeof(err)) != 0) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "request", "written file does not parse: %s",
			       err);
		goto done;
	}
	json_t *doc = vcm_request_describe(written, now);
	json_object_update(hsm_json(ctx), doc);
	json_decref(doc);
	json_object_del(hsm_json(ctx), "keys"); /* replaced by the richer entries below */
	json_object_set_new(hsm_json(ctx), "file", json_string(file));
	hsm_printf(ctx, "Wrote %s request to %s\n", hsm_request_type_name(type), file);
	if (written->has_not_after) {
		char when[32];
		hsm_time_iso(written->not_after, when);
		hsm_printf(ctx, "  %-14s %s\n", "valid until", when);
	} else {
		hsm_printf(ctx, "  %-14s %s\n", "valid until",
			   "no expiry (use --request-validity to limit it)");
	}
	report_key(ctx, "request key", "request_key", &rk);
	if (type == HSM_REQUEST_CREATE)
		report_key(ctx, "sshadmin key", "sshadmin_key", &sk);
	hsm_printf(ctx, "Send %s to your service provider.\n", file);
	rc = HSM_EXIT_OK;
done:
	hsm_request_free(written);
	hsm_request_free(req);
	vcm_key_release(&rk);
	vcm_key_release(&sk);
	free(out);
	return rc;
}

int vcm_cmd_create(struct hsm_ctx *ctx)
{
	return write_request(ctx, HSM_REQUEST_CREATE);
}

int vcm_cmd_start(struct hsm_ctx *ctx)
{
	return write_request(ctx, HSM_REQUEST_START);
}

int vcm_cmd_setproperties(struct hsm_ctx *ctx)
{
	return write_request(ctx, HSM_REQUEST_SETPROPERTIES);
}
