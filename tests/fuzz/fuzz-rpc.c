/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-rpc.c - an exec command and its stdin, parsed as hsmd's server does
 * (firmware/hsmd/rpc.c): the first line is the command, the rest params. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t clen = nl ? (size_t)(nl - (const char *)data) : size;
	char cmd[256], method[HD_COMMAND_MAX], err[256];
	json_t *p;
	char *reply;
	size_t rlen;

	if (clen >= sizeof(cmd))
		clen = sizeof(cmd) - 1;
	memcpy(cmd, data, clen);
	cmd[clen] = '\0';
	hd_rpc_method(cmd, method, sizeof(method), err, sizeof(err));
	p = nl ? hd_rpc_params(nl + 1, size - (size_t)(nl - (const char *)data) - 1, err,
			       sizeof(err))
	       : json_object();
	reply = hd_rpc_reply(p ? 0 : 2, p, p ? NULL : err, &rlen);
	free(reply);
	json_decref(p);
	return 0;
}
