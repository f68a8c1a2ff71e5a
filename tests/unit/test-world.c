/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test-world.c - the Security World's files (core/crypto/world.c):
 * a world made 2 of 3 unlocks with any 2 cards and not with 1; wrong
 * passphrases, cards of another world and changed files are refused; key
 * blobs open with their world's module key only, and not after an edit.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sign.h"
#include "world.h"
#include "tap.h"

static const char *const pass[3] = { "card one", "card two", "card three" };

static int open_cards(const json_t *cards, const unsigned *which, unsigned count,
		      const char *const *pw, uint8_t *xs, uint8_t (*shares)[HSM_WORLD_KEY_LEN],
		      char *err, size_t errlen)
{
	for (unsigned i = 0; i < count; i++) {
		struct hsm_world_card c;

		if (hsm_world_card_parse(json_array_get(cards, which[i]), &c, err, errlen) != 0 ||
		    hsm_world_card_open(&c, pw[which[i]], shares[i], err, errlen) != 0)
			return -1;
		xs[i] = (uint8_t)c.index;
	}
	return 0;
}

static int unlock_with(const json_t *world, const json_t *cards, const unsigned *which,
		       unsigned count, const char *const *pw, uint8_t mk[HSM_WORLD_KEY_LEN],
		       char *err, size_t errlen)
{
	struct hsm_world w;
	uint8_t xs[3], shares[3][HSM_WORLD_KEY_LEN];
	int rc;

	if (hsm_world_parse(world, &w, err, errlen) != 0)
		return -1;
	rc = open_cards(cards, which, count, pw, xs, shares, err, errlen);
	if (rc == 0)
		rc = hsm_world_unlock(&w, xs, (const uint8_t(*)[HSM_WORLD_KEY_LEN])shares, count,
				      mk, err, errlen);
	hsm_world_clear(&w);
	return rc;
}

