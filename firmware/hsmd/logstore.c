/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logstore.c - one signed log on the device's disk (see logstore.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "hsmd.h"
#include "logstore.h"
#include "sign.h"

#define MAX_SEGMENT_FILE (UINT64_C(1) << 32)

/* Entries the log writes about itself; every other event is a change
 * entry of a transaction. */
static int structural(const char *event)
{
	return strcmp(event, "log_open") == 0 || strcmp(event, "log_previous") == 0 ||
	       strcmp(event, "checkpoint") == 0 || strcmp(event, "log_key") == 0 ||
	       strcmp(event, "log_damaged") == 0;
}

static void open_path(const struct hd_slog *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.log", l->dir, l->name);
}

static void saved_dir(const struct hd_slog *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.saved", l->dir, l->name);
}

static void saved_path(const struct hd_slog *l, int64_t seg, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.saved/%" PRId64 ".log", l->dir, l->name, seg);
}

static int problem(json_t *problems, const char *fmt, ...) HSM_PRINTF(2, 3);
static int problem(json_t *problems, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (problems)
		json_array_append_new(problems, json_string(buf));
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

/* Cut the open segment to its last whole entry. */
static int cut_tail(struct hd_slog *l)
{
	char path[4200];
	int fd, rc = -1;

	open_path(l, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		rc = ftruncate(fd, (off_t)l->open_bytes) == 0 && fdatasync(fd) == 0 ? 0 : -1;
		close(fd);
	}
	l->tail_dirty = rc != 0;
	return rc;
}

/* Write bytes at the end of the open segment, durably, or not at all. */
static int append_bytes(struct hd_slog *l, const char *frame, size_t n, char *err, size_t errlen)
{
	char path[4200];
	int fd, e;

	if (l->tail_dirty && cut_tail(l) != 0)
		return hsm_set_err(err, errlen, "%s.log: a failed write could not be undone: %s",
				   l->name, strerror(errno));
	open_path(l, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	/* Write at the known end: anything past it is a failed write's rest. */
	if (lseek(fd, (off_t)l->open_bytes, SEEK_SET) < 0 || hsm_write_all(fd, frame, n) != 0 ||
	    fdatasync(fd) != 0) {
		e = errno;
		if (ftruncate(fd, (off_t)l->open_bytes) != 0 || fdatasync(fd) != 0)
			l->tail_dirty = 1;
		close(fd);
		return hsm_set_err(err, errlen, "%s: write: %s", path, strerror(e));
	}
	close(fd);
	l->open_bytes += n;
	return 0;
}

/* The frame of the next entry (steals detail); the log's state is not
 * touched: the caller writes it, then takes the hash in (advance). */
static char *next_frame(struct hd_slog *l, int64_t time, const char *event, json_t *detail,
			size_t *n, uint8_t hash[HSM_SLOG_HASH_LEN], char *err, size_t errlen)
{
	char prev[2 * HSM_SLOG_HASH_LEN + 1], *frame;
	json_t *e;

	if (!detail)
		detail = json_object();
	hsm_slog_hex(l->last_hash, prev);
	e = json_pack("{s:I, s:I, s:s, s:o, s:s, s:I}", "seq", (json_int_t)(l->last_seq + 1),
		      "time", (json_int_t)(time < 0 ? 0 : time), "event", event, "detail", detail,
		      "prev", prev, "seg", (json_int_t)l->segment);
	if (!e) {
		hsm_set_err(err, errlen, "out of memory");
		return NULL;
	}
	frame = hsm_slog_frame(e, n, hash);
	json_decref(e);
	if (!frame)
		hsm_set_err(err, errlen, "log entry %s too large or not encodable", event);
	return frame;
}

static void advance(struct hd_slog *l, const uint8_t hash[HSM_SLOG_HASH_LEN])
{
	memcpy(l->last_hash, hash, HSM_SLOG_HASH_LEN);
	l->last_seq++;
	l->uncovered++;
}

static int append_entry(struct hd_slog *l, int64_t time, const char *event, json_t *detail,
			char *err, size_t errlen)
{
	uint8_t hash[HSM_SLOG_HASH_LEN];
	size_t n = 0;
	char *frame = next_frame(l, time, event, detail, &n, hash, err, errlen);

	if (!frame)
		return -1;
	if (append_bytes(l, frame, n, err, errlen) != 0) {
		free(frame);
		return -1;
	}
	free(frame);
	advance(l, hash);
	return 0;
}

/* The detail of a checkpoint signing everything so far. */
static json_t *checkpoint_detail(struct hd_slog *l, int close, char *err, size_t errlen)
{
	char prev[2 * HSM_SLOG_HASH_LEN + 1], inner[256], *msg, *sig64;
	uint8_t sig[HSM_ED25519_SIG_LEN];
	size_t mlen;
	json_t *detail;

	hsm_slog_hex(l->last_hash, prev);
	msg = hsm_slog_checkpoint_message(l->esn, l->log, l->segment, l->last_seq + 1, l->epoch,
					  prev, &mlen);
	if (!msg || hsm_ed25519_sign(l->key, msg, mlen, sig, inner, sizeof(inner)) != 0) {
		free(msg);
		hsm_set_err(err, errlen, "cannot sign a log checkpoint: %s",
			    msg ? inner : "out of memory");
		return NULL;
	}
	free(msg);
	sig64 = hsm_base64_encode(sig, sizeof(sig));
	detail =
	    sig64 ? json_pack("{s:I, s:s}", "epoch", (json_int_t)l->epoch, "sig", sig64) : NULL;
	free(sig64);
	if (!detail) {
		hsm_set_err(err, errlen, "out of memory");
		return NULL;
	}
	if (close)
		json_object_set_new(detail, "close", json_true());
	return detail;
}

int hd_slog_checkpoint(struct hd_slog *l, int64_t time, int close, char *err, size_t errlen)
{
	json_t *detail = checkpoint_detail(l, close, err, errlen);
	int rc;

	if (!detail)
		return -1;
	rc = append_entry(l, time, "checkpoint", detail, err, errlen);
	if (rc == 0)
		l->uncovered = 0;
	return rc;
}

int hd_slog_checkpoint_due(struct hd_slog *l, int64_t time, char *err, size_t errlen)
{
	if (l->checkpoint_every && l->uncovered >= (int64_t)l->checkpoint_every)
		return hd_slog_checkpoint(l, time, 0, err, errlen);
	return 0;
}

/* Start segment l->segment: log_open and log_previous. */
static int open_segment(struct hd_slog *l, int64_t time, int cleared, char *err, size_t errlen)
{
	char *key = hsm_key_to_openssh(l->key);
	json_t *open, *prev;

	if (!key)
		return hsm_set_err(err, errlen, "the log key is unreadable");
	l->open_bytes = 0;
	l->uncovered = 0;
	open = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s}", "segment", (json_int_t)l->segment, "esn",
			 l->esn, "log", l->log, "epoch", (json_int_t)l->epoch, "since",
			 (json_int_t)l->since, "key", key);
	free(key);
	prev = json_pack("{s:I, s:I}", "segment", (json_int_t)(l->segment - 1), "last_seq",
			 (json_int_t)l->last_seq);
	if (cleared && prev)
		json_object_set_new(prev, "cleared", json_true());
	if (!open || !prev) {
		json_decref(open);
		json_decref(prev);
		return hsm_set_err(err, errlen, "out of memory");
	}
	{
		/* A fresh file: nothing of an older segment may stay in it. */
		char path[4200];
		open_path(l, path, sizeof(path));
		if (unlink(path) != 0 && errno != ENOENT) {
			json_decref(open);
			json_decref(prev);
			return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
		}
		l->tail_dirty = 0;
	}
	if (append_entry(l, time, "log_open", open, err, errlen) != 0) {
		json_decref(prev);
		return -1;
	}
	if (append_entry(l, time, "log_previous", prev, err, errlen) != 0)
		return -1;
	return hsm_fsync_dir(l->dir, err, errlen);
}

