/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/upgrade/plugin.c - the upgrade plugin's descriptor: firmware
 * packages (guide 4.1, 4.10.1.3, 4.10.1.4).
 */
#include "config.h"

#include <hsmadmin/plugin.h>
#include "upgrade.h"

static const struct hsm_command commands[] = {
	{ .path = "npkginfo",
	  .summary = "Show a firmware package's metadata and verify it (offline)",
	  .description =
	      "Reads the whole package once: product, component, version, VSN, the files "
	      "it holds with their sizes and digests, the signer, and whether the "
	      "signature verifies against the vendor keys in HSMADMIN_CONF/vendor.d "
	      "and every file matches its digest.  No HSM is needed.  Exits 0 only for "
	      "a package an HSM would accept (4: signature, vendor or digest; 2: not a "
	      "well-formed package).",
	  .options = upgrade_npkginfo_opts,
	  .run = upgrade_npkginfo_run },
	{ .path = "upgrade",
	  .summary = "Install a firmware package on HSMs (verified on the HSM)",
	  .description =
	      "Checks the package on this host, then streams it to the updater service "
	      "of every HSM named with --esn, in parallel.  Each HSM verifies the "
	      "signature and every digest with its own vendor keys before it writes "
	      "anything, and refuses a VSN below its minimum, an active VCM (even with "
	      "--force), an operational ncoreapi, logs past the safe level, a lost clock, "
	      "and, without --force, a mode other than maintenance.  It then installs the "
	      "image and reboots into it (not with --no-reset); a new primary image returns "
	      "the HSM to factory state.  --dry-run checks everything and writes nothing.",
	  .options = upgrade_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_NEEDS_ROOT | HSM_CMDF_INVASIVE,
	  .run = upgrade_run },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "upgrade",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
