/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options.h - the command-line parser.  Plugins declare options; only the
 * core parses argv, so every command of every tool behaves the same.
 */
#ifndef HSMADMIN_OPTIONS_H
#define HSMADMIN_OPTIONS_H

#include <stddef.h>
#include <hsmadmin/plugin.h>

struct hsm_optval {
	const struct hsm_option *opt;
	size_t count;
	const char **vals; /* count strings, pointing into argv */
};

struct hsm_parsed {
	size_t n;
	struct hsm_optval *v; /* one per spec, same order */
	int help;             /* -h/--help was given */
};

/* Parse argv[0..argc) against specs (an array of n pointers).  Returns 0,
 * or -1 with a one-line reason in err (a usage error). */
HSM_API int hsm_opts_parse(const struct hsm_option *const *specs, size_t n, int argc, char **argv,
			   struct hsm_parsed *out, char *err, size_t errlen);
HSM_API void hsm_opts_free(struct hsm_parsed *p);

/* Look-ups by name; NULL/0 when unknown or absent. */
HSM_API const struct hsm_optval *hsm_opts_find(const struct hsm_parsed *p, const char *name);

/* Check one option declaration (used by the loader on plugin tables).
 * Returns 0 or -1 with a reason. */
HSM_API int hsm_opt_validate(const struct hsm_option *o, char *err, size_t errlen);

/* Strict decimal integer: optional '-', digits only, no overflow. */
HSM_API int hsm_parse_int64(const char *s, int64_t *out);

#endif
