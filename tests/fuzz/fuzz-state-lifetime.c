/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-state-lifetime.c - lifetime.json as hsmd reads it: strict JSON, then
 * validation (firmware/hsmd/devdoc.c). */
#include "config.h"
#include <stdint.h>
#include <hsmadmin/fileio.h>
#include "devdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *doc = hsm_json_parse((const char *)data, size, HD_DOC_MAX, err, sizeof(err));

	if (doc)
		(void)hd_lifetime_validate(doc, err, sizeof(err));
	json_decref(doc);
	return 0;
}
