/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/request.h - tenant request files (docs/formats/request.md).
 *
 * A tenant signs a request to create, start or change the properties of a
 * VCM; the service provider's tools inspect it and the device (hsmd's
 * orchestrator) verifies it before acting.  Both sides use this module, so
 * there is one parser and one set of rules.
 *
 * Verifying a request is three separate steps, in this order:
 *
 *   1. hsm_request_parse()       bounded, strict: structure, types, ranges,
 *                                canonical bytes.  Says nothing about trust.
 *   2. hsm_request_verify()      the signature, with the embedded key
 *                                (create) or the tenant's known key.
 *   3. hsm_request_check_time()  the validity window against a given now.
 *
 * A caller acts on a request only when all three succeed (and, on the
 * device, the type and UUID match what it is about to do).
 *
 * In-tree API of libhsmadmin-net; functions return 0 on success and -1
 * with a one-line reason in err unless said otherwise.
 */
#ifndef HSMADMIN_NET_REQUEST_H
#define HSMADMIN_NET_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h> /* HSM_API */

/* "format" and "version" of the body; a verifier refuses anything else. */
#define HSM_REQUEST_FORMAT "hsmadmin-vcm-request"
#define HSM_REQUEST_VERSION 1

/* A request file is at most this big (they are about 700 bytes). */
#define HSM_REQUEST_MAX_BYTES 65536
/* Nonce: 16 random bytes, written as 32 lower-case hex digits. */
#define HSM_REQUEST_NONCE_BYTES 16
/* --request-validity range, seconds (one year at most). */
#define HSM_REQUEST_VALIDITY_MIN 1
#define HSM_REQUEST_VALIDITY_MAX 31536000
/* Clock difference a verifier should tolerate for "issued" in the future. */
#define HSM_REQUEST_DEFAULT_SKEW 300
/* VCM name: 1..64 of [A-Za-z0-9_.-] and inner spaces. */
#define HSM_REQUEST_NAME_MAX 64

enum hsm_request_type {
	HSM_REQUEST_CREATE = 1,
	HSM_REQUEST_START = 2,
	HSM_REQUEST_SETPROPERTIES = 3
};

/* hsm_request_props.present: which properties the request carries. */
#define HSM_REQP_AUTOSTART 0x01u
#define HSM_REQP_RESTRICT_STARTUP 0x02u
#define HSM_REQP_SERIAL_CARDREADER 0x04u
#define HSM_REQP_FEATURES 0x08u
#define HSM_REQP_NAME 0x10u
/* setproperties only: a new request-signing key (guide 3.1.2.3.7). */
#define HSM_REQP_K_TENANT_REQ 0x20u

struct hsm_request_props {
	unsigned present; /* HSM_REQP_* */
	int autostart;    /* 0 or 1 */
	int restrict_startup;
	int serial_cardreader;
	uint32_t features;
	char name[HSM_REQUEST_NAME_MAX + 1];
	/* HSM_REQP_K_TENANT_REQ: the tenant's next request key (owned by the
	 * request, freed by hsm_request_free; set it with
	 * hsm_request_set_k_tenant_req, not by copying props). */
	EVP_PKEY *k_tenant_req;
};

struct hsm_request {
	enum hsm_request_type type;
	int version;
	char nonce[2 * HSM_REQUEST_NONCE_BYTES + 1];
	int64_t issued; /* Unix seconds */
	int has_not_after;
	int64_t not_after; /* valid until and including this second */
	char uuid[37];     /* "" when the request names no VCM */
	struct hsm_request_props props;
	/* create only (NULL otherwise): the tenant's request-signing public key
	 * and the public key for the VCM's sshadmin service. */
	EVP_PKEY *request_key;
	EVP_PKEY *sshadmin_key;
	/* The key the signature block names.  Informational until verified:
	 * hsm_request_verify decides whether it is trusted. */
	EVP_PKEY *signer;
	/* The parsed envelope (owned), for verification. */
	json_t *envelope;
};

