/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uuid.c - VCM UUIDs typed by people.  The guide prints them in lower case,
 * but an admin may paste one in upper case from another tool: both name
 * the same VCM, so the core accepts either and hands commands the
 * canonical lower-case form.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"

HSM_API int hsm_uuid_normalize(const char *s, char out[HSM_UUID_LEN + 1])
{
	if (!s || strlen(s) != HSM_UUID_LEN)
		return -1;
	for (int i = 0; i < HSM_UUID_LEN; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return -1;
			out[i] = c;
		} else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
			out[i] = c;
		} else if (c >= 'A' && c <= 'F') {
			out[i] = (char)(c - 'A' + 'a');
		} else {
			return -1;
		}
	}
	out[HSM_UUID_LEN] = '\0';
	return 0;
}

/* Show at most 40 printable bytes of what was typed. */
static void quote(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s[i] && i < 40 && i + 1 < len; i++)
		buf[i] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
}

HSM_API int hsm_opt_uuid(struct hsm_ctx *ctx, const char *name, char out[HSM_UUID_LEN + 1])
{
	const char *s = hsm_opt_str(ctx, name);
	const struct hsm_optval *v = hsm_opts_find(&ctx->parsed, name);
	char shown[48], what[64];

	out[0] = '\0';
	if (!s)
		return HSM_EXIT_OK;
	if (hsm_uuid_normalize(s, out) == 0)
		return HSM_EXIT_OK;
	out[0] = '\0';
	quote(s, shown, sizeof(shown));
	if (v && (v->opt->flags & HSM_OPTF_POSITIONAL))
		snprintf(what, sizeof(what), "%s", name);
	else
		snprintf(what, sizeof(what), "--%s", name);
	return hsm_error(ctx, HSM_EXIT_USAGE, what, "'%s' is not a UUID (8-4-4-4-12 hex digits)",
			 shown);
}
