/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/world.c - the Security World's files and cryptography
 * (world.h; the formats are docs/formats/world.md, keep the two in step).
 *
 * Keys and what they are derived from (HKDF-SHA256 for the high-entropy
 * secrets, scrypt for the card holders' passphrases):
 *   admin secret AS  --split K of N-->  shares, each sealed under
 *                                       scrypt(passphrase, card salt)
 *   wrap key   = HKDF(AS, info "hsmadmin world module key v1" || world ID)
 *   module key MK, random, stored wrapped under the wrap key
 *   signing key seed = HKDF(MK, info "hsmadmin world signing key v1" || ID)
 *   blob key   = HKDF(MK, info "hsmadmin key blob v1" || world ID)
 * Every AES-256-GCM use takes a fresh 12-byte IV, a 16-byte tag and the
 * canonical JSON of the document's other fields as AAD, so no field can be
 * edited without the open failing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <hsmadmin/fileio.h>
#include "shamir.h"
#include "sign.h"
#include "world.h"

#define WORLD_FORMAT "hsmadmin-world"
#define CARD_FORMAT "hsmadmin-world-card"
#define BLOB_FORMAT "hsmadmin-key-blob"
#define SCRYPT_LOG2N 15
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_MAXMEM (65u * 1024u * 1024u)

/* --- small helpers ------------------------------------------------------ */

static int id_valid(const char *s)
{
	if (!s || strlen(s) != HSM_WORLD_ID_HEX)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int hsm_world_key_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > 64 || name[0] == '.')
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return 0;
	return 1;
}

/* base64 text that decodes to exactly len bytes. */
static int b64_exact(const json_t *v, const char *what, uint8_t *out, size_t len, char *err,
		     size_t errlen)
{
	uint8_t buf[HSM_WORLD_BLOB_MAX + 64];
	size_t got = 0;

	if (!json_is_string(v) || len > sizeof(buf) ||
	    hsm_base64_decode(json_string_value(v), buf, sizeof(buf), &got) != 0 || got != len) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return hsm_set_err(err, errlen, "%s: not base64 of %zu bytes", what, len);
	}
	memcpy(out, buf, len);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static int get_uint(const json_t *obj, const char *where, const char *key, unsigned lo, unsigned hi,
		    unsigned *out, char *err, size_t errlen)
{
	int bad = 0;
	json_t *v = hsm_json_member(obj, where, key, JSON_INTEGER, 1, &bad, err, errlen);
	json_int_t i;

	if (bad)
		return -1;
	i = json_integer_value(v);
	if (i < (json_int_t)lo || i > (json_int_t)hi)
		return hsm_set_err(err, errlen, "%s%s: %lld is not in %u..%u", where, key,
				   (long long)i, lo, hi);
	*out = (unsigned)i;
	return 0;
}

static const char *get_str(const json_t *obj, const char *where, const char *key, char *err,
			   size_t errlen)
{
	int bad = 0;
	json_t *v = hsm_json_member(obj, where, key, JSON_STRING, 1, &bad, err, errlen);

	return bad ? NULL : json_string_value(v);
}

static int check_format(const json_t *doc, const char *format, char *err, size_t errlen)
{
	const char *f;
	unsigned version;
	char buf[HSM_PRINTABLE_LEN];

	if (!json_is_object(doc))
		return hsm_set_err(err, errlen, "not a JSON object");
	if (!(f = get_str(doc, "", "format", err, errlen)))
		return -1;
	if (strcmp(f, format) != 0)
		return hsm_set_err(err, errlen, "format '%s' is not '%s'", hsm_printable(f, buf),
				   format);
	if (get_uint(doc, "", "version", 0, 1000, &version, err, errlen) != 0)
		return -1;
	if (version != 1)
		return hsm_set_err(err, errlen,
				   "version %u is not supported (this hsmadmin reads 1)", version);
	return 0;
}

static int get_quorum(const json_t *doc, unsigned *k, unsigned *n, char *err, size_t errlen)
{
	static const char *const keys[] = { "k", "n", NULL };
	int bad = 0;
	json_t *q = hsm_json_member(doc, "", "quorum", JSON_OBJECT, 1, &bad, err, errlen);

	if (bad || hsm_json_only_keys(q, "quorum.", keys, err, errlen) != 0 ||
	    get_uint(q, "quorum.", "n", 1, HSM_WORLD_MAX_CARDS, n, err, errlen) != 0 ||
	    get_uint(q, "quorum.", "k", 1, HSM_WORLD_MAX_CARDS, k, err, errlen) != 0)
		return -1;
	if (*k > *n)
		return hsm_set_err(err, errlen, "quorum: K=%u is more than N=%u", *k, *n);
	return 0;
}

