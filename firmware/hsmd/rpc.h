/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rpc.h - the request and reply formats of docs/protocol.md, separate from
 * SSH so that the fuzz target runs exactly what the server runs.
 */
#ifndef HD_RPC_H
#define HD_RPC_H

#include <stddef.h>
#include <jansson.h>

#define HD_PARAMS_MAX 65536u /* bytes of params on stdin */
#define HD_COMMAND_MAX 64u   /* bytes of an exec command we look at */

/* The method name of an exec command: exactly one name, nothing else.
 * Returns 0 and copies it to out, or -1 with a reason. */
int hd_rpc_method(const char *command, char *out, size_t outlen, char *err, size_t errlen);

/* The params object of stdin: empty (or only white space) is {}, more
 * than HD_PARAMS_MAX bytes, invalid JSON, duplicate keys or anything but
 * an object is an error.  New reference or NULL with a reason. */
json_t *hd_rpc_params(const char *buf, size_t len, char *err, size_t errlen);

/* The params line of a streaming method, gathered from the reads of its
 * channel: the bytes of data up to the first newline are appended to *buf
 * (*len bytes so far, kept NUL-terminated; the newline ends the params and
 * is not kept).  Returns the bytes of data used: all of them while no
 * newline came (*done 0), up to and including the newline when it came
 * (*done 1; what follows is the stream).  -1 when the line would pass
 * HD_PARAMS_MAX bytes or memory ran out; *buf is left as it was. */
long hd_rpc_head_feed(char **buf, size_t *len, const char *data, size_t dlen, int *done);

/* "failed", "bad_request", ... for an exit status. */
const char *hd_rpc_code(int status);

/* The bytes to send: the result (status 0) or the error envelope, one
 * line of JSON.  malloc'ed; *len set. */
char *hd_rpc_reply(int status, const json_t *result, const char *message, size_t *len);

#endif
