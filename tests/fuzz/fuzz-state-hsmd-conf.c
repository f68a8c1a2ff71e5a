/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-state-hsmd-conf.c - hsmd.conf. */
#include "config.h"
#include <stdint.h>
#include "hsmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hd_config cfg;
	char err[512];

	hd_config_defaults(&cfg);
	hd_config_parse(&cfg, (const char *)data, size, err, sizeof(err));
	return 0;
}
