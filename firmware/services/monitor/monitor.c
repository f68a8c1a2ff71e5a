/* SPDX-License-Identifier: Apache-2.0 */
/*
 * monitor - the HSM's logs (guide 4.12): the system log and the init log
 * of the current boot, and the plumbing of export and expiry (a VCM's
 * monitor serves its own logs, `hsmadmin vcm logs`): logs_export hands
 * out the system log and remembers how far, logs_expire drops entries up
 * to a sequence number only once they were exported, logs_getkey gives
 * the log public key.  Signing the exported log comes with the logs
 * issue.  Every method stays allowed past the critical log level.
 */
#include "config.h"

#include <stdlib.h>
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

/* How far the system log has been exported: device.services.monitor. */
static json_int_t exported_upto(struct hsmd_call *call)
{
	const json_t *m = json_object_get(json_object_get(hsmd_device(call), "services"), "monitor");

	return json_integer_value(json_object_get(m, "exported_upto"));
}

static int m_logs_export(struct hsmd_call *call)
{
	json_error_t jerr;
	json_t *entries, *doc, *mon;
	json_int_t first = 0, last = 0;
	size_t n;

	if (json_unpack_ex((json_t *)hsmd_params(call), &jerr, JSON_STRICT, "{}") != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", jerr.text);
	entries = hsmd_log_entries(call, "system");
	if (!entries)
		return HSMD_FAILED;
	n = json_array_size(entries);
	if (n) {
		first = json_integer_value(json_object_get(json_array_get(entries, 0), "seq"));
		last = json_integer_value(json_object_get(json_array_get(entries, n - 1), "seq"));
	}
	if (last > exported_upto(call)) {
		doc = hsmd_begin(call);
		mon = json_pack("{s:I}", "exported_upto", last);
		json_object_set_new(json_object_get(doc, "services"), "monitor", mon);
		if (hsmd_commit(call, doc, "logs_exported", json_pack("{s:I, s:I}", "first", first,
								  "last", last)) != 0) {
			json_decref(entries);
			return HSMD_FAILED;
		}
	}
	hsmd_reply(call, json_pack("{s:s, s:I, s:I, s:o}", "log", "system", "first", first,
				   "last", last, "entries", entries));
	return HSMD_OK;
}

static int m_logs_expire(struct hsmd_call *call)
{
	json_error_t jerr;
	json_int_t upto, done;
	long long gone;

	if (json_unpack_ex((json_t *)hsmd_params(call), &jerr, JSON_STRICT, "{s:I}", "upto", &upto) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", jerr.text);
	if (upto < 1)
		return hsmd_error(call, HSMD_BAD_REQUEST, "upto: %lld is not a sequence number", (long long)upto);
	if (!hsmd_has_log_api(call))
		return hsmd_error(call, HSMD_FAILED, "this hsmd cannot expire logs");
	done = exported_upto(call);
	/* Never lose an entry nobody has a copy of. */
	if (upto > done)
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "entries up to %lld have not been exported (exported up to %lld); export first",
				  (long long)upto, (long long)done);
	gone = hsmd_log_expire(call, upto);
	if (gone < 0)
		return HSMD_FAILED;
	if (hsmd_commit(call, hsmd_begin(call), "logs_expired",
			json_pack("{s:I, s:I}", "upto", upto, "removed", (json_int_t)gone)) != 0)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:I, s:I}", "upto", upto, "removed", (json_int_t)gone));
	return HSMD_OK;
}

static int m_logs_getkey(struct hsmd_call *call)
{
	json_error_t jerr;
	char *key;

	if (json_unpack_ex((json_t *)hsmd_params(call), &jerr, JSON_STRICT, "{}") != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", jerr.text);
	if (!hsmd_has_log_api(call))
		return hsmd_error(call, HSMD_FAILED, "this hsmd has no log key interface");
	key = hsmd_log_public_key(call);
	if (!key)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:s, s:O}", "key", key, "esn",
				   json_object_get(hsmd_lifetime(call), "esn")));
	free(key);
	return HSMD_OK;
}

static const struct hsmd_method methods[] = {
	{ .name = "logs_get", .flags = HSMD_METHOD_LOG_ACCESS, .handler = m_logs_get,
	  .summary = "entries of the system or init log" },
	{ .name = "logs_export", .flags = HSMD_METHOD_LOG_ACCESS, .handler = m_logs_export,
	  .summary = "the system log, remembered as exported" },
	{ .name = "logs_expire", .flags = HSMD_METHOD_LOG_ACCESS, .handler = m_logs_expire,
	  .summary = "drop exported system log entries up to a sequence number" },
	{ .name = "logs_getkey", .flags = HSMD_METHOD_LOG_ACCESS, .handler = m_logs_getkey,
	  .summary = "the log public key" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,
	.name = "monitor",
	.version = PACKAGE_VERSION,
	.default_port = 2206,
	.methods = methods,
};
