/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmadmin/call.h - calling a device method from a plugin (plugin ABI 1.1;
 * hsm_call_each since 1.2).
 *
 * A command calls one method of one service on the HSMs it addresses: the
 * ones named by --esn, or every HSM of modules.d.  The core does the rest,
 * exactly as for its own commands (docs/protocol.md):
 *
 *   - connection: the HSM's address and the service's port from its
 *     modules.d file; one SSH session per HSM, all HSMs in parallel;
 *   - host-key pinning: the service's host key must be the one pinned at
 *     enrollment (HSMADMIN_HOME/pins), checked before authenticating;
 *   - client key: this host's key of that service (HSMADMIN_HOME/keys/
 *     client/<service>), the one enrollment installed on the HSM;
 *   - timeout: the command's --timeout (3..120 s, default 30) bounds the
 *     call to each HSM, connection included;
 *   - results: one per HSM, in ESN order, with its exit code; or, with
 *     hsm_call_each, each HSM's as it arrives, so that a silent HSM does
 *     not hold back what the others answered.
 *
 * Link with `pkg-config --libs hsmadmin-call` (libhsmadmin-call).  SSH
 * and the host's keys stay inside the core: a plugin sees only this.
 *
 *   struct hsm_call *c;
 *   int rc = hsm_call(ctx, "launcher", "acme_sum", params, &c);
 *   if (rc) return rc;                        // nothing called; reported
 *   for (size_t i = 0; i < hsm_call_count(c); i++)
 *       if (hsm_call_exit(c, i) == HSM_EXIT_OK)
 *           use(hsm_call_esn(c, i), hsm_call_result(c, i));
 *   rc = hsm_call_report(ctx, c);             // one error line per failed HSM
 *   hsm_call_free(c);
 *   return rc;
 *
 * or, printing each HSM as it answers (a command over many HSMs should):
 *
 *   static void show(struct hsm_ctx *ctx, const struct hsm_call *c, size_t i, void *arg)
 *   { hsm_printf(ctx, "%s: ...\n", hsm_call_esn(c, i)); }
 *   int rc = hsm_call_each(ctx, "launcher", "acme_sum", params, show, NULL, &c);
 *   if (rc) return rc;
 *   rc = hsm_call_report(ctx, c);             // the exit code; the errors are out
 *   hsm_call_free(c);
 */
#ifndef HSMADMIN_CALL_H
#define HSMADMIN_CALL_H

#include <stddef.h>
#include <jansson.h>
#include <hsmadmin/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The answers of one call on the addressed HSMs.  Opaque. */
struct hsm_call;

/* Call service.method with params (an object; NULL sends {}) on every HSM
 * the command addresses, in parallel, and wait for all of them.  service is
 * an HSM service: sshadmin, setup, ncoreapi, updater, launcher, monitor or
 * orchestrator (a vendor's service module serves as launcher,
 * docs/plugin-guide.md).  Declare the command HSM_CMDF_DEVICE so that it
 * takes --esn and --timeout.
 *
 * Returns HSM_EXIT_OK with *out set, even when some HSMs failed (see
 * hsm_call_exit); or, when nothing could be called (unknown service, bad
 * --esn, no HSM known), an exit code after one error line, with *out NULL. */
HSM_API int hsm_call(struct hsm_ctx *ctx, const char *service, const char *method,
		     const json_t *params, struct hsm_call **out);

/* What hsm_call_each does with HSM i once its method succeeded: print its
 * result (hsm_printf), add to the --json document.  Main thread. */
typedef void (*hsm_call_fn)(struct hsm_ctx *ctx, const struct hsm_call *call, size_t i, void *arg);

/* hsm_call that reports each HSM as soon as it answers, in the order the
 * answers arrive: each(ctx, call, i, arg) for an HSM whose method
 * succeeded (each may be NULL), the error line "<tool>: <command>: <ESN>:
 * <message>" for one that failed, then stdout is flushed, so whoever reads
 * a pipe sees that HSM at once.  While HSMs are still being waited for, a
 * terminal shows the core's progress line.  Under --json nothing is
 * printed on the way and each sees the HSMs in ESN order at the end.
 * Returns like hsm_call; hsm_call_report then prints no line again.
 * Plugin ABI 1.2. */
HSM_API int hsm_call_each(struct hsm_ctx *ctx, const char *service, const char *method,
			  const json_t *params, hsm_call_fn each, void *arg, struct hsm_call **out);

/* Number of HSMs called; answer i (0 <= i < count) is of HSM i, in ESN order. */
HSM_API size_t hsm_call_count(const struct hsm_call *call);
/* Its ESN ("1A23-BC45-6789"). */
HSM_API const char *hsm_call_esn(const struct hsm_call *call, size_t i);
/* Its exit code (enum hsm_exit): HSM_EXIT_OK when the method succeeded. */
HSM_API int hsm_call_exit(const struct hsm_call *call, size_t i);
/* The method's result object when it succeeded, else NULL.  Borrowed: valid
 * until hsm_call_free. */
HSM_API const json_t *hsm_call_result(const struct hsm_call *call, size_t i);
/* Why it failed: a code ("failed", "bad_request", "refused_state",
 * "denied" from the device; "unreachable", "trust", "auth",
 * "not_enrolled", "protocol", "local" from this host) and a one-line
 * message; both "" when it succeeded. */
HSM_API const char *hsm_call_code(const struct hsm_call *call, size_t i);
HSM_API const char *hsm_call_message(const struct hsm_call *call, size_t i);

/* Print one error line per failed HSM ("<tool>: <command>: <ESN>:
 * <message>"; not again after hsm_call_each, which printed them as they
 * came) and return the worst exit code of all of them (0 when every HSM
 * answered, HSM_EXIT_USAGE when a modules.d file had to be skipped): the
 * exit code of a command over many HSMs. */
HSM_API int hsm_call_report(struct hsm_ctx *ctx, const struct hsm_call *call);

HSM_API void hsm_call_free(struct hsm_call *call);

#ifdef __cplusplus
}
#endif
#endif /* HSMADMIN_CALL_H */