static int get_id(const json_t *doc, const char *key, char out[HSM_WORLD_ID_HEX + 1], char *err,
		  size_t errlen)
{
	const char *s = get_str(doc, "", key, err, errlen);

	if (!s)
		return -1;
	if (!id_valid(s))
		return hsm_set_err(err, errlen, "%s: not 32 lower-case hex digits", key);
	memcpy(out, s, HSM_WORLD_ID_HEX + 1);
	return 0;
}

static int copy_printable(const char *s, const char *what, size_t max, char *out, char *err,
			  size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return hsm_set_err(err, errlen, "%s: 1-%zu characters", what, max - 1);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return hsm_set_err(err, errlen, "%s: not printable ASCII", what);
	memcpy(out, s, n + 1);
	return 0;
}

/* Canonical JSON of doc with the named members left out (AAD, signed
 * bytes).  malloc'ed. */
static char *canonical_without(const json_t *doc, const char *const *drop, size_t *len)
{
	json_t *copy = json_copy((json_t *)doc);
	char *out;

	if (!copy)
		return NULL;
	for (; drop && *drop; drop++)
		json_object_del(copy, *drop);
	out = hsm_json_canonical(copy, len);
	json_decref(copy);
	return out;
}

/* --- AES-256-GCM, HKDF, scrypt ------------------------------------------ */

static int gcm(int enc, const uint8_t key[32], const uint8_t iv[HSM_WORLD_IV_LEN], const void *aad,
	       size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;
	size_t body = enc ? inlen : inlen - HSM_WORLD_TAG_LEN;

	if (!c)
		return -1;
	if (!enc && inlen < HSM_WORLD_TAG_LEN) {
		EVP_CIPHER_CTX_free(c);
		return -1;
	}
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, HSM_WORLD_IV_LEN, NULL) == 1 &&
	     EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) == 1 &&
	     EVP_CipherUpdate(c, NULL, &n, aad, (int)aadlen) == 1 &&
	     EVP_CipherUpdate(c, out, &n, in, (int)body) == 1;
	if (ok && !enc)
		/* exactly 16 tag bytes: a shorter tag would be forgeable */
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, HSM_WORLD_TAG_LEN,
					 (void *)(in + body)) == 1;
	ok = ok && EVP_CipherFinal_ex(c, out + n, &n) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, HSM_WORLD_TAG_LEN, out + body) ==
		     1;
	EVP_CIPHER_CTX_free(c);
	if (!ok && !enc)
		OPENSSL_cleanse(out, body);
	return ok ? 0 : -1;
}

static int hkdf(const uint8_t *secret, size_t len, const char *label, const char *world,
		uint8_t out[32])
{
	char info[96];
	EVP_KDF *alg = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	EVP_KDF_CTX *k = alg ? EVP_KDF_CTX_new(alg) : NULL;
	OSSL_PARAM params[4];
	int n = snprintf(info, sizeof(info), "%s%s", label, world), ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t)n);
	params[3] = OSSL_PARAM_construct_end();
	ok = k && EVP_KDF_derive(k, out, 32, params) == 1;
	EVP_KDF_CTX_free(k);
	EVP_KDF_free(alg);
	return ok ? 0 : -1;
}

static int scrypt_key(const char *pass, const uint8_t salt[HSM_WORLD_SALT_LEN], unsigned log2n,
		      unsigned r, unsigned p, uint8_t out[32])
{
	EVP_KDF *alg = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_SCRYPT, NULL);
	EVP_KDF_CTX *k = alg ? EVP_KDF_CTX_new(alg) : NULL;
	uint64_t n = (uint64_t)1 << log2n, maxmem = SCRYPT_MAXMEM;
	uint32_t rr = r, pp = p;
	OSSL_PARAM params[7];
	int ok;

	params[0] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass, strlen(pass));
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
						      HSM_WORLD_SALT_LEN);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &rr);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &pp);
	params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	params[6] = OSSL_PARAM_construct_end();
	ok = k && EVP_KDF_derive(k, out, 32, params) == 1;
	EVP_KDF_CTX_free(k);
	EVP_KDF_free(alg);
	return ok ? 0 : -1;
}

