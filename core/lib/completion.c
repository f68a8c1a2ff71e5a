/* SPDX-License-Identifier: Apache-2.0 */
/*
 * completion.c - `hsmadmin completion bash|zsh|fish`: shell completion made
 * from the command tables of every configured plugin, for every tool, and
 * `hsmadmin completion values KIND`, which the scripts call at TAB time
 * for values that live on this host (ESNs, VCM UUIDs).
 *
 * The installed completion files evaluate the generated script, so a
 * plugin added by a packager or vendor completes without regenerating
 * anything.  What an option's value is comes from its declaration: the
 * metavar names the kind (see value_kind below and docs/plugin-guide.md),
 * so plugins declare it once for help and completion alike.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/completion.h>
#include "internal.h"

/* Set by hsm_tool_completion: hsmd and hsm-vendor have none of the
 * common options of hsmadmin's commands. */
static int tool_mode;

/* The value kind of an option or operand, from its metavar (or its name
 * when it has none):
 *   A|B|C       one of these words        ("enum:A,B,C")
 *   ...FILE     a file                    ("file")
 *   ...DIR      a directory               ("dir")
 *   ESN         an HSM of modules.d       ("esn")
 *   UUID        a VCM known on this host  ("uuid")
 * anything else has no completion of its own ("", the shell's default). */
static void value_kind(const struct hsm_option *o, char *out, size_t outlen)
{
	char mv[64];
	size_t n;

	out[0] = '\0';
	if (o->type == HSM_OPT_FLAG)
		return;
	snprintf(mv, sizeof(mv), "%s", o->metavar ? o->metavar : o->name);
	for (char *p = mv; *p; p++)
		if (!o->metavar)
			*p = (char)toupper((unsigned char)*p);
	n = strlen(mv);
	if (strchr(mv, '|')) {
		snprintf(out, outlen, "enum:%s", o->metavar);
		for (char *p = out; *p; p++)
			if (*p == '|')
				*p = ',';
	} else if (n >= 4 && strcmp(mv + n - 4, "FILE") == 0) {
		snprintf(out, outlen, "file");
	} else if (n >= 3 && strcmp(mv + n - 3, "DIR") == 0) {
		snprintf(out, outlen, "dir");
	} else if (strcmp(mv, "ESN") == 0) {
		snprintf(out, outlen, "esn");
	} else if (strcmp(mv, "UUID") == 0) {
		snprintf(out, outlen, "uuid");
	}
}

/* Calls fn for each option of a command, its own then the common ones. */
typedef void (*option_fn)(FILE *f, const struct hsm_option *o, void *ud);
static void each_option(const struct hsm_plugin *d, const struct hsm_command *c, option_fn fn,
			FILE *f, void *ud)
{
	const char *base = (const char *)c->options;
	const struct hsm_option *common[HSM_COMMON_OPTIONS_MAX];
	size_t nc = tool_mode ? 0 : hsm_common_options(d, c, common, HSM_COMMON_OPTIONS_MAX);

	for (size_t i = 0; base; i++) {
		const struct hsm_option *o = (const struct hsm_option *)(base + i * d->option_size);
		if (!o->name)
			break;
		fn(f, o, ud);
	}
	for (size_t i = 0; i < nc; i++)
		fn(f, common[i], ud);
}

/* Calls fn for every command of every plugin that loads. */
typedef void (*command_fn)(FILE *f, const struct hsm_plugin *d, const struct hsm_command *c);
static void each_command(struct hsm_registry *reg, command_fn fn, FILE *f)
{
	for (size_t i = 0; i < reg->n; i++) {
		struct hsm_plugin_entry *e = &reg->v[i];
		if (hsm_registry_load(reg, e) != 0)
			continue;
		for (size_t k = 0; k < e->n_cmds; k++)
			fn(f, e->desc, e->cmds[k]);
	}
}

/* " hsmadmin vcmadmin ... " : every tool a configured plugin claims. */
static void tool_list(struct hsm_registry *reg, char *tools, size_t len)
{
	snprintf(tools, len, " hsmadmin ");
	for (size_t i = 0; i < reg->n; i++)
		for (size_t k = 0; k < reg->v[i].n_claims; k++) {
			const char *t = reg->v[i].claims[k].tool;
			char pat[80];
			snprintf(pat, sizeof(pat), " %s ", t);
			if (!strstr(tools, pat) && strlen(tools) + strlen(t) + 2 < len) {
				strcat(tools, t);
				strcat(tools, " ");
			}
		}
}

