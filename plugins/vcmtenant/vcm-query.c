/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcm-query.c - hsmadmin vcm info / getenvstats (guide 4.10.1.16.7-8): ask
 * each enrolled VCM's ncoreapi (with this tenant's key for it) in
 * parallel, each VCM printed as it answers; the exit code is the worst of
 * them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>

#include "transport.h"

#include "vcmtenant.h"

struct fan {
	const char *home;
	int timeout;
	const struct hsm_tenant_vcm *v;
	const char *method;
	struct hsm_rpc_reply *r;
};

static void one(size_t i, void *arg)
{
	struct fan *f = arg;

	hsm_tenant_call_home(f->home, f->timeout, &f->v[i], HSM_TENANT_NCOREAPI, f->method, NULL,
			     &f->r[i]);
}

static void print_value(struct hsm_ctx *ctx, const char *key, const json_t *val)
{
	char *s, safe[512];

	if (json_is_string(val))
		hsm_printf(ctx, "  %-16s: %s\n", key,
			   hsm_printable_copy(json_string_value(val), safe, sizeof(safe)));
	else if (json_is_object(val)) {
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)val, k, x)
		{
			char name[64];
			snprintf(name, sizeof(name), "%s.%s", key, hsm_printable_copy(k, safe, 40));
			print_value(ctx, name, x);
		}
	} else if ((s = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT))) {
		hsm_printf(ctx, "  %-16s: %s\n", key, s);
		free(s);
	}
}

/* One VCM's block, or its error line, as soon as it answers: a VCM that
 * does not answer holds back none of the others. */
static void vcm_done(struct hsm_ctx *ctx, size_t i, void *arg)
{
	const struct fan *f = arg;
	const char *k;
	json_t *x;
	char safe[48];

	if (f->r[i].exit != 0) {
		hsm_error(ctx, f->r[i].exit, f->v[i].uuid, "%s", f->r[i].message);
		return;
	}
	hsm_printf(ctx, "VCM %s (module %d):\n", f->v[i].uuid, f->v[i].module);
	json_object_foreach(f->r[i].result, k, x)
	    print_value(ctx, hsm_printable_copy(k, safe, sizeof(safe)), x);
	fflush(stdout);
}

static struct hsm_waiting_items vcms_waited = { "VCM", "VCMs" };

static int query(struct hsm_ctx *ctx, const char *method)
{
	struct hsm_tenant_vcm *v = NULL;
	size_t n = 0;
	struct hsm_rpc_reply *r;
	struct fan f;
	json_t *rows;
	int rc = hsm_tenant_records_select(ctx, &v, &n), worst = 0;

	if (rc)
		return rc;
	if (!(r = calloc(n ? n : 1, sizeof(*r)))) {
		hsm_tenant_records_free(v, n);
		return hsm_error(ctx, HSM_EXIT_FAILED, method, "out of memory");
	}
	f = (struct fan){ hsm_home(ctx), hsm_timeout(ctx), v, method, r };
	hsm_parallel_report_with(ctx, n, one, &f, vcm_done, &f, hsm_waiting_count, &vcms_waited);
	/* --json: the VCMs in the order of their records, whatever the
	 * order of their answers. */
	rows = json_array();
	for (size_t i = 0; i < n; i++) {
		if (r[i].exit != 0) {
			worst = hsm_exit_worst(worst, r[i].exit);
			json_array_append_new(rows,
					      json_pack("{s:s, s:i, s:s, s:s}", "uuid", v[i].uuid,
							"module", v[i].module, "error", r[i].code,
							"message", r[i].message));
			continue;
		}
		json_object_set_new(r[i].result, "module", json_integer(v[i].module));
		json_array_append(rows, r[i].result);
	}
	json_object_set_new(hsm_json(ctx), "vcms", rows);
	for (size_t i = 0; i < n; i++)
		hsm_rpc_reply_clear(&r[i]);
	free(r);
	hsm_tenant_records_free(v, n);
	return worst;
}

int vt_cmd_info(struct hsm_ctx *ctx)
{
	return query(ctx, "info");
}

int vt_cmd_getenvstats(struct hsm_ctx *ctx)
{
	return query(ctx, "getenvstats");
}
