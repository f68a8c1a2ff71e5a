/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.c - read the plugin configuration.
 *
 * $HSMADMIN_CONF/hsmadmin.conf   [paths] plugindir = DIR
 * $HSMADMIN_CONF/plugins.d/NAME.conf, one per plugin:
 *
 *   [plugin]
 *   name = vcm
 *   file = vcm.so
 *   description = Tenant side of VCMs
 *   requires = vcmadmin, vcmtenant     ; optional: plugins it needs
 *   [commands]
 *   hsmadmin = vcm
 *
 * Keys under [commands] are tool names; values are comma-separated command
 * prefixes.  A prefix already owned by an earlier file (in name order) is
 * a conflict: the later file is skipped and the conflict reported.
 */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/ini-strict.h>
#include <hsmadmin/trust.h>
#include "internal.h"
#include "registry.h"

static void diag(struct hsm_registry *reg, const char *fmt, ...) HSM_PRINTF(2, 3);
static void diag(struct hsm_registry *reg, const char *fmt, ...)
{
	va_list ap;

	if (!reg->diag)
		return;
	fprintf(reg->diag, "%s: ", reg->prog);
	va_start(ap, fmt);
	vfprintf(reg->diag, fmt, ap);
	va_end(ap);
	fputc('\n', reg->diag);
}

HSM_API int hsm_path_has_prefix(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == ' ');
}

/* "a b" with single spaces and [a-z0-9-] words. */
static int valid_path(const char *s)
{
	if (!*s || *s == ' ')
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == ' ') {
			if (p[1] == ' ' || p[1] == '\0')
				return 0;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	}
	return strlen(s) < 64;
}

static int valid_word(const char *s)
{
	return valid_path(s) && !strchr(s, ' ');
}

/* "a, b" (plugin names) -> "a,b". */
static int parse_requires(const char *value, char **out, char *err, size_t errlen)
{
	char *list = malloc(strlen(value) + 1), *w, *save = NULL, *copy = strdup(value);
	size_t n = 0;

	if (!list || !copy) {
		free(list);
		free(copy);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	list[0] = '\0';
	for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		char *end;

		while (*w == ' ' || *w == '\t')
			w++;
		end = w + strlen(w);
		while (end > w && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!valid_word(w)) {
			snprintf(err, errlen, "requires: bad plugin name '%.60s'", w);
			free(list);
			free(copy);
			return -1;
		}
		if (n++)
			strcat(list, ",");
		strcat(list, w);
	}
	free(copy);
	if (n == 0) {
		free(list);
		snprintf(err, errlen, "requires: no plugin named");
		return -1;
	}
	*out = list;
	return 0;
}

/* --- hsmadmin.conf ------------------------------------------------------- */

struct main_conf {
	char *plugindir;
};

/* Unknown sections are refused even when they have no keys. */
static int main_conf_section(void *user, const char *section, char *err, size_t errlen)
{
	(void)user;
	if (strcmp(section, "paths") != 0) {
		snprintf(err, errlen, "unknown section [%s]", section);
		return -1;
	}
	return 0;
}

static int plugin_conf_section(void *user, const char *section, char *err, size_t errlen)
{
	(void)user;
	if (strcmp(section, "plugin") != 0 && strcmp(section, "commands") != 0) {
		snprintf(err, errlen, "unknown section [%s]", section);
		return -1;
	}
	return 0;
}

static int main_conf_pair(void *user, const char *section, const char *name, const char *value,
			  char *err, size_t errlen)
{
	struct main_conf *mc = user;

	if (strcmp(section, "paths") || strcmp(name, "plugindir")) {
		snprintf(err, errlen, "unknown key '%s' in section [%s]", name, section);
		return -1;
	}
	if (mc->plugindir) {
		snprintf(err, errlen, "duplicate key 'plugindir'");
		return -1;
	}
	if (value[0] != '/') {
		snprintf(err, errlen, "plugindir must be an absolute path");
		return -1;
	}
	mc->plugindir = strdup(value);
	return 0;
}

/* --- plugins.d/NAME.conf -------------------------------------------------- */

struct plugin_conf {
	struct hsm_plugin_entry e;
	int seen_name, seen_file, seen_desc, seen_requires;
};

