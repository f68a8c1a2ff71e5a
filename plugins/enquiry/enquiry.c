/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/enquiry - the `enquiry` tool: the tenant's enrolled VCMs as
 * modules 1..N, then the HSMs this host administers (their platform mode;
 * core/tenant/platform-module.h), in the layout nShield
 * administrators know (guide 4.3.1.1), or as JSON.  A module that cannot
 * be reached, failed on the device or restarted since this host last used
 * it is shown with the flag Failed and its connection status
 * (core/tenant/module-state.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "platform-module.h"
#include "tenant.h"

/* Every module is asked at once: the VCMs (items below nv) for their
 * enquiry, the HSMs (items from nv) for their platform status. */
struct fan {
	const char *home;
	int timeout;
	const struct hsm_tenant_vcm *v;
	struct hsm_tenant_module *m;
	size_t nv;
	const struct hsm_tenant_platform *p;
	struct hsm_rpc_reply *pr;
	const struct hsm_client_key *setup_key; /* NULL: key_failure says why */
	struct hsm_rpc_reply key_failure;
	const size_t *items; /* the modules asked, in module order (-m: one) */
};

static void one(size_t i, void *arg)
{
	struct fan *f = arg;
	size_t k = f->items[i];

	if (k < f->nv) {
		hsm_tenant_module_query(f->home, f->timeout, &f->v[k], &f->m[k]);
		return;
	}
	k -= f->nv;
	if (!f->setup_key) {
		hsm_rpc_reply_fail(&f->pr[k], f->key_failure.exit, f->key_failure.code, "%s",
				   f->key_failure.message);
		return;
	}
	hsm_rpc_call_module(f->home, f->timeout, &f->p[k].hsm, "setup", f->setup_key, "status",
			    NULL, &f->pr[k]);
}

/* Each call's copy lives until the next eight calls. */
static const char *str(const json_t *r, const char *key, const char *dflt)
{
	static char bufs[8][256];
	static unsigned k;
	const char *s = json_string_value(json_object_get(r, key));

	return s && *s ? hsm_printable_copy(s, bufs[k++ % 8], sizeof(bufs[0])) : dflt;
}

/* A number of the reply as text, or dflt. */
static const char *num(const json_t *r, const char *key, const char *dflt)
{
	static char bufs[8][32];
	static unsigned k;
	const json_t *v = json_object_get(r, key);
	char *b = bufs[k++ % 8];

	if (!json_is_integer(v))
		return dflt;
	snprintf(b, sizeof(bufs[0]), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return b;
}

/* The "ku hash" of the connection info: SHA-1 of the HSM identity key
 * this host pinned for the VCM (its OpenSSH line), as 40 hex digits. */
static void ku_hash(const struct hsm_tenant_vcm *v, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	snprintf(out, 41, "unknown");
	if (!v->identity_key ||
	    !EVP_Digest(v->identity_key, strlen(v->identity_key), md, &len, EVP_sha1(), NULL) ||
	    len != 20)
		return;
	for (unsigned int i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The layout and field names of guide 4.3.1.1 and of a failed module as
 * admins see it (the field report): every field, "unknown" or 0 when the
 * module does not answer. */
static void print_module(struct hsm_ctx *ctx, const struct hsm_tenant_module *m)
{
	const struct hsm_tenant_vcm *v = m->vcm;
	const json_t *r = m->reachable ? m->reply.result : NULL;
	char safe[600], ku[41];

	ku_hash(v, ku);
	hsm_printf(ctx, "Module #%d:\n", v->module);
	hsm_printf(ctx, " enquiry reply flags  %s\n", m->failed ? "Failed" : "none");
	hsm_printf(ctx, " enquiry reply level  Six\n");
	hsm_printf(ctx, " serial number        %s\n", str(r, "serial", "unknown"));
	hsm_printf(ctx, " mode                 %s\n", str(r, "mode", "unknown"));
	hsm_printf(ctx, " version              %s\n", str(r, "version", "0.0.0"));
	hsm_printf(ctx, " speed index          %s\n", num(r, "speed_index", "0"));
	hsm_printf(ctx, " rec. queue           %s\n", str(r, "rec_queue", "0..0"));
	hsm_printf(ctx, " level one flags      %s\n", str(r, "level_one_flags", "none"));
	hsm_printf(ctx, " version string       %s\n", str(r, "version", "unknown"));
	hsm_printf(ctx, " level two flags      %s\n", str(r, "level_two_flags", "none"));
	hsm_printf(ctx, " max. write size      %s\n", num(r, "max_write_size", "0"));
	hsm_printf(ctx, " level three flags    %s\n", str(r, "level_three_flags", "none"));
	hsm_printf(ctx, " level four flags     %s\n", str(r, "level_four_flags", "none"));
	hsm_printf(ctx, " module type code     %s\n", num(r, "module_type_code", "0"));
	hsm_printf(ctx, " product name         %s\n", str(r, "product_name", "unknown"));
	hsm_printf(ctx, " device name          %s\n", str(r, "device_name", "unknown"));
	hsm_printf(ctx, " EnquirySix version   %s\n", num(r, "enquiry_six_version", "0"));
	hsm_printf(ctx, " impath kx groups     %s\n", str(r, "impath_kx_groups", ""));
	hsm_printf(ctx, " feature ctrl flags   %s\n", str(r, "feature_ctrl_flags", "none"));
	hsm_printf(ctx, " features enabled     %s\n", str(r, "features_names", "none"));
	hsm_printf(ctx, " version serial       %s\n", num(r, "version_serial", "0"));
	hsm_printf(ctx, " connection status    %s\n", m->connection);
	hsm_printf(ctx,
		   " connection info      esn = %s; addr = INET/%s; ku hash = %s; uuid = %s; "
		   "ncoreapi port = %u\n",
		   v->esn, v->address, ku, v->uuid, v->ports[HSM_TENANT_NCOREAPI]);
	hsm_printf(ctx, " image version        %s\n", str(r, "firmware", "unknown"));
	hsm_printf(ctx, " max exported modules %s\n", num(r, "max_exported_modules", "0"));
	hsm_printf(ctx, " rec. LongJobs queue  %s\n", num(r, "rec_longjobs_queue", "0"));
	hsm_printf(ctx, " SEE machine type     %s\n", str(r, "see_machine_type", "unknown"));
	hsm_printf(ctx, " supported KML types  %s\n", str(r, "supported_kml_types", ""));
	hsm_printf(ctx, " active modes         %s\n",
		   r && !strcmp(str(r, "mode", ""), "operational") ? "none"
								   : str(r, "mode", "none"));
	hsm_printf(ctx, " physical serial      %s\n", str(r, "physical_serial", "unknown"));
	hsm_printf(ctx, " hardware part no     %s\n", str(r, "hardware_part_no", "unknown"));
	hsm_printf(ctx, " boot id              %s\n", str(r, "boot_id", "unknown"));
	if (m->failed)
		hsm_printf(ctx, " failure              %s\n",
			   hsm_printable_copy(m->reason, safe, sizeof(safe)));
	hsm_printf(ctx, " hardware status      %s\n", m->failed ? "unknown" : "OK");
}

static json_t *module_json(const struct hsm_tenant_module *m)
{
	const struct hsm_tenant_vcm *v = m->vcm;
	const json_t *r = m->reachable ? m->reply.result : NULL;
	char ku[41];
	json_t *o;

	ku_hash(v, ku);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s?}", "module", v->module,
		      "kind", "vcm", "uuid", v->uuid, "esn", v->esn, "address", v->address,
		      "ku_hash", ku, "failed", m->failed, "restarted", m->restarted,
		      "connection_status", m->connection, "failure", m->failed ? m->reason : NULL);

	if (o && r)
		json_object_set(o, "enquiry", (json_t *)r);
	return o;
}

/* The version of the firmware image an HSM runs (the recovery image's in
 * recovery mode); an older hsmd names only the primary one. */
static const char *running_version(const json_t *res)
{
	const json_t *fw = json_object_get(res, "firmware");
	const char *v = json_string_value(json_object_get(fw, "running"));

	return v ? v : json_string_value(json_object_get(fw, "primary"));
}

/* An HSM's platform as a module: its mode is the platform mode. */
static void print_platform(struct hsm_ctx *ctx, const struct hsm_tenant_platform *p,
			   const struct hsm_rpc_reply *r)
{
	const json_t *status = r->exit == 0 ? r->result : NULL;
	/* A failed module (hsmd fail) answers but knows nothing of itself. */
	int hw_failed = json_is_true(json_object_get(status, "hardware_failed"));
	const json_t *res = hw_failed ? NULL : status;
	const char *mode = res ? hsm_tenant_platform_mode(res) : NULL;
	char safe[600], msafe[64];

	hsm_printf(ctx, "Module #%d:\n", p->module);
	hsm_printf(ctx, " enquiry reply flags  %s\n", res ? "none" : "Failed");
	hsm_printf(ctx, " enquiry reply level  Six\n");
	hsm_printf(ctx, " serial number        %s\n", hw_failed ? "unknown" : p->hsm.esn);
	hsm_printf(ctx, " version              %s\n",
		   hw_failed ? "0.0.0" : (running_version(res) ?: "unknown"));
	hsm_printf(ctx, " mode                 %s\n",
		   mode ? hsm_printable_copy(mode, msafe, sizeof(msafe)) : "unknown");
	hsm_printf(ctx, " product name         hsmadmin HSM platform\n");
	hsm_printf(ctx, " state                %s\n", str(res, "state", "unknown"));
	hsm_printf(ctx, " image                %s\n", str(res, "image", "unknown"));
	hsm_printf(ctx, " connection status    %s\n",
		   status                            ? "OK"
		   : r->exit == HSM_EXIT_UNREACHABLE ? "Unreachable"
		   : r->exit == HSM_EXIT_AUTH        ? "AuthFailed"
						     : "Error");
	hsm_printf(ctx, " connection info      esn = %s; addr = INET/%s; setup port = %u\n",
		   p->hsm.esn, p->hsm.address, p->hsm.ports[HSM_SVC_SETUP]);
	if (hw_failed)
		hsm_printf(ctx, " failure              the HSM has failed: %s\n",
			   str(status, "hardware_fault", "unknown"));
	else if (!res)
		hsm_printf(ctx, " failure              %s\n",
			   hsm_printable_copy(r->message, safe, sizeof(safe)));
	hsm_printf(ctx, " hardware status      %s\n", res ? "OK" : "unknown");
}

static json_t *platform_json(const struct hsm_tenant_platform *p, const struct hsm_rpc_reply *r)
{
	const json_t *status = r->exit == 0 ? r->result : NULL;
	int hw_failed = json_is_true(json_object_get(status, "hardware_failed"));
	const json_t *res = hw_failed ? NULL : status;
	json_t *o =
	    json_pack("{s:i, s:s, s:s, s:s, s:b, s:s?, s:s, s:s?, s:s?, s:s?}", "module", p->module,
		      "kind", "hsm", "esn", p->hsm.esn, "address", p->hsm.address, "failed", !res,
		      "mode", res ? hsm_tenant_platform_mode(res) : NULL, "connection_status",
		      status                            ? "OK"
		      : r->exit == HSM_EXIT_UNREACHABLE ? "Unreachable"
		      : r->exit == HSM_EXIT_AUTH        ? "AuthFailed"
							: "Error",
		      "failure",
		      hw_failed ? json_string_value(json_object_get(status, "hardware_fault"))
		      : res     ? NULL
				: r->message,
		      "serial", hw_failed ? "unknown" : p->hsm.esn, "version",
		      hw_failed ? "0.0.0" : running_version(res));

	if (o && status)
		json_object_set(o, "status", (json_t *)status);
	return o;
}

static void print_one(struct hsm_ctx *ctx, const struct fan *f, size_t k)
{
	if (k < f->nv)
		print_module(ctx, &f->m[k]);
	else
		print_platform(ctx, &f->p[k - f->nv], &f->pr[k - f->nv]);
}

/* Each module's block as soon as it answers (a module that does not
 * answer holds back none of the others); --json lists them in module
 * order at the end. */
static void module_done(struct hsm_ctx *ctx, size_t i, void *arg)
{
	const struct fan *f = arg;

	print_one(ctx, f, f->items[i]);
	fflush(stdout);
}

static struct hsm_waiting_items modules_waited = { "module", "modules" };

static int module_number(const struct fan *f, size_t k)
{
	return k < f->nv ? f->v[k].module : f->p[k - f->nv].module;
}

static int cmd_enquiry(struct hsm_ctx *ctx)
{
	struct hsm_tenant_vcm *v = NULL;
	size_t n = 0, np = 0, nitems = 0, *items = NULL;
	struct hsm_tenant_platform *p = NULL;
	struct hsm_client_key *key;
	struct fan f;
	json_t *mods;
	int rc = hsm_tenant_modules_list(ctx, &v, &n, &p, &np), only = hsm_tenant_module_opt(ctx);

	if (rc)
		return rc;
	f = (struct fan){
		.home = hsm_home(ctx), .timeout = hsm_timeout(ctx), .v = v, .nv = n, .p = p
	};
	f.m = calloc(n + 1, sizeof(*f.m));
	f.pr = calloc(np + 1, sizeof(*f.pr));
	items = calloc(n + np + 1, sizeof(*items));
	if (!f.m || !f.pr || !items) {
		free(f.m);
		free(f.pr);
		free(items);
		hsm_tenant_modules_free(v, n, p);
		return hsm_error(ctx, HSM_EXIT_FAILED, "enquiry", "out of memory");
	}
	for (size_t k = 0; k < n + np; k++)
		if (!only || module_number(&f, k) == only)
			items[nitems++] = k;
	f.items = items;
	key = np ? hsm_rpc_client_key(f.home, "setup", &f.key_failure) : NULL;
	f.setup_key = key;
	hsm_printf(ctx,
		   "Server:\n enquiry reply flags  none\n enquiry reply level  Six\n"
		   " serial number        none\n mode                 operational\n"
		   " version              %s\n speed index          0\n rec. queue           0..0\n"
		   " module type code     0\n product name         nFast server\n"
		   " modules              %zu\n",
		   PACKAGE_VERSION, n + np);
	fflush(stdout);
	hsm_parallel_report_with(ctx, nitems, one, &f, module_done, &f, hsm_waiting_count,
				 &modules_waited);
	mods = json_array();
	for (size_t i = 0; i < nitems; i++) {
		size_t k = items[i];
		json_array_append_new(mods, k < n ? module_json(&f.m[k])
						  : platform_json(&p[k - n], &f.pr[k - n]));
	}
	json_object_set_new(hsm_json(ctx), "server",
			    json_pack("{s:s, s:s, s:s, s:i}", "version", PACKAGE_VERSION, "mode",
				      "operational", "product_name", "nFast server",
				      "module_type_code", 0));
	json_object_set_new(hsm_json(ctx), "modules", mods);
	for (size_t k = 0; k < n; k++)
		hsm_tenant_module_clear(&f.m[k]);
	for (size_t k = 0; k < np; k++)
		hsm_rpc_reply_clear(&f.pr[k]);
	hsm_client_key_free(key);
	free(f.m);
	free(f.pr);
	free(items);
	hsm_tenant_modules_free(v, n, p);
	if (only && !nitems)
		return hsm_error(ctx, HSM_EXIT_USAGE, "-m",
				 "no module #%d (hsmadmin vcm enroll, hsmadmin enroll)", only);
	return HSM_EXIT_OK;
}

static const struct hsm_option opts[] = {
	HSM_TENANT_MODULE_OPTION(.help = "only this module (default: all)"), HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "enquiry",
	  .tool = "enquiry",
	  .summary = "Show the enrolled VCMs and administered HSMs as modules",
	  .description =
	      "Asks each VCM enrolled with `hsmadmin vcm enroll` for its state, then each "
	      "HSM enrolled with `hsmadmin enroll` from this host for its platform mode "
	      "(numbered after the VCMs).  A module that cannot be reached, failed, or "
	      "restarted since this host last used it is shown as Failed; see "
	      "nopclearfail(1).  Exits 0 even when modules failed.",
	  .options = opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = cmd_enquiry },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "enquiry",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
