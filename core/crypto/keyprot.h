/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/keyprot.h - protection of client private keys at rest
 * (guide 4.8): each key file is AES-256-GCM encrypted under a key derived
 * from the protection options chosen for it:
 *
 *   K  per-key nonce (random, stored in the file)
 *   F  fixed nonce built into the software
 *   S  system UUID (/sys/class/dmi/id/product_uuid, root only)
 *   B  baseboard serial (/sys/class/dmi/id/board_serial, root only)
 *   G  global nonce ($HSMADMIN_HOME/keys/global.nonce, made on first use)
 *   P  user passphrase (NFAST_KEYPROT_PASS, or asked on the terminal)
 *
 * The file format and the derivation are in docs/formats/keys.md.  Only
 * P costs a slow KDF (scrypt); everything else loads in well under 5 ms.
 *
 * In-tree API of libhsmadmin-net.  Functions return 0 (or an object) on
 * success and -1 (or NULL) with a one-line reason in err.  No error text
 * ever holds key material or a passphrase.
 */
#ifndef HSMADMIN_NET_KEYPROT_H
#define HSMADMIN_NET_KEYPROT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h> /* HSM_API */

/* Protection options: a bit set, one bit per letter. */
enum {
	HSM_KEYPROT_K = 1u << 0,
	HSM_KEYPROT_F = 1u << 1,
	HSM_KEYPROT_S = 1u << 2,
	HSM_KEYPROT_B = 1u << 3,
	HSM_KEYPROT_G = 1u << 4,
	HSM_KEYPROT_P = 1u << 5,
	HSM_KEYPROT_ALL = (1u << 6) - 1,
};
/* The letters in their canonical order, which is also bit order. */
#define HSM_KEYPROT_LETTERS "KFSBGP"
/* Longest option string plus its NUL. */
#define HSM_KEYPROT_STRLEN 7

/* "KFSG" (any order, each letter at most once, at least one) -> bit set. */
HSM_API int hsm_keyprot_parse(const char *text, unsigned *opts, char *err, size_t errlen);
/* Bit set -> letters in canonical order ("" for none). */
HSM_API void hsm_keyprot_format(unsigned opts, char buf[HSM_KEYPROT_STRLEN]);

/* The options a new key of a service gets: NFAST_<SERVICE>_KEYPROT, else
 * NFAST_KEYPROT, else the guide's default (KFSG for sshadmin, ncoreapi,
 * setup, tenantreq; KF for updater, monitor, launcher, orchestrator).  An
 * empty variable counts as unset; an invalid one is an error naming it. */
HSM_API int hsm_keyprot_for_service(const char *service, unsigned *opts, char *err, size_t errlen);
/* The group that may read a service's key: NFAST_<SERVICE>_GROUP when set
 * (empty: none; a group that does not exist is created when running as
 * root, as the installer does (guide 4.8.4), else an error), else, when
 * running as root, the guide's default (root, or nfastadmin for updater,
 * monitor, launcher, orchestrator) if that group exists, else none.
 * buf gets "" for none.  Returns 0 (from the variable), 1 (the variable
 * is unset: a default) or -1. */
HSM_API int hsm_keyprot_group_for_service(const char *service, char *buf, size_t len, char *err,
					  size_t errlen);

/* Where the inputs come from.  Zero-initialise and set what you need;
 * every NULL field has a default. */
