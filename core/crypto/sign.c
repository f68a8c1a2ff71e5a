/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign.c - Ed25519 keys and signatures, canonical JSON, signed envelopes.
 *
 * Every signed object in hsmadmin goes through hsm_signed_wrap and
 * hsm_signed_verify, so there is exactly one place that decides what bytes
 * are signed (the canonical JSON of the body) and how a signature is
 * checked.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <hsmadmin/fileio.h>
#include "sign.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* Private keys are small; anything bigger is not a key. */
#define KEY_FILE_MAX 16384

HSM_API EVP_PKEY *hsm_ed25519_generate(char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "ED25519", NULL);

	if (!pctx || EVP_PKEY_keygen_init(pctx) <= 0 || EVP_PKEY_keygen(pctx, &key) <= 0) {
		snprintf(err, errlen, "cannot generate an Ed25519 key");
		key = NULL;
	}
	EVP_PKEY_CTX_free(pctx);
	return key;
}

static int is_ed25519(EVP_PKEY *key)
{
	return key && EVP_PKEY_is_a(key, "ED25519");
}

HSM_API int hsm_ed25519_sign(EVP_PKEY *key, const void *data, size_t len,
			     uint8_t sig[HSM_ED25519_SIG_LEN], char *err, size_t errlen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t siglen = HSM_ED25519_SIG_LEN;
	int rc = -1;

	if (!is_ed25519(key))
		snprintf(err, errlen, "signing key is not an Ed25519 key");
	else if (!md || EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, key, NULL) <= 0 ||
		 EVP_DigestSign(md, sig, &siglen, data, len) <= 0 || siglen != HSM_ED25519_SIG_LEN)
		snprintf(err, errlen, "Ed25519 signing failed");
	else
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

HSM_API int hsm_ed25519_verify(EVP_PKEY *pub, const void *data, size_t len, const uint8_t *sig,
			       size_t siglen)
{
	EVP_MD_CTX *md;
	int ok;

	if (!is_ed25519(pub) || siglen != HSM_ED25519_SIG_LEN)
		return -1;
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, pub, NULL) > 0 &&
	     EVP_DigestVerify(md, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

HSM_API int hsm_ed25519_pub_raw(EVP_PKEY *key, uint8_t out[HSM_ED25519_PUB_LEN])
{
	size_t n = HSM_ED25519_PUB_LEN;

	if (!is_ed25519(key) || EVP_PKEY_get_raw_public_key(key, out, &n) != 1 ||
	    n != HSM_ED25519_PUB_LEN)
		return -1;
	return 0;
}

HSM_API EVP_PKEY *hsm_ed25519_from_pub_raw(const uint8_t *raw, size_t len)
{
	if (len != HSM_ED25519_PUB_LEN)
		return NULL;
	return EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, raw, len);
}

/* --- base64 ---------------------------------------------------------- */

HSM_API char *hsm_base64_encode(const uint8_t *data, size_t len)
{
	size_t outlen = 4 * ((len + 2) / 3);
	char *out = malloc(outlen + 1);

	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	out[outlen] = '\0';
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict decoder: EVP_DecodeBlock accepts whitespace and pads output with
 * zero bytes, so a signature could decode to something else than it reads. */
HSM_API int hsm_base64_decode(const char *text, uint8_t *out, size_t max, size_t *outlen)
{
	size_t len = strlen(text), o = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = text[i + k];
			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)
				return -1; /* data after padding */
			v[k] = b64_value(c);
			if (v[k] < 0)
				return -1;
		}
		uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
			     ((uint32_t)v[2] << 6) | (uint32_t)v[3];
		size_t n = 3 - (size_t)pad;
		/* Non-canonical encodings (stray low bits before padding) are refused. */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -1;
		if (o + n > max)
			return -1;
		out[o++] = (uint8_t)(w >> 16);
		if (n > 1)
			out[o++] = (uint8_t)(w >> 8);
		if (n > 2)
			out[o++] = (uint8_t)w;
	}
	*outlen = o;
	return 0;
}

/* --- OpenSSH public keys ---------------------------------------------- */

#define SSH_ED25519 "ssh-ed25519"
/* string "ssh-ed25519" + string(32 bytes) */
#define SSH_BLOB_LEN (4 + 11 + 4 + HSM_ED25519_PUB_LEN)

