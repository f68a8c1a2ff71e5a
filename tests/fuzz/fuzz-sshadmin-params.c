/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-sshadmin-params.c - sshadmin's enroll and set_key params
 * (firmware/services/sshadmin/sshadmin-params.c) on arbitrary JSON, against
 * the services of a default HSM.  A refusal names its reason (hsmd makes
 * the reply one line, whatever the reason holds);
 * accepted keys are canonical (printing one again gives the same line) and
 * no two services share one.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "sshadmin-params.h"

static void refused(const char *err)
{
	if (!err[0])
		__builtin_trap();
}

static void canonical(const char *line)
{
	char *again = sshadmin_canonical_key(line);

	if (!again || strcmp(again, line) != 0)
		__builtin_trap();
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *ports;
	char err[256];
	json_t *p, *keys, *v;
	const char *service, *name;
	char *line;
	int remote;

	if (!ports)
		ports = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "sshadmin", 2201, "setup", 2202,
				  "monitor", 2203, "updater", 2204, "orchestrator", 2205,
				  "ncoreapi", 2206);
	if (!(p = hsm_json_parse((const char *)data, size, 0, err, sizeof(err))))
		return 0;
	err[0] = '\0';
	if (sshadmin_params_enroll(p, ports, &keys, err, sizeof(err)) == 0) {
		json_object_foreach(keys, name, v)
		{
			if (!json_object_get(ports, name) ||
			    sshadmin_key_used_by(keys, json_string_value(v), name))
				__builtin_trap();
			canonical(json_string_value(v));
		}
		json_decref(keys);
	} else {
		refused(err);
	}
	err[0] = '\0';
	if (sshadmin_params_set_key(p, ports, &service, &line, &remote, err, sizeof(err)) == 0) {
		if (!json_object_get(ports, service) || (remote != 0 && remote != 1))
			__builtin_trap();
		canonical(line);
	} else {
		refused(err);
	}
	free(line);
	json_decref(p);
	return 0;
}
