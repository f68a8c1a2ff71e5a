/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the machine-wide table of VCM allocations
 * (firmware/hsmd/vcmalloc.c). */
#include <stdint.h>
#include <string.h>
#include "vcmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	json_t *doc = hd_vcmalloc_parse((const char *)data, size, err, sizeof(err));

	if (!doc) {
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap(); /* a refusal says why, in one line */
		return 0;
	}
	/* What is accepted has the shape the allocator relies on. */
	if (!json_is_array(json_object_get(doc, "vcms")))
		__builtin_trap();
	json_decref(doc);
	return 0;
}
