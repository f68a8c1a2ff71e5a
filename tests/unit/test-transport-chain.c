/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test-transport-chain.c - enrollment's certificate chain check
 * (core/net/chain.c): a good chain passes, and every broken link
 * is refused with a reason.  Chains are built here with core/crypto/sign.h
 * exactly as docs/protocol.md describes them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "hostkeys.h"
#include "sign.h"
#include "tap.h"

#define ESN "1A23-BC45-6789"

static EVP_PKEY *vendor, *identity, *stranger, *hk_sshadmin, *hk_setup;

static json_t *warrant(EVP_PKEY *signer, const char *esn, EVP_PKEY *id)
{
	char *line = hsm_key_to_openssh(id);
	json_t *body = json_pack("{s:s, s:s, s:s, s:I}", "esn", esn, "psn", "EMU-1", "identity_key",
				 line, "issued", (json_int_t)1700000000);
	json_t *env = hsm_signed_wrap(body, signer, NULL, 0);

	free(line);
	json_decref(body);
	return env;
}

static json_t *service(EVP_PKEY *signer, const char *esn, const char *name, EVP_PKEY *certified,
		       EVP_PKEY *presented)
{
	char *c = hsm_key_to_openssh(certified), *p = hsm_key_to_openssh(presented);
	json_t *body = json_pack("{s:s, s:s, s:s, s:I}", "esn", esn, "service", name, "host_key", c,
				 "issued", (json_int_t)1700000000);
	json_t *entry = json_pack("{s:i, s:s, s:o}", "port", 2201, "host_key", p, "certificate",
				  hsm_signed_wrap(body, signer, NULL, 0));

	free(c);
	free(p);
	json_decref(body);
	return entry;
}

static json_t *good(void)
{
	return json_pack("{s:s, s:o, s:{s:o, s:o}}", "esn", ESN, "identity",
			 warrant(vendor, ESN, identity), "services", "sshadmin",
			 service(identity, ESN, "sshadmin", hk_sshadmin, hk_sshadmin), "setup",
			 service(identity, ESN, "setup", hk_setup, hk_setup));
}

static void refused(json_t *doc, const char *want, const char *name)
{
	struct hsm_chain c;
	char err[512] = "";
	int rc = hsm_chain_verify(doc, ESN, &vendor, 1, &c, err, sizeof(err));

	tap_ok(rc < 0 && strstr(err, want) != NULL, "refused: %s (%s)", name, err);
	if (rc == 0)
		hsm_chain_clear(&c);
	json_decref(doc);
}

/* services[as] replaced by a certificate that signer made for esn and
 * service svc over the host key certified, listed with the key listed. */
static const struct bad_service {
	const char *as;
	EVP_PKEY **signer;
	const char *esn, *svc;
	EVP_PKEY **certified, **listed;
	const char *want, *name;
} bad_services[] = {
	{ "setup", &stranger, ESN, "setup", &hk_setup, &hk_setup,
	  "setup certificate is not signed by the device identity key",
	  "certificate by a stranger" },
	{ "setup", &identity, "9Z87-YX65-4321", "setup", &hk_setup, &hk_setup,
	  "setup certificate names 9Z87-YX65-4321", "certificate for another ESN" },
	{ "setup", &identity, ESN, "monitor", &hk_setup, &hk_setup, "setup certificate names",
	  "monitor's certificate listed as setup" },
	{ "setup", &identity, ESN, "setup", &hk_setup, &stranger,
	  "setup host key differs from the certified one",
	  "listed host key not the certified one" },
	{ "telnet", &identity, ESN, "telnet", &hk_setup, &hk_setup, "unknown service 'telnet'",
	  "unknown service" },
};

