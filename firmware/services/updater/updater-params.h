/* SPDX-License-Identifier: Apache-2.0 */
/*
 * updater-params.h - the params of `upgrade` ({"dry_run","force",
 * "no_reset"}, each optional), apart from the service so that its fuzz
 * target (tests/fuzz/fuzz-updater.c) runs the same check.
 */
#ifndef UPDATER_PARAMS_H
#define UPDATER_PARAMS_H

#include <stddef.h>
#include <jansson.h>

struct upgrade_params {
	int dry_run, force, no_reset;
};

/* 0, or -1 with the reason the reply names. */
int updater_params_upgrade(const json_t *params, struct upgrade_params *p, char *err,
			   size_t errlen);

#endif
