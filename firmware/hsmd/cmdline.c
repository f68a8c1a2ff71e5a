/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmdline.c - one option parser for the hsmd commands (cmdline.h).
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "cmdline.h"

#define OPTS_MAX 16

struct hd_cmdline_sink *hd_cmdline_sink;

int hd_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hsmd: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see hsmd %s --help)\n", cmd);
	return 2;
}

int hd_cmdline_parse(const char *cmd, int argc, char **argv, const struct hd_opt *opts, size_t n,
		     void (*help)(void))
{
	struct option lo[OPTS_MAX + 2];
	int c, rc;

	if (n > OPTS_MAX)
		return hd_usage(cmd, "internal error: more than %d options", OPTS_MAX);
	if (hd_cmdline_sink) {
		for (size_t i = 0; i < n && i < HD_CMDLINE_OPTS_MAX; i++) {
			hd_cmdline_sink->names[i] = opts[i].name;
			hd_cmdline_sink->takes_value[i] = !opts[i].flag;
		}
		hd_cmdline_sink->n = n < HD_CMDLINE_OPTS_MAX ? n : HD_CMDLINE_OPTS_MAX;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		lo[i] =
		    (struct option){ opts[i].name, opts[i].flag ? no_argument : required_argument,
				     NULL, (int)i + 1 };
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
	/* Our errors are one line each; the parser may run more than once
	 * in one process (tests), so start afresh. */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		const struct hd_opt *o = c >= 1 && c <= (int)n ? &opts[c - 1] : NULL;

		if (c == 'h') {
			help();
			return 0;
		}
		if (!o)
			return hd_usage(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
		if (o->flag)
			*o->flag = 1;
		else if (o->str)
			*o->str = optarg;
		else if ((rc = o->take(cmd, optarg, o->data)) != 0)
			return rc;
	}
	if (optind < argc)
		return hd_usage(cmd, "unexpected argument '%s'", argv[optind]);
	for (size_t i = 0; i < n; i++)
		if (opts[i].required && opts[i].str && !*opts[i].str)
			return hd_usage(cmd, "%s is required", opts[i].required);
	return -1;
}
