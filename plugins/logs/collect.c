/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/logs/collect.c - hsmadmin logs collect: the audit-log collector
 * (the role of the overview's nshielddauditd).  For every HSM this host
 * administers it exports new signed segments, verifies them against the
 * certified log keys, stores each as DIR/ESN/system-SEQ.log (atomic,
 * fsync'ed), checks that it continues the last stored segment, and only
 * then expires it on the HSM.  With --daemon it does this every
 * --interval seconds until stopped; an HSM that is away is reported and
 * tried again next time.
 *
 * Crash safety: a segment is exported without --saved only when the HSM
 * holds no exported segment; if the collector dies after an export and
 * before the expiry, the next round finds that segment stored on the HSM
 * and fetches it with saved (never exporting twice), stores it if it is not
 * already stored identically, and expires it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "hostkeys.h"
#include "logs.h"
#include "sign.h"
#include "signed-log.h"
#include "transport.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* One monitor call to one HSM; on failure the reason is in r. */
static int call1(struct hsm_ctx *ctx, const struct hsm_module *m, const char *method,
		 json_t *params, struct hsm_rpc_reply *r)
{
	memset(r, 0, sizeof(*r));
	hsm_rpc_call(ctx, m, "monitor", method, params, r);
	json_decref(params);
	return r->exit;
}

/* Events that say nothing new: a segment holding only these is not worth
 * exporting (every export would otherwise make the next such segment). */
static int bookkeeping(const char *event)
{
	static const char *const ev[] = { "log_open",      "log_previous", "checkpoint",
					  "logs_exported", "logs_expired", NULL };
	for (size_t i = 0; ev[i]; i++)
		if (strcmp(event, ev[i]) == 0)
			return 1;
	return 0;
}

/* Does the open segment hold anything but bookkeeping? */
static int open_segment_has_news(struct hsm_ctx *ctx, const struct hsm_module *m, int *news)
{
	struct hsm_rpc_reply r;
	json_t *entries, *e, *last;
	json_int_t seg;
	size_t i;

	*news = 0;
	if (call1(ctx, m, "logs_get", json_pack("{s:s}", "log", "system"), &r) != 0)
		return hsm_error(ctx, r.exit, m->esn, "%s", r.message);
	entries = json_object_get(r.result, "entries");
	last = json_array_get(entries, json_array_size(entries) - 1);
	seg = json_integer_value(json_object_get(last, "seg"));
	json_array_foreach(
	    entries, i, e) if (json_integer_value(json_object_get(e, "seg")) == seg &&
			       json_is_string(json_object_get(e, "event")) &&
			       !bookkeeping(json_string_value(json_object_get(e, "event")))) *news =
	    1;
	hsm_rpc_reply_clear(&r);
	return 0;
}

static int read_whole(const char *path, char **buf, size_t *len)
{
	char err[256];

	return hsm_read_file(path, SIZE_MAX / 2, buf, len, err, sizeof(err));
}

/* Store a verified segment: DIR/ESN/system-SEQ.log, never replacing a
 * different file.  Checks that it continues the stored segment before it.
 * 0 stored (or already there), else the exit status reported. */
static int store_segment(struct hsm_ctx *ctx, const char *dir, const char *esn, int64_t seg,
			 const char *text, int *gap)
{
	char path[PATH_MAX], prev[PATH_MAX], err[768], *buf = NULL;
	size_t len = 0, tlen = strlen(text);
	struct stat sb;

	*gap = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, esn);
	if (hsm_mkdir_p(path, 0700, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", err);
	snprintf(path, sizeof(path), "%s/%s/system-%" PRId64 ".log", dir, esn, seg);
	if (lstat(path, &sb) == 0) {
		int same =
		    read_whole(path, &buf, &len) == 0 && len == tlen && memcmp(buf, text, len) == 0;
		free(buf);
		if (!same)
			return hsm_error(
			    ctx, HSM_EXIT_FAILED, path,
			    "a different segment %" PRId64 " is stored already: not replaced", seg);
		return 0;
	}
	/* Continuity with the stored segment before it, when there is one. */
	snprintf(prev, sizeof(prev), "%s/%s/system-%" PRId64 ".log", dir, esn, seg - 1);
	if (seg > 1 && read_whole(prev, &buf, &len) == 0) {
		/* The new segment's authenticity was checked against the
		 * certified keys; here only that the two chain. */
		struct hsm_slog_verifier *v = hsm_slog_verifier_new();
		int rc = v ? 0 : -1;
		if (rc == 0 && (hsm_slog_verifier_feed(v, prev, buf, len, err, sizeof(err)) != 0 ||
				hsm_slog_verifier_feed(v, path, text, tlen, err, sizeof(err)) != 0))
			rc = -1;
		hsm_slog_verifier_free(v);
		free(buf);
		if (rc != 0)
			return hsm_error(ctx, HSM_EXIT_AUTH, esn,
					 "segment %" PRId64 " does not continue "
					 "the stored segment %" PRId64 ": %s",
					 seg, seg - 1, err);
	} else if (seg > 1) {
		/* Nothing stored before it: a gap only if older ones are here. */
		for (int64_t s = seg - 2; s >= 1 && s >= seg - 1000; s--) {
			snprintf(prev, sizeof(prev), "%s/%s/system-%" PRId64 ".log", dir, esn, s);
			if (lstat(prev, &sb) == 0) {
				*gap = 1;
				hsm_warn(ctx,
					 "%s: segments %" PRId64 "..%" PRId64
					 " were never collected "
					 "(gap before segment %" PRId64 ")",
					 esn, s + 1, seg - 1, seg);
				break;
			}
		}
	}
	if (hsm_write_file_atomic(path, text, tlen, 0600, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", err);
	return 0;
}

/* Every entry of a stored segment to syslog (journald reads it too). */
static void forward(const char *esn, const char *text)
{
	size_t pos = 0, jlen, len = strlen(text);
	const char *json;
	char err[128];

	while (hsm_slog_next_frame(text, len, &pos, &json, &jlen) == 1) {
		json_t *e = hsm_slog_entry_parse(json, jlen, err, sizeof(err));
		char *d = e ? json_dumps(json_object_get(e, "detail"),
					 JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
			    : NULL;
		if (e)
			syslog(LOG_INFO,
			       "%s seq=%" JSON_INTEGER_FORMAT " seg=%" JSON_INTEGER_FORMAT
			       " event=%s detail=%s",
			       esn, json_integer_value(json_object_get(e, "seq")),
			       json_integer_value(json_object_get(e, "seg")),
			       json_string_value(json_object_get(e, "event")), d ? d : "{}");
		free(d);
		json_decref(e);
	}
}

/* One round for one HSM: fetch what the HSM holds exported, then export
 * what is new.  Adds what it did to report. */
static int collect_one(struct hsm_ctx *ctx, const struct hsm_module *m, const char *dir,
		       int use_syslog, json_t *report)
{
	struct hsm_rpc_reply r;
	struct hsm_pins pins;
	EVP_PKEY *identity = NULL;
	json_t *keys = NULL, *done = json_array();
	char err[768];
	int rc = 0, rounds = 0;

	if (call1(ctx, m, "logs_getkey", json_object(), &r) != 0) {
		rc = hsm_error(ctx, r.exit, m->esn, "%s", r.message);
		goto out;
	}
	keys = json_incref(json_object_get(r.result, "keys"));
	hsm_rpc_reply_clear(&r);
	if (hsm_pins_load(hsm_home(ctx), m->esn, &pins, err, sizeof(err)) != 0) {
		rc = hsm_error(ctx, HSM_EXIT_STATE, m->esn, "not enrolled from this host");
		goto out;
	}
	identity = hsm_key_from_openssh(pins.identity_key, err, sizeof(err));
	hsm_pins_clear(&pins);
	if (!identity) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, m->esn, "pinned identity key: %s", err);
		goto out;
	}
	while (rounds++ < 64) {
		int saved = 1, news, gap = 0;
		int64_t seg;
		const char *text;
		json_t *sum;

		/* A segment exported earlier and still stored comes first. */
		if (call1(ctx, m, "logs_export", json_pack("{s:b}", "saved", 1), &r) != 0) {
			if (strcmp(r.code, "refused_state") != 0) {
				rc = hsm_error(ctx, r.exit, m->esn, "%s", r.message);
				break;
			}
			hsm_rpc_reply_clear(&r);
			if ((rc = open_segment_has_news(ctx, m, &news)) != 0 || !news)
				break;
			saved = 0;
			if (call1(ctx, m, "logs_export", json_pack("{s:b}", "saved", 0), &r) != 0) {
				rc = hsm_error(ctx, r.exit, m->esn, "%s", r.message);
				break;
			}
		}
		text = json_string_value(json_object_get(r.result, "text"));
		seg = json_integer_value(json_object_get(r.result, "segment"));
		sum = text ? hsm_slog_verify_export(text, strlen(text), keys, identity, m->esn,
						    "system", seg, err, sizeof(err))
			   : NULL;
		if (!sum) {
			rc = hsm_error(ctx, HSM_EXIT_AUTH, m->esn,
				       "segment %" PRId64 " does not verify, "
				       "not stored and not expired: %s",
				       seg, text ? err : "malformed reply");
			hsm_rpc_reply_clear(&r);
			break;
		}
		json_decref(sum);
		rc = store_segment(ctx, dir, m->esn, seg, text, &gap);
		if (rc == 0 && use_syslog)
			forward(m->esn, text);
		hsm_rpc_reply_clear(&r);
		if (rc != 0)
			break;
		/* Expired only now that the verified copy is durable. */
		if (call1(ctx, m, "logs_expire", json_pack("{s:I}", "segment", (json_int_t)seg),
			  &r) != 0) {
			rc = hsm_error(ctx, r.exit, m->esn,
				       "segment %" PRId64 " stored but not expired: %s", seg,
				       r.message);
			break;
		}
		hsm_rpc_reply_clear(&r);
		json_array_append_new(done, json_pack("{s:I, s:b, s:b}", "segment", (json_int_t)seg,
						      "saved", saved, "gap_before", gap));
		if (!hsm_json_mode(ctx))
			hsm_printf(ctx, "%s: segment %" PRId64 " collected%s\n", m->esn, seg,
				   gap ? " (segments before it are missing)" : "");
	}
out:
	hsm_rpc_reply_clear(&r);
	json_array_append_new(
	    report, json_pack("{s:s, s:b, s:o}", "esn", m->esn, "ok", rc == 0, "segments", done));
	json_decref(keys);
	EVP_PKEY_free(identity);
	return rc;
}

int logs_collect(struct hsm_ctx *ctx)
{
	const char *dir = hsm_opt_str(ctx, "outdir");
	int daemon_mode = hsm_opt_given(ctx, "daemon"), use_syslog = hsm_opt_given(ctx, "syslog");
	int64_t interval = hsm_opt_given(ctx, "interval") ? hsm_opt_int(ctx, "interval") : 300;
	struct stat sb;
	int worst = 0;

	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--outdir", "%s is not an existing directory",
				 dir);
	if (daemon_mode && hsm_json_mode(ctx))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--json",
				 "--json reports one round: not with --daemon");
	if (use_syslog)
		openlog("hsmadmin-auditd", LOG_PID, LOG_DAEMON);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	do {
		struct hsm_fleet fleet;
		json_t *report = json_array();
		int rc = hsm_fleet_open(ctx, &fleet);

		worst = rc;
		if (rc == 0) {
			for (size_t i = 0; i < fleet.count && !stop_requested; i++)
				worst = hsm_exit_worst(worst, collect_one(ctx, &fleet.modules[i],
									  dir, use_syslog, report));
			hsm_fleet_close(&fleet);
		}
		if (hsm_json_mode(ctx))
			json_object_set(hsm_json(ctx), "modules", report);
		json_decref(report);
		for (int64_t s = 0; daemon_mode && s < interval && !stop_requested; s++)
			sleep(1);
	} while (daemon_mode && !stop_requested);
	if (use_syslog)
		closelog();
	return daemon_mode ? 0 : worst;
}