/* ---- bash ------------------------------------------------------------- */

/* An entry 'TOOL|PATH|OPTIONS|KINDS': KINDS is "--name=kind" for options
 * that take a value and "@=kind" for the first operand with a kind.
 * Words are [a-z0-9-] (checked by the loader), so they need no quoting. */
static void bash_option_name(FILE *f, const struct hsm_option *o, void *ud)
{
	(void)ud;
	if (!(o->flags & HSM_OPTF_POSITIONAL))
		fprintf(f, " --%s", o->name);
}

static void bash_option_kind(FILE *f, const struct hsm_option *o, void *ud)
{
	int *operand_done = ud;
	char kind[96];

	value_kind(o, kind, sizeof(kind));
	if (o->flags & HSM_OPTF_POSITIONAL) {
		if (kind[0] && !*operand_done) {
			fprintf(f, " @=%s", kind);
			*operand_done = 1;
		}
	} else if (o->type != HSM_OPT_FLAG) {
		fprintf(f, " --%s=%s", o->name, kind[0] ? kind : "any");
	}
}

static void bash_command(FILE *f, const struct hsm_plugin *d, const struct hsm_command *c)
{
	int operand_done = 0;

	fprintf(f, "  '%s|%s|--help", c->tool ? c->tool : "hsmadmin", c->path);
	each_option(d, c, bash_option_name, f, NULL);
	fputs("|", f);
	each_option(d, c, bash_option_kind, f, &operand_done);
	fputs("'\n", f);
}

static const char bash_functions[] =
    "# _hsmadmin_values KIND CUR: the candidates of one value kind.\n"
    "_hsmadmin_values() {\n"
    "  case $1 in\n"
    "    file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$2\")) ;;\n"
    "    dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$2\")) ;;\n"
    "    esn|uuid) COMPREPLY=($(compgen -W \"$(command hsmadmin completion values \"$1\" "
    "2>/dev/null)\" -- \"$2\")) ;;\n"
    "    enum:*) local w=${1#enum:}; COMPREPLY=($(compgen -W \"${w//,/ }\" -- \"$2\")) ;;\n"
    "    any) COMPREPLY=() ;;\n"
    "    *) compopt -o default 2>/dev/null; COMPREPLY=() ;;\n"
    "  esac\n"
    "}\n"
    "_hsmadmin_complete() {\n"
    "  local tool=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]} typed='' best='' opts='' "
    "kinds='' next='' i\n"
    "  local prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "    [[ ${COMP_WORDS[i]} == -* ]] && break\n"
    "    typed+=${typed:+ }${COMP_WORDS[i]}\n"
    "  done\n"
    "  local entry path rest\n"
    "  # a tool that is one command (enquiry): its path is the tool's name\n"
    "  for entry in \"${_hsmadmin_cmds[@]}\"; do\n"
    "    [[ $entry == \"$tool|$tool|\"* ]] && typed=$tool${typed:+ $typed} && break\n"
    "  done\n"
    "  for entry in \"${_hsmadmin_cmds[@]}\"; do\n"
    "    [[ ${entry%%|*} == \"$tool\" ]] || continue\n"
    "    rest=${entry#*|}; path=${rest%%|*}; rest=${rest#*|}\n"
    "    if [[ \" $typed \" == \" $path \"* && ${#path} -gt ${#best} ]]; then\n"
    "      best=$path; opts=${rest%%|*}; kinds=\" ${rest#*|} \"\n"
    "    elif [[ -z $typed || $path == \"$typed \"* ]]; then\n"
    "      rest=${path#\"$typed\"}; rest=${rest# }\n"
    "      rest=${rest%% *}\n"
    "      [[ \" $next \" == *\" $rest \"* ]] || next+=\" $rest\"\n"
    "    fi\n"
    "  done\n"
    "  if [[ -z $best ]]; then\n"
    "    COMPREPLY=($(compgen -W \"$next\" -- \"$cur\"))\n"
    "    return\n"
    "  fi\n"
    "  local kind\n"
    "  if [[ $prev == --* && $kinds == *\" $prev=\"* ]]; then\n"
    "    kind=${kinds#*\" $prev=\"}; _hsmadmin_values \"${kind%% *}\" \"$cur\"\n"
    "  elif [[ $cur == --*=* ]]; then\n"
    "    local opt=${cur%%=*}\n"
    "    if [[ $kinds == *\" $opt=\"* ]]; then\n"
    "      kind=${kinds#*\" $opt=\"}; _hsmadmin_values \"${kind%% *}\" \"${cur#*=}\"\n"
    "    fi\n"
    "  elif [[ $cur == -* ]]; then\n"
    "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
    "  elif [[ $kinds == *\" @=\"* ]]; then\n"
    "    kind=${kinds#*\" @=\"}; _hsmadmin_values \"${kind%% *}\" \"$cur\"\n"
    "  else\n"
    "    compopt -o default 2>/dev/null; COMPREPLY=()\n"
    "  fi\n"
    "}\n";

