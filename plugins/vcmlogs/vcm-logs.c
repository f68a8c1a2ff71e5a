/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcm-logs.c - `hsmadmin vcm logs export|expire|getkey --uuid UUID` and
 * the offline `vcm logs verify`: calls to
 * the VCM's monitor (docs/protocol.md, monitor) with this tenant's monitor
 * key for that VCM, the host key pinned at enrollment.  Exported segments
 * are verified (docs/formats/signed-log.md) against log keys certified by
 * the VCM's identity key, itself vouched for by the HSM identity key of
 * the enrollment record, before anything is written or expired.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hsmadmin/fileio.h>
#include "sign.h"
#include "signed-log.h"
#include "signed-log-files.h"
#include "transport.h"
#include "tenant.h"
#include "vcmlogs.h"

/* The most of a segment held in memory (printed or --json; --outdir
 * streams to disk whatever the size). */
#define VL_MEMORY_MAX (16u * 1024u * 1024u)

/* Call the VCM's monitor; 0 with r->result, or the exit status reported. */
static int monitor(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, const char *method,
		   json_t *params, struct hsm_rpc_reply *r)
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
	char when[32],
	    *detail = json_dumps(json_object_get(e, "detail"), JSON_COMPACT | JSON_SORT_KEYS);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(when, sizeof(when), "?");
	/* Device strings are shown through %s only after the transport's
	 * check for printable text; the detail is compact JSON. */
	hsm_printf(ctx, "%8" JSON_INTEGER_FORMAT "  %s  %s  %s\n",
		   json_integer_value(json_object_get(e, "seq")), when,
		   json_string_value(json_object_get(e, "event"))
		       ? json_string_value(json_object_get(e, "event"))
		       : "?",
		   detail ? detail : "{}");
	free(detail);
}

static int expire(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, json_int_t seg,
		  json_int_t *freed)
{
	struct hsm_rpc_reply r;
	int rc = monitor(ctx, v, "logs_expire", json_pack("{s:I}", "segment", seg), &r);

	if (rc == 0)
		*freed = json_integer_value(json_object_get(r.result, "freed"));
	hsm_rpc_reply_clear(&r);
	return rc;
}

/* The VCM's log keys, checked (hsm_tenant_log_keys).  0 with *keys and
 * *vid (new references), or the exit status reported. */
static int certified_keys(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, json_t **keys,
			  EVP_PKEY **vid, char *log, size_t loglen)
{
	char err[768];
	int rc = hsm_tenant_log_keys(ctx, v, keys, vid, log, loglen, err, sizeof(err));

	return rc ? hsm_error(ctx, rc, v->uuid, "%s", err) : 0;
}

/* The entries of a verified segment, for the terminal. */
static void print_segment(struct hsm_ctx *ctx, const char *text, size_t len)
{
	size_t pos = 0, jlen;
	const char *json;
	char err[128];

	while (hsm_slog_next_frame(text, len, &pos, &json, &jlen) == 1) {
		json_t *e = hsm_slog_entry_parse(json, jlen, err, sizeof(err));
		if (e)
			print_entry(ctx, e);
		json_decref(e);
	}
}

