/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-generatekey-params.c - generatekey's NAME=VALUE parameters
 * (plugins/vcmkeys/genparams.c).  Input: the parameters, one per line.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "genparams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *save = NULL;
	const char *args[32];
	size_t n = 0;
	struct gk_params p;
	char err[256];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line && n < 32; line = strtok_r(NULL, "\n", &save))
		args[n++] = line;
	err[0] = '\0';
	if (gk_params_parse(args, n, &p, err, sizeof(err)) == 0) {
		/* Accepted: a known type and a non-empty name that fits. */
		if ((strcmp(p.type, "ed25519") != 0 && strcmp(p.type, "p256") != 0) ||
		    !p.ident[0] || strlen(p.ident) > 64)
			__builtin_trap();
	} else if (!err[0]) {
		__builtin_trap();
	}
	free(text);
	return 0;
}