static int ssh_blob(EVP_PKEY *key, uint8_t blob[SSH_BLOB_LEN])
{
	uint8_t raw[HSM_ED25519_PUB_LEN];

	if (hsm_ed25519_pub_raw(key, raw) != 0)
		return -1;
	memcpy(blob, "\0\0\0\x0b" SSH_ED25519 "\0\0\0\x20", 4 + 11 + 4);
	memcpy(blob + 19, raw, HSM_ED25519_PUB_LEN);
	return 0;
}

HSM_API char *hsm_key_to_openssh(EVP_PKEY *key)
{
	uint8_t blob[SSH_BLOB_LEN];
	char *b64, *line;

	if (ssh_blob(key, blob) != 0 || !(b64 = hsm_base64_encode(blob, sizeof(blob))))
		return NULL;
	line = malloc(strlen(SSH_ED25519) + 1 + strlen(b64) + 1);
	if (line)
		sprintf(line, SSH_ED25519 " %s", b64);
	free(b64);
	return line;
}

HSM_API EVP_PKEY *hsm_key_from_openssh(const char *line, char *err, size_t errlen)
{
	uint8_t blob[SSH_BLOB_LEN + 1], expect[19];
	char b64[128];
	size_t n;
	const char *p = line;

	if (strncmp(p, SSH_ED25519 " ", 12) != 0) {
		snprintf(err, errlen, "not an ssh-ed25519 public key");
		return NULL;
	}
	p += 12;
	n = strcspn(p, " \t\r\n");
	if (n == 0 || n >= sizeof(b64)) {
		snprintf(err, errlen, "malformed ssh-ed25519 public key");
		return NULL;
	}
	memcpy(b64, p, n);
	b64[n] = '\0';
	memcpy(expect, "\0\0\0\x0b" SSH_ED25519 "\0\0\0\x20", sizeof(expect));
	if (hsm_base64_decode(b64, blob, sizeof(blob), &n) != 0 || n != SSH_BLOB_LEN ||
	    memcmp(blob, expect, sizeof(expect)) != 0) {
		snprintf(err, errlen, "malformed ssh-ed25519 public key");
		return NULL;
	}
	EVP_PKEY *key = hsm_ed25519_from_pub_raw(blob + 19, HSM_ED25519_PUB_LEN);
	if (!key)
		snprintf(err, errlen, "invalid Ed25519 public key");
	return key;
}

