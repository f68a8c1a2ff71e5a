/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/logs/logs.c - hsmadmin logs (guide 4.10.1.8, 4.12): get (the
 * unsigned view), export (signed segments, verified before they are
 * written), expire, getkey (the verification keys, their certificates
 * checked against the identity key pinned at enrollment), clear (recovery
 * mode) and verify (offline, docs/formats/signed-log.md).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "hostkeys.h"
#include "logs.h"
#include "sign.h"
#include "signed-log.h"
#include "signed-log-files.h"
#include "transport-report.h"

/* The most of a segment held in memory: --json prints it whole. */
#define HSM_LOGS_JSON_MAX (16u * 1024u * 1024u)

/* One entry as a line: "seq  time  event  {detail}". */
static char *entry_line(const json_t *e)
{
	json_t *detail = json_object_get(e, "detail");
	const char *event = json_string_value(json_object_get(e, "event"));
	char when[64], *d = NULL, *line = NULL;

	hsm_format_time(json_integer_value(json_object_get(e, "time")), when, sizeof(when));
	if (detail && !(json_is_object(detail) && json_object_size(detail) == 0))
		d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (asprintf(&line, "%8" JSON_INTEGER_FORMAT "  %s  %s%s%s\n",
		     json_integer_value(json_object_get(e, "seq")), when, event ? event : "?",
		     d ? "  " : "", d ? d : "") < 0)
		line = NULL;
	free(d);
	/* Device text must not drive the terminal. */
	for (char *c = line; c && *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\n') || *c == 0x7f)
			*c = '?';
	return line;
}

/* Entries must be objects with an integer seq and time and a string event;
 * anything else is a malformed reply, not something to print half of. */
static int entries_valid(const json_t *entries)
{
	size_t i;
	json_t *e;

	if (!json_is_array(entries))
		return 0;
	json_array_foreach(
	    entries, i, e) if (!json_is_object(e) || !json_is_integer(json_object_get(e, "seq")) ||
			       !json_is_integer(json_object_get(e, "time")) ||
			       !json_is_string(json_object_get(e, "event"))) return 0;
	return 1;
}

static char *render(const json_t *entries, size_t *len)
{
	size_t cap = 4096, n = 0, i;
	char *buf = malloc(cap);
	json_t *e;

	if (!buf)
		return NULL;
	buf[0] = '\0';
	json_array_foreach(entries, i, e)
	{
		char *line = entry_line(e);
		size_t l = line ? strlen(line) : 0;
		if (n + l + 1 > cap) {
			char *nb;
			while (n + l + 1 > cap)
				cap *= 2;
			if (!(nb = realloc(buf, cap))) {
				free(line);
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		memcpy(buf + n, line ? line : "", l + 1);
		n += l;
		free(line);
	}
	*len = n;
	return buf;
}

/* logs get reads one HSM: --esn, or the only one known. */
static int pick_one(struct hsm_ctx *ctx, struct hsm_fleet *fleet)
{
	int rc = hsm_fleet_open(ctx, fleet);

	if (rc)
		return rc;
	if (fleet->count != 1) {
		rc = hsm_error(
		    ctx, HSM_EXIT_USAGE, "--esn",
		    "logs get reads the log of one HSM: give exactly one --esn (%zu HSMs %s)",
		    fleet->count, hsm_esn_count(ctx) ? "given" : "known");
		hsm_fleet_close(fleet);
	}
	return rc;
}

static int logs_get(struct hsm_ctx *ctx)
{
	const char *log = hsm_opt_str(ctx, "log"), *out = hsm_opt_str(ctx, "out");
	struct hsm_fleet fleet;
	struct hsm_rpc_reply reply;
	json_t *params, *entries;
	char why[512], *text;
	size_t len;
	int rc;

	if (strcmp(log, "system") != 0 && strcmp(log, "init") != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--log",
				 "'%s' is not a log: use system or init", log);
	if (out && hsm_json_mode(ctx))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--out",
				 "give either --json or --out, not both");
	if ((rc = pick_one(ctx, &fleet)))
		return rc;
	params = json_pack("{s:s}", "log", log);
	hsm_rpc_call(ctx, &fleet.modules[0], "monitor", "logs_get", params, &reply);
	json_decref(params);
	entries = reply.exit == 0 ? json_object_get(reply.result, "entries") : NULL;
	if (reply.exit == 0 && !entries_valid(entries)) {
		hsm_rpc_reply_fail(&reply, HSM_EXIT_FAILED, "protocol",
				   "monitor.logs_get: malformed log entries");
	}
	rc = hsm_report(ctx, &fleet, &reply, NULL, NULL);
	if (reply.exit == 0) {
		if (!(text = render(entries, &len)))
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "logs", "out of memory");
		else if (out && hsm_write_file_atomic(out, text, len, 0644, why, sizeof(why)) < 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "--out", "%s", why);
		else if (out)
			hsm_verbosef(ctx, "wrote %zu entries to %s", json_array_size(entries), out);
		else
			hsm_printf(ctx, "%s", text);
		free(text);
	}
	hsm_rpc_reply_clear(&reply);
	hsm_fleet_close(&fleet);
	return rc;
}

/* One call to the monitor of the one HSM picked; reports failures. */
static int monitor_call(struct hsm_ctx *ctx, struct hsm_fleet *fleet, const char *method,
			json_t *params, struct hsm_rpc_reply *reply)
{
	hsm_rpc_call(ctx, &fleet->modules[0], "monitor", method, params, reply);
	json_decref(params);
	if (reply->exit != 0)
		return hsm_report(ctx, fleet, reply, NULL, NULL);
	return 0;
}

int logs_load_pins(struct hsm_ctx *ctx, const char *esn, struct hsm_pins *pins,
		   const char *unenrolled)
{
	char err[512];

	switch (hsm_pins_load(hsm_home(ctx), esn, pins, err, sizeof(err))) {
	case 0:
		return 0;
	case 1:
		return hsm_error(ctx, HSM_EXIT_STATE, esn,
				 "not enrolled from this host%s (hsmadmin enroll)", unenrolled);
	default:
		return hsm_error(ctx, HSM_EXIT_FAILED, esn, "pins: %s", err);
	}
}

/* Check that the certificates of the keys of a logs_getkey reply are
 * signed by the identity key pinned when this host enrolled the HSM.  0
 * (with *identity, a new reference, when identity is not NULL), or an
 * exit status reported. */
static int check_certified(struct hsm_ctx *ctx, const char *esn, const json_t *keys,
			   EVP_PKEY **identity)
{
	struct hsm_pins pins;
	struct hsm_slog_verifier *v;
	EVP_PKEY *id;
	char err[512];
	int rc;

	if ((rc = logs_load_pins(ctx, esn, &pins,
				 ": no identity key to check the log key's certificate against")))
		return rc;
	id = hsm_key_from_openssh(pins.identity_key, err, sizeof(err));
	hsm_pins_clear(&pins);
	if (!id)
		return hsm_error(ctx, HSM_EXIT_FAILED, esn, "pinned identity key: %s", err);
	v = hsm_slog_verifier_new();
	rc = v ? hsm_slog_verifier_pin_certified(v, keys, id, esn, "system", err, sizeof(err)) : -1;
	hsm_slog_verifier_free(v);
	if (rc != 0) {
		EVP_PKEY_free(id);
		return hsm_error(ctx, HSM_EXIT_AUTH, esn, "log key: %s", v ? err : "out of memory");
	}
	if (identity)
		*identity = id;
	else
		EVP_PKEY_free(id);
	return 0;
}

static int expire_segment(struct hsm_ctx *ctx, struct hsm_fleet *fleet, int64_t seg,
			  json_int_t *freed)
{
	struct hsm_rpc_reply r;
	int rc = monitor_call(ctx, fleet, "logs_expire",
			      json_pack("{s:I}", "segment", (json_int_t)seg), &r);

	if (rc == 0)
		*freed = json_integer_value(json_object_get(r.result, "freed"));
	hsm_rpc_reply_clear(&r);
	return rc;
}

/* The keys of a reply without certificates, checked for shape only: what
 * the key file holds when nothing vouches for the keys. */
static json_t *uncertified_keys(const json_t *keys)
{
	json_t *out = json_array(), *k;
	size_t i;

	json_array_foreach(keys, i, k)
	{
		const char *line = json_string_value(json_object_get(k, "key"));
		if (!json_is_integer(json_object_get(k, "epoch")) ||
		    !json_is_integer(json_object_get(k, "since")) || !line ||
		    !hsm_ssh_pubkey_valid(line)) {
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, json_pack("{s:O, s:O, s:s}", "epoch",
						     json_object_get(k, "epoch"), "since",
						     json_object_get(k, "since"), "key", line));
	}
	return out;
}

/* The keys an export is verified against.  Certified by the identity key
 * pinned at enrollment (*identity set, *certified 1); or, when the HSM
 * gives no certificates (its recovery image makes none, guide 4.5.4.1)
 * and this host enrolled it in recovery mode, the keys as given
 * (*identity NULL, *certified 0): the segment is still verified in full
 * against them, but nothing ties them to the identity.  Checked before
 * the export, which closes the open segment.  0 with *keys (new
 * reference), or an exit status reported. */
static int export_keys(struct hsm_ctx *ctx, struct hsm_fleet *fleet, json_t **keys,
		       EVP_PKEY **identity, int *certified)
{
	struct hsm_rpc_reply r;
	json_t *given;
	int rc;

	*keys = NULL;
	*identity = NULL;
	if ((rc = monitor_call(ctx, fleet, "logs_getkey", json_object(), &r)) != 0) {
		hsm_rpc_reply_clear(&r);
		return rc;
	}
	given = json_object_get(r.result, "keys");
	*certified = hsm_slog_keys_certified(given);
	if (*certified) {
		if ((rc = check_certified(ctx, fleet->modules[0].esn, given, identity)) == 0)
			*keys = json_incref(given);
	} else if ((rc = logs_uncertified_permitted(ctx, fleet->modules[0].esn,
						    "nothing exported")) != 0) {
		/* reported */
	} else if (!(*keys = uncertified_keys(given))) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, fleet->modules[0].esn,
			       "malformed logs_getkey reply");
	}
	hsm_rpc_reply_clear(&r);
	return rc;
}

