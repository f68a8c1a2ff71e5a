/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/nopclearfail - the `nopclearfail` tool: change the mode of a
 * module (-M maintenance, -O operational, -I initialization), mark it
 * failed (-F), clear it (-c, from maintenance mode) or retry a module that
 * restarted or was lost (-r) (overview ch. 11; guide 4.6.4; docs/protocol.md,
 * ncoreapi "fail, clear, retry").
 *
 * A module is an enrolled VCM (its ncoreapi service) or an HSM this host
 * administers (its platform mode, setup set_mode), numbered as enquiry
 * shows them (platform-module.h).  --esn restricts every selection to the
 * modules of those HSMs and alone selects their platforms: it is never
 * ignored, so a command meant for one device never reaches another.
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
#include "platform-module.h"
#include "tenant.h"

enum { G_ACTION = 1, G_WHICH };

struct action {
	const char *opt;
	const char *method;
	const char *mode; /* set_mode's mode, or NULL */
	const char *done; /* for the message */
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

/* One module to act on: a VCM or an HSM's platform. */
struct target {
	int module;
	const char *esn;
	const struct hsm_tenant_vcm *vcm;      /* or NULL */
	const struct hsm_tenant_platform *hsm; /* or NULL */
};

/* Is the VCM's module where the action should have left it?  (-w) */
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

/* A clear passes through maintenance mode: the device clears only from
 * there, and the guide clears every module with one command after
 * enabling features (guide 4.9.3: nopclearfail --clear --all). */
static int to_maintenance(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v)
{
	struct hsm_rpc_reply r;
	json_t *params = json_pack("{s:s}", "mode", "maintenance");
	int rc = hsm_tenant_call(ctx, v, HSM_TENANT_NCOREAPI, "set_mode", params, &r);

	json_decref(params);
	if (rc != 0)
		hsm_error(ctx, rc, "module", "#%d (%s): clear: maintenance mode first: %s",
			  v->module, v->uuid, r.message);
	hsm_rpc_reply_clear(&r);
	return rc;
}

static int act_vcm(struct hsm_ctx *ctx, const struct action *a, const struct hsm_tenant_vcm *v)
{
	struct hsm_rpc_reply r;
	json_t *params;
	const char *boot;
	char err[512];
	int rc;

	if (!strcmp(a->method, "clear") && (rc = to_maintenance(ctx, v)) != 0)
		return rc;
	params = a->mode ? json_pack("{s:s}", "mode", a->mode) : NULL;
	rc = hsm_tenant_call(ctx, v, HSM_TENANT_NCOREAPI, a->method, params, &r);
	json_decref(params);
	if (rc != 0) {
		hsm_error(ctx, rc, "module", "#%d (%s): %s: %s", v->module, v->uuid, a->opt,
			  r.message);
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

static int act_hsm(struct hsm_ctx *ctx, const struct action *a, const struct hsm_tenant_platform *p)
{
	struct hsm_rpc_reply r;
	json_t *params = json_pack("{s:s}", "mode", a->mode);
	int rc = hsm_rpc_call(ctx, &p->hsm, "setup", "set_mode", params, &r);

	json_decref(params);
	if (rc != 0)
		hsm_error(ctx, rc, "module", "#%d (HSM %s): %s: %s", p->module, p->hsm.esn, a->opt,
			  r.message);
	else
		hsm_printf(ctx, "Module #%d (HSM %s) %s\n", p->module, p->hsm.esn, a->done);
	hsm_rpc_reply_clear(&r);
	return rc;
}

static int target_settled(struct hsm_ctx *ctx, const struct action *a, const struct target *t)
{
	int ok;

	if (t->vcm) {
		struct hsm_tenant_module m;
		hsm_tenant_module_query(hsm_home(ctx), hsm_timeout(ctx), t->vcm, &m);
		ok = settled(a, &m);
		hsm_tenant_module_clear(&m);
	} else {
		struct hsm_rpc_reply r;
		const char *mode;
		hsm_tenant_platform_status(ctx, t->hsm, &r);
		mode = r.exit == 0 ? hsm_tenant_platform_mode(r.result) : NULL;
		ok = mode && strcmp(mode, a->mode) == 0;
		hsm_rpc_reply_clear(&r);
	}
	return ok;
}

static int wait_for(struct hsm_ctx *ctx, const struct action *a, const struct target *t)
{
	time_t end = time(NULL) + hsm_timeout(ctx);

	while (!target_settled(ctx, a, t)) {
		if (time(NULL) >= end)
			return hsm_error(ctx, HSM_EXIT_UNREACHABLE, "module",
					 "#%d did not settle %s within "
					 "%d s",
					 t->module, a->done, hsm_timeout(ctx));
		usleep(250000);
	}
	return 0;
}

/* --esn, normalised: ESNs this host has a module on (VCM or platform). */
struct esns {
	char (*v)[HSM_ESN_LEN + 1];
	size_t n;
};

static int esn_selected(const struct esns *e, const char *esn)
{
	if (!e->n)
		return 1;
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i], esn) == 0)
			return 1;
	return 0;
}

