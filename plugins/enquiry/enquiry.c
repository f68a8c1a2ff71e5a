/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/enquiry - the `enquiry` tool: the tenant's enrolled VCMs as
 * modules 1..N, then the HSMs this host administers (their platform mode;
 * plugins/vcmtenant/platform-module.h), in the layout nShield
 * administrators know (guide 4.3.1.1), or as JSON.  A module that cannot
 * be reached, failed on the device or restarted since this host last used
 * it is shown with the flag Failed and its connection status
 * (plugins/vcmtenant/module.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/plugin.h>
#include "platform-module.h"
#include "vcmtenant.h"

struct fan {
	const char *home;
	int timeout;
	const struct vt_vcm *v;
	struct vt_module *m;
};

static void one(size_t i, void *arg)
{
	struct fan *f = arg;

	vt_module_query(f->home, f->timeout, &f->v[i], &f->m[i]);
}

/* Each call's copy lives until the next eight calls. */
static const char *str(const json_t *r, const char *key, const char *dflt)
{
	static char bufs[8][256];
	static unsigned k;
	const char *s = json_string_value(json_object_get(r, key));

	return s && *s ? vt_safe(s, bufs[k++ % 8], sizeof(bufs[0])) : dflt;
}

static void print_module(struct hsm_ctx *ctx, const struct vt_module *m)
{
	const struct vt_vcm *v = m->vcm;
	const json_t *r = m->reachable ? m->reply.result : NULL;
	char safe[600];

	hsm_printf(ctx, "Module #%d:\n", v->module);
	hsm_printf(ctx, " enquiry reply flags  %s\n", m->failed ? "Failed" : "none");
	hsm_printf(ctx, " enquiry reply level  Six\n");
	hsm_printf(ctx, " serial number        %s\n", str(r, "serial", "unknown"));
	hsm_printf(ctx, " mode                 %s\n", str(r, "mode", "unknown"));
	hsm_printf(ctx, " version              %s\n", str(r, "version", "0.0.0"));
	hsm_printf(ctx, " product name         %s\n", r ? "hsmadmin VCM" : "unknown");
	hsm_printf(ctx, " device name          %s\n", str(r, "device_name", "unknown"));
	hsm_printf(ctx, " features enabled     %s\n", str(r, "features_names", "none"));
	hsm_printf(ctx, " connection status    %s\n", m->connection);
	hsm_printf(ctx, " connection info      esn = %s; addr = INET/%s; uuid = %s; ncoreapi port = %u\n",
		   v->esn, v->address, v->uuid, v->ports[VT_NCOREAPI]);
	hsm_printf(ctx, " image version        %s\n", str(r, "firmware", "unknown"));
	hsm_printf(ctx, " boot id              %s\n", str(r, "boot_id", "unknown"));
	if (m->failed)
		hsm_printf(ctx, " failure              %s\n", vt_safe(m->reason, safe, sizeof(safe)));
	hsm_printf(ctx, " hardware status      %s\n", m->failed ? "unknown" : "OK");
}

static json_t *module_json(const struct vt_module *m)
{
	const struct vt_vcm *v = m->vcm;
	const json_t *r = m->reachable ? m->reply.result : NULL;
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s?}", "module", v->module,
			      "kind", "vcm", "uuid", v->uuid, "esn", v->esn, "address", v->address,
			      "failed", m->failed, "restarted", m->restarted,
			      "connection_status", m->connection, "failure", m->failed ? m->reason : NULL);

	if (o && r)
		json_object_set(o, "enquiry", (json_t *)r);
	return o;
}

/* An HSM's platform as a module: its mode is the platform mode. */
static void print_platform(struct hsm_ctx *ctx, const struct vt_platform *p, const struct hsm_rpc_reply *r)
{
	const json_t *status = r->exit == 0 ? r->result : NULL;
	/* A failed module (hsmd fail) answers but knows nothing of itself. */
	int hw_failed = json_is_true(json_object_get(status, "hardware_failed"));
	const json_t *res = hw_failed ? NULL : status;
	const char *mode = res ? vt_platform_mode(res) : NULL;
	char safe[600], msafe[64];

	hsm_printf(ctx, "Module #%d:\n", p->module);
	hsm_printf(ctx, " enquiry reply flags  %s\n", res ? "none" : "Failed");
	hsm_printf(ctx, " enquiry reply level  Six\n");
	hsm_printf(ctx, " serial number        %s\n", hw_failed ? "unknown" : p->hsm.esn);
	hsm_printf(ctx, " version              %s\n", hw_failed ? "0.0.0" :
		   str(json_object_get(res, "firmware"), "primary", "unknown"));
	hsm_printf(ctx, " mode                 %s\n", mode ? vt_safe(mode, msafe, sizeof(msafe)) : "unknown");
	hsm_printf(ctx, " product name         hsmadmin HSM platform\n");
	hsm_printf(ctx, " state                %s\n", str(res, "state", "unknown"));
	hsm_printf(ctx, " image                %s\n", str(res, "image", "unknown"));
	hsm_printf(ctx, " connection status    %s\n", status ? "OK" : r->exit == HSM_EXIT_UNREACHABLE ?
		   "Unreachable" : r->exit == HSM_EXIT_AUTH ? "AuthFailed" : "Error");
	hsm_printf(ctx, " connection info      esn = %s; addr = INET/%s; setup port = %u\n", p->hsm.esn,
		   p->hsm.address, p->hsm.ports[HSM_SVC_SETUP]);
	if (hw_failed)
		hsm_printf(ctx, " failure              the HSM has failed: %s\n",
			   str(status, "hardware_fault", "unknown"));
	else if (!res)
		hsm_printf(ctx, " failure              %s\n", vt_safe(r->message, safe, sizeof(safe)));
	hsm_printf(ctx, " hardware status      %s\n", res ? "OK" : "unknown");
}

