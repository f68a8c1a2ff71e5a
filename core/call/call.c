/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/call/call.c - libhsmadmin-call: the public call API of
 * <hsmadmin/call.h> over the in-tree transport (core/net).
 *
 * A thin layer on purpose: everything that matters (modules.d, --esn,
 * pins, client keys, SSH, the parallel fan-out) is the transport's, the
 * same code the core's own commands use, so a vendor's call is checked
 * exactly like `hsmadmin status`.  This file only keeps the transport's
 * structures out of the installed header.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <hsmadmin/call.h>
#include "transport-report.h"
#include "transport.h"

struct hsm_call {
	struct hsm_fleet fleet;
	struct hsm_rpc_reply *replies; /* fleet.count, replies[i] of fleet.modules[i] */
	int reported;                  /* hsm_call_each printed each HSM's error line */
};

/* hsm_call_each: the plugin's printer for the successes, the core's
 * printer (the one of the core's own commands) for everything else. */
struct each_run {
	const struct hsm_call *call;
	hsm_call_fn each;
	void *arg;
};

static void each_text(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *result,
		      void *arg)
{
	const struct each_run *e = arg;

	(void)result;
	if (e->each)
		e->each(ctx, e->call, (size_t)(m - e->call->fleet.modules), e->arg);
}

static void each_done(struct hsm_ctx *ctx, size_t i, void *arg)
{
	const struct each_run *e = arg;

	hsm_report_one(ctx, &e->call->fleet.modules[i], &e->call->replies[i], each_text, arg);
}

static const struct hsm_rpc_reply *reply_at(const struct hsm_call *c, size_t i)
{
	return c && i < c->fleet.count ? &c->replies[i] : NULL;
}

static int call(struct hsm_ctx *ctx, const char *service, const char *method, const json_t *params,
		const struct each_run *each, struct hsm_call **out)
{
	struct hsm_call *c;
	int rc;

	*out = NULL;
	if (!service || hsm_service_lookup(service) < 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "call",
				 "'%s' is not an HSM service (sshadmin, setup, ncoreapi, updater, "
				 "launcher, monitor, orchestrator)",
				 service ? service : "(null)");
	if (!method || !*method)
		return hsm_error(ctx, HSM_EXIT_FAILED, "call", "no method named for %s", service);
	if (params && !json_is_object(params))
		return hsm_error(ctx, HSM_EXIT_FAILED, "call", "%s.%s: params must be an object",
				 service, method);
	if (!(c = calloc(1, sizeof(*c))))
		return hsm_error(ctx, HSM_EXIT_FAILED, "call", "out of memory");
	if ((rc = hsm_fleet_open(ctx, &c->fleet)) != 0) {
		free(c);
		return rc;
	}
	c->replies = calloc(c->fleet.count ? c->fleet.count : 1, sizeof(*c->replies));
	if (!c->replies) {
		hsm_call_free(c);
		return hsm_error(ctx, HSM_EXIT_FAILED, "call", "out of memory");
	}
	hsm_verbosef(ctx, "calling %s.%s on %zu HSM(s)\n", service, method, c->fleet.count);
	if (each) {
		struct each_run run = { c, each->each, each->arg };

		hsm_rpc_fanout_each(ctx, &c->fleet, service, method, params, c->replies, each_done,
				    &run);
		c->reported = 1;
	} else {
		hsm_rpc_fanout(ctx, &c->fleet, service, method, params, c->replies);
	}
	*out = c;
	return HSM_EXIT_OK;
}

int hsm_call(struct hsm_ctx *ctx, const char *service, const char *method, const json_t *params,
	     struct hsm_call **out)
{
	return call(ctx, service, method, params, NULL, out);
}

int hsm_call_each(struct hsm_ctx *ctx, const char *service, const char *method,
		  const json_t *params, hsm_call_fn each, void *arg, struct hsm_call **out)
{
	struct each_run run = { NULL, each, arg };

	return call(ctx, service, method, params, &run, out);
}

size_t hsm_call_count(const struct hsm_call *c)
{
	return c ? c->fleet.count : 0;
}

const char *hsm_call_esn(const struct hsm_call *c, size_t i)
{
	return reply_at(c, i) ? c->fleet.modules[i].esn : NULL;
}

int hsm_call_exit(const struct hsm_call *c, size_t i)
{
	const struct hsm_rpc_reply *r = reply_at(c, i);

	return r ? r->exit : HSM_EXIT_FAILED;
}

const json_t *hsm_call_result(const struct hsm_call *c, size_t i)
{
	const struct hsm_rpc_reply *r = reply_at(c, i);

	return r && r->exit == HSM_EXIT_OK ? r->result : NULL;
}

const char *hsm_call_code(const struct hsm_call *c, size_t i)
{
	const struct hsm_rpc_reply *r = reply_at(c, i);

	return r ? r->code : "";
}

const char *hsm_call_message(const struct hsm_call *c, size_t i)
{
	const struct hsm_rpc_reply *r = reply_at(c, i);

	return r ? r->message : "";
}

int hsm_call_report(struct hsm_ctx *ctx, const struct hsm_call *c)
{
	int rc;

	if (!c)
		return HSM_EXIT_FAILED;
	rc = c->fleet.config_exit;
	for (size_t i = 0; i < c->fleet.count; i++) {
		const struct hsm_rpc_reply *r = &c->replies[i];

		if (r->exit == HSM_EXIT_OK)
			continue;
		if (!c->reported)
			hsm_error(ctx, r->exit, c->fleet.modules[i].esn, "%s", r->message);
		rc = hsm_exit_worst(rc, r->exit);
	}
	return rc;
}

void hsm_call_free(struct hsm_call *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->replies && i < c->fleet.count; i++)
		hsm_rpc_reply_clear(&c->replies[i]);
	free(c->replies);
	hsm_fleet_close(&c->fleet);
	free(c);
}