static EVP_PKEY *signing_key(const uint8_t mk[HSM_WORLD_KEY_LEN], const char *world)
{
	uint8_t seed[32];
	EVP_PKEY *k = NULL;

	if (hkdf(mk, HSM_WORLD_KEY_LEN, "hsmadmin world signing key v1", world, seed) == 0)
		k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	OPENSSL_cleanse(seed, sizeof(seed));
	return k;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static json_t *b64_json(const uint8_t *b, size_t n)
{
	char *s = hsm_base64_encode(b, n);
	json_t *j = s ? json_string(s) : NULL;

	free(s);
	return j;
}

/* --- the world file ------------------------------------------------------ */

static const char *const world_signed_drop[] = { "signature", NULL };
static const char *const world_aad_drop[] = { "created", "created_by", "module_key", "signature",
					      NULL };

int hsm_world_parse(const json_t *doc, struct hsm_world *w, char *err, size_t errlen)
{
	static const char *const keys[] = { "format",     "version",   "world",
					    "quorum",     "created",   "created_by",
					    "module_key", "signature", NULL };
	static const char *const by_keys[] = { "vcm", "esn", NULL };
	static const char *const mk_keys[] = { "alg", "iv", "wrapped", NULL };
	json_t *by, *mk, *created;
	const char *s;
	char *bytes = NULL;
	size_t len = 0;
	uint8_t sig[HSM_ED25519_SIG_LEN];
	size_t siglen = 0;
	int bad = 0;

	memset(w, 0, sizeof(*w));
	if (check_format(doc, WORLD_FORMAT, err, errlen) != 0 ||
	    hsm_json_only_keys(doc, "", keys, err, errlen) != 0 ||
	    get_id(doc, "world", w->id, err, errlen) != 0 ||
	    get_quorum(doc, &w->k, &w->n, err, errlen) != 0)
		return -1;
	created = hsm_json_member(doc, "", "created", JSON_INTEGER, 1, &bad, err, errlen);
	by = hsm_json_member(doc, "", "created_by", JSON_OBJECT, 1, &bad, err, errlen);
	mk = hsm_json_member(doc, "", "module_key", JSON_OBJECT, 1, &bad, err, errlen);
	if (bad || hsm_json_only_keys(by, "created_by.", by_keys, err, errlen) != 0 ||
	    hsm_json_only_keys(mk, "module_key.", mk_keys, err, errlen) != 0)
		return -1;
	w->created = (long long)json_integer_value(created);
	if (w->created < 0)
		return hsm_set_err(err, errlen, "created: negative");
	if (!(s = get_str(by, "created_by.", "vcm", err, errlen)) ||
	    copy_printable(s, "created_by.vcm", sizeof(w->created_vcm), w->created_vcm, err,
			   errlen) != 0 ||
	    !(s = get_str(by, "created_by.", "esn", err, errlen)) ||
	    copy_printable(s, "created_by.esn", sizeof(w->created_esn), w->created_esn, err,
			   errlen) != 0 ||
	    !(s = get_str(mk, "module_key.", "alg", err, errlen)))
		return -1;
	if (strcmp(s, "aes-256-gcm") != 0)
		return hsm_set_err(err, errlen, "module_key.alg: only aes-256-gcm is supported");
	if (b64_exact(json_object_get(mk, "iv"), "module_key.iv", w->iv, sizeof(w->iv), err,
		      errlen) != 0 ||
	    b64_exact(json_object_get(mk, "wrapped"), "module_key.wrapped", w->wrapped,
		      sizeof(w->wrapped), err, errlen) != 0)
		return -1;
	if (!json_object_get(doc, "signature"))
		return hsm_set_err(err, errlen, "signature: missing");
	if (hsm_signature_block_parse(json_object_get(doc, "signature"), &w->signer, err, errlen) !=
	    0)
		return -1;
	bytes = canonical_without(doc, world_signed_drop, &len);
	if (!bytes ||
	    hsm_base64_decode(
		json_string_value(json_object_get(json_object_get(doc, "signature"), "sig")), sig,
		sizeof(sig), &siglen) != 0 ||
	    hsm_ed25519_verify(w->signer, bytes, len, sig, siglen) != 0) {
		free(bytes);
		hsm_world_clear(w);
		return hsm_set_err(err, errlen,
				   "the signature does not verify: the world file was changed");
	}
	free(bytes);
	return 0;
}

void hsm_world_clear(struct hsm_world *w)
{
	EVP_PKEY_free(w->signer);
	OPENSSL_cleanse(w, sizeof(*w));
}

/* --- cards ---------------------------------------------------------------- */

int hsm_world_card_parse(const json_t *doc, struct hsm_world_card *c, char *err, size_t errlen)
{
	static const char *const keys[] = { "format", "version", "world",  "card", "quorum",
					    "kdf",    "iv",      "sealed", NULL };
	static const char *const kdf_keys[] = { "alg", "log2n", "r", "p", "salt", NULL };
	json_t *kdf;
	const char *alg;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	if (check_format(doc, CARD_FORMAT, err, errlen) != 0 ||
	    hsm_json_only_keys(doc, "", keys, err, errlen) != 0 ||
	    get_id(doc, "world", c->world, err, errlen) != 0 ||
	    get_quorum(doc, &c->k, &c->n, err, errlen) != 0 ||
	    get_uint(doc, "", "card", 1, HSM_WORLD_MAX_CARDS, &c->index, err, errlen) != 0)
		return -1;
	if (c->index > c->n)
		return hsm_set_err(err, errlen, "card: %u is more than the quorum's N=%u", c->index,
				   c->n);
	kdf = hsm_json_member(doc, "", "kdf", JSON_OBJECT, 1, &bad, err, errlen);
	if (bad || hsm_json_only_keys(kdf, "kdf.", kdf_keys, err, errlen) != 0 ||
	    !(alg = get_str(kdf, "kdf.", "alg", err, errlen)))
		return -1;
	if (strcmp(alg, "scrypt") != 0)
		return hsm_set_err(err, errlen, "kdf.alg: only scrypt is supported");
	if (get_uint(kdf, "kdf.", "log2n", 14, 20, &c->log2n, err, errlen) != 0 ||
	    get_uint(kdf, "kdf.", "r", 1, 16, &c->r, err, errlen) != 0 ||
	    get_uint(kdf, "kdf.", "p", 1, 4, &c->p, err, errlen) != 0)
		return -1;
	/* scrypt needs about 128 * r * N bytes: bounded before any work */
	if ((128ull * c->r << c->log2n) + 128ull * c->r * c->p > SCRYPT_MAXMEM)
		return hsm_set_err(err, errlen, "kdf: scrypt parameters need more than 65 MiB");
	if (b64_exact(json_object_get(kdf, "salt"), "kdf.salt", c->salt, sizeof(c->salt), err,
		      errlen) != 0 ||
	    b64_exact(json_object_get(doc, "iv"), "iv", c->iv, sizeof(c->iv), err, errlen) != 0 ||
	    b64_exact(json_object_get(doc, "sealed"), "sealed", c->sealed, sizeof(c->sealed), err,
		      errlen) != 0)
		return -1;
	return 0;
}

static json_t *card_doc(const char *world, unsigned index, unsigned k, unsigned n)
{
	return json_pack("{s:s, s:i, s:s, s:i, s:{s:i, s:i}}", "format", CARD_FORMAT, "version", 1,
			 "world", world, "card", (int)index, "quorum", "k", (int)k, "n", (int)n);
}

static json_t *card_seal(const char *world, unsigned index, unsigned k, unsigned n,
			 const char *pass, const uint8_t share[HSM_WORLD_KEY_LEN], char *err,
			 size_t errlen)
{
	uint8_t salt[HSM_WORLD_SALT_LEN], iv[HSM_WORLD_IV_LEN], key[32];
	uint8_t sealed[HSM_WORLD_KEY_LEN + HSM_WORLD_TAG_LEN];
	json_t *doc = card_doc(world, index, k, n);
	char *aad = NULL;
	size_t aadlen = 0;
	int ok;

	ok = doc && hsm_random(salt, sizeof(salt)) == 0 && hsm_random(iv, sizeof(iv)) == 0 &&
	     scrypt_key(pass, salt, SCRYPT_LOG2N, SCRYPT_R, SCRYPT_P, key) == 0 &&
	     (aad = hsm_json_canonical(doc, &aadlen)) &&
	     gcm(1, key, iv, aad, aadlen, share, HSM_WORLD_KEY_LEN, sealed) == 0 &&
	     json_object_set_new(doc, "kdf",
				 json_pack("{s:s, s:i, s:i, s:i, s:o}", "alg", "scrypt", "log2n",
					   SCRYPT_LOG2N, "r", SCRYPT_R, "p", SCRYPT_P, "salt",
					   b64_json(salt, sizeof(salt)))) == 0 &&
	     json_object_set_new(doc, "iv", b64_json(iv, sizeof(iv))) == 0 &&
	     json_object_set_new(doc, "sealed", b64_json(sealed, sizeof(sealed))) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	free(aad);
	if (!ok) {
		json_decref(doc);
		hsm_set_err(err, errlen, "cannot seal card %u", index);
		return NULL;
	}
	return doc;
}

int hsm_world_card_open(const struct hsm_world_card *c, const char *pass,
			uint8_t share[HSM_WORLD_KEY_LEN], char *err, size_t errlen)
{
	json_t *doc = card_doc(c->world, c->index, c->k, c->n);
	uint8_t key[32];
	char *aad = NULL;
	size_t aadlen = 0;
	int rc = -1;

	if (!pass || !*pass || strlen(pass) > HSM_WORLD_PASS_MAX) {
		json_decref(doc);
		return hsm_set_err(err, errlen, "card %u: the passphrase must be 1-%d bytes",
				   c->index, HSM_WORLD_PASS_MAX);
	}
	if (doc && (aad = hsm_json_canonical(doc, &aadlen)) &&
	    scrypt_key(pass, c->salt, c->log2n, c->r, c->p, key) == 0)
		rc = gcm(0, key, c->iv, aad, aadlen, c->sealed, sizeof(c->sealed), share);
	OPENSSL_cleanse(key, sizeof(key));
	free(aad);
	json_decref(doc);
	if (rc != 0)
		return hsm_set_err(err, errlen,
				   "card %u does not open: wrong passphrase or a changed card",
				   c->index);
	return 0;
}

/* --- generate and unlock ---------------------------------------------------- */

static char *world_aad(const json_t *doc, size_t *len)
{
	return canonical_without(doc, world_aad_drop, len);
}

int hsm_world_generate(unsigned k, unsigned n, const char *const *pass, const char *vcm,
		       const char *esn, long long now, json_t **world, json_t **cards, char *err,
		       size_t errlen)
{
	uint8_t id[16], mk[HSM_WORLD_KEY_LEN], as[HSM_WORLD_KEY_LEN], wk[32], iv[HSM_WORLD_IV_LEN];
	uint8_t wrapped[HSM_WORLD_KEY_LEN + HSM_WORLD_TAG_LEN], sig[HSM_ED25519_SIG_LEN];
	uint8_t *shares = NULL;
	char idhex[HSM_WORLD_ID_HEX + 1], *aad = NULL, *bytes = NULL, *line = NULL, *sig64 = NULL;
	size_t aadlen = 0, len = 0;
	EVP_PKEY *sk = NULL;
	json_t *doc = NULL, *arr = NULL;
	int rc = -1;

	*world = *cards = NULL;
	if (k < 1 || k > n || n > HSM_WORLD_MAX_CARDS)
		return hsm_set_err(err, errlen, "a quorum needs 1 <= K <= N <= %d",
				   HSM_WORLD_MAX_CARDS);
	for (unsigned i = 0; i < n; i++)
		if (!pass[i] || !*pass[i] || strlen(pass[i]) > HSM_WORLD_PASS_MAX)
			return hsm_set_err(err, errlen,
					   "card %u: the passphrase must be 1-%d bytes", i + 1,
					   HSM_WORLD_PASS_MAX);
	if (hsm_random(id, sizeof(id)) != 0 || hsm_random(mk, sizeof(mk)) != 0 ||
	    hsm_random(as, sizeof(as)) != 0 || hsm_random(iv, sizeof(iv)) != 0) {
		hsm_set_err(err, errlen, "no random bytes");
		goto out;
	}
	hex(id, sizeof(id), idhex);
	doc = json_pack("{s:s, s:i, s:s, s:{s:i, s:i}, s:I, s:{s:s, s:s}}", "format", WORLD_FORMAT,
			"version", 1, "world", idhex, "quorum", "k", (int)k, "n", (int)n, "created",
			(json_int_t)now, "created_by", "vcm", vcm, "esn", esn);
	if (!doc || !(aad = world_aad(doc, &aadlen)) ||
	    hkdf(as, sizeof(as), "hsmadmin world module key v1", idhex, wk) != 0 ||
	    gcm(1, wk, iv, aad, aadlen, mk, sizeof(mk), wrapped) != 0 ||
	    json_object_set_new(doc, "module_key",
				json_pack("{s:s, s:o, s:o}", "alg", "aes-256-gcm", "iv",
					  b64_json(iv, sizeof(iv)), "wrapped",
					  b64_json(wrapped, sizeof(wrapped)))) != 0 ||
	    !(sk = signing_key(mk, idhex)) || !(bytes = hsm_json_canonical(doc, &len)) ||
	    hsm_ed25519_sign(sk, bytes, len, sig, err, errlen) != 0 ||
	    !(line = hsm_key_to_openssh(sk)) || !(sig64 = hsm_base64_encode(sig, sizeof(sig))) ||
	    json_object_set_new(
		doc, "signature",
		json_pack("{s:s, s:s, s:s}", "alg", "ed25519", "key", line, "sig", sig64)) != 0) {
		hsm_set_err(err, errlen, "cannot make the world file");
		goto out;
	}
	shares = OPENSSL_secure_malloc((size_t)n * HSM_WORLD_KEY_LEN);
	arr = json_array();
	if (!shares || !arr || hsm_shamir_split(as, sizeof(as), k, n, shares, err, errlen) != 0)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		json_t *card = card_seal(idhex, i + 1, k, n, pass[i],
					 shares + (size_t)i * HSM_WORLD_KEY_LEN, err, errlen);
		if (!card || json_array_append_new(arr, card) != 0)
			goto out;
	}
	*world = doc;
	*cards = arr;
	doc = arr = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(mk, sizeof(mk));
	OPENSSL_cleanse(as, sizeof(as));
	OPENSSL_cleanse(wk, sizeof(wk));
	if (shares)
		OPENSSL_secure_clear_free(shares, (size_t)n * HSM_WORLD_KEY_LEN);
	EVP_PKEY_free(sk);
	free(aad);
	free(bytes);
	free(line);
	free(sig64);
	json_decref(doc);
	json_decref(arr);
	return rc;
}

