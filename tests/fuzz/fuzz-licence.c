/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-licence.c - libFuzzer target for the licence parser
 * (core/crypto/licence.c): any bytes must give a licence or a one-line
 * reason with a defined status, never a crash, a leak or a hang; whatever
 * parses must survive verification, the ESN check and re-serialisation
 * (which must give back exactly the input).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "licence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_licence *lic = NULL;
	EVP_PKEY *trusted[1];
	char err[512], *text;
	size_t len;
	int rc;

	err[0] = '\0';
	rc = hsm_licence_parse(data, size, &lic, err, sizeof(err));
	if (rc != 0) {
		if (lic || !err[0] || strchr(err, '\n') ||
		    (rc != HSM_LICENCE_MALFORMED && rc != HSM_LICENCE_UNKNOWN_VERSION &&
		     rc != HSM_LICENCE_TAMPERED))
			abort(); /* a failure leaves nothing and says why in one line */
		return 0;
	}
	/* Parsed: the file is exactly what we would write for it. */
	text = hsm_licence_text(lic, &len);
	if (!text || len != size || memcmp(text, data, size) != 0)
		abort();
	free(text);
	trusted[0] = lic->signer;
	rc = hsm_licence_verify(lic, trusted, 1, err, sizeof(err));
	if (rc != HSM_LICENCE_OK && rc != HSM_LICENCE_TAMPERED)
		abort();
	if (hsm_licence_verify(lic, NULL, 0, err, sizeof(err)) != HSM_LICENCE_UNKNOWN_SIGNER)
		abort();
	if (hsm_licence_check_esn(lic, lic->esn, err, sizeof(err)) != 0)
		abort();
	hsm_licence_check_esn(lic, "0000-0000-0000", err, sizeof(err));
	json_decref(hsm_licence_summary(lic));
	hsm_licence_free(lic);
	return 0;
}
