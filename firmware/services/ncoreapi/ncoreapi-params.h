/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ncoreapi-params.h - strict checks of the params of ncoreapi's methods
 * (outside input: a tenant's JSON).  Each returns 0, or -1 with a
 * one-line reason in err.  Strings returned are borrowed from params.
 */
#ifndef NCOREAPI_PARAMS_H
#define NCOREAPI_PARAMS_H

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
int ncore_params_generate(const json_t *params, const char **name, const char **type, char *err,
			  size_t errlen);
/* {"name", "data": base64} */
int ncore_params_sign(const json_t *params, const char **name, const char **data, char *err,
		      size_t errlen);
/* {"name"} */
int ncore_params_name(const json_t *params, const char **name, char *err, size_t errlen);

/* The Security World (docs/formats/world.md).  Passphrases, cards and
 * blobs are only checked for shape here; world.c parses them. */
#define NCORE_WORLD_MAX_CARDS 64
/* {"k", "n", "passphrases": [N strings of 1-1023 bytes]} */
int ncore_params_world_generate(const json_t *params, unsigned *k, unsigned *n, const json_t **pass,
				char *err, size_t errlen);
/* {"world": {...}, "cards": [{"card": {...}, "passphrase"}, ...1-64]} */
int ncore_params_world_load(const json_t *params, const json_t **world, const json_t **cards,
			    char *err, size_t errlen);
/* {"blob": {...}, "data": base64} or, to sign several inputs in one call,
 * {"blob": {...}, "data_list": [base64, ... 1-NCORE_MAX_SIGN_BATCH]}:
 * exactly one of the two; *data or *list is set, the other NULL. */
#define NCORE_MAX_SIGN_BATCH 64
int ncore_params_blob_sign(const json_t *params, const json_t **blob, const char **data,
			   const json_t **list, char *err, size_t errlen);

#endif
