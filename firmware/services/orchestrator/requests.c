/* SPDX-License-Identifier: Apache-2.0 */
/*
 * requests.c - tenant requests as the device checks them (guide 3.1.2.2,
 * 3.1.3.1, 3.1.3.4; docs/formats/request.md "What a verifier must check").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include <hsmadmin/service.h>
#include "sign.h"
#include "vcmrules.h"
#include "orchestrator.h"

const char *const orch_properties[] = {
	"autostart", "restrict_startup", "serial_cardreader", "features", "name", "k_tenant_req",
	NULL
};

static int say(char *msg, size_t msglen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int say(char *msg, size_t msglen, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return status;
}

int orch_check_request(const json_t *envelope, enum hsm_request_type type, const char *uuid,
		       const char *key_line, int64_t now, struct hsm_request **out, char *msg,
		       size_t msglen)
{
	struct hsm_request *req = NULL;
	EVP_PKEY *key = NULL;
	char inner[384];
	int rc;

	*out = NULL;
	if (!json_is_object(envelope))
		return say(msg, msglen, HSMD_BAD_REQUEST, "request: not a signed request object");
	if (hsm_request_from_json(envelope, &req, inner, sizeof(inner)) != 0)
		return say(msg, msglen, HSMD_BAD_REQUEST, "request: %s", inner);
	if (req->type != type) {
		rc = say(msg, msglen, HSMD_BAD_REQUEST,
			 "request: a %s request cannot be used to %s a VCM",
			 hsm_request_type_name(req->type),
			 type == HSM_REQUEST_CREATE  ? "create"
			 : type == HSM_REQUEST_START ? "start"
						     : "set the properties of");
		goto fail;
	}
	if (key_line) {
		key = hsm_key_from_openssh(key_line, inner, sizeof(inner));
		if (!key) {
			rc = say(msg, msglen, HSMD_FAILED,
				 "the VCM's k_tenant_req does not load: %s", inner);
			goto fail;
		}
	} else if (type != HSM_REQUEST_CREATE) {
		rc = say(msg, msglen, HSMD_FAILED, "internal: no key to verify the request with");
		goto fail;
	}
	if (hsm_request_verify(req, key, inner, sizeof(inner)) != 0) {
		rc = say(msg, msglen, HSMD_DENIED, "request: signature: %s%s", inner,
			 key ? " (not signed with this VCM's k_tenant_req)" : "");
		goto fail;
	}
	if (hsm_request_check_time(req, now, HSM_REQUEST_DEFAULT_SKEW, inner, sizeof(inner)) !=
	    HSM_REQUEST_TIME_OK) {
		rc = say(msg, msglen, HSMD_DENIED, "request: %s (by the module clock)", inner);
		goto fail;
	}
	if (uuid && req->uuid[0] && strcmp(req->uuid, uuid) != 0) {
		rc = say(msg, msglen, HSMD_DENIED, "request: made for VCM %s, not %s", req->uuid,
			 uuid);
		goto fail;
	}
	EVP_PKEY_free(key);
	*out = req;
	return HSMD_OK;
fail:
	EVP_PKEY_free(key);
	hsm_request_free(req);
	return rc;
}

static void nonce_use(const struct hsm_request *req, const char *tag, struct fw_nonce_use *use)
{
	use->tag = tag;
	use->issued = req->issued;
	use->not_after = req->has_not_after ? req->not_after : -1;
}

int orch_nonce_used(const json_t *entry, const struct hsm_request *req, const char *tag,
		    int64_t now, char *msg, size_t msglen)
{
	struct fw_nonce_use use;
	int64_t retry;
	char when[HSM_TIME_ISO_LEN];

	nonce_use(req, tag, &use);
	switch (fw_vcm_nonce_check(entry, &use, now, &retry)) {
	case FW_NONCE_FRESH:
		return 0;
	case FW_NONCE_FLOOR:
		return say(msg, msglen, HSMD_DENIED,
			   "request: issued before the oldest request this VCM "
			   "remembers; ask the tenant for a new request");
	case FW_NONCE_REPLAY:
		return say(msg, msglen, HSMD_DENIED,
			   "request: already used for this VCM%s%s "
			   "(replay); ask the tenant for a new request",
			   strchr(tag, '/') ? " and property " : "",
			   strchr(tag, '/') ? strchr(tag, '/') + 1 : "");
	case FW_NONCE_FULL:
		break;
	}
	hsm_time_iso(retry, when);
	return say(msg, msglen, HSMD_REFUSED_STATE,
		   "request: this VCM already holds %u unexpired requests, the most it "
		   "remembers against replay; retry at %s (when the oldest expires) or ask the "
		   "tenant for requests with a shorter --request-validity",
		   FW_VCM_NONCES_MAX, when);
}

int orch_nonce_add(json_t *entry, const struct hsm_request *req, const char *tag, int64_t now)
{
	struct fw_nonce_use use;

	nonce_use(req, tag, &use);
	return fw_vcm_nonce_record(entry, &use, now);
}

int orch_property_value(const char *property, const char *text, json_t **out, char *msg,
			size_t msglen)
{
	char inner[256];

	*out = NULL;
	if (!strcmp(property, "autostart") || !strcmp(property, "restrict_startup") ||
	    !strcmp(property, "serial_cardreader")) {
		int b = fw_vcm_bool_parse(text);
		if (b < 0)
			return say(msg, msglen, HSMD_BAD_REQUEST,
				   "Invalid property value: %s must be "
				   "true or false, not '%.40s'",
				   property, text);
		*out = json_boolean(b);
		return HSMD_OK;
	}
	if (!strcmp(property, "features")) {
		uint32_t w;
		if (hsm_features_parse(text, &w, inner, sizeof(inner)) != 0)
			return say(msg, msglen, HSMD_BAD_REQUEST,
				   "Invalid property value: features: %s", inner);
		*out = json_integer(w);
		return HSMD_OK;
	}
	if (!strcmp(property, "name")) {
		if (hsm_request_check_name(text, inner, sizeof(inner)) != 0)
			return say(msg, msglen, HSMD_BAD_REQUEST,
				   "Invalid property value: name: %s", inner);
		*out = json_string(text);
		return HSMD_OK;
	}
	if (!strcmp(property, "k_tenant_req")) {
		EVP_PKEY *k = hsm_key_from_openssh(text, inner, sizeof(inner));
		char *line = k ? hsm_key_to_openssh(k) : NULL;
		EVP_PKEY_free(k);
		if (!line)
			return say(msg, msglen, HSMD_BAD_REQUEST,
				   "Invalid property value: k_tenant_req: %s", inner);
		*out = json_string(line);
		free(line);
		return HSMD_OK;
	}
	return say(msg, msglen, HSMD_BAD_REQUEST,
		   "Invalid property: '%.40s' (properties: autostart, "
		   "restrict_startup, serial_cardreader, features, name, k_tenant_req)",
		   property);
}

int orch_property_matches(const struct hsm_request *req, const char *property, const json_t *value,
			  char *msg, size_t msglen)
{
	const struct hsm_request_props *p = &req->props;
	unsigned bit;
	int same;

	if (!strcmp(property, "autostart")) {
		bit = HSM_REQP_AUTOSTART;
		same = p->autostart == json_is_true(value);
	} else if (!strcmp(property, "restrict_startup")) {
		bit = HSM_REQP_RESTRICT_STARTUP;
		same = p->restrict_startup == json_is_true(value);
	} else if (!strcmp(property, "serial_cardreader")) {
		bit = HSM_REQP_SERIAL_CARDREADER;
		same = p->serial_cardreader == json_is_true(value);
	} else if (!strcmp(property, "features")) {
		bit = HSM_REQP_FEATURES;
		same = (json_int_t)p->features == json_integer_value(value);
	} else if (!strcmp(property, "name")) {
		bit = HSM_REQP_NAME;
		same = strcmp(p->name, json_string_value(value)) == 0;
	} else if (!strcmp(property, "k_tenant_req")) {
		/* value is the canonical line orch_property_value made; the
		 * request's key was parsed from a canonical line too.  The
		 * signature was checked against the current key already. */
		char *line = (p->present & HSM_REQP_K_TENANT_REQ)
				 ? hsm_key_to_openssh(p->k_tenant_req)
				 : NULL;
		bit = HSM_REQP_K_TENANT_REQ;
		same = line && strcmp(line, json_string_value(value)) == 0;
		free(line);
	} else {
		return say(msg, msglen, HSMD_BAD_REQUEST, "Invalid property: '%.40s'", property);
	}
	if (!(p->present & bit))
		return say(msg, msglen, HSMD_DENIED,
			   "Invalid property value: %s is not in the request", property);
	if (!same)
		return say(msg, msglen, HSMD_DENIED, "Invalid property value: %s mismatch",
			   property);
	return HSMD_OK;
}
