/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/world.h - the tenant's Security World: the world file, the
 * administrator cards and the key blobs (docs/formats/world.md), their
 * strict parsers, and the cryptography the VCM does with them.
 *
 * In-tree API of libhsmadmin-crypto: the parsers serve the host tools
 * (world info, key list) and the ncoreapi service; the generate / unlock /
 * wrap / unwrap functions are meant for the VCM only, where the module key
 * lives.  Functions return 0, or -1 with a one-line reason in err.
 */
#ifndef HSMADMIN_NET_WORLD_H
#define HSMADMIN_NET_WORLD_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#define HSM_WORLD_ID_HEX 32  /* 16 random bytes, lower-case hex */
#define HSM_WORLD_KEY_LEN 32 /* the module key and the admin secret */
#define HSM_WORLD_MAX_CARDS 64
#define HSM_WORLD_PASS_MAX 1023
#define HSM_WORLD_IV_LEN 12
#define HSM_WORLD_TAG_LEN 16
#define HSM_WORLD_SALT_LEN 16
#define HSM_WORLD_BLOB_MAX 4096 /* wrapped private key bytes */
#define HSM_WORLD_FILE_MAX (64u * 1024u)

/* Key permissions bound into a blob. */
#define HSM_KEY_PERM_SIGN 1u

/* A world file, parsed and its signature checked against the key it
 * carries (the unlock then proves that key is the world's own). */
struct hsm_world {
	char id[HSM_WORLD_ID_HEX + 1];
	unsigned k, n;
	long long created;
	char created_vcm[40];
	char created_esn[40];
	uint8_t iv[HSM_WORLD_IV_LEN];
	uint8_t wrapped[HSM_WORLD_KEY_LEN + HSM_WORLD_TAG_LEN];
	EVP_PKEY *signer;
};
HSM_API int hsm_world_parse(const json_t *doc, struct hsm_world *w, char *err, size_t errlen);
HSM_API void hsm_world_clear(struct hsm_world *w);

/* An administrator card: one share of the admin secret, sealed under its
 * holder's passphrase (scrypt, AES-256-GCM). */
struct hsm_world_card {
	char world[HSM_WORLD_ID_HEX + 1];
	unsigned index, k, n;
	unsigned log2n, r, p;
	uint8_t salt[HSM_WORLD_SALT_LEN];
	uint8_t iv[HSM_WORLD_IV_LEN];
	uint8_t sealed[HSM_WORLD_KEY_LEN + HSM_WORLD_TAG_LEN];
};
HSM_API int hsm_world_card_parse(const json_t *doc, struct hsm_world_card *c, char *err,
				 size_t errlen);

/* A key blob: a private key wrapped by the world's module key, bound to
 * its world, name, type, permissions and public key. */
struct hsm_key_blob {
	char world[HSM_WORLD_ID_HEX + 1];
	char name[65];
	char type[16];
	unsigned perms;
	long long created;
	char *public_pem; /* malloc'ed */
	uint8_t iv[HSM_WORLD_IV_LEN];
	uint8_t *wrapped; /* malloc'ed, wrapped_len bytes (tag included) */
	size_t wrapped_len;
};
HSM_API int hsm_key_blob_parse(const json_t *doc, struct hsm_key_blob *b, char *err, size_t errlen);
HSM_API void hsm_key_blob_clear(struct hsm_key_blob *b);

/* A key name: 1-64 of A-Z a-z 0-9 _ . - (also the file name in kmdata). */
HSM_API int hsm_world_key_name_valid(const char *name);

/* --- the VCM's side --------------------------------------------------- */

/* Make a new world: a random world ID, module key and admin secret; the
 * admin secret split k of n, share i sealed under pass[i]; the module key
 * wrapped by the admin secret; the file signed by the world's signing key
 * (derived from the module key).  *world and *cards (an array of n card
 * documents) are new references.  The module key and the admin secret
 * exist only inside this call. */
HSM_API int hsm_world_generate(unsigned k, unsigned n, const char *const *pass, const char *vcm,
			       const char *esn, long long now, json_t **world, json_t **cards,
			       char *err, size_t errlen);

/* Open one card with its passphrase: its 32-byte share. */
HSM_API int hsm_world_card_open(const struct hsm_world_card *c, const char *pass,
				uint8_t share[HSM_WORLD_KEY_LEN], char *err, size_t errlen);

/* Combine count >= w->k opened shares (card indexes xs) and unwrap the
 * module key; checks that the world file was signed by this world. */
HSM_API int hsm_world_unlock(const struct hsm_world *w, const uint8_t *xs,
			     const uint8_t (*shares)[HSM_WORLD_KEY_LEN], unsigned count,
			     uint8_t mk[HSM_WORLD_KEY_LEN], char *err, size_t errlen);

/* Wrap a private key into a blob document (new reference). */
HSM_API json_t *hsm_key_blob_wrap(const uint8_t mk[HSM_WORLD_KEY_LEN], const char *world,
				  const char *name, const char *type, unsigned perms, EVP_PKEY *key,
				  long long now, char *err, size_t errlen);
/* Unwrap a parsed blob with the module key of its world. */
HSM_API EVP_PKEY *hsm_key_blob_unwrap(const uint8_t mk[HSM_WORLD_KEY_LEN],
				      const struct hsm_key_blob *b, char *err, size_t errlen);

#endif
