/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hello.c - a complete hsmadmin plugin, built out of tree with pkg-config.
 * See docs/plugin-guide.md.  The test suite builds and runs it exactly as a
 * vendor would (tests/cli/example-plugin.sh).
 */
#include <hsmadmin/plugin.h>

static int hello_run(struct hsm_ctx *ctx)
{
	const char *who = hsm_opt_str(ctx, "name");
	int64_t times = hsm_opt_int(ctx, "times");

	if (hsm_opt_given(ctx, "shout") && hsm_opt_given(ctx, "whisper"))
		return hsm_error(ctx, HSM_EXIT_USAGE, "hello",
				 "cannot happen: the core checks groups");
	for (int64_t i = 0; i < times; i++)
		hsm_printf(ctx, "%s, %s\n", hsm_opt_given(ctx, "shout") ? "HELLO" : "hello", who);
	json_object_set_new(hsm_json(ctx), "greeted", json_string(who));
	json_object_set_new(hsm_json(ctx), "times", json_integer(times));
	return HSM_EXIT_OK;
}

static const struct hsm_option hello_options[] = {
	{ .name = "name",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .metavar = "NAME",
	  .help = "whom to greet" },
	{ .name = "times",
	  .type = HSM_OPT_INT,
	  .min = 1,
	  .max = 5,
	  .defval = "1",
	  .help = "how often" },
	{ .name = "shout", .type = HSM_OPT_FLAG, .group = 1, .help = "loudly" },
	{ .name = "whisper", .type = HSM_OPT_FLAG, .group = 1, .help = "quietly" },
	HSM_OPTION_END
};

static const struct hsm_command hello_commands[] = { { .path = "hello",
						       .tool = "hsmadmin",
						       .summary = "Greet someone",
						       .description =
							   "An example of a vendor plugin.",
						       .options = hello_options,
						       .run = hello_run },
						     HSM_COMMAND_END };

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "hello",
	.version = "1.0",
	.commands = hello_commands,
};
