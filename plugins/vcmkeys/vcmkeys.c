/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmkeys.c - the vcmkeys plugin: `hsmadmin vcm key generate|list|sign
 * --uuid UUID`, the tenant's use of the key store in its enrolled VCM
 * (ncoreapi key_generate, key_list, key_sign; docs/protocol.md) with the
 * ncoreapi client key enrollment installed.  Private keys never leave the
 * VCM: the host sees public keys and signatures only.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "sign.h"
#include "transport.h"
#include "tenant.h"

#define SIGN_INPUT_MAX (1u << 20)


static int load(struct hsm_ctx *ctx, struct hsm_tenant_vcm *v)
{
	const char *uuid = hsm_opt_str(ctx, "uuid");
	char err[256];

	if (!hsm_tenant_uuid_valid(uuid))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--uuid", "'%.40s' is not a lower-case UUID", uuid);
	switch (hsm_tenant_record_load(hsm_home(ctx), uuid, v, err, sizeof(err))) {
	case 0:
		return 0;
	case 1:
		return hsm_error(ctx, HSM_EXIT_USAGE, uuid, "no enrolled VCM with this UUID (hsmadmin vcm enroll)");
	default:
		return hsm_error(ctx, HSM_EXIT_FAILED, uuid, "enrollment record: %s", err);
	}
}

/* One ncoreapi call; 0 with r->result or the reported exit status. */
static int ncore(struct hsm_ctx *ctx, const char *method, json_t *params, struct hsm_tenant_vcm *v,
		 struct hsm_rpc_reply *r)
{
	int rc = load(ctx, v);

	memset(r, 0, sizeof(*r));
	if (rc) {
		json_decref(params);
		return rc;
	}
	hsm_tenant_call(ctx, v, HSM_TENANT_NCOREAPI, method, params, r);
	json_decref(params);
	if (r->exit != 0)
		return hsm_error(ctx, r->exit, v->uuid, "%s", r->message);
	return 0;
}

static int vk_cmd_generate(struct hsm_ctx *ctx)
{
	const char *type = hsm_opt_given(ctx, "type") ? hsm_opt_str(ctx, "type") : "ed25519";
	struct hsm_rpc_reply r;
	struct hsm_tenant_vcm v;
	int rc = ncore(ctx, "key_generate", json_pack("{s:s, s:s}", "name", hsm_opt_str(ctx, "name"),
						  "type", type), &v, &r);

	if (rc == 0) {
		hsm_printf(ctx, "Generated %s key '%s' in VCM %s\n%s", type, hsm_opt_str(ctx, "name"), v.uuid,
			   json_string_value(json_object_get(r.result, "public")) ?: "");
		json_object_update(hsm_json(ctx), r.result);
	}
	hsm_rpc_reply_clear(&r);
	hsm_tenant_vcm_clear(&v);
	return rc;
}

static int vk_cmd_list(struct hsm_ctx *ctx)
{
	struct hsm_rpc_reply r;
	struct hsm_tenant_vcm v;
	size_t i;
	json_t *k;
	int rc = ncore(ctx, "key_list", json_object(), &v, &r);

	if (rc == 0) {
		json_array_foreach(json_object_get(r.result, "keys"), i, k)
			hsm_printf(ctx, "%-24s %s\n", json_string_value(json_object_get(k, "name")) ?: "?",
				   json_string_value(json_object_get(k, "type")) ?: "?");
		json_object_update(hsm_json(ctx), r.result);
	}
	hsm_rpc_reply_clear(&r);
	hsm_tenant_vcm_clear(&v);
	return rc;
}

static int vk_cmd_sign(struct hsm_ctx *ctx)
{
	const char *in = hsm_opt_str(ctx, "in"), *out = hsm_opt_str(ctx, "out"), *sig;
	char err[256], *data = NULL, *b64;
	uint8_t raw[512];
	size_t len = 0, rawlen = 0;
	struct hsm_rpc_reply r;
	struct hsm_tenant_vcm v;
	int rc;

	if (hsm_read_file(in, SIGN_INPUT_MAX, &data, &len, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, in, "%s", err);
	b64 = hsm_base64_encode((const uint8_t *)data, len);
	free(data);
	if (!b64)
		return hsm_error(ctx, HSM_EXIT_FAILED, in, "out of memory");
	rc = ncore(ctx, "key_sign", json_pack("{s:s, s:s}", "name", hsm_opt_str(ctx, "name"), "data", b64),
		   &v, &r);
	free(b64);
	if (rc == 0) {
		sig = json_string_value(json_object_get(r.result, "signature"));
		if (!sig || hsm_base64_decode(sig, raw, sizeof(raw), &rawlen) != 0) {
			rc = hsm_error(ctx, HSM_EXIT_FAILED, v.uuid, "ncoreapi key_sign: no signature in the reply");
		} else if (out) {
			if (hsm_write_file_atomic(out, raw, rawlen, 0644, err, sizeof(err)) != 0)
				rc = hsm_error(ctx, HSM_EXIT_FAILED, out, "%s", err);
			else
				hsm_printf(ctx, "Signed %s with '%s' in VCM %s: %s (%zu bytes)\n", in,
					   hsm_opt_str(ctx, "name"), v.uuid, out, rawlen);
		} else {
			hsm_printf(ctx, "%s\n", sig);
		}
		if (rc == 0)
			json_object_update(hsm_json(ctx), r.result);
	}
	hsm_rpc_reply_clear(&r);
	hsm_tenant_vcm_clear(&v);
	return rc;
}

#define OPT_UUID \
	{ .name = "uuid", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED, .metavar = "UUID", \
	  .help = "the enrolled VCM" }
#define OPT_NAME \
	{ .name = "name", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED, .metavar = "NAME", \
	  .help = "the key's name in the VCM" }

static const struct hsm_option gen_opts[] = {
	OPT_UUID, OPT_NAME,
	{ .name = "type", .type = HSM_OPT_STRING, .metavar = "TYPE", .help = "ed25519 (default) or p256" },
	HSM_OPTION_END
};
static const struct hsm_option list_opts[] = { OPT_UUID, HSM_OPTION_END };
static const struct hsm_option sign_opts[] = {
	OPT_UUID, OPT_NAME,
	{ .name = "in", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED, .metavar = "FILE",
	  .help = "the data to sign (at most 1 MiB)" },
	{ .name = "out", .type = HSM_OPT_STRING, .metavar = "SIGFILE",
	  .help = "write the raw signature here (default: print it in base64)" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "vcm key generate", .tool = "hsmadmin", .summary = "Generate a key in an enrolled VCM",
	  .options = gen_opts, .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE, .run = vk_cmd_generate },
	{ .path = "vcm key list", .tool = "hsmadmin", .summary = "The keys in an enrolled VCM (public parts)",
	  .options = list_opts, .flags = HSM_CMDF_DEVICE, .run = vk_cmd_list },
	{ .path = "vcm key sign", .tool = "hsmadmin", .summary = "Sign a file with a key in an enrolled VCM",
	  .options = sign_opts, .flags = HSM_CMDF_DEVICE, .run = vk_cmd_sign },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "vcmkeys",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
