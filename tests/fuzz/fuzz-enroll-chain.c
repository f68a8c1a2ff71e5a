/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the host key list an HSM returns at enrollment, as
 * core/net/chain.c verifies it, certified (primary image) or not
 * (recovery image).  Input: JSON bytes. */
#include <stdint.h>
#include <string.h>
#include <hsmadmin/fileio.h>
#include "sign.h"
#include "chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *vendor;
	struct hsm_chain c;
	char err[512];
	json_t *doc;

	if (!vendor)
		vendor = hsm_ed25519_generate(NULL, 0);
	doc = hsm_json_parse((const char *)data, size, 0, err, sizeof(err));
	if (!doc)
		return 0;
	/* Nothing unsigned may pass: the vendor key is fresh, so every input
	 * must be refused, with a reason. */
	if (hsm_chain_verify(doc, "1A23-BC45-6789", &vendor, 1, &c, err, sizeof(err)) == 0 ||
	    !err[0])
		__builtin_trap();
	/* The recovery list still needs the vendor-signed warrant. */
	err[0] = '\0';
	(void)hsm_chain_is_recovery(doc);
	if (hsm_chain_verify_recovery(doc, "1A23-BC45-6789", &vendor, 1, &c, err, sizeof(err)) ==
		0 ||
	    !err[0])
		__builtin_trap();
	json_decref(doc);
	return 0;
}
