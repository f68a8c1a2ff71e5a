/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-state-images.c - images.json as hsmd reads it at boot: strict
 * JSON, then validation (firmware/hsmd/images.c); whatever validates must
 * give the device's firmware member. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <hsmadmin/fileio.h>
#include "images.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *doc = hsm_json_parse((const char *)data, size, 65536, err, sizeof(err));

	if (doc && hd_images_validate(doc, err, sizeof(err)) == 0) {
		json_t *fw = hd_images_firmware(doc);
		if (!fw)
			abort(); /* a valid document always names its versions */
		json_decref(fw);
	}
	json_decref(doc);
	return 0;
}