int hsm_world_unlock(const struct hsm_world *w, const uint8_t *xs,
		     const uint8_t (*shares)[HSM_WORLD_KEY_LEN], unsigned count,
		     uint8_t mk[HSM_WORLD_KEY_LEN], char *err, size_t errlen)
{
	const uint8_t *ys[HSM_WORLD_MAX_CARDS];
	uint8_t as[HSM_WORLD_KEY_LEN], wk[32], pub_mine[HSM_ED25519_PUB_LEN],
	    pub_file[HSM_ED25519_PUB_LEN];
	json_t *doc;
	char *aad = NULL;
	size_t aadlen = 0;
	EVP_PKEY *sk = NULL;
	int rc = -1;

	if (count < w->k)
		return hsm_set_err(err, errlen, "the quorum is %u of %u cards: %u given", w->k,
				   w->n, count);
	for (unsigned i = 0; i < w->k; i++)
		ys[i] = shares[i];
	if (hsm_shamir_combine(xs, ys, w->k, HSM_WORLD_KEY_LEN, as, err, errlen) != 0)
		return -1;
	doc = json_pack("{s:s, s:i, s:s, s:{s:i, s:i}}", "format", WORLD_FORMAT, "version", 1,
			"world", w->id, "quorum", "k", (int)w->k, "n", (int)w->n);
	if (doc && (aad = hsm_json_canonical(doc, &aadlen)) &&
	    hkdf(as, sizeof(as), "hsmadmin world module key v1", w->id, wk) == 0 &&
	    gcm(0, wk, w->iv, aad, aadlen, w->wrapped, sizeof(w->wrapped), mk) == 0)
		rc = 0;
	else
		hsm_set_err(err, errlen,
			    "the module key does not open with these cards: "
			    "the world file or a card was changed");
	if (rc == 0) {
		/* The file's signer must be this world's own signing key. */
		sk = signing_key(mk, w->id);
		if (!sk || hsm_ed25519_pub_raw(sk, pub_mine) != 0 ||
		    hsm_ed25519_pub_raw(w->signer, pub_file) != 0 ||
		    CRYPTO_memcmp(pub_mine, pub_file, sizeof(pub_mine)) != 0) {
			OPENSSL_cleanse(mk, HSM_WORLD_KEY_LEN);
			rc = hsm_set_err(err, errlen,
					 "the world file is not signed by its world's key");
		}
	}
	EVP_PKEY_free(sk);
	OPENSSL_cleanse(as, sizeof(as));
	OPENSSL_cleanse(wk, sizeof(wk));
	free(aad);
	json_decref(doc);
	return rc;
}

