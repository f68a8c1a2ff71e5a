/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: one modules.d file (core/crypto/modules.c). */
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include "modules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_module m;
	unsigned char addr[16];
	char err[256];

	if (hsm_module_parse((const char *)data, size, &m, err, sizeof(err)) != 0) {
		/* A refusal always says why, in one line. */
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap();
		return 0;
	}
	/* What is accepted must be what the reader promises. */
	if (!hsm_esn_valid(m.esn) ||
	    (inet_pton(AF_INET, m.address, addr) != 1 && inet_pton(AF_INET6, m.address, addr) != 1))
		__builtin_trap();
	for (int i = 0; i < HSM_SVC_COUNT; i++)
		if (m.ports[i] == 0)
			__builtin_trap();
	return 0;
}