/* Receive one exported segment through rx (verified as it streams in).
 * 0 with *sum and *head (new references), or the exit status reported:
 * nothing verified means nothing written. */
static int receive_export(struct hsm_ctx *ctx, struct hsm_fleet *fleet,
			  struct hsm_slog_receiver *rx, json_t *params, json_t **sum, json_t **head)
{
	const char *esn = fleet->modules[0].esn;
	struct hsm_rpc_reply r;
	char err[768];
	int rc = 0;

	*sum = *head = NULL;
	hsm_rpc_call_sink(ctx, &fleet->modules[0], "monitor", "logs_export", params,
			  hsm_slog_receiver_push, rx, &r);
	json_decref(params);
	if ((*sum = hsm_slog_receiver_end(rx, r.exit, r.result, &rc, err, sizeof(err))))
		*head = json_incref(r.result);
	else if (err[0])
		rc = hsm_error(ctx, rc, esn, "%s", err);
	else
		rc = hsm_report(ctx, fleet, &r, NULL, NULL);
	hsm_rpc_reply_clear(&r);
	return rc;
}

/* logs export (guide 4.12.4.2.2; in recovery mode too, guide 4.5.4.1):
 * the segment streams in and is verified against the keys (see
 * export_keys) as it arrives, into a temporary file that
 * takes its name only once all of it verified and is on disk; --expire
 * only after that. */