static int add_claims(struct hsm_plugin_entry *e, const char *tool, const char *list, char *err,
		      size_t errlen)
{
	char *copy = strdup(list), *save = NULL, *tok;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t n = strlen(tok);
		while (n && tok[n - 1] == ' ')
			tok[--n] = '\0';
		if (!valid_path(tok)) {
			snprintf(err, errlen, "bad command prefix '%.60s' for tool %s", tok, tool);
			free(copy);
			return -1;
		}
		for (size_t i = 0; i < e->n_claims; i++)
			if (!strcmp(e->claims[i].tool, tool) && !strcmp(e->claims[i].prefix, tok)) {
				snprintf(err, errlen, "command prefix '%s' listed twice for %s",
					 tok, tool);
				free(copy);
				return -1;
			}
		struct hsm_claim *nc = realloc(e->claims, (e->n_claims + 1) * sizeof(*nc));
		if (!nc) {
			free(copy);
			return -1;
		}
		e->claims = nc;
		nc[e->n_claims].tool = strdup(tool);
		nc[e->n_claims].prefix = strdup(tok);
		e->n_claims++;
	}
	free(copy);
	return 0;
}

static int plugin_conf_pair(void *user, const char *section, const char *name, const char *value,
			    char *err, size_t errlen)
{
	struct plugin_conf *pc = user;
	struct hsm_plugin_entry *e = &pc->e;

	if (!strcmp(section, "plugin")) {
		int *seen;
		char **slot;
		if (!strcmp(name, "name")) {
			seen = &pc->seen_name;
			slot = &e->name;
			if (!valid_word(value)) {
				snprintf(err, errlen, "bad plugin name '%.60s'", value);
				return -1;
			}
		} else if (!strcmp(name, "file")) {
			seen = &pc->seen_file;
			slot = &e->file;
			/* A bare file name inside the plugin directory: configuration
			 * cannot point the loader anywhere else. */
			if (!*value || strchr(value, '/') || value[0] == '.') {
				snprintf(err, errlen,
					 "file must be a plain file name in the plugin directory");
				return -1;
			}
		} else if (!strcmp(name, "description")) {
			seen = &pc->seen_desc;
			slot = &e->description;
		} else if (!strcmp(name, "requires")) {
			if (pc->seen_requires++) {
				snprintf(err, errlen, "duplicate key '%s'", name);
				return -1;
			}
			return parse_requires(value, &e->requires, err, errlen);
		} else {
			snprintf(err, errlen, "unknown key '%s' in section [plugin]", name);
			return -1;
		}
		if (*seen) {
			snprintf(err, errlen, "duplicate key '%s'", name);
			return -1;
		}
		*seen = 1;
		*slot = strdup(value);
		return 0;
	}
	if (!strcmp(section, "commands")) {
		if (!valid_word(name)) {
			snprintf(err, errlen, "bad tool name '%s'", name);
			return -1;
		}
		for (size_t i = 0; i < e->n_claims; i++)
			if (!strcmp(e->claims[i].tool, name)) {
				snprintf(err, errlen, "duplicate key '%s'", name);
				return -1;
			}
		return add_claims(e, name, value, err, errlen);
	}
	snprintf(err, errlen, "unknown section [%s]", section);
	return -1;
}

static void entry_free(struct hsm_plugin_entry *e)
{
	free(e->requires);
	free(e->name);
	free(e->file);
	free(e->description);
	free(e->conf_path);
	for (size_t i = 0; i < e->n_claims; i++) {
		free(e->claims[i].tool);
		free(e->claims[i].prefix);
	}
	free(e->claims);
	free(e->cmds);
}

static int conf_file_trusted(struct hsm_registry *reg, int dirfd, const char *name,
			     const char *path)
{
	struct stat st;
	char why[128];

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		diag(reg, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		diag(reg, "%s: not a regular file; skipped", path);
		return 0;
	}
	if (hsm_trust_stat(&st, why, sizeof(why)) != 0) {
		diag(reg, "%s: refused: %s", path, why);
		return 0;
	}
	return 1;
}

