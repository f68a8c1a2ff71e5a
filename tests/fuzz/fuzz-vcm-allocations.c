/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the machine-wide table of VCM allocations
 * (firmware/hsmd/vcmalloc.c).  The first byte picks the parser: 'c' a
 * claim file (hsms/HSM/UUID and its links index/N, address/A), 's' an
 * HSM's state marker (hsms/HSM/state), anything else a whole version 1
 * table (the input itself: read once, to convert it). */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vcmalloc.h"
#include "vcmrules.h"

/* A refusal says why, in one line. */
static void check_refusal(const char *err)
{
	if (!err[0] || strchr(err, '\n'))
		__builtin_trap();
}

static void claim(const char *text, size_t len)
{
	struct hd_vcmalloc_claim c;
	char err[512] = "";

	if (hd_vcmalloc_parse_claim(text, len, &c, err, sizeof(err)) != 0) {
		check_refusal(err);
		return;
	}
	/* What is accepted names files: no '/', no '.', nothing odd. */
	if (strlen(c.hsm) != HD_VCMALLOC_HSMLEN || !fw_uuid_valid(c.uuid) || c.index < 1 ||
	    !c.address[0] || strpbrk(c.address, "/ \n") || c.address[0] == '.')
		__builtin_trap();
}

static void state(const char *text, size_t len)
{
	char path[PATH_MAX], err[512] = "";

	if (hd_vcmalloc_parse_state(text, len, path, sizeof(path), err, sizeof(err)) != 0) {
		check_refusal(err);
		return;
	}
	if (path[0] != '/' || strchr(path, '\n'))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	json_t *doc;

	if (size > 0 && (data[0] == 'c' || data[0] == 's')) {
		/* a copy: the parsers may read up to len only */
		char *text = malloc(size - 1 ? size - 1 : 1);
		if (!text)
			return 0;
		memcpy(text, data + 1, size - 1);
		if (data[0] == 'c')
			claim(text, size - 1);
		else
			state(text, size - 1);
		free(text);
		return 0;
	}
	doc = hd_vcmalloc_parse((const char *)data, size, err, sizeof(err));
	if (!doc) {
		check_refusal(err);
		return 0;
	}
	/* What is accepted has the shape the conversion relies on. */
	if (!json_is_array(json_object_get(doc, "vcms")))
		__builtin_trap();
	json_decref(doc);
	return 0;
}