static int read_esns(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, size_t nv,
		     const struct hsm_tenant_platform *p, size_t np, struct esns *e)
{
	e->n = hsm_esn_count(ctx);
	if (!e->n)
		return 0;
	if (!(e->v = calloc(e->n, sizeof(*e->v))))
		return hsm_error(ctx, HSM_EXIT_FAILED, "nopclearfail", "out of memory");
	for (size_t i = 0; i < e->n; i++) {
		int known = 0;
		if (hsm_esn_normalize(hsm_esn_at(ctx, i), e->v[i]) != 0)
			return hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
					 "'%s' is not an ESN (like 1A23-BC45-6789)",
					 hsm_esn_at(ctx, i));
		known = hsm_tenant_platform_find(p, np, e->v[i]) != NULL;
		for (size_t k = 0; k < nv && !known; k++)
			known = strcmp(v[k].esn, e->v[i]) == 0;
		if (!known)
			return hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
					 "%s: this host has no module on that HSM "
					 "(see enquiry)",
					 e->v[i]);
	}
	return 0;
}

/* The modules addressed by -m, -a and --esn, in module order. */
static int select_targets(struct hsm_ctx *ctx, const struct action *a,
			  const struct hsm_tenant_vcm *v, size_t nv,
			  const struct hsm_tenant_platform *p, size_t np, const struct esns *e,
			  struct target *out, size_t *count)
{
	int all = hsm_opt_given(ctx, "all");
	int only = hsm_tenant_module_opt(ctx);
	size_t k = 0;

	*count = 0;
	if (!all && !only && !e->n)
		return hsm_error(ctx, HSM_EXIT_USAGE, "usage", "give -m MODULE, -a or --esn ESN");
	for (size_t i = 0; i < nv; i++)
		if ((all || v[i].module == only) && esn_selected(e, v[i].esn))
			out[k++] = (struct target){ v[i].module, v[i].esn, &v[i], NULL };
	for (size_t i = 0; i < np; i++) {
		int picked = all || p[i].module == only || (!only && e->n);
		if (!picked || !esn_selected(e, p[i].hsm.esn))
			continue;
		/* Failing, clearing and retrying are ncoreapi's: a VCM's. */
		if (!a->mode && all)
			continue;
		if (!a->mode)
			return hsm_error(ctx, HSM_EXIT_USAGE, a->opt,
					 "module #%d is HSM %s, whose platform "
					 "has only modes (-M, -O, -I); -%c acts on a VCM's module",
					 p[i].module, p[i].hsm.esn,
					 a->opt[0] == 'f' ? 'F' : a->opt[0]);
		out[k++] = (struct target){ p[i].module, p[i].hsm.esn, NULL, &p[i] };
	}
	if (only && !k) {
		/* Say why: no such module, or one on another HSM than --esn. */
		for (size_t i = 0; i < nv; i++)
			if (v[i].module == only)
				return hsm_error(ctx, HSM_EXIT_USAGE, "-m",
						 "module #%d is on HSM %s, not the "
						 "HSM --esn names",
						 only, v[i].esn);
		for (size_t i = 0; i < np; i++)
			if (p[i].module == only)
				return hsm_error(ctx, HSM_EXIT_USAGE, "-m",
						 "module #%d is HSM %s, not the HSM "
						 "--esn names",
						 only, p[i].hsm.esn);
		return hsm_error(ctx, HSM_EXIT_USAGE, "-m", "no module #%d (see enquiry)", only);
	}
	if (e->n && !only && !all) {
		for (size_t i = 0; i < e->n; i++)
			if (!hsm_tenant_platform_find(p, np, e->v[i]))
				return hsm_error(
				    ctx, HSM_EXIT_USAGE, "--esn",
				    "%s: this host does not administer "
				    "that HSM (hsmadmin enroll); give -m MODULE for its VCMs",
				    e->v[i]);
	}
	if (!k)
		return hsm_error(ctx, HSM_EXIT_USAGE, "-a", "no enrolled module");
	*count = k;
	return 0;
}

