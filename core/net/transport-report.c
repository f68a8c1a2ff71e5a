/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/transport-report.c - one output shape for every device command
 * (see transport-report.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport-report.h"

const char *hsm_format_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "%lld", t);
	return buf;
}

/* Scalars as people read them; device text is cleaned of control bytes. */
static void print_scalar(struct hsm_ctx *ctx, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: {
		char *s = strdup(json_string_value(v));
		if (!s)
			return;
		for (char *c = s; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		hsm_printf(ctx, "%s", s);
		free(s);
		break;
	}
	case JSON_INTEGER:
		hsm_printf(ctx, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		hsm_printf(ctx, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		hsm_printf(ctx, "yes");
		break;
	case JSON_FALSE:
		hsm_printf(ctx, "no");
		break;
	case JSON_NULL:
		hsm_printf(ctx, "-");
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			if (i)
				hsm_printf(ctx, ", ");
			if (json_is_object(e) || json_is_array(e)) {
				char *t = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
				hsm_printf(ctx, "%s", t ? t : "?");
				free(t);
			} else {
				print_scalar(ctx, e);
			}
		}
		break;
	}
	default:
		break;
	}
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define FIELD_WIDTH 28

static void print_member(struct hsm_ctx *ctx, const char *prefix, const char *name, const json_t *v)
{
	char full[128];

	snprintf(full, sizeof(full), "%s%s%s", prefix, *prefix ? "." : "", name);
	if (json_is_object(v)) {
		const char **keys = calloc(json_object_size(v) + 1, sizeof(*keys));
		const char *k;
		json_t *sub;
		size_t n = 0;

		if (!keys)
			return;
		json_object_foreach((json_t *)v, k, sub) keys[n++] = k;
		qsort(keys, n, sizeof(*keys), by_str);
		for (size_t i = 0; i < n; i++)
			print_member(ctx, full, keys[i], json_object_get(v, keys[i]));
		free(keys);
		return;
	}
	for (char *c = full; *c; c++) /* member names come from the device too */
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	strncat(full, ":", sizeof(full) - strlen(full) - 1);
	hsm_printf(ctx, "  %-*s ", FIELD_WIDTH, full);
	print_scalar(ctx, v);
	hsm_printf(ctx, "\n");
}

static int listed(const char *const *order, const char *name)
{
	for (size_t i = 0; order && order[i]; i++)
		if (strcmp(order[i], name) == 0)
			return 1;
	return 0;
}

void hsm_print_fields(struct hsm_ctx *ctx, const json_t *obj, const char *const *order)
{
	const char **rest = calloc(json_object_size(obj) + 1, sizeof(*rest));
	const char *k;
	json_t *v;
	size_t n = 0;

	for (size_t i = 0; order && order[i]; i++)
		if ((v = json_object_get(obj, order[i])))
			print_member(ctx, "", order[i], v);
	if (!rest)
		return;
	json_object_foreach((json_t *)obj, k, v) if (!listed(order, k)) rest[n++] = k;
	qsort(rest, n, sizeof(*rest), by_str);
	for (size_t i = 0; i < n; i++)
		print_member(ctx, "", rest[i], json_object_get(obj, rest[i]));
	free(rest);
}

static json_t *error_json(const struct hsm_rpc_reply *r)
{
	return json_pack("{s:i, s:s, s:s}", "exit", r->exit, "code", r->code, "message",
			 r->message);
}

void hsm_report_one(struct hsm_ctx *ctx, const struct hsm_module *m, const struct hsm_rpc_reply *r,
		    hsm_report_fn text, void *arg)
{
	hsm_verbosef(ctx, "%s: %u ms", m->esn, r->elapsed_ms);
	if (r->exit == 0) {
		if (text)
			text(ctx, m, r->result, arg);
	} else {
		hsm_error(ctx, r->exit, m->esn, "%s", r->message);
	}
	/* Whoever reads a pipe sees this HSM now, not when the last answers. */
	fflush(stdout);
}

int hsm_report_json(struct hsm_ctx *ctx, const struct hsm_fleet *fleet,
		    const struct hsm_rpc_reply *replies)
{
	json_t *mods = json_array();
	int rc = fleet->config_exit;

	for (size_t i = 0; i < fleet->count; i++) {
		const struct hsm_module *m = &fleet->modules[i];
		const struct hsm_rpc_reply *r = &replies[i];

		if (r->exit == 0) {
			json_array_append_new(mods, json_pack("{s:s, s:b, s:O}", "esn", m->esn,
							      "ok", 1, "result", r->result));
			continue;
		}
		json_array_append_new(mods, json_pack("{s:s, s:b, s:o}", "esn", m->esn, "ok", 0,
						      "error", error_json(r)));
		rc = hsm_exit_worst(rc, r->exit);
	}
	json_object_set_new(hsm_json(ctx), "modules", mods);
	if (json_array_size(fleet->config_errors))
		json_object_set(hsm_json(ctx), "config_errors", fleet->config_errors);
	return rc;
}

int hsm_report(struct hsm_ctx *ctx, const struct hsm_fleet *fleet,
	       const struct hsm_rpc_reply *replies, hsm_report_fn text, void *arg)
{
	for (size_t i = 0; i < fleet->count; i++)
		hsm_report_one(ctx, &fleet->modules[i], &replies[i], text, arg);
	return hsm_report_json(ctx, fleet, replies);
}

void hsm_report_done(struct hsm_ctx *ctx, size_t i, void *arg)
{
	const struct hsm_report_run *run = arg;
	const struct hsm_module *m = &run->fleet->modules[i];

	if (run->judge)
		run->judge(ctx, m, &run->replies[i], run->arg);
	hsm_report_one(ctx, m, &run->replies[i], run->text, run->arg);
}

int hsm_report_fleet_call(struct hsm_ctx *ctx, const struct hsm_fleet *fleet, const char *service,
			  const char *method, const json_t *params, hsm_report_fn text,
			  hsm_report_judge_fn judge, void *arg)
{
	struct hsm_rpc_reply *replies;
	struct hsm_report_run run;
	int rc;

	if (!(replies = calloc(fleet->count ? fleet->count : 1, sizeof(*replies))))
		return hsm_error(ctx, HSM_EXIT_FAILED, method, "out of memory");
	run = (struct hsm_report_run){
		.fleet = fleet, .replies = replies, .text = text, .arg = arg, .judge = judge
	};
	hsm_rpc_fanout_each(ctx, fleet, service, method, params, replies, hsm_report_done, &run);
	rc = hsm_report_json(ctx, fleet, replies);
	for (size_t i = 0; i < fleet->count; i++)
		hsm_rpc_reply_clear(&replies[i]);
	free(replies);
	return rc;
}

int hsm_report_call_judged(struct hsm_ctx *ctx, const char *service, const char *method,
			   const json_t *params, hsm_report_fn text, hsm_report_judge_fn judge,
			   void *arg)
{
	struct hsm_fleet fleet;
	int rc = hsm_fleet_open(ctx, &fleet);

	if (rc)
		return rc;
	rc = hsm_report_fleet_call(ctx, &fleet, service, method, params, text, judge, arg);
	hsm_fleet_close(&fleet);
	return rc;
}

int hsm_report_call(struct hsm_ctx *ctx, const char *service, const char *method,
		    const json_t *params, hsm_report_fn text, void *arg)
{
	return hsm_report_call_judged(ctx, service, method, params, text, NULL, arg);
}
