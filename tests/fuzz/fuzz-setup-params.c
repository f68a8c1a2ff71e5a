/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-setup-params.c - libFuzzer target for the params of the setup
 * service's fet and setnetwork methods (firmware/services/setup/params.c),
 * fed through the same strict JSON parser hsmd uses for every request.
 * Any bytes must give a result or a one-line reason, never a crash, a
 * leak or a hang; a network that is accepted must be canonical (parsing
 * it again gives the same object) and pass the state document's rules.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/netaddr.h>
#include "licence.h"
#include "setup.h"

static void one_line(const char *err)
{
	if (!err[0] || strchr(err, '\n'))
		abort();
}

static void check_network(const json_t *params)
{
	char err[512] = "";
	json_t *net = setup_network_params(params, err, sizeof(err)), *again;
	const char *mode;
	struct hsm_netconfig cfg;

	if (!net) {
		one_line(err);
		return;
	}
	/* The stored form reads back as itself. */
	again = setup_network_params(net, err, sizeof(err));
	if (!again || !json_equal(net, again))
		abort();
	json_decref(again);
	mode = json_string_value(json_object_get(net, "mode"));
	if (strcmp(mode, "default") != 0 &&
	    hsm_netconfig_parse(strcmp(mode, "ipv4static") == 0 ? 4 : 6,
				json_string_value(json_object_get(net, "address")),
				json_string_value(json_object_get(net, "gateway")), &cfg, err,
				sizeof(err)) != 0)
		abort();
	json_decref(net);
}

static void check_fet(const json_t *params)
{
	char err[512] = "";
	const char *text;
	size_t len;
	struct hsm_licence *lic = NULL;

	if (setup_fet_params(params, &text, &len, err, sizeof(err)) != 0) {
		one_line(err);
		return;
	}
	if (len == 0 || len > HSM_LICENCE_MAX_BYTES)
		abort();
	if (hsm_licence_parse(text, len, &lic, err, sizeof(err)) == 0)
		hsm_licence_free(lic);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *params = hsm_json_parse((const char *)data, size, 64 * 1024, err, sizeof(err));

	if (!params)
		return 0;
	if (json_is_object(params)) {
		check_network(params);
		check_fet(params);
	}
	json_decref(params);
	return 0;
}
