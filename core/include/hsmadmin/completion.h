/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmadmin/completion.h - shell completion for programs built on
 * libhsmadmin that are not made of plugins (hsmd, hsm-vendor): their
 * script is generated from their own option tables by the generator of
 * `hsmadmin completion`, so that every tool completes alike in bash, zsh
 * and fish.  (Plugins need none of this: the core completes their
 * commands from their descriptors.)
 */
#ifndef HSMADMIN_COMPLETION_H
#define HSMADMIN_COMPLETION_H

#include <stdio.h>
#include <hsmadmin/plugin.h> /* HSM_API */

/* One option of a subcommand.  kind says what its value is, written as
 * a plugin's metavar is (docs/plugin-guide.md): "FILE" (or any name ending
 * in FILE), "DIR", "ESN", "UUID", or words "a|b|c"; NULL offers nothing. */
struct hsm_tool_option {
	const char *name; /* long name without "--"; NULL ends a table */
	int takes_value;
	const char *kind;
};

struct hsm_tool_command {
	const char *path; /* the subcommand ("provision"); NULL ends a table */
	const struct hsm_tool_option *options;
	const char *operand; /* the kind of its operand, as above, or NULL */
};

/* Print tool's completion script for shell ("bash", "zsh" or "fish") to
 * f.  Returns 0, or -1 for an unknown shell or when out of memory. */
HSM_API int hsm_tool_completion(FILE *f, const char *shell, const char *tool,
				const struct hsm_tool_command *cmds);

#endif /* HSMADMIN_COMPLETION_H */
