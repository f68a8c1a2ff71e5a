/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/logs/logs.c - hsmadmin logs get (guide 4.10.1.8.1): the unsigned
 * system or init log of one HSM, from its monitor service.  clear, export,
 * expire and getkey arrive with the logging issue.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "transport-report.h"

/* One entry as a line: "seq  time  event  {detail}". */
static char *entry_line(const json_t *e)
{
	json_t *detail = json_object_get(e, "detail");
	const char *event = json_string_value(json_object_get(e, "event"));
	char when[64], *d = NULL, *line = NULL;

	hsm_format_time(json_integer_value(json_object_get(e, "time")), when, sizeof(when));
	if (detail && !(json_is_object(detail) && json_object_size(detail) == 0))
		d = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (asprintf(&line, "%8" JSON_INTEGER_FORMAT "  %s  %s%s%s\n",
		     json_integer_value(json_object_get(e, "seq")), when, event ? event : "?",
		     d ? "  " : "", d ? d : "") < 0)
		line = NULL;
	free(d);
	/* Device text must not drive the terminal. */
	for (char *c = line; c && *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\n') || *c == 0x7f)
			*c = '?';
	return line;
}

/* Entries must be objects with an integer seq and time and a string event;
 * anything else is a malformed reply, not something to print half of. */
static int entries_valid(const json_t *entries)
{
	size_t i;
	json_t *e;

	if (!json_is_array(entries))
		return 0;
	json_array_foreach(entries, i, e)
		if (!json_is_object(e) || !json_is_integer(json_object_get(e, "seq")) ||
		    !json_is_integer(json_object_get(e, "time")) ||
		    !json_is_string(json_object_get(e, "event")))
			return 0;
	return 1;
}

static char *render(const json_t *entries, size_t *len)
{
	size_t cap = 4096, n = 0, i;
	char *buf = malloc(cap);
	json_t *e;

	if (!buf)
		return NULL;
	buf[0] = '\0';
	json_array_foreach(entries, i, e) {
		char *line = entry_line(e);
		size_t l = line ? strlen(line) : 0;
		if (n + l + 1 > cap) {
			char *nb;
			while (n + l + 1 > cap)
				cap *= 2;
			if (!(nb = realloc(buf, cap))) {
				free(line);
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		memcpy(buf + n, line ? line : "", l + 1);
		n += l;
		free(line);
	}
	*len = n;
	return buf;
}

/* logs get reads one HSM: --esn, or the only one known. */
static int pick_one(struct hsm_ctx *ctx, struct hsm_fleet *fleet)
{
	int rc = hsm_fleet_open(ctx, fleet);

	if (rc)
		return rc;
	if (fleet->count != 1) {
		rc = hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
			       "logs get reads the log of one HSM: give exactly one --esn (%zu HSMs %s)",
			       fleet->count, hsm_esn_count(ctx) ? "given" : "known");
		hsm_fleet_close(fleet);
	}
	return rc;
}

static int logs_get(struct hsm_ctx *ctx)
{
	const char *log = hsm_opt_str(ctx, "log"), *out = hsm_opt_str(ctx, "out");
	struct hsm_fleet fleet;
	struct hsm_rpc_reply reply;
	json_t *params, *entries;
	char why[512], *text;
	size_t len;
	int rc;

	if (strcmp(log, "system") != 0 && strcmp(log, "init") != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--log", "'%s' is not a log: use system or init", log);
	if (out && hsm_json_mode(ctx))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--out", "give either --json or --out, not both");
	if ((rc = pick_one(ctx, &fleet)))
		return rc;
	params = json_pack("{s:s}", "log", log);
	hsm_rpc_call(ctx, &fleet.modules[0], "monitor", "logs_get", params, &reply);
	json_decref(params);
	entries = reply.exit == 0 ? json_object_get(reply.result, "entries") : NULL;
	if (reply.exit == 0 && !entries_valid(entries)) {
		json_decref(reply.result);
		reply.result = NULL;
		reply.exit = HSM_EXIT_FAILED;
		snprintf(reply.code, sizeof(reply.code), "protocol");
		snprintf(reply.message, sizeof(reply.message), "monitor.logs_get: malformed log entries");
	}
	rc = hsm_report(ctx, &fleet, &reply, NULL, NULL);
	if (reply.exit == 0) {
		if (!(text = render(entries, &len)))
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "logs", "out of memory");
		else if (out && hsm_write_file_atomic(out, text, len, 0644, why, sizeof(why)) < 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "--out", "%s", why);
		else if (out)
			hsm_verbosef(ctx, "wrote %zu entries to %s", json_array_size(entries), out);
		else
			hsm_printf(ctx, "%s", text);
		free(text);
	}
	hsm_rpc_reply_clear(&reply);
	hsm_fleet_close(&fleet);
	return rc;
}

static const struct hsm_option get_opts[] = {
	{ .name = "log", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED, .metavar = "system|init",
	  .help = "which log: system or init" },
	{ .name = "out", .type = HSM_OPT_STRING, .metavar = "OUTFILE",
	  .help = "write the log to OUTFILE instead of stdout" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "logs get", .summary = "Print the system or init log of an HSM (unsigned)",
	  .description = "Reads one HSM's log from its monitor service.  For signed logs use "
			 "'logs export'.",
	  .options = get_opts, .flags = HSM_CMDF_DEVICE, .run = logs_get },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "logs",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
