/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/hostkeys-ssh.h - libssh views of hostkeys.h objects, for the
 * transport; only hsm_client_key_ssh is exported (tests/tools/keyexport
 * writes a client key for the stock ssh with it).
 */
#ifndef HSMADMIN_NET_HOSTKEYS_SSH_H
#define HSMADMIN_NET_HOSTKEYS_SSH_H

#include <libssh/libssh.h>
#include "hostkeys.h"

/* A fresh libssh private key for one session (the caller frees it with
 * ssh_key_free), or NULL. */
HSM_API ssh_key hsm_client_key_ssh(const struct hsm_client_key *key);
/* The same key imported once at load time, owned by key (do not free):
 * for authenticating many sessions without importing it each time. */
HSM_API ssh_key hsm_client_key_ssh_shared(const struct hsm_client_key *key);
/* An OpenSSH public key line as a libssh key, or NULL. */
ssh_key hsm_ssh_pubkey_import(const char *line);
/* The OpenSSH line of a libssh public key into buf; -1 if it does not fit. */
int hsm_ssh_pubkey_line(const ssh_key key, char *buf, size_t len);

#endif
