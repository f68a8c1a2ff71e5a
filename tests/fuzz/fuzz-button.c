/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the emulated recovery button file (firmware/hsmd/
 * button.c), which another process writes into the HSM's state
 * directory.  Input: the file's bytes. */
#include <stdint.h>
#include <stddef.h>
#include "button.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	int64_t until = -1;

	err[0] = '\0';
	if (hd_button_parse((const char *)data, size, &until, err, sizeof(err)) == 0) {
		/* Accepted: at most 12 digits, so never negative or huge. */
		if (until < 0 || until > INT64_C(999999999999))
			__builtin_trap();
	} else if (!err[0]) {
		__builtin_trap();
	}
	return 0;
}
