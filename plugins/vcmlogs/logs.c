/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs.c - `hsmadmin vcm logs export|expire|getkey --uuid UUID`: one call
 * each to the VCM's monitor (docs/protocol.md, monitor) with this
 * tenant's monitor key for that VCM, the host key pinned at enrollment.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <hsmadmin/fileio.h>
#include "transport.h"
#include "tenant.h"
#include "vcmlogs.h"

/* The record of the VCM named by --uuid; reports its own errors. */
static int load(struct hsm_ctx *ctx, struct hsm_tenant_vcm *v)
{
	char uuid[HSM_UUID_LEN + 1], err[256];
	int rc = hsm_opt_uuid(ctx, "uuid", uuid);

	if (rc)
		return rc;
	switch (hsm_tenant_record_load(hsm_home(ctx), uuid, v, err, sizeof(err))) {
	case 0:
		return 0;
	case 1:
		return hsm_error(ctx, HSM_EXIT_USAGE, uuid, "no enrolled VCM with this UUID (hsmadmin vcm enroll)");
	default:
		return hsm_error(ctx, HSM_EXIT_FAILED, uuid, "enrollment record: %s", err);
	}
}

/* Call the VCM's monitor; 0 with r->result, or the exit status reported. */
static int monitor(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, const char *method, json_t *params,
		   struct hsm_rpc_reply *r)
{
	hsm_tenant_call(ctx, v, HSM_TENANT_MONITOR, method, params, r);
	json_decref(params);
	if (r->exit != 0)
		return hsm_error(ctx, r->exit, v->uuid, "%s", r->message);
	return 0;
}

static void print_entry(struct hsm_ctx *ctx, const json_t *e)
{
	time_t t = (time_t)json_integer_value(json_object_get(e, "time"));
	char when[32], *detail = json_dumps(json_object_get(e, "detail"), JSON_COMPACT | JSON_SORT_KEYS);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(when, sizeof(when), "?");
	/* Device strings are shown through %s only after the transport's
	 * check for printable text; the detail is compact JSON. */
	hsm_printf(ctx, "%8" JSON_INTEGER_FORMAT "  %s  %s  %s\n",
		   json_integer_value(json_object_get(e, "seq")), when,
		   json_string_value(json_object_get(e, "event")) ? json_string_value(json_object_get(e, "event")) : "?",
		   detail ? detail : "{}");
	free(detail);
}

static int expire(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, json_int_t upto, json_int_t *removed)
{
	struct hsm_rpc_reply r;
	int rc = monitor(ctx, v, "logs_expire", json_pack("{s:I}", "upto", upto), &r);

	if (rc == 0)
		*removed = json_integer_value(json_object_get(r.result, "removed"));
	hsm_rpc_reply_clear(&r);
	return rc;
}

