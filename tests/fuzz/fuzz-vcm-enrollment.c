/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-vcm-enrollment.c - the tenant's two parsers of outside input: an
 * enrollment record and a VCM configuration file (checked against a
 * vendor key made once, so the signature paths run as well).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include <hsmadmin/fileio.h>
#include "sign.h"
#include "tenant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *vendor;
	char err[512];
	struct hsm_tenant_vcm v;
	json_t *doc;

	if (!vendor)
		vendor = hsm_ed25519_generate(err, sizeof(err));
	if (!(doc = hsm_json_parse((const char *)data, size, 0, err, sizeof(err))))
		return 0;
	if (hsm_tenant_record_parse(doc, &v, err, sizeof(err)) == 0) {
		json_t *back = hsm_tenant_record_json(&v);
		json_decref(back);
	}
	hsm_tenant_vcm_clear(&v);
	if (hsm_tenant_config_verify(doc, &vendor, 1, &v, err, sizeof(err)) == 0)
		hsm_tenant_vcm_clear(&v);
	json_decref(doc);
	return 0;
}