struct hsm_keyprot_ctx {
	/* HSMADMIN_HOME: the global nonce is <home>/keys/global.nonce.
	 * NULL: $HSMADMIN_HOME, else the built-in default. */
	const char *home;
	/* Group that may read the file (see hsm_keyprot_group_for_service).
	 * Save: the file gets this group and mode 0640.  Load: only a file of
	 * this group may be group-readable.  NULL or "": none, mode 0600. */
	const char *group;
	/* P: the passphrase.  NULL: NFAST_KEYPROT_PASS, else a prompt on
	 * /dev/tty (twice when saving), unless no_prompt. */
	const char *passphrase;
	int no_prompt;
	/* Load only: NFAST_<SERVICE>_GROUP is unset, so a group-readable file
	 * keeps the group it was saved with, whatever group says (the
	 * variable is read when a key is saved, like the installer reads it:
	 * guide 4.8.4).  Others and group write are refused all the same. */
	int group_unset;
	/* Named in the prompt ("Passphrase for <what>: "); NULL: "key". */
	const char *what;
	/* Test and diagnostic hooks: the sources of S, B and G.  NULL: the
	 * environment (HSMADMIN_SYSTEM_UUID_FILE, HSMADMIN_BOARD_UUID_FILE,
	 * HSMADMIN_GLOBAL_NONCE_FILE, read with secure_getenv), else the
	 * real ones. */
	const char *system_uuid_file;
	const char *board_uuid_file;
	const char *global_nonce_file;
};

/* Flags of hsm_keyprot_save. */
#define HSM_KEYPROT_OVERWRITE 1u /* replace an existing file (else refused) */

/* Is every input of opts available here (files readable, G creatable)?
 * Fails naming the first option that is not.  Does not ask for P. */
HSM_API int hsm_keyprot_check(unsigned opts, const struct hsm_keyprot_ctx *ctx, char *err,
			      size_t errlen);

/* Encrypt a private key into a key file image (malloc'ed, *len bytes). */
HSM_API int hsm_keyprot_seal(EVP_PKEY *key, unsigned opts, const struct hsm_keyprot_ctx *ctx,
			     uint8_t **out, size_t *len, char *err, size_t errlen);
/* Decrypt a key file image.  *opts (when not NULL) gets its options. */
HSM_API EVP_PKEY *hsm_keyprot_open(const uint8_t *buf, size_t len,
				   const struct hsm_keyprot_ctx *ctx, unsigned *opts, char *err,
				   size_t errlen);
/* The options of a key file image, checking only its framing (no key
 * needed).  For `keys show` and the fuzzer. */
HSM_API int hsm_keyprot_inspect(const uint8_t *buf, size_t len, unsigned *opts, char *err,
				size_t errlen);

/* seal + an atomic write: mode 0600, or 0640 and ctx->group. */
HSM_API int hsm_keyprot_save(const char *path, EVP_PKEY *key, unsigned opts,
			     const struct hsm_keyprot_ctx *ctx, unsigned flags, char *err,
			     size_t errlen);
/* Read (refusing a file that is not regular, not owned by this user or
 * root, writable by group or others, readable by others, or readable by a
 * group other than ctx->group) + open. */
HSM_API EVP_PKEY *hsm_keyprot_load(const char *path, const struct hsm_keyprot_ctx *ctx,
				   unsigned *opts, char *err, size_t errlen);
/* The same, as PKCS#8 PEM text ("-----BEGIN PRIVATE KEY-----", which
 * ssh_pki_import_privkey_base64 reads).  Free with hsm_keyprot_pem_free,
 * which wipes it. */
HSM_API char *hsm_keyprot_load_pem(const char *path, const struct hsm_keyprot_ctx *ctx,
				   unsigned *opts, char *err, size_t errlen);
HSM_API void hsm_keyprot_pem_free(char *pem);
/* The PKCS#8 PEM text of a key in memory (e.g. a new one, for libssh);
 * NULL if it is not a private key.  Free with hsm_keyprot_pem_free. */
HSM_API char *hsm_keyprot_key_pem(EVP_PKEY *key);
/* Options of a key file without decrypting it. */
HSM_API int hsm_keyprot_file_options(const char *path, unsigned *opts, char *err, size_t errlen);

/* Re-encrypt src (opened with from) as dst under opts (saved with to):
 * `keys backup --passphrase` uses opts KP, which binds the copy to no
 * machine; restore goes the other way. */
HSM_API int hsm_keyprot_rewrap(const char *src, const struct hsm_keyprot_ctx *from, const char *dst,
			       unsigned opts, const struct hsm_keyprot_ctx *to, unsigned flags,
			       char *err, size_t errlen);

#endif