int vl_cmd_export(struct hsm_ctx *ctx)
{
	const char *outdir = hsm_opt_str(ctx, "outdir");
	struct hsm_rpc_reply r;
	struct hsm_tenant_vcm v;
	json_t *entries, *meta;
	json_int_t first, last, removed = 0;
	char path[PATH_MAX], err[256];
	struct stat sb;
	size_t i;
	json_t *e;
	int rc;

	if (outdir && hsm_json_mode(ctx))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--outdir", "give --json or --outdir, not both");
	if (outdir && (stat(outdir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
		return hsm_error(ctx, HSM_EXIT_USAGE, outdir, "not an existing directory");
	if ((rc = load(ctx, &v)) != 0)
		return rc;
	if ((rc = monitor(ctx, &v, "logs_export", json_object(), &r)) != 0) {
		hsm_tenant_vcm_clear(&v);
		return rc;
	}
	entries = json_object_get(r.result, "entries");
	first = json_integer_value(json_object_get(r.result, "first"));
	last = json_integer_value(json_object_get(r.result, "last"));
	if (!json_is_array(entries)) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, v.uuid, "monitor: logs_export: no entries in the reply");
		goto out;
	}
	meta = json_pack("{s:s, s:s, s:I, s:I, s:I}", "uuid", v.uuid, "log", "system", "first", first,
			 "last", last, "count", (json_int_t)json_array_size(entries));
	if (outdir) {
		json_t *doc = json_deep_copy(meta);
		json_object_set(doc, "entries", entries);
		snprintf(path, sizeof(path), "%s/vcm-%s-system-%" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT ".json",
			 outdir, v.uuid, first, last);
		rc = hsm_write_json_atomic(path, doc, 0600, err, sizeof(err));
		json_decref(doc);
		if (rc != 0) {
			json_decref(meta);
			rc = hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", err);
			goto out;
		}
		json_object_set_new(meta, "file", json_string(path));
	} else {
		json_object_set(meta, "entries", entries);
	}
	/* Expire only what this export holds, and only once it is safe on
	 * this host (written, or about to be printed). */
	if (hsm_opt_given(ctx, "expire") && last > 0) {
		if ((rc = expire(ctx, &v, last, &removed)) != 0) {
			json_decref(meta);
			goto out;
		}
		json_object_set_new(meta, "expired", json_integer(removed));
	}
	if (hsm_json_mode(ctx)) {
		json_object_update(hsm_json(ctx), meta);
	} else if (outdir) {
		hsm_printf(ctx, "Exported %zu system log entries (%" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT
			   ") of VCM %s to %s\n", json_array_size(entries), first, last, v.uuid, path);
	} else {
		json_array_foreach(entries, i, e)
			print_entry(ctx, e);
	}
	if (!hsm_json_mode(ctx) && hsm_opt_given(ctx, "expire"))
		hsm_printf(ctx, "Expired %" JSON_INTEGER_FORMAT " entries up to %" JSON_INTEGER_FORMAT "\n",
			   removed, last);
	json_decref(meta);
	rc = 0;
out:
	hsm_rpc_reply_clear(&r);
	hsm_tenant_vcm_clear(&v);
	return rc;
}

int vl_cmd_expire(struct hsm_ctx *ctx)
{
	json_int_t upto = (json_int_t)hsm_opt_int(ctx, "seq"), removed = 0;
	struct hsm_tenant_vcm v;
	int rc;

	if ((rc = load(ctx, &v)) != 0)
		return rc;
	rc = expire(ctx, &v, upto, &removed);
	if (rc == 0) {
		if (hsm_json_mode(ctx))
			json_object_update_new(hsm_json(ctx), json_pack("{s:s, s:I, s:I}", "uuid", v.uuid,
					       "upto", upto, "removed", removed));
		else
			hsm_printf(ctx, "Expired %" JSON_INTEGER_FORMAT " system log entries of VCM %s up to %"
				   JSON_INTEGER_FORMAT "\n", removed, v.uuid, upto);
	}
	hsm_tenant_vcm_clear(&v);
	return rc;
}

int vl_cmd_getkey(struct hsm_ctx *ctx)
{
	const char *out = hsm_opt_str(ctx, "out");
	struct hsm_rpc_reply r;
	struct hsm_tenant_vcm v;
	const char *key;
	char err[256], line[1024];
	int rc;

	if (out && hsm_json_mode(ctx))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--out", "give --json or --out, not both");
	if ((rc = load(ctx, &v)) != 0)
		return rc;
	if ((rc = monitor(ctx, &v, "logs_getkey", json_object(), &r)) != 0) {
		hsm_tenant_vcm_clear(&v);
		return rc;
	}
	key = json_string_value(json_object_get(r.result, "key"));
	if (!key || !hsm_ssh_pubkey_valid(key)) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, v.uuid, "monitor: logs_getkey: the reply holds no ssh-ed25519 key");
	} else if (out) {
		snprintf(line, sizeof(line), "%s\n", key);
		if (hsm_write_file_atomic(out, line, strlen(line), 0644, err, sizeof(err)) != 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, out, "%s", err);
		else
			hsm_printf(ctx, "Wrote the log key of VCM %s to %s\n", v.uuid, out);
	} else if (hsm_json_mode(ctx)) {
		json_object_update_new(hsm_json(ctx), json_pack("{s:s, s:s}", "uuid", v.uuid, "key", key));
	} else {
		hsm_printf(ctx, "%s\n", key);
	}
	hsm_rpc_reply_clear(&r);
	hsm_tenant_vcm_clear(&v);
	return rc;
}
