/* SPDX-License-Identifier: Apache-2.0 */
/*
 * methods.c - `hsmd methods [--conf DIR] [--json]` (methods.h).  The
 * listing is made from the loaded modules' own tables, through the loader
 * hsmd runs with, so that a test generated from it cannot miss a method
 * (tests/integration/access-matrix.sh).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hsmadmin/service.h>

#include "cmdline.h"
#include "fault.h"
#include "gate.h"
#include "hsmd.h"
#include "methods.h"
#include "vcmrules.h"

static const struct {
	uint32_t bit;
	const char *name;
} flag_names[] = {
	{ HSMD_METHOD_INVASIVE, "invasive" },       { HSMD_METHOD_STREAMS, "streams" },
	{ HSMD_METHOD_FACTORY_OK, "factory_ok" },   { HSMD_METHOD_NEEDS_CLOCK, "needs_clock" },
	{ HSMD_METHOD_LOG_GUARDED, "log_guarded" }, { HSMD_METHOD_LOG_ACCESS, "log_access" },
	{ HSMD_METHOD_MAINTENANCE, "maintenance" }, { HSMD_METHOD_RECOVERY, "recovery" },
};

json_t *hd_method_flag_names(uint32_t flags)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (flags & flag_names[i].bit)
			json_array_append_new(a, json_string(flag_names[i].name));
	return a;
}

/* Where a service is served: the platform serves every loaded service but
 * ncoreapi, a VCM the services of FW_VCM_SERVICES (overview 5.1). */
static json_t *runs_on(const char *service)
{
	static const char *const vcm[] = FW_VCM_SERVICES;
	json_t *a = json_array();

	if (hd_gate_runs_on_platform(service))
		json_array_append_new(a, json_string("platform"));
	for (size_t i = 0; i < sizeof(vcm) / sizeof(vcm[0]); i++)
		if (strcmp(service, vcm[i]) == 0)
			json_array_append_new(a, json_string("vcm"));
	return a;
}

json_t *hd_methods_json(const struct hd_loaded_service *svcs, size_t n)
{
	json_t *out = json_array();

	for (size_t s = 0; out && s < n; s++)
		for (size_t i = 0; i < svcs[s].nmethods; i++) {
			const struct hsmd_method *m = hd_service_method(&svcs[s], i);
			json_t *o =
			    json_pack("{s:s, s:s, s:o, s:s?, s:o, s:o, s:o, s:b, s:b, s:s?, s:s?}",
				      "service", svcs[s].name, "method", m->name, "flags",
				      hd_method_flag_names(m->flags), "variant_param",
				      m->variant_param, "variant_flags",
				      hd_method_flag_names(m->variant_param ? m->variant_flags : 0),
				      "plain_flags",
				      hd_method_flag_names(m->variant_param ? m->plain_flags : 0),
				      "runs_on", runs_on(svcs[s].name), "in_recovery",
				      hd_gate_runs_in_recovery(svcs[s].name), "fault_exempt",
				      hd_fault_exempt(svcs[s].name, m->name), "summary", m->summary,
				      "gate_hint", hd_service_gate_hint(&svcs[s], m));

			if (!o || json_array_append_new(out, o) != 0) {
				json_decref(out);
				return NULL;
			}
		}
	return out;
}

static void methods_help(void)
{
	printf("Usage: hsmd methods [--conf DIR] [--json]\n"
	       "List every method of the services that the configuration DIR loads "
	       "(DIR/services.d),\n"
	       "with the device rules that apply to each (docs/protocol.md, \"Who may "
	       "call what\").\n"
	       "  --conf DIR   configuration: DIR/hsmd.conf and DIR/services.d/*.conf [%s]\n"
	       "  --json       one JSON array, one object per method (default: a Markdown "
	       "table)\n",
	       HSMADMIN_SYSCONFDIR);
}

/* A list of flag names, or an em dash for none. */
static void print_flags(json_t *names)
{
	size_t i;
	json_t *v;

	if (json_array_size(names) == 0)
		printf("—");
	json_array_foreach(names, i, v) printf("%s%s", i ? ", " : "", json_string_value(v));
}

/* The table of docs/protocol.md ("Who may call what"), one row a method. */
static void print_table(json_t *list)
{
	size_t i;
	json_t *m;

	printf("| method | served by | rules | variant | recovery image | failed HSM |\n"
	       "|--------|-----------|-------|---------|----------------|------------|\n");
	json_array_foreach(list, i, m)
	{
		json_t *on = json_object_get(m, "runs_on");
		const char *vp = json_string_value(json_object_get(m, "variant_param"));

		printf("| `%s.%s` | %s%s | ", json_string_value(json_object_get(m, "service")),
		       json_string_value(json_object_get(m, "method")),
		       json_string_value(json_array_get(on, 0)) ?: "nothing",
		       json_array_size(on) > 1 ? ", vcm" : "");
		print_flags(json_object_get(m, "flags"));
		printf(" | ");
		if (vp) {
			printf("with `%s`: ", vp);
			print_flags(json_object_get(m, "variant_flags"));
			printf("; without: ");
			print_flags(json_object_get(m, "plain_flags"));
		} else {
			printf("—");
		}
		printf(" | %s | %s |\n",
		       json_is_true(json_object_get(m, "in_recovery")) ? "served" : "not served",
		       json_is_true(json_object_get(m, "fault_exempt")) ? "answers" : "fails");
	}
}

int hd_methods_main(int argc, char **argv)
{
	const char *confdir = HSMADMIN_SYSCONFDIR;
	int as_json = 0, rc;
	const struct hd_opt opts[] = {
		{ .name = "conf", .str = &confdir },
		{ .name = "json", .flag = &as_json },
	};
	struct hd_loaded_service *svcs = NULL;
	struct hd_config cfg;
	size_t n = 0;
	char err[HD_ERRLEN];
	json_t *list;

	if ((rc = hd_cmdline_parse("methods", argc, argv, opts, HD_NOPTS(opts), methods_help)) >= 0)
		return rc;
	hd_config_defaults(&cfg);
	if (hd_config_load(&cfg, confdir, err, sizeof(err)) != 0 ||
	    hd_services_load(confdir, cfg.servicedir, 0, &svcs, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "hsmd: methods: %s\n", err);
		return 1;
	}
	list = hd_methods_json(svcs, n);
	rc = list ? 0 : 1;
	if (!list)
		fprintf(stderr, "hsmd: methods: out of memory\n");
	else if (as_json)
		rc = json_dumpf(list, stdout, JSON_INDENT(1) | JSON_SORT_KEYS) == 0 ? 0 : 1;
	else
		print_table(list);
	if (as_json && rc == 0)
		putchar('\n');
	json_decref(list);
	hd_services_unload(svcs, n);
	return fflush(stdout) == 0 && rc == 0 ? 0 : 1;
}
