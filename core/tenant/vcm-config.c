/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - checking the configuration file a service provider hands to
 * the tenant (docs/formats/vcm-config.md, "How a tenant checks it").
 * Every signature is verified before the key it vouches for is used; the
 * file itself is untrusted.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "hostkeys.h"
#include "sign.h"

#include "chain.h"
#include "tenant.h"

const char *const hsm_tenant_services[HSM_TENANT_NSVC] = { "sshadmin", "ncoreapi", "monitor" };

void hsm_tenant_vcm_clear(struct hsm_tenant_vcm *v)
{
	for (int i = 0; i < HSM_TENANT_NSVC; i++)
		free(v->host_keys[i]);
	free(v->identity_key);
	memset(v, 0, sizeof(*v));
}

int hsm_tenant_uuid_valid(const char *s)
{
	if (!s || strlen(s) != HSM_TENANT_UUID_LEN)
		return 0;
	for (int i = 0; i < HSM_TENANT_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

static int copy(char *dst, size_t len, const char *src, const char *what, char *err, size_t errlen)
{
	char p[HSM_PRINTABLE_LEN];

	if (!src || !*src || strlen(src) >= len)
		return hsm_set_err(err, errlen, "%s: '%s' is empty or too long", what,
				   hsm_printable(src, p));
	for (const char *c = src; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return hsm_set_err(err, errlen, "%s: '%s' is not printable", what,
					   hsm_printable(src, p));
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* The VCM's own warrant: signed by the HSM identity key, naming the VCM. */
static int verify_vcm_warrant(const json_t *env, EVP_PKEY *id, const struct hsm_tenant_vcm *v,
			      char *err, size_t errlen)
{
	const json_t *body = NULL;
	const char *esn, *psn, *key, *vcm;
	json_int_t issued;
	char jwhy[256];
	char why[256];

	if (hsm_signed_verify(env, id, &body, NULL, why, sizeof(why)) < 0)
		return hsm_set_err(err, errlen,
				   "vcm_identity is not signed by the HSM identity key: %s", why);
	if (hsm_json_unpack((json_t *)body, JSON_STRICT, jwhy, sizeof(jwhy),
			    "{s:s, s:s, s:s, s:I, s:s}", "esn", &esn, "psn", &psn, "identity_key",
			    &key, "issued", &issued, "vcm", &vcm) < 0)
		return hsm_set_err(err, errlen, "vcm_identity: %s", jwhy);
	if (strcmp(esn, v->esn) != 0 || strcmp(vcm, v->uuid) != 0)
		return hsm_set_err(err, errlen, "vcm_identity names another HSM or VCM");
	return 0;
}

static int verify_service(int s, const json_t *entry, EVP_PKEY *id, struct hsm_tenant_vcm *v,
			  char *err, size_t errlen)
{
	const char *name = hsm_tenant_services[s], *host_key, *c_esn, *c_svc, *c_key, *c_vcm,
		   *c_addr;
	json_int_t port, issued;
	json_t *cert;
	const json_t *body = NULL;
	char jwhy[256];
	char why[256];

	if (!entry)
		return hsm_set_err(err, errlen, "services: no %s", name);
	if (hsm_json_unpack((json_t *)entry, JSON_STRICT, jwhy, sizeof(jwhy), "{s:I, s:s, s:o}",
			    "port", &port, "host_key", &host_key, "certificate", &cert) < 0)
		return hsm_set_err(err, errlen, "services.%s: %s", name, jwhy);
	if (port != (json_int_t)v->ports[s])
		return hsm_set_err(err, errlen, "services.%s.port differs from ports.%s", name,
				   name);
	if (hsm_signed_verify(cert, id, &body, NULL, why, sizeof(why)) < 0)
		return hsm_set_err(err, errlen,
				   "%s certificate is not signed by the HSM identity key: %s", name,
				   why);
	if (hsm_json_unpack((json_t *)body, JSON_STRICT, jwhy, sizeof(jwhy),
			    "{s:s, s:s, s:s, s:I, s:s, s:s}", "esn", &c_esn, "service", &c_svc,
			    "host_key", &c_key, "issued", &issued, "vcm", &c_vcm, "address",
			    &c_addr) < 0)
		return hsm_set_err(err, errlen,
				   "%s certificate: %s (a VCM certificate names its vcm "
				   "and address)",
				   name, jwhy);
	if (strcmp(c_esn, v->esn) || strcmp(c_svc, name) || strcmp(c_vcm, v->uuid) ||
	    strcmp(c_addr, v->address))
		return hsm_set_err(
		    err, errlen, "%s certificate names another HSM, service, VCM or address", name);
	if (!hsm_ssh_pubkey_valid(c_key) || hsm_ssh_pubkey_cmp(c_key, host_key) != 0)
		return hsm_set_err(err, errlen, "%s host key differs from the certified one", name);
	if (!(v->host_keys[s] = strdup(c_key)))
		return hsm_set_err(err, errlen, "out of memory");
	return 0;
}

int hsm_tenant_config_verify(const json_t *cfg, EVP_PKEY *const *vendors, size_t nvendors,
			     struct hsm_tenant_vcm *out, char *err, size_t errlen)
{
	static const char *const fields[] = { "format",       "version",  "uuid",    "name",
					      "esn",          "address",  "ports",   "hsm_identity",
					      "vcm_identity", "services", "created", NULL };
	const char *format, *uuid, *name, *esn, *address;
	json_int_t version, port;
	json_t *ports, *hsm_id, *vcm_id, *services;
	EVP_PKEY *id;
	int rc = 0, bad = 0;

	/* Each member checked by name, so an admin reads which field of the
	 * file is wrong (docs/formats/vcm-config.md), never a parser's words. */
	memset(out, 0, sizeof(*out));
	if (!json_is_object(cfg))
		return hsm_set_err(err, errlen, "not a JSON object");
	format = json_string_value(
	    hsm_json_member(cfg, "", "format", JSON_STRING, 1, &bad, err, errlen));
	version = json_integer_value(
	    hsm_json_member(cfg, "", "version", JSON_INTEGER, 1, &bad, err, errlen));
	if (bad)
		return -1;
	if (strcmp(format, "hsmadmin-vcm-config") != 0 || version != 1)
		return hsm_set_err(err, errlen,
				   "format, version: not an hsmadmin-vcm-config version 1 file");
	uuid =
	    json_string_value(hsm_json_member(cfg, "", "uuid", JSON_STRING, 1, &bad, err, errlen));
	name =
	    json_string_value(hsm_json_member(cfg, "", "name", JSON_STRING, 0, &bad, err, errlen));
	esn = json_string_value(hsm_json_member(cfg, "", "esn", JSON_STRING, 1, &bad, err, errlen));
	address = json_string_value(
	    hsm_json_member(cfg, "", "address", JSON_STRING, 1, &bad, err, errlen));
	ports = hsm_json_member(cfg, "", "ports", JSON_OBJECT, 1, &bad, err, errlen);
	hsm_id = hsm_json_member(cfg, "", "hsm_identity", JSON_OBJECT, 1, &bad, err, errlen);
	vcm_id = hsm_json_member(cfg, "", "vcm_identity", JSON_OBJECT, 1, &bad, err, errlen);
	services = hsm_json_member(cfg, "", "services", JSON_OBJECT, 1, &bad, err, errlen);
	hsm_json_member(cfg, "", "created", JSON_INTEGER, 1, &bad, err, errlen);
	if (bad || hsm_json_only_keys(cfg, "", fields, err, errlen) != 0)
		return -1;
	if (!hsm_tenant_uuid_valid(uuid))
		return hsm_set_err(err, errlen, "uuid: not a lower-case UUID");
	memcpy(out->uuid, uuid, HSM_TENANT_UUID_LEN + 1);
	if (copy(out->esn, sizeof(out->esn), esn, "esn", err, errlen) ||
	    copy(out->address, sizeof(out->address), address, "address", err, errlen) ||
	    (name && copy(out->name, sizeof(out->name), name, "name", err, errlen)))
		return -1;
	if (!json_is_object(ports) || json_object_size(ports) != HSM_TENANT_NSVC)
		return hsm_set_err(err, errlen, "ports: not an object of the three VCM services");
	for (int s = 0; s < HSM_TENANT_NSVC; s++) {
		json_t *p = json_object_get(ports, hsm_tenant_services[s]);
		port = json_integer_value(p);
		if (!json_is_integer(p) || port < 1 || port > 65535)
			return hsm_set_err(err, errlen, "ports.%s: not a port",
					   hsm_tenant_services[s]);
		out->ports[s] = (unsigned)port;
	}
	if (!json_is_object(services) || json_object_size(services) != HSM_TENANT_NSVC)
		return hsm_set_err(err, errlen,
				   "services: not an object of the three VCM services");
	if (!(id = hsm_chain_verify_warrant(hsm_id, out->esn, vendors, nvendors, &out->identity_key,
					    err, errlen))) {
		hsm_tenant_vcm_clear(out);
		return -1;
	}
	rc = verify_vcm_warrant(vcm_id, id, out, err, errlen);
	for (int s = 0; rc == 0 && s < HSM_TENANT_NSVC; s++)
		rc = verify_service(s, json_object_get(services, hsm_tenant_services[s]), id, out,
				    err, errlen);
	EVP_PKEY_free(id);
	if (rc != 0)
		hsm_tenant_vcm_clear(out);
	return rc;
}
