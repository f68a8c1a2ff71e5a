/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin.c - the vcmtenant plugin: a tenant's enrolled VCMs (guide
 * 4.10.1.16.3, .4, .7, .8).  Descriptor and command tables only.
 */
#include "config.h"

#include <hsmadmin/plugin.h>
#include "vcmtenant.h"

#define OPT_UUID_FILTER                                                                            \
	{                                                                                          \
		.name = "uuid", .type = HSM_OPT_STRING, .metavar = "UUID",                         \
		.help = "only this enrolled VCM (default: every enrolled VCM)"                     \
	}

static const struct hsm_option enroll_opts[] = {
	{ .name = "config",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "CONFIG_FILE",
	  .help = "the configuration file received from the service provider" },
	{ .name = "no-service-restart",
	  .type = HSM_OPT_FLAG,
	  .help = "accepted for compatibility: this host runs no hardserver to restart" },
	HSM_OPTION_END
};

static const struct hsm_option unenroll_opts[] = {
	{ .name = "no-service-restart",
	  .type = HSM_OPT_FLAG,
	  .help = "accepted for compatibility: this host runs no hardserver to restart" },
	{ .name = "uuid",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the VCM to unenroll" },
	HSM_OPTION_END
};

static const struct hsm_option query_opts[] = { OPT_UUID_FILTER, HSM_OPTION_END };

static const struct hsm_command commands[] = {
	{ .path = "vcm enroll",
	  .tool = "hsmadmin",
	  .summary = "Enroll a VCM from its configuration file",
	  .description =
	      "Checks the file's certificates against your trusted vendor keys, connects "
	      "to the VCM's sshadmin with your VCM sshadmin key, checks its host keys, "
	      "installs new ncoreapi and monitor client keys and records the VCM under "
	      "HSMADMIN_HOME/tenant/vcms.  One VCM per HSM.",
	  .options = enroll_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = vt_cmd_enroll },
	{ .path = "vcm unenroll",
	  .tool = "hsmadmin",
	  .summary = "Forget an enrolled VCM on this host",
	  .description =
	      "Removes the record and the client keys of the VCM from HSMADMIN_HOME; the "
	      "VCM itself is not contacted.",
	  .options = unenroll_opts,
	  .run = vt_cmd_unenroll },
	{ .path = "vcm info",
	  .tool = "hsmadmin",
	  .summary = "Information about the HSM that hosts each enrolled VCM",
	  .options = query_opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = vt_cmd_info },
	{ .path = "vcm getenvstats",
	  .tool = "hsmadmin",
	  .summary = "Times (Unix seconds) and statistics of each enrolled VCM",
	  .options = query_opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = vt_cmd_getenvstats },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "vcmtenant",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
