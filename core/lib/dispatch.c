/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dispatch.c - from argv to a command's run().
 *
 *  1. argv[0] names the tool (hsmadmin, vcmadmin, ...).
 *  2. The registry (configuration only) says which plugin owns the longest
 *     prefix of the command words; only that plugin is loaded.
 *  3. The longest command path of that plugin matching the words wins; the
 *     rest of argv is parsed against its options plus the common ones.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "internal.h"

static const struct hsm_option common_json = { .name = "json",
					       .type = HSM_OPT_FLAG,
					       .help = "print one JSON document" };
/* --verbose and --quiet contradict each other: a group no plugin uses. */
#define COMMON_GROUP_CHATTER 0x7fff0001
static const struct hsm_option common_verbose = { .name = "verbose",
						  .type = HSM_OPT_FLAG,
						  .group = COMMON_GROUP_CHATTER,
						  .help = "print verbose logs on stderr" };
static const struct hsm_option common_quiet = { .name = "quiet",
						.short_name = 'q',
						.type = HSM_OPT_FLAG,
						.group = COMMON_GROUP_CHATTER,
						.help = "print only errors" };
static const struct hsm_option common_esn = { .name = "esn",
					      .type = HSM_OPT_STRING,
					      .flags = HSM_OPTF_REPEATABLE,
					      .metavar = "ESN",
					      .help =
						  "the HSM to act on (default: every known HSM)" };
static const struct hsm_option common_timeout = { .name = "timeout",
						  .type = HSM_OPT_INT,
						  .min = 3,
						  .max = 120,
						  .defval = "30",
						  .metavar = "SECONDS",
						  .help = "time to wait for the HSM's answer" };

/* A command may declare an option of the same name or letter as a common
 * one (a plugin older than that common option): its own wins. */
static int declared(const struct hsm_plugin *d, const struct hsm_command *c,
		    const struct hsm_option *common)
{
	const char *base = (const char *)c->options;

	for (size_t i = 0; base; i++) {
		const struct hsm_option *o = (const struct hsm_option *)(base + i * d->option_size);
		if (!o->name)
			break;
		if (!strcmp(o->name, common->name) ||
		    (common->short_name && o->short_name == common->short_name))
			return 1;
	}
	return 0;
}

size_t hsm_common_options(const struct hsm_plugin *d, const struct hsm_command *c,
			  const struct hsm_option **out, size_t max)
{
	const struct hsm_option *all[HSM_COMMON_OPTIONS_MAX];
	size_t n = 0, kept = 0;

	if (max < HSM_COMMON_OPTIONS_MAX)
		return 0;
	if (c->flags & HSM_CMDF_DEVICE) {
		if (!(c->flags & HSM_CMDF_EVERY_HSM))
			all[n++] = &common_esn;
		all[n++] = &common_timeout;
	}
	all[n++] = &common_json;
	all[n++] = &common_verbose;
	all[n++] = &common_quiet;
	for (size_t i = 0; i < n; i++)
		if (all[i] == &common_esn || all[i] == &common_timeout || !declared(d, c, all[i]))
			out[kept++] = all[i];
	return kept;
}

static const char *tool_name(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	/* libtool's uninstalled wrappers run the program as lt-NAME */
	if (!strncmp(base, "lt-", 3))
		base += 3;
	return base;
}

/* Specs for a command: its own options (walked with the plugin's stride),
 * then the common ones.  Caller frees. */
static const struct hsm_option **command_specs(const struct hsm_plugin *d,
					       const struct hsm_command *c, size_t *n)
{
	const char *base = (const char *)c->options;
	size_t own = 0;
	const struct hsm_option **v;

	while (base && ((const struct hsm_option *)(base + own * d->option_size))->name)
		own++;
	v = calloc(own + HSM_COMMON_OPTIONS_MAX, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < own; i++)
		v[i] = (const struct hsm_option *)(base + i * d->option_size);
	*n = own + hsm_common_options(d, c, v + own, HSM_COMMON_OPTIONS_MAX);
	return v;
}