static json_t *platform_json(const struct vt_platform *p, const struct hsm_rpc_reply *r)
{
	const json_t *status = r->exit == 0 ? r->result : NULL;
	int hw_failed = json_is_true(json_object_get(status, "hardware_failed"));
	const json_t *res = hw_failed ? NULL : status;
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:b, s:s?, s:s, s:s?, s:s?, s:s?}", "module", p->module,
			      "kind", "hsm", "esn", p->hsm.esn, "address", p->hsm.address, "failed", !res,
			      "mode", res ? vt_platform_mode(res) : NULL,
			      "connection_status", status ? "OK" : r->exit == HSM_EXIT_UNREACHABLE ? "Unreachable"
			      : r->exit == HSM_EXIT_AUTH ? "AuthFailed" : "Error",
			      "failure", hw_failed ? json_string_value(json_object_get(status, "hardware_fault"))
			      : res ? NULL : r->message,
			      "serial", hw_failed ? "unknown" : p->hsm.esn,
			      "version", hw_failed ? "0.0.0" :
			      json_string_value(json_object_get(json_object_get(res, "firmware"), "primary")));

	if (o && status)
		json_object_set(o, "status", (json_t *)status);
	return o;
}

static int cmd_enquiry(struct hsm_ctx *ctx)
{
	struct vt_vcm *v = NULL;
	size_t n = 0;
	struct vt_module *m;
	struct vt_platform *p = NULL;
	struct hsm_rpc_reply *pr = NULL;
	size_t np = 0;
	json_t *mods;
	int rc = vt_records_list(ctx, &v, &n), only = hsm_opt_given(ctx, "module") ?
		(int)hsm_opt_int(ctx, "module") : 0, shown = 0;

	if (rc)
		return rc;
	if ((rc = vt_platforms_list(ctx, vt_platform_first(v, n), &p, &np)) != 0) {
		vt_records_free(v, n);
		return rc;
	}
	if (!(m = calloc(n + 1, sizeof(*m))) || !(pr = calloc(np + 1, sizeof(*pr)))) {
		free(m);
		vt_platforms_free(p);
		vt_records_free(v, n);
		return hsm_error(ctx, HSM_EXIT_FAILED, "enquiry", "out of memory");
	}
	hsm_parallel(n, one, &(struct fan){ hsm_home(ctx), hsm_timeout(ctx), v, m });
	for (size_t i = 0; i < np; i++)
		if (!only || p[i].module == only)
			vt_platform_status(ctx, &p[i], &pr[i]);
	hsm_printf(ctx, "Server:\n enquiry reply flags  none\n version              %s\n"
		   " modules              %zu\n", PACKAGE_VERSION, n + np);
	mods = json_array();
	for (size_t i = 0; i < n; i++) {
		if (only && v[i].module != only)
			continue;
		shown++;
		print_module(ctx, &m[i]);
		json_array_append_new(mods, module_json(&m[i]));
	}
	for (size_t i = 0; i < np; i++) {
		if (only && p[i].module != only)
			continue;
		shown++;
		print_platform(ctx, &p[i], &pr[i]);
		json_array_append_new(mods, platform_json(&p[i], &pr[i]));
		hsm_rpc_reply_clear(&pr[i]);
	}
	json_object_set_new(hsm_json(ctx), "server", json_pack("{s:s}", "version", PACKAGE_VERSION));
	json_object_set_new(hsm_json(ctx), "modules", mods);
	for (size_t i = 0; i < n; i++)
		vt_module_clear(&m[i]);
	free(m);
	free(pr);
	vt_platforms_free(p);
	vt_records_free(v, n);
	if (only && !shown)
		return hsm_error(ctx, HSM_EXIT_USAGE, "-m", "no module #%d (hsmadmin vcm enroll, hsmadmin enroll)", only);
	return HSM_EXIT_OK;
}

static const struct hsm_option opts[] = {
	{ .name = "module", .short_name = 'm', .type = HSM_OPT_INT, .min = 1, .max = VT_MAX_MODULES,
	  .metavar = "MODULE", .help = "only this module (default: all)" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "enquiry", .tool = "enquiry",
	  .summary = "Show the enrolled VCMs and administered HSMs as modules",
	  .description = "Asks each VCM enrolled with `hsmadmin vcm enroll` for its state, then each "
			 "HSM enrolled with `hsmadmin enroll` from this host for its platform mode "
			 "(numbered after the VCMs).  A module that cannot be reached, failed, or "
			 "restarted since this host last used it is shown as Failed; see "
			 "nopclearfail(1).  Exits 0 even when modules failed.",
	  .options = opts, .flags = HSM_CMDF_DEVICE, .run = cmd_enquiry },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "enquiry",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
