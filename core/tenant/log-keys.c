/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/tenant/log-keys.c - the log verification keys of an enrolled VCM,
 * checked: the VCM's warrant, signed by the HSM identity key of the
 * enrollment record, names this VCM and its identity key, which certifies
 * every log key (docs/formats/signed-log.md).  Shared by `hsmadmin vcm
 * logs` and the audit-log collector.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "sign.h"
#include "signed-log.h"
#include "transport.h"
#include "tenant.h"

int hsm_tenant_log_keys(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, json_t **keys,
			EVP_PKEY **vid, char *log, size_t loglen, char *err, size_t errlen)
{
	struct hsm_rpc_reply r;
	const json_t *body = NULL;
	struct hsm_slog_verifier *ver;
	EVP_PKEY *hsmid;
	char why[512];
	int rc;

	*keys = NULL;
	*vid = NULL;
	snprintf(log, loglen, "vcm/%s", v->uuid);
	if (hsm_tenant_call(ctx, v, HSM_TENANT_MONITOR, "logs_getkey", NULL, &r) != 0) {
		hsm_set_err(err, errlen, "%s", r.message);
		return r.exit;
	}
	if (!(hsmid = hsm_key_from_openssh(v->identity_key, why, sizeof(why)))) {
		hsm_rpc_reply_clear(&r);
		hsm_set_err(err, errlen, "enrollment record: identity key: %s", why);
		return HSM_EXIT_FAILED;
	}
	if (hsm_signed_verify(json_object_get(r.result, "warrant"), hsmid, &body, NULL, why,
			      sizeof(why)) != 0 ||
	    !json_is_string(json_object_get(body, "vcm")) ||
	    strcmp(json_string_value(json_object_get(body, "vcm")), v->uuid) != 0 ||
	    !json_is_string(json_object_get(body, "esn")) ||
	    strcmp(json_string_value(json_object_get(body, "esn")), v->esn) != 0) {
		EVP_PKEY_free(hsmid);
		hsm_rpc_reply_clear(&r);
		hsm_set_err(err, errlen, "the VCM's warrant does not check out%s%s",
			    body ? "" : ": ", body ? "" : why);
		return HSM_EXIT_AUTH;
	}
	EVP_PKEY_free(hsmid);
	*vid = hsm_key_from_openssh(json_string_value(json_object_get(body, "identity_key")), why,
				    sizeof(why));
	ver = *vid ? hsm_slog_verifier_new() : NULL;
	rc = ver ? hsm_slog_verifier_pin_certified(ver, json_object_get(r.result, "keys"), *vid,
						   v->esn, log, why, sizeof(why))
		 : -1;
	hsm_slog_verifier_free(ver);
	if (rc != 0) {
		hsm_rpc_reply_clear(&r);
		EVP_PKEY_free(*vid);
		*vid = NULL;
		hsm_set_err(err, errlen, "log key: %s", why);
		return HSM_EXIT_AUTH;
	}
	*keys = json_incref(json_object_get(r.result, "keys"));
	hsm_rpc_reply_clear(&r);
	return 0;
}
