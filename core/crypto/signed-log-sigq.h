/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/signed-log-sigq.h - checkpoint signatures of the signed log
 * verifier checked beside it, on a second thread.
 *
 * An Ed25519 verification costs as much as hashing a few hundred entries,
 * so verifying a large segment on one thread spends most of its time on
 * checkpoint signatures.  The verifier goes on reading entries as if each
 * queued signature were good, asks after each entry whether one turned
 * out bad, and settles the queue before it reports anything else: the
 * first bad signature is reported exactly as if it had been checked in
 * line, ahead of any problem found after it.
 *
 * Private to libhsmadmin-crypto (core/crypto/signed-log.c).
 */
#ifndef HSMADMIN_CRYPTO_SIGNED_LOG_SIGQ_H
#define HSMADMIN_CRYPTO_SIGNED_LOG_SIGQ_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

struct slog_sigq;

/* Where a queued signature was found: what its error names. */
struct slog_sig_at {
	int64_t seq, epoch;
	uint64_t byte;
};

struct slog_sigq *slog_sigq_new(void);
/* Waits for the second thread and frees what is still queued. */
void slog_sigq_free(struct slog_sigq *q);
/* Queue a check of sig (HSM_ED25519_SIG_LEN bytes) over msg (taken over,
 * freed by the queue; NULL counts as a bad signature) with key (the queue
 * holds its own reference).  When the queue is full this thread checks
 * queued signatures itself until there is room. */
void slog_sigq_add(struct slog_sigq *q, EVP_PKEY *key, char *msg, size_t mlen, const uint8_t *sig,
		   const struct slog_sig_at *at);
/* Without waiting: 1 when a queued signature is known bad and every one
 * queued before it verified, with it in *bad; else 0. */
int slog_sigq_poll(struct slog_sigq *q, struct slog_sig_at *bad);
/* Check everything queued (this thread helps): 0 when every signature
 * verified (the queue is then empty), 1 with the first bad one in *bad. */
int slog_sigq_settle(struct slog_sigq *q, struct slog_sig_at *bad);

#endif
