/* SPDX-License-Identifier: Apache-2.0 */
/*
 * updater - installs vendor-signed firmware packages (guide 4.6.2.1,
 * 4.1.4, 4.10.1.4; docs/formats/npkg.md).
 *
 * `upgrade` is a streaming method: its params line
 * {"dry_run","force","no_reset"} is followed by the package's bytes.
 * hsmd verifies them as they arrive and writes them into a new image
 * directory that nothing names yet; only when the whole package verified
 * and every rule below holds is the image installed (one atomic switch of
 * images.json) — a dry run drops it instead.  The rules:
 *
 *   - central rules from the flags: the interlock (no operational
 *     ncoreapi), the log's safe level, a set clock, and maintenance mode
 *     unless "force" (guide 4.10.1.4);
 *   - no VCM may be active, even with force;
 *   - the package's VSN is at least the HSM's minimum VSN (guide 4.1.2.1);
 *   - a bootloader older than an installed one that revoked older ones is
 *     refused (guide 4.1.2.2);
 *   - product, signature, vendor and every digest (hsmd, while streaming).
 *
 * `images` tells which firmware is installed and the minimum VSN.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/service.h>
#include "updater-params.h"

static int read_params(struct hsmd_call *call, struct upgrade_params *p)
{
	char err[256];

	if (updater_params_upgrade(hsmd_params(call), p, err, sizeof(err)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	return HSMD_OK;
}

/* No VCM may run during an upgrade; --force does not change that. */
static int no_active_vcm(struct hsmd_call *call)
{
	json_t *running = hsmd_has_vcm_api(call) ? hsmd_vcm_running(call) : NULL;
	const char *uuid = NULL;
	json_t *v;
	size_t n = json_object_size(running);

	json_object_foreach(running, uuid, v) break;
	if (n) {
		int rc =
		    hsmd_error(call, HSMD_REFUSED_STATE,
			       "%zu VCM%s active (%.36s): stop every VCM before upgrading firmware "
			       "(--force does not override this)",
			       n, n == 1 ? " is" : "s are", uuid);
		json_decref(running);
		return rc;
	}
	json_decref(running);
	return HSMD_OK;
}

static int m_upgrade_start(struct hsmd_call *call)
{
	struct upgrade_params p;
	int rc;

	if (!hsmd_has_image_api(call))
		return hsmd_error(call, HSMD_FAILED, "this hsmd cannot install firmware images");
	if ((rc = read_params(call, &p)) != HSMD_OK || (rc = no_active_vcm(call)) != HSMD_OK)
		return rc;
	return hsmd_image_open(call);
}

static int m_upgrade_stream(struct hsmd_call *call, const void *data, size_t len)
{
	return hsmd_image_write(call, data, len);
}

/* The firmware rules, on the verified manifest and the installed images. */
static int check_rules(struct hsmd_call *call, const json_t *pkg, const json_t *images)
{
	const char *component = json_string_value(json_object_get(pkg, "component"));
	json_int_t min = json_integer_value(json_object_get(hsmd_device(call), "min_vsn"));

	if (strcmp(component, "bootloader") == 0) {
		const json_t *cur = json_object_get(images, "bootloader");
		const char *have = json_string_value(json_object_get(cur, "version"));
		const char *want = json_string_value(json_object_get(pkg, "version"));
		if (json_is_true(json_object_get(cur, "revokes_older")) && have && want &&
		    strverscmp(want, have) < 0)
			return hsmd_error(
			    call, HSMD_REFUSED_STATE,
			    "bootloader %s revoked older bootloaders: %s cannot be installed", have,
			    want);
		return HSMD_OK;
	}
	if (json_integer_value(json_object_get(pkg, "vsn")) < min)
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "the package's VSN %" JSON_INTEGER_FORMAT
				  " is lower than the HSM's minimum "
				  "VSN %" JSON_INTEGER_FORMAT " (guide 4.1.2.1)",
				  json_integer_value(json_object_get(pkg, "vsn")), min);
	return HSMD_OK;
}

static json_t *current_versions(const json_t *images)
{
	return json_pack("{s:O, s:O, s:O}", "primary",
			 json_object_get(json_object_get(images, "primary"), "version"), "recovery",
			 json_object_get(json_object_get(images, "recovery"), "version"),
			 "bootloader",
			 json_object_get(json_object_get(images, "bootloader"), "version"));
}

static int m_upgrade_finish(struct hsmd_call *call)
{
	struct upgrade_params p;
	json_t *pkg = NULL, *images = NULL, *result;
	const char *component;
	int rc;

	read_params(call, &p); /* checked at the start */
	if ((rc = hsmd_image_close(call, &pkg)) != HSMD_OK)
		return rc;
	images = hsmd_images(call);
	if (!images) {
		json_decref(pkg);
		hsmd_image_discard(call);
		return HSMD_FAILED;
	}
	if ((rc = check_rules(call, pkg, images)) != HSMD_OK ||
	    (rc = no_active_vcm(call)) != HSMD_OK) {
		hsmd_image_discard(call);
		goto out;
	}
	component = json_string_value(json_object_get(pkg, "component"));
	result = json_pack("{s:o, s:O, s:b, s:s}", "current", current_versions(images), "package",
			   pkg, "dry_run", p.dry_run, "component", component);
	if (p.dry_run) {
		hsmd_image_discard(call);
		json_object_set_new(result, "changed", json_array());
		hsmd_reply(call, result);
		goto out;
	}
	if (hsmd_image_install(call, !p.no_reset) != 0) {
		json_decref(result);
		rc = HSMD_FAILED;
		goto out;
	}
	json_object_set_new(result, "changed", json_pack("[s]", component));
	json_object_set_new(result, "reset", json_boolean(!p.no_reset));
	/* A new primary image returns the HSM to factory state when it
	 * first boots (overview §7): enroll again afterwards. */
	json_object_set_new(result, "factory_state",
			    json_boolean(strcmp(component, "primary") == 0));
	hsmd_reply(call, result);
out:
	json_decref(pkg);
	json_decref(images);
	return rc;
}

static int m_images(struct hsmd_call *call)
{
	json_t *images;

	if (!hsmd_has_image_api(call))
		return hsmd_error(call, HSMD_FAILED, "this hsmd has no firmware images");
	images = hsmd_images(call);
	if (!images)
		return HSMD_FAILED;
	json_object_set(images, "min_vsn", json_object_get(hsmd_device(call), "min_vsn"));
	hsmd_reply(call, images);
	return HSMD_OK;
}

static const struct hsmd_method updater_methods[] = {
	{ .name = "upgrade",
	  .flags = HSMD_METHOD_STREAMS | HSMD_METHOD_INVASIVE | HSMD_METHOD_LOG_GUARDED |
		   HSMD_METHOD_NEEDS_CLOCK,
	  .variant_param = "force",
	  .variant_flags = 0,
	  .plain_flags = HSMD_METHOD_MAINTENANCE,
	  .handler = m_upgrade_start,
	  .stream = m_upgrade_stream,
	  .finish = m_upgrade_finish,
	  .summary = "receive, verify and install a firmware package" },
	{ .name = "images",
	  .handler = m_images,
	  .summary = "installed firmware images and minimum VSN" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,  .name = "updater",          .version = PACKAGE_VERSION,
	.default_port = 2204, .methods = updater_methods,
};
