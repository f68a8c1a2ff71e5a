/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/keys/pin.c - pinning HSMs again after the host lost its pins
 * (keys restore into an empty HSMADMIN_HOME).  The same checks as enroll
 * (core/net/chain.c): the certificate chain from a trusted vendor
 * key to each service host key, and the sshadmin host key presented must
 * be the certified one.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "transport-report.h"

#include "keys.h"

static int pin_one(struct hsm_ctx *ctx, const struct hsm_module *m,
		   const struct hsm_client_key *key, EVP_PKEY **vendors, size_t nvendors)
{
	struct hsm_rpc_endpoint ep = {
		.label = m->esn,
		.service = "sshadmin",
		.address = m->address,
		.port = m->ports[HSM_SVC_SSHADMIN],
		.client_key = key,
		.host_key = NULL,
	};
	struct hsm_rpc_reply r;
	struct hsm_pins pins;
	struct hsm_chain c;
	char why[512];
	int rc;

	memset(&r, 0, sizeof(r));
	if (hsm_rpc_exec(&ep, "hostkeys", NULL, hsm_timeout(ctx), &r) != 0) {
		rc = hsm_error(ctx, r.exit, m->esn, "pinning: %s", r.message);
		hsm_rpc_reply_clear(&r);
		return rc;
	}
	if (hsm_chain_verify(r.result, m->esn, vendors, nvendors, &c, why, sizeof(why)) != 0) {
		hsm_rpc_reply_clear(&r);
		return hsm_error(ctx, HSM_EXIT_AUTH, m->esn, "certificate chain: %s", why);
	}
	if (hsm_ssh_pubkey_cmp(r.host_key, c.host_keys[HSM_SVC_SSHADMIN]) != 0) {
		rc = hsm_error(
		    ctx, HSM_EXIT_AUTH, m->esn,
		    "the sshadmin service presented a host key its certificate does not vouch for");
	} else {
		memset(&pins, 0, sizeof(pins));
		memcpy(pins.esn, m->esn, sizeof(pins.esn));
		pins.identity_key = c.identity_key;
		memcpy(pins.host_keys, c.host_keys, sizeof(pins.host_keys));
		pins.pinned = (long long)time(NULL);
		rc = hsm_pins_save(hsm_home(ctx), &pins, why, sizeof(why)) == 0
			 ? 0
			 : hsm_error(ctx, HSM_EXIT_FAILED, m->esn, "pinning: %s", why);
		if (!rc)
			hsm_verbosef(ctx, "%s: pinned its host keys again", m->esn);
	}
	hsm_chain_clear(&c);
	hsm_rpc_reply_clear(&r);
	return rc;
}

int keys_pin_missing(struct hsm_ctx *ctx, const struct hsm_fleet *fleet,
		     const struct hsm_client_key *key)
{
	EVP_PKEY **vendors = NULL;
	size_t nvendors = 0;
	char why[PATH_MAX + 128];
	int rc = 0, loaded = 0;

	for (size_t i = 0; i < fleet->count; i++) {
		struct hsm_pins pins;
		int have =
		    hsm_pins_load(hsm_home(ctx), fleet->modules[i].esn, &pins, why, sizeof(why));

		if (have == 0)
			hsm_pins_clear(&pins);
		if (have != 1)
			continue; /* pinned (or broken: the calls will say so) */
		if (!loaded) {
			loaded = 1;
			if (hsm_chain_load_vendors(hsm_conf_dir(ctx), &vendors, &nvendors, why,
						   sizeof(why)) != 0)
				return hsm_error(ctx, HSM_EXIT_FAILED, "vendor keys", "%s", why);
		}
		if (!nvendors) {
			rc = hsm_error(
			    ctx, HSM_EXIT_AUTH, "vendor keys",
			    "no trusted vendor public key in %s/vendor.d to verify HSMs with",
			    hsm_conf_dir(ctx));
			break;
		}
		rc = hsm_exit_worst(rc, pin_one(ctx, &fleet->modules[i], key, vendors, nvendors));
	}
	hsm_vendor_keys_free(vendors, nvendors);
	return rc;
}
