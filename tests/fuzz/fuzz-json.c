/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: strict JSON parsing (every JSON input goes through it). */
#include <stdint.h>
#include <hsmadmin/fileio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	json_t *j = hsm_json_parse((const char *)data, size, 4096, err, sizeof(err));

	json_decref(j);
	return 0;
}
