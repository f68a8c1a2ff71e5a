/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/signed-log.h - the signed log format (docs/formats/signed-log.md):
 * framed entries, the hash chain, checkpoint signatures bound to key
 * epochs, and a streaming verifier.
 *
 * One format serves the device's own files and the exported segments, so
 * the device's crash recovery and the offline `hsmadmin logs verify` read
 * entries with the same code.
 *
 * In-tree API of libhsmadmin-crypto (no stability promise to vendors).
 */
#ifndef HSMADMIN_NET_SIGNED_LOG_H
#define HSMADMIN_NET_SIGNED_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#define HSM_SLOG_MAX_ENTRY 65536 /* bytes of one entry's JSON */
#define HSM_SLOG_HASH_LEN 32
#define HSM_SLOG_MAX_SEQ (INT64_C(1) << 50)
/* Bytes of the longest frame: "65536 xxxxxxxx " + json + "\n". */
#define HSM_SLOG_MAX_FRAME (HSM_SLOG_MAX_ENTRY + 16)

/* CRC-32C (Castagnoli) of len bytes: the frame checksum. */
HSM_API uint32_t hsm_crc32c(const void *data, size_t len);

/* The frame of one entry: "<len> <crc32c as 8 hex digits> <json>\n", json
 * being the entry's canonical JSON (compact, sorted keys).  Returns the
 * malloc'ed frame and its length; hash (may be NULL) receives SHA-256 of
 * the json bytes, the entry's hash in the chain. */
HSM_API char *hsm_slog_frame(const json_t *entry, size_t *framelen,
			     uint8_t hash[HSM_SLOG_HASH_LEN]);

/* The next frame of buf at *pos.  Returns 1 with the entry's json bytes
 * (not NUL-terminated) and *pos past the frame; 0 when buf ends inside the
 * frame (a torn tail; *pos unchanged); -1 when the bytes at *pos are not a
 * frame (damage; *pos unchanged). */
HSM_API int hsm_slog_next_frame(const char *buf, size_t len, size_t *pos, const char **json,
				size_t *jlen);

/* After damage at *pos: the offset of the next byte that starts a valid
 * frame, or len if none. */
HSM_API size_t hsm_slog_resync(const char *buf, size_t len, size_t pos);

/* Parse and check one entry's json bytes: exactly
 * {"seq","time","event","detail","prev","seg"} with the documented types
 * and ranges.  New reference or NULL with a reason. */
HSM_API json_t *hsm_slog_entry_parse(const char *json, size_t jlen, char *err, size_t errlen);

/* The members of an entry as read from its bytes (event and prev point
 * into them; event is not NUL-terminated, prev is 64 hex digits). */
struct hsm_slog_fields {
	int64_t seq, seg, time;
	const char *event, *prev;
	size_t event_len;
};

/* The fast reading of an entry: 1 when the bytes are an entry in the
 * canonical form the device writes, which hsm_slog_entry_parse would
 * accept with the same members (f filled); 0 when it cannot tell, and the
 * entry must be parsed with hsm_slog_entry_parse (which may reject it). */
HSM_API int hsm_slog_entry_scan(const char *json, size_t jlen, struct hsm_slog_fields *f);

/* The bytes a checkpoint signs: canonical JSON of
 * {"ctx":"hsmadmin-signed-log-checkpoint-v1","esn","log","seg","seq","epoch","prev"}.
 * malloc'ed. */
HSM_API char *hsm_slog_checkpoint_message(const char *esn, const char *log, int64_t seg,
					  int64_t seq, int64_t epoch, const char *prev_hex,
					  size_t *len);

/* SHA-256 of an entry's json bytes: its hash in the chain. */
HSM_API void hsm_slog_hash_json(const char *json, size_t jlen, uint8_t out[HSM_SLOG_HASH_LEN]);

HSM_API void hsm_slog_hex(const uint8_t hash[HSM_SLOG_HASH_LEN],
			  char out[2 * HSM_SLOG_HASH_LEN + 1]);

/* ---- the verifier -------------------------------------------------------
 * Feed whole segment files in segment order; the verifier checks each
 * frame, the sequence (no gaps, within and between files), the hash chain,
 * every checkpoint's signature with the key of its epoch, that keys only
 * sign entries from their epoch's first sequence number on, and that every
 * entry is covered by a checkpoint.  It stops at the first problem and
 * names it (file, byte offset, sequence number). */
struct hsm_slog_verifier;

HSM_API struct hsm_slog_verifier *hsm_slog_verifier_new(void);
HSM_API void hsm_slog_verifier_free(struct hsm_slog_verifier *v);
/* Whether ordinary entries are read with hsm_slog_entry_scan and
 * checkpoint signatures checked on a second thread (the default), or each
 * entry parsed with jansson and each signature checked in line: the
 * verdicts and reasons are the same either way (the tests compare them). */
HSM_API void hsm_slog_verifier_fast(struct hsm_slog_verifier *v, int on);
/* Trust key for epoch (from seq `since` on).  Pinned keys make the
 * verification anchored; a key the log announces for an epoch with a
 * pinned key must be that key.  epoch 0: "the epoch the log says this key
 * has" (an OpenSSH line given without its epoch). */
