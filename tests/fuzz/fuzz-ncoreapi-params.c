/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-ncoreapi-params.c - every ncoreapi params check on arbitrary JSON.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include <hsmadmin/fileio.h>
#include "ncoreapi-params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	const char *a, *b;
	json_t *p = hsm_json_parse((const char *)data, size, 0, err, sizeof(err));

	if (!p)
		return 0;
	(void)ncore_params_empty(p, err, sizeof(err));
	(void)ncore_params_mode(p, &a, err, sizeof(err));
	(void)ncore_params_reason(p, &a, err, sizeof(err));
	(void)ncore_params_generate(p, &a, &b, err, sizeof(err));
	(void)ncore_params_sign(p, &a, &b, err, sizeof(err));
	(void)ncore_params_name(p, &a, err, sizeof(err));
	{
		unsigned k, n;
		const json_t *x, *y;

		(void)ncore_params_world_generate(p, &k, &n, &x, err, sizeof(err));
		(void)ncore_params_world_load(p, &x, &y, err, sizeof(err));
		(void)ncore_params_blob_sign(p, &x, &a, &y, err, sizeof(err));
	}
	json_decref(p);
	return 0;
}
