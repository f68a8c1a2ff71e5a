/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the option parser.  Input bytes are split at NUL into
 * argv words and parsed against a table with every option kind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"

static const struct hsm_option o[] = {
	{ .name = "name", .short_name = 'n', .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED },
	{ .name = "timeout", .type = HSM_OPT_INT, .min = 3, .max = 120, .defval = "30" },
	{ .name = "esn", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REPEATABLE },
	{ .name = "a", .type = HSM_OPT_FLAG, .group = 1 },
	{ .name = "b", .type = HSM_OPT_FLAG, .group = 1 },
	{ .name = "file",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED },
	{ .name = "more",
	  .type = HSM_OPT_INT,
	  .min = -5,
	  .max = 5,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REPEATABLE },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hsm_option *specs[7];
	char *buf = malloc(size + 1), *argv[64], err[256];
	int argc = 0;
	struct hsm_parsed p;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0, start = 0; i <= size && argc < 64; i++)
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	for (int i = 0; i < 7; i++)
		specs[i] = &o[i];
	if (hsm_opts_parse(specs, 7, argc, argv, &p, err, sizeof(err)) == 0 && !p.help) {
		/* A successful parse must satisfy the declared rules. */
		const struct hsm_optval *v = hsm_opts_find(&p, "name");
		if (!v || v->count != 1)
			abort();
		v = hsm_opts_find(&p, "timeout");
		if (v->count) {
			int64_t t;
			if (hsm_parse_int64(v->vals[0], &t) != 0 || t < 3 || t > 120)
				abort();
		}
		if (hsm_opts_find(&p, "a")->count && hsm_opts_find(&p, "b")->count)
			abort();
	}
	hsm_opts_free(&p);
	free(buf);
	return 0;
}
