/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-state-device.c - device.json as hsmd reads it: strict JSON, then
 * validation (firmware/hsmd/devdoc.c), and the device clock of a valid
 * document. */
#include "config.h"
#include <stdint.h>
#include <hsmadmin/fileio.h>
#include "devdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *doc = hsm_json_parse((const char *)data, size, HD_DOC_MAX, err, sizeof(err));

	if (doc && hd_device_validate(doc, err, sizeof(err)) == 0) {
		struct hd_clock clk;
		hd_clock_get(doc, &clk);
		(void)hd_clock_now(&clk, 1700000000, 5);
	}
	json_decref(doc);
	return 0;
}
