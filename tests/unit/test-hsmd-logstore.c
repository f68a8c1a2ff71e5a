/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hsmd-logstore.c - the signed log on disk and its verifier: a short
 * write (a real one, from RLIMIT_FSIZE) is undone and reported, entries
 * after it follow without a gap; damage and gaps are found with their
 * sequence numbers and later entries survive; exported segments verify,
 * and tampering, a missing entry, a missing segment and a key used before
 * its epoch are each pinpointed; keys without certificates (recovery
 * mode) still check everything else; a log filled quickly verifies also
 * when its bytes arrive in pieces cut anywhere; checkpoint signatures
 * checked on a second thread give the verdicts and reasons of the in-line
 * check.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "logstore.h"
#include "sign.h"
#include "signed-log.h"
#include "tap.h"

static char dir[256];

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL, err[256];

	if (hsm_read_file(path, 1 << 24, &buf, len, err, sizeof(err)) != 0)
		return NULL;
	return buf;
}

static int verify_once(const char *const *files, size_t n, EVP_PKEY *k1, int64_t s1, EVP_PKEY *k2,
		       int64_t s2, int fast, char *err, size_t errlen, int *anchored)
{
	struct hsm_slog_verifier *v = hsm_slog_verifier_new();
	int rc = 0;

	hsm_slog_verifier_fast(v, fast);
	if (k1)
		hsm_slog_verifier_pin(v, 1, s1, k1, err, errlen);
	if (k2)
		hsm_slog_verifier_pin(v, 2, s2, k2, err, errlen);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t len;
		char *buf = slurp(files[i], &len);
		rc = buf ? hsm_slog_verifier_feed(v, files[i], buf, len, err, errlen) : -1;
		free(buf);
	}
	if (anchored)
		*anchored = hsm_slog_verifier_anchored(v);
	hsm_slog_verifier_free(v);
	return rc;
}

/* Verdicts where the fast reading of entries and the full parse differed. */
static int differ;

/* Verify with the fast reading, and again with every entry parsed in
 * full: both must give the same verdict and reason. */
static int verify(const char *const *files, size_t n, EVP_PKEY *k1, int64_t s1, EVP_PKEY *k2,
		  int64_t s2, char *err, size_t errlen, int *anchored)
{
	char full[512] = "";
	int a_full = 0,
	    rc_full = verify_once(files, n, k1, s1, k2, s2, 0, full, sizeof(full), &a_full);
	int rc;

	err[0] = '\0';
	rc = verify_once(files, n, k1, s1, k2, s2, 1, err, errlen, anchored);
	if (rc != rc_full || (rc && strcmp(err, full) != 0) || (anchored && *anchored != a_full)) {
		differ++;
		printf("# fast: %d %s\n# full: %d %s\n", rc, rc ? err : "", rc_full,
		       rc_full ? full : "");
	}
	return rc;
}

static size_t count(const char *path, const char *needle)
{
	size_t len, n = 0;
	char *buf = slurp(path, &len), *p = buf;

	while (p && (p = strstr(p, needle))) {
		n++;
		p++;
	}
	free(buf);
	return n;
}

/* Verify buf (one segment, key k1 for epoch 1) fast and in full; 1 when
 * both gave the same verdict and reason. */
static int same_verdict(const char *buf, size_t len, EVP_PKEY *k1)
{
	char e[2][512];
	int rc[2];

	for (int fast = 0; fast < 2; fast++) {
		struct hsm_slog_verifier *v = hsm_slog_verifier_new();
		hsm_slog_verifier_fast(v, fast);
		hsm_slog_verifier_pin(v, 1, 1, k1, e[fast], sizeof(e[fast]));
		e[fast][0] = '\0';
		rc[fast] = hsm_slog_verifier_feed(v, "t", buf, len, e[fast], sizeof(e[fast]));
		hsm_slog_verifier_free(v);
	}
	if (rc[0] == rc[1] && strcmp(e[0], e[1]) == 0)
		return 1;
	printf("# fast: %d %s\n# full: %d %s\n", rc[1], e[1], rc[0], e[0]);
	return 0;
}

/* Set buf[at] to c and give its line a frame header with the new
 * checksum (when the header keeps its length), so that the entry's JSON
 * is what the verifier judges. */
static void reframe(char *buf, size_t len, size_t at, char c)
{
	size_t start = at, end = at, json;
	char hdr[32];

	buf[at] = c;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	while (end < len && buf[end] != '\n')
		end++;
	json = start;
	for (int spaces = 0; json < end && spaces < 2; json++)
		if (buf[json] == ' ')
			spaces++;
	if (json >= end || at < json)
		return;
	snprintf(hdr, sizeof(hdr), "%zu %08x ", end - json, hsm_crc32c(buf + json, end - json));
	if (strlen(hdr) == json - start)
		memcpy(buf + start, hdr, json - start);
}

