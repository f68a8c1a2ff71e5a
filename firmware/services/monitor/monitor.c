/*
 * monitor - the HSM's logs (guide 4.12): the system log and the init log
 * of the current boot.  Export, expiry and clearing come with the logs
 * issue; retrieving logs stays allowed past the critical log level.
 */
#include "config.h"

#include <string.h>

#include <hsmadmin/service.h>

static int m_logs_get(struct hsmd_call *call)
{
	json_error_t jerr;
	const char *log = "system";
	json_t *entries;

	if (json_unpack_ex((json_t *)hsmd_params(call), &jerr, JSON_STRICT, "{s?s}", "log", &log) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", jerr.text);
	if (strcmp(log, "system") != 0 && strcmp(log, "init") != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "log: '%.32s' is not system or init", log);
	entries = hsmd_log_entries(call, log);
	if (!entries)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:s, s:o}", "log", log, "entries", entries));
	return HSMD_OK;
}

static const struct hsmd_method methods[] = {
	{ .name = "logs_get", .flags = HSMD_METHOD_LOG_ACCESS, .handler = m_logs_get,
	  .summary = "entries of the system or init log" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,
	.name = "monitor",
	.version = PACKAGE_VERSION,
	.default_port = 2206,
	.methods = methods,
};
