/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/transport.h - calls to HSM services over SSH (docs/protocol.md).
 *
 * A call connects to one service of one HSM with that service's client
 * key, checks the server's host key against the key pinned at enrollment
 * before it authenticates, runs the method on an exec channel and returns
 * the result object or a one-line error with its exit code.  Plugins use
 * this and never touch SSH.
 *
 *   struct hsm_fleet fleet;
 *   int rc = hsm_fleet_open(ctx, &fleet);           // --esn, or every known HSM
 *   if (rc) return rc;
 *   struct hsm_rpc_reply *r = calloc(fleet.count, sizeof(*r));
 *   hsm_rpc_fanout(ctx, &fleet, "setup", "status", NULL, r);  // in parallel
 *   for (i...) r[i].exit == 0 ? use(r[i].result) : hsm_error(ctx, r[i].exit,
 *                                   fleet.modules[i].esn, "%s", r[i].message);
 *
 * In-tree API of libhsmadmin-net (exported for the in-tree plugins; not
 * installed, no stability promise).
 */
#ifndef HSMADMIN_NET_TRANSPORT_H
#define HSMADMIN_NET_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <hsmadmin/plugin.h>
#include "hostkeys.h"
#include "modules.h"

/* Largest params object a call sends (protocol: 64 KiB) and largest reply
 * it reads. */
#define HSM_RPC_MAX_PARAMS (64u * 1024u)
#define HSM_RPC_MAX_REPLY (16u * 1024u * 1024u)

struct hsm_rpc_reply {
	int exit;       /* enum hsm_exit: 0 when result is set */
	json_t *result; /* the result object (a new reference), or NULL */
	/* Why it failed.  code is the device's error code ("failed",
	 * "bad_request", "refused_state", "denied") or the host's own:
	 * "unreachable" (5), "trust" (4: host key or certificate), "auth" (4:
	 * our key refused), "not_enrolled" (3: no pins or keys on this host),
	 * "protocol" (1: malformed reply), "local" (1: a local file). */
	char code[32];
	char message[512];  /* one line, printable ASCII, no trailing period */
	char host_key[160]; /* the host key the server presented, if seen */
	unsigned elapsed_ms;
};
/* Drop the result and zero the reply. */
HSM_API void hsm_rpc_reply_clear(struct hsm_rpc_reply *reply);
/* Make reply a failure: drop its result, set exit and code, and format the
 * message (kept to one printable line; code and the arguments may point
 * into reply itself).  Returns exit. */
HSM_API int hsm_rpc_reply_fail(struct hsm_rpc_reply *reply, int exit, const char *code,
			       const char *fmt, ...) HSM_PRINTF(4, 5);

/* Where the bytes of a streamed reply go (struct hsm_rpc_endpoint.sink). */
typedef int (*hsm_rpc_sink)(void *arg, const void *data, size_t len);

/* The longest first line of a streamed reply (its document). */
#define HSM_RPC_MAX_HEAD (1024u * 1024u)

/* One service of one peer. */
struct hsm_rpc_endpoint {
	const char *label;   /* for messages, e.g. the ESN */
	const char *service; /* "setup"; also names the service in messages */
	const char *address; /* IPv4 or IPv6 literal */
	unsigned port;
	const struct hsm_client_key *client_key;
	/* The pinned host key, an OpenSSH line.  NULL only for the first
	 * contact of enrollment: then any host key is accepted and returned in
	 * reply->host_key for the caller to check against the certificate. */
	const char *host_key;
	/* Optional: the reply streams (docs/protocol.md, streamed replies).
	 * Only the first line of stdout is the reply document; every byte
	 * after it goes to sink as it arrives, never held whole.  sink
	 * returns 0 to go on; anything else stops the call (reply code
	 * "local").  The timeout then bounds each wait for data, not the
	 * whole transfer. */
	hsm_rpc_sink sink;
	void *sink_arg;
	/* Optional: with a streaming method, the bytes of the file written
	 * to the channel so far are added here (atomically). */
	uint64_t *sent;
};

/* One call, blocking, bounded by timeout seconds in total.  params may be
 * NULL ({}).  Safe to call from several threads at once (one session per
 * call).  Returns reply->exit. */
HSM_API int hsm_rpc_exec(const struct hsm_rpc_endpoint *ep, const char *method,
			 const json_t *params, int timeout, struct hsm_rpc_reply *reply);

/* The same, for a streaming method (docs/protocol.md): stdin is the params
 * as one line, then the bytes of the file at path, streamed (never held
 * whole).  The timeout bounds the whole call. */
HSM_API int hsm_rpc_exec_stream(const struct hsm_rpc_endpoint *ep, const char *method,
				const json_t *params, const char *path, int timeout,
				struct hsm_rpc_reply *reply);

/* Judge what a service wrote on stdout (len bytes) and its exit status,
 * exactly as hsm_rpc_exec does; the reply must start zeroed.  Exposed for
 * the fuzz target.  Returns reply->exit. */
HSM_API int hsm_rpc_parse_reply(const char *out, size_t len, int status, const char *service,
				const char *method, struct hsm_rpc_reply *reply);

/* The HSMs a device command addresses. */
struct hsm_fleet {
	struct hsm_module *modules; /* sorted by ESN */
	size_t count;
	/* HSM_EXIT_USAGE when a modules.d file was skipped (already reported
	 * on stderr), else 0: fold it into the command's exit code. */
	int config_exit;
	json_t *config_errors; /* [{"file","error"}] of skipped files */
};

/* Read modules.d and apply --esn (none: every known HSM).  Reports its own
 * errors through hsm_error and returns their exit code: an --esn that is
 * malformed or not known is HSM_EXIT_USAGE; no HSM known at all is
 * HSM_EXIT_FAILED. */
