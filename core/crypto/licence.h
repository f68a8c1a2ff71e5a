/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/licence.h - feature licences (docs/formats/licence.md).
 *
 * The vendor signs a licence for one HSM (ESN) with hsm-vendor; the
 * service provider applies it with `hsmadmin fet`, and hsmd verifies it
 * before storing it.  Both sides use this module: one parser, one set of
 * rules.  Acting on a licence takes three steps, in this order:
 *
 *   1. hsm_licence_parse()      bounded, strict: armour, header, body.
 *                               Says nothing about trust.
 *   2. hsm_licence_verify()     the signer is one of the trusted vendor
 *                               keys and the signature holds.
 *   3. hsm_licence_check_esn()  the licence is for this HSM.
 *
 * Every failure returns a negative enum hsm_licence_status (distinct per
 * kind, so the device can map them to distinct errors) with a one-line
 * reason in err.  In-tree API of libhsmadmin-net.
 */
#ifndef HSMADMIN_NET_LICENCE_H
#define HSMADMIN_NET_LICENCE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h> /* HSM_API */

/* Body "format" and "version"; a verifier refuses anything else. */
#define HSM_LICENCE_FORMAT "hsmadmin-licence"
#define HSM_LICENCE_VERSION 1
/* A licence file is at most this big (they are about 700 bytes). */
#define HSM_LICENCE_MAX_BYTES 65536
/* Range of max_active_vcms. */
#define HSM_LICENCE_VCMS_MIN 1
#define HSM_LICENCE_VCMS_MAX 1000
/* Range of serial (JSON-safe integers). */
#define HSM_LICENCE_SERIAL_MAX 9007199254740991LL
/* The only licence type of format version 1. */
#define HSM_LICENCE_TYPE_MULTI_TENANT "multi-tenant"
/* Most vendor keys a trust list holds (vendor.d). */
#define HSM_VENDOR_KEYS_MAX 64

enum hsm_licence_status {
	HSM_LICENCE_OK = 0,
	HSM_LICENCE_MALFORMED = -1,       /* not a well-formed licence file */
	HSM_LICENCE_UNKNOWN_VERSION = -2, /* a format version this code does not read */
	HSM_LICENCE_UNKNOWN_SIGNER = -3,  /* signed by a key that is not trusted */
	HSM_LICENCE_TAMPERED = -4,        /* bad signature, or header disagrees with body */
	HSM_LICENCE_WRONG_ESN = -5        /* for another HSM */
};

/* The exit code (enum hsm_exit) of a status, the same in every tool: a
 * bad file is bad input (2), an untrusted or bad signature a trust
 * failure (4), another HSM's licence a failure (1). */
HSM_API int hsm_licence_exit(int status);

enum hsm_licence_speed {
	HSM_LICENCE_SPEED_NONE = 0,
	HSM_LICENCE_SPEED_MID = 1,
	HSM_LICENCE_SPEED_HIGH = 2
};

struct hsm_licence {
	int version;
	char type[16];            /* "multi-tenant" */
	char esn[15];             /* HSM_ESN_LEN + 1, upper case */
	unsigned max_active_vcms; /* 1..1000 */
	uint32_t features;        /* known feature bits, no speed bits */
	enum hsm_licence_speed speed_upgrade;
	int64_t serial; /* 1..HSM_LICENCE_SERIAL_MAX */
	int64_t issued; /* Unix seconds */
	/* The key the signature block names.  Informational until
	 * hsm_licence_verify has accepted it. */
	EVP_PKEY *signer;
	json_t *envelope; /* the signed envelope (owned) */
};

/* "mid"/"high" (and "" for none) <-> enum; parse returns -1 for others. */
HSM_API const char *hsm_licence_speed_name(enum hsm_licence_speed speed);
HSM_API int hsm_licence_speed_parse(const char *text, enum hsm_licence_speed *out);

/* --- issuing (hsm-vendor) ----------------------------------------------- */

/* Check the fields of lic (as the parser would), sign the body with the
 * vendor key and return the whole file text, malloc'ed.  lic->version,
 * signer and envelope are ignored; on success lic->envelope and
 * lic->signer are set. */
HSM_API int hsm_licence_sign(struct hsm_licence *lic, EVP_PKEY *vendor_key, char **text,
			     size_t *len, char *err, size_t errlen);

/* --- reading (hosts and the device) ------------------------------------- */

/* Parse file bytes: at most HSM_LICENCE_MAX_BYTES, UTF-8, exactly the
 * header the body implies, the armour lines and the canonical envelope.
 * On success *out is a new licence (free with hsm_licence_free). */
HSM_API int hsm_licence_parse(const void *data, size_t len, struct hsm_licence **out, char *err,
			      size_t errlen);
/* hsm_read_file (bounded) + hsm_licence_parse; err names the file. */
HSM_API int hsm_licence_load_file(const char *path, struct hsm_licence **out, char *err,
				  size_t errlen);

/* The signer must be one of the n trusted keys (else UNKNOWN_SIGNER) and
 * the signature must hold (else TAMPERED). */
HSM_API int hsm_licence_verify(const struct hsm_licence *lic, EVP_PKEY *const *trusted, size_t n,
			       char *err, size_t errlen);

/* esn (any case) must be the licence's ESN (else WRONG_ESN). */
HSM_API int hsm_licence_check_esn(const struct hsm_licence *lic, const char *esn, char *err,
				  size_t errlen);

/* The file text again (what hsm_licence_sign wrote), malloc'ed: the device
 * stores this and parses and verifies it again when it loads it. */
HSM_API char *hsm_licence_text(const struct hsm_licence *lic, size_t *len);

/* The fields as a JSON object {"version","type","esn","max_active_vcms",
 * "features","features_names","speed_upgrade"(if any),"serial","issued",
 * "signer"(fingerprint)}, for `fet --json` and `info`.  New reference. */
HSM_API json_t *hsm_licence_summary(const struct hsm_licence *lic);

HSM_API void hsm_licence_free(struct hsm_licence *lic);

/* --- trusted vendor keys -------------------------------------------------- */

/* Load every *.pem in dir (PEM Ed25519 public keys, or one OpenSSH line)
 * in name order.  A missing directory gives no keys; an unreadable or bad
 * file is an error naming it.  At most HSM_VENDOR_KEYS_MAX keys. */
HSM_API int hsm_vendor_keys_load(const char *dir, EVP_PKEY ***keys, size_t *n, char *err,
				 size_t errlen);
HSM_API void hsm_vendor_keys_free(EVP_PKEY **keys, size_t n);

#endif
