/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/signed-log-files.h - signed log segments as files: an
 * export received and verified as it streams in, segment files verified a
 * piece at a time, and the verify command of `hsmadmin logs verify` and
 * `hsmadmin vcm logs verify` (docs/formats/signed-log.md).
 *
 * In-tree API of libhsmadmin-crypto (no stability promise to vendors).
 */
#ifndef HSMADMIN_CRYPTO_SIGNED_LOG_FILES_H
#define HSMADMIN_CRYPTO_SIGNED_LOG_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h>

/* ---- an export as it streams in ---------------------------------------------
 *   r = hsm_slog_receiver_new(keys, identity, esn, "system", outdir, 0, err, n);
 *   hsm_rpc_call_sink(..., hsm_slog_receiver_push, r, &reply);
 *   sum = hsm_slog_receiver_finish(r, reply.result, err, n);   // verified?
 *   if (sum) hsm_slog_receiver_commit(r, "outdir/ESN-system-7.log", err, n);
 *   hsm_slog_receiver_free(r);       // removes the temporary file if not committed
 * Every byte is verified as it arrives (against the keys certified by
 * signer, or with signer NULL against keys that carry no certificate, as
 * in recovery mode: see hsm_slog_export_begin) and written to a temporary file in
 * dir (dir/.hsmadmin-export.tmp.XXXXXX, an hsm_atomic_file: the leftovers
 * of a killed export are removed when the next receiver starts); nothing
 * takes the final name before the whole segment verified and was
 * fsync'ed.  With dir NULL the bytes are kept in memory instead, up to
 * mem_max (for --json and printing). */
struct hsm_slog_receiver;

HSM_API struct hsm_slog_receiver *hsm_slog_receiver_new(const json_t *keys, EVP_PKEY *signer,
							const char *esn, const char *log,
							const char *dir, size_t mem_max, char *err,
							size_t errlen);
/* An hsm_rpc_sink: 0, or -1 once anything failed (the reason is kept for
 * finish). */
HSM_API int hsm_slog_receiver_push(void *r, const void *data, size_t len);
/* The stream ended: head is the reply document ({"segment","bytes",...}).
 * Every byte announced must have arrived and the segment must verify as
 * segment head.segment.  The verifier's summary, or NULL with the first
 * problem. */
HSM_API json_t *hsm_slog_receiver_finish(struct hsm_slog_receiver *r, const json_t *head, char *err,
					 size_t errlen);
/* After a successful finish: the temporary file fsync'ed and renamed to
 * path (in dir, spelt as dir was), the directory fsync'ed
 * (hsm_atomic_file_commit).  0 or -1 (the temporary file is then gone). */
HSM_API int hsm_slog_receiver_commit(struct hsm_slog_receiver *r, const char *path, char *err,
				     size_t errlen);
/* Why the receiver refused the data (the sink returned -1), or NULL;
 * *exit (may be NULL) is HSM_EXIT_AUTH when the data does not verify,
 * HSM_EXIT_FAILED for a local problem (disk, memory bound). */
HSM_API const char *hsm_slog_receiver_error(const struct hsm_slog_receiver *r, int *exit);
/* The export call ended with status call_exit and reply document head:
 * finish the receiver.  The verifier's summary, or NULL with the exit
 * status in *exit and the reason in err ("..., nothing written: ...").  A
 * call that failed because the receiver refused the data is blamed on the
 * data; a call that failed otherwise leaves err empty and *exit the call's
 * status, for the caller to report as it reports any failed call. */
HSM_API json_t *hsm_slog_receiver_end(struct hsm_slog_receiver *r, int call_exit,
				      const json_t *head, int *exit, char *err, size_t errlen);
/* What an export reports of a verified segment (sum from the receiver):
 * segment, first_seq, last_seq, entries, verified, saved; the caller adds
 * whose log it is. */
HSM_API json_t *hsm_slog_export_report(const json_t *sum, json_int_t segment, int saved);
/* The temporary file (NULL in memory mode or once committed). */
HSM_API const char *hsm_slog_receiver_path(const struct hsm_slog_receiver *r);
/* In memory mode: the bytes received (NUL-terminated). */
HSM_API const char *hsm_slog_receiver_text(const struct hsm_slog_receiver *r, size_t *len);
HSM_API void hsm_slog_receiver_free(struct hsm_slog_receiver *r);

/* ---- segment files ------------------------------------------------------- */

/* Feed a segment file to the verifier a chunk at a time. */
struct hsm_slog_verifier;
HSM_API int hsm_slog_verifier_feed_file(struct hsm_slog_verifier *v, const char *path, char *err,
					size_t errlen);
/* A file's segment number (its first entry's), 0 if it has none. */
HSM_API int64_t hsm_slog_file_segment(const char *path);

/* The options of the export commands (logs export, vcm logs export),
 * checked before anything is asked of the device: --outdir an existing
 * directory and not with --json, --seq only with --saved.  0, or the usage
 * error reported (exit 2). */
HSM_API int hsm_slog_export_check(struct hsm_ctx *ctx);
/* The parameters of the logs_export call those options ask for (--saved,
 * --seq; always streamed), after a warning when --expire was given:
 * expire_cmd is the command that expires a segment later. */
HSM_API json_t *hsm_slog_export_params(struct hsm_ctx *ctx, const char *expire_cmd);

/* Write the key file doc (what logs getkey --out and vcm logs getkey --out
 * write, the --key of the verify command) to path: indented JSON with
 * sorted keys, atomically, mode 0644 (the keys are public).  0, or -1
 * with the reason. */
HSM_API int hsm_slog_key_file_write(const json_t *doc, const char *path, char *err, size_t errlen);

/* The options `logs export|expire` and `vcm logs export|expire` share,
 * word for word: export's --saved, its --seq and --expire; expire's --seq. */
#define HSM_SLOG_OPT_SAVED                                                                         \
	{                                                                                          \
		.name = "saved", .type = HSM_OPT_FLAG,                                             \
		.help = "export again a segment exported before and not yet expired"               \
	}
#define HSM_SLOG_OPT_SAVED_SEQ                                                                     \
	{                                                                                          \
		.name = "seq", .type = HSM_OPT_INT, .metavar = "SEQ_NO", .min = 1,                 \
		.max = INT64_C(1) << 50,                                                           \
		.help = "with --saved: which saved segment (default: the oldest)"                  \
	}
#define HSM_SLOG_OPT_EXPIRE                                                                        \
	{                                                                                          \
		.name = "expire", .type = HSM_OPT_FLAG,                                            \
		.help = "expire the segment once its verified copy is written (not recommended)"   \
	}
#define HSM_SLOG_OPT_EXPIRE_SEQ                                                                    \
	{                                                                                          \
		.name = "seq", .type = HSM_OPT_INT, .flags = HSM_OPTF_REQUIRED,                    \
		.metavar = "SEQ_NO", .min = 1, .max = INT64_C(1) << 50,                            \
		.help = "the log sequence number of an exported segment"                           \
	}

/* The verify command: FILE... (any order) and --key KEYFILE from ctx;
 * getkey names the command that writes key files, for the warning when
 * none is given.  Returns the exit code (0, 2 unreadable, 4 fails). */
HSM_API int hsm_slog_verify_command(struct hsm_ctx *ctx, const char *getkey);

#endif
