/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.h - which plugins exist (plugins.d/NAME.conf), which command
 * prefixes each owns for which tool, and the loaded descriptors.
 *
 * Reading the registry opens no shared object: only the plugin that owns
 * the invoked command is loaded (hsm_registry_load).
 */
#ifndef HSMADMIN_REGISTRY_H
#define HSMADMIN_REGISTRY_H

#include <stddef.h>
#include <stdio.h>
#include <hsmadmin/plugin.h>

struct hsm_claim {
	char *tool;   /* "hsmadmin" */
	char *prefix; /* "vcm" or "logs export" */
};

struct hsm_plugin_entry {
	char *name, *file, *description;
	char *requires; /* "a,b": plugins this one needs (requires =), or NULL */
	char *conf_path;
	struct hsm_claim *claims;
	size_t n_claims;
	/* Set by hsm_registry_load. */
	int state; /* 0 not tried, 1 loaded, -1 refused */
	void *handle;
	int fd; /* kept open while loaded: see loader.c */
	const struct hsm_plugin *desc;
	const struct hsm_command **cmds; /* commands of desc, by pointer (stride-safe) */
	size_t n_cmds;
};

/* Parse one plugins.d file held in memory (the rules of read_plugins_d
 * for one file, without the file system): 0 with out filled (free it with
 * hsm_plugin_entry_free), or -1 with a one-line reason.  For the fuzz
 * target. */
HSM_API int hsm_plugin_conf_parse(const char *text, size_t len, struct hsm_plugin_entry *out,
				  char *err, size_t errlen);
HSM_API void hsm_plugin_entry_free(struct hsm_plugin_entry *e);

struct hsm_registry {
	char *conf_dir;
	char *plugindir;
	struct hsm_plugin_entry *v;
	size_t n;
	FILE *diag;       /* where refusals are reported (stderr) */
	const char *prog; /* prefix for diagnostics ("hsmadmin") */
};

/* Read hsmadmin.conf and plugins.d/NAME.conf.  Bad files are reported and
 * skipped; returns -1 only when the configuration directory is unusable. */
/* Set before hsm_registry_open (by --verbose) to note each plugins.d
 * entry skipped because its plugin file is not installed. */
extern int hsm_registry_verbose;
HSM_API int hsm_registry_open(struct hsm_registry *reg, const char *conf_dir, const char *prog,
			      FILE *diag);
HSM_API void hsm_registry_close(struct hsm_registry *reg);

/* The entry owning the longest claimed prefix of words[0..n) for tool, and
 * how many words that prefix has; NULL when none. */
HSM_API struct hsm_plugin_entry *hsm_registry_owner(struct hsm_registry *reg, const char *tool,
						    char *const *words, size_t n, size_t *matched);

/* Load (once) and check a plugin; returns 0, or -1 after reporting why. */
HSM_API int hsm_registry_load(struct hsm_registry *reg, struct hsm_plugin_entry *e);

/* Does path start with the words of prefix? */
HSM_API int hsm_path_has_prefix(const char *path, const char *prefix);

#endif
