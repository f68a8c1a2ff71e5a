/* SPDX-License-Identifier: Apache-2.0 */
/* updater-params.c - the params of `upgrade` (see updater-params.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "updater-params.h"

int updater_params_upgrade(const json_t *params, struct upgrade_params *p, char *err, size_t errlen)
{
	char why[160];

	memset(p, 0, sizeof(*p));
	if (hsm_json_unpack(params, JSON_STRICT, why, sizeof(why), "{s?b, s?b, s?b}", "dry_run",
			    &p->dry_run, "force", &p->force, "no_reset", &p->no_reset) != 0) {
		snprintf(err, errlen, "params: %s", why);
		return -1;
	}
	return 0;
}
