/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/vcmkeys/genparams.c - generatekey's NAME=VALUE parameters (see
 * genparams.h).  The VCMs make Ed25519 and ECDSA P-256 keys, protected by
 * the world's module key: the guide's other types, curves and
 * protections are refused by name rather than silently changed.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "genparams.h"

#define VALUE_MAX 64

enum { P_TYPE, P_CURVE, P_IDENT, P_PROTECT, P_COUNT };
static const char *const names[P_COUNT] = { "type", "curve", "ident", "protect" };

/* The index of a parameter name (len bytes), or -1. */
static int param_index(const char *name, size_t len)
{
	for (int i = 0; i < P_COUNT; i++)
		if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
			return i;
	return -1;
}

/* Printable ASCII only, so that an error line can quote it. */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int gk_params_parse(const char *const *args, size_t n, struct gk_params *out, char *err,
		    size_t errlen)
{
	const char *val[P_COUNT] = { NULL };

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const char *a = args[i], *eq = a ? strchr(a, '=') : NULL;
		int p;

		if (!eq || eq == a) {
			snprintf(err, errlen,
				 "'%.40s' is not NAME=VALUE (type, curve, ident, protect)",
				 a && printable(a) ? a : "?");
			return -1;
		}
		p = param_index(a, (size_t)(eq - a));
		if (p < 0) {
			snprintf(err, errlen,
				 "%.*s: not a parameter here (type, curve, ident, protect)",
				 (int)(eq - a) > 40 ? 40 : (int)(eq - a), printable(a) ? a : "?");
			return -1;
		}
		if (val[p]) {
			snprintf(err, errlen, "%s given more than once", names[p]);
			return -1;
		}
		if (!eq[1] || strlen(eq + 1) > VALUE_MAX || !printable(eq + 1)) {
			snprintf(err, errlen, "%s: the value must be 1-%d printable characters",
				 names[p], VALUE_MAX);
			return -1;
		}
		val[p] = eq + 1;
	}
	if (!val[P_TYPE]) {
		snprintf(err, errlen,
			 "type=Ed25519 or type=ECDSA (with curve=NISTP256) is required");
		return -1;
	}
	if (strcasecmp(val[P_TYPE], "Ed25519") == 0) {
		if (val[P_CURVE]) {
			snprintf(err, errlen,
				 "curve: only for type=ECDSA (Ed25519 has its own curve)");
			return -1;
		}
		snprintf(out->type, sizeof(out->type), "ed25519");
	} else if (strcasecmp(val[P_TYPE], "ECDSA") == 0) {
		if (!val[P_CURVE] || strcasecmp(val[P_CURVE], "NISTP256") != 0) {
			snprintf(err, errlen, "curve: type=ECDSA needs curve=NISTP256 (%s%s)",
				 val[P_CURVE] ? "not " : "none given",
				 val[P_CURVE] ? val[P_CURVE] : "");
			return -1;
		}
		snprintf(out->type, sizeof(out->type), "p256");
	} else {
		snprintf(err, errlen,
			 "type=%s: the VCMs make Ed25519 and ECDSA (curve=NISTP256) keys only",
			 val[P_TYPE]);
		return -1;
	}
	if (val[P_PROTECT] && strcmp(val[P_PROTECT], "module") != 0) {
		snprintf(err, errlen,
			 "protect=%s: keys here are blobs protected by the world's module key "
			 "(protect=module)",
			 val[P_PROTECT]);
		return -1;
	}
	if (!val[P_IDENT]) {
		snprintf(err, errlen, "ident=NAME (the key's name) is required");
		return -1;
	}
	snprintf(out->ident, sizeof(out->ident), "%s", val[P_IDENT]);
	return 0;
}
