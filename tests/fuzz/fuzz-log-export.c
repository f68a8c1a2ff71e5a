/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-log-export.c - the host's check of an exported log segment
 * (hsm_slog_verify_export, used by `hsmadmin logs export` and `vcmadmin
 * logs export` before anything is written): the certified log keys of a
 * logs_getkey reply, then the segment against them.
 *
 * Input: "<keys>\0<segment>".  <keys> is either the JSON array a
 * logs_getkey reply holds, taken as it is, or one OpenSSH key line that
 * the target certifies (epoch 1 from seq 1) with its own identity key, so
 * that segments signed by that key reach the anchored checks.  Without a
 * NUL the whole input is the segment, checked against a key of no one.
 *
 * Each input is checked twice: against the certified keys, and as in
 * recovery mode against the keys without their certificates (signer NULL,
 * hsm_slog_verifier_pin_uncertified).
 *
 * Invariants: a refusal names its reason on one line; an accepted segment
 * is segment 1 of the system log of the ESN asked for, and anchored; a
 * segment accepted against certified keys is accepted against the same
 * keys uncertified (only the certificate check is left out).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "sign.h"
#include "signed-log.h"

#define ESN "1A23-BC45-6789"

static EVP_PKEY *identity;

/* [{"epoch":1,"since":1,"key":line,"certificate":<signed by identity>}] */
static json_t *certified(const char *line)
{
	char err[256];
	json_t *body = json_pack("{s:i, s:i, s:s, s:s, s:s}", "epoch", 1, "since", 1, "key", line,
				 "esn", ESN, "log", "system");
	json_t *cert = body ? hsm_signed_wrap(body, identity, err, sizeof(err)) : NULL;

	json_decref(body);
	if (!cert)
		return NULL;
	return json_pack("[{s:i, s:i, s:s, s:o}]", "epoch", 1, "since", 1, "key", line,
			 "certificate", cert);
}

/* One check of the segment against keys (signer NULL: uncertified); 1
 * accepted, 0 refused, the invariants trapped. */
static int check(const char *seg, size_t len, const json_t *keys, EVP_PKEY *signer)
{
	char err[768] = "";
	json_t *sum =
	    hsm_slog_verify_export(seg, len, keys, signer, ESN, "system", 1, err, sizeof(err));

	if (sum) {
		if (!json_is_true(json_object_get(sum, "anchored")) ||
		    strcmp(json_string_value(json_object_get(sum, "esn")), ESN) != 0 ||
		    strcmp(json_string_value(json_object_get(sum, "log")), "system") != 0)
			__builtin_trap();
		json_decref(sum);
		return 1;
	}
	if (!err[0] || strchr(err, '\n'))
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *nul = memchr(buf, '\0', size);
	char err[768];
	size_t klen = nul ? (size_t)(nul - buf) : 0;
	json_t *keys;
	int ok;

	if (!identity && !(identity = hsm_ed25519_generate(err, sizeof(err))))
		abort();
	if (!nul) {
		EVP_PKEY *nobody = hsm_ed25519_generate(err, sizeof(err));
		char *line = nobody ? hsm_key_to_openssh(nobody) : NULL;
		keys = line ? certified(line) : NULL;
		free(line);
		EVP_PKEY_free(nobody);
	} else if (klen && buf[0] == '[') {
		keys = hsm_json_parse(buf, klen, 0, err, sizeof(err));
	} else {
		char *line = strndup(buf, klen);
		keys = line ? certified(line) : NULL;
		free(line);
	}
	if (!keys)
		return 0;
	ok = check(nul ? nul + 1 : buf, nul ? size - klen - 1 : size, keys, identity);
	if (check(nul ? nul + 1 : buf, nul ? size - klen - 1 : size, keys, NULL) < ok)
		__builtin_trap();
	json_decref(keys);
	return 0;
}
