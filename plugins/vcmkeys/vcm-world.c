/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcm-world.c - `hsmadmin vcm world create|load|info`: the tenant's Security
 * World (docs/formats/world.md).  The VCM makes the module key and the
 * administrator secret and opens the cards (ncoreapi world_generate,
 * world_load); this host only carries the sealed cards, the passphrases
 * and the world file, and keeps the files in kmdata.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include <hsmadmin/fileio.h>
#include "vcmkeys.h"

static void free_passes(char **p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			OPENSSL_clear_free(p[i], strlen(p[i]));
	free(p);
}

static int parse_quorum(const char *s, unsigned *k, unsigned *n)
{
	char tail;

	if (!s || sscanf(s, "%u/%u%c", k, n, &tail) != 2 || *k < 1 || *k > *n ||
	    *n > HSM_WORLD_MAX_CARDS)
		return -1;
	return 0;
}

/* Load the world just written with the first K cards: proves the cards
 * open, and is the step that makes the world exist in the VCM. */
static int load_into(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, const json_t *world,
		     json_t *cards, char **pass, size_t count, struct hsm_rpc_reply *r)
{
	json_t *list = json_array();

	for (size_t i = 0; i < count; i++)
		json_array_append_new(list,
				      json_pack("{s:O, s:s}", "card", json_array_get(cards, i),
						"passphrase", pass[i]));
	return vk_ncore(ctx, v, "world_load",
			json_pack("{s:O, s:o}", "world", world, "cards", list), r);
}

int vw_create(struct hsm_ctx *ctx, const char *quorum, const char *quorum_opt)
{
	const char *dir = hsm_opt_str(ctx, "cards");
	char wpath[4200], cpath[4200], err[600], prompt[96], **pass = NULL;
	unsigned k, n;
	struct hsm_tenant_vcm v;
	struct hsm_rpc_reply r;
	json_t *existing = NULL, *pw, *world, *cards, *written;
	const char *id;
	struct stat st;
	int rc;

	if (parse_quorum(quorum, &k, &n) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, quorum_opt,
				 "'%.20s' is not K/N with 1 <= K <= N <= %d", quorum ? quorum : "",
				 HSM_WORLD_MAX_CARDS);
	if (hsm_opt_count(ctx, "passphrase-file") && hsm_opt_count(ctx, "passphrase-file") != n)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--passphrase-file",
				 "one per card: %u needed, %zu given", n,
				 hsm_opt_count(ctx, "passphrase-file"));
	if ((rc = vk_vcm_open(ctx, &v)) != 0)
		return rc;
	rc = km_world_load(ctx, &existing);
	if (rc == 0) {
		rc = hsm_error(
		    ctx, HSM_EXIT_STATE, "kmdata",
		    "a world exists here already (%s): load it with "
		    "hsmadmin vcm world load, or use another HSMADMIN_HOME or NFAST_KMDATA",
		    json_string_value(json_object_get(existing, "world")) ?: "unreadable");
		json_decref(existing);
		hsm_tenant_vcm_clear(&v);
		return rc;
	}
	if (rc < 0) {
		hsm_tenant_vcm_clear(&v);
		return HSM_EXIT_USAGE;
	}
	if (hsm_mkdir_p(dir, 0700, err, sizeof(err)) != 0) {
		hsm_tenant_vcm_clear(&v);
		return hsm_error(ctx, HSM_EXIT_FAILED, dir, "%s", err);
	}
	for (unsigned i = 1; i <= n; i++) {
		snprintf(cpath, sizeof(cpath), "%s/card-%u.json", dir, i);
		if (stat(cpath, &st) == 0) {
			hsm_tenant_vcm_clear(&v);
			return hsm_error(ctx, HSM_EXIT_USAGE, cpath,
					 "a card file is there already; use an empty directory");
		}
	}
	pass = calloc(n, sizeof(*pass));
	pw = json_array();
	for (unsigned i = 0; pass && i < n; i++) {
		snprintf(prompt, sizeof(prompt),
			 "Passphrase for administrator card %u of %u: ", i + 1, n);
		if ((rc = vk_passphrase(ctx, i, prompt, 1, &pass[i])) != 0)
			break;
		json_array_append_new(pw, json_string(pass[i]));
	}
	if (!pass || rc) {
		json_decref(pw);
		free_passes(pass, n);
		hsm_tenant_vcm_clear(&v);
		return rc ? rc : hsm_error(ctx, HSM_EXIT_FAILED, "passphrase", "out of memory");
	}
	rc =
	    vk_ncore(ctx, &v, "world_generate",
		     json_pack("{s:i, s:i, s:o}", "k", (int)k, "n", (int)n, "passphrases", pw), &r);
	if (rc) {
		free_passes(pass, n);
		hsm_tenant_vcm_clear(&v);
		hsm_rpc_reply_clear(&r);
		return rc;
	}
	world = json_object_get(r.result, "world");
	cards = json_object_get(r.result, "cards");
	id = json_string_value(json_object_get(world, "world"));
	if (!json_is_object(world) || !json_is_array(cards) || json_array_size(cards) != n || !id) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, v.uuid, "world_generate: an incomplete reply");
		goto out;
	}
	/* The cards first, the world file last: a world file in kmdata
	 * always has its cards. */
	written = json_array();
	for (unsigned i = 0; i < n && rc == 0; i++) {
		snprintf(cpath, sizeof(cpath), "%s/card-%u.json", dir, i + 1);
		if (km_write_new(cpath, json_array_get(cards, i), 0600, err, sizeof(err)) != 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, cpath, "%s", err);
		else
			json_array_append_new(written, json_string(cpath));
	}
	if (rc == 0 && (rc = km_path(ctx, "world", wpath, sizeof(wpath), 1)) == 0 &&
	    km_write_new(wpath, world, 0600, err, sizeof(err)) != 0)
		rc = hsm_error(ctx, HSM_EXIT_FAILED, wpath, "%s", err);
	if (rc == 0) {
		struct hsm_rpc_reply lr;

		rc = load_into(ctx, &v, world, cards, pass, k, &lr);
		hsm_rpc_reply_clear(&lr);
		if (rc)
			hsm_warn(ctx,
				 "world %s is in %s with its cards, but not loaded in VCM %s: "
				 "run hsmadmin vcm world load",
				 id, wpath, v.uuid);
	}
	if (rc == 0) {
		hsm_printf(ctx, "Created Security World %s (quorum %u of %u) in VCM %s\n", id, k, n,
			   v.uuid);
		hsm_printf(ctx, "World file: %s\n", wpath);
		for (unsigned i = 0; i < n; i++)
			hsm_printf(ctx, "Card %u: %s\n", i + 1,
				   json_string_value(json_array_get(written, i)));
		json_object_set_new(hsm_json(ctx), "world", json_string(id));
		json_object_set_new(hsm_json(ctx), "quorum",
				    json_pack("{s:i, s:i}", "k", (int)k, "n", (int)n));
		json_object_set_new(hsm_json(ctx), "world_file", json_string(wpath));
		json_object_set_new(hsm_json(ctx), "cards", json_incref(written));
		json_object_set_new(hsm_json(ctx), "loaded", json_pack("[s]", v.uuid));
	}
	json_decref(written);
