/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-signed-log.c - libFuzzer target for the signed log reader
 * (core/crypto/signed-log.c): exported segment files as `logs verify` and
 * the export check read them, and key files as `logs verify --key` reads
 * them.  Any bytes must give a verdict with a one-line reason, never a
 * crash, a leak or a hang; the frame scanner must always make progress;
 * and the same bytes arriving in pieces (a streamed export) must get the
 * same verdict as whole.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signed-log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct hsm_slog_verifier *v = hsm_slog_verifier_new();
	const char *nul = memchr(buf, '\0', size);
	char err[768];
	size_t pos = 0, keylen = 0, cut;
	int whole, pieces;
	json_t *sum;

	/* Walk every frame the way the device's recovery does. */
	while (pos < size) {
		const char *json;
		size_t jlen, before = pos;
		int r = hsm_slog_next_frame(buf, size, &pos, &json, &jlen);
		if (r == 1) {
			json_t *e = hsm_slog_entry_parse(json, jlen, err, sizeof(err));
			json_decref(e);
			if (pos <= before)
				__builtin_trap();
		} else if (r == 0) {
			break;
		} else {
			pos = hsm_slog_resync(buf, size, before);
			if (pos <= before)
				__builtin_trap();
		}
	}
	/* "key file\0segment": a key file first when the input has a NUL. */
	if (nul) {
		keylen = (size_t)(nul - buf);
		err[0] = '\0';
		if (hsm_slog_verifier_pin_file(v, buf, keylen, err, sizeof(err)) != 0 &&
		    (!err[0] || strchr(err, '\n')))
			__builtin_trap();
		keylen++;
	}
	err[0] = '\0';
	whole = hsm_slog_verifier_feed(v, "fuzz", buf + keylen, size - keylen, err, sizeof(err));
	if (whole != 0 && (!err[0] || strchr(err, '\n')))
		__builtin_trap();
	sum = hsm_slog_verifier_summary(v);
	json_decref(sum);
	hsm_slog_verifier_free(v);
	/* The same segment in pieces of 1..97 bytes (the first byte says). */
	v = hsm_slog_verifier_new();
	if (nul)
		hsm_slog_verifier_pin_file(v, buf, keylen - 1, err, sizeof(err));
	cut = size ? (size_t)data[0] % 97 + 1 : 1;
	pieces = hsm_slog_verifier_begin(v, "fuzz", err, sizeof(err));
	for (size_t at = keylen; pieces == 0 && at < size; at += cut)
		pieces = hsm_slog_verifier_push(v, buf + at, size - at < cut ? size - at : cut, err,
						sizeof(err));
	if (pieces == 0)
		pieces = hsm_slog_verifier_end(v, err, sizeof(err));
	if ((pieces != 0) != (whole != 0))
		__builtin_trap();
	hsm_slog_verifier_free(v);
	return 0;
}