/* The open segment must exist before an append (an export may have
 * closed it without opening the next). */
static int ensure_segment(struct hd_slog *l, int64_t time, char *err, size_t errlen)
{
	char path[4200];
	struct stat sb;

	open_path(l, path, sizeof(path));
	if (l->open_bytes > 0 || lstat(path, &sb) == 0)
		return 0;
	return open_segment(l, time, 0, err, errlen);
}

int hd_slog_ready(struct hd_slog *l, int64_t time, char *err, size_t errlen)
{
	return ensure_segment(l, time < 0 ? 0 : time, err, errlen);
}

int hd_slog_append(struct hd_slog *l, int64_t time, const char *event, json_t *detail, char *err,
		   size_t errlen)
{
	if (ensure_segment(l, time, err, errlen) != 0) {
		json_decref(detail);
		return -1;
	}
	return append_entry(l, time, event, detail, err, errlen);
}

#define FILL_FLUSH (1024 * 1024)

/* Frames gathered in buf written as one durable append; on failure the
 * log goes back to mark. */
static int fill_flush(struct hd_slog *l, char *buf, size_t *used, struct hd_slog_mark *mark,
		      char *err, size_t errlen)
{
	if (*used && append_bytes(l, buf, *used, err, errlen) != 0) {
		if (hd_slog_rollback(l, mark) != 0)
			hd_log("system log: cannot cut off a failed fill yet");
		return -1;
	}
	*used = 0;
	hd_slog_mark(l, mark);
	return 0;
}

