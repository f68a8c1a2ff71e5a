/* SPDX-License-Identifier: Apache-2.0 */
/*
 * help.c - help text generated from the command tables, so it can never
 * disagree with what the parser accepts.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *metavar(const struct hsm_option *o, char *buf, size_t len)
{
	if (o->metavar)
		return o->metavar;
	size_t i = 0;
	for (const char *p = o->name; *p && i + 1 < len; p++)
		buf[i++] = (*p == '-') ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	buf[i] = '\0';
	return buf;
}

static void option_usage(FILE *f, const struct hsm_option *o)
{
	char mv[48];

	if (o->flags & HSM_OPTF_POSITIONAL)
		fprintf(f, "%s%s", metavar(o, mv, sizeof(mv)),
			(o->flags & HSM_OPTF_REPEATABLE) ? "..." : "");
	else if (o->type == HSM_OPT_FLAG)
		fprintf(f, "--%s", o->name);
	else
		fprintf(f, "--%s %s", o->name, metavar(o, mv, sizeof(mv)));
}

void hsm_usage_line(FILE *f, const char *tool, const struct hsm_command *cmd,
		    const struct hsm_option *const *specs, size_t n)
{
	/* A tool that is one command (enquiry) is used without command words. */
	if (!strcmp(cmd->path, tool))
		fprintf(f, "usage: %s [-h]", tool);
	else
		fprintf(f, "usage: %s %s [-h]", tool, cmd->path);
	/* Options first, a mutually exclusive group once as [a | b]. */
	for (size_t i = 0; i < n; i++) {
		const struct hsm_option *o = specs[i];
		int first_of_group = 1;
		if (o->flags & HSM_OPTF_POSITIONAL)
			continue;
		for (size_t j = 0; o->group && j < i; j++)
			if (specs[j]->group == o->group)
				first_of_group = 0;
		if (!first_of_group)
			continue;
		int req = (o->flags & HSM_OPTF_REQUIRED) != 0;
		fputs(req ? " " : " [", f);
		option_usage(f, o);
		for (size_t j = i + 1; o->group && j < n; j++)
			if (specs[j]->group == o->group) {
				fputs(" | ", f);
				option_usage(f, specs[j]);
			}
		if (o->flags & HSM_OPTF_REPEATABLE)
			fputs(" ...", f);
		fputs(req ? "" : "]", f);
	}
	for (size_t i = 0; i < n; i++) {
		const struct hsm_option *o = specs[i];
		if (!(o->flags & HSM_OPTF_POSITIONAL))
			continue;
		int req = (o->flags & HSM_OPTF_REQUIRED) != 0;
		fputs(req ? " " : " [", f);
		option_usage(f, o);
		fputs(req ? "" : "]", f);
	}
	fputc('\n', f);
}

void hsm_help_command(FILE *f, const char *tool, const struct hsm_plugin_entry *e,
		      const struct hsm_command *cmd, const struct hsm_option *const *specs,
		      size_t n)
{
	char left[96], mv[48];

	hsm_usage_line(f, tool, cmd, specs, n);
	fprintf(f, "\n%s\n", cmd->summary);
	/* The command's other spellings follow it in its plugin's table. */
	for (size_t k = 0; e && k < e->n_cmds; k++)
		if (e->cmds[k] == cmd && !(cmd->flags & HSM_CMDF_ALIAS))
			for (size_t a = k + 1;
			     a < e->n_cmds && (e->cmds[a]->flags & HSM_CMDF_ALIAS); a++)
				fprintf(f, "Also written: %s %s\n", tool, e->cmds[a]->path);
	if (cmd->description)
		fprintf(f, "\n%s\n", cmd->description);
	if (cmd->flags & HSM_CMDF_INVASIVE)
		fprintf(f, "\nThis command changes the state of the HSM.\n");
	fprintf(f, "\noptions:\n  %-30s %s\n", "-h, --help", "show this help and exit");
	for (size_t i = 0; i < n; i++) {
		const struct hsm_option *o = specs[i];
		char shortname[8] = "";
		if (o->short_name)
			snprintf(shortname, sizeof(shortname), "-%c, ", o->short_name);
		if (o->flags & HSM_OPTF_POSITIONAL)
			snprintf(left, sizeof(left), "%s", metavar(o, mv, sizeof(mv)));
		else
			snprintf(left, sizeof(left), "%s--%s%s%s", shortname, o->name,
				 o->type == HSM_OPT_FLAG ? "" : " ",
				 o->type == HSM_OPT_FLAG ? "" : metavar(o, mv, sizeof(mv)));
		fprintf(f, "  %-30s %s", left, o->help ? o->help : "");
		if (o->type == HSM_OPT_INT && !(o->min == 0 && o->max == 0))
			fprintf(f, " (%lld..%lld)", (long long)o->min, (long long)o->max);
		if (o->defval && o->type != HSM_OPT_FLAG)
			fprintf(f, " [default: %s]", o->defval);
		if (o->flags & HSM_OPTF_REPEATABLE)
			fputs(" (repeatable)", f);
		fputc('\n', f);
	}
}

