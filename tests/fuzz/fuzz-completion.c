/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-completion.c - the value readers of `hsmadmin completion values`
 * (core/lib/completion.c): each line of the input as a modules.d line and
 * as a cache/vcms line.  Whatever completion offers must be a value the
 * commands accept: an ESN that hsm_esn_valid takes, a UUID that
 * hsm_uuid_normalize takes, and nothing else from the line.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "modules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), esn[15], uuid[37], norm[HSM_UUID_LEN + 1];
	size_t pos = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* Lines as fgets gives them: up to and including the newline. */
	while (pos < size) {
		char *nl = memchr(text + pos, '\n', size - pos), save = 0;
		size_t end = nl ? (size_t)(nl - text) + 1 : size;

		if (end < size) {
			save = text[end];
			text[end] = '\0';
		}
		if (hsm_completion_esn_line(text + pos, esn) &&
		    (!hsm_esn_valid(esn) || !strstr(text + pos, esn)))
			__builtin_trap();
		if (hsm_completion_uuid_line(text + pos, uuid) &&
		    (hsm_uuid_normalize(uuid, norm) != 0 || strncmp(text + pos, uuid, 36) != 0))
			__builtin_trap();
		if (end < size)
			text[end] = save;
		pos = end;
	}
	free(text);
	return 0;
}
