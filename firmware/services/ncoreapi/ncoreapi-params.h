/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ncoreapi-params.h - strict checks of the params of ncoreapi's methods
 * (outside input: a tenant's JSON).  Each returns 0, or -1 with a
 * one-line reason in err.  Strings returned are borrowed from params.
 */
#ifndef HSMD_NCOREAPI_PARAMS_H
#define HSMD_NCOREAPI_PARAMS_H

#include <stddef.h>
#include <jansson.h>

/* A key name: 1-64 of A-Z a-z 0-9 _ . - */
int ncore_key_name_valid(const char *name);
int ncore_params_empty(const json_t *params, char *err, size_t errlen);
/* {"mode": "operational"|"maintenance"|"initialization"} */
int ncore_params_mode(const json_t *params, const char **mode, char *err, size_t errlen);
/* {"reason"?: 1-128 printable characters} (default "set by the tenant") */
int ncore_params_reason(const json_t *params, const char **reason, char *err, size_t errlen);
/* {"name", "type"?: "ed25519"|"p256"} (default ed25519) */
int ncore_params_generate(const json_t *params, const char **name, const char **type,
			  char *err, size_t errlen);
/* {"name", "data": base64} */
int ncore_params_sign(const json_t *params, const char **name, const char **data,
		      char *err, size_t errlen);
/* {"name"} */
int ncore_params_name(const json_t *params, const char **name, char *err, size_t errlen);

#endif