HSM_API char *hsm_key_fingerprint(EVP_PKEY *key)
{
	uint8_t blob[SSH_BLOB_LEN], md[32];
	unsigned int mdlen = sizeof(md);
	char *b64, *fp;

	if (ssh_blob(key, blob) != 0 ||
	    EVP_Digest(blob, sizeof(blob), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    !(b64 = hsm_base64_encode(md, mdlen)))
		return NULL;
	b64[strcspn(b64, "=")] = '\0'; /* OpenSSH prints it unpadded */
	fp = malloc(7 + strlen(b64) + 1);
	if (fp)
		sprintf(fp, "SHA256:%s", b64);
	free(b64);
	return fp;
}

/* --- key files --------------------------------------------------------- */

HSM_API int hsm_key_save_private(const char *path, EVP_PKEY *key, int overwrite, char *err,
				 size_t errlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long len;
	int rc = -1;

	if (!bio || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(bio);
		return ERR("%s: cannot encode private key", path);
	}
	len = BIO_get_mem_data(bio, &pem);
	if (!overwrite && access(path, F_OK) == 0)
		snprintf(err, errlen, "%s: already exists", path);
	else
		rc = hsm_write_file_atomic(path, pem, (size_t)len, 0600, err, errlen);
	OPENSSL_cleanse(pem, (size_t)len);
	BIO_free(bio);
	return rc;
}

static BIO *read_key_file(const char *path, int secret, char *err, size_t errlen)
{
	struct stat st;
	char *data;
	size_t len;
	BIO *bio;

	if (secret) {
		if (stat(path, &st) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		if (st.st_mode & (S_IRWXG | S_IRWXO)) {
			snprintf(err, errlen,
				 "%s: private key is accessible by group or others (mode %04o); "
				 "chmod 600 it",
				 path, (unsigned)(st.st_mode & 07777));
			return NULL;
		}
	}
	if (hsm_read_file(path, KEY_FILE_MAX, &data, &len, err, errlen) != 0)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (bio && BIO_write(bio, data, (int)len) != (int)len) {
		BIO_free(bio);
		bio = NULL;
	}
	OPENSSL_cleanse(data, len);
	free(data);
	if (!bio)
		snprintf(err, errlen, "%s: out of memory", path);
	return bio;
}

HSM_API EVP_PKEY *hsm_key_load_private(const char *path, char *err, size_t errlen)
{
	BIO *bio = read_key_file(path, 1, err, errlen);
	EVP_PKEY *key;

	if (!bio)
		return NULL;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!key || !is_ed25519(key)) {
		EVP_PKEY_free(key);
		snprintf(err, errlen, "%s: not an Ed25519 private key in PEM form", path);
		return NULL;
	}
	return key;
}

HSM_API EVP_PKEY *hsm_key_load_public(const char *path, char *err, size_t errlen)
{
	char *data, inner[128];
	size_t len;
	EVP_PKEY *key = NULL;

	if (hsm_read_file(path, KEY_FILE_MAX, &data, &len, err, errlen) != 0)
		return NULL;
	if (strncmp(data, SSH_ED25519 " ", 12) == 0) {
		key = hsm_key_from_openssh(data, inner, sizeof(inner));
		if (!key)
			snprintf(err, errlen, "%s: %s", path, inner);
	} else {
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (!key || !is_ed25519(key)) {
			EVP_PKEY_free(key);
			key = NULL;
			snprintf(err, errlen,
				 "%s: not an Ed25519 public key (PEM or ssh-ed25519 line)", path);
		}
	}
	free(data);
	return key;
}

HSM_API char *hsm_key_public_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem, *out = NULL;
	long len;

	if (bio && PEM_write_bio_PUBKEY(bio, key)) {
		len = BIO_get_mem_data(bio, &mem);
		out = malloc((size_t)len + 1);
		if (out) {
			memcpy(out, mem, (size_t)len);
			out[len] = '\0';
		}
	}
	BIO_free(bio);
	return out;
}

/* --- canonical JSON and envelopes -------------------------------------- */

HSM_API char *hsm_json_canonical(const json_t *doc, size_t *len)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (s && len)
		*len = strlen(s);
	return s;
}

HSM_API int hsm_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

HSM_API int hsm_secret_cmp(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0 ? 0 : 1;
}

HSM_API json_t *hsm_signed_wrap(const json_t *body, EVP_PKEY *key, char *err, size_t errlen)
{
	uint8_t sig[HSM_ED25519_SIG_LEN];
	size_t len;
	char *bytes = hsm_json_canonical(body, &len), *pub = NULL, *b64 = NULL;
	json_t *env = NULL;

	if (!bytes) {
		snprintf(err, errlen, "cannot serialise the body to sign");
		return NULL;
	}
	if (hsm_ed25519_sign(key, bytes, len, sig, err, errlen) == 0 &&
	    (pub = hsm_key_to_openssh(key)) && (b64 = hsm_base64_encode(sig, sizeof(sig))))
		env = json_pack("{s:O, s:{s:s, s:s, s:s}}", "body", body, "signature", "alg",
				"ed25519", "key", pub, "sig", b64);
	if (!env && !*err)
		snprintf(err, errlen, "cannot build the signed envelope");
	free(bytes);
	free(pub);
	free(b64);
	return env;
}

