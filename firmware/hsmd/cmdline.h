/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmdline.h - the command line of every hsmd command (provision, run,
 * simulate, fail, button, vcm): each lists its options in a table and says
 * where their values go; the parser does --help, unknown options, stray
 * arguments and required options the same way for all of them.
 */
#ifndef HD_CMDLINE_H
#define HD_CMDLINE_H

#include <stddef.h>
#include <hsmadmin/plugin.h> /* HSM_PRINTF */

/* One option: exactly one of str (its value), flag (set to 1; the option
 * takes no value) or take (checks and stores the value; returns 0, or the
 * exit status after reporting with hd_usage).  required: the option
 * must be given, named so in the error ("--state DIR"). */
struct hd_opt {
	const char *name;
	const char **str;
	int *flag;
	int (*take)(const char *cmd, const char *arg, void *data);
	void *data;
	const char *required;
};

/* Parse argv (argv[0] is the command) against opts, n entries, and
 * --help/-h, which calls help.  No operands are accepted.  Returns -1 to go
 * on, 0 after --help, 2 after a usage error (reported). */
int hd_cmdline_parse(const char *cmd, int argc, char **argv, const struct hd_opt *opts, size_t n,
		     void (*help)(void));

/* "hsmd: CMD: <message>" and a pointer to --help on stderr; returns 2. */
int hd_usage(const char *cmd, const char *fmt, ...) HSM_PRINTF(2, 3);

#define HD_NOPTS(a) (sizeof(a) / sizeof((a)[0]))

/* `hsmd completion`: while hd_cmdline_sink is set, hd_cmdline_parse copies
 * the command's option names (and whether each takes a value) into it and
 * returns 0 without parsing, so that shell completion is made from the
 * very tables the commands parse with. */
#define HD_CMDLINE_OPTS_MAX 24
struct hd_cmdline_sink {
	const char *names[HD_CMDLINE_OPTS_MAX];
	int takes_value[HD_CMDLINE_OPTS_MAX];
	size_t n;
};
extern struct hd_cmdline_sink *hd_cmdline_sink;

#endif
