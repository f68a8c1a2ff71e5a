/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/signed-log-sigq.c - checkpoint signatures of the signed log
 * verifier checked on a second thread (see signed-log-sigq.h).
 *
 * A ring of signatures in entry order.  The second thread takes them in
 * order; the verifier's thread takes some too when the ring is full and
 * when it settles, so neither waits on the other, and nothing waits
 * between two pushes of a streamed segment (on a busy machine a thread
 * that waits for another may wait a whole scheduling round).  The thread
 * starts with the second queued signature (a small log never starts it)
 * and blocks every signal: they stay the business of the caller's thread.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include "sign.h"
#include "signed-log-sigq.h"

#define RING 256 /* signatures queued at most (memory; work past a bad one) */
#define NONE UINT64_MAX

struct sig_job {
	EVP_PKEY *key;
	char *msg;
	size_t mlen;
	uint8_t sig[HSM_ED25519_SIG_LEN];
	struct slog_sig_at at;
	int done, bad;
};

struct slog_sigq {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a signature was queued, or quit */
	pthread_cond_t done; /* a signature was checked */
	struct sig_job jobs[RING];
	/* Signature i is jobs[i % RING]; retired <= taken <= queued. */
	uint64_t queued, taken, retired;
	uint64_t first_bad; /* the lowest bad one checked (atomic), NONE */
	int started, quit;
	pthread_t thread;
};

struct slog_sigq *slog_sigq_new(void)
{
	struct slog_sigq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		free(q);
		return NULL;
	}
	if (pthread_cond_init(&q->work, NULL) != 0) {
		pthread_mutex_destroy(&q->mu);
		free(q);
		return NULL;
	}
	if (pthread_cond_init(&q->done, NULL) != 0) {
		pthread_cond_destroy(&q->work);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return NULL;
	}
	q->first_bad = NONE;
	return q;
}

/* With q->mu held: check the next signature not yet taken (unlocked while
 * it runs).  Past a bad one nothing needs checking: it is reported. */
static void check_next(struct slog_sigq *q)
{
	uint64_t i = q->taken++;
	struct sig_job *j = &q->jobs[i % RING];
	int skip = i > q->first_bad, bad = 0;

	pthread_mutex_unlock(&q->mu);
	if (!skip) {
		bad = !j->msg ||
		      hsm_ed25519_verify(j->key, j->msg, j->mlen, j->sig, sizeof(j->sig)) != 0;
		if (bad)
			ERR_clear_error(); /* this thread's queue: nobody else reads it */
	}
	pthread_mutex_lock(&q->mu);
	j->done = 1;
	j->bad = bad;
	if (bad && i < q->first_bad)
		__atomic_store_n(&q->first_bad, i, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&q->done);
}

static void *worker(void *arg)
{
	struct slog_sigq *q = arg;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		if (q->taken < q->queued)
			check_next(q);
		else if (q->quit)
			break;
		else
			pthread_cond_wait(&q->work, &q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* With q->mu held.  Without a thread the verifier's thread checks all. */
static void start(struct slog_sigq *q)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	q->started = pthread_create(&q->thread, NULL, worker, q) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void release(struct sig_job *j)
{
	EVP_PKEY_free(j->key);
	free(j->msg);
	memset(j, 0, sizeof(*j));
}

/* With q->mu held: free the checked good signatures at the head of the
 * ring.  It stops at a bad one, which stays for the report. */
static void retire(struct slog_sigq *q)
{
	while (q->retired < q->queued) {
		struct sig_job *j = &q->jobs[q->retired % RING];
		if (!j->done || j->bad)
			break;
		release(j);
		q->retired++;
	}
}

/* With q->mu held: 1 when the head of the ring is a checked bad one. */
static int head_bad(struct slog_sigq *q, struct slog_sig_at *bad)
{
	struct sig_job *j = &q->jobs[q->retired % RING];

	if (q->retired == q->queued || !j->done || !j->bad)
		return 0;
	*bad = j->at;
	return 1;
}

void slog_sigq_add(struct slog_sigq *q, EVP_PKEY *key, char *msg, size_t mlen, const uint8_t *sig,
		   const struct slog_sig_at *at)
{
	struct sig_job *j;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		retire(q);
		if (q->queued - q->retired < RING)
			break;
		if (q->first_bad != NONE) {
			/* A signature before this one is bad and will be
			 * reported: this one does not matter. */
			pthread_mutex_unlock(&q->mu);
			free(msg);
			return;
		}
		if (q->taken < q->queued)
			check_next(q);
		else
			pthread_cond_wait(&q->done, &q->mu);
	}
	j = &q->jobs[q->queued % RING];
	EVP_PKEY_up_ref(key);
	*j = (struct sig_job){ .key = key, .msg = msg, .mlen = mlen, .at = *at };
	memcpy(j->sig, sig, sizeof(j->sig));
	q->queued++;
	if (!q->started && q->queued - q->taken >= 2)
		start(q);
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
}

int slog_sigq_poll(struct slog_sigq *q, struct slog_sig_at *bad)
{
	int rc;

	if (__atomic_load_n(&q->first_bad, __ATOMIC_ACQUIRE) == NONE)
		return 0; /* the common case, without the lock */
	pthread_mutex_lock(&q->mu);
	retire(q);
	rc = head_bad(q, bad);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int slog_sigq_settle(struct slog_sigq *q, struct slog_sig_at *bad)
{
	int rc = 0;

	pthread_mutex_lock(&q->mu);
	while (q->taken < q->queued)
		check_next(q);
	for (;;) {
		retire(q);
		if (q->retired == q->queued)
			break;
		if ((rc = head_bad(q, bad)) != 0)
			break;
		pthread_cond_wait(&q->done, &q->mu); /* the other thread's last one */
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void slog_sigq_free(struct slog_sigq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->quit = 1;
	__atomic_store_n(&q->first_bad, 0,
			 __ATOMIC_RELEASE); /* nothing more is reported: skip what is left */
	pthread_cond_broadcast(&q->work);
	pthread_mutex_unlock(&q->mu);
	if (q->started)
		pthread_join(q->thread, NULL);
	for (uint64_t i = q->retired; i < q->queued; i++)
		release(&q->jobs[i % RING]);
	pthread_cond_destroy(&q->done);
	pthread_cond_destroy(&q->work);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
