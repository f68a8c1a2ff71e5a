/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin.c - the vcm plugin: the tenant's side of VCMs (guide 4.10.1.16).
 * This file is only the descriptor and the command tables; the commands
 * live in request-write.c and request-inspect.c.
 */
#include "config.h"

#include <hsmadmin/plugin.h>
#include "request.h"
#include "vcm.h"

/* Mutually exclusive groups (struct hsm_option.group). */
enum {
	G_STARTUP = 1, /* create: --restrict-startup | --autostart */
	G_RESTRICT,    /* setproperties: --restrict-startup | --no-restrict-startup */
	G_AUTOSTART,   /* setproperties: --autostart | --no-autostart */
	G_CARDREADER,  /* setproperties: --serial-cardreader | --no-serial-cardreader */
};

#define OPT_REQUEST_FILE(what)                                                                     \
	{                                                                                          \
		.name = "request-file", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED,        \
		.metavar = "REQUEST_FILE",                                                         \
		.help = "file to write the " what " to (must not exist)"                           \
	}
#define OPT_VALIDITY                                                                               \
	{                                                                                          \
		.name = "request-validity", .type = HSM_OPT_INT, .min = HSM_REQUEST_VALIDITY_MIN,  \
		.max = HSM_REQUEST_VALIDITY_MAX, .metavar = "SECONDS",                             \
		.help = "seconds the request stays valid (default: no expiry)"                     \
	}
#define OPT_UUID                                                                                   \
	{                                                                                          \
		.name = "uuid", .type = HSM_OPT_STRING, .metavar = "UUID",                         \
		.help = "the VCM the request is for (from the configuration file; default: any)"   \
	}
#define OPT_FEATURES                                                                               \
	{                                                                                          \
		.name = "features", .type = HSM_OPT_STRING, .metavar = "FEATURES",                 \
		.help =                                                                            \
		    "hex word (9A37) or names joined by '|' (\"ForeignTokenOpen|EllipticCurve\")"  \
	}
#define OPT_NAME                                                                                   \
	{                                                                                          \
		.name = "name", .type = HSM_OPT_STRING, .metavar = "NAME",                         \
		.help = "VCM name the service provider sees (1-64 of A-Z a-z 0-9 _ . - space)"     \
	}

static const struct hsm_option create_opts[] = {
	OPT_REQUEST_FILE("creation request"),
	OPT_VALIDITY,
	{ .name = "restrict-startup",
	  .type = HSM_OPT_FLAG,
	  .group = G_STARTUP,
	  .help = "the VCM starts only with a start request from you" },
	{ .name = "autostart",
	  .type = HSM_OPT_FLAG,
	  .group = G_STARTUP,
	  .help = "start the VCM whenever the HSM reboots" },
	{ .name = "serial-cardreader",
	  .type = HSM_OPT_FLAG,
	  .help = "give the VCM the HSM's serial card reader" },
	OPT_FEATURES,
	OPT_NAME,
	HSM_OPTION_END
};

static const struct hsm_option start_opts[] = { OPT_REQUEST_FILE("start authorization"),
						OPT_VALIDITY, OPT_UUID, HSM_OPTION_END };

static const struct hsm_option setproperties_opts[] = {
	OPT_REQUEST_FILE("request"),
	OPT_VALIDITY,
	OPT_UUID,
	{ .name = "restrict-startup",
	  .type = HSM_OPT_FLAG,
	  .group = G_RESTRICT,
	  .help = "enable restrict-startup" },
	{ .name = "no-restrict-startup",
	  .type = HSM_OPT_FLAG,
	  .group = G_RESTRICT,
	  .help = "disable restrict-startup" },
	{ .name = "autostart",
	  .type = HSM_OPT_FLAG,
	  .group = G_AUTOSTART,
	  .help = "enable autostart" },
	{ .name = "no-autostart",
	  .type = HSM_OPT_FLAG,
	  .group = G_AUTOSTART,
	  .help = "disable autostart" },
	{ .name = "serial-cardreader",
	  .type = HSM_OPT_FLAG,
	  .group = G_CARDREADER,
	  .help = "enable serial-cardreader" },
	{ .name = "no-serial-cardreader",
	  .type = HSM_OPT_FLAG,
	  .group = G_CARDREADER,
	  .help = "disable serial-cardreader" },
	OPT_FEATURES,
	OPT_NAME,
	{ .name = "k-tenant-req",
	  .type = HSM_OPT_STRING,
	  .metavar = "PUBKEY_FILE",
	  .help = "new request-signing public key (PEM or OpenSSH line); the current key signs" },
	HSM_OPTION_END
};

static const struct hsm_option inspect_opts[] = {
	{ .name = "verify",
	  .type = HSM_OPT_FLAG,
	  .help = "check the signature (exit 4 when it does not verify)" },
	{ .name = "key-file",
	  .type = HSM_OPT_STRING,
	  .metavar = "KEY_FILE",
	  .help = "tenant's request public key (PEM or ssh-ed25519 line); implies --verify" },
	{ .name = "REQUEST_FILE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the request to show" },
	HSM_OPTION_END
};

static const struct hsm_command vcm_commands[] = {
	{ .path = "vcm create",
	  .tool = "hsmadmin",
	  .summary = "Write a signed request for a new VCM",
	  .description = "Writes a request, signed with your request-signing key, for your service "
			 "provider to create a VCM.  The first run generates that key and your VCM "
			 "sshadmin key under HSMADMIN_HOME/tenant.",
	  .options = create_opts,
	  .run = vcm_cmd_create },
	{ .path = "vcm start",
	  .tool = "hsmadmin",
	  .summary = "Write a signed authorization to start a VCM",
	  .description = "Needed to start a VCM created with --restrict-startup.",
	  .options = start_opts,
	  .run = vcm_cmd_start },
	{ .path = "vcm setproperties",
	  .tool = "hsmadmin",
	  .summary = "Write a signed request to change a VCM's properties",
	  .description = "Carries only the properties given; the service provider can set each "
			 "property only to the value in the request.",
	  .options = setproperties_opts,
	  .run = vcm_cmd_setproperties },
	{ .path = "vcm inspect-request",
	  .tool = "hsmadmin",
	  .summary = "Show a request file and check its signature",
	  .description = "Shows the type, properties, keys, validity and expiry of a request.  "
			 "--verify checks the signature: a create request with the key it carries, "
			 "start and setproperties requests with --key-file (default: your own "
			 "request key).",
	  .options = inspect_opts,
	  .run = vcm_cmd_inspect_request },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "vcm",
	.version = PACKAGE_VERSION,
	.commands = vcm_commands,
};
