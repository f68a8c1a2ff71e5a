/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/setnetwork/setnetwork.c - hsmadmin setnetwork default |
 * ipv4static | ipv6static (guide 3.1.2.1, 4.10.1.18): the subnet the
 * HSM's VCMs live on.  The HSM stores it as pending and applies it at the
 * next `hsmadmin reset`; it refuses while any VCM exists.
 *
 * The address and gateway are checked here with the HSM's own rules
 * (hsm_netconfig_check) so that a typo is a usage error naming the option
 * before any HSM is contacted.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hsmadmin/netaddr.h>
#include <hsmadmin/plugin.h>
#include "transport-report.h"

static void print_network(struct hsm_ctx *ctx, const char *label, const json_t *net)
{
	const char *mode = json_string_value(json_object_get(net, "mode"));

	if (!mode) {
		hsm_printf(ctx, "  %s: none\n", label);
		return;
	}
	if (strcmp(mode, "default") == 0)
		hsm_printf(ctx, "  %s: default (IPv6 link-local)\n", label);
	else
		hsm_printf(ctx, "  %s: %s %s, gateway %s\n", label, mode,
			   json_string_value(json_object_get(net, "address")),
			   json_string_value(json_object_get(net, "gateway")));
}

static void print_setnetwork(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			     void *arg)
{
	const json_t *vn = json_object_get(res, "vcm_network");

	(void)arg;
	if (json_is_true(json_object_get(res, "reset_needed")))
		hsm_printf(
		    ctx,
		    "%s: VCM network set; reset the HSM (hsmadmin reset --esn %s) to apply it\n",
		    m->esn, m->esn);
	else
		hsm_printf(ctx, "%s: that is the current VCM network; nothing is pending\n",
			   m->esn);
	print_network(ctx, "current", json_object_get(vn, "current"));
	print_network(ctx, "pending", json_object_get(vn, "pending"));
}

static int send_network(struct hsm_ctx *ctx, json_t *params)
{
	int rc;

	if (!params)
		return hsm_error(ctx, HSM_EXIT_FAILED, "setnetwork", "out of memory");
	rc = hsm_report_call(ctx, "setup", "setnetwork", params, print_setnetwork, NULL);
	json_decref(params);
	return rc;
}

static int run_default(struct hsm_ctx *ctx)
{
	return send_network(ctx, json_pack("{s:s}", "mode", "default"));
}

/* Which option a hsm_netconfig_check message is about. */
static const char *option_of(const char *why)
{
	return strncmp(why, "gateway", 7) == 0 || strncmp(why, "the gateway", 11) == 0
		   ? "--gateway"
		   : "--address";
}

static int run_static(struct hsm_ctx *ctx, int family, const char *mode)
{
	struct hsm_netconfig cfg;
	char why[256], a[HSM_NETADDR_STRLEN], g[HSM_NETADDR_STRLEN];

	memset(&cfg, 0, sizeof(cfg));
	if (hsm_cidr_parse(hsm_opt_str(ctx, "address"), family, &cfg.address, why, sizeof(why)) !=
	    0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--address", "%s", why);
	if (hsm_ip_parse(hsm_opt_str(ctx, "gateway"), family, &cfg.gateway, why, sizeof(why)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--gateway", "%s", why);
	if (hsm_netconfig_check(&cfg, why, sizeof(why)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, option_of(why), "%s", why);
	return send_network(ctx, json_pack("{s:s, s:s, s:s}", "mode", mode, "address",
					   hsm_cidr_format(&cfg.address, a, sizeof(a)), "gateway",
					   hsm_ip_format(&cfg.gateway, g, sizeof(g))));
}

static int run_ipv4(struct hsm_ctx *ctx)
{
	return run_static(ctx, 4, "ipv4static");
}
static int run_ipv6(struct hsm_ctx *ctx)
{
	return run_static(ctx, 6, "ipv6static");
}

static const struct hsm_option ipv4_opts[] = {
	{ .name = "address",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "CIDR",
	  .help = "the HSM's IPv4 address and prefix on the VCM network, e.g. 10.20.0.2/24 (/8 to "
		  "/30)" },
	{ .name = "gateway",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "IP",
	  .help = "the IPv4 gateway, inside the prefix and not the HSM's address" },
	HSM_OPTION_END
};

static const struct hsm_option ipv6_opts[] = {
	{ .name = "address",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "CIDR",
	  .help = "the HSM's IPv6 address and prefix on the VCM network, e.g. 2001:db8::2/64 (/64 "
		  "to /126)" },
	{ .name = "gateway",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "IP",
	  .help = "the IPv6 gateway, inside the prefix and not the HSM's address" },
	HSM_OPTION_END
};

#define FLAGS (HSM_CMDF_DEVICE | HSM_CMDF_NEEDS_ROOT | HSM_CMDF_INVASIVE)
#define AFTER                                                                                      \
	"The HSM applies it at its next reset (hsmadmin reset) and refuses while any VCM exists."

static const struct hsm_command commands[] = {
	{ .path = "setnetwork default",
	  .summary = "Put VCMs on IPv6 link-local addresses (the default)",
	  .description = "For tenants on the HSM's own machine (single tenant, or tenants in "
			 "containers).  " AFTER,
	  .flags = FLAGS,
	  .run = run_default },
	{ .path = "setnetwork ipv4static",
	  .summary = "Put VCMs on a static IPv4 subnet",
	  .description =
	      "VCM addresses are allocated from the prefix of --address, avoiding the "
	      "network and broadcast addresses, the HSM's address and the gateway.  " AFTER,
	  .options = ipv4_opts,
	  .flags = FLAGS,
	  .run = run_ipv4 },
	{ .path = "setnetwork ipv6static",
	  .summary = "Put VCMs on a static IPv6 subnet",
	  .description =
	      "VCM addresses are allocated from the prefix of --address, avoiding the "
	      "first and last addresses of the prefix, the HSM's address and the gateway.  " AFTER,
	  .options = ipv6_opts,
	  .flags = FLAGS,
	  .run = run_ipv6 },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "setnetwork",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