/* The command of e whose path is the longest match of words. */
static const struct hsm_command *find_command(const struct hsm_plugin_entry *e, const char *tool,
					      char *const *words, size_t n, size_t *used)
{
	const struct hsm_command *best = NULL;
	size_t best_w = 0;

	for (size_t k = 0; k < e->n_cmds; k++) {
		const struct hsm_command *c = e->cmds[k];
		const char *p = c->path;
		size_t w = 0;
		if (strcmp(c->tool ? c->tool : "hsmadmin", tool))
			continue;
		for (; w < n; w++) {
			size_t len = strlen(words[w]);
			if (strncmp(p, words[w], len) || (p[len] != ' ' && p[len] != '\0'))
				break;
			p += len;
			if (*p == '\0') {
				w++;
				break;
			}
			p++;
		}
		if (*p == '\0' && w > best_w) {
			best = c;
			best_w = w;
		}
	}
	*used = best_w;
	return best;
}

/* The plugin of a one-command tool (see main_sorted) whose command takes
 * operands (generatekey APPNAME NAME=VALUE...), or NULL: for such a tool
 * words that name no command are the command's operands.  self is the
 * tool's name as the one command word. */
static struct hsm_plugin_entry *operand_tool(struct hsm_registry *reg, const char *tool,
					     char **self)
{
	struct hsm_plugin_entry *e;
	const struct hsm_command *c;
	const struct hsm_option **specs;
	size_t claimed, used, n = 0;
	int operands = 0;

	if (!(e = hsm_registry_owner(reg, tool, self, 1, &claimed)) ||
	    hsm_registry_load(reg, e) != 0 || !(c = find_command(e, tool, self, 1, &used)) ||
	    used != 1 || !(specs = command_specs(e->desc, c, &n)))
		return NULL;
	for (size_t i = 0; i < n; i++)
		operands |= (specs[i]->flags & HSM_OPTF_POSITIONAL) != 0;
	free(specs);
	return operands ? e : NULL;
}

static int has_help_flag(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

static char *join_words(char *const *words, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	s = calloc(1, len);
	for (size_t i = 0; s && i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, words[i]);
	}
	return s;
}

/* Load every plugin that has commands under prefix (for group help). */
static void load_group(struct hsm_registry *reg, const char *tool, const char *prefix)
{
	for (size_t i = 0; i < reg->n; i++)
		for (size_t k = 0; k < reg->v[i].n_claims; k++) {
			const struct hsm_claim *c = &reg->v[i].claims[k];
			if (!strcmp(c->tool, tool) && (hsm_path_has_prefix(c->prefix, prefix) ||
						       hsm_path_has_prefix(prefix, c->prefix))) {
				hsm_registry_load(reg, &reg->v[i]);
				break;
			}
		}
}

/* Does any loaded command of tool live under prefix? */
static int group_has_commands(const struct hsm_registry *reg, const char *tool, const char *prefix)
{
	for (size_t i = 0; i < reg->n; i++) {
		const struct hsm_plugin_entry *e = &reg->v[i];
		for (size_t k = 0; e->state == 1 && k < e->n_cmds; k++)
			if (!strcmp(e->cmds[k]->tool ? e->cmds[k]->tool : "hsmadmin", tool) &&
			    hsm_path_has_prefix(e->cmds[k]->path, prefix))
				return 1;
	}
	return 0;
}

static int run_command(struct hsm_ctx *ctx, const struct hsm_plugin_entry *e, int argc, char **argv)
{
	size_t n = 0;
	const struct hsm_option **specs = command_specs(e->desc, ctx->cmd, &n);
	char err[512];
	int rc;

	if (!specs) {
		fprintf(stderr, "%s: out of memory\n", ctx->tool);
		return HSM_EXIT_FAILED;
	}
	if (hsm_opts_parse(specs, n, argc, argv, &ctx->parsed, err, sizeof(err)) != 0) {
		const char *words = strcmp(ctx->path, ctx->tool) ? ctx->path : NULL;
		fprintf(stderr, "%s: %s: usage: %s (try '%s%s%s --help')\n", ctx->tool, ctx->path,
			err, ctx->tool, words ? " " : "", words ? words : "");
		free(specs);
		return HSM_EXIT_USAGE;
	}
	if (ctx->parsed.help) {
		hsm_help_command(stdout, ctx->tool, ctx->plugin, ctx->cmd, specs, n);
		free(specs);
		return HSM_EXIT_OK;
	}
	free(specs);
	ctx->json = hsm_opt_given(ctx, "json");
	ctx->verbose = hsm_opt_given(ctx, "verbose");
	/* A command's own --quiet (if it declares one) is its business. */
	ctx->quiet = hsm_opt_given(ctx, "quiet") &&
		     hsm_opts_find(&ctx->parsed, "quiet")->opt == &common_quiet;
	ctx->timeout = (ctx->cmd->flags & HSM_CMDF_DEVICE) ? (int)hsm_opt_int(ctx, "timeout") : 30;
	rc = ctx->cmd->run(ctx);
	if (rc < 0 || rc > 125)
		rc = HSM_EXIT_FAILED;
	if (rc != 0 && !ctx->errored)
		fprintf(stderr, "%s: %s: failed (exit %d)\n", ctx->tool, ctx->path, rc);
	return hsm_finish_output(ctx, rc);
}

