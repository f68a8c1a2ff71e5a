/* SPDX-License-Identifier: Apache-2.0 */
/*
 * platform-module.c - the HSMs this host administers as modules (see
 * platform-module.h).  They are numbered after the VCMs so that the
 * numbers the host has always given its VCMs stay what they were; on a
 * host that administers HSMs and has no VCMs of its own, the first HSM is
 * module 1, as in the guide's `nopclearfail -M -m 1`.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "platform-module.h"

int hsm_tenant_platform_first(const struct hsm_tenant_vcm *v, size_t count)
{
	int top = 0;

	for (size_t i = 0; i < count; i++)
		if (v[i].module > top)
			top = v[i].module;
	return top + 1;
}

static void quiet(void *arg, const char *file, const char *why)
{
	(void)arg;
	(void)file;
	(void)why;
}

int hsm_tenant_platforms_list(struct hsm_ctx *ctx, int first, struct hsm_tenant_platform **out,
			      size_t *count)
{
	struct hsm_module *mods = NULL;
	struct hsm_tenant_platform *p;
	size_t n = 0, k = 0;
	char why[PATH_MAX + 64];

	*out = NULL;
	*count = 0;
	if (hsm_modules_load(hsm_conf_dir(ctx), &mods, &n, quiet, NULL, why, sizeof(why)) < 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "modules.d", "%s", why);
	if (!(p = calloc(n + 1, sizeof(*p)))) {
		free(mods);
		return hsm_error(ctx, HSM_EXIT_FAILED, "modules", "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct hsm_pins pins;
		if (hsm_pins_load(hsm_home(ctx), mods[i].esn, &pins, why, sizeof(why)) != 0)
			continue; /* not administered from this host (or pins unreadable) */
		hsm_pins_clear(&pins);
		p[k].hsm = mods[i];
		p[k].module = first + (int)k;
		k++;
	}
	free(mods);
	*out = p;
	*count = k;
	return 0;
}

void hsm_tenant_platforms_free(struct hsm_tenant_platform *p)
{
	free(p);
}

int hsm_tenant_modules_list(struct hsm_ctx *ctx, struct hsm_tenant_vcm **v, size_t *nv,
			    struct hsm_tenant_platform **p, size_t *np)
{
	int rc;

	*p = NULL;
	*np = 0;
	if ((rc = hsm_tenant_records_list(ctx, v, nv)) != 0)
		return rc;
	if ((rc = hsm_tenant_platforms_list(ctx, hsm_tenant_platform_first(*v, *nv), p, np)) != 0) {
		hsm_tenant_records_free(*v, *nv);
		*v = NULL;
		*nv = 0;
	}
	return rc;
}

void hsm_tenant_modules_free(struct hsm_tenant_vcm *v, size_t nv, struct hsm_tenant_platform *p)
{
	hsm_tenant_platforms_free(p);
	hsm_tenant_records_free(v, nv);
}

int hsm_tenant_module_opt(struct hsm_ctx *ctx)
{
	return hsm_opt_given(ctx, "module") ? (int)hsm_opt_int(ctx, "module") : 0;
}

const struct hsm_tenant_platform *hsm_tenant_platform_find(const struct hsm_tenant_platform *p,
							   size_t count, const char *esn)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(p[i].hsm.esn, esn) == 0)
			return &p[i];
	return NULL;
}

int hsm_tenant_platform_status(struct hsm_ctx *ctx, const struct hsm_tenant_platform *p,
			       struct hsm_rpc_reply *reply)
{
	return hsm_rpc_call(ctx, &p->hsm, "setup", "status", NULL, reply);
}

const char *hsm_tenant_platform_mode(const json_t *status)
{
	const char *image = json_string_value(json_object_get(status, "image"));

	if (image && strcmp(image, "recovery") == 0)
		return "recovery";
	return json_string_value(json_object_get(status, "mode"));
}
