/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/fet/fet.c - hsmadmin fet (guide 3.2, 4.10.1.17): apply a feature
 * licence to the HSM it was issued for.
 *
 * The host reads the licence first so that a wrong file gets a clear
 * answer before anything is sent: it must parse, be for the --esn given
 * (if any), and, when HSMADMIN_CONF/vendor.d holds vendor keys, carry a
 * good vendor signature.  The HSM checks all of it again with its own
 * vendor keys; its verdict is the one that counts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "licence.h"
#include "transport-report.h"

static int read_licence(struct hsm_ctx *ctx, const char *path, char **text, size_t *len,
			struct hsm_licence **lic)
{
	char err[512], inner[384];
	int rc;

	/* One byte over the limit tells "too large" from "exactly the limit". */
	if (hsm_read_file(path, HSM_LICENCE_MAX_BYTES + 1, text, len, inner, sizeof(inner)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "licence", "%s", inner);
	rc = hsm_licence_parse(*text, *len, lic, inner, sizeof(inner));
	if (rc != 0) {
		free(*text);
		*text = NULL;
		snprintf(err, sizeof(err), "%s: %s", path, inner);
		return hsm_error(ctx, hsm_licence_exit(rc), "licence", "%s", err);
	}
	return 0;
}

/* Verify with the host's vendor keys when it has any. */
static int precheck_signature(struct hsm_ctx *ctx, const char *path, const struct hsm_licence *lic)
{
	char dir[4096], err[512];
	EVP_PKEY **keys = NULL;
	size_t n = 0;
	int rc;

	snprintf(dir, sizeof(dir), "%s/vendor.d", hsm_conf_dir(ctx));
	if (hsm_vendor_keys_load(dir, &keys, &n, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "vendor keys", "%s", err);
	if (n == 0) {
		hsm_verbosef(ctx, "%s holds no vendor keys: only the HSM checks the signature",
			     dir);
		return 0;
	}
	rc = hsm_licence_verify(lic, keys, n, err, sizeof(err));
	hsm_vendor_keys_free(keys, n);
	if (rc != 0)
		return hsm_error(ctx, hsm_licence_exit(rc), "licence", "%s: %s", path, err);
	hsm_verbosef(ctx, "%s: vendor signature good", path);
	return 0;
}

/* The one HSM to send it to: the --esn given, which must be the licence's,
 * or else the HSM the licence names. */
static int pick_module(struct hsm_ctx *ctx, const struct hsm_licence *lic, struct hsm_fleet *fleet,
		       const struct hsm_module **m)
{
	char err[256];
	int rc;

	if (hsm_esn_count(ctx) > 1)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
				 "a licence is for one HSM: give at most one --esn");
	if (hsm_esn_count(ctx) == 1 &&
	    hsm_licence_check_esn(lic, hsm_esn_at(ctx, 0), err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "--esn", "%s", err);
	if ((rc = hsm_fleet_open(ctx, fleet)) != 0)
		return rc;
	*m = hsm_fleet_find(fleet, lic->esn);
	if (!*m) {
		rc = hsm_error(ctx, HSM_EXIT_USAGE, "licence",
			       "the licence is for ESN %s, which is not a known HSM (%s/modules.d)",
			       lic->esn, hsm_conf_dir(ctx));
		hsm_fleet_close(fleet);
	}
	return rc;
}

static void print_fet(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res, void *arg)
{
	const json_t *lic = json_object_get(res, "licence");
	const char *names = json_string_value(json_object_get(lic, "features_names"));
	const char *warning = json_string_value(json_object_get(res, "warning"));

	(void)arg;
	if (json_is_false(json_object_get(res, "changed")))
		hsm_printf(ctx,
			   "%s: licence %" JSON_INTEGER_FORMAT
			   " was already applied; nothing changed\n",
			   m->esn, json_integer_value(json_object_get(lic, "serial")));
	else
		hsm_printf(ctx, "%s: licence %" JSON_INTEGER_FORMAT " applied\n", m->esn,
			   json_integer_value(json_object_get(lic, "serial")));
	hsm_printf(ctx,
		   "  max_active_vcms: %" JSON_INTEGER_FORMAT "\n"
		   "  max_creatable_vcms: %" JSON_INTEGER_FORMAT "\n"
		   "  licensed features: %s\n",
		   json_integer_value(json_object_get(res, "max_active_vcms")),
		   json_integer_value(json_object_get(res, "max_creatable_vcms")),
		   names && names[0] ? names : "none");
	if (json_is_string(json_object_get(lic, "speed_upgrade")))
		hsm_printf(ctx, "  speed upgrade: %s\n",
			   json_string_value(json_object_get(lic, "speed_upgrade")));
	if (warning)
		hsm_warn(ctx, "%s: %s", m->esn, warning);
}

static int fet_run(struct hsm_ctx *ctx)
{
	const char *path = hsm_opt_str(ctx, "FILE");
	const struct hsm_module *m = NULL;
	struct hsm_licence *lic = NULL;
	struct hsm_fleet fleet, one;
	struct hsm_rpc_reply reply;
	json_t *params;
	char *text = NULL;
	size_t len;
	int rc;

	if ((rc = read_licence(ctx, path, &text, &len, &lic)) != 0)
		return rc;
	if ((rc = precheck_signature(ctx, path, lic)) != 0 ||
	    (rc = pick_module(ctx, lic, &fleet, &m)) != 0) {
		hsm_licence_free(lic);
		free(text);
		return rc;
	}
	hsm_verbosef(ctx, "licence %lld for %s: %u active VCMs", (long long)lic->serial, lic->esn,
		     lic->max_active_vcms);
	hsm_licence_free(lic);
	/* The file's own bytes: the HSM verifies what the vendor signed. */
	params = json_pack("{s:s%}", "licence", text, len);
	free(text);
	if (!params) {
		hsm_fleet_close(&fleet);
		return hsm_error(ctx, HSM_EXIT_FAILED, "licence", "out of memory");
	}
	hsm_rpc_call(ctx, m, "setup", "fet", params, &reply);
	json_decref(params);
	one = fleet;
	one.modules = (struct hsm_module *)m;
	one.count = 1;
	rc = hsm_report(ctx, &one, &reply, print_fet, NULL);
	hsm_rpc_reply_clear(&reply);
	hsm_fleet_close(&fleet);
	return rc;
}

static const struct hsm_option fet_opts[] = { { .name = "FILE",
						.type = HSM_OPT_STRING,
						.flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
						.help =
						    "the feature licence file from the vendor" },
					      HSM_OPTION_END };

static const struct hsm_command commands[] = {
	{ .path = "fet",
	  .summary = "Apply a feature licence to the HSM it was issued for",
	  .description = "Checks the licence file (format, and the vendor signature when "
			 "HSMADMIN_CONF/vendor.d holds vendor keys) and sends it to the HSM named "
			 "in it, which verifies it with its own vendor keys and applies it.  With "
			 "--esn the licence must be for that HSM.  A licence applied this way is "
			 "lost when the HSM returns to factory state.",
	  .options = fet_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_NEEDS_ROOT | HSM_CMDF_INVASIVE,
	  .run = fet_run },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "fet",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