int vl_cmd_export(struct hsm_ctx *ctx)
{
	const char *outdir = hsm_opt_str(ctx, "outdir");
	int saved = hsm_opt_given(ctx, "saved");
	struct hsm_rpc_reply r;
	struct hsm_tenant_vcm v;
	struct hsm_slog_receiver *rx = NULL;
	json_t *keys = NULL, *sum = NULL, *meta = NULL, *params;
	EVP_PKEY *vid = NULL;
	const char *text = NULL;
	char path[PATH_MAX], err[768], log[64];
	json_int_t seg;
	size_t tlen = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = hsm_slog_export_check(ctx)) != 0)
		return rc;
	if ((rc = hsm_tenant_record_open(ctx, &v)) != 0)
		return rc;
	if ((rc = certified_keys(ctx, &v, &keys, &vid, log, sizeof(log))) != 0)
		goto out;
	/* Verified as it streams in; to a temporary file in OUTDIR that takes
	 * its name only once all of it verified, or (printed, --json) held in
	 * memory up to a bound. */
	if (!(rx = hsm_slog_receiver_new(keys, vid, v.esn, log, outdir, VL_MEMORY_MAX, err,
					 sizeof(err)))) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, outdir ? outdir : v.uuid, "%s", err);
		goto out;
	}
	params = hsm_slog_export_params(ctx, "vcm logs expire");
	hsm_tenant_call_sink(ctx, &v, HSM_TENANT_MONITOR, "logs_export", params,
			     hsm_slog_receiver_push, rx, &r);
	json_decref(params);
	if (!(sum = hsm_slog_receiver_end(rx, r.exit, r.result, &rc, err, sizeof(err)))) {
		rc = hsm_error(ctx, rc, v.uuid, "%s", err[0] ? err : r.message);
		goto out;
	}
	seg = json_integer_value(json_object_get(r.result, "segment"));
	meta = hsm_slog_export_report(sum, seg, saved);
	json_object_set_new(meta, "uuid", json_string(v.uuid));
	json_object_set_new(meta, "log", json_string(log));
	if (outdir) {
		snprintf(path, sizeof(path), "%s/vcm-%s-system-%" JSON_INTEGER_FORMAT ".log",
			 outdir, v.uuid, seg);
		if (hsm_slog_receiver_commit(rx, path, err, sizeof(err)) != 0) {
			rc = hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", err);
			goto out;
		}
		json_object_set_new(meta, "file", json_string(path));
	} else {
		text = hsm_slog_receiver_text(rx, &tlen);
		if (hsm_json_mode(ctx))
			json_object_set_new(meta, "text", json_stringn(text, tlen));
	}
	/* Expire only once the verified copy is safe on this host (written,
	 * or about to be printed). */
	if (hsm_opt_given(ctx, "expire")) {
		json_int_t freed = 0;
		if ((rc = expire(ctx, &v, seg, &freed)) != 0)
			goto out;
		json_object_set_new(meta, "expired", json_true());
	}
	if (hsm_json_mode(ctx))
		json_object_update(hsm_json(ctx), meta);
	else if (outdir)
		hsm_printf(ctx,
			   "Exported log segment %" JSON_INTEGER_FORMAT
			   " of VCM %s (entries %" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT
			   ", verified%s) to %s\n",
			   seg, v.uuid, json_integer_value(json_object_get(meta, "first_seq")),
			   json_integer_value(json_object_get(meta, "last_seq")),
			   saved ? ", saved" : "", path);
	else
		print_segment(ctx, text, tlen);
	if (!hsm_json_mode(ctx) && hsm_opt_given(ctx, "expire"))
		hsm_printf(ctx, "Expired log segment %" JSON_INTEGER_FORMAT "\n", seg);
	rc = 0;
out:
	hsm_slog_receiver_free(rx);
	json_decref(meta);
	json_decref(sum);
	json_decref(keys);
	EVP_PKEY_free(vid);
	hsm_rpc_reply_clear(&r);
	hsm_tenant_vcm_clear(&v);
	return rc;
}

/* vcm logs verify: offline, like logs verify (the same library code). */
int vl_cmd_verify(struct hsm_ctx *ctx)
{
	return hsm_slog_verify_command(ctx, "vcm logs getkey --out");
}

int vl_cmd_expire(struct hsm_ctx *ctx)
{
	json_int_t seg = (json_int_t)hsm_opt_int(ctx, "seq"), freed = 0;
	struct hsm_tenant_vcm v;
	int rc;

	if ((rc = hsm_tenant_record_open(ctx, &v)) != 0)
		return rc;
	rc = expire(ctx, &v, seg, &freed);
	if (rc == 0) {
		if (hsm_json_mode(ctx))
			json_object_update_new(hsm_json(ctx),
					       json_pack("{s:s, s:I, s:I}", "uuid", v.uuid,
							 "segment", seg, "freed", freed));
		else
			hsm_printf(ctx, "Expired log segment %" JSON_INTEGER_FORMAT " of VCM %s\n",
				   seg, v.uuid);
	}
	hsm_tenant_vcm_clear(&v);
	return rc;
}

int vl_cmd_getkey(struct hsm_ctx *ctx)
{
	const char *out = hsm_opt_str(ctx, "out");
	struct hsm_tenant_vcm v;
	json_t *keys = NULL, *doc, *cur;
	EVP_PKEY *vid = NULL;
	char err[256], log[64];
	int rc;

	if (out && hsm_json_mode(ctx))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--out", "give --json or --out, not both");
	if ((rc = hsm_tenant_record_open(ctx, &v)) != 0)
		return rc;
	if ((rc = certified_keys(ctx, &v, &keys, &vid, log, sizeof(log))) != 0) {
		hsm_tenant_vcm_clear(&v);
		return rc;
	}
	cur = json_array_get(keys, json_array_size(keys) - 1);
	doc = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O}", "uuid", v.uuid, "esn", v.esn, "log", log,
			"key", json_object_get(cur, "key"), "epoch", json_object_get(cur, "epoch"),
			"keys", keys);
	if (out) {
		if (hsm_slog_key_file_write(doc, out, err, sizeof(err)) != 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, out, "%s", err);
		else
			hsm_printf(ctx, "Wrote the log verification keys of VCM %s to %s\n", v.uuid,
				   out);
	} else if (hsm_json_mode(ctx)) {
		json_object_update(hsm_json(ctx), doc);
	} else {
		hsm_printf(ctx, "%s\n", json_string_value(json_object_get(cur, "key")));
	}
	json_decref(doc);
	json_decref(keys);
	EVP_PKEY_free(vid);
	hsm_tenant_vcm_clear(&v);
	return rc;
}
