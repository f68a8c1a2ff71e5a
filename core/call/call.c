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
#include "transport.h"

struct hsm_call {
	struct hsm_fleet fleet;
	struct hsm_rpc_reply *replies; /* fleet.count, replies[i] of fleet.modules[i] */
};

static const struct hsm_rpc_reply *reply_at(const struct hsm_call *c, size_t i)
{
	return c && i < c->fleet.count ? &c->replies[i] : NULL;
}

int hsm_call(struct hsm_ctx *ctx, const char *service, const char *method, const json_t *params,
	     struct hsm_call **out)
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
	hsm_rpc_fanout(ctx, &c->fleet, service, method, params, c->replies);
	*out = c;
	return HSM_EXIT_OK;
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
