/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-updater.c - what the updater's streaming `upgrade` reads: hsmd
 * gathers the params line from reads of any size (hd_rpc_head_feed),
 * parses it (hd_rpc_params), the updater checks it
 * (updater_params_upgrade), and the bytes after the newline go to the
 * package reader as they arrive.  The first input byte sets the read size.
 *
 * Invariants: the gathered line is the input's bytes up to the first
 * newline whatever the read size, and nothing after it is taken; an
 * accepted params object holds only the three flags; with no trusted key
 * no package verifies.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npkg.h"
#include "rpc.h"
#include "updater-params.h"

static int file_data(void *ctx, const void *data, size_t len, char *err, size_t errlen)
{
	(void)ctx, (void)data, (void)len, (void)err, (void)errlen;
	return 0;
}

static void one_line(const char *err)
{
	if (!err[0] || strchr(err, '\n'))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct hsm_npkg_sink sink = { .file_data = file_data };
	const char *in = (const char *)data + (size ? 1 : 0);
	size_t len = size ? size - 1 : 0, step = size ? (size_t)data[0] + 1 : 1, off = 0;
	const char *nl = memchr(in, '\n', len);
	char *head = NULL, err[512];
	size_t hlen = 0;
	int done = 0, rc;
	json_t *p;

	while (off < len && !done) {
		size_t n = len - off < step ? len - off : step;
		long took = hd_rpc_head_feed(&head, &hlen, in + off, n, &done);
		if (took < 0) {
			if (nl ? (size_t)(nl - in) + 1 <= HD_PARAMS_MAX : len <= HD_PARAMS_MAX)
				__builtin_trap(); /* refused a line within the limit */
			free(head);
			return 0;
		}
		if ((size_t)took > n || (!done && (size_t)took != n))
			__builtin_trap();
		off += (size_t)took;
	}
	if (done != (nl != NULL) || (nl && off != (size_t)(nl - in) + 1) ||
	    hlen != (nl ? (size_t)(nl - in) : len) || (hlen && memcmp(head, in, hlen) != 0))
		__builtin_trap();

	err[0] = '\0';
	p = hd_rpc_params(head ? head : "", hlen, err, sizeof(err));
	free(head);
	if (!p) {
		one_line(err);
		return 0;
	}
	{
		struct upgrade_params up;
		err[0] = '\0';
		if (updater_params_upgrade(p, &up, err, sizeof(err)) == 0) {
			if (json_object_size(p) > 3)
				__builtin_trap();
		} else if (!err[0]) {
			__builtin_trap(); /* (hsmd makes the reply one line) */
		}
	}
	json_decref(p);

	/* The stream behind the params line, as hsmd_image_write reads it. */
	{
		struct hsm_npkg_reader *r = hsm_npkg_reader_new(NULL, 0, 0, &sink, NULL);
		if (!r)
			abort();
		err[0] = '\0';
		rc = 0;
		while (rc == 0 && off < len) {
			size_t n = len - off < step ? len - off : step;
			rc = hsm_npkg_reader_feed(r, in + off, n, err, sizeof(err));
			off += n;
		}
		if (rc == 0)
			rc = hsm_npkg_reader_finish(r, err, sizeof(err));
		if (rc == 0)
			__builtin_trap(); /* nothing is trusted */
		one_line(err);
		hsm_npkg_reader_free(r);
	}
	return 0;
}
