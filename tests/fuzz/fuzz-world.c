/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-world.c - libFuzzer target for the Security World's parsers
 * (core/crypto/world.c): the world file, administrator cards and key blobs.
 * Any bytes must parse or give a one-line reason, never a crash, a leak or
 * a hang.  Every input is tried as all three (the format member decides
 * which one can accept it).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "world.h"

static void one_line(int rc, const char *err)
{
	if (rc != 0 && (!err[0] || strchr(err, '\n')))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *doc =
	    hsm_json_parse((const char *)data, size, HSM_WORLD_FILE_MAX, err, sizeof(err));
	struct hsm_world w;
	struct hsm_world_card c;
	struct hsm_key_blob b;
	int rc;

	if (!doc)
		return 0;
	err[0] = '\0';
	rc = hsm_world_parse(doc, &w, err, sizeof(err));
	one_line(rc, err);
	if (rc == 0) {
		if (w.k < 1 || w.k > w.n || !w.signer)
			abort();
		hsm_world_clear(&w);
	}
	err[0] = '\0';
	rc = hsm_world_card_parse(doc, &c, err, sizeof(err));
	one_line(rc, err);
	if (rc == 0 && (c.index < 1 || c.index > c.n || c.k > c.n))
		abort();
	err[0] = '\0';
	rc = hsm_key_blob_parse(doc, &b, err, sizeof(err));
	one_line(rc, err);
	if (rc == 0) {
		if (!hsm_world_key_name_valid(b.name) || b.wrapped_len <= 16)
			abort();
		hsm_key_blob_clear(&b);
	}
	json_decref(doc);
	return 0;
}
