/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/chain.c - verification of an HSM's certificate chain
 * (see chain.h).  Every signature is checked before any key it vouches
 * for is used; every document is unpacked strictly.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "hostkeys.h"
#include "licence.h" /* hsm_vendor_keys_load, the one loader of vendor.d */
#include "sign.h"

#include "chain.h"

HSM_API void hsm_chain_clear(struct hsm_chain *c)
{
	free(c->identity_key);
	for (int i = 0; i < HSM_SVC_COUNT; i++)
		free(c->host_keys[i]);
	memset(c, 0, sizeof(*c));
}

HSM_API EVP_PKEY *hsm_chain_verify_warrant(const json_t *env, const char *esn,
					   EVP_PKEY *const *vendors, size_t nvendors,
					   char **identity_line, char *err, size_t errlen)
{
	const json_t *body = NULL;
	const char *w_esn, *psn, *identity;
	json_int_t issued;
	char why[256] = "no trusted vendor keys";
	EVP_PKEY *id;
	size_t i;

	for (i = 0; i < nvendors; i++)
		if (hsm_signed_verify(env, vendors[i], &body, NULL, why, sizeof(why)) == 0)
			break;
	if (i == nvendors)
		return hsm_set_err(err, errlen,
				   "device warrant is not signed by a trusted vendor key: %s", why),
		       NULL;
	if (hsm_json_unpack(body, JSON_STRICT, why, sizeof(why), "{s:s, s:s, s:s, s:I}", "esn",
			    &w_esn, "psn", &psn, "identity_key", &identity, "issued", &issued) < 0)
		return hsm_set_err(err, errlen, "device warrant: %s", why), NULL;
	if (strcmp(w_esn, esn) != 0)
		return hsm_set_err(err, errlen, "device warrant is for ESN '%.20s', not %s", w_esn,
				   esn),
		       NULL;
	if (!(id = hsm_key_from_openssh(identity, why, sizeof(why))))
		return hsm_set_err(err, errlen, "device warrant: identity key: %s", why), NULL;
	if (!(*identity_line = strdup(identity))) {
		EVP_PKEY_free(id);
		return hsm_set_err(err, errlen, "out of memory"), NULL;
	}
	return id;
}

/* One service's entry: a port and a host key and, unless the HSM runs its
 * recovery image (which certifies nothing), a certificate signed by the
 * identity key that names this ESN, this service and that host key. */
static int verify_service(const char *name, const json_t *entry, const char *esn, EVP_PKEY *id,
			  int recovery, struct hsm_chain *out, char *err, size_t errlen)
{
	const char *host_key, *c_esn, *c_svc, *c_key;
	json_int_t port, issued;
	json_t *cert;
	const json_t *body = NULL;
	char why[256];
	int svc = hsm_service_lookup(name);

	if (svc < 0)
		return hsm_set_err(err, errlen, "unknown service '%.32s' in the host key list",
				   name);
	if (recovery) {
		if (hsm_json_unpack(entry, JSON_STRICT, NULL, 0, "{s:I, s:s}", "port", &port,
				    "host_key", &host_key) < 0 ||
		    !hsm_ssh_pubkey_valid(host_key))
			return hsm_set_err(err, errlen,
					   "%s: not a port and an ssh-ed25519 host key", name);
		c_key = host_key;
	} else {
		if (hsm_json_unpack(entry, JSON_STRICT, why, sizeof(why), "{s:I, s:s, s:o}", "port",
				    &port, "host_key", &host_key, "certificate", &cert) < 0)
			return hsm_set_err(err, errlen, "host key list: service %s: %s", name, why);
		if (hsm_signed_verify(cert, id, &body, NULL, why, sizeof(why)) < 0)
			return hsm_set_err(
			    err, errlen,
			    "%s certificate is not signed by the device identity key: %s", name,
			    why);
		if (hsm_json_unpack(body, JSON_STRICT, why, sizeof(why), "{s:s, s:s, s:s, s:I}",
				    "esn", &c_esn, "service", &c_svc, "host_key", &c_key, "issued",
				    &issued) < 0)
			return hsm_set_err(err, errlen, "%s certificate: %s", name, why);
		if (strcmp(c_esn, esn) != 0 || strcmp(c_svc, name) != 0)
			return hsm_set_err(err, errlen, "%s certificate names %.20s/%.32s", name,
					   c_esn, c_svc);
		if (!hsm_ssh_pubkey_valid(c_key) || hsm_ssh_pubkey_cmp(c_key, host_key) != 0)
			return hsm_set_err(err, errlen,
					   "%s host key differs from the certified one", name);
	}
	if (!(out->host_keys[svc] = strdup(c_key)))
		return hsm_set_err(err, errlen, "out of memory");
	return 0;
}