HSM_API int hsm_fleet_open(struct hsm_ctx *ctx, struct hsm_fleet *fleet);
HSM_API void hsm_fleet_close(struct hsm_fleet *fleet);
HSM_API const struct hsm_module *hsm_fleet_find(const struct hsm_fleet *fleet, const char *esn);

/* One call to a service of a known HSM, with this host's client key and
 * the pins of its ESN from HSMADMIN_HOME.  Main thread only (reads ctx). */
HSM_API int hsm_rpc_call(struct hsm_ctx *ctx, const struct hsm_module *module, const char *service,
			 const char *method, const json_t *params, struct hsm_rpc_reply *reply);

/* hsm_rpc_call for a method whose reply streams: reply->result is the
 * first line's object, the bytes after it went to sink (see struct
 * hsm_rpc_endpoint).  Main thread only. */
HSM_API int hsm_rpc_call_sink(struct hsm_ctx *ctx, const struct hsm_module *module,
			      const char *service, const char *method, const json_t *params,
			      hsm_rpc_sink sink, void *sink_arg, struct hsm_rpc_reply *reply);

/* Called on the main thread for item i as soon as it is done, in the
 * order the items end (not their index order): results print as they
 * arrive instead of after the slowest HSM. */
typedef void (*hsm_done_fn)(struct hsm_ctx *ctx, size_t i, void *arg);

/* The same call against every HSM of the fleet in parallel; replies[i]
 * (caller-allocated, fleet->count entries) answers fleet->modules[i].
 * While it waits, the main thread shows a progress line (hsm_progress). */
HSM_API void hsm_rpc_fanout(struct hsm_ctx *ctx, const struct hsm_fleet *fleet, const char *service,
			    const char *method, const json_t *params,
			    struct hsm_rpc_reply *replies);
/* hsm_rpc_fanout that also calls done(ctx, i, arg) as each reply[i] comes
 * (done may be NULL). */
HSM_API void hsm_rpc_fanout_each(struct hsm_ctx *ctx, const struct hsm_fleet *fleet,
				 const char *service, const char *method, const json_t *params,
				 struct hsm_rpc_reply *replies, hsm_done_fn done, void *arg);

/* Thread-safe form of hsm_rpc_call for workers of hsm_parallel: key is the
 * service's client key, already loaded. */
HSM_API int hsm_rpc_call_module(const char *home, int timeout, const struct hsm_module *module,
				const char *service, const struct hsm_client_key *key,
				const char *method, const json_t *params,
				struct hsm_rpc_reply *reply);

/* hsm_rpc_call_module for a streaming method: the file at path follows
 * the params line (path NULL: an ordinary call). */
HSM_API int hsm_rpc_call_module_stream(const char *home, int timeout,
				       const struct hsm_module *module, const char *service,
				       const struct hsm_client_key *key, const char *method,
				       const json_t *params, const char *path,
				       struct hsm_rpc_reply *reply);
/* hsm_rpc_call_module_stream that adds the bytes of the file sent so far
 * to *sent as they go (atomically: the main thread reads it for its
 * progress line with __atomic_load_n). */
HSM_API int hsm_rpc_call_module_upload(const char *home, int timeout,
				       const struct hsm_module *module, const char *service,
				       const struct hsm_client_key *key, const char *method,
				       const json_t *params, const char *path, uint64_t *sent,
				       struct hsm_rpc_reply *reply);

/* This host's client key of service, for the workers of hsm_parallel;
 * NULL with reply made a failure when it is missing (not_enrolled, 3) or
 * unusable (auth, 4).  Free with hsm_client_key_free. */
HSM_API struct hsm_client_key *hsm_rpc_client_key(const char *home, const char *service,
						  struct hsm_rpc_reply *reply);

/* Run fn(i, arg) for i in [0, n) on up to 32 threads; returns when all
 * are done.  fn must not touch ctx or print. */
HSM_API void hsm_parallel(size_t n, void (*fn)(size_t i, void *arg), void *arg);

/* hsm_parallel for a command: the work runs on other threads while the
 * main thread calls done(ctx, i, done_arg) (may be NULL) as each i ends
 * and keeps a progress line ("waiting for K of N HSMs") on a terminal. */
HSM_API void hsm_parallel_report(struct hsm_ctx *ctx, size_t n, void (*fn)(size_t i, void *arg),
				 void *arg, hsm_done_fn done, void *done_arg);

/* The progress line of a wait: called on the main thread a few times a
 * second with how many of the n items are not done yet; it calls
 * hsm_progress with what the command is waiting for. */
typedef void (*hsm_waiting_fn)(struct hsm_ctx *ctx, size_t left, size_t n, void *arg);

/* What a wait counts, for hsm_waiting_count: "waiting for the <one>",
 * "waiting for K of N <many>". */
struct hsm_waiting_items {
	const char *one, *many;
};
/* The hsm_waiting_fn of a wait for items: arg is a struct
 * hsm_waiting_items (NULL: HSMs). */
HSM_API void hsm_waiting_count(struct hsm_ctx *ctx, size_t left, size_t n, void *arg);

/* hsm_parallel_report whose progress line waiting (NULL: "waiting for K
 * of N HSMs") writes: VCMs, modules, bytes of a transfer. */
HSM_API void hsm_parallel_report_with(struct hsm_ctx *ctx, size_t n,
				      void (*fn)(size_t i, void *arg), void *arg, hsm_done_fn done,
				      void *done_arg, hsm_waiting_fn waiting, void *waiting_arg);

/* The worst of two exit codes (the higher one): a command over many HSMs
 * exits with the worst per-HSM code. */
HSM_API int hsm_exit_worst(int a, int b);

#endif
