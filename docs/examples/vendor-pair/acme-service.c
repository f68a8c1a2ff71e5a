/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acme-service.c - a vendor's service module for hsmd, built out of tree
 * with `pkg-config hsmadmin-service` (docs/plugin-guide.md, "Calling your
 * own code on the HSM").  It is served as the HSM's launcher service, the
 * service that runs vendor code on the HSM (guide 4.6.2.5), and answers:
 *
 *   acme_info   {}                      -> {"vendor", "version", "esn"}
 *   acme_sum    {"values": [int, ...]}  -> {"sum", "count"}
 *
 * The host plugin acme-plugin.c calls them.  hsmd has already checked the
 * caller's key and the device's rules before a handler runs; a handler
 * only checks its params and answers.
 */
#include <stdint.h>
#include <hsmadmin/service.h>

#define ACME_MAX_VALUES 64
#define ACME_MAX_ABS 1000000000LL

static int acme_info(struct hsmd_call *call)
{
	const char *esn = json_string_value(json_object_get(hsmd_lifetime(call), "esn"));

	if (json_object_size(hsmd_params(call)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: acme_info takes none");
	hsmd_reply(call, json_pack("{s:s, s:s, s:s}", "vendor", "acme", "version", "1.0", "esn",
				   esn ? esn : ""));
	return HSMD_OK;
}

static int acme_sum(struct hsmd_call *call)
{
	json_error_t jerr;
	json_t *values, *v;
	json_int_t sum = 0;
	size_t i;

	if (json_unpack_ex((json_t *)hsmd_params(call), &jerr, JSON_STRICT, "{s:o}", "values",
			   &values) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", jerr.text);
	if (!json_is_array(values) || json_array_size(values) == 0 ||
	    json_array_size(values) > ACME_MAX_VALUES)
		return hsmd_error(call, HSMD_BAD_REQUEST, "values: an array of 1 to %d integers",
				  ACME_MAX_VALUES);
	json_array_foreach(values, i, v)
	{
		json_int_t n = json_integer_value(v);

		if (!json_is_integer(v) || n > ACME_MAX_ABS || n < -ACME_MAX_ABS)
			return hsmd_error(call, HSMD_BAD_REQUEST,
					  "values[%zu]: not an integer within +-%lld", i,
					  ACME_MAX_ABS);
		sum += n;
	}
	hsmd_reply(call, json_pack("{s:I, s:I}", "sum", sum, "count", (json_int_t)i));
	return HSMD_OK;
}

static const struct hsmd_method acme_methods[] = {
	{ .name = "acme_info", .handler = acme_info, .summary = "who answers" },
	{ .name = "acme_sum", .handler = acme_sum, .summary = "add up integers" },
	HSMD_METHOD_END
};

/* The name is the service it serves: services.d/launcher.conf names it. */
HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,  .name = "launcher",      .version = "1.0",
	.default_port = 2205, .methods = acme_methods,
};