static int logs_export(struct hsm_ctx *ctx)
{
	const char *outdir = hsm_opt_str(ctx, "outdir");
	int saved = hsm_opt_given(ctx, "saved"), expire = hsm_opt_given(ctx, "expire");
	struct hsm_fleet fleet;
	struct hsm_slog_receiver *rx = NULL;
	json_t *keys = NULL, *params, *sum = NULL, *head = NULL, *meta;
	EVP_PKEY *identity = NULL;
	char err[512], path[PATH_MAX] = "";
	const char *esn;
	int64_t seg;
	int rc, certified = 0;

	if ((rc = hsm_slog_export_check(ctx)) != 0)
		return rc;
	if (!outdir && !hsm_json_mode(ctx))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--outdir",
				 "give --outdir DIR (or --json to print the segment)");
	if ((rc = pick_one(ctx, &fleet)))
		return rc;
	esn = fleet.modules[0].esn;
	if ((rc = export_keys(ctx, &fleet, &keys, &identity, &certified)) != 0)
		goto out;
	if (!(rx = hsm_slog_receiver_new(keys, identity, esn, "system", outdir, HSM_LOGS_JSON_MAX,
					 err, sizeof(err)))) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, outdir ? outdir : esn, "%s", err);
		goto out;
	}
	params = hsm_slog_export_params(ctx, "logs expire");
	if ((rc = receive_export(ctx, &fleet, rx, params, &sum, &head)) != 0)
		goto out;
	seg = json_integer_value(json_object_get(head, "segment"));
	meta = hsm_slog_export_report(sum, (json_int_t)seg, saved);
	json_object_set_new(meta, "esn", json_string(esn));
	json_object_set_new(meta, "log", json_string("system"));
	json_object_set(meta, "bytes", json_object_get(head, "bytes"));
	json_object_set_new(meta, "certified", json_boolean(certified));
	if (outdir) {
		snprintf(path, sizeof(path), "%s/%s-system-%" PRId64 ".log", outdir, esn, seg);
		if (hsm_slog_receiver_commit(rx, path, err, sizeof(err)) != 0) {
			json_decref(meta);
			rc = hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", err);
			goto out;
		}
		json_object_set_new(meta, "file", json_string(path));
	} else {
		size_t len;
		const char *text = hsm_slog_receiver_text(rx, &len);
		json_object_set_new(meta, "text", json_stringn(text, len));
	}
	if (expire) {
		json_int_t freed = 0;
		if ((rc = expire_segment(ctx, &fleet, seg, &freed)) != 0) {
			json_decref(meta);
			goto out;
		}
		json_object_set_new(meta, "expired", json_true());
	}
	if (!certified)
		hsm_warn(
		    ctx,
		    "%s: segment %" PRId64 " was verified against a log key NOT certified by "
		    "the HSM identity (recovery mode: the recovery image makes no certificates)",
		    esn, seg);
	if (hsm_json_mode(ctx))
		json_object_update(hsm_json(ctx), meta);
	else
		hsm_printf(ctx,
			   "Exported log segment %" PRId64 " of %s (entries %" JSON_INTEGER_FORMAT
			   "-%" JSON_INTEGER_FORMAT ", verified%s) to %s%s\n",
			   seg, esn, json_integer_value(json_object_get(meta, "first_seq")),
			   json_integer_value(json_object_get(meta, "last_seq")),
			   certified ? "" : " against an uncertified key", path,
			   expire ? "; expired on the HSM" : "");
	json_decref(meta);
	rc = 0;
