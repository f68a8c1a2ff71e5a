/* SPDX-License-Identifier: Apache-2.0 */
/*
 * monitor - the HSM's logs (guide 4.12): the signed system log in
 * segments (docs/formats/signed-log.md) and the init log of the current
 * boot.  A VCM's monitor serves the VCM's own logs (`hsmadmin vcm logs`).
 * logs_export closes the open segment and hands it out (once; again only
 * with "saved"), logs_expire removes an exported segment, logs_getkey
 * gives the verification keys, logs_clear works in recovery mode only.
 * Every method stays allowed past the critical log level.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/service.h>
#include "monitor-params.h"

static int m_logs_get(struct hsmd_call *call)
{
	char err[256];
	const char *log;
	json_t *entries;

	if (monitor_params_log(hsmd_params(call), 0, &log, err, sizeof(err)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	entries = hsmd_log_entries(call, log);
	if (!entries)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:s, s:o}", "log", log, "entries", entries));
	return HSMD_OK;
}

/* The HSM runs its recovery image (recovery mode, guide 4.5.4). */
static int in_recovery(struct hsmd_call *call)
{
	const char *image = json_string_value(json_object_get(hsmd_device(call), "image"));

	return image && strcmp(image, "recovery") == 0;
}

static int need_segment_api(struct hsmd_call *call)
{
	if (!hsmd_has_segment_api(call))
		return hsmd_error(call, HSMD_FAILED, "this hsmd has no signed log segments");
	return 0;
}

/* Export (guide 4.12.4.2.2): close the open segment and hand it out; it
 * stays stored until expired.  Once exported, a segment goes out again
 * only with "saved". */