/* A prefix claimed twice for one tool: the first file (name order) keeps it. */
static const struct hsm_plugin_entry *claim_conflict(const struct hsm_registry *reg,
						     const struct hsm_plugin_entry *e,
						     const struct hsm_claim **which)
{
	for (size_t c = 0; c < e->n_claims; c++)
		for (size_t i = 0; i < reg->n; i++)
			for (size_t k = 0; k < reg->v[i].n_claims; k++)
				if (!strcmp(reg->v[i].claims[k].tool, e->claims[c].tool) &&
				    !strcmp(reg->v[i].claims[k].prefix, e->claims[c].prefix)) {
					*which = &e->claims[c];
					return &reg->v[i];
				}
	return NULL;
}

int hsm_registry_verbose;

/* Is the plugin's file missing from the plugin directory (not: present but
 * untrusted, which the loader reports when the plugin is used)? */
static int plugin_file_gone(const struct hsm_registry *reg, const char *file)
{
	char *path = hsm_path_join(reg->plugindir, file);
	struct stat st;
	int gone = lstat(path, &st) != 0 && errno == ENOENT;

	free(path);
	return gone;
}

/* What a parsed conf must have besides well-formed lines. */
static int plugin_conf_complete(const struct plugin_conf *pc, char *err, size_t errlen)
{
	if (!pc->seen_name || !pc->seen_file) {
		snprintf(err, errlen, "needs 'name' and 'file' in [plugin]");
		return -1;
	}
	if (pc->e.n_claims == 0) {
		snprintf(err, errlen, "[commands] names no command");
		return -1;
	}
	return 0;
}

HSM_API int hsm_plugin_conf_parse(const char *text, size_t len, struct hsm_plugin_entry *out,
				  char *err, size_t errlen)
{
	struct plugin_conf pc = { 0 };

	if (hsm_ini_parse_sections(text, len, plugin_conf_section, plugin_conf_pair, &pc, err,
				   errlen) != 0 ||
	    plugin_conf_complete(&pc, err, errlen) != 0) {
		entry_free(&pc.e);
		return -1;
	}
	*out = pc.e;
	return 0;
}

HSM_API void hsm_plugin_entry_free(struct hsm_plugin_entry *e)
{
	entry_free(e);
}

static void read_plugin_conf(struct hsm_registry *reg, int dirfd, const char *name)
{
	struct plugin_conf pc = { 0 };
	char *path = hsm_path_join(reg->conf_dir, "plugins.d"), *full;
	char err[512];
	const struct hsm_plugin_entry *other;
	const struct hsm_claim *clash;

	full = hsm_path_join(path, name);
	free(path);
	if (!conf_file_trusted(reg, dirfd, name, full)) {
		free(full);
		return;
	}
	if (hsm_ini_parse_file_sections(full, plugin_conf_section, plugin_conf_pair, &pc, err,
					sizeof(err)) != 0) {
		diag(reg, "%s; plugin configuration skipped", err);
		goto skip;
	}
	if (plugin_conf_complete(&pc, err, sizeof(err)) != 0) {
		diag(reg, "%s: %s; skipped", full, err);
		goto skip;
	}
	if (plugin_file_gone(reg, pc.e.file)) {
		/* Its package was removed and the conf (a conffile) stayed:
		 * not an error, and nothing to show in help or completion. */
		if (hsm_registry_verbose)
			diag(reg, "%s: note: %s is not installed in %s; plugin %s skipped", full,
			     pc.e.file, reg->plugindir, pc.e.name);
		goto skip;
	}
	for (size_t i = 0; i < reg->n; i++)
		if (!strcmp(reg->v[i].name, pc.e.name)) {
			diag(reg, "%s: plugin name '%s' already configured by %s; skipped", full,
			     pc.e.name, reg->v[i].conf_path);
			goto skip;
		}
	if ((other = claim_conflict(reg, &pc.e, &clash))) {
		diag(reg,
		     "%s: duplicate command path: '%s' for %s is already owned by plugin %s (%s); "
		     "plugin %s skipped",
		     full, clash->prefix, clash->tool, other->name, other->conf_path, pc.e.name);
		goto skip;
	}
	struct hsm_plugin_entry *nv = realloc(reg->v, (reg->n + 1) * sizeof(*nv));
	if (!nv)
		goto skip;
	reg->v = nv;
	pc.e.conf_path = full;
	reg->v[reg->n++] = pc.e;
	return;
skip:
	entry_free(&pc.e);
	free(full);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* plugins.d/NAME.conf in name order, so conflicts resolve the same way on
 * every machine. */
static void read_plugins_d(struct hsm_registry *reg)
{
	char *dirpath = hsm_path_join(reg->conf_dir, "plugins.d");
	char **names = NULL, err[512];
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int dirfd = hsm_trust_open(dirpath, 1, err, sizeof(err));

	if (dirfd < 0) {
		if (dirfd != HSM_TRUST_ABSENT)
			diag(reg, "%s; no plugin is configured from it", err);
		free(dirpath);
		return;
	}
	d = fdopendir(dup(dirfd));
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".conf"))
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn)
			break;
		names = nn;
		names[n++] = strdup(de->d_name);
	}
	if (d)
		closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		read_plugin_conf(reg, dirfd, names[i]);
		free(names[i]);
	}
	free(names);
	close(dirfd);
	free(dirpath);
}