out:
	hsm_slog_receiver_free(rx);
	json_decref(sum);
	json_decref(head);
	json_decref(keys);
	EVP_PKEY_free(identity);
	hsm_fleet_close(&fleet);
	return rc;
}

static int logs_expire(struct hsm_ctx *ctx)
{
	int64_t seg = hsm_opt_int(ctx, "seq");
	struct hsm_fleet fleet;
	json_int_t freed = 0;
	int rc;

	if ((rc = pick_one(ctx, &fleet)))
		return rc;
	if ((rc = expire_segment(ctx, &fleet, seg, &freed)) == 0) {
		if (hsm_json_mode(ctx))
			json_object_update_new(
			    hsm_json(ctx), json_pack("{s:s, s:I, s:I}", "esn", fleet.modules[0].esn,
						     "segment", (json_int_t)seg, "freed", freed));
		else
			hsm_printf(ctx,
				   "Expired log segment %" PRId64 " of %s (%" JSON_INTEGER_FORMAT
				   " bytes freed)\n",
				   seg, fleet.modules[0].esn, freed);
	}
	hsm_fleet_close(&fleet);
	return rc;
}

/* logs getkey (guide 4.12.4.4): the current key, and with --out/--json
 * the key file `logs verify --key` reads (every epoch's key).  Without a
 * certificate (recovery mode) the key is still given, with a warning
 * that nothing vouches for it, if this host enrolled the HSM in recovery
 * mode. */
