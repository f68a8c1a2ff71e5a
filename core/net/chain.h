/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/chain.h - checking an HSM's certificate chain before
 * enrollment trusts it (docs/protocol.md "Keys, certificates and trust"):
 *
 *   vendor key (HSMADMIN_CONF/vendor.d/NAME.pem)
 *     signs the warrant {"esn","psn","identity_key","issued"}
 *       whose identity key signs, per service,
 *         the certificate {"esn","service","host_key","issued"}.
 */
#ifndef HSMADMIN_NET_CHAIN_H
#define HSMADMIN_NET_CHAIN_H

#include <stddef.h>
#include <jansson.h>
#include <openssl/evp.h>

#include <hsmadmin/plugin.h> /* HSM_API */
#include "licence.h"         /* hsm_vendor_keys_load, hsm_vendor_keys_free */
#include "modules.h"

struct hsm_chain {
	char *identity_key;             /* OpenSSH line */
	char *host_keys[HSM_SVC_COUNT]; /* certified host keys; NULL: service absent */
};

/* Check the result of sshadmin `hostkeys` for an HSM of ESN esn against
 * the trusted vendor keys; fill out with the keys it vouches for.  Returns
 * 0, or -1 with the first broken link in err. */
HSM_API int hsm_chain_verify(const json_t *hostkeys, const char *esn, EVP_PKEY *const *vendors,
			     size_t nvendors, struct hsm_chain *out, char *err, size_t errlen);
HSM_API void hsm_chain_clear(struct hsm_chain *c);

/* An HSM running its recovery image makes no certificates for its host
 * keys (guide 4.5.4.1) and says so with "image": "recovery" in the list.
 * Then only the warrant (vendor -> identity, naming esn) is checked and
 * the host keys are taken as listed: well-formed, but vouched for by
 * nothing.  Callers must warn.  0, or -1 with the reason. */
HSM_API int hsm_chain_is_recovery(const json_t *hostkeys);
HSM_API int hsm_chain_verify_recovery(const json_t *hostkeys, const char *esn,
				      EVP_PKEY *const *vendors, size_t nvendors,
				      struct hsm_chain *out, char *err, size_t errlen);

/* The warrant alone: signed by one of the vendor keys and naming esn.
 * Returns the identity key it vouches for (and its OpenSSH line, malloc'ed,
 * in *identity_line), or NULL with the reason. */
HSM_API EVP_PKEY *hsm_chain_verify_warrant(const json_t *warrant, const char *esn,
					   EVP_PKEY *const *vendors, size_t nvendors,
					   char **identity_line, char *err, size_t errlen);

/* The vendor keys of CONFDIR/vendor.d, through hsm_vendor_keys_load
 * (core/crypto/licence.h), the one loader every command and hsmd use: a
 * file that is not an Ed25519 public key is refused and named, at most
 * HSM_VENDOR_KEYS_MAX keys, no directory means no keys.  Free them with
 * hsm_vendor_keys_free. */
HSM_API int hsm_chain_load_vendors(const char *confdir, EVP_PKEY ***keys, size_t *count, char *err,
				   size_t errlen);

#endif
