/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/tenant/module-state.c - what the host makes of an enrolled VCM's ncoreapi enquiry:
 * the state `enquiry` prints and `nopclearfail` acts on (docs/protocol.md,
 * ncoreapi "fail, clear, retry").
 *
 * A module is failed when its ncoreapi cannot be reached or authenticated
 * (connection status says why), when the device recorded a failure
 * (nopclearfail -F), or when it answers with another boot id than the one
 * this host last acknowledged: the VCM process restarted (a forced stop,
 * a crash, an hsmd restart) and anything a host held in it is gone.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "transport.h"

#include "tenant.h"

void hsm_tenant_module_clear(struct hsm_tenant_module *m)
{
	hsm_rpc_reply_clear(&m->reply);
	memset(m, 0, sizeof(*m));
}

int hsm_tenant_module_query(const char *home, int timeout, const struct hsm_tenant_vcm *v,
			    struct hsm_tenant_module *m)
{
	char acked[64];
	const char *boot;

	memset(m, 0, sizeof(*m));
	m->vcm = v;
	if (hsm_tenant_call_home(home, timeout, v, HSM_TENANT_NCOREAPI, "enquiry", NULL,
				 &m->reply) != 0) {
		m->failed = 1;
		snprintf(m->connection, sizeof(m->connection), "%s",
			 m->reply.exit == HSM_EXIT_UNREACHABLE ? "Unreachable"
			 : m->reply.exit == HSM_EXIT_AUTH      ? "AuthFailed"
							       : "Error");
		snprintf(m->reason, sizeof(m->reason), "%s", m->reply.message);
		return 0;
	}
	m->reachable = 1;
	snprintf(m->connection, sizeof(m->connection), "OK");
	boot = json_string_value(json_object_get(m->reply.result, "boot_id"));
	if (json_is_true(json_object_get(m->reply.result, "hardware_failed"))) {
		/* The module of the HSM failed: it answers, but knows nothing. */
		m->failed = 1;
		m->reachable = 0;
		snprintf(m->reason, sizeof(m->reason), "the HSM has failed: %s",
			 json_string_value(json_object_get(m->reply.result, "hardware_fault"))
			     ?: "unknown");
	} else if (json_is_true(json_object_get(m->reply.result, "failed"))) {
		m->failed = 1;
		snprintf(m->reason, sizeof(m->reason), "failed on the device: %s",
			 json_string_value(json_object_get(m->reply.result, "fail_reason"))
			     ?: "unknown");
	} else if (hsm_tenant_session_load(home, v->uuid, acked, sizeof(acked)) != 0 || !boot ||
		   strcmp(acked, boot) != 0) {
		m->failed = 1;
		m->restarted = 1;
		snprintf(m->reason, sizeof(m->reason),
			 "the module restarted since this host last used "
			 "it (nopclearfail -m %d -r)",
			 v->module);
	}
	return 0;
}