/* Verify buf (key k1 for epoch 1) fast or in full, whole or pushed in
 * pieces of cut bytes (0: whole).  0, or -1 with the reason in err. */
static int verdict(const char *buf, size_t len, EVP_PKEY *k1, int fast, size_t cut, char *err,
		   size_t errlen)
{
	struct hsm_slog_verifier *v = hsm_slog_verifier_new();
	int rc;

	hsm_slog_verifier_fast(v, fast);
	hsm_slog_verifier_pin(v, 1, 1, k1, err, errlen);
	err[0] = '\0';
	if (!cut) {
		rc = hsm_slog_verifier_feed(v, "t", buf, len, err, errlen);
	} else {
		rc = hsm_slog_verifier_begin(v, "t", err, errlen);
		for (size_t at = 0; rc == 0 && at < len; at += cut)
			rc = hsm_slog_verifier_push(v, buf + at, len - at < cut ? len - at : cut,
						    err, errlen);
		if (rc == 0)
			rc = hsm_slog_verifier_end(v, err, errlen);
	}
	hsm_slog_verifier_free(v);
	return rc;
}

/* buf with the signature of the checkpoint at seq sig_seq changed (one
 * base64 digit), the entry at seq drop_seq left out (0: none), and the
 * chain rebuilt from sig_seq on: only signatures are wrong from there
 * (that one, and every later one, whose prev changed), and the entry
 * left out makes a gap.  NULL if buf is not a segment. */
static char *tamper(const char *buf, size_t len, int64_t sig_seq, int64_t drop_seq, size_t *outlen)
{
	char *out = malloc(len + 4096), prev[2 * HSM_SLOG_HASH_LEN + 1] = "", why[256];
	size_t pos = 0, olen = 0, jlen;
	const char *json;

	while (out && hsm_slog_next_frame(buf, len, &pos, &json, &jlen) == 1) {
		json_t *e = hsm_slog_entry_parse(json, jlen, why, sizeof(why));
		int64_t seq = json_integer_value(json_object_get(e, "seq"));
		uint8_t hash[HSM_SLOG_HASH_LEN];
		size_t flen;
		char *frame;

		if (!e)
			break;
		if (seq == drop_seq) {
			json_decref(e);
			continue;
		}
		if (seq == sig_seq) {
			json_t *d = json_object_get(e, "detail");
			char *sig = strdup(json_string_value(json_object_get(d, "sig")));
			sig[10] = sig[10] == 'A' ? 'B' : 'A';
			json_object_set_new(d, "sig", json_string(sig));
			free(sig);
		}
		if (seq > sig_seq)
			json_object_set_new(e, "prev", json_string(prev));
		frame = hsm_slog_frame(e, &flen, hash);
		json_decref(e);
		if (!frame || olen + flen > len + 4096)
			break;
		memcpy(out + olen, frame, flen);
		olen += flen;
		free(frame);
		hsm_slog_hex(hash, prev);
	}
	if (!out || pos != len) {
		free(out);
		return NULL;
	}
	*outlen = olen;
	return out;
}

/* The seq of the n-th checkpoint of buf (from 1), or 0. */
static int64_t checkpoint_seq(const char *buf, size_t n)
{
	const char *p = buf;

	while (n && (p = strstr(p, "\"event\":\"checkpoint\"")))
		if (--n == 0)
			return strtoll(strstr(p, "\"seq\":") + 6, NULL, 10);
		else
			p++;
	return 0;
}