static int builtin_completion(struct hsm_registry *reg, const char *tool, int argc, char **argv)
{
	static const struct {
		const char *shell;
		int (*gen)(FILE *f, struct hsm_registry *reg);
	} shells[] = {
		{ "bash", hsm_completion_bash },
		{ "zsh", hsm_completion_zsh },
		{ "fish", hsm_completion_fish },
	};
	const char *bad;
	int start = 0;

	/* --help alone or after the shell's name ("completion bash --help"). */
	if (has_help_flag(argc, argv) && argc <= 2) {
		printf("usage: %s completion bash|zsh|fish\n"
		       "       %s completion values esn|uuid\n\n"
		       "Print the completion script of a shell for every installed tool, or the\n"
		       "values the scripts offer for --esn (modules.d) and VCM UUIDs (this host's\n"
		       "tenant enrollments and the last 'vcmadmin list').\n\n"
		       "options:\n"
		       "  -h, --help                     show this help and exit\n",
		       tool, tool);
		return HSM_EXIT_OK;
	}
	for (size_t i = 0; argc == 1 && i < sizeof(shells) / sizeof(shells[0]); i++)
		if (!strcmp(argv[0], shells[i].shell))
			return shells[i].gen(stdout, reg) == 0 ? HSM_EXIT_OK : HSM_EXIT_FAILED;
	if (argc == 2 && !strcmp(argv[0], "values")) {
		if (hsm_completion_values(stdout, argv[1]) == 0)
			return HSM_EXIT_OK;
		fprintf(stderr, "%s: completion values: unknown kind '%s' (esn or uuid)\n", tool,
			argv[1]);
		return HSM_EXIT_USAGE;
	}
	/* Name the first word that does not fit ("completion bash --bogus"
	 * names --bogus, not bash); none when a word is missing instead. */
	for (size_t i = 0; argc && i < sizeof(shells) / sizeof(shells[0]); i++)
		if (!strcmp(argv[0], shells[i].shell))
			start = 1;
	if (argc && !strcmp(argv[0], "values"))
		start = 2;
	bad = start < argc ? argv[start] : NULL;
	fprintf(stderr,
		"%s: completion: usage: %s completion bash|zsh|fish, or values esn|uuid%s%s%s\n",
		tool, tool, bad ? " (not '" : "", bad ? bad : "", bad ? "')" : "");
	return HSM_EXIT_USAGE;
}

/* The options every command shares, which the guide writes before or after
 * the command words ("hsmadmin setnetwork --esn E ipv4static ...",
 * "hsmadmin keys --timeout 10 show", "hsmadmin --no-reset settime").
 * Returns 1 for such an argument and sets *value when it takes the next
 * argument as its value. */
static int common_anywhere(const char *arg, int *value)
{
	static const char *const with_value[] = { "esn", "timeout", NULL };
	static const char *const flags[] = { "json", "verbose", "quiet", "no-reset", "help", NULL };

	*value = 0;
	if (!strcmp(arg, "-h") || !strcmp(arg, "-q"))
		return 1;
	if (strncmp(arg, "--", 2) != 0)
		return 0;
	arg += 2;
	for (size_t i = 0; with_value[i]; i++) {
		size_t len = strlen(with_value[i]);
		if (!strncmp(arg, with_value[i], len) && (arg[len] == '\0' || arg[len] == '=')) {
			*value = arg[len] == '\0';
			return 1;
		}
	}
	for (size_t i = 0; flags[i]; i++)
		if (!strcmp(arg, flags[i]))
			return 1;
	return 0;
}

