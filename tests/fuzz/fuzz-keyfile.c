/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-keyfile.c - libFuzzer target for the protected key file parser
 * (core/crypto/keyprot.c, docs/formats/keys.md).  Any bytes must give a key
 * or a one-line reason, never a crash, a leak or a hang.
 *
 * The machine inputs are fixed files made at start-up, the same values
 * tests/fuzz/corpus/keyfile/ was written with (see make_corpus below), so
 * the seeds decrypt and the fuzzer explores past the header.  There is no
 * passphrase: a P file must fail before any scrypt work, or the fuzzer
 * would crawl.
 *
 *   fuzz-keyfile -runs=0 corpus/keyfile            replay the corpus
 *   FUZZ_KEYFILE_MAKE_CORPUS=DIR fuzz-keyfile -runs=0 EMPTYDIR
 *                                                  rewrite the seeds
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyprot.h"

static struct hsm_keyprot_ctx ctx;
static char dir[64], suuid[96], buuid[96], gnonce[96];

static void put(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
	chmod(path, 0600);
}

static void make_corpus(const char *out)
{
	static const char *const sets[] = { "K", "F", "KF", "KFSG", "KFSBG", "SB", "G", "KFSBGP" };
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct hsm_keyprot_ctx c = ctx;
	char err[512], path[512];

	c.passphrase = "fuzz";
	for (size_t i = 0; key && i < sizeof(sets) / sizeof(sets[0]); i++) {
		unsigned opts;
		uint8_t *buf;
		size_t len;

		if (hsm_keyprot_parse(sets[i], &opts, err, sizeof(err)) != 0 ||
		    hsm_keyprot_seal(key, opts, &c, &buf, &len, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", sets[i], err);
			exit(1);
		}
		snprintf(path, sizeof(path), "%s/%s.key", out, sets[i]);
		put(path, buf, len);
		free(buf);
	}
	EVP_PKEY_free(key);
}

static void cleanup(void)
{
	unlink(suuid);
	unlink(buuid);
	unlink(gnonce);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t g[32] = "fuzz global nonce, 32 bytes long";
	const char *out = getenv("FUZZ_KEYFILE_MAKE_CORPUS");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/fuzz-keyfile.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(suuid, sizeof(suuid), "%s/product_uuid", dir);
	snprintf(buuid, sizeof(buuid), "%s/board_serial", dir);
	snprintf(gnonce, sizeof(gnonce), "%s/global.nonce", dir);
	put(suuid, "0f0e0d0c-0b0a-0908-0706-050403020100\n", 37);
	put(buuid, "FUZZBOARD01\n", 12);
	put(gnonce, g, sizeof(g));
	atexit(cleanup);
	unsetenv("NFAST_KEYPROT_PASS");
	ctx.home = dir;
	ctx.system_uuid_file = suuid;
	ctx.board_uuid_file = buuid;
	ctx.global_nonce_file = gnonce;
	ctx.no_prompt = 1;
	if (out)
		make_corpus(out);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	unsigned opts = 0, opened = 0;
	int inspected;
	EVP_PKEY *key;

	err[0] = '\0';
	inspected = hsm_keyprot_inspect(data, size, &opts, err, sizeof(err));
	if (inspected != 0 && (!err[0] || strchr(err, '\n')))
		abort();
	err[0] = '\0';
	key = hsm_keyprot_open(data, size, &ctx, &opened, err, sizeof(err));
	if (!key) {
		if (!err[0] || strchr(err, '\n'))
			abort(); /* a failure says why, in one line */
		return 0;
	}
	/* Only a well-framed file can open, and it reports the same options. */
	if (inspected != 0 || opened != opts || (opts & HSM_KEYPROT_P))
		abort();
	EVP_PKEY_free(key);
	return 0;
}
