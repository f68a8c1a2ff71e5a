/* SPDX-License-Identifier: Apache-2.0 */
/*
 * setup - information about the HSM and its configuration (guide 4.10.1):
 * status, info, time, environment statistics, reset, factory state,
 * accelerator selection and the platform mode; feature licences (fet,
 * device-licence.c) and the VCM network (setnetwork, network.c).
 *
 * The central rules (factory state, interlock, log capacity, lost clock,
 * maintenance mode) are declared in the method table and applied by hsmd.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <hsmadmin/features.h>
#include <hsmadmin/service.h>
#include <hsmadmin/fileio.h>
#include "envstats.h"
#include "procstat.h"
#include "setup.h"

#define MAX_TIME (INT64_C(1) << 40)

static const char *const accelerators[] = { "ecc", "rsa" };

static const char *dev_str(struct hsmd_call *call, const char *key)
{
	return json_string_value(json_object_get(hsmd_device(call), key));
}

/* The image the HSM runs; the device writes "image" only for the
 * recovery image (guide 4.5.1). */
static const char *image(struct hsmd_call *call)
{
	const char *s = dev_str(call, "image");

	return s ? s : "primary";
}

/* The platform mode as status, info and enquiry show it: on the recovery
 * image the mode is "recovery" (guide 4.5.4.2: `hsmadmin status` shows
 * it). */
static const char *platform_mode(struct hsmd_call *call)
{
	return strcmp(image(call), "recovery") == 0 ? "recovery" : dev_str(call, "mode");
}

/* firmware.running: the version of the image this boot runs (its
 * modules are the services that answer). */
static int m_status(struct hsmd_call *call)
{
	const json_t *dev = hsmd_device(call), *fw = json_object_get(dev, "firmware");

	hsmd_reply(
	    call,
	    json_pack("{s:O, s:O, s:s, s:s, s:{s:O, s:O, s:O, s:O}, s:b, s:o}", "esn",
		      json_object_get(hsmd_lifetime(call), "esn"), "state",
		      json_object_get(dev, "state"), "mode", platform_mode(call), "image",
		      image(call), "firmware", "running", json_object_get(fw, image(call)),
		      "primary", json_object_get(fw, "primary"), "recovery",
		      json_object_get(fw, "recovery"), "uboot", json_object_get(fw, "uboot"),
		      "clock_set",
		      json_is_integer(json_object_get(json_object_get(dev, "clock"), "last_set")),
		      "vcm_network", setup_vcm_network(dev)));
	return HSMD_OK;
}

static int m_info(struct hsmd_call *call)
{
	const json_t *lt = hsmd_lifetime(call), *dev = hsmd_device(call);
	struct setup_limits lim;
	char names[512];

	/* Limits, speed and features come from the lifetime data and the
	 * feature licence, if one was applied (device-licence.c). */
	setup_limits(lt, dev, &lim);
	hsm_features_format(lim.features, names, sizeof(names));
	hsmd_reply(
	    call,
	    json_pack("{s:O, s:s, s:s, s:O, s:O, s:s, s:I, s:s, s:I, s:I, s:O, s:O, s:I, s:I, "
		      "s:{s:s, s:O, s:O}, s:o, s:o}",
		      "esn", json_object_get(lt, "esn"), "dbid",
		      json_string_value(json_object_get(lt, "dbid")) ?: "unknown", "mode",
		      platform_mode(call), "psn", json_object_get(lt, "psn"), "mfgtime",
		      json_object_get(lt, "mfgtime"), "speed", lim.speed, "features",
		      (json_int_t)lim.features, "features_names", names, "factory_features",
		      (json_int_t)lim.factory_features, "licensed_features",
		      (json_int_t)lim.licensed_features, "vsn",
		      json_object_get(json_object_get(dev, "firmware"), "vsn"), "min_vsn",
		      json_object_get(dev, "min_vsn"), "max_active_vcms",
		      (json_int_t)lim.max_active_vcms, "max_creatable_vcms",
		      (json_int_t)lim.max_creatable_vcms, "network", "mode", "emulated", "address",
		      json_object_get(lt, "address"), "ports", json_object_get(lt, "ports"),
		      "licence", setup_licence_summary(dev), "vcm_network",
		      setup_vcm_network(dev)));
	return HSMD_OK;
}

static int m_gettime(struct hsmd_call *call)
{
	hsmd_reply(call, json_pack("{s:I}", "time", (json_int_t)hsmd_now(call)));
	return HSMD_OK;
}

