/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ncoreapi-params.c - strict checks of ncoreapi params (see the header).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "ncoreapi-params.h"

static int say(char *err, size_t errlen, const char *text)
{
	if (err)
		snprintf(err, errlen, "%s", text);
	return -1;
}

static int unpack(const json_t *params, char *err, size_t errlen, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	int rc;

	if (!json_is_object(params))
		return say(err, errlen, "params: not an object");
	va_start(ap, fmt);
	rc = hsm_json_vunpack(params, JSON_STRICT, why, sizeof(why), fmt, ap);
	va_end(ap);
	if (rc != 0) {
		if (err)
			snprintf(err, errlen, "params: %s", why);
		return -1;
	}
	return 0;
}

int ncore_key_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '.' ||
		      name[i] == '-'))
			return 0;
	return 1;
}

int ncore_params_empty(const json_t *params, char *err, size_t errlen)
{
	if (!json_is_object(params) || json_object_size(params) != 0)
		return say(err, errlen, "params: expected {}");
	return 0;
}

int ncore_params_mode(const json_t *params, const char **mode, char *err, size_t errlen)
{
	if (unpack(params, err, errlen, "{s:s}", "mode", mode) != 0)
		return -1;
	if (strcmp(*mode, "operational") && strcmp(*mode, "maintenance") &&
	    strcmp(*mode, "initialization"))
		return say(err, errlen, "mode: not operational, maintenance or initialization");
	return 0;
}

int ncore_params_reason(const json_t *params, const char **reason, char *err, size_t errlen)
{
	size_t n;

	*reason = NULL;
	if (unpack(params, err, errlen, "{s?s}", "reason", reason) != 0)
		return -1;
	if (!*reason) {
		*reason = "set by the tenant";
		return 0;
	}
	n = strlen(*reason);
	if (n < 1 || n > 128)
		return say(err, errlen, "reason: 1-128 printable characters");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)(*reason)[i] < 0x20 || (unsigned char)(*reason)[i] > 0x7e)
			return say(err, errlen, "reason: 1-128 printable characters");
	return 0;
}

int ncore_params_generate(const json_t *params, const char **name, const char **type, char *err,
			  size_t errlen)
{
	*type = NULL;
	if (unpack(params, err, errlen, "{s:s, s?s}", "name", name, "type", type) != 0)
		return -1;
	if (!ncore_key_name_valid(*name))
		return say(err, errlen, "name: 1-64 of A-Z a-z 0-9 _ . -");
	if (!*type)
		*type = "ed25519";
	if (strcmp(*type, "ed25519") && strcmp(*type, "p256"))
		return say(err, errlen, "type: not ed25519 or p256");
	return 0;
}

int ncore_params_sign(const json_t *params, const char **name, const char **data, char *err,
		      size_t errlen)
{
	if (unpack(params, err, errlen, "{s:s, s:s}", "name", name, "data", data) != 0)
		return -1;
	if (!ncore_key_name_valid(*name))
		return say(err, errlen, "name: 1-64 of A-Z a-z 0-9 _ . -");
	return 0;
}

int ncore_params_name(const json_t *params, const char **name, char *err, size_t errlen)
{
	if (unpack(params, err, errlen, "{s:s}", "name", name) != 0)
		return -1;
	if (!ncore_key_name_valid(*name))
		return say(err, errlen, "name: 1-64 of A-Z a-z 0-9 _ . -");
	return 0;
}

int ncore_params_world_generate(const json_t *params, unsigned *k, unsigned *n, const json_t **pass,
				char *err, size_t errlen)
{
	json_int_t jk, jn;
	json_t *arr;
	size_t i;
	json_t *v;

	if (unpack(params, err, errlen, "{s:I, s:I, s:o}", "k", &jk, "n", &jn, "passphrases",
		   &arr) != 0)
		return -1;
	if (jn < 1 || jn > NCORE_WORLD_MAX_CARDS || jk < 1 || jk > jn)
		return say(err, errlen, "quorum: 1 <= K <= N <= 64");
	if (!json_is_array(arr) || json_array_size(arr) != (size_t)jn)
		return say(err, errlen, "passphrases: one for each of the N cards");
	json_array_foreach(
	    arr, i,
	    v) if (!json_is_string(v) || json_string_length(v) < 1 ||
		   json_string_length(v) > 1023 ||
		   strlen(json_string_value(v)) !=
		       json_string_length(v)) return say(err, errlen,
							 "passphrases: each 1-1023 bytes, no NUL");
	*k = (unsigned)jk;
	*n = (unsigned)jn;
	*pass = arr;
	return 0;
}

int ncore_params_world_load(const json_t *params, const json_t **world, const json_t **cards,
			    char *err, size_t errlen)
{
	json_t *w, *arr, *v, *card;
	const char *pass;
	size_t i;

	if (unpack(params, err, errlen, "{s:o, s:o}", "world", &w, "cards", &arr) != 0)
		return -1;
	if (!json_is_object(w))
		return say(err, errlen, "world: not an object");
	if (!json_is_array(arr) || json_array_size(arr) < 1 ||
	    json_array_size(arr) > NCORE_WORLD_MAX_CARDS)
		return say(err, errlen, "cards: a list of 1-64 cards");
	json_array_foreach(arr, i, v)
	{
		if (unpack(v, err, errlen, "{s:o, s:s}", "card", &card, "passphrase", &pass) != 0)
			return -1;
		if (!json_is_object(card))
			return say(err, errlen, "cards: each card an object");
		if (strlen(pass) < 1 || strlen(pass) > 1023 ||
		    strlen(pass) != json_string_length(json_object_get(v, "passphrase")))
			return say(err, errlen, "cards: each passphrase 1-1023 bytes, no NUL");
	}
	*world = w;
	*cards = arr;
	return 0;
}

int ncore_params_blob_sign(const json_t *params, const json_t **blob, const char **data,
			   const json_t **list, char *err, size_t errlen)
{
	json_t *b, *l = NULL, *v;
	size_t i;

	*data = NULL;
	*list = NULL;
	if (unpack(params, err, errlen, "{s:o, s?s, s?o}", "blob", &b, "data", data, "data_list",
		   &l) != 0)
		return -1;
	if (!json_is_object(b))
		return say(err, errlen, "blob: not an object");
	if (!*data == !l)
		return say(err, errlen, "give either data or data_list");
	if (l) {
		if (!json_is_array(l) || json_array_size(l) < 1 ||
		    json_array_size(l) > NCORE_MAX_SIGN_BATCH)
			return say(err, errlen, "data_list: an array of 1-64 strings");
		json_array_foreach(l, i, v) if (!json_is_string(v)) return say(
		    err, errlen, "data_list: an item is not a string");
	}
	*blob = b;
	*list = l;
	return 0;
}
