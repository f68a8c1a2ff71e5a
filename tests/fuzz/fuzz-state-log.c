/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-state-log.c - system.log / init.log as hsmd reads them. */
#include "config.h"
#include <stdint.h>
#include "devdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	size_t good = 0;
	json_t *e = hd_log_parse((const char *)data, size, &good, err, sizeof(err));

	if (e && good > size)
		__builtin_trap();
	json_decref(e);
	return 0;
}