int hsm_completion_bash(FILE *f, struct hsm_registry *reg)
{
	char tools[1024];

	fputs("# bash completion for hsmadmin and its tools, generated by `hsmadmin completion "
	      "bash`\n"
	      "_hsmadmin_cmds=(\n",
	      f);
	each_command(reg, bash_command, f);
	tool_list(reg, tools, sizeof(tools));
	fputs("  'hsmadmin|completion bash|--help|'\n"
	      "  'hsmadmin|completion zsh|--help|'\n"
	      "  'hsmadmin|completion fish|--help|'\n"
	      "  'hsmadmin|completion values|--help|@=enum:esn,uuid'\n)\n",
	      f);
	fputs(bash_functions, f);
	fprintf(f, "complete -F _hsmadmin_complete%s\n", tools);
	return 0;
}

/* zsh runs the same functions through its bash compatibility layer, so
 * the two shells can never disagree. */
int hsm_completion_zsh(FILE *f, struct hsm_registry *reg)
{
	fputs(
	    "# zsh completion for hsmadmin and its tools, generated by `hsmadmin completion zsh`\n"
	    "autoload -U +X compinit && compinit -u\n"
	    "autoload -U +X bashcompinit && bashcompinit\n",
	    f);
	return hsm_completion_bash(f, reg);
}

/* ---- fish ------------------------------------------------------------- */