/* The one walk of a host key list: the list names esn, the warrant is
 * signed by a vendor key and names esn, each service entry checks out, and
 * sshadmin is among them.  A recovery list must say "image": "recovery";
 * any other list must not carry "image" at all. */
static int verify_list(const json_t *hostkeys, const char *esn, EVP_PKEY *const *vendors,
		       size_t nvendors, int recovery, struct hsm_chain *out, char *err,
		       size_t errlen)
{
	const char *what = recovery ? "recovery host key list" : "host key list";
	const char *h_esn, *image = NULL, *name;
	json_t *warrant, *services, *entry;
	char why[256];
	EVP_PKEY *id;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	/* The recovery format has one more field; the other leaves &image unused. */
	if (hsm_json_unpack(hostkeys, JSON_STRICT, why, sizeof(why),
			    recovery ? "{s:s, s:o, s:o, s:s}" : "{s:s, s:o, s:o}", "esn", &h_esn,
			    "identity", &warrant, "services", &services, "image", &image) < 0)
		return hsm_set_err(err, errlen, "malformed %s: %s", what, why);
	if (recovery && strcmp(image, "recovery") != 0)
		return hsm_set_err(err, errlen, "malformed %s: image is not recovery", what);
	if (strcmp(h_esn, esn) != 0)
		return hsm_set_err(err, errlen, "the HSM says it is ESN '%.20s'", h_esn);
	if (!json_is_object(services))
		return hsm_set_err(err, errlen,
				   "malformed host key list: services is not an object");
	/* On the recovery image too the warrant proves which HSM this is. */
	if (!(id = hsm_chain_verify_warrant(warrant, esn, vendors, nvendors, &out->identity_key,
					    err, errlen))) {
		hsm_chain_clear(out);
		return -1;
	}
	json_object_foreach(services, name, entry)
	{
		if ((rc = verify_service(name, entry, esn, id, recovery, out, err, errlen)) < 0)
			break;
	}
	EVP_PKEY_free(id);
	if (rc == 0 && !out->host_keys[HSM_SVC_SSHADMIN])
		rc = hsm_set_err(err, errlen, "the host key list has no sshadmin service");
	if (rc < 0)
		hsm_chain_clear(out);
	return rc;
}

HSM_API int hsm_chain_verify(const json_t *hostkeys, const char *esn, EVP_PKEY *const *vendors,
			     size_t nvendors, struct hsm_chain *out, char *err, size_t errlen)
{
	return verify_list(hostkeys, esn, vendors, nvendors, 0, out, err, errlen);
}

HSM_API int hsm_chain_is_recovery(const json_t *hostkeys)
{
	const char *image = json_string_value(json_object_get(hostkeys, "image"));

	return image && strcmp(image, "recovery") == 0;
}

HSM_API int hsm_chain_verify_recovery(const json_t *hostkeys, const char *esn,
				      EVP_PKEY *const *vendors, size_t nvendors,
				      struct hsm_chain *out, char *err, size_t errlen)
{
	return verify_list(hostkeys, esn, vendors, nvendors, 1, out, err, errlen);
}

HSM_API int hsm_chain_load_vendors(const char *confdir, EVP_PKEY ***keys, size_t *count, char *err,
				   size_t errlen)
{
	char dir[PATH_MAX];

	if ((size_t)snprintf(dir, sizeof(dir), "%s/vendor.d", confdir) >= sizeof(dir))
		return hsm_set_err(err, errlen, "%s: path too long", confdir);
	return hsm_vendor_keys_load(dir, keys, count, err, errlen);
}
