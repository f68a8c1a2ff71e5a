/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sshadmin-params.c - sshadmin's params checks (see sshadmin-params.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <hsmadmin/fileio.h>
#include "sign.h"
#include "sshadmin-params.h"

char *sshadmin_canonical_key(const char *line)
{
	char err[128];
	EVP_PKEY *k;
	char *out;

	if (!line || strlen(line) > 200)
		return NULL;
	k = hsm_key_from_openssh(line, err, sizeof(err));
	if (!k)
		return NULL;
	out = hsm_key_to_openssh(k);
	EVP_PKEY_free(k);
	return out;
}

const char *sshadmin_key_used_by(const json_t *keys, const char *line, const char *except)
{
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)keys, name, v)
	{
		const char *have = json_string_value(v);
		if (strcmp(name, except) != 0 && have && strcmp(have, line) == 0)
			return name;
	}
	return NULL;
}

int sshadmin_params_enroll(const json_t *params, const json_t *ports, json_t **out, char *err,
			   size_t errlen)
{
	char why[160];
	json_t *given, *keys, *v;
	const char *name, *secret = NULL;

	*out = NULL;
	/* enrollment_secret: checked by hsmd before this runs (factory state
	 * only; an enrolled HSM ignores it). */
	if (hsm_json_unpack(params, JSON_STRICT, why, sizeof(why), "{s:o, s?s}", "client_keys",
			    &given, "enrollment_secret", &secret) != 0) {
		snprintf(err, errlen, "params: %s", why);
		return -1;
	}
	if (!json_is_object(given) || json_object_size(given) > 32) {
		snprintf(err, errlen, "client_keys: not an object of service keys");
		return -1;
	}
	keys = json_object();
	json_object_foreach(given, name, v)
	{
		char *line;
		const char *other;

		if (!json_object_get(ports, name)) {
			snprintf(err, errlen, "client_keys: '%.48s' is not a service of this HSM",
				 name);
			json_decref(keys);
			return -1;
		}
		line = sshadmin_canonical_key(json_string_value(v));
		if (!line) {
			snprintf(err, errlen, "client_keys: %s: not an ssh-ed25519 public key",
				 name);
			json_decref(keys);
			return -1;
		}
		other = sshadmin_key_used_by(keys, line, name);
		if (other) {
			snprintf(err, errlen,
				 "client_keys: %s and %s have the same key; each service needs "
				 "its own",
				 other, name);
			free(line);
			json_decref(keys); /* owns the string `other` points to */
			return -1;
		}
		json_object_set_new(keys, name, json_string(line));
		free(line);
	}
	*out = keys;
	return 0;
}

int sshadmin_params_set_key(const json_t *params, const json_t *ports, const char **service,
			    char **line, int *remote, char *err, size_t errlen)
{
	char why[160];
	const char *key;

	*line = NULL;
	*remote = 0;
	if (hsm_json_unpack(params, JSON_STRICT, why, sizeof(why), "{s:s, s:s, s?b}", "service",
			    service, "key", &key, "remote", remote) != 0) {
		snprintf(err, errlen, "params: %s", why);
		return -1;
	}
	if (!json_object_get(ports, *service)) {
		snprintf(err, errlen, "service: '%.48s' is not a service of this HSM", *service);
		return -1;
	}
	if (!(*line = sshadmin_canonical_key(key))) {
		snprintf(err, errlen, "key: not an ssh-ed25519 public key");
		return -1;
	}
	return 0;
}
