/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/hsmd-state.c - a provisioned HSM state for the unit tests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "sign.h"
#include "provision.h"
#include "hsmd-state.h"

int test_hsmd_provision(const char *name, char *dir, size_t dirlen, char *state, size_t statelen)
{
	char err[256], vpath[4200];
	EVP_PKEY *vendor;

	snprintf(dir, dirlen, "%s/%s-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
	if (!mkdtemp(dir))
		return -1;
	snprintf(state, statelen, "%s/s", dir);
	snprintf(vpath, sizeof(vpath), "%s/vendor.pem", dir);
	vendor = hsm_ed25519_generate(err, sizeof(err));
	hsm_key_save_private(vpath, vendor, 0, err, sizeof(err));
	EVP_PKEY_free(vendor);
	{
		char *argv[] = { "provision", "--state",        state,
				 "--esn",     "1A23-BC45-6789", "--vendor-key",
				 vpath,       "--address",      "127.0.0.9",
				 NULL };
		return hd_provision_main(9, argv);
	}
}

int test_hsmd_cleanup(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}
