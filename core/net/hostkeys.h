/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/hostkeys.h - this host's SSH credentials: the per-service
 * client keys and the host keys pinned per HSM at enrollment.
 *
 *   $HSMADMIN_HOME/keys/client/<service>   protected private key (keyprot.h),
 *                                          0600, or 0640 for its group (dirs 0700)
 *   $HSMADMIN_HOME/pins/<ESN>.json         pinned keys (docs/formats/modules.md)
 *
 * Every load and save of a client key goes through this file.  In-tree API of
 * libhsmadmin-net.  Functions return 0 on success, -1 with a one-line
 * reason in err.
 */
#ifndef HSMADMIN_NET_HOSTKEYS_H
#define HSMADMIN_NET_HOSTKEYS_H

#include <stddef.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h> /* HSM_API */
#include "modules.h"

/* A client private key held in memory.  Opaque; one loaded key may be used
 * by many threads at once (each SSH session makes its own copy). */
struct hsm_client_key;

/* Client key files are protected (core/crypto/keyprot.h, docs/formats/
 * keys.md) under the options and group of their service: the options
 * apply when a key is saved, and a load reads them from the file.  An
 * unprotected PEM key of an earlier version (OpenSSH or PKCS#8) still
 * loads when only its owner may read it, and is flagged as legacy. */

HSM_API struct hsm_client_key *hsm_client_key_generate(char *err, size_t errlen);
/* A key object holding its own reference to pkey (an Ed25519 private key). */
HSM_API struct hsm_client_key *hsm_client_key_from_pkey(EVP_PKEY *pkey, char *err, size_t errlen);
/* Load a key file that belongs to no service (a backup, --sshadmin-key):
 * it may be readable by its owner only.  A P key asks for its passphrase
 * (NFAST_KEYPROT_PASS, else the terminal). */
HSM_API struct hsm_client_key *hsm_client_key_load(const char *path, char *err, size_t errlen);
/* Load a key file of a service, anywhere (a roll's new keys): the
 * service's group (NFAST_<SERVICE>_GROUP) may read it; home holds the
 * global nonce (G). */
HSM_API struct hsm_client_key *hsm_client_key_load_as(const char *home, const char *path,
						      const char *service, char *err,
						      size_t errlen);
/* Write key as the key file of service at path: that service's options
 * (NFAST_<SERVICE>_KEYPROT, NFAST_KEYPROT, the default) and group; the
 * global nonce (G) is home's.
 * Without HSM_CLIENT_KEY_REPLACE an existing file is never replaced. */
#define HSM_CLIENT_KEY_REPLACE 1u
HSM_API int hsm_client_key_save(const struct hsm_client_key *key, const char *home,
				const char *path, const char *service, unsigned flags, char *err,
				size_t errlen);
/* "ssh-ed25519 AAAA..." without comment, malloc'ed. */
HSM_API char *hsm_client_key_public(const struct hsm_client_key *key);
/* "SHA256:..." like ssh-keygen -l, malloc'ed. */
HSM_API char *hsm_client_key_fingerprint(const struct hsm_client_key *key);
/* The key as OpenSSL sees it (borrowed; NULL for a legacy OpenSSH-format
 * key, which can be used but not saved again). */
HSM_API EVP_PKEY *hsm_client_key_pkey(const struct hsm_client_key *key);
/* HSM_KEYPROT_* options of the file it was loaded from (0: new or legacy). */
HSM_API unsigned hsm_client_key_options(const struct hsm_client_key *key);
HSM_API int hsm_client_key_is_legacy(const struct hsm_client_key *key);
HSM_API void hsm_client_key_free(struct hsm_client_key *key);

/* $HSMADMIN_HOME/keys/client/<service>. */
HSM_API int hsm_client_key_path(const char *home, const char *service, char *buf, size_t len);
/* Load the key of a service from home. */
HSM_API struct hsm_client_key *hsm_client_key_load_service(const char *home, const char *service,
							   char *err, size_t errlen);
/* Save the key of a service into home (keys/client made 0700). */
HSM_API int hsm_client_key_save_service(const char *home, const char *service,
					const struct hsm_client_key *key, unsigned flags, char *err,
					size_t errlen);
/* Create the client keys of every platform service that has none yet.
 * *created counts the new ones. */
HSM_API int hsm_client_keys_ensure(const char *home, int *created, char *err, size_t errlen);

/* The keys pinned for one HSM. */
struct hsm_pins {
	char esn[HSM_ESN_LEN + 1];
	char *identity_key;             /* OpenSSH line of the device identity key */
	char *host_keys[HSM_SVC_COUNT]; /* OpenSSH lines; NULL: service not enrolled */
	long long pinned;               /* when (Unix seconds) */
	/* Enrolled while the HSM ran its recovery image, which certifies
	 * nothing (guide 4.5.4.1): only then may its log keys come without
	 * certificates.  0 (the member absent, as in pins of earlier
	 * versions): enrolled in primary mode, certificates required. */
	int recovery;
};

/* 0: loaded; 1: no pins for this ESN (not enrolled from this host);
 * -1: the file exists but is unreadable or malformed. */
HSM_API int hsm_pins_load(const char *home, const char *esn, struct hsm_pins *pins, char *err,
			  size_t errlen);
/* Written atomically (0644; the directory 0700). */
HSM_API int hsm_pins_save(const char *home, const struct hsm_pins *pins, char *err, size_t errlen);
/* Forget an HSM (after factory state); absent pins are fine. */
HSM_API int hsm_pins_remove(const char *home, const char *esn, char *err, size_t errlen);
HSM_API void hsm_pins_clear(struct hsm_pins *pins);

/* Is line one well-formed "ssh-ed25519 <base64>" public key (no comment)? */
HSM_API int hsm_ssh_pubkey_valid(const char *line);
/* 0 when both lines hold the same public key. */
HSM_API int hsm_ssh_pubkey_cmp(const char *a, const char *b);

#endif