HSM_API int hsm_signed_verify(const json_t *envelope, EVP_PKEY *pub, const json_t **body,
			      EVP_PKEY **signer, char *err, size_t errlen)
{
	json_t *b = NULL;
	const char *alg, *keyline, *sigtext;
	uint8_t sig[HSM_ED25519_SIG_LEN + 3];
	size_t siglen, len;
	EVP_PKEY *embedded;
	char *bytes, inner[128];
	int rc;

	if (hsm_json_unpack(envelope, JSON_STRICT, inner, sizeof(inner), "{s:o, s:{s:s, s:s, s:s}}",
			    "body", &b, "signature", "alg", &alg, "key", &keyline, "sig",
			    &sigtext) != 0)
		return ERR("malformed signed document: %s", inner);
	if (!json_is_object(b))
		return ERR("malformed signed document: body is not an object");
	if (strcmp(alg, "ed25519") != 0)
		return ERR("unsupported signature algorithm '%s'", alg);
	if (hsm_base64_decode(sigtext, sig, sizeof(sig), &siglen) != 0 ||
	    siglen != HSM_ED25519_SIG_LEN)
		return ERR("malformed signature value");
	embedded = hsm_key_from_openssh(keyline, inner, sizeof(inner));
	if (!embedded)
		return ERR("signer key: %s", inner);
	/* With a pinned key, the embedded one must be that key: otherwise the
	 * document names a signer it was not signed by. */
	if (pub && EVP_PKEY_eq(pub, embedded) != 1) {
		EVP_PKEY_free(embedded);
		return ERR("signed by an unexpected key");
	}
	bytes = hsm_json_canonical(b, &len);
	if (!bytes) {
		EVP_PKEY_free(embedded);
		return ERR("cannot serialise the signed body");
	}
	rc = hsm_ed25519_verify(pub ? pub : embedded, bytes, len, sig, siglen);
	free(bytes);
	if (rc != 0) {
		EVP_PKEY_free(embedded);
		return ERR("signature verification failed");
	}
	*body = b;
	if (signer)
		*signer = embedded;
	else
		EVP_PKEY_free(embedded);
	return 0;
}

/* --- strict parsing of signed files -------------------------------------- */

HSM_API EVP_PKEY *hsm_key_from_openssh_strict(const char *field, const char *line, char *err,
					      size_t errlen)
{
	char inner[128];
	EVP_PKEY *key = hsm_key_from_openssh(line, inner, sizeof(inner));
	char *again;

	if (!key) {
		snprintf(err, errlen, "field '%s': %s", field, inner);
		return NULL;
	}
	/* Only the exact text we write: then a signed file has one spelling. */
	again = hsm_key_to_openssh(key);
	if (!again || strcmp(again, line) != 0) {
		snprintf(err, errlen,
			 "field '%s' must be exactly \"ssh-ed25519 <base64>\" without a comment",
			 field);
		EVP_PKEY_free(key);
		key = NULL;
	}
	free(again);
	return key;
}

HSM_API int hsm_key_equal(EVP_PKEY *a, EVP_PKEY *b)
{
	uint8_t ra[HSM_ED25519_PUB_LEN], rb[HSM_ED25519_PUB_LEN];

	return hsm_ed25519_pub_raw(a, ra) == 0 && hsm_ed25519_pub_raw(b, rb) == 0 &&
	       CRYPTO_memcmp(ra, rb, sizeof(ra)) == 0;
}

/* base64 of 64 bytes, with padding */
#define SIG_B64_LEN 88

HSM_API int hsm_signature_block_parse(const json_t *s, EVP_PKEY **signer, char *err, size_t errlen)
{
	static const char *const allowed[] = { "alg", "key", "sig", NULL };
	uint8_t sig[HSM_ED25519_SIG_LEN + 3];
	size_t siglen;
	int bad = 0;
	json_t *alg, *key, *val;
	char q[HSM_PRINTABLE_LEN];

	*signer = NULL;
	if (hsm_json_only_keys(s, "signature.", allowed, err, errlen) != 0)
		return -1;
	alg = hsm_json_member(s, "signature.", "alg", JSON_STRING, 1, &bad, err, errlen);
	key = hsm_json_member(s, "signature.", "key", JSON_STRING, 1, &bad, err, errlen);
	val = hsm_json_member(s, "signature.", "sig", JSON_STRING, 1, &bad, err, errlen);
	if (bad)
		return -1;
	if (strcmp(json_string_value(alg), "ed25519") != 0)
		return hsm_set_err(err, errlen,
				   "unsupported signature algorithm '%s' (only ed25519)",
				   hsm_printable(json_string_value(alg), q));
	if (strlen(json_string_value(val)) != SIG_B64_LEN ||
	    hsm_base64_decode(json_string_value(val), sig, sizeof(sig), &siglen) != 0 ||
	    siglen != HSM_ED25519_SIG_LEN)
		return hsm_set_err(err, errlen,
				   "field 'signature.sig' is not a base64 Ed25519 signature");
	*signer = hsm_key_from_openssh_strict("signature.key", json_string_value(key), err, errlen);
	return *signer ? 0 : -1;
}
