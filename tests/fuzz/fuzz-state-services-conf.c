/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-state-services-conf.c - a services.d/NAME.conf file. */
#include "config.h"
#include <stdint.h>
#include "services.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hd_service_conf conf;
	char err[512];

	hd_service_conf_parse((const char *)data, size, "setup.conf", &conf, err, sizeof(err));
	return 0;
}