static int m_settime(struct hsmd_call *call)
{
	char why[160];
	json_int_t t;
	int adjust = 0, no_reset = 0;
	const json_t *lt = hsmd_lifetime(call);
	json_t *doc, *clock;
	const json_t *last_set;
	int64_t host = hsmd_host_now(call), now = hsmd_now(call);

	if (hsm_json_unpack(hsmd_params(call), JSON_STRICT, why, sizeof(why), "{s:I, s?b, s?b}",
			    "time", &t, "adjust", &adjust, "no_reset", &no_reset) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", why);
	if (t < 0 || t > MAX_TIME)
		return hsmd_error(call, HSMD_BAD_REQUEST, "time: %lld is out of range",
				  (long long)t);
	if (t < json_integer_value(json_object_get(lt, "mfgtime")))
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "time %lld is earlier than the manufacturing time %lld",
				  (long long)t,
				  (long long)json_integer_value(json_object_get(lt, "mfgtime")));
	doc = hsmd_begin(call);
	clock = json_object_get(doc, "clock");
	last_set = json_object_get(clock, "last_set");
	if (json_is_integer(last_set) && t < json_integer_value(last_set)) {
		/* Read before the document (which owns last_set) is released. */
		long long last = (long long)json_integer_value(last_set);
		json_decref(doc);
		return hsmd_error(
		    call, HSMD_REFUSED_STATE,
		    "time %lld is earlier than the last time set (%lld); only factory "
		    "state allows that",
		    (long long)t, last);
	}
	if (adjust) {
		/* Slew: fold what the current slew has done into the offset and
		 * start a new one towards the host's time. */
		json_int_t offset = json_integer_value(json_object_get(clock, "offset"));
		int64_t done = now - host - offset;
		json_object_set_new(clock, "offset", json_integer(offset + done));
		json_object_set_new(clock, "slew",
				    t == now ? json_null()
					     : json_pack("{s:I, s:I}", "start", (json_int_t)host,
							 "delta", (json_int_t)(t - now)));
		if (hsmd_commit(
			call, doc, "settime_adjust",
			json_pack("{s:I, s:I}", "target", t, "delta", (json_int_t)(t - now))) != 0)
			return HSMD_FAILED;
		hsmd_reply(call, json_pack("{s:b, s:s}", "adjusting", 1, "message",
					   "HSM system time calibration in progress"));
		return HSMD_OK;
	}
	json_object_set_new(clock, "offset", json_integer(t - host));
	json_object_set_new(clock, "last_set", json_integer(t));
	json_object_set_new(clock, "lost", json_false());
	json_object_set_new(clock, "slew", json_null());
	if (hsmd_commit(call, doc, "settime",
			json_pack("{s:I, s:I}", "time", t, "previous", (json_int_t)now)) != 0)
		return HSMD_FAILED;
	/* Setting the clock resets the HSM (guide 4.2.4.1), unless the admin
	 * asked for no reset (guide 4.10.1 --no-reset) and will reboot later. */
	if (!no_reset && hsmd_reboot(call, "reset") != 0)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:I, s:b}", "time", t, "reset", !no_reset));
	return HSMD_OK;
}

static int m_setminvsn(struct hsmd_call *call)
{
	char why[160];
	json_int_t vsn, cur, installed;
	const json_t *dev = hsmd_device(call);
	json_t *doc;

	if (hsm_json_unpack(hsmd_params(call), JSON_STRICT, why, sizeof(why), "{s:I}", "vsn",
			    &vsn) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", why);
	cur = json_integer_value(json_object_get(dev, "min_vsn"));
	installed = json_integer_value(json_object_get(json_object_get(dev, "firmware"), "vsn"));
	if (vsn < cur)
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "VSN %lld is lower than the current minimum VSN %lld",
				  (long long)vsn, (long long)cur);
	if (vsn > installed)
		return hsmd_error(
		    call, HSMD_REFUSED_STATE,
		    "VSN %lld is higher than the VSN of the installed firmware (%lld)",
		    (long long)vsn, (long long)installed);
	if (vsn != cur) {
		doc = hsmd_begin(call);
		json_object_set_new(doc, "min_vsn", json_integer(vsn));
		if (hsmd_commit(call, doc, "setminvsn",
				json_pack("{s:I, s:I}", "min_vsn", vsn, "previous", cur)) != 0)
			return HSMD_FAILED;
	}
	hsmd_reply(call, json_pack("{s:I, s:b}", "min_vsn", vsn, "changed", vsn != cur));
	return HSMD_OK;
}

/* Memory in use on the HSM (guide 3.1.3.5.1): the platform's plus that of
 * every VCM running on it, in kilobytes like mem_total. */
