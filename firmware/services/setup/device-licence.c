/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firmware/services/setup/device-licence.c - feature licences on the device
 * (guide 3.2, 4.9; docs/formats/licence.md): `fet` verifies a licence with
 * the vendor keys hsmd trusts and stores it in device.json, where factory
 * state erases it; `info` derives the VCM limits, speed and features from
 * the lifetime data and the stored licence.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/features.h>
#include "licence.h"
#include "setup.h"
#include "vcmrules.h"

/* The limits are the firmware's own (fw_vcm_limits: the rule VCM create
 * and start enforce); info and fet add the two words they came from. */
void setup_limits(const json_t *lifetime, const json_t *device, struct setup_limits *out)
{
	const json_t *lic = json_object_get(device, "licence");
	struct fw_vcm_limits lim;

	fw_vcm_limits(lifetime, device, &lim);
	memset(out, 0, sizeof(*out));
	out->factory_features = (uint32_t)json_integer_value(json_object_get(lifetime, "features"));
	if (json_is_object(lic))
		out->licensed_features =
		    (uint32_t)json_integer_value(json_object_get(lic, "features"));
	out->features = lim.platform;
	out->max_active_vcms = lim.max_active;
	out->max_creatable_vcms = lim.max_creatable;
	out->speed = lim.speed;
}

json_t *setup_licence_summary(const json_t *device)
{
	const json_t *lic = json_object_get(device, "licence");
	const json_t *text = json_object_get(lic, "text");
	struct hsm_licence *parsed;
	char err[384];
	json_t *sum;

	if (!json_is_string(text))
		return json_null();
	/* hsmd validated the text when it loaded device.json. */
	if (hsm_licence_parse(json_string_value(text), json_string_length(text), &parsed, err,
			      sizeof(err)) != 0)
		return json_null();
	sum = hsm_licence_summary(parsed);
	hsm_licence_free(parsed);
	return sum ? sum : json_null();
}

/* The error code of each refusal (docs/formats/licence.md). */
static int licence_status(int rc)
{
	switch (rc) {
	case HSM_LICENCE_UNKNOWN_SIGNER:
	case HSM_LICENCE_TAMPERED:
		return HSMD_DENIED;
	case HSM_LICENCE_WRONG_ESN:
		return HSMD_FAILED;
	default:
		return HSMD_BAD_REQUEST;
	}
}

static const char *licence_kind(int rc)
{
	switch (rc) {
	case HSM_LICENCE_UNKNOWN_VERSION:
		return "unknown licence format version";
	case HSM_LICENCE_UNKNOWN_SIGNER:
		return "unknown signer";
	case HSM_LICENCE_TAMPERED:
		return "tampered licence";
	case HSM_LICENCE_WRONG_ESN:
		return "wrong ESN";
	default:
		return "malformed licence";
	}
}

/* Parse, verify against vendor.d and check the ESN; 0 or an hsmd status
 * with the error set on the call. */
static int licence_accept(struct hsmd_call *call, const char *text, size_t len,
			  struct hsm_licence **out)
{
	const char *dir = hsmd_vendor_dir(call);
	const char *esn = json_string_value(json_object_get(hsmd_lifetime(call), "esn"));
	struct hsm_licence *lic;
	EVP_PKEY **keys = NULL;
	size_t n = 0;
	char err[512];
	int rc;

	*out = NULL;
	rc = hsm_licence_parse(text, len, &lic, err, sizeof(err));
	if (rc != 0)
		return hsmd_error(call, licence_status(rc), "licence refused (%s): %s",
				  licence_kind(rc), err);
	if (!dir) {
		hsm_licence_free(lic);
		return hsmd_error(call, HSMD_FAILED,
				  "this hsmd does not say where its vendor keys are "
				  "(service ABI older than 1.1)");
	}
	if (hsm_vendor_keys_load(dir, &keys, &n, err, sizeof(err)) != 0) {
		hsm_licence_free(lic);
		return hsmd_error(call, HSMD_FAILED, "cannot read the trusted vendor keys: %s",
				  err);
	}
	rc = hsm_licence_verify(lic, keys, n, err, sizeof(err));
	hsm_vendor_keys_free(keys, n);
	if (rc == 0)
		rc = hsm_licence_check_esn(lic, esn, err, sizeof(err));
	if (rc != 0) {
		hsm_licence_free(lic);
		return hsmd_error(call, licence_status(rc), "licence refused (%s): %s",
				  licence_kind(rc), err);
	}
	*out = lic;
	return 0;
}

/* Active VCMs, for the warning of a licence below the running count.  The
 * orchestrator owns the VCM records; setup only reads "state". */
