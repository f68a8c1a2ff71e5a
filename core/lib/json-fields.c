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

/* The key path of the format token at index `at` of fmt, walking the
 * arguments the way json_vunpack_ex does: object keys (`s` where a key is
 * due) take a const char *, each value a pointer (`s%` one more).  Our
 * formats use objects, arrays and the s o O b i I f F n values. */
static void unpack_path(const char *fmt, size_t at, va_list ap, char *path, size_t len)
{
	struct {
		int object, want_key;
		size_t mark; /* length of path before this level's key */
	} stack[16];
	int depth = -1;
	size_t n = 0;

	path[0] = '\0';
	for (size_t i = 0; fmt[i] && i <= at; i++) {
		char c = fmt[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == ',' || c == ':' || c == '?' ||
		    c == '*' || c == '!')
			continue;
		if (depth >= 0 && stack[depth].object && stack[depth].want_key && c == 's') {
			const char *key = va_arg(ap, const char *);
			stack[depth].want_key = 0;
			n = stack[depth].mark;
			n += (size_t)snprintf(path + n, n < len ? len - n : 0, "%s%s", n ? "." : "",
					      key ? key : "?");
			if (n >= len)
				n = len - 1;
			continue;
		}
		if (c == '{' || c == '[') {
			if (depth + 1 >= (int)(sizeof(stack) / sizeof(stack[0])))
				return;
			depth++;
			stack[depth].object = c == '{';
			stack[depth].want_key = c == '{';
			stack[depth].mark = n;
			continue;
		}
		if (c == '}' || c == ']') {
			if (depth < 0)
				return;
			if (i == at) { /* the path of the object itself */
				path[stack[depth].mark] = '\0';
				return;
			}
			n = stack[depth].mark;
			path[n] = '\0';
			depth--;
			if (depth >= 0 && stack[depth].object)
				stack[depth].want_key = 1;
			continue;
		}
		if (i == at)
			return;
		if (c != 'n')
			(void)va_arg(ap, void *);
		if (c == 's' && fmt[i + 1] == '%') {
			(void)va_arg(ap, void *);
			i++;
		}
		if (depth >= 0 && stack[depth].object)
			stack[depth].want_key = 1;
	}
}

HSM_API int hsm_json_unpack(const json_t *doc, size_t flags, char *err, size_t errlen,
			    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = hsm_json_vunpack(doc, flags, err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

HSM_API int hsm_json_vunpack(const json_t *doc, size_t flags, char *err, size_t errlen,
			     const char *fmt, va_list ap)
{
	static const char unpacked[] = " object item(s) left unpacked: ";
	json_error_t jerr;
	char path[160], shown[HSM_PRINTABLE_LEN];
	const char *list;
	va_list again;
	int rc;

	va_copy(again, ap);
	rc = json_vunpack_ex((json_t *)doc, &jerr, flags, fmt, ap);
	if (rc == 0) {
		va_end(again);
		return 0;
	}
	path[0] = '\0';
	if (jerr.position > 0 && strcmp(jerr.source, "<validation>") == 0)
		unpack_path(fmt, (size_t)jerr.position - 1, again, path, sizeof(path));
	va_end(again);
	if (!strncmp(jerr.text, "Object item not found: ", 23))
		return hsm_set_err(err, errlen, "missing field '%s'",
				   hsm_printable(path[0] ? path : jerr.text + 23, shown));
	if ((list = strstr(jerr.text, unpacked)) != NULL) {
		list += sizeof(unpacked) - 1;
		return hsm_set_err(err, errlen, "unknown field%s '%s'%s%s",
				   strchr(list, ',') ? "s" : "", hsm_printable(list, shown),
				   path[0] ? " in " : "", path);
	}
	if (!strncmp(jerr.text, "Expected ", 9))
		return path[0] ? hsm_set_err(err, errlen, "field '%s': expected %s", path,
					     jerr.text + 9)
			       : hsm_set_err(err, errlen, "expected %s", jerr.text + 9);
	if (path[0])
		return hsm_set_err(err, errlen, "field '%s': %s", path, jerr.text);
	return hsm_set_err(err, errlen, "%s", jerr.text);
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