static json_int_t mem_used_kb(struct hsmd_call *call)
{
	json_int_t kb = fw_rss_kb(getpid());
	json_t *running = hsmd_has_vcm_api(call) ? hsmd_vcm_running(call) : NULL, *e;
	const char *uuid;

	json_object_foreach(running, uuid, e) if (json_is_integer(json_object_get(e, "pid"))) kb +=
	    fw_rss_kb((pid_t)json_integer_value(json_object_get(e, "pid")));
	json_decref(running);
	return kb;
}

static int m_getenvstats(struct hsmd_call *call)
{
	json_t *st = setup_envstats(hsmd_uptime(call), hsmd_now(call),
				    json_string_value(json_object_get(hsmd_lifetime(call), "esn")));

	json_object_set_new(st, "mem_used", json_integer(mem_used_kb(call)));
	hsmd_reply(call, st);
	return HSMD_OK;
}

/* What the boot just done did with the autostart VCMs: the "started" and
 * "not_started" lists of the init log's vcm_autostart entry, so that the
 * admin who reset learns at once which VCMs did not come back. */
static void add_autostart(struct hsmd_call *call, json_t *reply)
{
	json_t *init = hsmd_log_entries(call, "init"), *e, *d = NULL;
	size_t i;

	json_array_foreach(init, i,
			   e) if (!strcmp(json_string_value(json_object_get(e, "event")) ?: "",
					  "vcm_autostart")) d = json_object_get(e, "detail");
	if (json_is_array(json_object_get(d, "started")))
		json_object_set(reply, "autostart_started", json_object_get(d, "started"));
	if (json_is_array(json_object_get(d, "not_started")))
		json_object_set(reply, "autostart_not_started", json_object_get(d, "not_started"));
	json_decref(init);
}

/* The reply says what booted: with the recovery button held the recovery
 * image, in factory state (guide 4.5.4.2). */
static int m_reset(struct hsmd_call *call)
{
	/* A flag, not the string: the reboot replaces the view it points into. */
	int was_recovery = strcmp(image(call), "recovery") == 0, switched;
	json_t *reply, *images = hsmd_has_image_api(call) ? hsmd_images(call) : NULL;
	/* A primary image installed with upgrade --no-reset boots now, and
	 * its first boot returns the HSM to factory state. */
	int new_image = json_is_true(json_object_get(images, "trial"));
	json_t *version =
	    json_incref(json_object_get(json_object_get(images, "primary"), "version"));

	json_decref(images);
	if (hsmd_reboot(call, "reset") != 0) {
		json_decref(version);
		return HSMD_FAILED;
	}
	switched = was_recovery != (strcmp(image(call), "recovery") == 0);
	reply = json_pack("{s:b, s:s, s:b}", "reset", 1, "image", image(call), "factory_state",
			  switched);
	if (new_image && version)
		json_object_set_new(
		    reply, "new_firmware",
		    json_pack("{s:O, s:b}", "primary", version, "factory_state", 1));
	json_decref(version);
	add_autostart(call, reply);
	hsmd_reply(call, reply);
	return HSMD_OK;
}

static int m_factorystate(struct hsmd_call *call)
{
	if (hsmd_factory_state(call) != 0)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:b}", "factorystate", 1));
	return HSMD_OK;
}

static int m_select_acceleration(struct hsmd_call *call)
{
	char why[160];
	const char *set = NULL;
	json_t *doc, *accel, *avail = json_array();
	int known = 0;

	if (hsm_json_unpack(hsmd_params(call), JSON_STRICT, why, sizeof(why), "{s?s}", "set",
			    &set) != 0) {
		json_decref(avail);
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", why);
	}
	for (size_t i = 0; i < sizeof(accelerators) / sizeof(accelerators[0]); i++) {
		json_array_append_new(avail, json_string(accelerators[i]));
		known |= set && strcmp(set, accelerators[i]) == 0;
	}
	doc = hsmd_begin(call);
	accel = json_object_get(doc, "acceleration");
	if (set) {
		if (!known) {
			json_decref(avail);
			json_decref(doc);
			return hsmd_error(call, HSMD_BAD_REQUEST,
					  "set: unknown accelerator '%.32s' (ecc, rsa)", set);
		}
		/* Takes effect at the next reset (guide 4.10.1.15.1). */
		if (strcmp(json_string_value(json_object_get(accel, "selected")), set) == 0)
			json_object_set_new(accel, "pending", json_null());
		else
			json_object_set_new(accel, "pending", json_string(set));
		json_incref(accel);
		if (hsmd_commit(call, doc, "select_acceleration", json_pack("{s:s}", "set", set)) !=
		    0) {
			json_decref(accel);
			json_decref(avail);
			return HSMD_FAILED;
		}
		doc = NULL;
	} else {
		json_incref(accel);
		json_decref(doc);
	}
	hsmd_reply(call, json_pack("{s:o, s:O, s:O}", "available", avail, "selected",
				   json_object_get(accel, "selected"), "pending",
				   json_object_get(accel, "pending")));
	json_decref(accel);
	return HSMD_OK;
}