static int logs_getkey(struct hsm_ctx *ctx)
{
	const char *out = hsm_opt_str(ctx, "out");
	struct hsm_fleet fleet;
	struct hsm_rpc_reply r;
	json_t *keys = NULL, *doc;
	const char *key;
	char err[512];
	int rc, certified;

	memset(&r, 0, sizeof(r));
	if (out && hsm_json_mode(ctx))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--out",
				 "give either --json or --out, not both");
	if ((rc = pick_one(ctx, &fleet)))
		return rc;
	if ((rc = monitor_call(ctx, &fleet, "logs_getkey", json_object(), &r)) != 0)
		goto out;
	key = json_string_value(json_object_get(r.result, "key"));
	if (!key || !hsm_ssh_pubkey_valid(key)) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, fleet.modules[0].esn,
			       "malformed logs_getkey reply");
		goto out;
	}
	certified = hsm_slog_keys_certified(json_object_get(r.result, "keys"));
	if (certified) {
		if ((rc = check_certified(ctx, fleet.modules[0].esn,
					  json_object_get(r.result, "keys"), NULL)) != 0)
			goto out;
		keys = json_incref(json_object_get(r.result, "keys"));
	} else {
		if ((rc = logs_uncertified_permitted(ctx, fleet.modules[0].esn, "no key given")) !=
		    0)
			goto out;
		hsm_warn(ctx,
			 "no certificate exists for the log key of %s, so it cannot be checked "
			 "against the HSM identity (expected in recovery mode)",
			 fleet.modules[0].esn);
		keys = uncertified_keys(json_object_get(r.result, "keys"));
		if (!keys) {
			rc = hsm_error(ctx, HSM_EXIT_FAILED, fleet.modules[0].esn,
				       "malformed logs_getkey reply");
			goto out;
		}
	}
	doc = json_pack("{s:s, s:s, s:s, s:O, s:O, s:b}", "esn", fleet.modules[0].esn, "log",
			"system", "key", key, "epoch", json_object_get(r.result, "epoch"), "keys",
			keys, "certified", certified);
	if (out) {
		if (hsm_slog_key_file_write(doc, out, err, sizeof(err)) != 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, out, "%s", err);
		else
			hsm_printf(ctx,
				   "Wrote the log verification keys of %s (%zu epochs, %s) to %s\n",
				   fleet.modules[0].esn, json_array_size(keys),
				   certified ? "certificates checked" : "NO certificate", out);
	} else if (hsm_json_mode(ctx)) {
		json_object_update(hsm_json(ctx), doc);
	} else {
		hsm_printf(ctx, "%s\n", key);
		if (certified)
			hsm_verbosef(ctx,
				     "epoch %" JSON_INTEGER_FORMAT
				     ", certificate checked against the pinned identity key",
				     json_integer_value(json_object_get(r.result, "epoch")));
	}
	json_decref(doc);
out:
	json_decref(keys);
	hsm_rpc_reply_clear(&r);
	hsm_fleet_close(&fleet);
	return rc;
}

/* logs clear (guide 4.10.1.8.2): the device allows it only in recovery
 * mode. */
static int logs_clear(struct hsm_ctx *ctx)
{
	const char *log = hsm_opt_str(ctx, "log");
	json_t *params;
	int rc;

	if (strcmp(log, "system") != 0 && strcmp(log, "init") != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--log",
				 "'%s' is not a log: use system or init", log);
	params = json_pack("{s:s}", "log", log);
	rc = hsm_report_call(ctx, "monitor", "logs_clear", params, NULL, NULL);
	json_decref(params);
	return rc;
}

/* logs verify (offline): files in segment order, each read a piece at a
 * time; the first problem is named with its file, byte offset and
 * sequence number. */
static int logs_verify(struct hsm_ctx *ctx)
{
	return hsm_slog_verify_command(ctx, "logs getkey --out");
}

static const struct hsm_option get_opts[] = { { .name = "log",
						.type = HSM_OPT_STRING,
						.flags = HSM_OPTF_REQUIRED,
						.metavar = "system|init",
						.help = "which log: system or init" },
					      { .name = "out",
						.type = HSM_OPT_STRING,
						.metavar = "OUTFILE",
						.help =
						    "write the log to OUTFILE instead of stdout" },
					      HSM_OPTION_END };

