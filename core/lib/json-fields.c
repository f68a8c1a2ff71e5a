/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json-fields.c - checking the members of untrusted JSON objects, and
 * quoting untrusted text in messages.  Every parser of signed or received
 * documents (requests, licences, RPC params) uses these, so "missing",
 * "wrong type" and "unknown field" read the same everywhere.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <hsmadmin/fileio.h>

HSM_API int hsm_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

HSM_API const char *hsm_printable_copy(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	if (!len)
		return buf;
	if (!s)
		s = "";
	for (; s[i] && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[i] = '\0';
	return buf;
}

HSM_API const char *hsm_printable(const char *s, char buf[HSM_PRINTABLE_LEN])
{
	hsm_printable_copy(s, buf, 41);
	if (s && strlen(s) > 40)
		memcpy(buf + 40, "...", 4);
	return buf;
}

HSM_API const char *hsm_json_type_name(const json_t *v)
{
	if (!v)
		return "nothing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

HSM_API json_t *hsm_json_member(const json_t *obj, const char *where, const char *key,
				json_type type, int required, int *bad, char *err, size_t errlen)
{
	static const char *const want[] = {
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
		[JSON_STRING] = "a string",  [JSON_INTEGER] = "an integer",
		[JSON_REAL] = "a number",    [JSON_TRUE] = "a boolean",
		[JSON_FALSE] = "a boolean",  [JSON_NULL] = "null",
	};
	json_t *v = json_object_get(obj, key);

	if (*bad)
		return NULL;
	if (!v) {
		if (required) {
			*bad = 1;
			hsm_set_err(err, errlen, "missing field '%s%s'", where, key);
		}
		return NULL;
	}
	int type_ok = type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == type;
	if (!type_ok) {
		*bad = 1;
		hsm_set_err(err, errlen, "field '%s%s' must be %s, not %s", where, key, want[type],
			    hsm_json_type_name(v));
		return NULL;
	}
	return v;
}

HSM_API int hsm_json_only_keys(const json_t *obj, const char *where, const char *const *allowed,
			       char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	char q[HSM_PRINTABLE_LEN];

	json_object_foreach((json_t *)obj, key, v)
	{
		int known = 0;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				known = 1;
		if (!known)
			return hsm_set_err(err, errlen, "unknown field '%s%s'", where,
					   hsm_printable(key, q));
	}
	return 0;
}
