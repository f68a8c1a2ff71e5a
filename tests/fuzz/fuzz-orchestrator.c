/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-orchestrator.c - the orchestrator's handling of what a caller
 * sends: a params object for create/start/setproperties with a request
 * envelope in it, checked as the device checks it (parse, type, signature
 * with the embedded or a stored key, validity, UUID), the property values
 * of `properties set` and their match against the request, the replay
 * store, and a registry ("vcms") validated as hsmd validates device.json.
 *
 * Input: JSON.  An object with "request" is run through every check;
 * "property"/"value" strings through the property rules; "vcms" through
 * the registry rules and the ordering helpers.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/service.h>
#include "orchestrator.h"
#include "vcmrules.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF6/hqVceJmgQsl6sH+upIug9xPfJUhLKTEh4FRsAlcY"
#define UUID "0b3c5f2e-0000-4000-8000-000000000001"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum hsm_request_type types[] = { HSM_REQUEST_CREATE, HSM_REQUEST_START,
						       HSM_REQUEST_SETPROPERTIES };
	char err[512], msg[512];
	json_t *doc = hsm_json_parse((const char *)data, size, 65536, err, sizeof(err));
	const json_t *env, *vcms;
	const char *prop, *text;

	if (!doc)
		return 0;
	env = json_object_get(doc, "request");
	if (env) {
		for (size_t i = 0; i < 3; i++) {
			struct hsm_request *req = NULL;
			const char *key = types[i] == HSM_REQUEST_CREATE ? NULL : KEY;
			int rc = orch_check_request(env, types[i],
						    types[i] == HSM_REQUEST_CREATE ? NULL : UUID,
						    key, 1795431000, &req, msg, sizeof(msg));
			if (rc == HSMD_OK) {
				json_t *entry =
				    json_pack("{s:[], s:i}", "nonces", "nonce_floor", 0);
				if (orch_nonce_used(entry, req, req->nonce, 1795431000, msg,
						    sizeof(msg)) == 0)
					orch_nonce_add(entry, req, req->nonce, 1795431000);
				json_decref(entry);
				prop = json_string_value(json_object_get(doc, "property"));
				text = json_string_value(json_object_get(doc, "value"));
				if (prop && text) {
					json_t *v = NULL;
					if (orch_property_value(prop, text, &v, msg, sizeof(msg)) ==
					    HSMD_OK)
						orch_property_matches(req, prop, v, msg,
								      sizeof(msg));
					json_decref(v);
				}
				hsm_request_free(req);
			}
		}
	}
	prop = json_string_value(json_object_get(doc, "property"));
	text = json_string_value(json_object_get(doc, "value"));
	if (prop && text) {
		json_t *v = NULL;
		orch_property_value(prop, text, &v, msg, sizeof(msg));
		json_decref(v);
	}
	vcms = json_object_get(doc, "vcms");
	if (vcms && fw_vcms_validate(vcms, err, sizeof(err)) == 0) {
		json_t *order = fw_vcms_ordered(vcms);
		fw_vcms_active(vcms);
		fw_vcms_cardreader(vcms, NULL);
		json_decref(order);
	}
	json_decref(doc);
	return 0;
}
