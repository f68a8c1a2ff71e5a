/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options.c - parse argv against declared options.
 *
 * Accepted forms: --name, --name VALUE, --name=VALUE, -x, -x VALUE,
 * -xVALUE, "--" to end options, and operands (positionals) anywhere.
 * Every refusal is one line that names the option and what was wrong.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

HSM_API int hsm_parse_int64(const char *s, int64_t *out)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int valid_name(const char *name)
{
	if (!name[0] || name[0] == '-')
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || (*p >= 'A' && *p <= 'Z')))
			return 0;
	return strlen(name) <= 40;
}

HSM_API int hsm_opt_validate(const struct hsm_option *o, char *err, size_t errlen)
{
	if (!valid_name(o->name)) {
		snprintf(err, errlen, "option name '%s' is not [A-Za-z0-9_-]{1,40}", o->name);
		return -1;
	}
	if (o->type != HSM_OPT_FLAG && o->type != HSM_OPT_STRING && o->type != HSM_OPT_INT) {
		snprintf(err, errlen, "option --%s has unknown type %u", o->name, o->type);
		return -1;
	}
	if ((o->flags & HSM_OPTF_POSITIONAL) && o->type == HSM_OPT_FLAG) {
		snprintf(err, errlen, "operand %s cannot be a flag", o->name);
		return -1;
	}
	if (o->type == HSM_OPT_INT && o->min > o->max) {
		snprintf(err, errlen, "option --%s has min > max", o->name);
		return -1;
	}
	if (o->short_name && !((o->short_name >= 'a' && o->short_name <= 'z') ||
			       (o->short_name >= 'A' && o->short_name <= 'Z'))) {
		snprintf(err, errlen, "option --%s has a short name that is not a letter", o->name);
		return -1;
	}
	if (o->type == HSM_OPT_INT && o->defval) {
		int64_t v;
		if (hsm_parse_int64(o->defval, &v) != 0 || v < o->min || v > o->max) {
			snprintf(err, errlen, "option --%s has a default outside its range",
				 o->name);
			return -1;
		}
	}
	return 0;
}

static const char *display(const struct hsm_option *o, char *buf, size_t len)
{
	if (o->flags & HSM_OPTF_POSITIONAL)
		snprintf(buf, len, "%s", o->metavar ? o->metavar : o->name);
	else
		snprintf(buf, len, "--%s", o->name);
	return buf;
}

static int add_value(struct hsm_optval *v, const char *val, char *err, size_t errlen)
{
	const struct hsm_option *o = v->opt;
	char name[64];

	if (v->count && !(o->flags & HSM_OPTF_REPEATABLE)) {
		snprintf(err, errlen, "%s given more than once", display(o, name, sizeof(name)));
		return -1;
	}
	if (o->type == HSM_OPT_INT) {
		int64_t n;
		if (hsm_parse_int64(val, &n) != 0) {
			snprintf(err, errlen, "%s: '%s' is not an integer",
				 display(o, name, sizeof(name)), val);
			return -1;
		}
		if (n < o->min || n > o->max) {
			snprintf(err, errlen, "%s: %s is out of range (%" PRId64 "..%" PRId64 ")",
				 display(o, name, sizeof(name)), val, o->min, o->max);
			return -1;
		}
	}
	const char **nv = realloc(v->vals, (v->count + 1) * sizeof(*nv));
	if (!nv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	nv[v->count++] = val;
	v->vals = nv;
	return 0;
}

static struct hsm_optval *find_long(struct hsm_parsed *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct hsm_option *o = p->v[i].opt;
		if (!(o->flags & HSM_OPTF_POSITIONAL) && strlen(o->name) == len &&
		    !strncmp(o->name, name, len))
			return &p->v[i];
	}
	return NULL;
}

static struct hsm_optval *find_short(struct hsm_parsed *p, char c)
{
	for (size_t i = 0; i < p->n; i++)
		if (!(p->v[i].opt->flags & HSM_OPTF_POSITIONAL) && p->v[i].opt->short_name == c)
			return &p->v[i];
	return NULL;
}

static struct hsm_optval *next_positional(struct hsm_parsed *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct hsm_optval *v = &p->v[i];
		if (!(v->opt->flags & HSM_OPTF_POSITIONAL))
			continue;
		if (v->count == 0 || (v->opt->flags & HSM_OPTF_REPEATABLE))
			return v;
	}
	return NULL;
}