/* --- key blobs ---------------------------------------------------------------- */

static const char *const blob_aad_drop[] = { "iv", "wrapped", NULL };

static int perms_parse(const json_t *arr, unsigned *perms, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) > 8)
		return hsm_set_err(err, errlen, "permissions: not a list of at most 8 names");
	*perms = 0;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || strcmp(json_string_value(v), "sign") != 0)
			return hsm_set_err(err, errlen, "permissions: only \"sign\" is known");
		if (*perms & HSM_KEY_PERM_SIGN)
			return hsm_set_err(err, errlen, "permissions: \"sign\" twice");
		*perms |= HSM_KEY_PERM_SIGN;
	}
	return 0;
}

int hsm_key_blob_parse(const json_t *doc, struct hsm_key_blob *b, char *err, size_t errlen)
{
	static const char *const keys[] = { "format", "version",     "world",   "name",
					    "type",   "permissions", "created", "public",
					    "iv",     "wrapped",     NULL };
	const char *s, *pub;
	json_t *created;
	uint8_t buf[HSM_WORLD_BLOB_MAX + 64];
	size_t got = 0;
	int bad = 0;

	memset(b, 0, sizeof(*b));
	if (check_format(doc, BLOB_FORMAT, err, errlen) != 0 ||
	    hsm_json_only_keys(doc, "", keys, err, errlen) != 0 ||
	    get_id(doc, "world", b->world, err, errlen) != 0 ||
	    !(s = get_str(doc, "", "name", err, errlen)))
		return -1;
	if (!hsm_world_key_name_valid(s))
		return hsm_set_err(err, errlen,
				   "name: 1-64 of A-Z a-z 0-9 _ . - (not starting with '.')");
	snprintf(b->name, sizeof(b->name), "%s", s);
	if (!(s = get_str(doc, "", "type", err, errlen)))
		return -1;
	if (strcmp(s, "ed25519") != 0 && strcmp(s, "p256") != 0)
		return hsm_set_err(err, errlen, "type: ed25519 or p256");
	snprintf(b->type, sizeof(b->type), "%s", s);
	if (perms_parse(json_object_get(doc, "permissions"), &b->perms, err, errlen) != 0)
		return -1;
	created = hsm_json_member(doc, "", "created", JSON_INTEGER, 1, &bad, err, errlen);
	if (bad || !(pub = get_str(doc, "", "public", err, errlen)))
		return -1;
	b->created = (long long)json_integer_value(created);
	if (strlen(pub) > 1024 || strncmp(pub, "-----BEGIN PUBLIC KEY-----\n", 27) != 0)
		return hsm_set_err(err, errlen,
				   "public: not a PEM public key of at most 1024 bytes");
	if (b64_exact(json_object_get(doc, "iv"), "iv", b->iv, sizeof(b->iv), err, errlen) != 0)
		return -1;
	if (!json_is_string(json_object_get(doc, "wrapped")) ||
	    hsm_base64_decode(json_string_value(json_object_get(doc, "wrapped")), buf, sizeof(buf),
			      &got) != 0 ||
	    got <= HSM_WORLD_TAG_LEN || got > HSM_WORLD_BLOB_MAX)
		return hsm_set_err(err, errlen, "wrapped: not base64 of 17-%d bytes",
				   HSM_WORLD_BLOB_MAX);
	if (!(b->public_pem = strdup(pub)) || !(b->wrapped = malloc(got))) {
		hsm_key_blob_clear(b);
		return hsm_set_err(err, errlen, "out of memory");
	}
	memcpy(b->wrapped, buf, got);
	b->wrapped_len = got;
	return 0;
}

