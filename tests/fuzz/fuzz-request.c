/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-request.c - libFuzzer target for the tenant request parser
 * (core/crypto/request.c): any bytes must give a request or a one-line
 * reason, never a crash, a leak or a hang; whatever parses must survive
 * signature and time checks.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_request *req = NULL;
	char err[512];

	if (hsm_request_parse(data, size, &req, err, sizeof(err)) != 0) {
		if (req || !err[0] || strchr(err, '\n'))
			abort(); /* a failure must leave no request and say why in one line */
		return 0;
	}
	/* Parsed: the other steps must cope with whatever the parser let in. */
	hsm_request_verify(req, NULL, err, sizeof(err));
	hsm_request_verify(req, req->signer, err, sizeof(err));
	hsm_request_check_time(req, 1700000000, HSM_REQUEST_DEFAULT_SKEW, err, sizeof(err));
	hsm_request_check_time(req, INT64_MAX, 0, err, sizeof(err));
	hsm_request_free(req);
	return 0;
}
