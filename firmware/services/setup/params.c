/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firmware/services/setup/params.c - the params of fet and setnetwork.
 * Pure functions of the request (no device state), so that the fuzz
 * target drives exactly what the service runs.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <hsmadmin/netaddr.h>
#include <hsmadmin/fileio.h>
#include "licence.h"
#include "setup.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* jansson's messages quote member names, which may hold any
	 * character: keep the reason one printable line. */
	for (char *p = err; errlen && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

int setup_fet_params(const json_t *params, const char **text, size_t *len, char *err, size_t errlen)
{
	char why[160];
	json_t *lic;

	if (hsm_json_unpack(params, JSON_STRICT, why, sizeof(why), "{s:o}", "licence", &lic) != 0)
		return fail(err, errlen, "params: %s", why);
	if (!json_is_string(lic))
		return fail(err, errlen,
			    "params: licence must be the licence file's text (a string)");
	if (json_string_length(lic) == 0)
		return fail(err, errlen, "params: licence is empty");
	if (json_string_length(lic) > HSM_LICENCE_MAX_BYTES)
		return fail(err, errlen, "params: licence is larger than %d bytes",
			    HSM_LICENCE_MAX_BYTES);
	*text = json_string_value(lic);
	*len = json_string_length(lic);
	return 0;
}

/* A member that must be a string without NUL bytes ("10.0.0.1\u0000x"
 * must not read as "10.0.0.1"). */
static const char *str_member(const json_t *params, const char *name, char *err, size_t errlen)
{
	const json_t *v = json_object_get(params, name);

	if (!v) {
		fail(err, errlen, "params: %s is required", name);
		return NULL;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		fail(err, errlen, "params: %s must be a string", name);
		return NULL;
	}
	return json_string_value(v);
}

json_t *setup_network_params(const json_t *params, char *err, size_t errlen)
{
	char why[160];
	const char *mode, *address, *gateway;
	json_t *a = NULL, *g = NULL;
	struct hsm_netconfig cfg;
	char abuf[HSM_NETADDR_STRLEN], gbuf[HSM_NETADDR_STRLEN], inner[256];
	int family;

	if (hsm_json_unpack(params, JSON_STRICT, why, sizeof(why), "{s:s, s?o, s?o}", "mode", &mode,
			    "address", &a, "gateway", &g) != 0) {
		fail(err, errlen, "params: %s", why);
		return NULL;
	}
	if (strlen(mode) != json_string_length(json_object_get(params, "mode"))) {
		fail(err, errlen, "params: mode must be a string");
		return NULL;
	}
	if (strcmp(mode, "default") == 0) {
		/* null members are the stored form of default: accepted. */
		if ((a && !json_is_null(a)) || (g && !json_is_null(g))) {
			fail(err, errlen,
			     "params: mode default (IPv6 link-local) takes no address or gateway");
			return NULL;
		}
		return json_pack("{s:s, s:n, s:n}", "mode", "default", "address", "gateway");
	}
	if (strcmp(mode, "ipv4static") == 0)
		family = 4;
	else if (strcmp(mode, "ipv6static") == 0)
		family = 6;
	else {
		fail(err, errlen, "params: mode '%.32s' is not default, ipv4static or ipv6static",
		     mode);
		return NULL;
	}
	if (!(address = str_member(params, "address", err, errlen)) ||
	    !(gateway = str_member(params, "gateway", err, errlen)))
		return NULL;
	memset(&cfg, 0, sizeof(cfg));
	if (hsm_cidr_parse(address, family, &cfg.address, inner, sizeof(inner)) != 0) {
		fail(err, errlen, "address: %s", inner);
		return NULL;
	}
	if (hsm_ip_parse(gateway, family, &cfg.gateway, inner, sizeof(inner)) != 0) {
		fail(err, errlen, "gateway: %s", inner);
		return NULL;
	}
	if (hsm_netconfig_check(&cfg, err, errlen) != 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s}", "mode", mode, "address",
			 hsm_cidr_format(&cfg.address, abuf, sizeof(abuf)), "gateway",
			 hsm_ip_format(&cfg.gateway, gbuf, sizeof(gbuf)));
}
