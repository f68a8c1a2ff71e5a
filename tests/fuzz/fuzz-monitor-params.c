/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-monitor-params.c - the monitor's params checks
 * (firmware/services/monitor/monitor-params.c) on arbitrary JSON.  What is
 * accepted keeps the documented ranges; a refusal names its reason (hsmd
 * makes the reply one line, whatever the reason holds).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "monitor-params.h"

static void check(int rc, const char *err)
{
	if (rc != 0 && !err[0])
		__builtin_trap();
}

static void known_log(const char *log)
{
	if (strcmp(log, "system") != 0 && strcmp(log, "init") != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	const char *log;
	json_int_t seg;
	int saved, stream, rc;
	json_t *p = hsm_json_parse((const char *)data, size, 0, err, sizeof(err));

	if (!p)
		return 0;
	for (int required = 0; required <= 1; required++) {
		err[0] = '\0';
		rc = monitor_params_log(p, required, &log, err, sizeof(err));
		check(rc, err);
		if (rc == 0)
			known_log(log);
	}
	err[0] = '\0';
	rc = monitor_params_export(p, &saved, &seg, &stream, err, sizeof(err));
	check(rc, err);
	if (rc == 0 && (seg < 0 || (seg && !saved) || (stream != 0 && stream != 1)))
		__builtin_trap();
	err[0] = '\0';
	rc = monitor_params_expire(p, &seg, err, sizeof(err));
	check(rc, err);
	if (rc == 0 && seg < 1)
		__builtin_trap();
	err[0] = '\0';
	rc = monitor_params_none(p, err, sizeof(err));
	check(rc, err);
	if (rc == 0 && json_object_size(p) != 0)
		__builtin_trap();
	json_decref(p);
	return 0;
}