HSM_API int hsm_slog_verifier_pin(struct hsm_slog_verifier *v, int64_t epoch, int64_t since,
				  EVP_PKEY *key, char *err, size_t errlen);
/* Pin the keys of a key file: the JSON `hsmadmin logs getkey --json`
 * writes ({"keys":[{"epoch","since","key",...}],...}) or one OpenSSH line. */
HSM_API int hsm_slog_verifier_pin_file(struct hsm_slog_verifier *v, const char *text, size_t len,
				       char *err, size_t errlen);
/* Pin the keys of a logs_getkey reply ([{"epoch","since","key",
 * "certificate"}]): each certificate must be signed by signer (the HSM's
 * or the VCM's identity key) over exactly these fields plus esn and log. */
HSM_API int hsm_slog_verifier_pin_certified(struct hsm_slog_verifier *v, const json_t *keys,
					    EVP_PKEY *signer, const char *esn, const char *log,
					    char *err, size_t errlen);
/* Does every key of a logs_getkey reply carry a certificate?  0 for an
 * empty list, and on the recovery image, which makes none (guide 4.5.4.1). */
HSM_API int hsm_slog_keys_certified(const json_t *keys);
/* Pin the keys of a logs_getkey reply as given, without certificates (the
 * recovery image's): each must have epoch, since and an OpenSSH ed25519
 * key.  Everything is verified against them as against certified keys,
 * but nothing ties them to the HSM identity: the caller must say so. */
HSM_API int hsm_slog_verifier_pin_uncertified(struct hsm_slog_verifier *v, const json_t *keys,
					      char *err, size_t errlen);
/* The whole check of an exported segment: its text against the certified
 * keys (signer NULL: against the uncertified keys, see
 * hsm_slog_export_begin); it must be segment `segment` of log `log` of esn
 * and anchored.
 * Returns the summary (see hsm_slog_verifier_summary) or NULL with the
 * first problem. */
HSM_API json_t *hsm_slog_verify_export(const char *text, size_t len, const json_t *keys,
				       EVP_PKEY *signer, const char *esn, const char *log,
				       int64_t segment, char *err, size_t errlen);
/* Verify one segment file.  0, or -1 with the first problem in err. */
HSM_API int hsm_slog_verifier_feed(struct hsm_slog_verifier *v, const char *name, const char *buf,
				   size_t len, char *err, size_t errlen);
/* The same in pieces, for a segment that streams in (an export, a large
 * file): begin names the file, push takes its bytes in any cuts (only a
 * frame cut between two pushes is held, at most HSM_SLOG_MAX_FRAME bytes),
 * end says the file is complete.  Each returns 0, or -1 with the first
 * problem (after which every call fails).  In fast mode a bad checkpoint
 * signature may be reported by a later push or by end, since it is
 * checked beside the reading: still as the first problem, with the same
 * reason. */
HSM_API int hsm_slog_verifier_begin(struct hsm_slog_verifier *v, const char *name, char *err,
				    size_t errlen);
HSM_API int hsm_slog_verifier_push(struct hsm_slog_verifier *v, const void *data, size_t len,
				   char *err, size_t errlen);
HSM_API int hsm_slog_verifier_end(struct hsm_slog_verifier *v, char *err, size_t errlen);
/* hsm_slog_verify_export in pieces: begin pins the certified keys and
 * starts the file (signer NULL: the keys carry no certificates, as in
 * recovery mode, and are pinned with hsm_slog_verifier_pin_uncertified;
 * the chain, the sequence numbers and every checkpoint signature are
 * still verified, only the certificate chain to the identity is absent);
 * push the bytes with hsm_slog_verifier_push; finish
 * ends it and checks it is segment `segment` of log `log` of esn,
 * anchored.  finish returns the summary or NULL with the first problem. */
HSM_API struct hsm_slog_verifier *hsm_slog_export_begin(const json_t *keys, EVP_PKEY *signer,
							const char *esn, const char *log,
							const char *name, char *err, size_t errlen);
HSM_API json_t *hsm_slog_export_finish(struct hsm_slog_verifier *v, const char *esn,
				       const char *log, int64_t segment, char *err, size_t errlen);
/* What the verifier has seen: the last whole segment, the log's ESN and
 * name ("" before a log_open). */
HSM_API int64_t hsm_slog_verifier_last_segment(const struct hsm_slog_verifier *v);
HSM_API const char *hsm_slog_verifier_esn(const struct hsm_slog_verifier *v);
HSM_API const char *hsm_slog_verifier_log(const struct hsm_slog_verifier *v);
/* What was verified: {"segments":[{"segment","first_seq","last_seq",
 * "entries","checkpoints","epochs":[..]}],"anchored":bool,"esn","log"}.
 * New reference. */
HSM_API json_t *hsm_slog_verifier_summary(const struct hsm_slog_verifier *v);
/* 1 when every checkpoint verified with a pinned key (or one introduced
 * by a pinned key's checkpoint). */
HSM_API int hsm_slog_verifier_anchored(const struct hsm_slog_verifier *v);

#endif