static int by_module(const void *x, const void *y)
{
	return ((const struct target *)x)->module - ((const struct target *)y)->module;
}

static int cmd_nopclearfail(struct hsm_ctx *ctx)
{
	const struct action *a = NULL;
	struct hsm_tenant_vcm *v = NULL;
	struct hsm_tenant_platform *p = NULL;
	struct target *t = NULL;
	struct esns e = { NULL, 0 };
	size_t nv = 0, np = 0, nt = 0;
	int rc, worst = 0;
	json_t *mods;

	for (size_t i = 0; i < NACTIONS; i++)
		if (hsm_opt_given(ctx, actions[i].opt))
			a = &actions[i];
	if (!a)
		return hsm_error(ctx, HSM_EXIT_USAGE, "usage", "give one of -M -O -I -F -c -r");
	if ((rc = hsm_tenant_modules_list(ctx, &v, &nv, &p, &np)) != 0)
		return rc;
	if ((rc = read_esns(ctx, v, nv, p, np, &e)) != 0)
		goto out;
	if (!(t = calloc(nv + np + 1, sizeof(*t)))) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "nopclearfail", "out of memory");
		goto out;
	}
	if ((rc = select_targets(ctx, a, v, nv, p, np, &e, t, &nt)) != 0)
		goto out;
	qsort(t, nt, sizeof(*t), by_module);
	mods = json_array();
	for (size_t i = 0; i < nt; i++) {
		rc = t[i].vcm ? act_vcm(ctx, a, t[i].vcm) : act_hsm(ctx, a, t[i].hsm);
		if (rc == 0 && hsm_opt_given(ctx, "wait"))
			rc = wait_for(ctx, a, &t[i]);
		worst = hsm_exit_worst(worst, rc);
		json_array_append_new(mods, json_pack("{s:i, s:s, s:s, s:s?, s:s, s:b}", "module",
						      t[i].module, "kind", t[i].vcm ? "vcm" : "hsm",
						      "esn", t[i].esn, "uuid",
						      t[i].vcm ? t[i].vcm->uuid : NULL, "action",
						      a->opt, "ok", rc == 0));
	}
	json_object_set_new(hsm_json(ctx), "modules", mods);
	rc = worst;
out:
	free(t);
	free(e.v);
	hsm_tenant_modules_free(v, nv, p);
	return rc;
}

static const struct hsm_option opts[] = {
	HSM_TENANT_MODULE_OPTION(.group = G_WHICH, .help = "the module (as enquiry numbers it)"),
	{ .name = "all",
	  .short_name = 'a',
	  .type = HSM_OPT_FLAG,
	  .group = G_WHICH,
	  .help = "every enrolled module" },
	{ .name = "maintenance",
	  .short_name = 'M',
	  .type = HSM_OPT_FLAG,
	  .group = G_ACTION,
	  .help = "put the module into maintenance mode" },
	{ .name = "operational",
	  .short_name = 'O',
	  .type = HSM_OPT_FLAG,
	  .group = G_ACTION,
	  .help = "put the module into operational mode" },
	{ .name = "initialization",
	  .short_name = 'I',
	  .type = HSM_OPT_FLAG,
	  .group = G_ACTION,
	  .help = "put the module into initialization mode" },
	{ .name = "fail",
	  .short_name = 'F',
	  .type = HSM_OPT_FLAG,
	  .group = G_ACTION,
	  .help = "mark the module failed" },
	{ .name = "clear",
	  .short_name = 'c',
	  .type = HSM_OPT_FLAG,
	  .group = G_ACTION,
	  .help = "clear the module (through maintenance mode; it returns operational)" },
	{ .name = "retry",
	  .short_name = 'r',
	  .type = HSM_OPT_FLAG,
	  .group = G_ACTION,
	  .help = "use a module again that restarted or was unreachable" },
	{ .name = "wait",
	  .short_name = 'w',
	  .type = HSM_OPT_FLAG,
	  .help = "wait (up to --timeout) until the module is in the new state" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "nopclearfail",
	  .tool = "nopclearfail",
	  .summary = "Change a module's mode, fail, clear or retry it",
	  .description =
	      "Acts on the modules enquiry shows: the VCMs enrolled with `hsmadmin vcm "
	      "enroll` and, numbered after them, the HSMs this host enrolled with `hsmadmin "
	      "enroll` (their platform mode).  --esn restricts the selection to that HSM; "
	      "alone it selects the HSM's platform.  Recovery of a failed VCM: -r; if that "
	      "does not help, -M, wait, then -c.",
	  .options = opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = cmd_nopclearfail },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "nopclearfail",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