/* A fish single-quoted word: only \\ and \' are special inside. */
static void fish_quoted(FILE *f, const char *before, const char *text)
{
	fputs(before, f);
	fputc('\'', f);
	for (const char *p = text; *p; p++) {
		if (*p == '\'' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('\'', f);
}

static const char *fish_tool;
static const char *fish_path;

static void fish_option(FILE *f, const struct hsm_option *o, void *ud)
{
	char kind[96];

	(void)ud;
	if (o->flags & HSM_OPTF_POSITIONAL)
		return;
	value_kind(o, kind, sizeof(kind));
	fprintf(f, "complete -c %s -n '__hsmadmin_path_is %s' -l %s", fish_tool, fish_path,
		o->name);
	if (o->short_name)
		fprintf(f, " -s %c", o->short_name);
	if (o->type != HSM_OPT_FLAG)
		fputs(" -r", f);
	if (!strncmp(kind, "enum:", 5)) {
		fputs(" -f -a '", f);
		for (const char *p = kind + 5; *p; p++)
			fputc(*p == ',' ? ' ' : *p, f);
		fputc('\'', f);
	} else if (!strcmp(kind, "esn") || !strcmp(kind, "uuid")) {
		fprintf(f, " -f -a '(hsmadmin completion values %s 2>/dev/null)'", kind);
	} else if (o->type != HSM_OPT_FLAG && strcmp(kind, "file") && strcmp(kind, "dir")) {
		fputs(" -f", f); /* a number, a name: nothing to offer */
	}
	if (o->help)
		fish_quoted(f, " -d ", o->help);
	fputc('\n', f);
}

/* Each command: its next word after every proper prefix of its path, and
 * its options once the whole path is typed. */
static void fish_command(FILE *f, const struct hsm_plugin *d, const struct hsm_command *c)
{
	char path[256], prefix[256] = "";
	char *save = NULL, *w;

	fish_tool = c->tool ? c->tool : "hsmadmin";
	/* A tool that is one command (enquiry): no command words to type. */
	snprintf(path, sizeof(path), "%s", strcmp(c->path, fish_tool) ? c->path : "");
	for (w = strtok_r(path, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		fprintf(f, "complete -c %s -f -n '__hsmadmin_path_is %s' -a %s\n", fish_tool,
			prefix[0] ? prefix : "''", w);
		if (prefix[0])
			strncat(prefix, ",", sizeof(prefix) - strlen(prefix) - 1);
		strncat(prefix, w, sizeof(prefix) - strlen(prefix) - 1);
	}
	/* Words are [a-z0-9-]: joined with commas they are one fish word. */
	fish_path = prefix[0] ? prefix : "''";
	each_option(d, c, fish_option, f, NULL);
}

static const char fish_functions[] =
    "# __hsmadmin_path_is WORDS: the command words typed so far (before any\n"
    "# option, not counting the word being completed) are WORDS, comma-joined.\n"
    "function __hsmadmin_path_is\n"
    "    set -l words\n"
    "    for w in (commandline -opc)[2..-1]\n"
    "        string match -q -- '-*' $w; and break\n"
    "        set -a words $w\n"
    "    end\n"
    "    test (string join , $words) = \"$argv[1]\"\n"
    "end\n";

int hsm_completion_fish(FILE *f, struct hsm_registry *reg)
{
	fputs("# fish completion for hsmadmin and its tools, generated by `hsmadmin completion "
	      "fish`\n",
	      f);
	fputs(fish_functions, f);
	each_command(reg, fish_command, f);
	fputs(
	    "complete -c hsmadmin -f -n '__hsmadmin_path_is completion' -a 'bash zsh fish values'\n"
	    "complete -c hsmadmin -f -n '__hsmadmin_path_is completion,values' -a 'esn uuid'\n",
	    f);
	return 0;
}

/* ---- tools that are not plugins: hsmd, hsm-vendor ------------------------ */

/* Their tables as commands and options the generators above walk. */
struct tool_table {
	struct hsm_plugin d; /* only the strides are read */
	struct hsm_command *cmds;
	struct hsm_option **opts;
	size_t n;
};

static void tool_table_free(struct tool_table *t)
{
	for (size_t i = 0; t->opts && i < t->n; i++)
		free(t->opts[i]);
	free(t->opts);
	free(t->cmds);
}

static int tool_table_make(const char *tool, const struct hsm_tool_command *src,
			   struct tool_table *t)
{
	memset(t, 0, sizeof(*t));
	while (src[t->n].path)
		t->n++;
	t->d.option_size = sizeof(struct hsm_option);
	t->d.command_size = sizeof(struct hsm_command);
	t->cmds = calloc(t->n + 1, sizeof(*t->cmds));
	t->opts = calloc(t->n + 1, sizeof(*t->opts));
	if (!t->cmds || !t->opts)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		const struct hsm_tool_option *so = src[i].options;
		size_t k = 0, m = 0;
		struct hsm_option *o;

		while (so && so[k].name)
			k++;
		if (!(o = t->opts[i] = calloc(k + 2, sizeof(*o))))
			return -1;
		for (size_t j = 0; j < k; j++)
			o[m++] = (struct hsm_option){
				.name = so[j].name,
				.type = so[j].takes_value ? HSM_OPT_STRING : HSM_OPT_FLAG,
				.metavar = so[j].kind ? so[j].kind : "VALUE",
			};
		if (src[i].operand)
			o[m++] = (struct hsm_option){ .name = "ARG",
						      .type = HSM_OPT_STRING,
						      .flags = HSM_OPTF_POSITIONAL,
						      .metavar = src[i].operand };
		t->cmds[i] =
		    (struct hsm_command){ .path = src[i].path, .tool = tool, .options = o };
	}
	return 0;
}

/* The table is _TOOL_cmds (a shell name: '-' becomes '_'); _TOOL_complete
 * runs the shared _hsmadmin_complete over it, so hsmadmin's own table,
 * loaded into the same shell, is never replaced. */
static void tool_bash(FILE *f, const char *tool, const struct tool_table *t)
{
	char var[64];

	snprintf(var, sizeof(var), "%s", tool);
	for (char *p = var; *p; p++)
		if (!isalnum((unsigned char)*p))
			*p = '_';
	fprintf(f, "# bash completion for %s, generated by `%s completion bash`\n_%s_cmds=(\n",
		tool, tool, var);
	for (size_t i = 0; i < t->n; i++)
		bash_command(f, &t->d, &t->cmds[i]);
	fputs(")\n", f);
	fputs(bash_functions, f);
	fprintf(f,
		"_%s_complete() {\n"
		"  local -a _hsmadmin_cmds=(\"${_%s_cmds[@]}\")\n"
		"  _hsmadmin_complete \"$@\"\n"
		"}\n"
		"complete -F _%s_complete %s\n",
		var, var, var, tool);
}

int hsm_tool_completion(FILE *f, const char *shell, const char *tool,
			const struct hsm_tool_command *cmds)
{
	struct tool_table t;

	if (strcmp(shell, "bash") && strcmp(shell, "zsh") && strcmp(shell, "fish"))
		return -1;
	if (tool_table_make(tool, cmds, &t) != 0) {
		tool_table_free(&t);
		return -1;
	}
	tool_mode = 1;
	if (!strcmp(shell, "fish")) {
		fprintf(f, "# fish completion for %s, generated by `%s completion fish`\n", tool,
			tool);
		fputs(fish_functions, f);
		for (size_t i = 0; i < t.n; i++)
			fish_command(f, &t.d, &t.cmds[i]);
	} else {
		if (!strcmp(shell, "zsh"))
			fputs("autoload -U +X compinit && compinit -u\n"
			      "autoload -U +X bashcompinit && bashcompinit\n",
			      f);
		tool_bash(f, tool, &t);
	}
	tool_mode = 0;
	tool_table_free(&t);
	return 0;
}

/* ---- values ----------------------------------------------------------- */

static int esn_valid(const char *s)
{
	/* XXXX-XXXX-XXXX, digits and upper-case letters: modules.d's own
	 * rule (hsm_esn_valid), so every ESN the commands accept is offered. */
	if (strlen(s) != 14)
		return 0;
	for (int i = 0; i < 14; i++)
		if (i == 4 || i == 9
			? s[i] != '-'
			: !(isdigit((unsigned char)s[i]) || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

static int uuid_valid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
							    : !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

HSM_API int hsm_completion_esn_line(const char *line, char out[15])
{
	char key[16], val[64];

	if (sscanf(line, " %15[a-z] = %63s", key, val) != 2 || strcmp(key, "esn") != 0 ||
	    !esn_valid(val))
		return 0;
	memcpy(out, val, 15);
	return 1;
}

HSM_API int hsm_completion_uuid_line(const char *line, char out[37])
{
	size_t n = strcspn(line, "\n");

	if (n != 36 || (line[n] && line[n + 1]))
		return 0;
	memcpy(out, line, 36);
	out[36] = '\0';
	return uuid_valid(out);
}

/* "esn = VALUE" lines of the .conf files in modules.d.  Completion only offers words:
 * the files are checked properly by the commands that use them. */
static void values_esn(FILE *out)
{
	char *conf = hsm_path_conf(), *dir = hsm_path_join(conf, "modules.d");
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		char *path, line[256];
		FILE *f;

		if (len > 5 && !strcmp(names[i]->d_name + len - 5, ".conf")) {
			path = hsm_path_join(dir, names[i]->d_name);
			f = fopen(path, "re");
			while (f && fgets(line, sizeof(line), f)) {
				char esn[15];
				if (hsm_completion_esn_line(line, esn))
					fprintf(out, "%s\n", esn);
			}
			if (f)
				fclose(f);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	free(dir);
	free(conf);
}

/* A tenant's enrolled VCMs ($HOME/tenant/vcms/UUID/) and the provider's
 * last `vcmadmin list` ($HOME/cache/vcms, one UUID a line). */
static void values_uuid(FILE *out)
{
	char *home = hsm_path_home(), *dir = hsm_path_join(home, "tenant/vcms");
	char *cache = hsm_path_join(home, "cache/vcms");
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	char line[128];
	FILE *f;

	for (int i = 0; i < n; i++) {
		if (uuid_valid(names[i]->d_name))
			fprintf(out, "%s\n", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	f = fopen(cache, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char uuid[37];
		if (hsm_completion_uuid_line(line, uuid))
			fprintf(out, "%s\n", uuid);
	}
	if (f)
		fclose(f);
	free(cache);
	free(dir);
	free(home);
}

int hsm_completion_values(FILE *out, const char *kind)
{
	if (!strcmp(kind, "esn"))
		values_esn(out);
	else if (!strcmp(kind, "uuid"))
		values_uuid(out);
	else
		return -1;
	return 0;
}
