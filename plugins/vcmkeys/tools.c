/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tools.c - the tool names the guide gives the Security World's tools
 * (guide 4.11: new-world, nfkminfo, generatekey), as tools of the
 * multi-call binary with the guide's main options, mapped onto `hsmadmin
 * vcm world` and `vcm key`:
 *
 *   new-world -i [-m MODULE] [-Q K/N] --cards DIR   vcm world create
 *   new-world -S MODULE --cards DIR                 the same (see below)
 *   new-world -l [-m MODULE] --card FILE...         vcm world load
 *   nfkminfo [-w] | -k                              vcm world info | key list
 *   generatekey [-b] [-g] [-m MODULE] simple type=... ident=... [curve=...]
 *                                                   vcm key generate
 *
 * MODULE is the module number enquiry shows (an enrolled VCM), module 1
 * when not given, as the guide's tools default to.  The guide's -S turns
 * off remote card-set reading for the module it initializes; no world
 * here can be read remotely, so -S MODULE initializes the world in
 * MODULE and there is nothing else to turn off.
 */
#include "config.h"

#include <string.h>

#include <hsmadmin/plugin.h>
#include "genparams.h"
#include "platform-module.h"
#include "vcmkeys.h"

int vk_is_tool(struct hsm_ctx *ctx)
{
	return strcmp(hsm_tool(ctx), "hsmadmin") != 0;
}

#define OPT_PASSFILE_TOOL                                                                          \
	{                                                                                          \
		.name = "passphrase-file", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REPEATABLE,   \
		.metavar = "FILE",                                                                 \
		.help = "a card's passphrase on the first line of FILE, one per card in order "    \
			"(default: ask on /dev/tty)"                                               \
	}

const struct hsm_option nw_opts[] = {
	{ .name = "initialize",
	  .short_name = 'i',
	  .type = HSM_OPT_FLAG,
	  .group = 1,
	  .help = "create a new Security World in the module (hsmadmin vcm world create)" },
	{ .name = "program",
	  .short_name = 'l',
	  .type = HSM_OPT_FLAG,
	  .group = 1,
	  .help = "load the world of kmdata into the module with a quorum of its cards "
		  "(hsmadmin vcm world load)" },
	{ .name = "no-remoteshare-cert",
	  .short_name = 'S',
	  .type = HSM_OPT_INT,
	  .group = 1,
	  .min = 1,
	  .max = HSM_TENANT_MAX_MODULES,
	  .metavar = "MODULE",
	  .help = "initialize the world in MODULE without remote card-set reading (never "
		  "offered here)" },
	HSM_TENANT_MODULE_OPTION(.help = "the VCM, by the module number enquiry shows [1]"),
	{ .name = "acs-quorum",
	  .short_name = 'Q',
	  .type = HSM_OPT_STRING,
	  .metavar = "K/N",
	  .defval = "1/1",
	  .help = "with -i: N administrator cards, any K of which load the world [1/1]" },
	{ .name = "cards",
	  .type = HSM_OPT_STRING,
	  .metavar = "DIR",
	  .help = "with -i: where to write the card files card-1.json ... card-N.json" },
	{ .name = "card",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REPEATABLE,
	  .metavar = "FILE",
	  .help = "with -l: an administrator card file; at least K of them" },
	OPT_PASSFILE_TOOL,
	HSM_OPTION_END
};

int nw_cmd(struct hsm_ctx *ctx)
{
	int create = hsm_opt_given(ctx, "initialize") || hsm_opt_given(ctx, "no-remoteshare-cert");

	if (!create && !hsm_opt_given(ctx, "program"))
		return hsm_error(ctx, HSM_EXIT_USAGE, "new-world",
				 "say what to do: -i (create a world), -l (load the world of "
				 "kmdata) or -S MODULE");
	if (hsm_opt_given(ctx, "no-remoteshare-cert") && hsm_opt_given(ctx, "module") &&
	    hsm_opt_int(ctx, "no-remoteshare-cert") != hsm_opt_int(ctx, "module"))
		return hsm_error(ctx, HSM_EXIT_USAGE, "-S", "-S %lld and -m %lld name two modules",
				 (long long)hsm_opt_int(ctx, "no-remoteshare-cert"),
				 (long long)hsm_opt_int(ctx, "module"));
	if (create) {
		if (hsm_opt_given(ctx, "card"))
			return hsm_error(
			    ctx, HSM_EXIT_USAGE, "--card",
			    "only with -l; a new world writes its cards (--cards DIR)");
		if (!hsm_opt_given(ctx, "cards"))
			return hsm_error(ctx, HSM_EXIT_USAGE, "--cards",
					 "where to write the new world's card files is required");
		return vw_create(ctx, hsm_opt_str(ctx, "acs-quorum"), "--acs-quorum");
	}
	if (hsm_opt_given(ctx, "cards") || hsm_opt_given(ctx, "acs-quorum"))
		return hsm_error(ctx, HSM_EXIT_USAGE,
				 hsm_opt_given(ctx, "cards") ? "--cards" : "--acs-quorum",
				 "only with -i: the world of kmdata has its quorum and cards");
	if (!hsm_opt_given(ctx, "card"))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--card",
				 "-l loads the world with a quorum of its cards: --card FILE...");
	return vw_cmd_load(ctx);
}

const struct hsm_option nfk_opts[] = {
	{ .name = "world-info",
	  .short_name = 'w',
	  .type = HSM_OPT_FLAG,
	  .group = 1,
	  .help = "the world: ID, quorum, which VCMs have it loaded, key count (the default)" },
	{ .name = "key-list",
	  .short_name = 'k',
	  .type = HSM_OPT_FLAG,
	  .group = 1,
	  .help = "the keys of kmdata (hsmadmin vcm key list)" },
	HSM_OPTION_END
};

int nfk_cmd(struct hsm_ctx *ctx)
{
	return hsm_opt_given(ctx, "key-list") ? vk_cmd_list(ctx) : vw_cmd_info(ctx);
}

const struct hsm_option gk_opts[] = {
	{ .name = "generate",
	  .short_name = 'g',
	  .type = HSM_OPT_FLAG,
	  .help = "generate a key (the default, and the only operation here)" },
	{ .name = "batch",
	  .short_name = 'b',
	  .type = HSM_OPT_FLAG,
	  .help = "never prompt (generatekey here never does: a missing parameter is an error)" },
	HSM_TENANT_MODULE_OPTION(.help = "the VCM, by the module number enquiry shows [1]"),
	{ .name = "APPNAME",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the application: simple (a key blob in kmdata)" },
	{ .name = "PARAM",
	  .type = HSM_OPT_STRING,
	  .metavar = "NAME=VALUE",
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REPEATABLE,
	  .help = "type=Ed25519|ECDSA, curve=NISTP256 (ECDSA), ident=NAME, protect=module" },
	HSM_OPTION_END
};

int gk_cmd(struct hsm_ctx *ctx)
{
	const char *app = hsm_opt_str(ctx, "APPNAME"), *args[16];
	size_t n = hsm_opt_count(ctx, "PARAM");
	struct gk_params p;
	char err[256];

	if (strcmp(app, "simple") != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "APPNAME",
				 "'%.40s': keys here belong to the application 'simple' (a blob in "
				 "kmdata)",
				 app);
	if (n > sizeof(args) / sizeof(args[0]))
		return hsm_error(ctx, HSM_EXIT_USAGE, "NAME=VALUE", "more than %zu parameters",
				 sizeof(args) / sizeof(args[0]));
	for (size_t i = 0; i < n; i++)
		args[i] = hsm_opt_str_at(ctx, "PARAM", i);
	if (gk_params_parse(args, n, &p, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "generatekey", "%s", err);
	if (!hsm_world_key_name_valid(p.ident))
		return hsm_error(ctx, HSM_EXIT_USAGE, "ident",
				 "'%.64s': 1-64 of A-Z a-z 0-9 _ . - (not starting with '.')",
				 p.ident);
	return vk_generate(ctx, p.ident, p.type);
}
