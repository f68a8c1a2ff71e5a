/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/tools/keyexport.c - for tests only: decrypt a protected client key
 * file and write it as an unencrypted OpenSSH private key (0600, never
 * replacing a file), so that the stock OpenSSH client of the integration
 * tests can log in with this host's keys.
 *
 *   keyexport SERVICE KEYFILE OUTFILE
 *
 * It is built into no installed program: hsmadmin itself never writes a
 * private key in the clear.  It compiles core/net/hostkeys.c in, to reach
 * the libssh view of a key that libhsmadmin-net keeps hidden.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostkeys-ssh.h"

int main(int argc, char **argv)
{
	char err[1024], *b64 = NULL;
	struct hsm_client_key *key;
	ssh_key k;
	int fd, rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: keyexport SERVICE KEYFILE OUTFILE\n");
		return 2;
	}
	key = hsm_client_key_load_as(NULL, argv[2], argv[1], err, sizeof(err));
	if (!key) {
		fprintf(stderr, "keyexport: %s\n", err);
		return 1;
	}
	k = hsm_client_key_ssh(key);
	if (k && ssh_pki_export_privkey_base64(k, NULL, NULL, NULL, &b64) == SSH_OK) {
		fd = open(argv[3], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 && write(fd, b64, strlen(b64)) == (ssize_t)strlen(b64) &&
		    close(fd) == 0)
			rc = 0;
		else
			fprintf(stderr, "keyexport: %s: %s\n", argv[3], strerror(errno));
	} else {
		fprintf(stderr, "keyexport: cannot export the key\n");
	}
	ssh_string_free_char(b64);
	ssh_key_free(k);
	hsm_client_key_free(key);
	return rc;
}
