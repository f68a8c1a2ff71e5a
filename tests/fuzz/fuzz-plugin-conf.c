/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: one plugins.d file (hsmadmin-plugins.d(5)), with its
 * requires = list. */
#include <stdint.h>
#include <string.h>
#include "registry.h"

/* A plugin name as the registry promises it: [a-z0-9-], 1 to 63 bytes. */
static int word_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_plugin_entry e;
	char err[512];

	memset(&e, 0, sizeof(e));
	if (hsm_plugin_conf_parse((const char *)data, size, &e, err, sizeof(err)) != 0) {
		if (!memchr(err, '\0', sizeof(err)) || strchr(err, '\n'))
			__builtin_trap(); /* one line */
		return 0;
	}
	if (!e.name || !e.file || e.n_claims == 0 || !word_ok(e.name, strlen(e.name)) ||
	    strchr(e.file, '/'))
		__builtin_trap();
	/* requires: names joined by single commas, nothing else. */
	for (const char *p = e.requires; p && *p;) {
		size_t n = strcspn(p, ",");
		if (!word_ok(p, n))
			__builtin_trap();
		p += n;
		if (*p == ',' && !*++p)
			__builtin_trap();
	}
	hsm_plugin_entry_free(&e);
	return 0;
}