void hsm_key_blob_clear(struct hsm_key_blob *b)
{
	free(b->public_pem);
	free(b->wrapped);
	memset(b, 0, sizeof(*b));
}

static json_t *blob_header(const char *world, const char *name, const char *type, unsigned perms,
			   const char *pub, long long created)
{
	json_t *p = json_array();

	if (p && (perms & HSM_KEY_PERM_SIGN))
		json_array_append_new(p, json_string("sign"));
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:o, s:I, s:s}", "format", BLOB_FORMAT,
			 "version", 1, "world", world, "name", name, "type", type, "permissions", p,
			 "created", (json_int_t)created, "public", pub);
}

json_t *hsm_key_blob_wrap(const uint8_t mk[HSM_WORLD_KEY_LEN], const char *world, const char *name,
			  const char *type, unsigned perms, EVP_PKEY *key, long long now, char *err,
			  size_t errlen)
{
	uint8_t bk[32], iv[HSM_WORLD_IV_LEN], *der = NULL, *ct = NULL;
	char *pub = hsm_key_public_pem(key), *aad = NULL;
	size_t aadlen = 0;
	int derlen = i2d_PrivateKey(key, &der);
	json_t *doc = pub ? blob_header(world, name, type, perms, pub, now) : NULL;
	int ok;

	ok = doc && derlen > 0 && derlen <= HSM_WORLD_BLOB_MAX - HSM_WORLD_TAG_LEN &&
	     (ct = malloc((size_t)derlen + HSM_WORLD_TAG_LEN)) && hsm_random(iv, sizeof(iv)) == 0 &&
	     hkdf(mk, HSM_WORLD_KEY_LEN, "hsmadmin key blob v1", world, bk) == 0 &&
	     (aad = canonical_without(doc, blob_aad_drop, &aadlen)) &&
	     gcm(1, bk, iv, aad, aadlen, der, (size_t)derlen, ct) == 0 &&
	     json_object_set_new(doc, "iv", b64_json(iv, sizeof(iv))) == 0 &&
	     json_object_set_new(doc, "wrapped",
				 b64_json(ct, (size_t)derlen + HSM_WORLD_TAG_LEN)) == 0;
	OPENSSL_cleanse(bk, sizeof(bk));
	if (der)
		OPENSSL_clear_free(der, (size_t)derlen);
	free(ct);
	free(aad);
	free(pub);
	if (!ok) {
		json_decref(doc);
		hsm_set_err(err, errlen, "cannot wrap the key '%s'", name);
		return NULL;
	}
	return doc;
}