int main(void)
{
	struct hd_slog l;
	char err[512], path[512], seg1[512], seg2[512], copy[512];
	EVP_PKEY *k1 = hsm_ed25519_generate(err, sizeof(err)),
		 *k2 = hsm_ed25519_generate(err, sizeof(err));
	json_t *problems = json_array();
	struct stat sb;
	struct hd_slog_mark mark;
	int64_t closed, since2;
	int anchored;

	snprintf(dir, sizeof(dir), "%s/hsmd-logstore-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir) || !k1 || !k2)
		return 1;
	snprintf(path, sizeof(path), "%s/system.log", dir);

	TAP_INT_EQ(hd_slog_open(&l, dir, "system", "1A23-BC45-6789", "system", k1, 1, 1, 4, 1, 1,
				problems, 1000, err, sizeof(err)),
		   0, "open a new log");
	TAP_INT_EQ(l.last_seq, 2, "... log_open and log_previous written");
	for (int i = 0; i < 3; i++)
		hd_slog_append(&l, 1000 + i, "touch", json_pack("{s:i}", "n", i), err, sizeof(err));
	TAP_INT_EQ(hd_slog_checkpoint_due(&l, 1010, err, sizeof(err)), 0, "a checkpoint when due");
	TAP_INT_EQ(l.uncovered, 0, "... covers every entry");
	TAP_INT_EQ(l.last_seq, 6, "... and is an entry itself");

	/* Disk full: the write is cut short by the file size limit. */
	{
		struct rlimit old, lim;
		uint64_t before = l.open_bytes;
		signal(SIGXFSZ, SIG_IGN);
		getrlimit(RLIMIT_FSIZE, &old);
		lim = old;
		lim.rlim_cur = (rlim_t)(before + 30);
		setrlimit(RLIMIT_FSIZE, &lim);
		tap_ok(hd_slog_append(
			   &l, 1020, "settime",
			   json_pack("{s:s}", "pad", "a detail long enough to cross the limit"),
			   err, sizeof(err)) != 0,
		       "disk full: the append fails");
		TAP_HAS(err, "write", "... naming the write");
		setrlimit(RLIMIT_FSIZE, &old);
		stat(path, &sb);
		TAP_INT_EQ(sb.st_size, before, "... and the half-written entry is cut off again");
		TAP_INT_EQ(l.last_seq, 6, "... and takes no sequence number");
	}
	TAP_INT_EQ(hd_slog_append(&l, 1021, "settime", NULL, err, sizeof(err)), 0,
		   "the next append works");
	TAP_INT_EQ(l.last_seq, 7, "... with the next sequence number (no gap)");

	/* A failed state write takes its entry out again. */
	hd_slog_mark(&l, &mark);
	hd_slog_append(&l, 1022, "fet", NULL, err, sizeof(err));
	TAP_INT_EQ(hd_slog_rollback(&l, &mark), 0, "rollback");
	TAP_INT_EQ(l.last_seq, 7, "... the entry is gone");
	stat(path, &sb);
	TAP_INT_EQ((uint64_t)sb.st_size, l.open_bytes, "... from the file too");
	hd_slog_close(&l);

	/* Reopen: clean, nothing to report. */
	json_array_clear(problems);
	TAP_INT_EQ(hd_slog_open(&l, dir, "system", "1A23-BC45-6789", "system", k1, 1, 1, 4, 8, 1,
				problems, 1030, err, sizeof(err)),
		   0, "reopen");
	TAP_INT_EQ(json_array_size(problems), 0, "... no problems");
	TAP_INT_EQ(l.last_seq, 7, "... the sequence continues");
	/* A change entry at or past the state's next_seq never committed. */
	hd_slog_append(&l, 1031, "setminvsn", NULL, err, sizeof(err));
	hd_slog_close(&l);
	TAP_INT_EQ(hd_slog_open(&l, dir, "system", "1A23-BC45-6789", "system", k1, 1, 1, 4, 8, 1,
				problems, 1032, err, sizeof(err)),
		   0, "reopen after a crash before the state write");
	TAP_INT_EQ(l.last_seq, 7, "... the uncommitted entry is cut off");

	/* Export: segment 1 closes and verifies. */
	TAP_INT_EQ(hd_slog_close_segment(&l, 1040, &closed, err, sizeof(err)), 0,
		   "close segment 1");
	TAP_INT_EQ(closed, 1, "... its number");
	TAP_INT_EQ(l.segment, 2, "... segment 2 is open");
	snprintf(seg1, sizeof(seg1), "%s/system.saved/1.log", dir);
	{
		const char *f[] = { seg1 };
		TAP_INT_EQ(verify(f, 1, k1, 1, NULL, 0, err, sizeof(err), &anchored), 0,
			   "segment 1 verifies");
		if (anchored == 0)
			printf("# %s\n", err);
		tap_ok(anchored, "... anchored to the pinned key");
		TAP_INT_EQ(verify(f, 1, k2, 1, NULL, 0, err, sizeof(err), NULL), -1,
			   "... not with another key");
		TAP_HAS(err, "entry seq 1 (byte 0): the log's key for epoch 1 is not the key given",
			"... the first entry that disagrees is named");
	}
	/* Tampering: change one detail byte of entry 4 (a "touch" n=1). */
	{
		size_t len;
		char *buf = slurp(seg1, &len), *p = strstr(buf, "{\"n\":1}");
		const char *f[] = { copy };
		snprintf(copy, sizeof(copy), "%s/tampered.log", dir);
		p[5] = '7';
		hsm_write_file_atomic(copy, buf, len, 0600, err, sizeof(err));
		TAP_INT_EQ(verify(f, 1, k1, 1, NULL, 0, err, sizeof(err), NULL), -1,
			   "a tampered entry fails");
		TAP_HAS(err, "byte", "... pinpointed");
		printf("# %s\n", err);
		/* Re-frame it so only the chain can tell. */
		{
			char *line = strstr(buf, "{\"detail\":{\"n\":7}");
			char *start = line, *nl = strchr(line, '\n');
			size_t jl = (size_t)(nl - line);
			char hdr[32];
			while (start > buf && start[-1] != '\n')
				start--;
			snprintf(hdr, sizeof(hdr), "%zu %08x ", jl, hsm_crc32c(line, jl));
			if ((size_t)(line - start) == strlen(hdr))
				memcpy(start, hdr, strlen(hdr));
			hsm_write_file_atomic(copy, buf, len, 0600, err, sizeof(err));
		}
		TAP_INT_EQ(verify(f, 1, k1, 1, NULL, 0, err, sizeof(err), NULL), -1,
			   "a re-framed tampered entry fails");
		TAP_HAS(err, "entry seq 5", "... at the entry after it (the hash chain)");
		printf("# %s\n", err);
		/* A missing entry. */
		free(buf);
		buf = slurp(seg1, &len);
		{
			char *e4 = strstr(buf, "{\"detail\":{\"n\":1}");
			char *start = e4, *nl = strchr(e4, '\n');
			while (start > buf && start[-1] != '\n')
				start--;
			memmove(start, nl + 1, len - (size_t)(nl + 1 - buf));
			len -= (size_t)(nl + 1 - start);
		}
		hsm_write_file_atomic(copy, buf, len, 0600, err, sizeof(err));
		TAP_INT_EQ(verify(f, 1, k1, 1, NULL, 0, err, sizeof(err), NULL), -1,
			   "a missing entry fails");
		TAP_HAS(err, "entries 4..4 are missing", "... naming the missing sequence numbers");
		free(buf);
	}

	/* Recovery mode: keys without certificates, pinned as given; every
	 * other check stays. */
	{
		char *k1line = hsm_key_to_openssh(k1), *k2line = hsm_key_to_openssh(k2);
		json_t *unc = json_pack("[{s:i, s:i, s:s}]", "epoch", 1, "since", 1, "key", k1line);
		json_t *other =
		    json_pack("[{s:i, s:i, s:s}]", "epoch", 1, "since", 1, "key", k2line);
		json_t *bad = json_pack("[{s:i, s:s}]", "epoch", 1, "key", k1line);
		json_t *cert = json_pack("[{s:i, s:i, s:s, s:{}}]", "epoch", 1, "since", 1, "key",
					 k1line, "certificate");
		json_t *sum, *none = json_array();
		size_t len, tlen;
		char *buf = slurp(seg1, &len), *tampered = slurp(copy, &tlen);

		tap_ok(!hsm_slog_keys_certified(unc) && !hsm_slog_keys_certified(none) &&
			   hsm_slog_keys_certified(cert),
		       "keys_certified: only when every key has a certificate");
		sum = hsm_slog_verify_export(buf, len, unc, NULL, "1A23-BC45-6789", "system", 1,
					     err, sizeof(err));
		tap_ok(sum && json_is_true(json_object_get(sum, "anchored")),
		       "uncertified keys: segment 1 verifies, anchored to the keys given");
		json_decref(sum);
		sum = hsm_slog_verify_export(buf, len, other, NULL, "1A23-BC45-6789", "system", 1,
					     err, sizeof(err));
		tap_ok(!sum, "... not with another key given");
		TAP_HAS(err, "not the key given", "... naming it");
		sum = hsm_slog_verify_export(tampered, tlen, unc, NULL, "1A23-BC45-6789", "system",
					     1, err, sizeof(err));
		tap_ok(!sum, "... a segment with an entry missing fails");
		TAP_HAS(err, "missing", "... naming it");
		sum = hsm_slog_verify_export(buf, len, bad, NULL, "1A23-BC45-6789", "system", 1,
					     err, sizeof(err));
		tap_ok(!sum, "... a key without since is refused");
		TAP_HAS(err, "keys[0]: needs epoch, since and key", "... naming it");
		sum = hsm_slog_verify_export(buf, len, unc, k1, "1A23-BC45-6789", "system", 1, err,
					     sizeof(err));
		tap_ok(!sum, "the same keys with a signer: the certificate is required");
		TAP_HAS(err, "certificate", "... naming it");
		/* Certificates signed by k2 (as the HSM identity would): one for
		 * this key, epoch and log is accepted; one for another log is not. */
		for (int other_log = 0; other_log < 2; other_log++) {
			json_t *body = json_pack("{s:i, s:i, s:s, s:s, s:s}", "epoch", 1, "since",
						 1, "key", k1line, "esn", "1A23-BC45-6789", "log",
						 other_log ? "vcm" : "system");
			json_t *signed_cert = hsm_signed_wrap(body, k2, err, sizeof(err));
			json_t *keys = json_pack("[{s:i, s:i, s:s, s:o}]", "epoch", 1, "since", 1,
						 "key", k1line, "certificate", signed_cert);

			sum = hsm_slog_verify_export(buf, len, keys, k2, "1A23-BC45-6789", "system",
						     1, err, sizeof(err));
			if (!other_log) {
				tap_ok(sum != NULL,
				       "certified keys: a certificate for this key, epoch and log "
				       "verifies the segment (%s)",
				       sum ? "ok" : err);
			} else {
				tap_ok(!sum, "... one for another log is refused");
				TAP_HAS(err, "the certificate is for another key, epoch or log",
					"... naming it");
			}
			json_decref(sum);
			json_decref(keys);
			json_decref(body);
		}
		json_decref(unc);
		json_decref(other);
		json_decref(bad);
		json_decref(cert);
		json_decref(none);
		free(buf);
		free(tampered);
		free(k1line);
		free(k2line);
	}

	/* Factory state: a new key for epoch 2, announced under the old. */
	hd_slog_append(&l, 1050, "factorystate", NULL, err, sizeof(err));
	since2 = hd_slog_key_since(&l, 0);
	TAP_INT_EQ(hd_slog_change_key(&l, 1050, k2, err, sizeof(err)), 0, "change the key");
	TAP_INT_EQ(l.epoch, 2, "... epoch 2");
	TAP_INT_EQ(l.since, since2, "... from the log_key entry on");
	hd_slog_append(&l, 1051, "enroll", NULL, err, sizeof(err));
	TAP_INT_EQ(hd_slog_close_segment(&l, 1060, &closed, err, sizeof(err)), 0,
		   "close segment 2");
	snprintf(seg2, sizeof(seg2), "%s/system.saved/2.log", dir);
	{
		const char *both[] = { seg1, seg2 }, *only2[] = { seg2 }, *gap[] = { seg1, copy };
		TAP_INT_EQ(verify(both, 2, k1, 1, k2, since2, err, sizeof(err), &anchored), 0,
			   "segments 1 and 2 verify across the key change");
		if (anchored == 0)
			printf("# %s\n", err);
		tap_ok(anchored, "... anchored");
		TAP_INT_EQ(verify(both, 2, k1, 1, NULL, 0, err, sizeof(err), &anchored), 0,
			   "... also with only the old key (the new one is introduced under it)");
		tap_ok(anchored, "... anchored");
		TAP_INT_EQ(verify(only2, 1, NULL, 0, k2, since2, err, sizeof(err), &anchored), 0,
			   "segment 2 alone verifies");
		tap_ok(!anchored, "... but not anchored without the old epoch's key");
		TAP_INT_EQ(verify(only2, 1, k1, 1, k2, 1, err, sizeof(err), NULL), 0,
			   "a since earlier than the real one is harmless");
		/* A missing segment between two given ones. */
		hd_slog_append(&l, 1061, "enroll", NULL, err, sizeof(err));
		hd_slog_close_segment(&l, 1062, &closed, err, sizeof(err));
		snprintf(copy, sizeof(copy), "%s/system.saved/3.log", dir);
		TAP_INT_EQ(verify(gap, 2, k1, 1, k2, since2, err, sizeof(err), NULL), -1,
			   "a missing segment fails");
		TAP_HAS(err, "segments 2..2 are missing", "... naming it");
	}

	/* A key captured later cannot sign an older epoch's entries. */
	{
		char forged[512];
		struct hd_slog f;
		const char *fl[] = { seg1 };
		snprintf(forged, sizeof(forged), "%s/forged", dir);
		mkdir(forged, 0700);
		hd_slog_open(&f, forged, "system", "1A23-BC45-6789", "system", k2, 2, 1, 4, 1, 1,
			     NULL, 1000, err, sizeof(err));
		hd_slog_append(&f, 1001, "touch", NULL, err, sizeof(err));
		hd_slog_close_segment(&f, 1002, &closed, err, sizeof(err));
		hd_slog_close(&f);
		snprintf(forged, sizeof(forged), "%s/forged/system.saved/1.log", dir);
		fl[0] = forged;
		TAP_INT_EQ(verify(fl, 1, k1, 1, k2, since2, err, sizeof(err), NULL), -1,
			   "entries before epoch 2 signed with the epoch-2 key fail");
		TAP_HAS(err, "before its epoch began", "... saying why");
	}

	/* Damage in the middle of the open segment: reported with sequence
	 * numbers, later entries kept. */
	hd_slog_append(&l, 1070, "a", NULL, err, sizeof(err));
	hd_slog_append(&l, 1071, "b", NULL, err, sizeof(err));
	hd_slog_close(&l);
	{
		size_t len;
		char *buf = slurp(path, &len), *b = strstr(buf, "\"event\":\"a\"");
		/* glue garbage into entry "b" the way an unframed writer would */
		while (b > buf && b[-1] != '\n')
			b--;
		b[0] = 'X';
		hsm_write_file_atomic(path, buf, len, 0600, err, sizeof(err));
		free(buf);
		buf = slurp(path, &len);
		{
			FILE *fp = fopen(path, "a");
			fputs("garbage without a frame\n", fp);
			fclose(fp);
		}
		free(buf);
	}
	json_array_clear(problems);
	TAP_INT_EQ(hd_slog_open(&l, dir, "system", "1A23-BC45-6789", "system", k2, 2, since2, 4, 0,
				1, problems, 1080, err, sizeof(err)),
		   0, "open over a damaged entry");
	TAP_INT_EQ(json_array_size(problems), 3,
		   "... damage, the gap it leaves and the garbage tail reported");
	TAP_HAS(json_string_value(json_array_get(problems, 0)), "after seq",
		"... each with the sequence number before it");
	TAP_HAS(json_string_value(json_array_get(problems, 1)), "are missing (gap before seq",
		"... the gap with its sequence numbers");
	for (size_t i = 0; i < json_array_size(problems); i++)
		printf("# %s\n", json_string_value(json_array_get(problems, i)));
	TAP_INT_EQ(count(path, "\"event\":\"log_damaged\""), 3,
		   "... and recorded in the log itself");
	TAP_INT_EQ(count(path, "\"event\":\"b\""), 1, "... the entry after the damage is kept");
	hd_slog_append(&l, 1081, "c", NULL, err, sizeof(err));
	{
		json_t *all = hd_slog_entries(&l, err, sizeof(err));
		json_t *last = json_array_get(all, json_array_size(all) - 1);
		TAP_STR_EQ(json_string_value(json_object_get(last, "event")), "c",
			   "new entries follow");
		json_decref(all);
	}
	hd_slog_close(&l);

	/* A quick large log (simulate --log-fill) verifies, also when its
	 * bytes arrive in pieces cut anywhere (a streamed export); a cut or
	 * changed stream fails. */
	{
		char fdir[600], fseg[700], *buf;
		size_t len;
		static const size_t cuts[] = { 1, 7, 4096, 65551, 65552, 1 << 20 };
		json_t *pad = json_pack("{s:s}", "pad", "0123456789abcdef0123456789abcdef");
		struct hsm_slog_verifier *v;

		snprintf(fdir, sizeof(fdir), "%s/fill", dir);
		mkdir(fdir, 0700);
		json_array_clear(problems);
		TAP_INT_EQ(hd_slog_open(&l, fdir, "system", "1A23-BC45-6789", "system", k1, 1, 1,
					64, 1, 1, problems, 2000, err, sizeof(err)),
			   0, "fill: open a new log");
		TAP_INT_EQ(hd_slog_fill(&l, 2001, "simulate_fill", pad, 20000, err, sizeof(err)), 0,
			   "fill: 20000 entries");
		TAP_INT_EQ(l.last_seq, 2 + 20000 + 20002 / 64, "... with their checkpoints");
		TAP_INT_EQ(hd_slog_close_segment(&l, 2002, &closed, err, sizeof(err)), 0,
			   "... segment closes");
		hd_slog_close(&l);
		json_decref(pad);
		snprintf(fseg, sizeof(fseg), "%s/system.saved/1.log", fdir);
		buf = slurp(fseg, &len);
		tap_ok(buf && len > (1u << 20), "... more than a megabyte");
		for (size_t c = 0; buf && c < sizeof(cuts) / sizeof(cuts[0]); c++) {
			int rc;
			v = hsm_slog_verifier_new();
			hsm_slog_verifier_pin(v, 1, 1, k1, err, sizeof(err));
			rc = hsm_slog_verifier_begin(v, "fill", err, sizeof(err));
			for (size_t at = 0; rc == 0 && at < len; at += cuts[c])
				rc = hsm_slog_verifier_push(v, buf + at,
							    len - at < cuts[c] ? len - at : cuts[c],
							    err, sizeof(err));
			if (rc == 0)
				rc = hsm_slog_verifier_end(v, err, sizeof(err));
			TAP_INT_EQ(rc, 0, "the filled segment verifies in pieces");
			if (rc)
				printf("#   pieces of %zu: %s\n", cuts[c], err);
			hsm_slog_verifier_free(v);
		}
		if (buf) {
			v = hsm_slog_verifier_new();
			tap_ok(hsm_slog_verifier_feed(v, "cut", buf, len - 100, err, sizeof(err)) !=
				   0,
			       "a segment cut short fails");
			TAP_HAS(err, "torn tail", "... as a torn tail");
			hsm_slog_verifier_free(v);
			buf[len / 2] ^= 1;
			v = hsm_slog_verifier_new();
			hsm_slog_verifier_pin(v, 1, 1, k1, err, sizeof(err));
			tap_ok(hsm_slog_verifier_begin(v, "flip", err, sizeof(err)) != 0 ||
				   hsm_slog_verifier_push(v, buf, len / 3, err, sizeof(err)) != 0 ||
				   hsm_slog_verifier_push(v, buf + len / 3, len - len / 3, err,
							  sizeof(err)) != 0 ||
				   hsm_slog_verifier_end(v, err, sizeof(err)) != 0,
			       "a changed byte fails");
			tap_ok(hsm_slog_verifier_push(v, "x", 1, err, sizeof(err)) != 0,
			       "... and the verifier takes nothing more");
			hsm_slog_verifier_free(v);
		}
		free(buf);
	}

	/* Start-up reads the open segment a chunk at a time (1 MiB): damage
	 * anywhere, also across chunk boundaries and longer than a chunk, is
	 * found where it starts and skipped to the next valid frame exactly
	 * as on the whole file. */
	{
		char fseg[700], ddir[700], dlog[800], want[256];
		char *buf;
		size_t len, starts[4] = { 0 }, ends[4] = { 0 }, nd = 0;
		int64_t seqs[4] = { 0 };
		/* frames holding these offsets are damaged (the last for 1.5 MiB) */
		const size_t at[] = { (1u << 20) - 3, (1u << 20) + 65552, 2u << 20 };
		struct hd_slog d;

		snprintf(fseg, sizeof(fseg), "%s/fill/system.saved/1.log", dir);
		snprintf(ddir, sizeof(ddir), "%s/damaged", dir);
		snprintf(dlog, sizeof(dlog), "%s/system.log", ddir);
		mkdir(ddir, 0700);
		buf = slurp(fseg, &len);
		for (size_t i = 0, start = 0, k = 0; buf && i < len && k < 3; i++) {
			if (buf[i] != '\n')
				continue;
			if (at[k] >= start && at[k] <= i) {
				const char *sq = strstr(buf + start, "\"seq\":");
				starts[k] = start;
				ends[k] = i + 1;
				seqs[k] = sq ? strtoll(sq + 6, NULL, 10) : 0;
				k++;
				nd = k;
			}
			start = i + 1;
		}
		tap_ok(buf && nd == 3 && len > (7u << 19) + HSM_SLOG_MAX_FRAME,
		       "a segment of more than 3.5 MiB to damage");
		if (buf && nd == 3) {
			size_t gend, lastline = len - 1;
			int64_t last_seq;
			while (lastline > 0 && buf[lastline - 1] != '\n')
				lastline--;
			last_seq = strtoll(strstr(buf + lastline, "\"seq\":") + 6, NULL, 10);
			buf[starts[0] + 20] ^= 1; /* a checksum mismatch */
			buf[starts[1] + 20] ^= 1;
			/* 1.5 MiB of garbage without a newline from the third on */
			memset(buf + starts[2], 'x', (3u << 19));
			gend = starts[2] + (3u << 19);
			while (buf[gend - 1] != '\n')
				gend++;
			ends[2] = gend;
			hsm_write_file_atomic(dlog, buf, len, 0600, err, sizeof(err));
			json_array_clear(problems);
			TAP_INT_EQ(hd_slog_open(&d, ddir, "system", "1A23-BC45-6789", "system", k1,
						1, 1, 64, 0, 1, problems, 3000, err, sizeof(err)),
				   0, "open a segment damaged across chunk boundaries");
			for (size_t i = 0; i < json_array_size(problems); i++)
				printf("# %s\n", json_string_value(json_array_get(problems, i)));
			TAP_INT_EQ(json_array_size(problems), 6,
				   "... three damages and their gaps");
			for (size_t k = 0; k < 3; k++) {
				snprintf(want, sizeof(want),
					 "byte %zu: %zu damaged bytes after seq %lld skipped",
					 starts[k], ends[k] - starts[k], (long long)seqs[k] - 1);
				TAP_HAS(json_string_value(json_array_get(problems, 2 * k)), want,
					"... each where it starts, up to the next valid frame");
			}
			TAP_INT_EQ(d.found_last_seq, last_seq,
				   "... and the entries after the damage are kept");
			hd_slog_close(&d);
		}
		free(buf);
	}

	/* The fast reading against the full parse, entry bytes changed one at
	 * a time and re-framed (the first entries of the filled segment: a
	 * prefix of whole frames, with a checkpoint in it). */
	{
		char fseg[700], *buf, *cp;
		size_t len, pre = 0, n = 0, bad = 0;
		static const char subst[] = "\"\\{}[],:0179-e.aZ \x01\x80";

		snprintf(fseg, sizeof(fseg), "%s/fill/system.saved/1.log", dir);
		buf = slurp(fseg, &len);
		for (int lines = 0; buf && pre < len && lines < 70; pre++)
			if (buf[pre] == '\n')
				lines++;
		cp = buf ? malloc(pre) : NULL;
		for (size_t at = 0; cp && at < pre; at += 7)
			for (size_t k = 0; k < sizeof(subst) - 1; k++) {
				memcpy(cp, buf, pre);
				reframe(cp, pre, at, subst[k]);
				n++;
				bad += !same_verdict(cp, pre, k1);
			}
		printf("# %zu changed segments\n", n);
		tap_ok(n > 1000 && bad == 0,
		       "changed entries: the same verdict and reason fast and in full");
		free(cp);
		free(buf);
	}

	/* Bad checkpoint signatures in a segment with 300 checkpoints: the
	 * second thread's verdicts are the in-line check's, whole and in
	 * pieces, and the first bad signature is reported ahead of every
	 * later problem (the later signatures, a gap). */
	{
		char fseg[700], *buf, *bad, full[512], fast[512], want[128];
		size_t len, blen;
		int64_t cp[2];
		static const size_t cuts[] = { 0, 4096, 65552 };

		snprintf(fseg, sizeof(fseg), "%s/fill/system.saved/1.log", dir);
		buf = slurp(fseg, &len);
		cp[0] = buf ? checkpoint_seq(buf, 150) : 0;
		cp[1] = buf ? checkpoint_seq(buf, 2) : 0;
		tap_ok(cp[0] > 0 && cp[1] > 0, "checkpoints to change");
		for (size_t i = 0; buf && cp[0] > 0 && i < 4; i++) {
			/* the 150th, the 2nd, the 150th with a gap after it, the last */
			int64_t sig_seq = cp[i == 1 ? 1 : 0], drop = i == 2 ? sig_seq + 3000 : 0;
			if (i == 3) {
				size_t lastline = len - 1;
				while (lastline > 0 && buf[lastline - 1] != '\n')
					lastline--;
				sig_seq = strtoll(strstr(buf + lastline, "\"seq\":") + 6, NULL, 10);
			}
			bad = tamper(buf, len, sig_seq, drop, &blen);
			tap_ok(bad != NULL, "a segment with a bad signature at seq %lld",
			       (long long)sig_seq);
			if (!bad)
				continue;
			tap_ok(verdict(bad, blen, k1, 0, 0, full, sizeof(full)) != 0,
			       "... fails in line");
			snprintf(want, sizeof(want), "entry seq %lld (byte ", (long long)sig_seq);
			TAP_HAS(full, want, "... at that checkpoint");
			TAP_HAS(full, "checkpoint signature does not verify", "... its signature");
			for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
				tap_ok(verdict(bad, blen, k1, 1, cuts[c], fast, sizeof(fast)) != 0,
				       "... fails on the second thread (pieces of %zu)", cuts[c]);
				TAP_STR_EQ(fast, full, "... with the same reason");
			}
			free(bad);
		}
		free(buf);
	}

	TAP_INT_EQ(differ, 0, "the fast reading and the full parse gave the same verdicts");

	/* SIGNED_LOG_SEEDS=DIR keeps two segments and a key file as fuzz
	 * seeds (tests/fuzz/corpus/signed-log). */
	if (getenv("SIGNED_LOG_SEEDS")) {
		char cmd[2048];
		snprintf(cmd, sizeof(cmd),
			 "cp '%s' '%s/segment-1' && cp '%s' '%s/segment-2' && "
			 "sed -n 1p '%s' | sed 's/^[^{]*//' | jq -r .detail.key >'%s/key-line'",
			 seg1, getenv("SIGNED_LOG_SEEDS"), seg2, getenv("SIGNED_LOG_SEEDS"), seg1,
			 getenv("SIGNED_LOG_SEEDS"));
		if (system(cmd) != 0)
			printf("# could not keep the seeds\n");
	}
	json_decref(problems);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