int main(void)
{
	struct hsm_chain c;
	char err[512] = "";
	json_t *doc;
	char *line;

	vendor = hsm_ed25519_generate(NULL, 0);
	identity = hsm_ed25519_generate(NULL, 0);
	stranger = hsm_ed25519_generate(NULL, 0);
	hk_sshadmin = hsm_ed25519_generate(NULL, 0);
	hk_setup = hsm_ed25519_generate(NULL, 0);

	doc = good();
	TAP_INT_EQ(hsm_chain_verify(doc, ESN, &vendor, 1, &c, err, sizeof(err)), 0,
		   "a good chain verifies");
	line = hsm_key_to_openssh(identity);
	TAP_STR_EQ(c.identity_key, line, "identity key from the warrant");
	free(line);
	line = hsm_key_to_openssh(hk_setup);
	TAP_STR_EQ(c.host_keys[HSM_SVC_SETUP], line, "setup host key from its certificate");
	free(line);
	tap_ok(c.host_keys[HSM_SVC_MONITOR] == NULL, "no key for a service not listed");
	hsm_chain_clear(&c);
	tap_ok(hsm_chain_verify(doc, ESN, &stranger, 1, &c, err, sizeof(err)) < 0 &&
		   strstr(err, "not signed by a trusted vendor key"),
	       "another vendor: refused (%s)", err);
	tap_ok(hsm_chain_verify(doc, ESN, &vendor, 0, &c, err, sizeof(err)) < 0,
	       "no vendor keys: refused");
	tap_ok(hsm_chain_verify(doc, "9Z87-YX65-4321", &vendor, 1, &c, err, sizeof(err)) < 0 &&
		   strstr(err, "says it is ESN"),
	       "asked for another ESN: refused (%s)", err);
	json_decref(doc);

	doc = good();
	json_object_set_new(doc, "identity", warrant(stranger, ESN, identity));
	refused(doc, "not signed by a trusted vendor key", "warrant signed by a stranger");

	doc = good();
	json_object_set_new(doc, "identity", warrant(vendor, "9Z87-YX65-4321", identity));
	refused(doc, "device warrant is for ESN", "warrant for another ESN");

	doc = good();
	json_object_set_new(json_object_get(json_object_get(doc, "identity"), "body"), "psn",
			    json_string("EMU-2"));
	refused(doc, "signature verification failed", "warrant body changed after signing");

	for (size_t i = 0; i < sizeof(bad_services) / sizeof(bad_services[0]); i++) {
		const struct bad_service *e = &bad_services[i];

		doc = good();
		json_object_set_new(json_object_get(doc, "services"), e->as,
				    service(*e->signer, e->esn, e->svc, *e->certified, *e->listed));
		refused(doc, e->want, e->name);
	}

	doc = good();
	json_object_del(json_object_get(doc, "services"), "sshadmin");
	refused(doc, "no sshadmin service", "no sshadmin entry");

	/* Malformed JSON is named in our words: the field and what was wrong,
	 * never the JSON library's own text ("Object item not found", "left
	 * unpacked", "Expected integer, got string"). */
	doc = good();
	json_object_set_new(doc, "extra", json_true());
	refused(doc, "malformed host key list: unknown field 'extra'", "unknown member");

	doc = good();
	json_object_del(doc, "esn");
	refused(doc, "malformed host key list: missing field 'esn'", "no esn");

	doc = good();
	json_object_set_new(json_object_get(json_object_get(doc, "services"), "setup"), "port",
			    json_string("2202"));
	refused(doc, "host key list: service setup: field 'port': expected integer, got string",
		"port as a string");

	{ /* a warrant body without psn, signed by the vendor */
		char *idline = hsm_key_to_openssh(identity);
		json_t *body = json_pack("{s:s, s:s, s:I}", "esn", ESN, "identity_key", idline,
					 "issued", (json_int_t)1700000000);
		doc = good();
		json_object_set_new(doc, "identity", hsm_signed_wrap(body, vendor, NULL, 0));
		refused(doc, "device warrant: missing field 'psn'", "warrant without psn");
		json_decref(body);
		free(idline);
	}
	{ /* a certificate body whose issued is a string, signed by the identity */
		char *hk = hsm_key_to_openssh(hk_setup);
		json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "esn", ESN, "service", "setup",
					 "host_key", hk, "issued", "yesterday");
		doc = good();
		json_object_set_new(json_object_get(json_object_get(doc, "services"), "setup"),
				    "certificate", hsm_signed_wrap(body, identity, NULL, 0));
		refused(doc, "setup certificate: field 'issued': expected integer, got string",
			"certificate issued as a string");
		json_decref(body);
		free(hk);
	}

	doc = good();
	json_object_del(json_object_get(json_object_get(doc, "identity"), "signature"), "sig");
	refused(doc, "malformed signed document: missing field 'signature.sig'",
		"warrant without its signature value");

	doc = good();
	json_object_set_new(doc, "identity",
			    json_pack("{s:{}, s:{s:s, s:s, s:i}}", "body", "signature", "alg",
				      "ed25519", "key", "x", "sig", 5));
	refused(doc, "field 'signature.sig': expected string, got integer",
		"a signature value that is a number");

	EVP_PKEY_free(vendor);
	EVP_PKEY_free(identity);
	EVP_PKEY_free(stranger);
	EVP_PKEY_free(hk_sshadmin);
	EVP_PKEY_free(hk_setup);
	return tap_done();
}