static int fill_add(struct hd_slog *l, char *buf, size_t *used, int64_t time, const char *event,
		    json_t *detail, char *err, size_t errlen)
{
	uint8_t hash[HSM_SLOG_HASH_LEN];
	size_t n = 0;
	char *frame = next_frame(l, time, event, detail, &n, hash, err, errlen);

	if (!frame)
		return -1;
	memcpy(buf + *used, frame, n);
	*used += n;
	free(frame);
	advance(l, hash);
	return 0;
}

int hd_slog_fill(struct hd_slog *l, int64_t time, const char *event, const json_t *detail,
		 int64_t count, char *err, size_t errlen)
{
	struct hd_slog_mark mark;
	size_t used = 0;
	char *buf;
	int rc = 0;

	if (ensure_segment(l, time, err, errlen) != 0)
		return -1;
	if (!(buf = malloc(FILL_FLUSH + 2 * HSM_SLOG_MAX_FRAME)))
		return hsm_set_err(err, errlen, "out of memory");
	hd_slog_mark(l, &mark);
	for (int64_t i = 0; i < count && rc == 0; i++) {
		rc = fill_add(l, buf, &used, time, event, json_deep_copy(detail), err, errlen);
		if (rc == 0 && l->checkpoint_every &&
		    l->uncovered >= (int64_t)l->checkpoint_every) {
			json_t *d = checkpoint_detail(l, 0, err, errlen);
			rc = d ? fill_add(l, buf, &used, time, "checkpoint", d, err, errlen) : -1;
			if (rc == 0)
				l->uncovered = 0;
		}
		if (rc == 0 && used >= FILL_FLUSH)
			rc = fill_flush(l, buf, &used, &mark, err, errlen);
	}
	if (rc == 0)
		rc = fill_flush(l, buf, &used, &mark, err, errlen);
	else if (hd_slog_rollback(l, &mark) != 0)
		hd_log("system log: cannot cut off a failed fill yet");
	free(buf);
	return rc;
}

int64_t hd_slog_next_seq(const struct hd_slog *l)
{
	return l->last_seq + 1;
}

int64_t hd_slog_key_since(const struct hd_slog *l, int entries_before)
{
	return l->last_seq + 1 + entries_before;
}