/* The first argument that is not a common option (nor a common option's
 * value), or NULL. */
static const char *first_uncommon(int argc, char **argv)
{
	int value;

	for (int i = 0; i < argc; i++) {
		if (!common_anywhere(argv[i], &value))
			return argv[i];
		i += value;
	}
	return NULL;
}

/* Reorder argv (after the tool's name) as: the leading command words, the
 * common options found among them, then the rest untouched.  The words
 * then name the command wherever the common options were written, and the
 * option parser still sees every argument exactly once.  Returns the
 * number of words; *out is a new array of argc pointers (caller frees). */
static size_t sort_arguments(int argc, char **argv, char ***out)
{
	char **v = calloc((size_t)argc + 1, sizeof(*v)),
	     **opts = calloc((size_t)argc + 1, sizeof(*v));
	size_t nw = 0, no = 0;
	int i = 0, value;

	if (!v || !opts) {
		free(v);
		free(opts);
		*out = NULL;
		return 0;
	}
	while (i < argc) {
		if (argv[i][0] != '-' || argv[i][1] == '\0') {
			v[nw++] = argv[i++];
			continue;
		}
		if (!common_anywhere(argv[i], &value))
			break;
		opts[no++] = argv[i++];
		if (value && i < argc)
			opts[no++] = argv[i++];
	}
	memcpy(v + nw, opts, no * sizeof(*v));
	memcpy(v + nw + no, argv + i, (size_t)(argc - i) * sizeof(*v));
	free(opts);
	*out = v;
	return nw;
}

/* -v/--version first, or where the guide writes the tool's options, after
 * the command words and common options ("hsmadmin <subcommand> [-h] [-v]
 * [--no-reset]", guide 4.10.1): the first argument that is neither. */
static int version_asked(int argc, char **argv)
{
	int value;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--version"))
			return 1;
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			continue;
		if (!common_anywhere(argv[i], &value))
			return 0;
		i += value;
	}
	return 0;
}

static int main_sorted(const char *tool, int argc, char **argv, size_t nwords);

HSM_API int hsm_main(int argc, char **argv)
{
	const char *tool = tool_name(argc > 0 ? argv[0] : "hsmadmin");
	char **sorted;
	size_t nwords;
	int rc;

	argc--;
	argv++;
	if (version_asked(argc, argv)) {
		printf("%s %s (plugin ABI %d.%d)\n", tool, PACKAGE_VERSION,
		       HSMADMIN_PLUGIN_ABI_MAJOR, HSMADMIN_PLUGIN_ABI_MINOR);
		return HSM_EXIT_OK;
	}
	nwords = sort_arguments(argc, argv, &sorted);
	if (!sorted) {
		fprintf(stderr, "%s: out of memory\n", tool);
		return HSM_EXIT_FAILED;
	}
	rc = main_sorted(tool, argc, sorted, nwords);
	free(sorted);
	return rc;
}

