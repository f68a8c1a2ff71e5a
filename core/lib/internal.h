/* SPDX-License-Identifier: Apache-2.0 */
/*
 * internal.h - what the pieces of libhsmadmin share and nobody else sees.
 */
#ifndef HSMADMIN_INTERNAL_H
#define HSMADMIN_INTERNAL_H

#include <stddef.h>
#include <jansson.h>
#include <hsmadmin/plugin.h>
#include "options.h"
#include "registry.h"

struct hsm_ctx {
	const char *tool; /* "hsmadmin" */
	const char *path; /* "vcm create" */
	const struct hsm_command *cmd;
	const struct hsm_plugin_entry *plugin;
	char *home, *conf;
	int json, verbose, quiet, timeout;
	struct hsm_parsed parsed;
	json_t *doc; /* the --json document, created on demand */
	int errored; /* hsm_error was called */
	/* The progress line (output.c): when the wait began (monotonic ms,
	 * 0: none) and whether the line is on the terminal now. */
	long long progress_since;
	int progress_shown;
};

/* paths.c */
char *hsm_path_home(void);
char *hsm_path_conf(void);
char *hsm_path_join(const char *a, const char *b);

/* The common options every command accepts; device commands add --esn and
 * --timeout.  A flag the command declares itself (its own --quiet) is left
 * out.  Returned as pointers for hsm_opts_parse. */
#define HSM_COMMON_OPTIONS_MAX 5
size_t hsm_common_options(const struct hsm_plugin *d, const struct hsm_command *c,
			  const struct hsm_option **out, size_t max);

/* help.c */
void hsm_help_tool(FILE *f, const char *tool, const struct hsm_registry *reg);
void hsm_help_group(FILE *f, const char *tool, const char *prefix, const struct hsm_registry *reg);
void hsm_help_command(FILE *f, const char *tool, const struct hsm_plugin_entry *e,
		      const struct hsm_command *cmd, const struct hsm_option *const *specs,
		      size_t n);
void hsm_usage_line(FILE *f, const char *tool, const struct hsm_command *cmd,
		    const struct hsm_option *const *specs, size_t n);

/* completion.c */
int hsm_completion_bash(FILE *f, struct hsm_registry *reg);
int hsm_completion_zsh(FILE *f, struct hsm_registry *reg);
int hsm_completion_fish(FILE *f, struct hsm_registry *reg);
/* KIND "esn" or "uuid": the values known on this host, one a line; -1 for
 * another KIND. */
int hsm_completion_values(FILE *out, const char *kind);
/* The value readers behind it (exposed for the fuzz target): one line of a
 * modules.d file, 1 when it is "esn = ESN" (out: the ESN); one line of
 * cache/vcms, 1 when it is a UUID and nothing else (out: the UUID). */
HSM_API int hsm_completion_esn_line(const char *line, char out[15]);
HSM_API int hsm_completion_uuid_line(const char *line, char out[37]);

/* output.c */
int hsm_finish_output(struct hsm_ctx *ctx, int rc);
/* Erase the progress line, if shown, before other output. */
void hsm_progress_clear(struct hsm_ctx *ctx);

#endif
