/* SPDX-License-Identifier: Apache-2.0 */
/* monitor-params.c - the monitor's params checks (see monitor-params.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "monitor-params.h"

int monitor_params_log(const json_t *params, int required, const char **log, char *err,
		       size_t errlen)
{
	char why[160];

	*log = "system";
	if (hsm_json_unpack(params, JSON_STRICT, why, sizeof(why), required ? "{s:s}" : "{s?s}",
			    "log", log) != 0) {
		snprintf(err, errlen, "params: %s", why);
		return -1;
	}
	if (strcmp(*log, "system") != 0 && strcmp(*log, "init") != 0) {
		snprintf(err, errlen, "log: '%.32s' is not system or init", *log);
		return -1;
	}
	return 0;
}

int monitor_params_export(const json_t *params, int *saved, json_int_t *segment, int *stream,
			  char *err, size_t errlen)
{
	char why[160];

	*saved = 0;
	*segment = 0;
	*stream = 0;
	if (hsm_json_unpack(params, JSON_STRICT, why, sizeof(why), "{s?b, s?I, s?b}", "saved",
			    saved, "segment", segment, "stream", stream) != 0) {
		snprintf(err, errlen, "params: %s", why);
		return -1;
	}
	if (*segment < 0 || (*segment && !*saved)) {
		snprintf(err, errlen, "segment: a segment number goes with saved");
		return -1;
	}
	return 0;
}

int monitor_params_expire(const json_t *params, json_int_t *segment, char *err, size_t errlen)
{
	char why[160];

	if (hsm_json_unpack(params, JSON_STRICT, why, sizeof(why), "{s:I}", "segment", segment) !=
	    0) {
		snprintf(err, errlen, "params: %s", why);
		return -1;
	}
	if (*segment < 1) {
		snprintf(err, errlen, "segment: %lld is not a log sequence number",
			 (long long)*segment);
		return -1;
	}
	return 0;
}

int monitor_params_none(const json_t *params, char *err, size_t errlen)
{
	char why[160];

	if (hsm_json_unpack(params, JSON_STRICT, why, sizeof(why), "{}") != 0) {
		snprintf(err, errlen, "params: %s", why);
		return -1;
	}
	return 0;
}
