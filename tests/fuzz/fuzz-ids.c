/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-ids.c - the two identifiers typed on command lines and read from
 * files: VCM UUIDs (hsm_uuid_normalize) and ESNs (hsm_esn_valid).
 *
 * A UUID is accepted exactly when it has the 8-4-4-4-12 hex shape; the
 * normal form is its lower-case spelling, and normalizing that again
 * gives it back unchanged.  An accepted ESN is XXXX-XXXX-XXXX; one
 * typed in either case normalizes to a valid ESN spelt the same.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hsmadmin/plugin.h>
#include "modules.h"

static int uuid_shape(const char *s)
{
	if (strlen(s) != HSM_UUID_LEN)
		return 0;
	for (int i = 0; i < HSM_UUID_LEN; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
							    : !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[HSM_UUID_LEN + 1], again[HSM_UUID_LEN + 1];
	int ok;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ok = hsm_uuid_normalize(s, out) == 0;
	if (ok != uuid_shape(s))
		__builtin_trap();
	if (ok) {
		if (strlen(out) != HSM_UUID_LEN || strcasecmp(out, s) != 0)
			__builtin_trap();
		for (int i = 0; i < HSM_UUID_LEN; i++)
			if (isupper((unsigned char)out[i]))
				__builtin_trap();
		if (hsm_uuid_normalize(out, again) != 0 || strcmp(again, out) != 0)
			__builtin_trap();
	}
	if (hsm_esn_valid(s) && (strlen(s) != HSM_ESN_LEN || s[4] != '-' || s[9] != '-'))
		__builtin_trap();
	{
		char esn[HSM_ESN_LEN + 1];
		if (hsm_esn_normalize(s, esn) == 0) {
			if (!hsm_esn_valid(esn) || strcasecmp(esn, s) != 0)
				__builtin_trap();
		} else if (hsm_esn_valid(s)) {
			__builtin_trap();
		}
	}
	free(s);
	return 0;
}