int main(void)
{
	json_t *world = NULL, *cards = NULL, *world2 = NULL, *cards2 = NULL, *t;
	uint8_t mk[HSM_WORLD_KEY_LEN], mk2[HSM_WORLD_KEY_LEN], mk_other[HSM_WORLD_KEY_LEN];
	char err[256];
	static const unsigned pairs[3][2] = { { 0, 1 }, { 0, 2 }, { 2, 1 } };
	struct hsm_world w;

	tap_ok(hsm_world_generate(2, 3, pass, "vcm-uuid", "1A23-BC45-6789", 1700000000, &world,
				  &cards, err, sizeof(err)) == 0,
	       "a 2/3 world is made (%s)", err);
	TAP_INT_EQ(json_array_size(cards), 3, "... with 3 cards");
	tap_ok(hsm_world_parse(world, &w, err, sizeof(err)) == 0,
	       "the world file parses and its signature verifies");
	TAP_INT_EQ(w.k * 10 + w.n, 23, "... quorum 2/3");
	hsm_world_clear(&w);

	int all = 1;
	for (int i = 0; i < 3; i++) {
		if (unlock_with(world, cards, pairs[i], 2, pass, i ? mk2 : mk, err, sizeof(err)) !=
		    0)
			all = 0;
		if (i && memcmp(mk, mk2, sizeof(mk)) != 0)
			all = 0;
	}
	tap_ok(all, "any 2 of the 3 cards unlock the same module key (%s)", all ? "" : err);
	tap_ok(unlock_with(world, cards, pairs[0], 1, pass, mk2, err, sizeof(err)) != 0,
	       "one card is refused");
	TAP_STR_EQ(err, "the quorum is 2 of 3 cards: 1 given", "... saying how many are needed");

	const char *wrong[3] = { "card one", "not it", "card three" };
	tap_ok(unlock_with(world, cards, pairs[0], 2, wrong, mk2, err, sizeof(err)) != 0,
	       "a wrong passphrase is refused");
	TAP_STR_EQ(err, "card 2 does not open: wrong passphrase or a changed card",
		   "... naming the card");

	/* a card of another world */
	tap_ok(hsm_world_generate(2, 3, pass, "vcm-uuid", "1A23-BC45-6789", 1700000000, &world2,
				  &cards2, err, sizeof(err)) == 0,
	       "a second world");
	json_t *mixed = json_array();
	json_array_append(mixed, json_array_get(cards, 0));
	json_array_append(mixed, json_array_get(cards2, 1));
	tap_ok(unlock_with(world, mixed, pairs[0], 2, pass, mk2, err, sizeof(err)) != 0,
	       "a card of another world does not unlock this one");
	json_decref(mixed);
	/* editing the card's world ID to match does not help: it is sealed */
	t = json_deep_copy(json_array_get(cards2, 1));
	json_object_set(t, "world", json_object_get(world, "world"));
	struct hsm_world_card c;
	uint8_t share[HSM_WORLD_KEY_LEN];
	tap_ok(hsm_world_card_parse(t, &c, err, sizeof(err)) == 0 &&
		   hsm_world_card_open(&c, pass[1], share, err, sizeof(err)) != 0,
	       "a card whose world ID was edited does not open");
	json_decref(t);

	/* a changed world file */
	t = json_deep_copy(world);
	json_object_set_new(json_object_get(t, "quorum"), "k", json_integer(1));
	tap_ok(hsm_world_parse(t, &w, err, sizeof(err)) != 0,
	       "a world file with an edited quorum is refused");
	TAP_STR_EQ(err, "the signature does not verify: the world file was changed",
		   "... as changed");
	json_decref(t);
	/* re-signed by someone else: parses, but does not unlock */
	t = json_deep_copy(world);
	json_object_set(t, "module_key", json_object_get(world2, "module_key"));
	{
		char errk[128];
		EVP_PKEY *k = hsm_ed25519_generate(errk, sizeof(errk));
		json_t *body = json_deep_copy(t), *sig;
		size_t len;
		char *bytes, *line = hsm_key_to_openssh(k), *s64;
		uint8_t sg[64];
		json_object_del(body, "signature");
		bytes = hsm_json_canonical(body, &len);
		hsm_ed25519_sign(k, bytes, len, sg, errk, sizeof(errk));
		s64 = hsm_base64_encode(sg, 64);
		sig = json_pack("{s:s, s:s, s:s}", "alg", "ed25519", "key", line, "sig", s64);
		json_object_set_new(t, "signature", sig);
		free(bytes);
		free(line);
		free(s64);
		json_decref(body);
		EVP_PKEY_free(k);
	}
	tap_ok(unlock_with(t, cards, pairs[0], 2, pass, mk2, err, sizeof(err)) != 0,
	       "a world file with another module key, re-signed by another key, does not unlock");
	json_decref(t);

	/* key blobs */
	char errk[128];
	EVP_PKEY *key = hsm_ed25519_generate(errk, sizeof(errk)), *back;
	const char *wid = json_string_value(json_object_get(world, "world"));
	json_t *blob = hsm_key_blob_wrap(mk, wid, "signing", "ed25519", HSM_KEY_PERM_SIGN, key,
					 1700000001, err, sizeof(err));
	struct hsm_key_blob b;
	tap_ok(blob && hsm_key_blob_parse(blob, &b, err, sizeof(err)) == 0,
	       "a key blob is made and parses");
	back = hsm_key_blob_unwrap(mk, &b, err, sizeof(err));
	tap_ok(back && EVP_PKEY_eq(back, key) == 1,
	       "... and opens with its world's module key to the same key");
	EVP_PKEY_free(back);
	unlock_with(world2, cards2, pairs[0], 2, pass, mk_other, err, sizeof(err));
	back = hsm_key_blob_unwrap(mk_other, &b, err, sizeof(err));
	tap_ok(!back, "... not with another world's module key");
	hsm_key_blob_clear(&b);
	t = json_deep_copy(blob);
	json_object_set_new(t, "name", json_string("renamed"));
	tap_ok(hsm_key_blob_parse(t, &b, err, sizeof(err)) == 0 &&
		   !(back = hsm_key_blob_unwrap(mk, &b, err, sizeof(err))),
	       "a renamed blob does not open (the name is bound)");
	hsm_key_blob_clear(&b);
	json_object_set_new(t, "name", json_string("signing"));
	json_object_set_new(t, "permissions", json_array());
	tap_ok(hsm_key_blob_parse(t, &b, err, sizeof(err)) == 0 &&
		   !(back = hsm_key_blob_unwrap(mk, &b, err, sizeof(err))),
	       "a blob with edited permissions does not open");
	hsm_key_blob_clear(&b);
	json_decref(t);

	/* hostile input to the parsers */
	t = json_pack("{s:s, s:i}", "format", "hsmadmin-world-card", "version", 2);
	tap_ok(hsm_world_card_parse(t, &c, err, sizeof(err)) != 0, "card version 2 refused");
	TAP_STR_EQ(err, "version 2 is not supported (this hsmadmin reads 1)", "... saying so");
	json_decref(t);
	t = json_deep_copy(json_array_get(cards, 0));
	json_object_set_new(json_object_get(t, "kdf"), "log2n", json_integer(20));
	json_object_set_new(json_object_get(t, "kdf"), "r", json_integer(16));
	tap_ok(hsm_world_card_parse(t, &c, err, sizeof(err)) != 0,
	       "scrypt parameters needing 2 GiB are refused before any work");
	json_decref(t);
	t = json_deep_copy(json_array_get(cards, 0));
	json_object_set_new(t, "card", json_integer(4));
	tap_ok(hsm_world_card_parse(t, &c, err, sizeof(err)) != 0,
	       "card 4 of a 3-card quorum refused");
	json_decref(t);
	t = json_deep_copy(blob);
	json_object_set_new(t, "extra", json_true());
	tap_ok(hsm_key_blob_parse(t, &b, err, sizeof(err)) != 0,
	       "a blob with an unknown field refused");
	json_decref(t);
	tap_ok(!hsm_world_key_name_valid("../x") && !hsm_world_key_name_valid(".hidden") &&
		   hsm_world_key_name_valid("a-b_c.1"),
	       "key names: no paths, no dot files");

	EVP_PKEY_free(key);
	json_decref(blob);
	json_decref(world);
	json_decref(cards);
	json_decref(world2);
	json_decref(cards2);
	return tap_done();
}