EVP_PKEY *hsm_key_blob_unwrap(const uint8_t mk[HSM_WORLD_KEY_LEN], const struct hsm_key_blob *b,
			      char *err, size_t errlen)
{
	json_t *doc = blob_header(b->world, b->name, b->type, b->perms, b->public_pem, b->created);
	uint8_t bk[32], *der = malloc(b->wrapped_len);
	const uint8_t *p;
	char *aad = NULL, *pub = NULL;
	size_t aadlen = 0, derlen = b->wrapped_len - HSM_WORLD_TAG_LEN;
	EVP_PKEY *key = NULL;
	int opened = 0;

	if (doc && der && (aad = hsm_json_canonical(doc, &aadlen)) &&
	    hkdf(mk, HSM_WORLD_KEY_LEN, "hsmadmin key blob v1", b->world, bk) == 0 &&
	    gcm(0, bk, b->iv, aad, aadlen, b->wrapped, b->wrapped_len, der) == 0) {
		opened = 1;
		p = der;
		key = d2i_AutoPrivateKey(NULL, &p, (long)derlen);
	}
	OPENSSL_cleanse(bk, sizeof(bk));
	if (der)
		OPENSSL_clear_free(der, b->wrapped_len);
	free(aad);
	json_decref(doc);
	if (!opened) {
		hsm_set_err(err, errlen,
			    "key '%s': the blob does not open with this world's module key "
			    "(changed, or made in another world)",
			    b->name);
		return NULL;
	}
	/* The public key in the file must be this key's: a host shows it. */
	if (!key || !(pub = hsm_key_public_pem(key)) || strcmp(pub, b->public_pem) != 0 ||
	    (strcmp(b->type, "ed25519") == 0) != (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519)) {
		EVP_PKEY_free(key);
		free(pub);
		hsm_set_err(err, errlen,
			    "key '%s': the blob's key does not match its public key or type",
			    b->name);
		return NULL;
	}
	free(pub);
	return key;
}
