/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.c - what service handlers may ask hsmd (struct hsmd_api), and one
 * call run through the gate.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <hsmadmin/service.h>
#include "fault.h"
#include "gate.h"
#include "server.h"
#include "vcmhost.h"


static const json_t *api_params(struct hsmd_call *c) { return c->params; }
static const char *api_service(struct hsmd_call *c) { return c->svc->name; }
static const char *api_method(struct hsmd_call *c) { return c->method; }
static const json_t *api_lifetime(struct hsmd_call *c) { return c->st->lifetime; }
static const json_t *api_device(struct hsmd_call *c) { return c->st->view; }
static json_t *api_begin(struct hsmd_call *c) { return json_deep_copy(c->st->view); }
static int64_t api_now(struct hsmd_call *c) { return hsmd_store_now(c->st); }
static int64_t api_host_now(struct hsmd_call *c) { (void)c; return hsmd_host_time(); }
static int64_t api_uptime(struct hsmd_call *c) { return hsmd_host_time() - c->st->boot_time; }

static int api_verror(struct hsmd_call *c, int status, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static int api_verror(struct hsmd_call *c, int status, const char *fmt, va_list ap)
{
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	/* One line: a newline in a message would break the host's display. */
	for (char *p = c->message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	c->message_set = 1;
	return status;
}

static int fail(struct hsmd_call *c, const char *what, const char *why)
{
	snprintf(c->message, sizeof(c->message), "%s: %.400s", what, why);
	c->message_set = 1;
	return -1;
}

static int api_commit(struct hsmd_call *c, json_t *doc, const char *event, json_t *detail)
{
	char err[HSMD_ERRLEN];

	if (event && !hsmd_name_valid(event)) {
		json_decref(doc);
		json_decref(detail);
		return fail(c, "commit", "event is not a name");
	}
	if (hsmd_store_commit_view(c->st, doc, event, detail, err, sizeof(err)) != 0)
		return fail(c, "cannot store the device state", err);
	return 0;
}

static void api_reply(struct hsmd_call *c, json_t *result)
{
	json_decref(c->result);
	c->result = result;
}

static json_t *api_hostkeys(struct hsmd_call *c)
{
	const json_t *lt = c->st->lifetime, *ports = json_object_get(lt, "ports");
	const json_t *certs = json_object_get(c->st->device, "certificates");
	json_t *services = json_object();
	const char *name;
	json_t *cert;

	json_object_foreach((json_t *)certs, name, cert) {
		const json_t *port = json_object_get(ports, name);
		const json_t *hk = json_object_get(json_object_get(cert, "body"), "host_key");
		if (!port)
			continue;
		json_object_set_new(services, name, json_pack("{s:O, s:O, s:O}", "port", port,
				    "host_key", hk, "certificate", cert));
	}
	return json_pack("{s:O, s:O, s:o}", "esn", json_object_get(lt, "esn"),
			 "identity", json_object_get(lt, "warrant"), "services", services);
}

static int api_factory_state(struct hsmd_call *c)
{
	char err[HSMD_ERRLEN];

	if (hsmd_store_factory_state(c->st, err, sizeof(err)) != 0)
		return fail(c, "factory state failed", err);
	if (hsmd_serve_hooks.reboot) /* VCMs: erased with the registry */
		hsmd_serve_hooks.reboot(c->st, "factorystate");
	return 0;
}

static int api_reboot(struct hsmd_call *c, const char *why)
{
	char err[HSMD_ERRLEN];

	if (!hsmd_name_valid(why))
		return fail(c, "reboot", "reason is not a name");
	if (hsmd_store_reboot(c->st, why, json_pack("{s:s}", "by", c->method), err, sizeof(err)) != 0)
		return fail(c, "reset failed", err);
	if (hsmd_serve_hooks.reboot) /* VCMs stop; autostart VCMs start again */
		hsmd_serve_hooks.reboot(c->st, why);
	return 0;
}

static json_t *api_log_entries(struct hsmd_call *c, const char *log)
{
	char err[HSMD_ERRLEN];
	json_t *e = hsmd_store_log_entries(c->st, log, err, sizeof(err));

	if (!e)
		fail(c, "cannot read the log", err);
	return e;
}

static char *api_log_public_key(struct hsmd_call *c)
{
	char err[HSMD_ERRLEN];
	char *line = hsmd_store_log_public_key(c->st, err, sizeof(err));

	if (!line)
		fail(c, "cannot read the log key", err);
	return line;
}

static long long api_log_expire(struct hsmd_call *c, int64_t upto)
{
	char err[HSMD_ERRLEN];
	long long gone = hsmd_store_log_expire(c->st, upto, err, sizeof(err));

	if (gone < 0)
		fail(c, "cannot expire the log", err);
	return gone;
}

static void api_log_usage(struct hsmd_call *c, uint64_t *used, uint64_t *capacity)
{
	*used = hsmd_store_log_used(c->st);
	*capacity = c->st->cfg->log_capacity;
}

static json_t *api_running_services(struct hsmd_call *c)
{
	return hsmd_server_service_names(c->srv);
}

static const char *api_vendor_dir(struct hsmd_call *c)
{
	return c->st->cfg->vendordir;
}

/* ---- VCMs (vcmhost.c does the work) ---------------------------------- */

static json_t *api_vcm_network(struct hsmd_call *c)
{
	char err[HSMD_ERRLEN];
	json_t *n = hsmd_vcmhost_network(c->st, err, sizeof(err));

	if (!n)
		fail(c, "VCM network", err);
	return n;
}

static json_t *api_vcm_prepare(struct hsmd_call *c, const json_t *spec)
{
	char err[HSMD_ERRLEN];
	json_t *r = hsmd_vcmhost_prepare(c->st, spec, err, sizeof(err));

	if (!r)
		fail(c, "cannot make the VCM's state", err);
	return r;
}

static int api_vcm_discard(struct hsmd_call *c, const char *uuid)
{
	char err[HSMD_ERRLEN];

	if (hsmd_vcmhost_discard(c->st, uuid, err, sizeof(err)) != 0)
		return fail(c, "cannot remove the VCM's state", err);
	return 0;
}

static int api_vcm_start(struct hsmd_call *c, const char *uuid)
{
	char err[HSMD_ERRLEN];

	if (hsmd_vcmhost_start(c->st, uuid, err, sizeof(err)) != 0)
		return fail(c, "cannot start the VCM", err);
	return 0;
}

static int api_vcm_stop(struct hsmd_call *c, const char *uuid)
{
	char err[HSMD_ERRLEN];

	if (hsmd_vcmhost_stop(c->st, uuid, err, sizeof(err)) != 0)
		return fail(c, "cannot stop the VCM", err);
	return 0;
}

static json_t *api_vcm_running(struct hsmd_call *c) { (void)c; return hsmd_vcmhost_running(); }
static json_t *api_vcm_stats(struct hsmd_call *c) { (void)c; return hsmd_vcmhost_stats(); }
static int api_vcm_audit_open(struct hsmd_call *c, const char *uuid)
{
	return hsmd_vcmhost_audit_open(c->st, uuid);
}

const struct hsmd_api hsmd_api_table = {
	.size = sizeof(struct hsmd_api),
	.params = api_params,
	.service = api_service,
	.method = api_method,
	.lifetime = api_lifetime,
	.device = api_device,
	.begin = api_begin,
	.commit = api_commit,
	.now = api_now,
	.host_now = api_host_now,
	.uptime = api_uptime,
	.reply = api_reply,
	.verror = api_verror,
	.hostkeys = api_hostkeys,
	.factory_state = api_factory_state,
	.reboot = api_reboot,
	.log_entries = api_log_entries,
	.log_usage = api_log_usage,
	.running_services = api_running_services,
	.vendor_dir = api_vendor_dir,
	.vcm_network = api_vcm_network,
	.vcm_prepare = api_vcm_prepare,
	.vcm_discard = api_vcm_discard,
	.vcm_start = api_vcm_start,
	.vcm_stop = api_vcm_stop,
	.vcm_running = api_vcm_running,
	.vcm_stats = api_vcm_stats,
	.vcm_audit_open = api_vcm_audit_open,
	.log_public_key = api_log_public_key,
	.log_expire = api_log_expire,
};

void hsmd_call_run(struct hsmd_call *call, struct hsmd_server *srv, struct hsmd_store *st,
		   const struct hsmd_loaded_service *svc, const char *method, json_t *params)
{
	const struct hsmd_method *m;
	struct hsmd_gate_facts facts;
	char fault[256];
	uint32_t flags;
	int rc, faulted;

	memset(call, 0, sizeof(*call));
	call->api = &hsmd_api_table;
	call->srv = srv;
	call->st = st;
	call->svc = svc;
	call->method = method;
	call->params = params;
	m = hsmd_service_find(svc, method);
	if (!m) {
		call->status = HSMD_BAD_REQUEST;
		snprintf(call->message, sizeof(call->message), "unknown method '%s' of service %s",
			 method, svc->name);
		return;
	}
	/* A failed module answers only the calls that report on it. */
	faulted = hsmd_fault_get(st->dir, fault, sizeof(fault));
	if (faulted && !hsmd_fault_exempt(svc->name, method)) {
		call->status = HSMD_FAILED;
		snprintf(call->message, sizeof(call->message), "the HSM has failed (%s): it must be replaced",
			 fault);
		return;
	}
	flags = hsmd_gate_flags(m->flags, m->variant_param, m->variant_flags, m->plain_flags, params);
	call->flags = flags;
	hsmd_store_gate_facts(st, &facts);
	rc = hsmd_gate_check(flags, &facts, call->message, sizeof(call->message));
	if (rc != 0) {
		call->status = rc;
		return;
	}
	rc = m->handler(call);
	if (rc < HSMD_OK || rc > HSMD_DENIED)
		rc = HSMD_FAILED;
	if (faulted && rc == HSMD_OK && json_is_object(call->result)) {
		json_object_set_new(call->result, "hardware_failed", json_true());
		json_object_set_new(call->result, "hardware_fault", json_string(fault));
	}
	call->status = rc;
	if (rc != HSMD_OK && !call->message_set)
		snprintf(call->message, sizeof(call->message), "%s failed", method);
}

void hsmd_call_clear(struct hsmd_call *call)
{
	json_decref(call->result);
	call->result = NULL;
}
