/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/upgrade/plugin.c - the upgrade plugin's descriptor: firmware
 * packages (guide 4.1, 4.10.1.3).
 */
#include "config.h"

#include <hsmadmin/plugin.h>
#include "upgrade.h"

static const struct hsm_command commands[] = {
	{ .path = "npkginfo", .summary = "Show a firmware package's metadata and verify it (offline)",
	  .description = "Reads the whole package once: product, component, version, VSN, the files "
			 "it holds with their sizes and digests, the signer, and whether the "
			 "signature verifies against the vendor keys in HSMADMIN_CONF/vendor.d "
			 "and every file matches its digest.  No HSM is needed.  Exits 0 only for "
			 "a package an HSM would accept (4: signature, vendor or digest; 2: not a "
			 "well-formed package).",
	  .options = upgrade_npkginfo_opts, .run = upgrade_npkginfo_run },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "upgrade",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