out:
	free_passes(pass, n);
	hsm_rpc_reply_clear(&r);
	hsm_tenant_vcm_clear(&v);
	return rc;
}

int vw_cmd_load(struct hsm_ctx *ctx)
{
	size_t ncards = hsm_opt_count(ctx, "card");
	char err[600], prompt[160], **pass = NULL;
	json_t *world = NULL, *cards = json_array();
	struct hsm_world_card first;
	struct hsm_tenant_vcm v;
	struct hsm_rpc_reply r;
	int rc;

	memset(&v, 0, sizeof(v));
	if (hsm_opt_count(ctx, "passphrase-file") &&
	    hsm_opt_count(ctx, "passphrase-file") != ncards) {
		json_decref(cards);
		return hsm_error(ctx, HSM_EXIT_USAGE, "--passphrase-file",
				 "one per --card: %zu cards, %zu files", ncards,
				 hsm_opt_count(ctx, "passphrase-file"));
	}
	rc = km_world_load(ctx, &world);
	if (rc == 1)
		rc = hsm_error(ctx, HSM_EXIT_USAGE, "kmdata",
			       "no world file here (hsmadmin vcm world create, or "
			       "copy the world file into kmdata)");
	else if (rc < 0)
		rc = HSM_EXIT_USAGE;
	for (size_t i = 0; rc == 0 && i < ncards; i++) {
		const char *f = hsm_opt_str_at(ctx, "card", i);
		json_t *c = hsm_json_load_file(f, KM_FILE_MAX, err, sizeof(err));

		if (!c)
			rc = hsm_error(ctx, HSM_EXIT_USAGE, f, "%s", err);
		else if (i == 0 && hsm_world_card_parse(c, &first, err, sizeof(err)) != 0)
			rc =
			    hsm_error(ctx, HSM_EXIT_USAGE, f, "not an administrator card: %s", err);
		json_array_append_new(cards, c);
	}
	/* Fewer cards than the quorum: refused before anyone types a
	 * passphrase (the VCM checks again, it is the judge). */
	if (rc == 0 && ncards < first.k)
		rc = hsm_error(ctx, HSM_EXIT_AUTH, "--card",
			       "the quorum is %u of %u cards: %zu given", first.k, first.n, ncards);
	if (rc == 0)
		rc = vk_vcm_open(ctx, &v);
	if (rc == 0 && !(pass = calloc(ncards, sizeof(*pass))))
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "passphrase", "out of memory");
	for (size_t i = 0; rc == 0 && i < ncards; i++) {
		snprintf(prompt, sizeof(prompt),
			 "Passphrase for %.120s: ", hsm_opt_str_at(ctx, "card", i));
		rc = vk_passphrase(ctx, i, prompt, 0, &pass[i]);
	}
	if (rc == 0) {
		rc = load_into(ctx, &v, world, cards, pass, ncards, &r);
		if (rc == 0) {
			const char *id = json_string_value(json_object_get(r.result, "world"));

			hsm_printf(ctx,
				   json_is_true(json_object_get(r.result, "already_loaded"))
				       ? "World %s was already loaded in VCM %s\n"
				       : "Loaded Security World %s in VCM %s\n",
				   id ?: "?", v.uuid);
			json_object_update(hsm_json(ctx), r.result);
			json_object_set_new(hsm_json(ctx), "uuid", json_string(v.uuid));
		}
		hsm_rpc_reply_clear(&r);
	}
	if (pass)
		free_passes(pass, ncards);
	json_decref(world);
	json_decref(cards);
	hsm_tenant_vcm_clear(&v);
	return rc;
}

