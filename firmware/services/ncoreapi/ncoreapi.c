/*
 * ncoreapi - the VCM's cryptographic service, kept minimal in issue 6:
 * enquiry and the module mode, which the supervisor reports to the
 * orchestrator ("operational" once a tenant key is installed and the mode
 * is operational) so that `vcmadmin stop` and the platform interlock know
 * when a tenant is using the VCM.  Issue 7 makes it real (key store,
 * fail/clear/retry).  Served only by VCM processes, never by the platform.
 */
#include "config.h"

#include <string.h>

#include <hsmadmin/features.h>
#include <hsmadmin/service.h>

static int m_enquiry(struct hsmd_call *call)
{
	const json_t *lt = hsmd_lifetime(call), *dev = hsmd_device(call);
	char names[512];

	hsm_features_format((uint32_t)json_integer_value(json_object_get(lt, "features")), names,
			    sizeof(names));
	hsmd_reply(call, json_pack("{s:O, s:O, s:O, s:O, s:s}", "esn", json_object_get(lt, "esn"),
				   "psn", json_object_get(lt, "psn"), "mode", json_object_get(dev, "mode"),
				   "features", json_object_get(lt, "features"), "features_names", names));
	return HSMD_OK;
}

static int m_set_mode(struct hsmd_call *call)
{
	json_error_t jerr;
	const char *mode, *cur = json_string_value(json_object_get(hsmd_device(call), "mode"));
	json_t *doc;

	if (json_unpack_ex((json_t *)hsmd_params(call), &jerr, JSON_STRICT, "{s:s}", "mode", &mode) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", jerr.text);
	if (strcmp(mode, "operational") && strcmp(mode, "maintenance") && strcmp(mode, "initialization"))
		return hsmd_error(call, HSMD_BAD_REQUEST,
				  "mode: '%.32s' is not operational, maintenance or initialization", mode);
	if (strcmp(cur, mode) != 0) {
		doc = hsmd_begin(call);
		json_object_set_new(doc, "mode", json_string(mode));
		if (hsmd_commit(call, doc, "set_mode", json_pack("{s:s, s:s}", "mode", mode,
				"previous", cur)) != 0)
			return HSMD_FAILED;
	}
	hsmd_reply(call, json_pack("{s:s}", "mode", mode));
	return HSMD_OK;
}

static const struct hsmd_method methods[] = {
	{ .name = "enquiry", .handler = m_enquiry, .summary = "module identity, mode and features" },
	{ .name = "set_mode", .handler = m_set_mode,
	  .summary = "operational, maintenance or initialization mode (nopclearfail)" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,
	.name = "ncoreapi",
	.version = PACKAGE_VERSION,
	.default_port = 2203,
	.methods = methods,
};
