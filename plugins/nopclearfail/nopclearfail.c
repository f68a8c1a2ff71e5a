/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/nopclearfail - the `nopclearfail` tool: change the mode of an
 * enrolled VCM's module (-M maintenance, -O operational, -I
 * initialization), mark it failed (-F), clear it (-c, from maintenance
 * mode) or retry a module that restarted or was lost (-r) (overview ch.
 * 11; docs/protocol.md, ncoreapi "fail, clear, retry").
 *
 * Retry and clear acknowledge the module's current boot id on this host
 * (session.json), which is what makes enquiry show it usable again.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hsmadmin/plugin.h>
#include "tenant.h"

enum { G_ACTION = 1, G_WHICH };

struct action {
	const char *opt;
	const char *method;
	const char *mode;       /* set_mode's mode, or NULL */
	const char *done;       /* for the message */
};

static const struct action actions[] = {
	{ "maintenance", "set_mode", "maintenance", "in maintenance mode" },
	{ "operational", "set_mode", "operational", "in operational mode" },
	{ "initialization", "set_mode", "initialization", "in initialization mode" },
	{ "fail", "fail", NULL, "failed" },
	{ "clear", "clear", NULL, "cleared" },
	{ "retry", "retry", NULL, "retried" },
};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

/* Is the module where the action should have left it?  (-w) */
static int settled(const struct action *a, const struct hsm_tenant_module *m)
{
	const char *mode = json_string_value(json_object_get(m->reply.result, "mode"));

	if (!m->reachable)
		return 0;
	if (a->mode)
		return mode && strcmp(mode, a->mode) == 0;
	if (strcmp(a->method, "fail") == 0)
		return m->failed;
	return !m->failed;
}

static int act(struct hsm_ctx *ctx, const struct action *a, const struct hsm_tenant_vcm *v)
{
	struct hsm_rpc_reply r;
	json_t *params = a->mode ? json_pack("{s:s}", "mode", a->mode) : NULL;
	const char *boot;
	char err[512];
	int rc = hsm_tenant_call(ctx, v, HSM_TENANT_NCOREAPI, a->method, params, &r);

	json_decref(params);
	if (rc != 0) {
		hsm_error(ctx, rc, "module", "#%d (%s): %s: %s", v->module, v->uuid, a->opt, r.message);
		hsm_rpc_reply_clear(&r);
		return rc;
	}
	boot = json_string_value(json_object_get(r.result, "boot_id"));
	if (boot && hsm_tenant_session_save(hsm_home(ctx), v->uuid, boot, err, sizeof(err)) != 0) {
		hsm_rpc_reply_clear(&r);
		return hsm_error(ctx, HSM_EXIT_FAILED, "module", "#%d: %s", v->module, err);
	}
	hsm_printf(ctx, "Module #%d %s\n", v->module, a->done);
	hsm_rpc_reply_clear(&r);
	return 0;
}

static int wait_for(struct hsm_ctx *ctx, const struct action *a, const struct hsm_tenant_vcm *v)
{
	time_t end = time(NULL) + hsm_timeout(ctx);
	struct hsm_tenant_module m;

	for (;;) {
		hsm_tenant_module_query(hsm_home(ctx), hsm_timeout(ctx), v, &m);
		int ok = settled(a, &m);
		hsm_tenant_module_clear(&m);
		if (ok)
			return 0;
		if (time(NULL) >= end)
			return hsm_error(ctx, HSM_EXIT_UNREACHABLE, "module", "#%d did not settle %s within "
					 "%d s", v->module, a->done, hsm_timeout(ctx));
		usleep(250000);
	}
}

static int cmd_nopclearfail(struct hsm_ctx *ctx)
{
	const struct action *a = NULL;
	struct hsm_tenant_vcm *v = NULL;
	size_t n = 0, done = 0;
	int rc, worst = 0, all = hsm_opt_given(ctx, "all");
	int only = hsm_opt_given(ctx, "module") ? (int)hsm_opt_int(ctx, "module") : 0;
	json_t *mods;

	for (size_t i = 0; i < NACTIONS; i++)
		if (hsm_opt_given(ctx, actions[i].opt))
			a = &actions[i];
	if (!a)
		return hsm_error(ctx, HSM_EXIT_USAGE, "usage", "give one of -M -O -I -F -c -r");
	if (!all && !only)
		return hsm_error(ctx, HSM_EXIT_USAGE, "usage", "give -m MODULE or -a");
	if ((rc = hsm_tenant_records_list(ctx, &v, &n)) != 0)
		return rc;
	mods = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!all && v[i].module != only)
			continue;
		done++;
		rc = act(ctx, a, &v[i]);
		if (rc == 0 && hsm_opt_given(ctx, "wait"))
			rc = wait_for(ctx, a, &v[i]);
		worst = hsm_exit_worst(worst, rc);
		json_array_append_new(mods, json_pack("{s:i, s:s, s:s, s:b}", "module", v[i].module,
				      "uuid", v[i].uuid, "action", a->opt, "ok", rc == 0));
	}
	json_object_set_new(hsm_json(ctx), "modules", mods);
	hsm_tenant_records_free(v, n);
	if (!done)
		return hsm_error(ctx, HSM_EXIT_USAGE, "-m", all ? "no enrolled module" :
				 "no such module (see enquiry)");
	return worst;
}

static const struct hsm_option opts[] = {
	{ .name = "module", .short_name = 'm', .type = HSM_OPT_INT, .min = 1, .max = HSM_TENANT_MAX_MODULES,
	  .group = G_WHICH, .metavar = "MODULE", .help = "the module (as enquiry numbers it)" },
	{ .name = "all", .short_name = 'a', .type = HSM_OPT_FLAG, .group = G_WHICH,
	  .help = "every enrolled module" },
	{ .name = "maintenance", .short_name = 'M', .type = HSM_OPT_FLAG, .group = G_ACTION,
	  .help = "put the module into maintenance mode" },
	{ .name = "operational", .short_name = 'O', .type = HSM_OPT_FLAG, .group = G_ACTION,
	  .help = "put the module into operational mode" },
	{ .name = "initialization", .short_name = 'I', .type = HSM_OPT_FLAG, .group = G_ACTION,
	  .help = "put the module into initialization mode" },
	{ .name = "fail", .short_name = 'F', .type = HSM_OPT_FLAG, .group = G_ACTION,
	  .help = "mark the module failed" },
	{ .name = "clear", .short_name = 'c', .type = HSM_OPT_FLAG, .group = G_ACTION,
	  .help = "clear the module (needs maintenance mode; it returns operational)" },
	{ .name = "retry", .short_name = 'r', .type = HSM_OPT_FLAG, .group = G_ACTION,
	  .help = "use a module again that restarted or was unreachable" },
	{ .name = "wait", .short_name = 'w', .type = HSM_OPT_FLAG,
	  .help = "wait (up to --timeout) until the module is in the new state" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "nopclearfail", .tool = "nopclearfail",
	  .summary = "Change a module's mode, fail, clear or retry it",
	  .description = "Acts on the VCMs enrolled with `hsmadmin vcm enroll`, numbered as enquiry "
			 "shows them.  Recovery of a failed VCM: -r; if that does not help, -M, wait, "
			 "then -c.",
	  .options = opts, .flags = HSM_CMDF_DEVICE, .run = cmd_nopclearfail },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "nopclearfail",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