static const struct hsm_option export_opts[] = {
	{ .name = "outdir",
	  .type = HSM_OPT_STRING,
	  .metavar = "OUTDIR",
	  .help = "write the segment to OUTDIR/ESN-system-SEQ.log (the directory must exist)" },
	HSM_SLOG_OPT_SAVED,
	HSM_SLOG_OPT_SAVED_SEQ,
	HSM_SLOG_OPT_EXPIRE,
	HSM_OPTION_END
};

static const struct hsm_option expire_opts[] = { HSM_SLOG_OPT_EXPIRE_SEQ, HSM_OPTION_END };

static const struct hsm_option getkey_opts[] = {
	{ .name = "out",
	  .type = HSM_OPT_STRING,
	  .metavar = "OUTFILE",
	  .help = "write the key file (every epoch's key, for logs verify --key) to OUTFILE" },
	HSM_OPTION_END
};

static const struct hsm_option clear_opts[] = { { .name = "log",
						  .type = HSM_OPT_STRING,
						  .flags = HSM_OPTF_REQUIRED,
						  .metavar = "LOG",
						  .help = "which log: system or init" },
						HSM_OPTION_END };

static const struct hsm_option verify_opts[] = {
	{ .name = "key",
	  .type = HSM_OPT_STRING,
	  .metavar = "KEYFILE",
	  .help = "the keys to trust: a file from logs getkey --out, or one OpenSSH key line" },
	{ .name = "FILE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REPEATABLE | HSM_OPTF_REQUIRED,
	  .help = "exported segments (any order)" },
	HSM_OPTION_END
};

static const struct hsm_option collect_opts[] = {
	{ .name = "outdir",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "DIR",
	  .help = "where segments are stored: DIR/ESN/system-SEQ.log (must exist)" },
	{ .name = "daemon",
	  .type = HSM_OPT_FLAG,
	  .help = "keep collecting every --interval seconds" },
	{ .name = "interval",
	  .type = HSM_OPT_INT,
	  .metavar = "SECONDS",
	  .min = 1,
	  .max = 86400,
	  .help = "seconds between rounds with --daemon (default 300)" },
	{ .name = "syslog",
	  .type = HSM_OPT_FLAG,
	  .help = "also send every collected entry to syslog" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "logs get",
	  .summary = "Print the system or init log of an HSM (unsigned)",
	  .description = "Reads one HSM's stored log entries from its monitor service, unsigned.  "
			 "For signed segments that can be verified later, use 'logs export'.",
	  .options = get_opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = logs_get },
	{ .path = "logs export",
	  .summary = "Export the signed system log segment of an HSM",
	  .description =
	      "Closes the HSM's open log segment and writes it, after verifying it against "
	      "the log keys certified by the HSM identity key (in recovery mode, which "
	      "certifies nothing, against the keys the HSM gives, with a warning).  A segment "
	      "goes out once; --saved exports a stored one again.  Refused while the clock is "
	      "lost.",
	  .options = export_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = logs_export },
	{ .path = "logs expire",
	  .summary = "Remove an exported log segment from an HSM",
	  .description =
	      "Only a segment that was exported can be expired.  Refused while the clock is lost.",
	  .options = expire_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = logs_expire },
	{ .path = "logs getkey",
	  .summary = "The system log verification key of an HSM",
	  .description = "Fetches the log verification keys of every key epoch and checks their "
			 "certificates against the identity key pinned at enrollment.",
	  .options = getkey_opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = logs_getkey },
	{ .path = "logs clear",
	  .summary = "Clear the init or system log of an HSM (recovery mode)",
	  .description = "The HSM clears either log only in recovery mode; otherwise export and "
			 "expire the system log.",
	  .options = clear_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = logs_clear },
	{ .path = "logs verify",
	  .summary = "Verify exported log segments offline",
	  .description = "Checks frames, sequence numbers, the hash chain and every checkpoint "
			 "signature, and names the first bad entry or missing sequence number.",
	  .options = verify_opts,
	  .run = logs_verify },
	{ .path = "logs collect",
	  .summary = "Collect the signed logs of every HSM (audit-log collector)",
	  .description =
	      "Exports each HSM's new segments, verifies them, stores them under DIR and "
	      "expires them on the HSM only once the verified copy is durably stored.  "
	      "With --daemon it runs until stopped (hsmadmin-auditd.service).",
	  .options = collect_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = logs_collect },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "logs",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