HSM_API int hsm_registry_open(struct hsm_registry *reg, const char *conf_dir, const char *prog,
			      FILE *f)
{
	struct main_conf mc = { 0 };
	char *main_path, *text, err[512];
	size_t len;
	int rc;

	memset(reg, 0, sizeof(*reg));
	reg->diag = f;
	reg->prog = prog;
	reg->conf_dir = strdup(conf_dir);
	/* The configuration directory decides which code runs: if others may
	 * write to it, nothing in it is trusted. */
	if (hsm_trust_dir(conf_dir, err, sizeof(err)) == -1) {
		diag(reg, "%s; no configuration or plugin is read from it", err);
		reg->plugindir = strdup(HSMADMIN_PLUGINDIR);
		return 0;
	}
	main_path = hsm_path_join(conf_dir, "hsmadmin.conf");
	rc = hsm_trust_read_file(main_path, HSM_INI_MAX_FILE, &text, &len, err, sizeof(err));
	if (rc == -1)
		diag(reg, "%s; using built-in defaults", err);
	else if (rc == 0 && hsm_ini_parse_sections(text, len, main_conf_section, main_conf_pair,
						   &mc, err, sizeof(err)) != 0) {
		diag(reg, "%s: %s; using built-in defaults", main_path, err);
		free(mc.plugindir);
		mc.plugindir = NULL;
	}
	if (rc == 0)
		free(text);
	free(main_path);
	reg->plugindir = mc.plugindir ? mc.plugindir : strdup(HSMADMIN_PLUGINDIR);
	read_plugins_d(reg);
	return 0;
}

HSM_API void hsm_registry_close(struct hsm_registry *reg)
{
	for (size_t i = 0; i < reg->n; i++) {
		struct hsm_plugin_entry *e = &reg->v[i];
		if (e->state == 1 && e->desc->fini)
			e->desc->fini();
		if (e->handle)
			close(e->fd);
		/* Not dlclose'd: a plugin's atexit handlers or thread-locals may
		 * still point into it, and the process is about to exit. */
		entry_free(e);
	}
	free(reg->v);
	free(reg->conf_dir);
	free(reg->plugindir);
	memset(reg, 0, sizeof(*reg));
}

HSM_API struct hsm_plugin_entry *hsm_registry_owner(struct hsm_registry *reg, const char *tool,
						    char *const *words, size_t n, size_t *matched)
{
	struct hsm_plugin_entry *best = NULL;
	size_t best_words = 0;

	for (size_t i = 0; i < reg->n; i++)
		for (size_t k = 0; k < reg->v[i].n_claims; k++) {
			const struct hsm_claim *c = &reg->v[i].claims[k];
			if (strcmp(c->tool, tool))
				continue;
			/* Match the claim's words against the leading argv words. */
			const char *p = c->prefix;
			size_t w = 0;
			while (w < n) {
				size_t len = strlen(words[w]);
				if (strncmp(p, words[w], len) || (p[len] != ' ' && p[len] != '\0'))
					break;
				w++;
				p += len;
				if (*p == '\0')
					break;
				p++;
			}
			if (*p == '\0' && w > best_words) {
				best = &reg->v[i];
				best_words = w;
			}
		}
	*matched = best_words;
	return best;
}
