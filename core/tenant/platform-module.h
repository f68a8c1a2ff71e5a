/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/tenant/platform-module.h - the HSMs this host administers
 * (enrolled with `hsmadmin enroll`: a modules.d entry and pins in
 * HSMADMIN_HOME), as `enquiry` and `nopclearfail` show and address them:
 * one module per HSM, numbered after the host's VCMs in ESN order, whose
 * mode is the platform mode (operational, maintenance, initialization,
 * recovery; guide 4.5, 4.6.4).
 */
#ifndef HSM_TENANT_PLATFORM_MODULE_H
#define HSM_TENANT_PLATFORM_MODULE_H

#include <stddef.h>
#include <hsmadmin/plugin.h>
#include "transport.h"
#include "tenant.h"

struct hsm_tenant_platform {
	struct hsm_module hsm;
	int module;
};

/* The first number after the VCMs' (v sorted by module number). */
HSM_API int hsm_tenant_platform_first(const struct hsm_tenant_vcm *v, size_t count);

/* The HSMs of modules.d this host holds pins for, numbered from first.
 * modules.d files that do not parse are left out quietly: the platform
 * commands report them.  0, or an exit code already reported. */
HSM_API int hsm_tenant_platforms_list(struct hsm_ctx *ctx, int first,
				      struct hsm_tenant_platform **out, size_t *count);
HSM_API void hsm_tenant_platforms_free(struct hsm_tenant_platform *p);

/* Every module enquiry and nopclearfail show: the enrolled VCMs (*v,
 * sorted by module number) and, numbered after them, the HSMs this host
 * administers (*p).  0, or an exit code already reported (then nothing is
 * left to free).  Free with hsm_tenant_modules_free. */
HSM_API int hsm_tenant_modules_list(struct hsm_ctx *ctx, struct hsm_tenant_vcm **v, size_t *nv,
				    struct hsm_tenant_platform **p, size_t *np);
HSM_API void hsm_tenant_modules_free(struct hsm_tenant_vcm *v, size_t nv,
				     struct hsm_tenant_platform *p);

/* The -m MODULE option that addresses one of those modules; the rest of
 * the entry (help, group) is the command's. */
#define HSM_TENANT_MODULE_OPTION(...)                                                              \
	{                                                                                          \
		.name = "module", .short_name = 'm', .type = HSM_OPT_INT, .min = 1,                \
		.max = HSM_TENANT_MAX_MODULES, .metavar = "MODULE", __VA_ARGS__                    \
	}
/* The module -m names, or 0 when -m was not given. */
HSM_API int hsm_tenant_module_opt(struct hsm_ctx *ctx);

/* The platform with this ESN (normalised), or NULL. */
HSM_API const struct hsm_tenant_platform *
hsm_tenant_platform_find(const struct hsm_tenant_platform *p, size_t count, const char *esn);

/* The platform's status (setup status) into reply; returns reply->exit. */
HSM_API int hsm_tenant_platform_status(struct hsm_ctx *ctx, const struct hsm_tenant_platform *p,
				       struct hsm_rpc_reply *reply);

/* The mode a platform reports: "recovery" when it runs the recovery image,
 * else its mode; NULL when the reply has neither. */
HSM_API const char *hsm_tenant_platform_mode(const json_t *status);

#endif
