/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader.c - open one plugin safely and check its descriptor.
 *
 * Order matters: trust is checked on file descriptors (the directory opened
 * O_NOFOLLOW, the file fstat'ed after openat O_NOFOLLOW) and the very file
 * that was checked is what dlopen maps (/proc/self/fd/N), so nothing can be
 * swapped in between.  Then the descriptor's ABI header is read before any
 * other field.  Any refusal disables only this plugin's commands.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/trust.h>
#include "internal.h"
#include "registry.h"

/* The smallest descriptor and tables this core can use (ABI 1.0). */
#define MIN_PLUGIN_SIZE (offsetof(struct hsm_plugin, fini) + sizeof(void (*)(void)))
#define MIN_COMMAND_SIZE (offsetof(struct hsm_command, run) + sizeof(int (*)(struct hsm_ctx *)))
#define MIN_OPTION_SIZE (offsetof(struct hsm_option, help) + sizeof(const char *))
#define MAX_COMMANDS 512
#define MAX_OPTIONS 64

static int refuse(struct hsm_registry *reg, struct hsm_plugin_entry *e, const char *path,
		  const char *fmt, ...) HSM_PRINTF(4, 5);
static int refuse(struct hsm_registry *reg, struct hsm_plugin_entry *e, const char *path,
		  const char *fmt, ...)
{
	va_list ap;

	e->state = -1;
	if (reg->diag) {
		fprintf(reg->diag, "%s: plugin %s (%s): %s: ", reg->prog, e->name, e->conf_path,
			path);
		va_start(ap, fmt);
		vfprintf(reg->diag, fmt, ap);
		va_end(ap);
		fputc('\n', reg->diag);
	}
	return -1;
}

/* A plugin that needs another (requires = in its conf) is not loaded
 * without it: its commands would fail half-way (vcm single-setup runs
 * vcmadmin).  The other is there when its conf is (the registry already
 * dropped confs whose file is gone). */
static int missing_requirement(struct hsm_registry *reg, struct hsm_plugin_entry *e,
			       const char *path)
{
	const char *p = e->requires;

	while (p && *p) {
		size_t len = strcspn(p, ",");
		int found = 0;

		for (size_t i = 0; i < reg->n && !found; i++)
			found = strlen(reg->v[i].name) == len && !strncmp(reg->v[i].name, p, len);
		if (!found)
			return refuse(reg, e, path, "needs the %.*s plugin, which is not installed",
				      (int)len, p);
		p += len + (p[len] == ',');
	}
	return 0;
}

/* Open the plugin file; on success returns an fd whose file passed the
 * ownership and mode checks, as did its directory. */
static int open_trusted(struct hsm_registry *reg, struct hsm_plugin_entry *e, const char *path)
{
	struct stat st;
	char why[128];
	int dirfd, fd;

	dirfd = open(reg->plugindir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return refuse(reg, e, path, "cannot open plugin directory %s: %s", reg->plugindir,
			      strerror(errno));
	if (fstat(dirfd, &st) != 0 || hsm_trust_stat(&st, why, sizeof(why)) != 0) {
		close(dirfd);
		return refuse(reg, e, path, "plugin directory %s refused: %s", reg->plugindir, why);
	}
	fd = openat(dirfd, e->file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dirfd);
	if (fd < 0)
		return refuse(reg, e, path, "cannot open: %s%s", strerror(errno),
			      errno == ELOOP ? " (symbolic links are not followed)" : "");
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return refuse(reg, e, path, "not a regular file");
	}
	if (hsm_trust_stat(&st, why, sizeof(why)) != 0) {
		close(fd);
		return refuse(reg, e, path, "refused: %s", why);
	}
	return fd;
}

static int check_options(const struct hsm_plugin *d, const struct hsm_command *c, char *why,
			 size_t whylen)
{
	const char *base = (const char *)c->options;
	int optional_seen = 0;

	for (size_t i = 0; base; i++) {
		const struct hsm_option *o = (const struct hsm_option *)(base + i * d->option_size);
		char inner[160];
		if (!o->name)
			return 0;
		if (i >= MAX_OPTIONS) {
			snprintf(why, whylen, "command '%s' has more than %d options", c->path,
				 MAX_OPTIONS);
			return -1;
		}
		if (hsm_opt_validate(o, inner, sizeof(inner)) != 0) {
			snprintf(why, whylen, "command '%s': %s", c->path, inner);
			return -1;
		}
		if (!strcmp(o->name, "json") || !strcmp(o->name, "verbose") ||
		    !strcmp(o->name, "help") ||
		    (((c->flags & HSM_CMDF_DEVICE)) &&
		     (!strcmp(o->name, "esn") || !strcmp(o->name, "timeout")))) {
			snprintf(why, whylen, "command '%s' redefines the common option --%s",
				 c->path, o->name);
			return -1;
		}
		if (o->short_name == 'h') {
			snprintf(why, whylen, "command '%s': option --%s takes -h, which is --help",
				 c->path, o->name);
			return -1;
		}
		if (o->flags & HSM_OPTF_POSITIONAL) {
			if (optional_seen && (o->flags & HSM_OPTF_REQUIRED)) {
				snprintf(why, whylen,
					 "command '%s': required operand %s after an optional one",
					 c->path, o->name);
				return -1;
			}
			if (!(o->flags & HSM_OPTF_REQUIRED))
				optional_seen = 1;
		}
		for (size_t j = 0; j < i; j++) {
			const struct hsm_option *p =
			    (const struct hsm_option *)(base + j * d->option_size);
			if (!strcmp(p->name, o->name) ||
			    (o->short_name && p->short_name == o->short_name)) {
				snprintf(why, whylen, "command '%s' declares option --%s twice",
					 c->path, o->name);
				return -1;
			}
		}
	}
	return 0;
}

/* Walk the command table with the plugin's own stride and check every entry
 * before any of it is used. */
static int collect_commands(struct hsm_plugin_entry *e, char *why, size_t whylen)
{
	const struct hsm_plugin *d = e->desc;
	const char *base = (const char *)d->commands;

	if (!base) {
		snprintf(why, whylen, "descriptor has no command table");
		return -1;
	}
	for (size_t i = 0;; i++) {
		const struct hsm_command *c =
		    (const struct hsm_command *)(base + i * d->command_size);
		const char *tool;
		int claimed = 0;

		if (!c->path)
			break;
		if (i >= MAX_COMMANDS) {
			snprintf(why, whylen, "more than %d commands", MAX_COMMANDS);
			return -1;
		}
		tool = c->tool ? c->tool : "hsmadmin";
		if (!c->run || !c->summary) {
			snprintf(why, whylen, "command '%s' lacks %s", c->path,
				 c->run ? "a summary" : "a run function");
			return -1;
		}
		for (size_t k = 0; k < e->n_claims; k++)
			if (!strcmp(e->claims[k].tool, tool) &&
			    hsm_path_has_prefix(c->path, e->claims[k].prefix))
				claimed = 1;
		if (!claimed) {
			snprintf(why, whylen,
				 "command '%s' for %s is outside the prefixes %s gives it", c->path,
				 tool, e->conf_path);
			return -1;
		}
		for (size_t k = 0; k < e->n_cmds; k++) {
			const struct hsm_command *o = e->cmds[k];
			if (!strcmp(o->path, c->path) &&
			    !strcmp(o->tool ? o->tool : "hsmadmin", tool)) {
				snprintf(why, whylen, "duplicate command path '%s' for %s", c->path,
					 tool);
				return -1;
			}
		}
		if (check_options(d, c, why, whylen) != 0)
			return -1;
		const struct hsm_command **nc = realloc(e->cmds, (e->n_cmds + 1) * sizeof(*nc));
		if (!nc) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		e->cmds = nc;
		e->cmds[e->n_cmds++] = c;
	}
	return 0;
}

static int check_descriptor(struct hsm_registry *reg, struct hsm_plugin_entry *e, const char *path,
			    const struct hsm_plugin *d)
{
	char why[256];

	if (d->abi_major != HSMADMIN_PLUGIN_ABI_MAJOR)
		return refuse(reg, e, path,
			      "plugin ABI %u.%u, this hsmadmin speaks %d.%d; rebuild the plugin "
			      "against hsmadmin-plugin %d.x",
			      d->abi_major, d->abi_minor, HSMADMIN_PLUGIN_ABI_MAJOR,
			      HSMADMIN_PLUGIN_ABI_MINOR, HSMADMIN_PLUGIN_ABI_MAJOR);
	/* Read nothing past the header until size says the fields exist. */
	if (d->size < MIN_PLUGIN_SIZE)
		return refuse(reg, e, path,
			      "descriptor too small (%u bytes, this hsmadmin needs at least %zu)",
			      d->size, MIN_PLUGIN_SIZE);
	if (d->command_size < MIN_COMMAND_SIZE || d->option_size < MIN_OPTION_SIZE)
		return refuse(reg, e, path,
			      "descriptor tables too small (command %u, option %u bytes; need at "
			      "least %zu, %zu)",
			      d->command_size, d->option_size, MIN_COMMAND_SIZE, MIN_OPTION_SIZE);
	if (!d->name || strcmp(d->name, e->name))
		return refuse(reg, e, path, "descriptor names plugin '%s' but %s configures '%s'",
			      d->name ? d->name : "(null)", e->conf_path, e->name);
	if (collect_commands(e, why, sizeof(why)) != 0)
		return refuse(reg, e, path, "%s", why);
	return 0;
}

HSM_API int hsm_registry_load(struct hsm_registry *reg, struct hsm_plugin_entry *e)
{
	char *path, fdpath[64], why[256] = "";
	const struct hsm_plugin *d;
	void *h;
	int fd;

	if (e->state)
		return e->state == 1 ? 0 : -1;
	path = hsm_path_join(reg->plugindir, e->file);
	if (missing_requirement(reg, e, path) != 0) {
		free(path);
		return -1;
	}
	fd = open_trusted(reg, e, path);
	if (fd < 0) {
		free(path);
		return -1;
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	/* glibc recognises an already-loaded object by its name: closing fd now
	 * would let the next plugin reuse the same /proc/self/fd/N name and get
	 * this plugin back.  The fd stays open as long as the plugin is loaded. */
	h = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		close(fd);
		const char *msg = dlerror();
		refuse(reg, e, path, "cannot load: %s", msg ? msg : "unknown dlopen error");
		free(path);
		return -1;
	}
	/* From here on even a refused plugin stays mapped, and so keeps its fd. */
	e->handle = h;
	e->fd = fd;
	d = dlsym(h, HSMADMIN_PLUGIN_SYMBOL);
	if (!d) {
		refuse(reg, e, path, "no '%s' symbol: not an hsmadmin plugin",
		       HSMADMIN_PLUGIN_SYMBOL);
		free(path);
		return -1;
	}
	e->desc = d;
	if (check_descriptor(reg, e, path, d) != 0) {
		e->desc = NULL;
		free(path);
		return -1;
	}
	if (d->init && d->init(why, sizeof(why)) != 0) {
		e->desc = NULL;
		refuse(reg, e, path, "initialisation failed: %s", why[0] ? why : "no reason given");
		free(path);
		return -1;
	}
	e->state = 1;
	free(path);
	return 0;
}