static int main_sorted(const char *tool, int argc, char **argv, size_t nwords)
{
	struct hsm_registry reg;
	struct hsm_ctx ctx = { .tool = tool };
	struct hsm_plugin_entry *owner;
	const struct hsm_command *cmd;
	size_t claimed, used, own_words = 1;
	char *conf = hsm_path_conf(), *group;
	char *self[] = { (char *)tool }, **words;
	int rc, value;

	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--verbose"))
			hsm_registry_verbose = 1;
	hsm_registry_open(&reg, conf, tool, stderr);
	free(conf);
	words = argv;
	/* A tool that is one command (enquiry, nopclearfail): a plugin claims
	 * the tool's own name and provides the command of that path, which
	 * runs when no command words are given; every argument is its own. */
	if (nwords == 0 && hsm_registry_owner(&reg, tool, self, 1, &claimed)) {
		words = self;
		nwords = 1;
		own_words = 0;
	}
	if (nwords == 0) {
		int help = has_help_flag(argc, argv);
		hsm_help_tool(help ? stdout : stderr, tool, &reg);
		if (!help && argc >= 1 && common_anywhere(argv[0], &value))
			fprintf(stderr, "%s: usage: %s needs a command (try '%s --help')\n", tool,
				argv[0], tool);
		else if (!help && argc >= 1)
			fprintf(stderr, "%s: unknown option '%s'\n", tool, argv[0]);
		hsm_registry_close(&reg);
		return help ? HSM_EXIT_OK : HSM_EXIT_USAGE;
	}
	if (!strcmp(tool, "hsmadmin") && own_words && !strcmp(argv[0], "completion")) {
		rc = builtin_completion(&reg, tool, argc - 1, argv + 1);
		hsm_registry_close(&reg);
		return rc;
	}

	owner = hsm_registry_owner(&reg, tool, words, nwords, &claimed);
	if (!owner && own_words && (owner = operand_tool(&reg, tool, self))) {
		words = self;
		nwords = 1;
		own_words = 0;
	}
	if (!owner) {
		int known = 0;
		for (size_t i = 0; i < reg.n; i++)
			for (size_t k = 0; k < reg.v[i].n_claims; k++)
				known |= !strcmp(reg.v[i].claims[k].tool, tool);
		if (!known)
			fprintf(
			    stderr,
			    "%s: no command is configured for this tool (is %s/plugins.d empty?)\n",
			    tool, reg.conf_dir);
		else
			fprintf(stderr, "%s: unknown command '%s' (try '%s --help')\n", tool,
				words[0], tool);
		hsm_registry_close(&reg);
		return HSM_EXIT_USAGE;
	}
	if (hsm_registry_load(&reg, owner) != 0) {
		group = join_words(words, nwords);
		fprintf(stderr,
			"%s: %s: command unavailable: plugin %s could not be loaded (see above)\n",
			tool, group, owner->name);
		free(group);
		hsm_registry_close(&reg);
		return HSM_EXIT_UNAVAILABLE;
	}
	cmd = find_command(owner, tool, words, nwords, &used);
	if (!cmd) {
		/* The words name a group ("vcm", "vcm logs"), or a group and a
		 * word that is none of its subcommands ("vcm bogus"): then name
		 * the word and refuse, with --help or without. */
		size_t known = nwords;
		group = join_words(words, nwords);
		load_group(&reg, tool, group);
		while (known > 1 && !group_has_commands(&reg, tool, group)) {
			free(group);
			group = join_words(words, --known);
		}
		if (known < nwords) {
			fprintf(stderr, "%s: %s: unknown subcommand '%s' (try '%s %s --help')\n",
				tool, group, words[known], tool, group);
			free(group);
			hsm_registry_close(&reg);
			return HSM_EXIT_USAGE;
		}
		int help =
		    has_help_flag(argc - (int)(nwords * own_words), argv + nwords * own_words);
		hsm_help_group(help ? stdout : stderr, tool, group, &reg);
		if (!help) {
			/* An option of a subcommand written before the subcommand
			 * ("vcm logs --uuid U getkey") is named: only the common
			 * options go before the command words. */
			const char *stray = first_uncommon(argc - (int)(nwords * own_words),
							   argv + nwords * own_words);
			if (stray)
				fprintf(stderr,
					"%s: %s: usage: a subcommand is needed before '%s' "
					"(a subcommand's own options follow it)\n",
					tool, group, stray);
			else
				fprintf(stderr, "%s: %s: usage: a subcommand is needed\n", tool,
					group);
		}
		free(group);
		hsm_registry_close(&reg);
		return help ? HSM_EXIT_OK : HSM_EXIT_USAGE;
	}
	ctx.cmd = cmd;
	ctx.path = cmd->path;
	ctx.plugin = owner;
	ctx.home = hsm_path_home();
	ctx.conf = strdup(reg.conf_dir);
	rc = run_command(&ctx, owner, argc - (int)(used * own_words), argv + used * own_words);
	hsm_opts_free(&ctx.parsed);
	json_decref(ctx.doc);
	free(ctx.home);
	free(ctx.conf);
	hsm_registry_close(&reg);
	return rc;
}
