/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/logs/collect.c - hsmadmin logs collect: the audit-log collector
 * (the role of the overview's nshielddauditd).  For every HSM this host
 * administers and every VCM enrolled on it (tenant side) it exports new
 * signed segments, verifies them as they stream in against the certified
 * log keys (on a recovery image, which certifies none, against the keys
 * it gives, and says so next to each segment), stores each as DIR/ESN/system-SEQ.log (an HSM) or
 * DIR/vcm-UUID/system-SEQ.log (a VCM), checks that it continues the last
 * stored segment, and only then expires it on the device.  With --daemon
 * it does this every --interval seconds until stopped; a device that is
 * away is reported and tried again next time.
 *
 * Crash safety (kill -9 of the collector or of hsmd at any step, tested
 * at each one by tests/integration/logs-collect.sh): a segment is
 * exported without saved only when the device holds no exported segment;
 * it arrives into a temporary file that takes its name only once it
 * verified and is on disk; so a collector that dies after an export and
 * before the expiry finds that segment stored on the device in its next
 * round and fetches it with saved (never exporting twice), keeps the
 * stored copy if it is there already (identical), and expires it.
 * Leftover temporary files are removed at the start of each round.
 *
 * Test hook: HSMADMIN_COLLECT_CRASH_AT=STEP (secure_getenv) kills the
 * collector with SIGKILL at that step: "received" (verified into its
 * temporary file), "stored" (renamed into place, not expired), "expired"
 * (the device answered the expiry).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
#include "signed-log-files.h"
#include "tenant.h"
#include "transport.h"

#define CHUNK (1024 * 1024)

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void crash_point(const char *step)
{
	const char *at = secure_getenv("HSMADMIN_COLLECT_CRASH_AT");

	if (at && strcmp(at, step) == 0)
		raise(SIGKILL);
}

/* One device whose log is collected: an HSM (module) or a VCM (vcm). */
struct source {
	const char *label; /* the ESN or the VCM's UUID, for messages and the report */
	const char *esn;   /* the ESN the log's entries name */
	char log[80];      /* "system" or "vcm/UUID" */
	char dir[PATH_MAX];
	const struct hsm_module *module;
	const struct hsm_tenant_vcm *vcm;
	json_t *keys;     /* the log keys */
	EVP_PKEY *signer; /* the key that certifies them; NULL: uncertified */
};

/* One monitor call; sink NULL for an ordinary reply. */
static int call1(struct hsm_ctx *ctx, const struct source *s, const char *method, json_t *params,
		 hsm_rpc_sink sink, void *arg, struct hsm_rpc_reply *r)
{
	memset(r, 0, sizeof(*r));
	if (s->module && sink)
		hsm_rpc_call_sink(ctx, s->module, "monitor", method, params, sink, arg, r);
	else if (s->module)
		hsm_rpc_call(ctx, s->module, "monitor", method, params, r);
	else if (sink)
		hsm_tenant_call_sink(ctx, s->vcm, HSM_TENANT_MONITOR, method, params, sink, arg, r);
	else
		hsm_tenant_call(ctx, s->vcm, HSM_TENANT_MONITOR, method, params, r);
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
static int open_segment_has_news(struct hsm_ctx *ctx, const struct source *s, int *news)
{
	struct hsm_rpc_reply r;
	json_t *entries, *e, *last;
	json_int_t seg;
	size_t i;

	*news = 0;
	if (call1(ctx, s, "logs_get", json_pack("{s:s}", "log", "system"), NULL, NULL, &r) != 0)
		return hsm_error(ctx, r.exit, s->label, "%s", r.message);
	entries = json_object_get(r.result, "entries");
	last = json_array_get(entries, json_array_size(entries) - 1);
	seg = json_integer_value(json_object_get(last, "seg"));
	json_array_foreach(entries, i, e)
	{
		const char *ev = json_string_value(json_object_get(e, "event"));
		if (json_integer_value(json_object_get(e, "seg")) == seg && ev && !bookkeeping(ev))
			*news = 1;
	}
	hsm_rpc_reply_clear(&r);
	return 0;
}

/* Do two files hold the same bytes?  Read a chunk at a time. */
static int same_file(const char *a, const char *b)
{
	char *x = malloc(CHUNK), *y = malloc(CHUNK);
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC), same = 0;

	while (x && y && fa >= 0 && fb >= 0) {
		ssize_t n = read(fa, x, CHUNK), m;
		size_t got = 0;
		if (n < 0)
			break;
		/* b in the same amount (short reads of a regular file are rare) */
		while (got < (size_t)n && (m = read(fb, y + got, (size_t)n - got)) > 0)
			got += (size_t)m;
		if (got != (size_t)n || memcmp(x, y, got) != 0)
			break;
		if (n == 0) {
			same = read(fb, y, 1) == 0;
			break;
		}
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	free(x);
	free(y);
	return same;
}

/* A segment verified against keys without certificates (recovery mode)
 * is stored with dir/system-SEQ.uncertified-keys.json: those keys, in the
 * key file format of logs getkey --out with certified false, so that the
 * copy says how far it was checked and logs verify --key can check it
 * again.  Written before the segment takes its name: a stored segment
 * never lacks it.  A segment verified against certified keys removes a
 * stale one (left by a round that died before storing). */
static int mark_keys(struct hsm_ctx *ctx, const struct source *s, int64_t seg)
{
	char path[PATH_MAX + 48], err[768];
	json_t *doc, *keys, *k;
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "%s/system-%" PRId64 ".uncertified-keys.json", s->dir, seg);
	if (s->signer) {
		if (unlink(path) != 0 && errno != ENOENT)
			return hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", strerror(errno));
		return 0;
	}
	keys = json_array();
	json_array_foreach(s->keys, i, k) json_array_append_new(
	    keys, json_pack("{s:O, s:O, s:O}", "epoch", json_object_get(k, "epoch"), "since",
			    json_object_get(k, "since"), "key", json_object_get(k, "key")));
	doc = json_pack("{s:s, s:s, s:I, s:b, s:o, s:s}", "esn", s->esn, "log", s->log, "segment",
			(json_int_t)seg, "certified", 0, "keys", keys, "note",
			"the HSM gave these keys without certificates (recovery mode): the segment "
			"verified against them, but nothing ties them to the HSM identity");
	rc = doc ? hsm_slog_key_file_write(doc, path, err, sizeof(err))
		 : hsm_set_err(err, sizeof(err), "out of memory");
	json_decref(doc);
	return rc ? hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", err) : 0;
}

/* Store a verified segment (in rx's temporary file) as dir/system-SEQ.log,
 * never replacing a different file, after checking that it continues the
 * stored segment before it.  0 stored (or already there), else the exit
 * status reported. */
static int store_segment(struct hsm_ctx *ctx, const struct source *s, struct hsm_slog_receiver *rx,
			 int64_t seg, int *gap)
{
	char path[PATH_MAX + 32], prev[PATH_MAX + 32], err[1024];
	const char *tmp = hsm_slog_receiver_path(rx);
	struct stat sb;

	*gap = 0;
	snprintf(path, sizeof(path), "%s/system-%" PRId64 ".log", s->dir, seg);
	if (lstat(path, &sb) == 0) {
		if (!same_file(path, tmp))
			return hsm_error(
			    ctx, HSM_EXIT_FAILED, path,
			    "a different segment %" PRId64 " is stored already: not replaced", seg);
		return 0; /* stored before the collector died: the temporary copy goes */
	}
	snprintf(prev, sizeof(prev), "%s/system-%" PRId64 ".log", s->dir, seg - 1);
	if (seg > 1 && lstat(prev, &sb) == 0) {
		/* Its authenticity was checked against the certified keys;
		 * here only that the two chain. */
		struct hsm_slog_verifier *v = hsm_slog_verifier_new();
		int rc = v && hsm_slog_verifier_feed_file(v, prev, err, sizeof(err)) == 0 &&
				 hsm_slog_verifier_feed_file(v, tmp, err, sizeof(err)) == 0
			     ? 0
			     : -1;
		hsm_slog_verifier_free(v);
		if (rc != 0)
			return hsm_error(ctx, HSM_EXIT_AUTH, s->label,
					 "segment %" PRId64 " does not continue the stored segment "
					 "%" PRId64 ": %s",
					 seg, seg - 1, v ? err : "out of memory");
	} else if (seg > 1) {
		/* Nothing stored before it: a gap only if older ones are here. */
		for (int64_t o = seg - 2; o >= 1 && o >= seg - 1000; o--) {
			snprintf(prev, sizeof(prev), "%s/system-%" PRId64 ".log", s->dir, o);
			if (lstat(prev, &sb) == 0) {
				*gap = 1;
				hsm_warn(ctx,
					 "%s: segments %" PRId64 "..%" PRId64
					 " were never collected (gap before segment %" PRId64 ")",
					 s->label, o + 1, seg - 1, seg);
				break;
			}
		}
	}
	if (!s->signer && mark_keys(ctx, s, seg) != 0)
		return HSM_EXIT_FAILED;
	if (hsm_slog_receiver_commit(rx, path, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", err);
	return s->signer ? mark_keys(ctx, s, seg) : 0;
}

/* Every entry of a stored segment to syslog (journald reads it too),
 * read a chunk at a time. */
static void forward(const struct source *s, const char *path)
{
	char *buf = malloc(CHUNK + HSM_SLOG_MAX_FRAME), err[128];
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	while (buf && fd >= 0) {
		ssize_t n = read(fd, buf + len, CHUNK);
		size_t pos = 0, jlen;
		const char *json;
		if (n <= 0)
			break;
		len += (size_t)n;
		while (hsm_slog_next_frame(buf, len, &pos, &json, &jlen) == 1) {
			json_t *e = hsm_slog_entry_parse(json, jlen, err, sizeof(err));
			char *d = e ? json_dumps(json_object_get(e, "detail"),
						 JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
				    : NULL;
			if (e)
				syslog(
				    LOG_INFO,
				    "%s log=%s seq=%" JSON_INTEGER_FORMAT
				    " seg=%" JSON_INTEGER_FORMAT " event=%s detail=%s",
				    s->label, s->log, json_integer_value(json_object_get(e, "seq")),
				    json_integer_value(json_object_get(e, "seg")),
				    json_string_value(json_object_get(e, "event")), d ? d : "{}");
			free(d);
			json_decref(e);
		}
		memmove(buf, buf + pos, len - pos);
		len -= pos;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
}

/* One segment from the device into rx: a stored one (saved) or the open
 * one.  0 with *seg; 1 when there is nothing to fetch; else the exit
 * status reported. */
static int fetch(struct hsm_ctx *ctx, const struct source *s, struct hsm_slog_receiver *rx,
		 int saved, int64_t *seg)
{
	struct hsm_rpc_reply r;
	json_t *sum;
	char err[1024];
	int rc = 0, rexit;

	call1(ctx, s, "logs_export", json_pack("{s:b, s:b}", "saved", saved, "stream", 1),
	      hsm_slog_receiver_push, rx, &r);
	if (r.exit != 0 && hsm_slog_receiver_error(rx, &rexit))
		rc = hsm_error(ctx, rexit, s->label,
			       "a segment was not received, not stored and not expired: %s",
			       hsm_slog_receiver_error(rx, NULL));
	else if (r.exit != 0 && saved && strcmp(r.code, "refused_state") == 0)
		rc = 1; /* nothing stored on the device */
	else if (r.exit != 0)
		rc = hsm_error(ctx, r.exit, s->label, "%s", r.message);
	else if (!(sum = hsm_slog_receiver_finish(rx, r.result, err, sizeof(err))))
		rc = hsm_error(ctx, HSM_EXIT_AUTH, s->label,
			       "segment %" JSON_INTEGER_FORMAT
			       " does not verify, not stored and not expired: %s",
			       json_integer_value(json_object_get(r.result, "segment")), err);
	else {
		*seg = json_integer_value(json_object_get(r.result, "segment"));
		json_decref(sum);
	}
	hsm_rpc_reply_clear(&r);
	return rc;
}

/* One round for one device: fetch what it holds exported, then export
 * what is new.  Adds what it did to report. */
static int collect_one(struct hsm_ctx *ctx, struct source *s, int use_syslog, json_t *report)
{
	struct hsm_rpc_reply r;
	json_t *done = json_array();
	char err[768];
	int rc = 0, rounds = 0;

	if (hsm_mkdir_p(s->dir, 0700, err, sizeof(err)) != 0) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, s->dir, "%s", err);
		goto out;
	}
	while (rounds++ < 64 && !stop_requested) {
		int saved = 1, news, gap = 0;
		int64_t seg = 0;
		struct hsm_slog_receiver *rx = hsm_slog_receiver_new(
		    s->keys, s->signer, s->esn, s->log, s->dir, 0, err, sizeof(err));

		if (!rx) {
			rc = hsm_error(ctx, HSM_EXIT_FAILED, s->label, "%s", err);
			break;
		}
		/* A segment exported earlier and still stored comes first. */
		rc = fetch(ctx, s, rx, 1, &seg);
		if (rc == 1) {
			if ((rc = open_segment_has_news(ctx, s, &news)) != 0 || !news) {
				hsm_slog_receiver_free(rx);
				break;
			}
			saved = 0;
			hsm_slog_receiver_free(rx);
			if (!(rx = hsm_slog_receiver_new(s->keys, s->signer, s->esn, s->log, s->dir,
							 0, err, sizeof(err)))) {
				rc = hsm_error(ctx, HSM_EXIT_FAILED, s->label, "%s", err);
				break;
			}
			rc = fetch(ctx, s, rx, 0, &seg);
		}
		if (rc == 0)
			crash_point("received");
		if (rc == 0)
			rc = store_segment(ctx, s, rx, seg, &gap);
		hsm_slog_receiver_free(rx);
		if (rc != 0)
			break;
		crash_point("stored");
		if (use_syslog) {
			char path[PATH_MAX + 32];
			snprintf(path, sizeof(path), "%s/system-%" PRId64 ".log", s->dir, seg);
			forward(s, path);
		}
		/* Expired only now that the verified copy is durable. */
		if (call1(ctx, s, "logs_expire", json_pack("{s:I}", "segment", (json_int_t)seg),
			  NULL, NULL, &r) != 0) {
			rc = hsm_error(ctx, r.exit, s->label,
				       "segment %" PRId64 " stored but not expired: %s", seg,
				       r.message);
			hsm_rpc_reply_clear(&r);
			break;
		}
		hsm_rpc_reply_clear(&r);
		crash_point("expired");
		json_array_append_new(done, json_pack("{s:I, s:b, s:b, s:b}", "segment",
						      (json_int_t)seg, "saved", saved, "gap_before",
						      gap, "certified", s->signer != NULL));
		if (!hsm_json_mode(ctx))
			hsm_printf(ctx, "%s: segment %" PRId64 " collected%s%s\n", s->label, seg,
				   s->signer ? "" : " (verified against an uncertified key)",
				   gap ? " (segments before it are missing)" : "");
	}
out:
	json_array_append_new(report, json_pack("{s:s, s:s, s:s, s:b, s:b, s:o}",
						s->module ? "esn" : "uuid", s->label, "log", s->log,
						"dir", s->dir, "ok", rc == 0, "certified",
						s->signer != NULL, "segments", done));
	return rc;
}

/* An HSM: its log keys checked against the identity key pinned at
 * enrollment.  On its recovery image, which certifies nothing (guide
 * 4.5.4.1), against the keys it gives, if this host enrolled it in
 * recovery mode (else refused, uncertified.c): warned once per HSM while
 * it stays so (warned holds the ESNs warned about in this run). */
static int collect_hsm(struct hsm_ctx *ctx, const char *dir, const struct hsm_module *m,
		       int use_syslog, json_t *warned, json_t *report)
{
	struct source s = { .label = m->esn, .esn = m->esn, .module = m };
	struct hsm_rpc_reply r;
	struct hsm_pins pins;
	char err[768];
	int rc;

	snprintf(s.log, sizeof(s.log), "system");
	snprintf(s.dir, sizeof(s.dir), "%s/%s", dir, m->esn);
	if (call1(ctx, &s, "logs_getkey", json_object(), NULL, NULL, &r) != 0) {
		rc = hsm_error(ctx, r.exit, m->esn, "%s", r.message);
		hsm_rpc_reply_clear(&r);
		return rc;
	}
	s.keys = json_incref(json_object_get(r.result, "keys"));
	hsm_rpc_reply_clear(&r);
	switch (hsm_pins_load(hsm_home(ctx), m->esn, &pins, err, sizeof(err))) {
	case 0:
		break;
	case 1:
		json_decref(s.keys);
		return hsm_error(ctx, HSM_EXIT_STATE, m->esn, "not enrolled from this host");
	default:
		json_decref(s.keys);
		return hsm_error(ctx, HSM_EXIT_FAILED, m->esn, "pins: %s", err);
	}
	if (!hsm_slog_keys_certified(s.keys)) {
		int recovery = pins.recovery;

		hsm_pins_clear(&pins);
		if (!recovery) {
			json_decref(s.keys);
			json_object_del(warned, m->esn);
			return logs_refuse_uncertified(ctx, m->esn, "nothing collected or expired");
		}
		if (!json_object_get(warned, m->esn))
			hsm_warn(ctx,
				 "%s: no certificate exists for the log keys (recovery mode): "
				 "segments are verified against the keys the HSM gives, which the "
				 "HSM identity does not certify, and stored with "
				 "system-SEQ.uncertified-keys.json",
				 m->esn);
		json_object_set_new(warned, m->esn, json_true());
		rc = collect_one(ctx, &s, use_syslog, report);
		json_decref(s.keys);
		return rc;
	}
	json_object_del(warned, m->esn); /* certified again: warn if it changes back */
	s.signer = hsm_key_from_openssh(pins.identity_key, err, sizeof(err));
	hsm_pins_clear(&pins);
	rc = s.signer ? collect_one(ctx, &s, use_syslog, report)
		      : hsm_error(ctx, HSM_EXIT_FAILED, m->esn, "pinned identity key: %s", err);
	json_decref(s.keys);
	EVP_PKEY_free(s.signer);
	return rc;
}

/* A VCM this host enrolled as its tenant: its log keys checked through
 * its warrant from the HSM identity key of the enrollment record. */
static int collect_vcm(struct hsm_ctx *ctx, const char *dir, const struct hsm_tenant_vcm *v,
		       int use_syslog, json_t *report)
{
	struct source s = { .label = v->uuid, .esn = v->esn, .vcm = v };
	char err[768];
	int rc;

	snprintf(s.dir, sizeof(s.dir), "%s/vcm-%s", dir, v->uuid);
	rc =
	    hsm_tenant_log_keys(ctx, v, &s.keys, &s.signer, s.log, sizeof(s.log), err, sizeof(err));
	if (rc != 0)
		return hsm_error(ctx, rc, v->uuid, "%s", err);
	rc = collect_one(ctx, &s, use_syslog, report);
	json_decref(s.keys);
	EVP_PKEY_free(s.signer);
	return rc;
}

/* Does this host know any HSM (modules.d)?  A tenant-only host has none. */
static int hsms_known(struct hsm_ctx *ctx)
{
	struct hsm_module *mods = NULL;
	size_t n = 0;
	char err[256];

	if (hsm_esn_count(ctx))
		return 1;
	if (hsm_modules_load(hsm_conf_dir(ctx), &mods, &n, NULL, NULL, err, sizeof(err)) < 0)
		return 1; /* let hsm_fleet_open report it */
	free(mods);
	return n > 0;
}

/* One round over every HSM and VCM. */
static int collect_round(struct hsm_ctx *ctx, const char *dir, int use_syslog, json_t *warned)
{
	json_t *report = json_array();
	struct hsm_tenant_vcm *vcms = NULL;
	size_t nvcms = 0;
	int worst = 0, rc;

	/* VCMs only when not limited to HSMs by --esn. */
	if (!hsm_esn_count(ctx) && (rc = hsm_tenant_records_list(ctx, &vcms, &nvcms)) != 0)
		worst = rc;
	if (nvcms == 0 || hsms_known(ctx)) {
		struct hsm_fleet fleet;
		rc = hsm_fleet_open(ctx, &fleet);
		worst = hsm_exit_worst(worst, rc);
		if (rc == 0) {
			for (size_t i = 0; i < fleet.count && !stop_requested; i++)
				worst =
				    hsm_exit_worst(worst, collect_hsm(ctx, dir, &fleet.modules[i],
								      use_syslog, warned, report));
			hsm_fleet_close(&fleet);
		}
	}
	for (size_t i = 0; i < nvcms && !stop_requested; i++)
		worst = hsm_exit_worst(worst, collect_vcm(ctx, dir, &vcms[i], use_syslog, report));
	hsm_tenant_records_free(vcms, nvcms);
	if (hsm_json_mode(ctx))
		json_object_set(hsm_json(ctx), "modules", report);
	json_decref(report);
	return worst;
}

int logs_collect(struct hsm_ctx *ctx)
{
	const char *dir = hsm_opt_str(ctx, "outdir");
	int daemon_mode = hsm_opt_given(ctx, "daemon"), use_syslog = hsm_opt_given(ctx, "syslog");
	int64_t interval = hsm_opt_given(ctx, "interval") ? hsm_opt_int(ctx, "interval") : 300;
	struct stat sb;
	json_t *warned;
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
	warned = json_object();
	do {
		worst = collect_round(ctx, dir, use_syslog, warned);
		for (int64_t s = 0; daemon_mode && s < interval && !stop_requested; s++)
			sleep(1);
	} while (daemon_mode && !stop_requested);
	json_decref(warned);
	if (use_syslog)
		closelog();
	return daemon_mode ? 0 : worst;
}