static int m_logs_export(struct hsmd_call *call)
{
	char err[256];
	int saved, stream;
	json_int_t want;
	json_t *list, *text, *ids, *head;
	int64_t seg;

	if (monitor_params_export(hsmd_params(call), &saved, &want, &stream, err, sizeof(err)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	if (stream && !hsmd_has_stream_reply(call))
		return hsmd_error(call, HSMD_BAD_REQUEST,
				  "stream: this hsmd cannot stream replies (service ABI 1.5)");
	if (need_segment_api(call))
		return HSMD_FAILED;
	list = hsmd_log_saved(call);
	ids = json_object_get(list, "saved");
	if (!saved && json_array_size(ids)) {
		json_int_t first = json_integer_value(json_array_get(ids, 0));
		json_decref(list);
		return hsmd_error(
		    call, HSMD_REFUSED_STATE,
		    "log segment %lld was already exported and is still stored: re-export it "
		    "with --saved, or expire it (logs expire --seq %lld) before exporting again",
		    (long long)first, (long long)first);
	}
	if (saved) {
		if (!json_array_size(ids)) {
			json_decref(list);
			return hsmd_error(
			    call, HSMD_REFUSED_STATE,
			    "no exported log segment is stored (export without --saved first)");
		}
		seg = want ? want : json_integer_value(json_array_get(ids, 0));
	} else {
		seg = hsmd_log_close(call);
		if (seg < 0) {
			json_decref(list);
			return HSMD_FAILED;
		}
	}
	json_decref(list);
	head = json_pack("{s:O, s:s, s:I, s:b}", "esn", json_object_get(hsmd_lifetime(call), "esn"),
			 "log", "system", "segment", (json_int_t)seg, "saved", saved);
	/* Streamed, the segment goes out from disk whatever its size; the
	 * older form holds it whole in one JSON string. */
	if (stream)
		return hsmd_reply_log_segment(call, head, seg) == 0 ? HSMD_OK : HSMD_FAILED;
	text = hsmd_log_segment(call, seg);
	if (!text) {
		json_decref(head);
		return HSMD_FAILED;
	}
	json_object_set_new(head, "text", text);
	hsmd_reply(call, head);
	return HSMD_OK;
}

/* Expire (guide 4.12.4.3.2): only a segment that was exported. */
static int m_logs_expire(struct hsmd_call *call)
{
	char err[256];
	json_int_t seg;
	long long freed;

	if (monitor_params_expire(hsmd_params(call), &seg, err, sizeof(err)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	if (need_segment_api(call))
		return HSMD_FAILED;
	{
		json_t *list = hsmd_log_saved(call), *v;
		size_t i;
		int found = 0;
		json_int_t open = json_integer_value(json_object_get(list, "open"));
		json_array_foreach(json_object_get(list, "saved"), i, v) found |=
		    json_integer_value(v) == seg;
		json_decref(list);
		/* Never lose an entry nobody has a copy of. */
		if (seg == open)
			return hsmd_error(call, HSMD_REFUSED_STATE,
					  "log segment %lld is the open log and was never "
					  "exported: export it first",
					  (long long)seg);
		if (!found)
			return hsmd_error(
			    call, HSMD_REFUSED_STATE, "no exported log segment %lld is stored (%s)",
			    (long long)seg,
			    seg > open ? "it was never exported" : "already expired or cleared");
	}
	freed = hsmd_log_expire(call, seg);
	if (freed < 0)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:I, s:I}", "segment", seg, "freed", (json_int_t)freed));
	return HSMD_OK;
}

/* The verification keys (guide 4.12.4.4): the current one and every
 * epoch's, each with its certificate from the identity key. */
static int m_logs_getkey(struct hsmd_call *call)
{
	char err[256];
	json_t *keys, *cur, *warrant, *reply;
	const char *vcm;
	char *key, log[64] = "system";

	if (monitor_params_none(hsmd_params(call), err, sizeof(err)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	if (need_segment_api(call))
		return HSMD_FAILED;
	key = hsmd_log_public_key(call);
	if (!key)
		return HSMD_FAILED;
	keys = hsmd_log_keys(call);
	/* The recovery image holds no certificates (guide 4.12.4.4): the keys
	 * go out without them and the host warns that they cannot be checked. */
	if (in_recovery(call)) {
		size_t i;
		json_t *k;
		json_array_foreach(keys, i, k) json_object_del(k, "certificate");
	}
	cur = json_array_get(keys, json_array_size(keys) - 1);
	warrant = json_object_get(hsmd_lifetime(call), "warrant");
	vcm = json_string_value(json_object_get(json_object_get(warrant, "body"), "vcm"));
	if (vcm)
		snprintf(log, sizeof(log), "vcm/%.40s", vcm);
	reply = json_pack("{s:s, s:O, s:s, s:O, s:O, s:o}", "key", key, "esn",
			  json_object_get(hsmd_lifetime(call), "esn"), "log", log, "epoch",
			  cur ? json_object_get(cur, "epoch") : json_null(), "certificate",
			  cur && json_object_get(cur, "certificate")
			      ? json_object_get(cur, "certificate")
			      : json_null(),
			  "keys", keys);
	/* A VCM's keys are certified by its own identity key; its warrant
	 * (signed by the HSM identity key) vouches for that key. */
	if (vcm && reply)
		json_object_set(reply, "warrant", warrant);
	hsmd_reply(call, reply);
	free(key);
	return HSMD_OK;
}

/* Clear (guide 4.10.1.8.2, 4.12.3.2, 4.12.4.3.1): both logs only in
 * recovery mode, which hsmd's gate enforces from the table's
 * HSMD_METHOD_RECOVERY (the init log from v13.7; the signed system log
 * is otherwise exported and expired: the gate_hint says so). */
static int m_logs_clear(struct hsmd_call *call)
{
	char err[256];
	const char *log;

	if (monitor_params_log(hsmd_params(call), 1, &log, err, sizeof(err)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	if (need_segment_api(call))
		return HSMD_FAILED;
	if (hsmd_log_clear(call, log) != 0)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:s, s:b}", "log", log, "cleared", 1));
	return HSMD_OK;
}

static const struct hsmd_method methods[] = {
	{ .name = "logs_get",
	  .flags = HSMD_METHOD_LOG_ACCESS,
	  .handler = m_logs_get,
	  .summary = "entries of the system or init log (unsigned view)" },
	{ .name = "logs_export",
	  .flags = HSMD_METHOD_LOG_ACCESS | HSMD_METHOD_NEEDS_CLOCK,
	  .handler = m_logs_export,
	  .summary = "close the log segment and hand it out signed" },
	{ .name = "logs_expire",
	  .flags = HSMD_METHOD_LOG_ACCESS | HSMD_METHOD_NEEDS_CLOCK,
	  .handler = m_logs_expire,
	  .summary = "remove an exported log segment" },
	{ .name = "logs_getkey",
	  .flags = HSMD_METHOD_LOG_ACCESS,
	  .handler = m_logs_getkey,
	  .summary = "the log verification keys and their certificates" },
	{ .name = "logs_clear",
	  .flags = HSMD_METHOD_LOG_ACCESS | HSMD_METHOD_RECOVERY,
	  .handler = m_logs_clear,
	  .summary = "clear the system or init log (recovery mode only)",
	  .gate_hint = "the init log and the signed system log can only be cleared in recovery "
		       "mode (guide 4.12.3.2, 4.12.4.3.1): otherwise export and expire the system "
		       "log instead (logs export, logs expire)" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,  .name = "monitor",  .version = PACKAGE_VERSION,
	.default_port = 2206, .methods = methods,
};