static int m_set_mode(struct hsmd_call *call)
{
	char why[160];
	const char *mode;
	json_t *doc;

	if (hsm_json_unpack(hsmd_params(call), JSON_STRICT, why, sizeof(why), "{s:s}", "mode",
			    &mode) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", why);
	if (strcmp(mode, "operational") && strcmp(mode, "maintenance") &&
	    strcmp(mode, "initialization"))
		return hsmd_error(call, HSMD_BAD_REQUEST,
				  "mode: '%.32s' is not operational, maintenance or initialization",
				  mode);
	if (strcmp(image(call), "recovery") == 0)
		return hsmd_error(
		    call, HSMD_REFUSED_STATE,
		    "the HSM runs its recovery image: its mode is recovery until it is "
		    "reset without the recovery button held (guide 4.5.4.3)");
	if (strcmp(dev_str(call, "mode"), mode) != 0) {
		doc = hsmd_begin(call);
		json_object_set_new(doc, "mode", json_string(mode));
		if (hsmd_commit(call, doc, "set_mode",
				json_pack("{s:s, s:s}", "mode", mode, "previous",
					  dev_str(call, "mode"))) != 0)
			return HSMD_FAILED;
	}
	hsmd_reply(call, json_pack("{s:s}", "mode", mode));
	return HSMD_OK;
}

static const struct hsmd_method methods[] = {
	{ .name = "status", .handler = m_status, .summary = "state, mode, image and firmware" },
	{ .name = "info", .handler = m_info, .summary = "lifetime data and limits" },
	{ .name = "gettime", .handler = m_gettime, .summary = "the HSM system time" },
	/* Setting needs maintenance and cures a lost clock; adjusting works in
	 * operational mode but not with a lost clock (guide 4.2). */
	{ .name = "settime",
	  .flags = HSMD_METHOD_INVASIVE | HSMD_METHOD_LOG_GUARDED,
	  .variant_param = "adjust",
	  .variant_flags = HSMD_METHOD_NEEDS_CLOCK,
	  .plain_flags = HSMD_METHOD_MAINTENANCE,
	  .handler = m_settime,
	  .summary = "set (and reset) or slew the system time" },
	/* Maintenance mode as guide 4.10.1.12 says. */
	{ .name = "setminvsn",
	  .flags = HSMD_METHOD_INVASIVE | HSMD_METHOD_LOG_GUARDED | HSMD_METHOD_NEEDS_CLOCK |
		   HSMD_METHOD_MAINTENANCE,
	  .handler = m_setminvsn,
	  .summary = "raise the minimum firmware VSN" },
	{ .name = "getenvstats", .handler = m_getenvstats, .summary = "environmental statistics" },
	/* A reboot is how the critical log state is left once logs are
	 * reduced (guide 4.12.1), so reset stays allowed past it. */
	{ .name = "reset",
	  .flags = HSMD_METHOD_INVASIVE | HSMD_METHOD_LOG_ACCESS,
	  .handler = m_reset,
	  .summary = "reset the HSM" },
	{ .name = "factorystate",
	  .flags = HSMD_METHOD_INVASIVE | HSMD_METHOD_LOG_GUARDED | HSMD_METHOD_NEEDS_CLOCK,
	  .handler = m_factorystate,
	  .summary = "return to factory state" },
	{ .name = "select_acceleration",
	  .variant_param = "set",
	  .variant_flags = HSMD_METHOD_INVASIVE | HSMD_METHOD_MAINTENANCE,
	  .handler = m_select_acceleration,
	  .summary = "show or select the accelerator" },
	{ .name = "set_mode",
	  .handler = m_set_mode,
	  .summary = "operational, maintenance or initialization mode (nopclearfail)" },
	/* Both change the device, so the interlock applies. */
	{ .name = "fet",
	  .flags = HSMD_METHOD_INVASIVE,
	  .handler = setup_fet,
	  .summary = "verify and apply a feature licence" },
	{ .name = "setnetwork",
	  .flags = HSMD_METHOD_INVASIVE,
	  .handler = setup_setnetwork,
	  .summary = "set the VCM network (takes effect at the next reset)" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,  .name = "setup",    .version = PACKAGE_VERSION,
	.default_port = 2202, .methods = methods,
};
