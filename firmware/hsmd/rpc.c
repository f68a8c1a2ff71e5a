/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rpc.c - method names, params and replies (docs/protocol.md).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/service.h>
#include "hsmd.h"
#include "rpc.h"

int hd_rpc_method(const char *command, char *out, size_t outlen, char *err, size_t errlen)
{
	if (!command || !*command)
		return hsm_set_err(err, errlen,
				   "empty command: the exec command is the method name");
	if (!hd_name_valid(command) || strlen(command) >= outlen)
		return hsm_set_err(err, errlen, "'%.*s' is not a method name", 48, command);
	memcpy(out, command, strlen(command) + 1);
	return 0;
}

json_t *hd_rpc_params(const char *buf, size_t len, char *err, size_t errlen)
{
	char inner[256];
	size_t i;
	json_t *p;

	if (len > HD_PARAMS_MAX) {
		hsm_set_err(err, errlen, "params larger than %u bytes", HD_PARAMS_MAX);
		return NULL;
	}
	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
			break;
	if (i == len)
		return json_object();
	p = hsm_json_parse(buf, len, HD_PARAMS_MAX, inner, sizeof(inner));
	if (!p) {
		hsm_set_err(err, errlen, "params: %s", inner);
		return NULL;
	}
	if (!json_is_object(p)) {
		json_decref(p);
		hsm_set_err(err, errlen, "params: not a JSON object");
		return NULL;
	}
	return p;
}

long hd_rpc_head_feed(char **buf, size_t *len, const char *data, size_t dlen, int *done)
{
	const char *nl = memchr(data, '\n', dlen);
	size_t take = nl ? (size_t)(nl - data) + 1 : dlen;
	char *n;

	*done = 0;
	if (*len + take > HD_PARAMS_MAX)
		return -1;
	n = realloc(*buf, *len + take + 1);
	if (!n)
		return -1;
	memcpy(n + *len, data, take);
	*buf = n;
	*len += take - (nl ? 1 : 0);
	n[*len] = '\0';
	*done = nl != NULL;
	return (long)take;
}

const char *hd_rpc_code(int status)
{
	switch (status) {
	case HSMD_BAD_REQUEST:
		return "bad_request";
	case HSMD_REFUSED_STATE:
		return "refused_state";
	case HSMD_DENIED:
		return "denied";
	default:
		return "failed";
	}
}

char *hd_rpc_reply(int status, const json_t *result, const char *message, size_t *len)
{
	json_t *doc;
	char *text, *out;
	size_t n;

	if (status == HSMD_OK)
		doc = json_is_object(result) ? json_incref((json_t *)result) : json_object();
	else
		doc = json_pack("{s:{s:s, s:s}}", "error", "code", hd_rpc_code(status), "message",
				message && *message ? message : "the operation failed");
	text =
	    doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(doc);
	if (!text)
		text = strdup("{\"error\":{\"code\":\"failed\",\"message\":\"out of memory\"}}");
	if (!text)
		return NULL;
	n = strlen(text);
	out = realloc(text, n + 2);
	if (!out) {
		free(text);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	return out;
}
