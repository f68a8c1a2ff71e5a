/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/tools/keyprot-pem.c - print a protected key file
 * (docs/formats/keys.md) as PKCS#8 PEM, for tests that hand a tenant's
 * key to the stock OpenSSH client.  Reads the protection inputs from the
 * same environment as hsmadmin (HSMADMIN_HOME, HSMADMIN_SYSTEM_UUID_FILE,
 * ...).  Usage: keyprot-pem FILE
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "keyprot.h"

int main(int argc, char **argv)
{
	struct hsm_keyprot_ctx ctx = { .no_prompt = 1, .what = "key" };
	char err[512], *pem;

	if (argc != 2) {
		fprintf(stderr, "usage: keyprot-pem FILE\n");
		return 2;
	}
	if (!(pem = hsm_keyprot_load_pem(argv[1], &ctx, NULL, err, sizeof(err)))) {
		fprintf(stderr, "keyprot-pem: %s\n", err);
		return 1;
	}
	fputs(pem, stdout);
	hsm_keyprot_pem_free(pem);
	return 0;
}
