/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-clientkey.c - libFuzzer target for loading a client key file
 * (core/net/hostkeys.c): the same path as a key in HSMADMIN_HOME, a
 * --sshadmin-key file or a backup given to keys restore / migrate.  Any
 * bytes - a protected key file, a legacy OpenSSH or PKCS#8 PEM key, or
 * garbage - must give a usable Ed25519 key or a one-line reason, never a
 * crash, a leak or a hang.  Seeds: tests/fuzz/corpus/keyfile (protected
 * files made with the machine inputs set up below) plus any PEM key.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostkeys.h"

static char dir[64], path[96];

/* libssh 0.10.6 leaks a few bytes when an OpenSSH private key names an
 * unknown key type inside its private section (an error path of
 * ssh_pki_import_privkey_base64): not our code, so not our finding. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libssh.so\n";
}

static void cleanup(void)
{
	char f[128];

	unlink(path);
	snprintf(f, sizeof(f), "%s/uuid", dir);
	unlink(f);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char f[128];
	FILE *fp;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/fuzz-clientkey.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(f, sizeof(f), "%s/uuid", dir);
	if (!(fp = fopen(f, "w")))
		abort();
	fputs("4c4c4544-0042-3510-8051-c7c04f325a31\n", fp);
	fclose(fp);
	setenv("HSMADMIN_SYSTEM_UUID_FILE", f, 1);
	setenv("HSMADMIN_BOARD_UUID_FILE", f, 1);
	setenv("HSMADMIN_HOME", dir, 1);
	setenv("NFAST_KEYPROT_PASS", "fuzz", 1);
	setenv("NFAST_SETUP_GROUP", "", 1);
	snprintf(path, sizeof(path), "%s/key", dir);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024] = "";
	struct hsm_client_key *k;
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	k = hsm_client_key_load_as(dir, path, "setup", err, sizeof(err));
	if (k) {
		char *pub = hsm_client_key_public(k);
		if (!pub || !hsm_ssh_pubkey_valid(pub))
			abort(); /* a key that loads is usable */
		free(pub);
		hsm_client_key_free(k);
	} else if (!err[0] || strchr(err, '\n')) {
		abort();
	}
	return 0;
}
