/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-npkg.c - libFuzzer target for firmware packages (core/crypto/npkg.c):
 * the manifest parser on the raw bytes, and the streaming reader on the
 * same bytes as a package, fed in chunks whose sizes come from the input.
 * Any bytes must give a defined status and a one-line reason, never a
 * crash, a leak, a hang, or a verified package (nothing is trusted).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npkg.h"

static int one_line(const char *err)
{
	return err[0] && !strchr(err, '\n');
}

static int file_data(void *ctx, const void *data, size_t len, char *err, size_t errlen)
{
	(void)ctx, (void)data, (void)len, (void)err, (void)errlen;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct hsm_npkg_sink sink = { .file_data = file_data };
	struct hsm_npkg_manifest *m = NULL;
	struct hsm_npkg_reader *r;
	char err[512];
	size_t off = 0, step;
	int rc;

	err[0] = '\0';
	rc = hsm_npkg_manifest_parse(data, size, NULL, 0, &m, err, sizeof(err));
	if (rc != 0) {
		if (m || !one_line(err) ||
		    (rc != HSM_NPKG_MALFORMED && rc != HSM_NPKG_UNKNOWN_VERSION))
			abort();
	} else {
		char name[256];
		if (m->trusted || m->text_len != size)
			abort();
		json_decref(hsm_npkg_manifest_json(m));
		hsm_npkg_file_name(m, name, sizeof(name));
		hsm_npkg_manifest_free(m);
	}

	/* The chunk size comes from the first byte: 1..256. */
	step = size ? (size_t)data[0] + 1 : 1;
	for (unsigned flags = 0; flags <= HSM_NPKG_INSPECT; flags++) {
		r = hsm_npkg_reader_new(NULL, 0, flags, &sink, NULL);
		if (!r)
			abort();
		err[0] = '\0';
		rc = 0;
		for (off = 0; rc == 0 && off < size; off += step) {
			size_t n = size - off < step ? size - off : step;
			rc = hsm_npkg_reader_feed(r, data + off, n, err, sizeof(err));
		}
		if (rc == 0)
			rc = hsm_npkg_reader_finish(r, err, sizeof(err));
		if (rc == 0 || !one_line(err) || rc < HSM_NPKG_IO || rc == HSM_NPKG_REFUSED)
			abort(); /* with no trusted key nothing may verify */
		if (hsm_npkg_reader_offset(r) > size)
			abort();
		hsm_npkg_reader_free(r);
	}
	return 0;
}