/* One "--name[=value]" argument; may consume the next argv entry. */
static int parse_long(struct hsm_parsed *p, int argc, char **argv, int *i, char *err, size_t errlen)
{
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	struct hsm_optval *v;

	if (len == 4 && !strncmp(arg, "help", 4) && !eq) {
		p->help = 1;
		return 0;
	}
	v = find_long(p, arg, len);
	if (!v) {
		snprintf(err, errlen, "unknown option '--%.*s'", (int)(len > 60 ? 60 : len), arg);
		return -1;
	}
	if (v->opt->type == HSM_OPT_FLAG) {
		if (eq) {
			snprintf(err, errlen, "--%s takes no value", v->opt->name);
			return -1;
		}
		return add_value(v, "1", err, errlen);
	}
	if (eq)
		return add_value(v, eq + 1, err, errlen);
	if (*i + 1 >= argc) {
		snprintf(err, errlen, "--%s needs a value", v->opt->name);
		return -1;
	}
	return add_value(v, argv[++*i], err, errlen);
}

static int parse_short(struct hsm_parsed *p, int argc, char **argv, int *i, char *err,
		       size_t errlen)
{
	const char *arg = argv[*i];
	struct hsm_optval *v;

	if (arg[1] == 'h' && arg[2] == '\0') {
		p->help = 1;
		return 0;
	}
	v = find_short(p, arg[1]);
	if (!v) {
		snprintf(err, errlen, "unknown option '-%c'", arg[1]);
		return -1;
	}
	if (v->opt->type == HSM_OPT_FLAG) {
		if (arg[2]) {
			snprintf(err, errlen, "-%c takes no value", arg[1]);
			return -1;
		}
		return add_value(v, "1", err, errlen);
	}
	if (arg[2])
		return add_value(v, arg + 2, err, errlen);
	if (*i + 1 >= argc) {
		snprintf(err, errlen, "-%c (--%s) needs a value", arg[1], v->opt->name);
		return -1;
	}
	return add_value(v, argv[++*i], err, errlen);
}

static int check_complete(struct hsm_parsed *p, char *err, size_t errlen)
{
	char a[64], b[64];

	for (size_t i = 0; i < p->n; i++) {
		const struct hsm_option *o = p->v[i].opt;
		if ((o->flags & HSM_OPTF_REQUIRED) && p->v[i].count == 0) {
			if (o->flags & HSM_OPTF_POSITIONAL)
				snprintf(err, errlen, "missing operand %s",
					 display(o, a, sizeof(a)));
			else
				snprintf(err, errlen, "missing required option --%s", o->name);
			return -1;
		}
		if (!o->group || !p->v[i].count)
			continue;
		for (size_t j = i + 1; j < p->n; j++)
			if (p->v[j].opt->group == o->group && p->v[j].count) {
				snprintf(err, errlen, "%s and %s cannot be used together",
					 display(o, a, sizeof(a)),
					 display(p->v[j].opt, b, sizeof(b)));
				return -1;
			}
	}
	return 0;
}

HSM_API int hsm_opts_parse(const struct hsm_option *const *specs, size_t n, int argc, char **argv,
			   struct hsm_parsed *out, char *err, size_t errlen)
{
	int only_operands = 0;

	memset(out, 0, sizeof(*out));
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	out->n = n;
	for (size_t i = 0; i < n; i++)
		out->v[i].opt = specs[i];

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		int rc = 0;

		if (!only_operands && !strcmp(arg, "--"))
			only_operands = 1;
		else if (!only_operands && arg[0] == '-' && arg[1] == '-')
			rc = parse_long(out, argc, argv, &i, err, errlen);
		else if (!only_operands && arg[0] == '-' && arg[1] != '\0')
			rc = parse_short(out, argc, argv, &i, err, errlen);
		else {
			struct hsm_optval *v = next_positional(out);
			if (!v) {
				snprintf(err, errlen, "unexpected argument '%.60s'", arg);
				rc = -1;
			} else
				rc = add_value(v, arg, err, errlen);
		}
		if (rc != 0)
			return -1;
	}
	if (out->help)
		return 0; /* help wins over missing required options */
	return check_complete(out, err, errlen);
}

HSM_API void hsm_opts_free(struct hsm_parsed *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].vals);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

HSM_API const struct hsm_optval *hsm_opts_find(const struct hsm_parsed *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].opt->name, name))
			return &p->v[i];
	return NULL;
}