void hd_slog_mark(const struct hd_slog *l, struct hd_slog_mark *m)
{
	m->open_bytes = l->open_bytes;
	m->last_seq = l->last_seq;
	m->uncovered = l->uncovered;
	m->segment = l->segment;
	memcpy(m->last_hash, l->last_hash, sizeof(m->last_hash));
}

int hd_slog_rollback(struct hd_slog *l, const struct hd_slog_mark *m)
{
	if (m->segment != l->segment)
		return -1; /* never across a segment change */
	l->open_bytes = m->open_bytes;
	l->last_seq = m->last_seq;
	l->uncovered = m->uncovered;
	memcpy(l->last_hash, m->last_hash, sizeof(l->last_hash));
	return cut_tail(l);
}

int hd_slog_change_key(struct hd_slog *l, int64_t time, EVP_PKEY *key, char *err, size_t errlen)
{
	char *line = hsm_key_to_openssh(key);
	json_t *d;
	int64_t since = l->last_seq + 1;

	if (!line)
		return hsm_set_err(err, errlen, "the new log key is unreadable");
	d = json_pack("{s:I, s:s}", "epoch", (json_int_t)(l->epoch + 1), "key", line);
	free(line);
	if (hd_slog_append(l, time, "log_key", d, err, errlen) != 0 ||
	    hd_slog_checkpoint(l, time, 0, err, errlen) != 0)
		return -1;
	EVP_PKEY_up_ref(key);
	EVP_PKEY_free(l->key);
	l->key = key;
	l->epoch++;
	l->since = since;
	return 0;
}

/* ---- reading ---------------------------------------------------------- */

struct scan {
	int64_t first_seq, last_seq, seg, uncovered;
	uint8_t last_hash[HSM_SLOG_HASH_LEN];
	uint64_t good; /* end of the last whole entry */
	uint64_t cut;  /* where uncommitted change entries begin (or good) */
	uint64_t size; /* bytes read: the file's size (or the limit) */
	int closed;    /* the last entry is a closing checkpoint */
	size_t entries;
};

/* A segment file read a chunk at a time: memory stays bounded however
 * long the log grew (a whole 1M-entry segment in memory cost hsmd a
 * quarter of a gigabyte at start).  buf[off..len) are the bytes not yet
 * consumed, buf[0] being file offset base. */
#define SCAN_CHUNK (1024 * 1024)

struct reader {
	int fd;
	char *buf;
	size_t off, len;
	uint64_t base, left; /* bytes still to read up to the limit */
	int eof;
};

/* Drop the consumed bytes and read until the buffer is full or the file
 * (or the limit) ends.  0 or -1 with errno. */
static int reader_fill(struct reader *r)
{
	memmove(r->buf, r->buf + r->off, r->len - r->off);
	r->base += r->off;
	r->len -= r->off;
	r->off = 0;
	while (!r->eof && r->len < SCAN_CHUNK + HSM_SLOG_MAX_FRAME) {
		size_t want = SCAN_CHUNK + HSM_SLOG_MAX_FRAME - r->len;
		ssize_t n;

		if (want > r->left)
			want = (size_t)r->left;
		n = want ? read(r->fd, r->buf + r->len, want) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			r->eof = 1;
			break;
		}
		r->len += (size_t)n;
		r->left -= (uint64_t)n;
	}
	return 0;
}

/* At least one whole frame's worth of bytes from buf[off] on, unless the
 * file ends first: then hsm_slog_next_frame's "torn" means the end of the
 * file and never the end of a chunk. */
static int reader_window(struct reader *r)
{
	if (!r->eof && r->len - r->off < HSM_SLOG_MAX_FRAME)
		return reader_fill(r);
	return 0;
}

/* After damage at buf[off]: consume up to the next byte that starts a
 * valid (or, at the end of the file, torn) frame, as hsm_slog_resync does
 * on a whole buffer.  0 or -1 with errno. */
