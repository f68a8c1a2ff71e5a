/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-signed-log.c - libFuzzer target for the signed log reader
 * (core/crypto/signed-log.c): exported segment files as `logs verify` and
 * the export check read them, and key files as `logs verify --key` reads
 * them.  Any bytes must give a verdict with a one-line reason, never a
 * crash, a leak or a hang; the frame scanner must always make progress;
 * the same bytes arriving in pieces (a streamed export) must get the
 * same verdict as whole; and the verifier's fast reading of entries
 * (hsm_slog_entry_scan) must never vouch for an entry the full parse
 * refuses or reads otherwise, nor change a verdict or its reason.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signed-log.h"

/* The scanner vouches only for what jansson reads the same. */
static void scan_agrees(const char *json, size_t jlen)
{
	struct hsm_slog_fields f;
	char err[256];
	json_t *e;

	if (!hsm_slog_entry_scan(json, jlen, &f))
		return;
	e = hsm_slog_entry_parse(json, jlen, err, sizeof(err));
	if (!e || json_integer_value(json_object_get(e, "seq")) != f.seq ||
	    json_integer_value(json_object_get(e, "seg")) != f.seg ||
	    json_integer_value(json_object_get(e, "time")) != f.time ||
	    strlen(json_string_value(json_object_get(e, "event"))) != f.event_len ||
	    memcmp(json_string_value(json_object_get(e, "event")), f.event, f.event_len) != 0 ||
	    memcmp(json_string_value(json_object_get(e, "prev")), f.prev, 2 * HSM_SLOG_HASH_LEN) !=
		0)
		__builtin_trap();
	json_decref(e);
}

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
			scan_agrees(json, jlen);
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
	scan_agrees(buf, size); /* the input as one entry's JSON */
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
	/* Every entry parsed in full: the same verdict and reason. */
	{
		char full[768] = "";
		int rc;
		v = hsm_slog_verifier_new();
		hsm_slog_verifier_fast(v, 0);
		if (nul)
			hsm_slog_verifier_pin_file(v, buf, keylen - 1, full, sizeof(full));
		full[0] = '\0';
		rc = hsm_slog_verifier_feed(v, "fuzz", buf + keylen, size - keylen, full,
					    sizeof(full));
		if (rc != whole || (rc != 0 && strcmp(full, err) != 0))
			__builtin_trap();
		hsm_slog_verifier_free(v);
	}
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
