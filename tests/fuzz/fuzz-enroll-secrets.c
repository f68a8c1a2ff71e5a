/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a file of enrollment secrets for `hsmadmin enroll
 * --secret-file` (core/crypto/enrollsecret-file.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "enrollsecret-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_enroll_secret *list = NULL;
	size_t count = 0;
	char err[256] = "";

	if (hsm_enroll_secrets_parse((const char *)data, size, &list, &count, err, sizeof(err)) !=
	    0) {
		/* A refusal says why in one line, and never quotes the input
		 * beyond an ESN (the line holds a secret). */
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap();
	} else {
		/* What is accepted is what the format promises. */
		for (size_t i = 0; i < count; i++) {
			if (!hsm_esn_valid(list[i].esn) || !hsm_enroll_secret_valid(list[i].secret))
				__builtin_trap();
			for (size_t j = 0; j < i; j++)
				if (strcmp(list[i].esn, list[j].esn) == 0)
					__builtin_trap();
		}
	}
	hsm_enroll_secrets_free(list, count);
	return 0;
}