static int reader_resync(struct reader *r)
{
	for (;;) {
		const char *nl = memchr(r->buf + r->off, '\n', r->len - r->off);
		size_t p, jl;
		const char *j;

		if (!nl) {
			r->off = r->len;
			if (r->eof)
				return 0;
			if (reader_fill(r) != 0)
				return -1;
			continue;
		}
		r->off = (size_t)(nl - r->buf) + 1;
		if (reader_window(r) != 0)
			return -1;
		p = r->off;
		if (r->off == r->len || hsm_slog_next_frame(r->buf, r->len, &p, &j, &jl) != -1)
			return 0;
	}
}

/* What scan_segment needs of an entry: the fast reading when it vouches
 * for the bytes (a checkpoint's close flag and the collected view need
 * the detail: parsed), else jansson's.  0, or -1 with why. */
static int scan_read(const char *json, size_t jlen, int need_tree, struct hsm_slog_fields *f,
		     int *close, json_t **tree, char *why, size_t whylen)
{
	*tree = NULL;
	*close = 0;
	if (!need_tree && hsm_slog_entry_scan(json, jlen, f) &&
	    !(f->event_len == 10 && memcmp(f->event, "checkpoint", 10) == 0))
		return 0;
	if (!(*tree = hsm_slog_entry_parse(json, jlen, why, whylen)))
		return -1;
	f->seq = json_integer_value(json_object_get(*tree, "seq"));
	f->seg = json_integer_value(json_object_get(*tree, "seg"));
	f->event = json_string_value(json_object_get(*tree, "event"));
	f->event_len = strlen(f->event);
	*close = strcmp(f->event, "checkpoint") == 0 &&
		 json_is_true(json_object_get(json_object_get(*tree, "detail"), "close"));
	return 0;
}

/* Scan the first limit bytes of a segment file (UINT64_MAX: all of it):
 * entries in order, damage skipped and reported.  With out, the entries
 * are collected (unsigned view).  0, or -1 with err (unreadable). */
static int scan_segment(const char *name, uint64_t limit, int64_t committed_next, int64_t prev_seq,
			struct scan *s, json_t *problems, json_t *out, char *err, size_t errlen)
{
	struct reader r = { .left = limit };
	int64_t last = prev_seq;
	int cut_set = 0, rc = -1;

	memset(s, 0, sizeof(*s));
	r.fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r.fd < 0)
		return hsm_set_err(err, errlen, "%s: %s", name, strerror(errno));
	if (!(r.buf = malloc(SCAN_CHUNK + HSM_SLOG_MAX_FRAME))) {
		close(r.fd);
		return hsm_set_err(err, errlen, "out of memory");
	}
	for (;;) {
		const char *json;
		size_t jlen, pos;
		uint64_t at;
		char why[256];
		json_t *e = NULL;
		struct hsm_slog_fields f;
		int fr, closing;

		if (reader_window(&r) != 0)
			goto io;
		if (r.off == r.len)
			break;
		pos = r.off;
		at = r.base + r.off;
		fr = hsm_slog_next_frame(r.buf, r.len, &pos, &json, &jlen);
		if (fr == 0) {
			problem(problems,
				"%s: torn tail after seq %" PRId64 ": %zu bytes of an incomplete "
				"entry dropped",
				name, last, r.len - r.off);
			break;
		}
		if (fr < 0 ||
		    scan_read(json, jlen, out != NULL, &f, &closing, &e, why, sizeof(why)) != 0) {
			if (fr < 0)
				snprintf(why, sizeof(why), "not a valid frame");
			if (reader_resync(&r) != 0)
				goto io;
			problem(problems,
				"%s: byte %" PRIu64 ": %" PRIu64 " damaged bytes after seq %" PRId64
				" skipped (%s)",
				name, at, r.base + r.off - at, last, why);
			continue;
		}
		r.off = pos;
		if (f.seq <= last && last) {
			problem(problems,
				"%s: byte %" PRIu64 ": entry seq %" PRId64 " after seq %" PRId64
				" skipped",
				name, at, f.seq, last);
			json_decref(e);
			continue;
		}
		if (last && f.seq != last + 1)
			problem(problems,
				"%s: entries %" PRId64 "..%" PRId64
				" are missing (gap before seq %" PRId64 ")",
				name, last + 1, f.seq - 1, f.seq);
		{
			char event[48];
			memcpy(event, f.event, f.event_len);
			event[f.event_len] = '\0';
			if (!cut_set && committed_next > 0 && !structural(event) &&
			    f.seq >= committed_next) {
				/* The state write of this transaction never happened. */
				s->cut = at;
				cut_set = 1;
			}
			if (!cut_set) {
				if (!s->first_seq)
					s->first_seq = f.seq;
				s->last_seq = f.seq;
				s->seg = f.seg;
				s->good = r.base + r.off;
				s->entries++;
				hsm_slog_hash_json(json, jlen, s->last_hash);
				s->closed = closing;
				s->uncovered =
				    strcmp(event, "checkpoint") == 0 ? 0 : s->uncovered + 1;
				if (out) {
					json_object_del(e, "prev");
					json_array_append(out, e);
				}
			}
		}
		last = f.seq;
		json_decref(e);
	}
	if (!cut_set)
		s->cut = s->good;
	s->size = r.base + r.len;
	rc = 0;
	goto done;
