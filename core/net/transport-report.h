/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/transport-report.h - how device commands answer for many HSMs.
 *
 * Text: one block per HSM as its answer arrives (hsm_report_call), or in
 * ESN order (hsm_report), written by the command's own formatter; a failed
 * HSM gets one error line on stderr
 * ("hsmadmin: status: 1A23-BC45-6789: <why>").  --json: one document, its
 * modules always in ESN order:
 *
 *   {"modules": [{"esn": "...", "ok": true,  "result": {...}},
 *                {"esn": "...", "ok": false, "error": {"exit": 5,
 *                  "code": "unreachable", "message": "..."}}],
 *    "config_errors": [{"file": "...", "error": "..."}]}   (only if any)
 *
 * The exit code is the worst (highest) per-HSM code, and at least 2 when a
 * modules.d file was skipped.  In-tree API of libhsmadmin-net.
 */
#ifndef HSMADMIN_NET_TRANSPORT_REPORT_H
#define HSMADMIN_NET_TRANSPORT_REPORT_H

#include "transport.h"

/* Print the text block of one HSM's successful result. */
typedef void (*hsm_report_fn)(struct hsm_ctx *ctx, const struct hsm_module *module,
			      const json_t *result, void *arg);

/* Report replies[i] for fleet->modules[i]; returns the exit code. */
HSM_API int hsm_report(struct hsm_ctx *ctx, const struct hsm_fleet *fleet,
		       const struct hsm_rpc_reply *replies, hsm_report_fn text, void *arg);

/* The two halves of hsm_report, for a command that prints each HSM as its
 * reply comes (hsm_rpc_fanout_each): the text block or error line of one
 * HSM, flushed at once; then, when all are in, the JSON document and the
 * exit code, printing nothing. */
HSM_API void hsm_report_one(struct hsm_ctx *ctx, const struct hsm_module *module,
			    const struct hsm_rpc_reply *reply, hsm_report_fn text, void *arg);
HSM_API int hsm_report_json(struct hsm_ctx *ctx, const struct hsm_fleet *fleet,
			    const struct hsm_rpc_reply *replies);

/* What hsm_report_done needs: the fleet and its replies, the command's
 * formatter, and optionally judge, which looks at reply i first (on the
 * main thread, before it is printed): it may turn a reply into a failure
 * or act on it (forget the pins of an HSM that went to factory state). */
typedef void (*hsm_report_judge_fn)(struct hsm_ctx *ctx, const struct hsm_module *module,
				    struct hsm_rpc_reply *reply, void *arg);
struct hsm_report_run {
	const struct hsm_fleet *fleet;
	struct hsm_rpc_reply *replies;
	hsm_report_fn text;
	void *arg;
	hsm_report_judge_fn judge;
};

/* An hsm_done_fn (hsm_rpc_fanout_each, hsm_parallel_report) with a struct
 * hsm_report_run as its argument: judges and prints HSM i as it comes. */
HSM_API void hsm_report_done(struct hsm_ctx *ctx, size_t i, void *run);

/* The whole of a simple device command: open the fleet, call service.method
 * with params on every HSM in parallel, report each HSM as it answers. */
HSM_API int hsm_report_call(struct hsm_ctx *ctx, const char *service, const char *method,
			    const json_t *params, hsm_report_fn text, void *arg);
/* The same with judge (may be NULL) looking at each reply before it is
 * printed, as in struct hsm_report_run. */
HSM_API int hsm_report_call_judged(struct hsm_ctx *ctx, const char *service, const char *method,
				   const json_t *params, hsm_report_fn text,
				   hsm_report_judge_fn judge, void *arg);
/* The same on a fleet the command opened itself (to ask a person first);
 * the fleet stays open. */
HSM_API int hsm_report_fleet_call(struct hsm_ctx *ctx, const struct hsm_fleet *fleet,
				  const char *service, const char *method, const json_t *params,
				  hsm_report_fn text, hsm_report_judge_fn judge, void *arg);

/* Text helpers for formatters. */
/* "2026-11-23 10:38:32 UTC" for Unix seconds, into buf. */
HSM_API const char *hsm_format_time(long long t, char *buf, size_t len);
/* Print every member of an object as "  name: value" lines, names padded
 * to a column; nested objects as "name.sub".  order (NULL-terminated, may
 * be NULL) lists members to print first; the rest follow sorted. */
HSM_API void hsm_print_fields(struct hsm_ctx *ctx, const json_t *obj, const char *const *order);

#endif
