/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acme-plugin.c - a vendor's host plugin that calls its own service module
 * (acme-service.c) on the HSMs selected by --esn, through the core's call
 * API <hsmadmin/call.h>.  Built out of tree with
 * `pkg-config hsmadmin-call` (docs/plugin-guide.md).
 *
 *   hsmadmin acme info [--esn ESN]...
 *   hsmadmin acme sum [--esn ESN]... VALUE...
 *
 * The core connects, checks each HSM's pinned host key, authenticates
 * with this host's launcher client key, applies --timeout and calls every
 * HSM in parallel; as each HSM answers, the plugin prints its line (the
 * core prints the error line of an HSM that failed), so a silent HSM does
 * not hold back the others; hsm_call_report chooses the exit code.
 */
#include <stdlib.h>
#include <hsmadmin/call.h>

typedef void (*show_fn)(struct hsm_ctx *ctx, const char *esn, const json_t *result);

/* One HSM that answered, as it answers: its text line. */
static void answered(struct hsm_ctx *ctx, const struct hsm_call *call, size_t i, void *arg)
{
	show_fn show = *(show_fn *)arg;

	show(ctx, hsm_call_esn(call, i), hsm_call_result(call, i));
}

/* Run service.method on the addressed HSMs; show(esn, result, text) makes
 * the text line of one answer.  The --json document is
 * {"hsms": {ESN: result}, "errors": {ESN: {"exit", "code", "message"}}}. */
static int acme_call(struct hsm_ctx *ctx, const char *method, json_t *params, show_fn show)
{
	json_t *hsms = json_object(), *errors = json_object();
	struct hsm_call *call;
	int rc = hsm_call_each(ctx, "launcher", method, params, answered, &show, &call);

	json_decref(params);
	if (rc != HSM_EXIT_OK) {
		json_decref(hsms);
		json_decref(errors);
		return rc;
	}
	for (size_t i = 0; i < hsm_call_count(call); i++) {
		const char *esn = hsm_call_esn(call, i);

		if (hsm_call_exit(call, i) == HSM_EXIT_OK) {
			json_object_set(hsms, esn, (json_t *)hsm_call_result(call, i));
		} else {
			json_object_set_new(errors, esn,
					    json_pack("{s:i, s:s, s:s}", "exit",
						      hsm_call_exit(call, i), "code",
						      hsm_call_code(call, i), "message",
						      hsm_call_message(call, i)));
		}
	}
	json_object_set_new(hsm_json(ctx), "hsms", hsms);
	json_object_set_new(hsm_json(ctx), "errors", errors);
	rc = hsm_call_report(ctx, call);
	hsm_call_free(call);
	return rc;
}

static void show_info(struct hsm_ctx *ctx, const char *esn, const json_t *r)
{
	hsm_printf(ctx, "%s: %s %s\n", esn, json_string_value(json_object_get(r, "vendor")),
		   json_string_value(json_object_get(r, "version")));
}

static void show_sum(struct hsm_ctx *ctx, const char *esn, const json_t *r)
{
	hsm_printf(ctx, "%s: sum %lld of %lld values\n", esn,
		   (long long)json_integer_value(json_object_get(r, "sum")),
		   (long long)json_integer_value(json_object_get(r, "count")));
}

static int info_run(struct hsm_ctx *ctx)
{
	return acme_call(ctx, "acme_info", json_object(), show_info);
}

static int sum_run(struct hsm_ctx *ctx)
{
	json_t *values = json_array();

	for (size_t i = 0; i < hsm_opt_count(ctx, "VALUE"); i++) {
		const char *s = hsm_opt_str_at(ctx, "VALUE", i);
		char *end;
		long long n = strtoll(s, &end, 10);

		if (*s == '\0' || *end != '\0') {
			json_decref(values);
			return hsm_error(ctx, HSM_EXIT_USAGE, "VALUE", "'%s' is not an integer", s);
		}
		json_array_append_new(values, json_integer(n));
	}
	return acme_call(ctx, "acme_sum", json_pack("{s:o}", "values", values), show_sum);
}

static const struct hsm_option sum_options[] = { { .name = "VALUE",
						   .type = HSM_OPT_STRING,
						   .flags = HSM_OPTF_POSITIONAL |
							    HSM_OPTF_REPEATABLE | HSM_OPTF_REQUIRED,
						   .help = "integers to add up on each HSM" },
						 HSM_OPTION_END };

static const struct hsm_command acme_commands[] = {
	{ .path = "acme info",
	  .tool = "hsmadmin",
	  .summary = "Ask the acme service module who it is",
	  .flags = HSM_CMDF_DEVICE,
	  .run = info_run },
	{ .path = "acme sum",
	  .tool = "hsmadmin",
	  .summary = "Add up integers on each HSM (acme service module)",
	  .options = sum_options,
	  .flags = HSM_CMDF_DEVICE,
	  .run = sum_run },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "acme",
	.version = "1.0",
	.commands = acme_commands,
};