static size_t active_vcms(const json_t *device)
{
	const char *uuid;
	json_t *v;
	size_t n = 0;

	json_object_foreach((json_t *)json_object_get(device, "vcms"), uuid, v) n +=
	    json_is_string(json_object_get(v, "state")) &&
	    strcmp(json_string_value(json_object_get(v, "state")), "active") == 0;
	return n;
}

int setup_fet(struct hsmd_call *call)
{
	const json_t *old;
	json_t *doc, *stored, *result, *detail;
	struct hsm_licence *lic;
	struct setup_limits lim;
	const char *text, *speed;
	char err[512], *canon;
	size_t len, clen, active;
	int rc, changed;

	if (setup_fet_params(hsmd_params(call), &text, &len, err, sizeof(err)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	if ((rc = licence_accept(call, text, len, &lic)) != 0)
		return rc;
	/* A licence issued before the applied one is an old licence: applying
	 * it again would undo a later one (e.g. bring back a larger count the
	 * vendor has since reduced).  A sanctioned downgrade is a new licence
	 * with a later issue time (docs/formats/licence.md). */
	old = json_object_get(hsmd_device(call), "licence");
	if (json_is_object(old) &&
	    lic->issued < json_integer_value(json_object_get(old, "issued"))) {
		rc = hsmd_error(
		    call, HSMD_REFUSED_STATE,
		    "licence refused (older): serial %lld was issued "
		    "before the applied licence (serial %lld, %lld seconds later); ask the vendor "
		    "for a licence issued later",
		    (long long)lic->serial,
		    (long long)json_integer_value(json_object_get(old, "serial")),
		    (long long)(json_integer_value(json_object_get(old, "issued")) - lic->issued));
		hsm_licence_free(lic);
		return rc;
	}
	canon = hsm_licence_text(lic, &clen);
	if (!canon) {
		hsm_licence_free(lic);
		return hsmd_error(call, HSMD_FAILED, "out of memory");
	}
	speed = lic->speed_upgrade == HSM_LICENCE_SPEED_NONE
		    ? NULL
		    : hsm_licence_speed_name(lic->speed_upgrade);
	stored = json_pack("{s:s%, s:I, s:I, s:s?, s:I, s:I}", "text", canon, clen,
			   "max_active_vcms", (json_int_t)lic->max_active_vcms, "features",
			   (json_int_t)lic->features, "speed_upgrade", speed, "serial",
			   (json_int_t)lic->serial, "issued", (json_int_t)lic->issued);
	free(canon);
	changed = !json_is_object(old) || !json_equal((json_t *)old, stored);
	detail = json_pack("{s:I, s:I, s:I, s:s?, s:o}", "serial", (json_int_t)lic->serial,
			   "max_active_vcms", (json_int_t)lic->max_active_vcms, "features",
			   (json_int_t)lic->features, "speed_upgrade", speed, "previous_serial",
			   json_is_object(old) ? json_incref(json_object_get(old, "serial"))
					       : json_null());
	result = json_pack("{s:b, s:b, s:o}", "applied", 1, "changed", changed, "licence",
			   hsm_licence_summary(lic));
	hsm_licence_free(lic);
	if (!stored || !detail || !result) {
		json_decref(stored);
		json_decref(detail);
		json_decref(result);
		return hsmd_error(call, HSMD_FAILED, "out of memory");
	}
	if (changed) {
		doc = hsmd_begin(call);
		json_object_set_new(doc, "licence", stored);
		if (hsmd_commit(call, doc, "fet", detail) != 0) {
			json_decref(result);
			return HSMD_FAILED;
		}
	} else {
		json_decref(stored);
		json_decref(detail);
	}
	setup_limits(hsmd_lifetime(call), hsmd_device(call), &lim);
	active = active_vcms(hsmd_device(call));
	json_object_set_new(result, "max_active_vcms", json_integer(lim.max_active_vcms));
	json_object_set_new(result, "max_creatable_vcms", json_integer(lim.max_creatable_vcms));
	json_object_set_new(result, "active_vcms", json_integer((json_int_t)active));
	/* Guide 3.2.1.1: it applies, running VCMs keep running, and no VCM
	 * starts until fewer than the licensed number are active. */
	if (active > lim.max_active_vcms) {
		snprintf(err, sizeof(err),
			 "%zu VCMs are active but the licence allows %u: they keep "
			 "running, and no VCM can start until fewer than %u are active",
			 active, lim.max_active_vcms, lim.max_active_vcms);
		json_object_set_new(result, "warning", json_string(err));
	}
	hsmd_reply(call, result);
	return HSMD_OK;
}
