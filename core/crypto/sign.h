/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/sign.h - Ed25519 keys, signatures and canonical JSON.
 *
 * In-tree API of libhsmadmin-net (exported for the in-tree plugins and
 * hsmd; not installed, no stability promise to vendors).  Every signed
 * object in hsmadmin (tenant requests, device certificates, warrants,
 * licences, packages, log segments) is: canonical JSON bytes of a body,
 * plus a detached Ed25519 signature over exactly those bytes.
 *
 * Functions return 0 on success, -1 with a one-line reason in err.
 */
#ifndef HSMADMIN_NET_SIGN_H
#define HSMADMIN_NET_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#define HSM_ED25519_PUB_LEN 32
#define HSM_ED25519_SIG_LEN 64

/* New Ed25519 key pair. */
HSM_API EVP_PKEY *hsm_ed25519_generate(char *err, size_t errlen);

/* Sign / verify exactly len bytes.  verify returns 0 only for a valid
 * signature of exactly HSM_ED25519_SIG_LEN bytes. */
HSM_API int hsm_ed25519_sign(EVP_PKEY *key, const void *data, size_t len,
			     uint8_t sig[HSM_ED25519_SIG_LEN], char *err, size_t errlen);
HSM_API int hsm_ed25519_verify(EVP_PKEY *pub, const void *data, size_t len, const uint8_t *sig,
			       size_t siglen);

/* Raw 32-byte public key <-> EVP_PKEY. */
HSM_API int hsm_ed25519_pub_raw(EVP_PKEY *key, uint8_t out[HSM_ED25519_PUB_LEN]);
HSM_API EVP_PKEY *hsm_ed25519_from_pub_raw(const uint8_t *raw, size_t len);

/* OpenSSH public key line "ssh-ed25519 AAAA..." (no comment) <-> key.
 * The returned string is malloc'ed. */
HSM_API char *hsm_key_to_openssh(EVP_PKEY *key);
HSM_API EVP_PKEY *hsm_key_from_openssh(const char *line, char *err, size_t errlen);

/* A key line that must be exactly "ssh-ed25519 <base64>" as we write it
 * (no comment, canonical base64).  field names it in the reason. */
HSM_API EVP_PKEY *hsm_key_from_openssh_strict(const char *field, const char *line, char *err,
					      size_t errlen);

/* Are two Ed25519 keys the same key?  (Constant time on the raw bytes.) */
HSM_API int hsm_key_equal(EVP_PKEY *a, EVP_PKEY *b);

/* The "signature" member of a signed file parsed strictly: exactly
 * {"alg":"ed25519","key":<strict key line>,"sig":<88 base64 chars>}.
 * Returns 0 and the signer's key (new reference), or -1 with a reason. */
HSM_API int hsm_signature_block_parse(const json_t *block, EVP_PKEY **signer, char *err,
				      size_t errlen);

/* OpenSSH-style fingerprint "SHA256:<base64 without padding>" of the key's
 * SSH wire blob, the same text `ssh-keygen -lf` prints.  malloc'ed. */
HSM_API char *hsm_key_fingerprint(EVP_PKEY *key);

/* Private keys as PKCS#8 PEM (unencrypted; the keys issue adds protection).
 * save: atomic, mode 0600, refuses to replace an existing file unless
 * overwrite.  load: refuses a file readable by group or others. */
HSM_API int hsm_key_save_private(const char *path, EVP_PKEY *key, int overwrite, char *err,
				 size_t errlen);
HSM_API EVP_PKEY *hsm_key_load_private(const char *path, char *err, size_t errlen);
/* A public key from a file: PEM "PUBLIC KEY" or one OpenSSH line. */
HSM_API EVP_PKEY *hsm_key_load_public(const char *path, char *err, size_t errlen);
/* Public key as PEM text, malloc'ed. */
HSM_API char *hsm_key_public_pem(EVP_PKEY *key);

/* Canonical JSON: compact, keys sorted, exactly what is signed. */
HSM_API char *hsm_json_canonical(const json_t *doc, size_t *len);

/* Standard base64 with padding.  decode rejects bad characters, bad
 * padding and outputs longer than max. */
HSM_API char *hsm_base64_encode(const uint8_t *data, size_t len);
HSM_API int hsm_base64_decode(const char *text, uint8_t *out, size_t max, size_t *outlen);

/* Random bytes from the OS CSPRNG. */
HSM_API int hsm_random(void *buf, size_t len);

/* Constant-time comparison of two equal-length secrets (0 when equal). */
HSM_API int hsm_secret_cmp(const void *a, const void *b, size_t len);

/* Sign a JSON body: {"body": <body>, "signature": {"alg": "ed25519",
 * "key": "<openssh pub>", "sig": "<base64>"}}.  New reference. */
HSM_API json_t *hsm_signed_wrap(const json_t *body, EVP_PKEY *key, char *err, size_t errlen);
/* Verify such an envelope against pub (or, with pub NULL, against the key
 * it carries, returned in *signer as a new EVP_PKEY when signer != NULL).
 * Returns 0 and a borrowed reference to the body in *body. */
HSM_API int hsm_signed_verify(const json_t *envelope, EVP_PKEY *pub, const json_t **body,
			      EVP_PKEY **signer, char *err, size_t errlen);

#endif
