/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin.c - the vcmsetup plugin: `hsmadmin vcm single-setup` (guide
 * 4.10.1.16.9).  Descriptor and command table only.
 */
#include "config.h"

#include <hsmadmin/plugin.h>

#include "vcmsetup.h"

static const struct hsm_option opts[] = { { .name = "name",
					    .type = HSM_OPT_STRING,
					    .metavar = "NAME",
					    .help = "the name of the VCM (default: autocreated)" },
					  HSM_OPTION_END };

static const struct hsm_command commands[] = {
	{ .path = "vcm single-setup",
	  .tool = "hsmadmin",
	  .summary = "Create, start and enroll one VCM on an HSM of this host",
	  .description =
	      "Makes a tenant request with this host's tenant keys, creates and starts the "
	      "VCM with this host's platform keys and enrolls it: the provider and the "
	      "tenant are this one host.  A failed step deletes the VCM again.",
	  .options = opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = vs_cmd_single_setup },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "vcmsetup",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
