/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmkeys.c - `hsmadmin vcm key generate|list|sign`: the tenant's keys as
 * blobs in kmdata (docs/formats/world.md), wrapped by the Security World's
 * module key.  The VCM makes a key and returns it wrapped (ncoreapi
 * blob_generate), and unwraps a blob it is given to sign (blob_sign);
 * private keys never exist in the clear outside a VCM with the world
 * loaded.  Keys made before worlds existed live in the VCM's own store and
 * still sign by name (key_sign) when kmdata has no blob of that name.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "platform-module.h"
#include "sign.h"
#include "vcmkeys.h"

#define SIGN_INPUT_MAX (1u << 20)

static int blob_path(struct hsm_ctx *ctx, const char *name, char *buf, size_t len, int create)
{
	char file[96];

	if (!hsm_world_key_name_valid(name))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--name",
				 "'%.70s': 1-64 of A-Z a-z 0-9 _ . - "
				 "(not starting with '.')",
				 name);
	snprintf(file, sizeof(file), "key_%s.json", name);
	return km_path(ctx, file, buf, len, create);
}

/* The blob of a key: 0 with *doc set, or with *doc NULL when kmdata has
 * none; else an exit status (reported). */
static int blob_load(struct hsm_ctx *ctx, const char *name, json_t **doc)
{
	char path[4200], err[600];
	struct stat st;
	int rc = blob_path(ctx, name, path, sizeof(path), 0);

	*doc = NULL;
	if (rc)
		return rc;
	if (stat(path, &st) != 0 && errno == ENOENT)
		return 0;
	if (!(*doc = hsm_json_load_file(path, KM_FILE_MAX, err, sizeof(err))))
		return hsm_error(ctx, HSM_EXIT_USAGE, path, "%s", err);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int vk_blob_names(struct hsm_ctx *ctx, const char *world, json_t **names)
{
	char dir[4096], path[4400], err[600], *list[1024];
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	*names = json_array();
	if (km_dir(ctx, dir, sizeof(dir), 0) != 0)
		return -1;
	if (!(d = opendir(dir)))
		return 0;
	while ((e = readdir(d)) && n < 1024) {
		size_t l = strlen(e->d_name);

		if (l > 9 && strncmp(e->d_name, "key_", 4) == 0 &&
		    strcmp(e->d_name + l - 5, ".json") == 0)
			list[n++] = strndup(e->d_name + 4, l - 9);
	}
	closedir(d);
	qsort(list, n, sizeof(*list), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct hsm_key_blob b;
		json_t *doc;

		if (!list[i] || !hsm_world_key_name_valid(list[i])) {
			free(list[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/key_%s.json", dir, list[i]);
		if (!(doc = hsm_json_load_file(path, KM_FILE_MAX, err, sizeof(err))) ||
		    hsm_key_blob_parse(doc, &b, err, sizeof(err)) != 0) {
			hsm_warn(ctx, "%s: skipped: %s", path, err);
		} else {
			if (strcmp(b.name, list[i]) != 0)
				hsm_warn(ctx, "%s: skipped: the blob is named '%s'", path, b.name);
			else if (!world || strcmp(world, b.world) == 0)
				json_array_append_new(
				    *names, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "name",
						      b.name, "type", b.type, "world", b.world,
						      "created", (json_int_t)b.created, "public",
						      b.public_pem, "store", "kmdata"));
			hsm_key_blob_clear(&b);
		}
		json_decref(doc);
		free(list[i]);
	}
	return 0;
}

int vk_vcm_open(struct hsm_ctx *ctx, struct hsm_tenant_vcm *v)
{
	struct hsm_tenant_vcm *recs = NULL;
	size_t n = 0;
	char err[256];
	int module, rc;

	memset(v, 0, sizeof(*v));
	if (!vk_is_tool(ctx))
		return hsm_tenant_record_open(ctx, v);
	module = hsm_opt_given(ctx, "no-remoteshare-cert")
		     ? (int)hsm_opt_int(ctx, "no-remoteshare-cert")
		     : (hsm_tenant_module_opt(ctx) ?: 1);
	if ((rc = hsm_tenant_records_list(ctx, &recs, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (recs[i].module == module) {
			rc = hsm_tenant_record_load(hsm_home(ctx), recs[i].uuid, v, err,
						    sizeof(err));
			if (rc != 0)
				rc = hsm_error(ctx, HSM_EXIT_FAILED, recs[i].uuid,
					       "enrollment record: %s", err);
			hsm_tenant_records_free(recs, n);
			return rc;
		}
	hsm_tenant_records_free(recs, n);
	return hsm_error(ctx, HSM_EXIT_USAGE, "-m",
			 "no enrolled VCM is module #%d (enquiry lists the modules; a Security "
			 "World lives in a VCM)",
			 module);
}

int vk_generate(struct hsm_ctx *ctx, const char *name, const char *type)
{
	char path[4200], err[600];
	struct hsm_rpc_reply r;
	struct hsm_tenant_vcm v;
	struct stat st;
	json_t *blob;
	int rc;

	if ((rc = blob_path(ctx, name, path, sizeof(path), 1)) != 0)
		return rc;
	if (stat(path, &st) == 0)
		return hsm_error(ctx, HSM_EXIT_STATE, name,
				 "a key of this name exists in kmdata (%s)", path);
	if ((rc = vk_vcm_open(ctx, &v)) != 0)
		return rc;
	rc = vk_ncore(ctx, &v, "blob_generate", json_pack("{s:s, s:s}", "name", name, "type", type),
		      &r);
	if (rc == 0) {
		json_t *world = NULL;
		const char *have;
		int wl;

		blob = json_object_get(r.result, "blob");
		/* A blob of another world than kmdata's would be unusable with
		 * this host's cards: keep kmdata to one world. */
		wl = km_world_load(ctx, &world);
		have = wl == 0 ? json_string_value(json_object_get(world, "world")) : NULL;
		if (wl < 0)
			rc = HSM_EXIT_USAGE;
		else if (!json_is_object(blob))
			rc = hsm_error(ctx, HSM_EXIT_FAILED, v.uuid,
				       "blob_generate: no blob in the reply");
		else if (have &&
			 strcmp(have, json_string_value(json_object_get(blob, "world")) ?: "") != 0)
			rc = hsm_error(ctx, HSM_EXIT_STATE, v.uuid,
				       "the VCM has world %s loaded, but kmdata holds "
				       "world %s: the key was not kept",
				       json_string_value(json_object_get(blob, "world")) ?: "?",
				       have);
		else if (km_write_new(path, blob, 0600, err, sizeof(err)) != 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", err);
		json_decref(world);
	}
	if (rc == 0) {
		hsm_printf(ctx, "Generated %s key '%s' in world %s (VCM %s): %s\n%s", type, name,
			   json_string_value(json_object_get(blob, "world")) ?: "?", v.uuid, path,
			   json_string_value(json_object_get(r.result, "public")) ?: "");
		json_object_set_new(hsm_json(ctx), "name", json_string(name));
		json_object_set_new(hsm_json(ctx), "type", json_string(type));
		json_object_set(hsm_json(ctx), "world", json_object_get(blob, "world"));
		json_object_set(hsm_json(ctx), "public", json_object_get(r.result, "public"));
		json_object_set_new(hsm_json(ctx), "blob", json_string(path));
	}
	hsm_rpc_reply_clear(&r);
	hsm_tenant_vcm_clear(&v);
	return rc;
}

static int vk_cmd_generate(struct hsm_ctx *ctx)
{
	return vk_generate(ctx, hsm_opt_str(ctx, "name"),
			   hsm_opt_given(ctx, "type") ? hsm_opt_str(ctx, "type") : "ed25519");
}

int vk_cmd_list(struct hsm_ctx *ctx)
{
	struct hsm_rpc_reply r;
	struct hsm_tenant_vcm v;
	size_t i;
	json_t *k, *keys = NULL;
	int rc = 0;

	if (vk_blob_names(ctx, NULL, &keys) != 0) {
		json_decref(keys);
		return HSM_EXIT_USAGE;
	}
	/* With --uuid, also the keys made before worlds, in that VCM's store. */
	if (hsm_opt_given(ctx, "uuid")) {
		if ((rc = hsm_tenant_record_open(ctx, &v)) != 0) {
			json_decref(keys);
			return rc;
		}
		rc = vk_ncore(ctx, &v, "key_list", json_object(), &r);
		if (rc == 0)
			json_array_foreach(json_object_get(r.result, "keys"), i, k)
			{
				json_t *e = json_deep_copy(k);
				json_object_set_new(e, "store", json_string("module"));
				json_array_append_new(keys, e);
			}
		hsm_rpc_reply_clear(&r);
		hsm_tenant_vcm_clear(&v);
	}
	if (rc == 0) {
		json_array_foreach(keys, i, k) hsm_printf(
		    ctx, "%-24s %-8s %s\n", json_string_value(json_object_get(k, "name")) ?: "?",
		    json_string_value(json_object_get(k, "type")) ?: "?",
		    json_string_value(json_object_get(k, "world"))
			?: "(in the VCM's own store, made before worlds)");
		json_object_set(hsm_json(ctx), "keys", keys);
	}
	json_decref(keys);
	return rc;
}

/* One signature of a batch: written to out (when given) and reported. */
static int sign_result(struct hsm_ctx *ctx, const char *in, const char *out, const char *sig,
		       json_t *list)
{
	uint8_t raw[512];
	size_t rawlen = 0;
	char err[256];

	if (!sig || hsm_base64_decode(sig, raw, sizeof(raw), &rawlen) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, in, "ncoreapi: no signature in the reply");
	if (out && hsm_write_file_atomic(out, raw, rawlen, 0644, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, out, "%s", err);
	if (out)
		hsm_printf(ctx, "%s: %s (%zu bytes)\n", in, out, rawlen);
	else
		hsm_printf(ctx, "%s: %s\n", in, sig);
	json_array_append_new(
	    list, json_pack("{s:s, s:s, s:s?}", "in", in, "signature", sig, "out", out));
	return 0;
}

/* Several --in: each call signs a batch of inputs (ncoreapi blob_sign
 * data_list: the blob is opened once per call), as many as fit in one
 * call's params. */
#define SIGN_BATCH_BYTES (48u * 1024u)
#define SIGN_BATCH_MAX 64u
static int sign_many(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, const json_t *blob,
		     const char *name)
{
	size_t n = hsm_opt_count(ctx, "in"), nout = hsm_opt_count(ctx, "out"), next = 0;
	json_t *done = json_array();
	int rc = 0;

	if (nout && nout != n)
		rc = hsm_error(ctx, HSM_EXIT_USAGE, "--out",
			       "one per --in: %zu inputs, %zu outputs", n, nout);
	while (rc == 0 && next < n) {
		json_t *batch = json_array();
		size_t first = next, bytes = 0;
		struct hsm_rpc_reply r;

		while (rc == 0 && next < n && json_array_size(batch) < SIGN_BATCH_MAX) {
			const char *in = hsm_opt_str_at(ctx, "in", next);
			char err[256], *data = NULL, *b64;
			size_t len = 0;

			if (hsm_read_file(in, SIGN_INPUT_MAX, &data, &len, err, sizeof(err)) != 0) {
				rc = hsm_error(ctx, HSM_EXIT_USAGE, in, "%s", err);
				break;
			}
			b64 = hsm_base64_encode((const uint8_t *)data, len);
			free(data);
			if (!b64) {
				rc = hsm_error(ctx, HSM_EXIT_FAILED, in, "out of memory");
				break;
			}
			if (json_array_size(batch) && bytes + strlen(b64) > SIGN_BATCH_BYTES) {
				free(b64); /* the next batch reads it again */
				break;
			}
			bytes += strlen(b64);
			json_array_append_new(batch, json_string(b64));
			free(b64);
			next++;
		}
		if (rc != 0) {
			json_decref(batch);
			break;
		}
		rc = vk_ncore(ctx, v, "blob_sign",
			      json_pack("{s:O, s:o}", "blob", blob, "data_list", batch), &r);
		for (size_t i = first; rc == 0 && i < next; i++)
			rc = sign_result(ctx, hsm_opt_str_at(ctx, "in", i),
					 nout ? hsm_opt_str_at(ctx, "out", i) : NULL,
					 json_string_value(json_array_get(
					     json_object_get(r.result, "signatures"), i - first)),
					 done);
		hsm_rpc_reply_clear(&r);
	}
	if (rc == 0) {
		json_object_set_new(hsm_json(ctx), "name", json_string(name));
		json_object_set_new(hsm_json(ctx), "uuid", json_string(v->uuid));
		json_object_set(hsm_json(ctx), "signatures", done);
	}
	json_decref(done);
	return rc;
}

static int vk_cmd_sign(struct hsm_ctx *ctx)
{
	const char *in = hsm_opt_str(ctx, "in"), *out = hsm_opt_str(ctx, "out"), *sig;
	const char *name = hsm_opt_str(ctx, "name");
	char err[256], *data = NULL, *b64;
	uint8_t raw[512];
	size_t len = 0, rawlen = 0;
	struct hsm_rpc_reply r;
	struct hsm_tenant_vcm v;
	json_t *blob = NULL;
	int rc;

	if (hsm_opt_count(ctx, "in") > 1) {
		rc = blob_load(ctx, name, &blob);
		if (rc == 0 && !blob)
			rc = hsm_error(ctx, HSM_EXIT_USAGE, name,
				       "several --in need a key blob in kmdata (a key made before "
				       "worlds signs one input per command)");
		if (rc == 0 && (rc = vk_vcm_open(ctx, &v)) == 0) {
			rc = sign_many(ctx, &v, blob, name);
			hsm_tenant_vcm_clear(&v);
		}
		json_decref(blob);
		return rc;
	}
	if (hsm_opt_count(ctx, "out") > 1)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--out", "one per --in: 1 input, %zu outputs",
				 hsm_opt_count(ctx, "out"));
	if (hsm_read_file(in, SIGN_INPUT_MAX, &data, &len, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, in, "%s", err);
	b64 = hsm_base64_encode((const uint8_t *)data, len);
	free(data);
	if (!b64)
		return hsm_error(ctx, HSM_EXIT_FAILED, in, "out of memory");
	rc = blob_load(ctx, name, &blob);
	if (rc > 0 || (rc = vk_vcm_open(ctx, &v)) != 0) {
		free(b64);
		json_decref(blob);
		return rc;
	}
	if (blob)
		rc = vk_ncore(ctx, &v, "blob_sign",
			      json_pack("{s:O, s:s}", "blob", blob, "data", b64), &r);
	else /* no blob: a key of the VCM's own store, made before worlds */
		rc = vk_ncore(ctx, &v, "key_sign",
			      json_pack("{s:s, s:s}", "name", name, "data", b64), &r);
	free(b64);
	json_decref(blob);
	if (rc == 0) {
		sig = json_string_value(json_object_get(r.result, "signature"));
		if (!sig || hsm_base64_decode(sig, raw, sizeof(raw), &rawlen) != 0) {
			rc = hsm_error(ctx, HSM_EXIT_FAILED, v.uuid,
				       "ncoreapi: no signature in the reply");
		} else if (out) {
			if (hsm_write_file_atomic(out, raw, rawlen, 0644, err, sizeof(err)) != 0)
				rc = hsm_error(ctx, HSM_EXIT_FAILED, out, "%s", err);
			else
				hsm_printf(ctx, "Signed %s with '%s' in VCM %s: %s (%zu bytes)\n",
					   in, name, v.uuid, out, rawlen);
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

#define OPT_UUID                                                                                   \
	{                                                                                          \
		.name = "uuid", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED,                \
		.metavar = "UUID", .help = "the enrolled VCM"                                      \
	}
#define OPT_NAME                                                                                   \
	{                                                                                          \
		.name = "name", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REQUIRED,                \
		.metavar = "NAME", .help = "the key's name (its blob is kmdata/key_NAME.json)"     \
	}
#define OPT_PASSFILE                                                                               \
	{                                                                                          \
		.name = "passphrase-file", .type = HSM_OPT_STRING, .flags = HSM_OPTF_REPEATABLE,   \
		.metavar = "FILE",                                                                 \
		.help = "a card's passphrase on the first line of FILE, one per card in order "    \
			"(default: ask on /dev/tty)"                                               \
	}

static const struct hsm_option gen_opts[] = { OPT_UUID,
					      OPT_NAME,
					      { .name = "type",
						.type = HSM_OPT_STRING,
						.metavar = "TYPE",
						.help = "ed25519 (default) or p256" },
					      HSM_OPTION_END };
static const struct hsm_option list_opts[] = {
	{ .name = "uuid",
	  .type = HSM_OPT_STRING,
	  .metavar = "UUID",
	  .help = "also list the keys made before worlds in this VCM's own store" },
	HSM_OPTION_END
};
static const struct hsm_option sign_opts[] = {
	OPT_UUID,
	OPT_NAME,
	{ .name = "in",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED | HSM_OPTF_REPEATABLE,
	  .metavar = "FILE",
	  .help = "the data to sign; repeat it to sign many files with one call per batch" },
	{ .name = "out",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REPEATABLE,
	  .metavar = "SIGFILE",
	  .help = "write the raw signature here, one per --in in order (default: print base64)" },
	HSM_OPTION_END
};
static const struct hsm_option create_opts[] = {
	OPT_UUID,
	{ .name = "quorum",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "K/N",
	  .help = "N administrator cards, any K of which load the world (1 <= K <= N <= 64)" },
	{ .name = "cards",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "DIR",
	  .help = "where to write the card files card-1.json ... card-N.json" },
	OPT_PASSFILE,
	HSM_OPTION_END
};
static const struct hsm_option load_opts[] = {
	OPT_UUID,
	{ .name = "card",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED | HSM_OPTF_REPEATABLE,
	  .metavar = "FILE",
	  .help = "an administrator card file; at least K of them" },
	OPT_PASSFILE,
	HSM_OPTION_END
};
static const struct hsm_option info_opts[] = { HSM_OPTION_END };

static const struct hsm_command commands[] = {
	{ .path = "vcm key generate",
	  .tool = "hsmadmin",
	  .summary = "Generate a key in a VCM, kept as a blob of the world in kmdata",
	  .options = gen_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = vk_cmd_generate },
	{ .path = "vcm key list",
	  .tool = "hsmadmin",
	  .summary = "The keys in kmdata (public parts)",
	  .options = list_opts,
	  .run = vk_cmd_list },
	{ .path = "vcm key sign",
	  .tool = "hsmadmin",
	  .summary = "Sign a file with a key blob in an enrolled VCM",
	  .options = sign_opts,
	  .flags = HSM_CMDF_DEVICE,
	  .run = vk_cmd_sign },
	{ .path = "vcm world create",
	  .tool = "hsmadmin",
	  .summary = "Make a Security World in a VCM with a K/N quorum of administrator cards",
	  .options = create_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = vw_cmd_create },
	{ .path = "vcm world load",
	  .tool = "hsmadmin",
	  .summary = "Load the world of kmdata into a VCM with a quorum of its cards",
	  .options = load_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = vw_cmd_load },
	{ .path = "vcm world info",
	  .tool = "hsmadmin",
	  .summary = "The world of kmdata: ID, quorum, which VCMs have it loaded, keys",
	  .options = info_opts,
	  .run = vw_cmd_info },
	{ .path = "nfkminfo",
	  .tool = "nfkminfo",
	  .summary = "The tenant's Security World or its keys (hsmadmin vcm world info, key list)",
	  .options = nfk_opts,
	  .run = nfk_cmd },
	{ .path = "new-world",
	  .tool = "new-world",
	  .summary =
	      "Create a Security World in a VCM, or load it (hsmadmin vcm world create, load)",
	  .options = nw_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = nw_cmd },
	{ .path = "generatekey",
	  .tool = "generatekey",
	  .summary = "Generate a key blob in kmdata (hsmadmin vcm key generate)",
	  .options = gk_opts,
	  .flags = HSM_CMDF_DEVICE | HSM_CMDF_INVASIVE,
	  .run = gk_cmd },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "vcmkeys",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
