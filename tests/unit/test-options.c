/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the option parser (core/lib/options.c). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"
#include "tap.h"

static const struct hsm_option o_name = {
	.name = "name", .short_name = 'n', .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED
};
static const struct hsm_option o_count = {
	.name = "count", .type = HSM_OPT_INT, .min = 3, .max = 120, .defval = "30"
};
static const struct hsm_option o_esn = { .name = "esn",
					 .type = HSM_OPT_STRING,
					 .flags = HSM_OPTF_REPEATABLE };
static const struct hsm_option o_a = { .name = "autostart", .type = HSM_OPT_FLAG, .group = 1 };
static const struct hsm_option o_r = { .name = "restrict-startup",
				       .type = HSM_OPT_FLAG,
				       .group = 1 };
static const struct hsm_option o_file = { .name = "file",
					  .type = HSM_OPT_STRING,
					  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
					  .metavar = "FILE" };
static const struct hsm_option *const specs[] = { &o_name, &o_count, &o_esn, &o_a, &o_r, &o_file };
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static char err[256];

/* Parse a NULL-terminated list; returns rc and leaves p filled. */
static int parse(struct hsm_parsed *p, const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	err[0] = '\0';
	return hsm_opts_parse(specs, NSPECS, argc, argv, p, err, sizeof(err));
}

static const char *val(const struct hsm_parsed *p, const char *name, size_t i)
{
	const struct hsm_optval *v = hsm_opts_find(p, name);
	return v && i < v->count ? v->vals[i] : NULL;
}

int main(void)
{
	struct hsm_parsed p;
	int64_t n;

	tap_ok(parse(&p, "--name", "x", "f", NULL) == 0, "long option with separate value");
	TAP_STR_EQ(val(&p, "name", 0), "x", "value stored");
	TAP_STR_EQ(val(&p, "file", 0), "f", "operand stored");
	hsm_opts_free(&p);

	tap_ok(parse(&p, "--name=y", "-nz", "f", NULL) != 0, "string option twice is refused");
	TAP_STR_EQ(err, "--name given more than once", "error names the repeated option");
	hsm_opts_free(&p);

	tap_ok(parse(&p, "-n", "a", "--count=120", "f", NULL) == 0, "short option and --opt=value");
	TAP_STR_EQ(val(&p, "count", 0), "120", "int at the top of its range");
	hsm_opts_free(&p);

	tap_ok(parse(&p, "-n", "a", "--count", "121", "f", NULL) != 0, "int above range refused");
	TAP_STR_EQ(err, "--count: 121 is out of range (3..120)", "range error text");
	hsm_opts_free(&p);
	tap_ok(parse(&p, "-n", "a", "--count", "2", "f", NULL) != 0, "int below range refused");
	hsm_opts_free(&p);
	tap_ok(parse(&p, "-n", "a", "--count", "3x", "f", NULL) != 0, "int with junk refused");
	TAP_STR_EQ(err, "--count: '3x' is not an integer", "junk error text");
	hsm_opts_free(&p);
	tap_ok(parse(&p, "-n", "a", "--count", "99999999999999999999", "f", NULL) != 0,
	       "overflowing int refused");
	hsm_opts_free(&p);
	tap_ok(parse(&p, "-n", "a", "--count", " 5", "f", NULL) != 0,
	       "int with leading blank refused");
	hsm_opts_free(&p);

	tap_ok(parse(&p, "-n", "a", "--esn", "1", "--esn", "2", "--esn=3", "f", NULL) == 0,
	       "repeatable option");
	TAP_INT_EQ(hsm_opts_find(&p, "esn")->count, 3, "three values kept");
	TAP_STR_EQ(val(&p, "esn", 2), "3", "in order");
	hsm_opts_free(&p);

	tap_ok(parse(&p, "-n", "a", "--autostart", "--restrict-startup", "f", NULL) != 0,
	       "exclusive group refused");
	TAP_STR_EQ(err, "--autostart and --restrict-startup cannot be used together",
		   "group error text");
	hsm_opts_free(&p);

	tap_ok(parse(&p, "f", NULL) != 0, "missing required option");
	TAP_STR_EQ(err, "missing required option --name", "required error text");
	hsm_opts_free(&p);
	tap_ok(parse(&p, "-n", "a", NULL) != 0, "missing operand");
	TAP_STR_EQ(err, "missing operand FILE", "operand error text");
	hsm_opts_free(&p);
	tap_ok(parse(&p, "-n", "a", "f", "g", NULL) != 0, "extra operand refused");
	TAP_STR_EQ(err, "unexpected argument 'g'", "extra operand error text");
	hsm_opts_free(&p);

	tap_ok(parse(&p, "-n", "a", "--bogus", "f", NULL) != 0, "unknown long option");
	TAP_STR_EQ(err, "unknown option '--bogus'", "unknown option text");
	hsm_opts_free(&p);
	tap_ok(parse(&p, "-x", NULL) != 0, "unknown short option");
	hsm_opts_free(&p);
	tap_ok(parse(&p, "-n", "a", "--autostart=yes", "f", NULL) != 0,
	       "flag with a value refused");
	hsm_opts_free(&p);
	tap_ok(parse(&p, "-n", NULL) != 0, "option without its value");
	TAP_STR_EQ(err, "-n (--name) needs a value", "missing value text");
	hsm_opts_free(&p);

	tap_ok(parse(&p, "-n", "a", "--", "-f", NULL) == 0, "-- ends options");
	TAP_STR_EQ(val(&p, "file", 0), "-f", "dash operand after --");
	hsm_opts_free(&p);

	tap_ok(parse(&p, "--help", NULL) == 0, "--help wins over missing required");
	tap_ok(p.help == 1, "help flag set");
	hsm_opts_free(&p);

	tap_ok(hsm_parse_int64("-12", &n) == 0 && n == -12, "negative int");
	tap_ok(hsm_parse_int64("", &n) != 0, "empty int refused");
	tap_ok(hsm_parse_int64("-", &n) != 0, "lone minus refused");
	tap_ok(hsm_parse_int64("+1", &n) != 0, "plus sign refused");

	struct hsm_option bad = { .name = "Bad Name", .type = HSM_OPT_FLAG };
	tap_ok(hsm_opt_validate(&bad, err, sizeof(err)) != 0, "option name with a space refused");
	struct hsm_option range = { .name = "r", .type = HSM_OPT_INT, .min = 5, .max = 1 };
	tap_ok(hsm_opt_validate(&range, err, sizeof(err)) != 0, "min > max refused");
	struct hsm_option def = {
		.name = "d", .type = HSM_OPT_INT, .min = 1, .max = 2, .defval = "3"
	};
	tap_ok(hsm_opt_validate(&def, err, sizeof(err)) != 0, "default outside range refused");
	struct hsm_option posflag = { .name = "p",
				      .type = HSM_OPT_FLAG,
				      .flags = HSM_OPTF_POSITIONAL };
	tap_ok(hsm_opt_validate(&posflag, err, sizeof(err)) != 0, "positional flag refused");
	return tap_done();
}