static int printed_before(const struct hsm_registry *reg, size_t upto_i, size_t upto_k,
			  const char *tool, const char *word, size_t wlen)
{
	for (size_t i = 0; i <= upto_i && i < reg->n; i++)
		for (size_t k = 0; k < reg->v[i].n_claims; k++) {
			if (i == upto_i && k >= upto_k)
				return 0;
			const struct hsm_claim *c = &reg->v[i].claims[k];
			if (!strcmp(c->tool, tool) && !strncmp(c->prefix, word, wlen) &&
			    (c->prefix[wlen] == ' ' || c->prefix[wlen] == '\0'))
				return 1;
		}
	return 0;
}

/* Top-level help reads only configuration: listing commands must not cost
 * a dlopen of every plugin.  So it shows each plugin's command words with
 * the plugin's description; `<command> --help` shows a command's summary. */
void hsm_help_tool(FILE *f, const char *tool, const struct hsm_registry *reg)
{
	fprintf(f, "usage: %s [-h] [-v] <command> [options]\n\ncommands:\n", tool);
	for (size_t i = 0; i < reg->n; i++) {
		const struct hsm_plugin_entry *e = &reg->v[i];
		size_t shown = 0, col = 2;
		for (size_t k = 0; k < e->n_claims; k++) {
			const struct hsm_claim *c = &e->claims[k];
			size_t wlen = strcspn(c->prefix, " ");
			if (strcmp(c->tool, tool) ||
			    printed_before(reg, i, k, tool, c->prefix, wlen))
				continue;
			if (!shown)
				fputs("  ", f);
			else if (col + wlen + 2 > 78) {
				fputs(",\n  ", f);
				col = 2;
			} else {
				fputs(", ", f);
				col += 2;
			}
			fprintf(f, "%.*s", (int)wlen, c->prefix);
			col += wlen;
			shown++;
		}
		if (shown)
			fprintf(f, "\n      %s\n", e->description ? e->description : "");
	}
	if (!strcmp(tool, "hsmadmin"))
		fprintf(f,
			"  completion\n      Print the completion script of bash, zsh or fish\n");
	fprintf(f,
		"\noptions:\n  -h, --help       show this help and exit\n"
		"  -v, --version    show the version and exit\n\n"
		"Run '%s <command> --help' for the options of a command.\n",
		tool);
}

/* Commands under a prefix, from every loaded plugin. */
void hsm_help_group(FILE *f, const char *tool, const char *prefix, const struct hsm_registry *reg)
{
	fprintf(f, "usage: %s %s <command> [options]\n\ncommands:\n", tool, prefix);
	for (size_t i = 0; i < reg->n; i++) {
		const struct hsm_plugin_entry *e = &reg->v[i];
		if (e->state != 1)
			continue;
		for (size_t k = 0; k < e->n_cmds; k++) {
			const struct hsm_command *c = e->cmds[k];
			if (strcmp(c->tool ? c->tool : "hsmadmin", tool) ||
			    !hsm_path_has_prefix(c->path, prefix))
				continue;
			/* A form of the command before it: listed on that line. */
			if ((c->flags & HSM_CMDF_ALIAS) && k > 0)
				continue;
			fprintf(f, "  %-28s %s", c->path, c->summary);
			for (size_t a = k + 1;
			     a < e->n_cmds && (e->cmds[a]->flags & HSM_CMDF_ALIAS); a++)
				fprintf(f, "%s%s", a == k + 1 ? " (also: " : ", ",
					e->cmds[a]->path);
			fputs(k + 1 < e->n_cmds && (e->cmds[k + 1]->flags & HSM_CMDF_ALIAS) ? ")\n"
											    : "\n",
			      f);
		}
	}
	fprintf(f, "\nRun '%s %s <command> --help' for the options of a command.\n", tool, prefix);
}