int vw_cmd_create(struct hsm_ctx *ctx)
{
	return vw_create(ctx, hsm_opt_str(ctx, "quorum"), "--quorum");
}

/* How many key blobs of this world kmdata holds. */
static int count_keys(struct hsm_ctx *ctx, const char *world)
{
	json_t *names = NULL;
	int count = 0;

	if (vk_blob_names(ctx, world, &names) == 0)
		count = (int)json_array_size(names);
	json_decref(names);
	return count;
}

int vw_cmd_info(struct hsm_ctx *ctx)
{
	json_t *doc = NULL, *vcms = json_array();
	struct hsm_world w;
	struct hsm_tenant_vcm *recs = NULL;
	size_t nrec = 0;
	char err[600];
	int rc = km_world_load(ctx, &doc);

	if (rc == 1)
		rc = hsm_error(ctx, HSM_EXIT_USAGE, "kmdata",
			       "no world file (hsmadmin vcm world create)");
	else if (rc < 0)
		rc = HSM_EXIT_USAGE;
	else if (hsm_world_parse(doc, &w, err, sizeof(err)) != 0)
		rc = hsm_error(ctx, HSM_EXIT_AUTH, "world file", "%s", err);
	if (rc) {
		json_decref(doc);
		json_decref(vcms);
		return rc;
	}
	hsm_printf(ctx,
		   "World %s\n  quorum      %u of %u administrator cards\n  created     %lld by "
		   "VCM %s on %s\n",
		   w.id, w.k, w.n, w.created, w.created_vcm, w.created_esn);
	if (hsm_tenant_records_list(ctx, &recs, &nrec) == 0) {
		for (size_t i = 0; i < nrec; i++) {
			struct hsm_rpc_reply r;
			const char *state;

			memset(&r, 0, sizeof(r));
			hsm_tenant_call(ctx, &recs[i], HSM_TENANT_NCOREAPI, "world_info", NULL, &r);
			if (r.exit != 0)
				state = r.exit == HSM_EXIT_UNREACHABLE ? "unreachable" : "error";
			else if (!json_is_true(json_object_get(r.result, "loaded")))
				state = "not loaded";
			else if (strcmp(json_string_value(json_object_get(r.result, "world")) ?: "",
					w.id) == 0)
				state = "loaded";
			else
				state = "another world";
			hsm_printf(ctx, "  module %-4d VCM %s on %s: %s\n", recs[i].module,
				   recs[i].uuid, recs[i].esn, state);
			json_array_append_new(vcms, json_pack("{s:i, s:s, s:s, s:s}", "module",
							      recs[i].module, "uuid", recs[i].uuid,
							      "esn", recs[i].esn, "state", state));
			hsm_rpc_reply_clear(&r);
		}
		hsm_tenant_records_free(recs, nrec);
	}
	int keys = count_keys(ctx, w.id);
	hsm_printf(ctx, "  keys        %d in kmdata\n", keys);
	json_object_set_new(hsm_json(ctx), "world", json_string(w.id));
	json_object_set_new(hsm_json(ctx), "quorum",
			    json_pack("{s:i, s:i}", "k", (int)w.k, "n", (int)w.n));
	json_object_set_new(hsm_json(ctx), "created", json_integer(w.created));
	json_object_set_new(hsm_json(ctx), "created_by",
			    json_pack("{s:s, s:s}", "vcm", w.created_vcm, "esn", w.created_esn));
	json_object_set_new(hsm_json(ctx), "vcms", vcms);
	json_object_set_new(hsm_json(ctx), "keys", json_integer(keys));
	hsm_world_clear(&w);
	json_decref(doc);
	return 0;
}
