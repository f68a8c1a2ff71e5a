/* SPDX-License-Identifier: Apache-2.0 */
/*
 * paths.c - where hsmadmin keeps things.  Everything derives from two
 * roots so tests and users can run unprivileged in a temporary directory:
 * HSMADMIN_HOME (keys, pins, enrollments) and HSMADMIN_CONF (configuration).
 * Read with secure_getenv: a set-id process ignores them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *hsm_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);

	if (!p)
		abort(); /* a few bytes: no sensible recovery */
	memcpy(p, a, la);
	if (la && a[la - 1] != '/')
		p[la++] = '/';
	memcpy(p + la, b, lb + 1);
	return p;
}

static char *root(const char *var, const char *fallback)
{
	const char *v = secure_getenv(var);

	return strdup(v && *v ? v : fallback);
}

char *hsm_path_home(void)
{
	return root("HSMADMIN_HOME", HSMADMIN_DEFAULT_HOME);
}

char *hsm_path_conf(void)
{
	return root("HSMADMIN_CONF", HSMADMIN_SYSCONFDIR);
}