io:
	hsm_set_err(err, errlen, "%s: read: %s", name, strerror(errno));
done:
	free(r.buf);
	close(r.fd);
	return rc;
}

static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	char inner[HD_ERRLEN];

	if (hsm_read_file(path, MAX_SEGMENT_FILE, buf, len, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "%s", inner);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Saved segment numbers, ascending; their total size in *bytes. */
static int64_t *list_saved(const struct hd_slog *l, size_t *count, uint64_t *bytes)
{
	char path[4200];
	DIR *d;
	struct dirent *de;
	int64_t *v = NULL;
	size_t n = 0;

	*count = 0;
	if (bytes)
		*bytes = 0;
	saved_dir(l, path, sizeof(path));
	if (!(d = opendir(path)))
		return NULL;
	while ((de = readdir(d))) {
		char *end;
		long long seg;
		struct stat sb;
		char fp[4500];

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		seg = strtoll(de->d_name, &end, 10);
		if (strcmp(end, ".log") != 0 || seg < 1)
			continue;
		snprintf(fp, sizeof(fp), "%s/%s", path, de->d_name);
		if (lstat(fp, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		{
			int64_t *t = realloc(v, (n + 1) * sizeof(*v));
			if (!t)
				break;
			v = t;
		}
		v[n++] = seg;
		if (bytes)
			*bytes += (uint64_t)sb.st_size;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_i64);
	*count = n;
	return v;
}

int hd_slog_open(struct hd_slog *l, const char *dir, const char *name, const char *esn,
		 const char *log, EVP_PKEY *key, int64_t epoch, int64_t since,
		 unsigned checkpoint_every, int64_t committed_next, int64_t seg_floor,
		 json_t *problems, int64_t now, char *err, size_t errlen)
{
	char path[4200];
	size_t nsaved;
	int64_t *saved;
	struct stat sb;
	size_t nproblems = problems ? json_array_size(problems) : 0;
	struct scan s;

	memset(l, 0, sizeof(*l));
	if (strlen(dir) >= sizeof(l->dir) - 64 || strlen(name) >= sizeof(l->name) ||
	    strlen(esn) >= sizeof(l->esn) || strlen(log) >= sizeof(l->log))
		return hsm_set_err(err, errlen, "log names too long");
	snprintf(l->dir, sizeof(l->dir), "%s", dir);
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->esn, sizeof(l->esn), "%s", esn);
	snprintf(l->log, sizeof(l->log), "%s", log);
	EVP_PKEY_up_ref(key);
	l->key = key;
	l->epoch = epoch;
	l->since = since;
	l->checkpoint_every = checkpoint_every;
	saved_dir(l, path, sizeof(path));
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	saved = list_saved(l, &nsaved, &l->saved_bytes);
	/* Where the chain stands at the end of the newest saved segment. */
	if (nsaved) {
		saved_path(l, saved[nsaved - 1], path, sizeof(path));
		if (scan_segment(path, UINT64_MAX, 0, 0, &s, problems, NULL, err, errlen) != 0) {
			free(saved);
			return -1;
		}
		l->segment = saved[nsaved - 1];
		l->last_seq = s.last_seq;
		memcpy(l->last_hash, s.last_hash, sizeof(l->last_hash));
	}
	free(saved);
	open_path(l, path, sizeof(path));
	if (lstat(path, &sb) == 0) {
		if (scan_segment(path, UINT64_MAX, committed_next, l->last_seq, &s, problems, NULL,
				 err, errlen) != 0)
			return -1;
		if (s.cut != s.size) {
			/* A torn tail, or entries of a transaction that never
			 * committed: cut them off. */
			if (truncate(path, (off_t)s.cut) != 0)
				return hsm_set_err(err, errlen, "%s: truncate: %s", path,
						   strerror(errno));
			if (s.cut < s.good || s.good < s.size)
				hd_log("%s: cut %" PRIu64 " bytes after seq %" PRId64, path,
				       s.size - s.cut, s.last_seq);
		}
		if (s.entries) {
			l->segment = s.seg;
			l->last_seq = s.last_seq;
			memcpy(l->last_hash, s.last_hash, sizeof(l->last_hash));
			l->uncovered = s.uncovered;
			l->open_bytes = s.cut;
		}
		if (s.closed) {
			/* An export closed this segment and stopped before
			 * saving it: finish. */
			char to[4200];
			saved_path(l, l->segment, to, sizeof(to));
			if (rename(path, to) != 0)
				return hsm_set_err(err, errlen, "%s: rename: %s", path,
						   strerror(errno));
			l->saved_bytes += l->open_bytes;
			l->open_bytes = 0;
			saved_dir(l, to, sizeof(to));
			if (hsm_fsync_dir(to, err, errlen) != 0 ||
			    hsm_fsync_dir(l->dir, err, errlen) != 0)
				return -1;
		} else if (s.entries == 0 && unlink(path) != 0) {
			return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
		}
	}
	if (l->last_seq == 0 && committed_next > 1) {
		/* No entry survived at all: keep numbering after the last
		 * change the state knows of, and say what is missing. */
		problem(problems, "%s.log: entries 1..%" PRId64 " are missing (no log files)",
			l->name, committed_next - 1);
		l->last_seq = committed_next - 1;
	}
	l->found_last_seq = l->last_seq;
	if (l->open_bytes == 0) {
		l->segment = l->segment + 1 > seg_floor ? l->segment + 1 : seg_floor;
		if (open_segment(l, now, 0, err, errlen) != 0)
			return -1;
	}
	/* Damage stays in the file (later entries are kept); the log itself
	 * says what was found. */
	for (size_t i = nproblems; problems && i < json_array_size(problems); i++) {
		hd_log("%s", json_string_value(json_array_get(problems, i)));
		if (hd_slog_append(l, now, "log_damaged",
				   json_pack("{s:O}", "found", json_array_get(problems, i)), err,
				   errlen) != 0)
			return -1;
	}
	return 0;
}

void hd_slog_close(struct hd_slog *l)
{
	EVP_PKEY_free(l->key);
	l->key = NULL;
}

int hd_slog_close_segment(struct hd_slog *l, int64_t time, int64_t *closed, char *err,
			  size_t errlen)
{
	char from[4200], to[4200], sdir[4200];
	uint64_t bytes;

	if (ensure_segment(l, time, err, errlen) != 0 ||
	    hd_slog_checkpoint(l, time, 1, err, errlen) != 0)
		return -1;
	open_path(l, from, sizeof(from));
	saved_path(l, l->segment, to, sizeof(to));
	saved_dir(l, sdir, sizeof(sdir));
	if (rename(from, to) != 0)
		return hsm_set_err(err, errlen, "%s: rename: %s", from, strerror(errno));
	if (hsm_fsync_dir(sdir, err, errlen) != 0 || hsm_fsync_dir(l->dir, err, errlen) != 0)
		return -1;
	bytes = l->open_bytes;
	l->saved_bytes += bytes;
	*closed = l->segment;
	l->segment++;
	l->open_bytes = 0;
	/* If this fails the next append opens the segment. */
	if (open_segment(l, time, 0, err, errlen) != 0)
		hd_log("%s: the next segment is not open yet: %s", l->name, err);
	return 0;
}

json_t *hd_slog_saved(const struct hd_slog *l)
{
	size_t n;
	int64_t *v = list_saved(l, &n, NULL);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	free(v);
	return a;
}

int hd_slog_open_saved(const struct hd_slog *l, int64_t segment, int *fd, uint64_t *size, char *err,
		       size_t errlen)
{
	char path[4200];
	struct stat sb;

	saved_path(l, segment, path, sizeof(path));
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return hsm_set_err(err, errlen, "segment %" PRId64 " is not stored", segment);
	if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(*fd);
		*fd = -1;
		return hsm_set_err(err, errlen, "segment %" PRId64 ": not a regular file", segment);
	}
	*size = (uint64_t)sb.st_size;
	return 0;
}

int hd_slog_read_saved(const struct hd_slog *l, int64_t segment, char **buf, size_t *len, char *err,
		       size_t errlen)
{
	char path[4200];
	struct stat sb;

	saved_path(l, segment, path, sizeof(path));
	if (lstat(path, &sb) != 0)
		return hsm_set_err(err, errlen, "segment %" PRId64 " is not stored", segment);
	return read_file(path, buf, len, err, errlen);
}

int hd_slog_expire(struct hd_slog *l, int64_t segment, char *err, size_t errlen)
{
	char path[4200], sdir[4200];
	struct stat sb;

	saved_path(l, segment, path, sizeof(path));
	if (lstat(path, &sb) != 0)
		return hsm_set_err(err, errlen, "segment %" PRId64 " is not stored", segment);
	if (unlink(path) != 0)
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	saved_dir(l, sdir, sizeof(sdir));
	if (hsm_fsync_dir(sdir, err, errlen) != 0)
		return -1;
	l->saved_bytes =
	    l->saved_bytes > (uint64_t)sb.st_size ? l->saved_bytes - (uint64_t)sb.st_size : 0;
	return 0;
}

int hd_slog_clear(struct hd_slog *l, int64_t time, char *err, size_t errlen)
{
	size_t n;
	int64_t *v = list_saved(l, &n, NULL);

	for (size_t i = 0; i < n; i++)
		if (hd_slog_expire(l, v[i], err, errlen) != 0) {
			free(v);
			return -1;
		}
	free(v);
	l->saved_bytes = 0;
	l->segment++;
	return open_segment(l, time, 1, err, errlen);
}

json_t *hd_slog_entries(const struct hd_slog *l, char *err, size_t errlen)
{
	json_t *out = json_array();
	size_t n;
	int64_t *v = list_saved(l, &n, NULL);
	char path[4200];
	struct scan s;

	for (size_t i = 0; i <= n; i++) {
		if (i < n)
			saved_path(l, v[i], path, sizeof(path));
		else
			open_path(l, path, sizeof(path));
		if (i == n && l->open_bytes == 0)
			break;
		/* Of the open segment only whole, committed entries. */
		if (scan_segment(path, i == n ? l->open_bytes : UINT64_MAX, 0, 0, &s, NULL, out,
				 err, errlen) != 0) {
			free(v);
			json_decref(out);
			return NULL;
		}
	}
	free(v);
	return out;
}

uint64_t hd_slog_bytes(const struct hd_slog *l)
{
	return l->open_bytes + l->saved_bytes;
}
