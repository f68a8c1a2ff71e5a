/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-cidr.c - libFuzzer target for the address and prefix parsers and
 * the static network rules (core/lib/netaddr.c): any bytes must give a
 * value or a one-line reason, never a crash; what parses must format
 * back to text that parses to the same value, and must survive the
 * network checks and the allocator.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/netaddr.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(int rc, const char *err)
{
	if (rc != 0 && (!err[0] || strchr(err, '\n')))
		abort(); /* a failure says why, in one line */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], again[HSM_NETADDR_STRLEN], err[256], *gw;
	struct hsm_cidr c, c2;
	struct hsm_ipaddr a = { 0 }, a2, out;
	struct hsm_netconfig cfg;
	int rc;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';

	err[0] = '\0';
	rc = hsm_ip_parse(text, 0, &a, err, sizeof(err));
	one_line(rc, err);
	if (rc == 0) {
		hsm_ip_format(&a, again, sizeof(again));
		if (hsm_ip_parse(again, 0, &a2, err, sizeof(err)) != 0 || !hsm_ip_equal(&a, &a2))
			abort(); /* formatting round-trips */
	}
	err[0] = '\0';
	rc = hsm_cidr_parse(text, 0, &c, err, sizeof(err));
	one_line(rc, err);
	if (rc == 0) {
		struct hsm_addr_pool pool = { .subnet = c, .used = &a, .nused = 1 };
		hsm_cidr_format(&c, again, sizeof(again));
		if (hsm_cidr_parse(again, 0, &c2, err, sizeof(err)) != 0 || c2.prefix != c.prefix ||
		    !hsm_ip_equal(&c.addr, &c2.addr))
			abort();
		rc = hsm_addr_alloc(&pool, &out, err, sizeof(err));
		if (rc == HSM_ADDR_OK &&
		    (!hsm_ip_is_host(&out, &c) ||
		     hsm_addr_check(&pool, &out, err, sizeof(err)) != HSM_ADDR_OK))
			abort(); /* what is allocated is a free host of the subnet */
		hsm_addr_check(&pool, &c.addr, err, sizeof(err));
	}
	/* "ADDRESS GATEWAY": the static network rules. */
	gw = strchr(text, ' ');
	if (gw) {
		*gw++ = '\0';
		for (int fam = 4; fam <= 6; fam += 2) {
			err[0] = '\0';
			rc = hsm_netconfig_parse(fam, text, gw, &cfg, err, sizeof(err));
			one_line(rc, err);
			if (rc == 0 && (!hsm_ip_is_host(&cfg.gateway, &cfg.address) ||
					hsm_ip_equal(&cfg.gateway, &cfg.address.addr)))
				abort();
		}
	}
	return 0;
}
