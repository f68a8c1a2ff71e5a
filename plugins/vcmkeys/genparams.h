/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/vcmkeys/genparams.h - the NAME=VALUE parameters of the guide's
 * generatekey tool (guide 4.11.3.3), mapped onto `hsmadmin vcm key
 * generate`.  Plain C, no library: the fuzz target compiles it alone.
 */
#ifndef HSM_PLUGIN_VCMKEYS_GENPARAMS_H
#define HSM_PLUGIN_VCMKEYS_GENPARAMS_H

#include <stddef.h>

struct gk_params {
	char type[16];  /* what vcm key generate --type takes: "ed25519" or "p256" */
	char ident[65]; /* the key's name (vcm key generate --name) */
};

/* Parse args[0..n-1], each NAME=VALUE: type=Ed25519|ECDSA (case does not
 * matter), curve=NISTP256 (with ECDSA only, required there),
 * ident=NAME (required; 1-64 characters, checked further by the caller),
 * protect=module; each at most once, nothing else.  0, or -1 with a
 * one-line reason in err naming the parameter. */
int gk_params_parse(const char *const *args, size_t n, struct gk_params *out, char *err,
		    size_t errlen);

#endif
