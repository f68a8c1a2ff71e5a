/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sshadmin-params.h - the checks of sshadmin's params that need nothing
 * but the params and the services of this HSM, apart from the service so
 * that its fuzz target (tests/fuzz/fuzz-sshadmin-params.c) runs them.
 * Each returns 0, or -1 with the reason the reply names.
 */
#ifndef SSHADMIN_PARAMS_H
#define SSHADMIN_PARAMS_H

#include <stddef.h>
#include <jansson.h>

/* A client key line in canonical form ("ssh-ed25519 AAAA..." without a
 * comment), malloc'ed, or NULL when it is not an Ed25519 public key. */
char *sshadmin_canonical_key(const char *line);

/* The service other than `except` whose key in keys is line, or NULL. */
const char *sshadmin_key_used_by(const json_t *keys, const char *line, const char *except);

/* enroll: {"client_keys":{service:key,...},"enrollment_secret"?}.  Each
 * service must be a member of ports (the HSM's services), each key an
 * Ed25519 public key, no two alike.  *keys: a new object of the canonical
 * lines. */
int sshadmin_params_enroll(const json_t *params, const json_t *ports, json_t **keys, char *err,
			   size_t errlen);

/* set_key: {"service","key","remote"?}.  *line: the canonical key,
 * malloc'ed; *service points into params. */
int sshadmin_params_set_key(const json_t *params, const json_t *ports, const char **service,
			    char **line, int *remote, char *err, size_t errlen);

#endif
