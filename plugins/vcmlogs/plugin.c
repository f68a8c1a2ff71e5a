/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin.c - the vcmlogs plugin: `hsmadmin vcm logs export|expire|getkey`
 * (guide 4.10.1.16.10-.13) and the offline `vcm logs verify`.  The tenant
 * reaches the VCM's own monitor service with the monitor client key
 * installed by `hsmadmin vcm enroll`;
 * nothing here can reach another VCM's logs or the platform's.
 * Descriptor and command tables only; the commands are in vcm-logs.c.
 */
#include "config.h"

#include <hsmadmin/plugin.h>
#include "signed-log-files.h"
#include "vcmlogs.h"

#define OPT_UUID                                                                                   \
	{                                                                                          \
		.name = "uuid", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED,                \
		.metavar = "UUID", .help = "the enrolled VCM"                                      \
	}

static const struct hsm_option export_opts[] = {
	OPT_UUID,
	{ .name = "outdir",
	  .type = HSM_OPT_STRING,
	  .metavar = "OUTDIR",
	  .help = "write the log to a file in this existing directory" },
	HSM_SLOG_OPT_SAVED,
	HSM_SLOG_OPT_SAVED_SEQ,
	HSM_SLOG_OPT_EXPIRE,
	HSM_OPTION_END
};

static const struct hsm_option expire_opts[] = { OPT_UUID, HSM_SLOG_OPT_EXPIRE_SEQ,
						 HSM_OPTION_END };

static const struct hsm_option getkey_opts[] = {
	OPT_UUID,
	{ .name = "out",
	  .type = HSM_OPT_STRING,
	  .metavar = "OUTFILE",
	  .help = "write the key file (every epoch's key, for logs verify --key) to this file" },
	HSM_OPTION_END
};

static const struct hsm_option verify_opts[] = {
	{ .name = "key",
	  .type = HSM_OPT_STRING,
	  .metavar = "KEYFILE",
	  .help = "the keys to trust: a file from vcm logs getkey --out, or one OpenSSH key line" },
	{ .name = "FILE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REPEATABLE | HSM_OPTF_REQUIRED,
	  .help = "exported segments of one VCM (any order)" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "vcm logs export",
	  .tool = "hsmadmin",
	  .summary = "Export the signed system log segment of an enrolled VCM",
	  .description = "Closes the VCM's open log segment and writes it (or prints its entries), "
			 "after verifying it against the VCM's certified log keys.  A segment goes "
			 "out once; --saved exports a stored one again.  Verify files later with "
			 "'hsmadmin vcm logs verify --key KEYFILE'.",
	  .options = export_opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = vl_cmd_export },
	{ .path = "vcm logs expire",
	  .tool = "hsmadmin",
	  .summary = "Remove an exported log segment of an enrolled VCM",
	  .options = expire_opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = vl_cmd_expire },
	{ .path = "vcm logs getkey",
	  .tool = "hsmadmin",
	  .summary = "The system log verification keys of an enrolled VCM",
	  .options = getkey_opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = vl_cmd_getkey },
	{ .path = "vcm logs verify",
	  .tool = "hsmadmin",
	  .summary = "Verify exported log segments of a VCM offline",
	  .description = "Checks frames, sequence numbers, the hash chain and every checkpoint "
			 "signature of segments from 'vcm logs export', and names the first bad "
			 "entry or missing sequence number.  Needs no VCM and no enrollment: give "
			 "--key from 'vcm logs getkey --out' to anchor the check.",
	  .options = verify_opts,
	  .run = vl_cmd_verify },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "vcmlogs",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
