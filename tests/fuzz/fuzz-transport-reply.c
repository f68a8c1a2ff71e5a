/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a service's reply as the transport judges it
 * (core/net/transport.c hsm_rpc_parse_reply).  The first byte picks the
 * exit status; the rest is stdout. */
#include <stdint.h>
#include <string.h>
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_rpc_reply r;
	int status;

	if (size < 1)
		return 0;
	status = data[0] % 8;
	memset(&r, 0, sizeof(r));
	hsm_rpc_parse_reply((const char *)data + 1, size - 1, status, "setup", "status", &r);
	/* Success carries an object; failure a printable one-line message and
	 * never a result; a non-zero device status is never success. */
	if (r.exit == 0 && (!json_is_object(r.result) || status != 0))
		__builtin_trap();
	if (r.exit != 0) {
		if (r.result || !r.message[0])
			__builtin_trap();
		for (const char *c = r.message; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				__builtin_trap();
		for (const char *c = r.code; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				__builtin_trap();
	}
	hsm_rpc_reply_clear(&r);
	return 0;
}