HSM_API const char *hsm_request_type_name(enum hsm_request_type type);
/* The properties present in p as the request carries them ("properties"):
 * booleans, the feature word, the name, k_tenant_req as an OpenSSH line.
 * NULL when out of memory or a key cannot be encoded. */
HSM_API json_t *hsm_request_props_json(const struct hsm_request_props *p);

/* --- building (the tenant's side) -------------------------------------- */

/* Start a request: type, format version, a fresh random nonce, issued =
 * now, no expiry, no UUID, no properties.  Returns a new request. */
HSM_API struct hsm_request *hsm_request_new(enum hsm_request_type type, int64_t now, char *err,
					    size_t errlen);

/* not_after = issued + seconds (HSM_REQUEST_VALIDITY_MIN..MAX). */
HSM_API int hsm_request_set_validity(struct hsm_request *req, int64_t seconds, char *err,
				     size_t errlen);

/* Checks of single values, shared by the CLI (usage errors) and the
 * parser.  The UUID is stored in lower case. */
HSM_API int hsm_request_set_uuid(struct hsm_request *req, const char *uuid, char *err,
				 size_t errlen);
HSM_API int hsm_request_check_name(const char *name, char *err, size_t errlen);

/* create: the public key for the VCM's sshadmin service (the request key
 * is taken from the signing key by hsm_request_sign).  The request keeps
 * its own reference. */
HSM_API int hsm_request_set_sshadmin_key(struct hsm_request *req, EVP_PKEY *key, char *err,
					 size_t errlen);

/* setproperties: ask for a new request-signing key (property
 * "k_tenant_req").  The request keeps its own copy; hsm_request_sign
 * refuses it if it is the signing key itself. */
HSM_API int hsm_request_set_k_tenant_req(struct hsm_request *req, EVP_PKEY *key, char *err,
					 size_t errlen);

/* Check the request against the format's rules (everything the parser
 * checks), sign it and return the file bytes (canonical JSON of the signed
 * envelope and one '\n'), malloc'ed.  For create, the request key becomes
 * the public half of signing_key. */
HSM_API int hsm_request_sign(struct hsm_request *req, EVP_PKEY *signing_key, char **out,
			     size_t *outlen, char *err, size_t errlen);

/* --- reading (the service provider's tools and the device) ------------- */

/* Parse file bytes: at most HSM_REQUEST_MAX_BYTES, exactly the canonical
 * JSON of the envelope followed by one '\n', and a body that follows the
 * format in every field.  Signature not checked.  On success *out is a new
 * request. */
HSM_API int hsm_request_parse(const void *data, size_t len, struct hsm_request **out, char *err,
			      size_t errlen);

/* The same rules for an envelope already parsed (e.g. carried inside RPC
 * params), without the byte-level canonical check. */
HSM_API int hsm_request_from_json(const json_t *envelope, struct hsm_request **out, char *err,
				  size_t errlen);

/* hsm_read_file (bounded) + hsm_request_parse; err names the file. */
HSM_API int hsm_request_load_file(const char *path, struct hsm_request **out, char *err,
				  size_t errlen);

/* Check the signature.  key NULL: only for create, where the key is the
 * embedded request key (the request proves possession of it).  Otherwise
 * key is the tenant's request key the verifier already trusts, and the
 * signature block must name that key.  0 only for a valid signature. */
HSM_API int hsm_request_verify(const struct hsm_request *req, EVP_PKEY *key, char *err,
			       size_t errlen);

enum hsm_request_time {
	HSM_REQUEST_TIME_OK = 0,
	HSM_REQUEST_TIME_NOT_YET = 1, /* issued more than skew seconds after now */
	HSM_REQUEST_TIME_EXPIRED = 2  /* now is after not_after */
};
/* Where now (Unix seconds) lies in the request's validity window; err gets
 * a one-line reason when it is not OK. */
HSM_API enum hsm_request_time hsm_request_check_time(const struct hsm_request *req, int64_t now,
						     int64_t skew, char *err, size_t errlen);

HSM_API void hsm_request_free(struct hsm_request *req);

#endif
