/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logstore.h - one signed log on the device's disk (the system log of an
 * HSM or of a VCM), in the format of docs/formats/signed-log.md.
 *
 * Files in the state directory: NAME.log is the open segment; closed
 * (exported) segments are NAME.saved/SEGMENT.log until expired.  Every
 * append is one framed entry, written and fdatasync'ed before the call
 * returns; a short or failed write is truncated away again, so the file
 * only ever grows by whole entries.  Reading recovers: a torn tail is cut,
 * damage in the middle is skipped up to the next valid frame, and each
 * problem is reported with the sequence numbers around it.
 */
#ifndef HD_LOGSTORE_H
#define HD_LOGSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "signed-log.h"

struct hd_slog {
	char dir[4096];        /* the state directory */
	char name[16];         /* file name stem: "system" */
	char esn[64], log[64]; /* what log_open and checkpoints name */
	EVP_PKEY *key;         /* signing key of the current epoch (owned) */
	int64_t epoch, since;  /* the key's epoch and its first sequence number */
	unsigned checkpoint_every;
	int64_t segment;  /* the open segment (0: none yet) */
	int64_t last_seq; /* the newest entry anywhere */
	uint8_t last_hash[HSM_SLOG_HASH_LEN];
	int64_t uncovered;      /* entries after the last checkpoint */
	uint64_t open_bytes;    /* whole entries in the open segment */
	uint64_t saved_bytes;   /* bytes of the saved segments */
	int tail_dirty;         /* a failed append could not be cut off yet */
	int64_t found_last_seq; /* newest entry found by open, before it wrote */
};

/* A point to roll back to: a transaction whose state write failed takes
 * its entries out again. */
struct hd_slog_mark {
	uint64_t open_bytes;
	int64_t last_seq, uncovered, segment;
	uint8_t last_hash[HSM_SLOG_HASH_LEN];
};

/* Open (and recover) the log.  key is borrowed (up-ref'ed).  Change
 * entries with seq >= committed_next were appended by a transaction whose
 * state write never happened: they are cut off.  Problems found (damage,
 * gaps, torn tails) are appended to *problems (array of one-line strings)
 * and recorded in the log as log_damaged entries.  0 or -1 with err. */
int hd_slog_open(struct hd_slog *l, const char *dir, const char *name, const char *esn,
		 const char *log, EVP_PKEY *key, int64_t epoch, int64_t since,
		 unsigned checkpoint_every, int64_t committed_next, int64_t seg_floor,
		 json_t *problems, int64_t now, char *err, size_t errlen);
void hd_slog_close(struct hd_slog *l);

/* Append one entry, durable when this returns 0 (steals detail). */
int hd_slog_append(struct hd_slog *l, int64_t time, const char *event, json_t *detail, char *err,
		   size_t errlen);
/* Append count entries (event, a copy of detail each) with their
 * checkpoints, written a megabyte at a time: the emulator's quick way to
 * a large log (hsmd simulate --log-fill).  Durable when it returns 0. */
int hd_slog_fill(struct hd_slog *l, int64_t time, const char *event, const json_t *detail,
		 int64_t count, char *err, size_t errlen);
/* Make sure a segment is open (an export may have closed one without
 * opening the next), so that the next append's number is known. */
int hd_slog_ready(struct hd_slog *l, int64_t time, char *err, size_t errlen);
/* The sequence number the next append gets. */
int64_t hd_slog_next_seq(const struct hd_slog *l);
void hd_slog_mark(const struct hd_slog *l, struct hd_slog_mark *m);
/* Cut the open segment back to m.  0 or -1 (then the tail is marked
 * dirty and the next append retries the cut first). */
int hd_slog_rollback(struct hd_slog *l, const struct hd_slog_mark *m);

/* A checkpoint now (close: the segment's last one). */
int hd_slog_checkpoint(struct hd_slog *l, int64_t time, int close, char *err, size_t errlen);
/* A checkpoint if checkpoint_every entries are uncovered. */
int hd_slog_checkpoint_due(struct hd_slog *l, int64_t time, char *err, size_t errlen);

/* Change the signing key (factory state): log_key entry announcing the
 * new key for epoch+1, a checkpoint with the old key, then the new key
 * signs.  key is borrowed.  The new epoch's first seq is the log_key's. */
int hd_slog_change_key(struct hd_slog *l, int64_t time, EVP_PKEY *key, char *err, size_t errlen);
/* The seq the log_key entry of the next change_key gets, when exactly
 * `entries_before` entries are appended before it. */
int64_t hd_slog_key_since(const struct hd_slog *l, int entries_before);

/* Export: close the open segment (a closing checkpoint, then it becomes
 * saved) and open the next.  *closed gets the closed segment's number. */
int hd_slog_close_segment(struct hd_slog *l, int64_t time, int64_t *closed, char *err,
			  size_t errlen);
/* Saved segment numbers, ascending (new reference). */
json_t *hd_slog_saved(const struct hd_slog *l);
/* A saved segment opened for reading (O_CLOEXEC) and its size; 0 or -1. */
int hd_slog_open_saved(const struct hd_slog *l, int64_t segment, int *fd, uint64_t *size, char *err,
		       size_t errlen);
/* The bytes of a saved segment (malloc'ed). */
int hd_slog_read_saved(const struct hd_slog *l, int64_t segment, char **buf, size_t *len, char *err,
		       size_t errlen);
/* Remove a saved segment. */
int hd_slog_expire(struct hd_slog *l, int64_t segment, char *err, size_t errlen);
/* Recovery-mode clear: drop every saved segment and the open one, open
 * the next segment saying so.  Sequence numbers continue. */
int hd_slog_clear(struct hd_slog *l, int64_t time, char *err, size_t errlen);

/* Every entry stored (saved segments, then the open one), unsigned view:
 * {"seq","time","event","detail","seg"} objects.  New reference. */
json_t *hd_slog_entries(const struct hd_slog *l, char *err, size_t errlen);

uint64_t hd_slog_bytes(const struct hd_slog *l);

#endif
