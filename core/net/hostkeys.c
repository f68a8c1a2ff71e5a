/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/hostkeys.c - client key store and host key pins.
 *
 * Client keys are stored protected (core/crypto/keyprot.c, docs/formats/
 * keys.md): each service's key under that service's protection options and
 * group.  In memory a key is held twice: as an EVP_PKEY (to save it again,
 * e.g. under other options) and as OpenSSH private key text, which is what
 * each SSH session hands to ssh_pki_import_privkey_base64.
 *
 * Keys written by hsmadmin before key protection existed are unencrypted
 * PEM files (OpenSSH or PKCS#8).  They still load, so an upgraded host keeps
 * its access to its HSMs, but only when nobody but the owner can read them;
 * `keys show` flags them and `keys roll` replaces them with protected keys.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <hsmadmin/fileio.h>

#include "hostkeys-ssh.h"
#include "keyprot.h"
#include "sign.h"

/* An unprotected (legacy) private key file is a few hundred bytes. */
#define LEGACY_FILE_MAX 16384
#define PINS_FILE_MAX 65536
#define PUBKEY_LINE_MAX 256
#define PEM_START "-----BEGIN "
#define OSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define OSSH_END "-----END OPENSSH PRIVATE KEY-----\n"

struct hsm_client_key {
	char *text; /* OpenSSH private key text for libssh */
	size_t len;
	EVP_PKEY *pkey; /* NULL only for a legacy OpenSSH-format key */
	unsigned opts;  /* protection options it was loaded with; 0: legacy */
	int legacy;
	/* The key as libssh uses it, imported once when the key is loaded:
	 * a fan-out to N HSMs authenticates N times with it, and importing
	 * it per connection was measurable per-HSM cost (bench/rpc.sh).
	 * Read-only after loading, so the fan-out threads may share it. */
	ssh_key ssh;
};

void hsm_client_key_free(struct hsm_client_key *key)
{
	if (!key)
		return;
	if (key->text) {
		OPENSSL_cleanse(key->text, key->len);
		free(key->text);
	}
	EVP_PKEY_free(key->pkey);
	ssh_key_free(key->ssh);
	free(key);
}

ssh_key hsm_client_key_ssh_shared(const struct hsm_client_key *key)
{
	return key ? key->ssh : NULL;
}

ssh_key hsm_client_key_ssh(const struct hsm_client_key *key)
{
	ssh_key k = NULL;

	if (!key || ssh_pki_import_privkey_base64(key->text, NULL, NULL, NULL, &k) != SSH_OK)
		return NULL;
	if (ssh_key_type(k) != SSH_KEYTYPE_ED25519 || !ssh_key_is_private(k)) {
		ssh_key_free(k);
		return NULL;
	}
	return k;
}

/* Take ownership of text (and pkey, may be NULL) if text holds an Ed25519
 * private key libssh can use. */
static struct hsm_client_key *key_from_text(char *text, size_t len, EVP_PKEY *pkey, char *err,
					    size_t errlen)
{
	struct hsm_client_key *key = calloc(1, sizeof(*key));
	ssh_key k;

	if (!key) {
		OPENSSL_cleanse(text, len);
		free(text);
		EVP_PKEY_free(pkey);
		hsm_set_err(err, errlen, "out of memory");
		return NULL;
	}
	key->text = text;
	key->len = len;
	key->pkey = pkey;
	/* libssh also imports other PEM keys (it finds a PKCS#8 block anywhere
	 * in the text) but cannot use them: only OpenSSH's format is handed on. */
	if (strncmp(text, OSSH_BEGIN, strlen(OSSH_BEGIN)) != 0 || !(k = hsm_client_key_ssh(key))) {
		hsm_client_key_free(key);
		hsm_set_err(err, errlen, "not an Ed25519 private key");
		return NULL;
	}
	key->ssh = k;
	return key;
}

/* --- OpenSSH private key text ----------------------------------------------
 * libssh 0.10 imports a PKCS#8 Ed25519 key but cannot sign with it (nor
 * derive its public key), so each key is handed to libssh in OpenSSH's own
 * unencrypted format ("openssh-key-v1", PROTOCOL.key), built here from the
 * raw key.  Every buffer that holds the secret is wiped. */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static void put_bytes(struct wbuf *b, const void *data, size_t n)
{
	if (b->failed || b->len + n > b->cap) {
		b->failed = 1;
		return;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_u32(struct wbuf *b, uint32_t v)
{
	uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(b, be, 4);
}

static void put_string(struct wbuf *b, const void *data, size_t n)
{
	put_u32(b, (uint32_t)n);
	put_bytes(b, data, n);
}

static char *openssh_text(EVP_PKEY *pkey)
{
	static const char type[] = "ssh-ed25519";
	uint8_t seed_pub[64], pub[32], check[4];
	uint8_t blob[512], pubblob[64], priv[256];
	struct wbuf b = { blob, 0, sizeof(blob), 0 };
	struct wbuf pb = { pubblob, 0, sizeof(pubblob), 0 };
	struct wbuf vb = { priv, 0, sizeof(priv), 0 };
	size_t n = 32, m = 32, b64len, tlen;
	uint8_t b64[700];
	char *text = NULL, *w;
	uint32_t ci;

	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_private_key(pkey, seed_pub, &n) != 1 || n != 32 ||
	    EVP_PKEY_get_raw_public_key(pkey, pub, &m) != 1 || m != 32 ||
	    RAND_bytes(check, sizeof(check)) != 1)
		goto out;
	memcpy(seed_pub + 32, pub, 32);
	ci = (uint32_t)check[0] << 24 | (uint32_t)check[1] << 16 | (uint32_t)check[2] << 8 |
	     check[3];
	put_string(&pb, type, strlen(type));
	put_string(&pb, pub, 32);
	put_u32(&vb, ci);
	put_u32(&vb, ci);
	put_string(&vb, type, strlen(type));
	put_string(&vb, pub, 32);
	put_string(&vb, seed_pub, 64);
	put_string(&vb, "", 0); /* comment */
	for (uint8_t pad = 1; vb.len % 8; pad++)
		put_bytes(&vb, &pad, 1);
	put_bytes(&b, "openssh-key-v1", 15); /* with its NUL */
	put_string(&b, "none", 4);
	put_string(&b, "none", 4);
	put_string(&b, "", 0);
	put_u32(&b, 1);
	put_string(&b, pubblob, pb.len);
	put_string(&b, priv, vb.len);
	if (b.failed || pb.failed || vb.failed)
		goto out;
	b64len = (size_t)EVP_EncodeBlock(b64, blob, (int)b.len);
	tlen = strlen(OSSH_BEGIN) + b64len + b64len / 70 + 2 + strlen(OSSH_END);
	if (!(text = malloc(tlen + 1)))
		goto out;
	w = text + sprintf(text, "%s", OSSH_BEGIN);
	for (size_t off = 0; off < b64len; off += 70) {
		size_t k = b64len - off < 70 ? b64len - off : 70;
		memcpy(w, b64 + off, k);
		w += k;
		*w++ = '\n';
	}
	sprintf(w, "%s", OSSH_END);
out:
	OPENSSL_cleanse(seed_pub, sizeof(seed_pub));
	OPENSSL_cleanse(priv, sizeof(priv));
	OPENSSL_cleanse(blob, sizeof(blob));
	OPENSSL_cleanse(b64, sizeof(b64));
	return text;
}

/* A key object for an EVP key (steals pkey). */
static struct hsm_client_key *key_from_pkey(EVP_PKEY *pkey, unsigned opts, char *err, size_t errlen)
{
	struct hsm_client_key *key;
	char *text = openssh_text(pkey);

	if (!text) {
		EVP_PKEY_free(pkey);
		hsm_set_err(err, errlen, "not an Ed25519 private key");
		return NULL;
	}
	if ((key = key_from_text(text, strlen(text), pkey, err, errlen)))
		key->opts = opts;
	return key;
}

struct hsm_client_key *hsm_client_key_generate(char *err, size_t errlen)
{
	EVP_PKEY *pk = hsm_ed25519_generate(err, errlen);

	return pk ? key_from_pkey(pk, 0, err, errlen) : NULL;
}

struct hsm_client_key *hsm_client_key_from_pkey(EVP_PKEY *pkey, char *err, size_t errlen)
{
	if (!pkey || EVP_PKEY_up_ref(pkey) != 1) {
		hsm_set_err(err, errlen, "no key");
		return NULL;
	}
	return key_from_pkey(pkey, 0, err, errlen);
}

EVP_PKEY *hsm_client_key_pkey(const struct hsm_client_key *key)
{
	return key ? key->pkey : NULL;
}

unsigned hsm_client_key_options(const struct hsm_client_key *key)
{
	return key ? key->opts : 0;
}

int hsm_client_key_is_legacy(const struct hsm_client_key *key)
{
	return key && key->legacy;
}

/* Does the file start like a PEM file?  1 yes, 0 no (or unreadable: the
 * protected loader then reports why). */
static int looks_like_pem(const char *path)
{
	char head[sizeof(PEM_START) - 1];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	ssize_t r;

	if (fd < 0)
		return 0;
	r = read(fd, head, sizeof(head));
	close(fd);
	return r == (ssize_t)sizeof(head) && memcmp(head, PEM_START, sizeof(head)) == 0;
}

/* An unprotected key of an earlier version: accepted only when nobody but
 * its owner (this user or root) may read it. */
static struct hsm_client_key *load_legacy(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text;
	size_t len = 0;
	EVP_PKEY *pkey = NULL;
	struct hsm_client_key *key;
	char why[128];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* Judge the file we opened, not the path, so a swap cannot slip by. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		hsm_set_err(err, errlen, "%s: not a regular file", path);
		return NULL;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		hsm_set_err(err, errlen, "%s: owned by uid %u, not by this user or root: refused",
			    path, (unsigned)st.st_uid);
		return NULL;
	}
	if (st.st_mode & 077) {
		close(fd);
		hsm_set_err(err, errlen,
			    "%s: mode %04o lets the group or others access an unprotected key: "
			    "refused (chmod 600)",
			    path, (unsigned)(st.st_mode & 07777));
		return NULL;
	}
	if (st.st_size > LEGACY_FILE_MAX || !(text = malloc(LEGACY_FILE_MAX + 1))) {
		close(fd);
		hsm_set_err(err, errlen, "%s: larger than %d bytes", path, LEGACY_FILE_MAX);
		return NULL;
	}
	for (;;) {
		ssize_t r = read(fd, text + len, LEGACY_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r > 0 && len + (size_t)r > LEGACY_FILE_MAX)) {
			hsm_set_err(err, errlen, "%s: %s", path,
				    r < 0 ? strerror(errno) : "file too large");
			close(fd);
			OPENSSL_cleanse(text, len);
			free(text);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	text[len] = '\0';
	if (strlen(text) != len) {
		OPENSSL_cleanse(text, len);
		free(text);
		hsm_set_err(err, errlen, "%s: NUL byte in key file", path);
		return NULL;
	}
	/* A PKCS#8 key can be saved again (protected); an OpenSSH one only used. */
	if (strncmp(text, "-----BEGIN PRIVATE KEY-----", 27) == 0) {
		BIO *b = BIO_new_mem_buf(text, (int)len);
		pkey = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		OPENSSL_cleanse(text, len);
		free(text);
		key = pkey ? key_from_pkey(pkey, 0, why, sizeof(why)) : NULL;
	} else {
		key = key_from_text(text, len, NULL, why, sizeof(why));
	}
	if (!key) {
		hsm_set_err(err, errlen,
			    "%s: not a protected key file nor an unencrypted Ed25519 private key",
			    path);
		return NULL;
	}
	key->legacy = 1;
	return key;
}

/* Load a key file: protected (ctx gives the group and passphrase rules) or
 * legacy. */
static struct hsm_client_key *load_file(const char *path, const struct hsm_keyprot_ctx *ctx,
					char *err, size_t errlen)
{
	EVP_PKEY *pk;
	unsigned opts = 0;

	if (looks_like_pem(path))
		return load_legacy(path, err, errlen);
	if (!(pk = hsm_keyprot_load(path, ctx, &opts, err, errlen)))
		return NULL;
	if (EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pk);
		hsm_set_err(err, errlen, "%s: not an Ed25519 key", path);
		return NULL;
	}
	{
		char why[128];
		struct hsm_client_key *key = key_from_pkey(pk, opts, why, sizeof(why));
		if (!key)
			hsm_set_err(err, errlen, "%s: %s", path, why);
		return key;
	}
}

struct hsm_client_key *hsm_client_key_load(const char *path, char *err, size_t errlen)
{
	struct hsm_keyprot_ctx ctx = { .what = path };

	return load_file(path, &ctx, err, errlen);
}

/* The keyprot inputs of a service's key: its group, and the prompt text. */
static int service_ctx(const char *home, const char *service, struct hsm_keyprot_ctx *ctx,
		       char *group, size_t glen, char *what, size_t wlen, char *err, size_t errlen)
{
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->home = home;
	if ((rc = hsm_keyprot_group_for_service(service, group, glen, err, errlen)) < 0)
		return -1;
	snprintf(what, wlen, "the %s client key", service);
	ctx->group = group;
	/* Loading with NFAST_<SERVICE>_GROUP unset: the key keeps the group
	 * it was saved with (guide 4.8.4); saving uses the default group. */
	ctx->group_unset = rc == 1;
	ctx->what = what;
	return 0;
}

struct hsm_client_key *hsm_client_key_load_as(const char *home, const char *path,
					      const char *service, char *err, size_t errlen)
{
	struct hsm_keyprot_ctx ctx;
	char group[64], what[64];

	if (service_ctx(home, service, &ctx, group, sizeof(group), what, sizeof(what), err,
			errlen) != 0)
		return NULL;
	return load_file(path, &ctx, err, errlen);
}

int hsm_client_key_save(const struct hsm_client_key *key, const char *home, const char *path,
			const char *service, unsigned flags, char *err, size_t errlen)
{
	struct hsm_keyprot_ctx ctx;
	char group[64], what[64];
	unsigned opts;

	if (!key->pkey) {
		hsm_set_err(err, errlen,
			    "%s: an unprotected OpenSSH-format key of an earlier version cannot "
			    "be stored protected: make new keys with 'hsmadmin keys roll'",
			    path);
		return -1;
	}
	if (hsm_keyprot_for_service(service, &opts, err, errlen) != 0 ||
	    service_ctx(home, service, &ctx, group, sizeof(group), what, sizeof(what), err,
			errlen) != 0)
		return -1;
	return hsm_keyprot_save(path, key->pkey, opts, &ctx,
				(flags & HSM_CLIENT_KEY_REPLACE) ? HSM_KEYPROT_OVERWRITE : 0, err,
				errlen);
}

char *hsm_client_key_public(const struct hsm_client_key *key)
{
	ssh_key priv = hsm_client_key_ssh(key), pub = NULL;
	char buf[PUBKEY_LINE_MAX];
	char *line = NULL;

	if (priv && ssh_pki_export_privkey_to_pubkey(priv, &pub) == SSH_OK &&
	    hsm_ssh_pubkey_line(pub, buf, sizeof(buf)) == 0)
		line = strdup(buf);
	ssh_key_free(pub);
	ssh_key_free(priv);
	return line;
}

char *hsm_client_key_fingerprint(const struct hsm_client_key *key)
{
	ssh_key priv = hsm_client_key_ssh(key);
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL, *out = NULL;

	if (priv && ssh_get_publickey_hash(priv, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0)
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (fp)
		out = strdup(fp);
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(priv);
	return out;
}

int hsm_client_key_path(const char *home, const char *service, char *buf, size_t len)
{
	if (hsm_service_lookup(service) < 0)
		return -1;
	return (size_t)snprintf(buf, len, "%s/keys/client/%s", home, service) >= len ? -1 : 0;
}

struct hsm_client_key *hsm_client_key_load_service(const char *home, const char *service, char *err,
						   size_t errlen)
{
	char path[PATH_MAX];

	if (hsm_client_key_path(home, service, path, sizeof(path)) < 0) {
		hsm_set_err(err, errlen, "no client key path for service '%s'", service);
		return NULL;
	}
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		hsm_set_err(err, errlen,
			    "no %s client key on this host (%s): run 'hsmadmin enroll'", service,
			    path);
		return NULL;
	}
	return hsm_client_key_load_as(home, path, service, err, errlen);
}

int hsm_client_key_save_service(const char *home, const char *service,
				const struct hsm_client_key *key, unsigned flags, char *err,
				size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];

	if (hsm_client_key_path(home, service, path, sizeof(path)) < 0 ||
	    (size_t)snprintf(dir, sizeof(dir), "%s/keys/client", home) >= sizeof(dir)) {
		hsm_set_err(err, errlen, "no client key path for service '%s'", service);
		return -1;
	}
	if (hsm_mkdir_p(dir, 0700, err, errlen) < 0)
		return -1;
	return hsm_client_key_save(key, home, path, service, flags, err, errlen);
}

int hsm_client_keys_ensure(const char *home, int *created, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];

	*created = 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/keys/client", home) >= sizeof(dir)) {
		hsm_set_err(err, errlen, "%s: path too long", home);
		return -1;
	}
	if (hsm_mkdir_p(dir, 0700, err, errlen) < 0)
		return -1;
	for (int svc = 0; svc < HSM_SVC_COUNT; svc++) {
		struct hsm_client_key *key;
		struct stat st;
		int rc;

		hsm_client_key_path(home, hsm_service_name(svc), path, sizeof(path));
		if (lstat(path, &st) == 0)
			continue;
		if (errno != ENOENT) {
			hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (!(key = hsm_client_key_generate(err, errlen)))
			return -1;
		rc = hsm_client_key_save(key, home, path, hsm_service_name(svc), 0, err, errlen);
		hsm_client_key_free(key);
		if (rc < 0)
			return -1;
		(*created)++;
	}
	return 0;
}

/* --- public key lines ------------------------------------------------- */

#define ED25519_PREFIX "ssh-ed25519 "

ssh_key hsm_ssh_pubkey_import(const char *line)
{
	ssh_key k = NULL;
	const char *b64;

	if (!line || strncmp(line, ED25519_PREFIX, strlen(ED25519_PREFIX)) != 0 ||
	    strlen(line) >= PUBKEY_LINE_MAX)
		return NULL;
	b64 = line + strlen(ED25519_PREFIX);
	for (const char *c = b64; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '+' || *c == '/' || *c == '='))
			return NULL;
	if (ssh_pki_import_pubkey_base64(b64, SSH_KEYTYPE_ED25519, &k) != SSH_OK)
		return NULL;
	if (ssh_key_type(k) != SSH_KEYTYPE_ED25519) {
		ssh_key_free(k);
		return NULL;
	}
	return k;
}

int hsm_ssh_pubkey_line(const ssh_key key, char *buf, size_t len)
{
	char *b64 = NULL;
	int n;

	if (ssh_key_type(key) != SSH_KEYTYPE_ED25519 ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -1;
	n = snprintf(buf, len, ED25519_PREFIX "%s", b64);
	ssh_string_free_char(b64);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The SSH wire blob of an Ed25519 public key: string "ssh-ed25519",
 * string of 32 key bytes. */
#define ED25519_BLOB_LEN (4 + 11 + 4 + 32)

/* Checked by its bytes, not by importing it: a pins file holds a key per
 * service and is read for every call to that HSM, and an import (a key
 * object, an implicit OpenSSL fetch) per key was measurable per-HSM cost of
 * a fan-out (bench/fanout.sh).  An import accepts exactly these blobs: any
 * 32 bytes are an Ed25519 public key to OpenSSL and libssh.  Canonical
 * base64 only, as hsm_ssh_pubkey_line writes it. */
int hsm_ssh_pubkey_valid(const char *line)
{
	static const uint8_t head[] = { 0,   0,   0,   11,  's', 's', 'h', '-', 'e', 'd',
					'2', '5', '5', '1', '9', 0,   0,   0,   32 };
	uint8_t blob[ED25519_BLOB_LEN + 3];
	size_t n;

	if (!line || strncmp(line, ED25519_PREFIX, strlen(ED25519_PREFIX)) != 0 ||
	    strlen(line) >= PUBKEY_LINE_MAX)
		return 0;
	return hsm_base64_decode(line + strlen(ED25519_PREFIX), blob, sizeof(blob), &n) == 0 &&
	       n == ED25519_BLOB_LEN && memcmp(blob, head, sizeof(head)) == 0;
}

int hsm_ssh_pubkey_cmp(const char *a, const char *b)
{
	ssh_key ka = hsm_ssh_pubkey_import(a), kb = hsm_ssh_pubkey_import(b);
	int rc = (ka && kb) ? ssh_key_cmp(ka, kb, SSH_KEY_CMP_PUBLIC) : -1;

	ssh_key_free(ka);
	ssh_key_free(kb);
	return rc == 0 ? 0 : -1;
}

/* --- pins ---------------------------------------------------------------- */

static int pins_path(const char *home, const char *esn, char *buf, size_t len)
{
	if (!hsm_esn_valid(esn))
		return -1;
	return (size_t)snprintf(buf, len, "%s/pins/%s.json", home, esn) >= len ? -1 : 0;
}

void hsm_pins_clear(struct hsm_pins *pins)
{
	free(pins->identity_key);
	for (int i = 0; i < HSM_SVC_COUNT; i++)
		free(pins->host_keys[i]);
	memset(pins, 0, sizeof(*pins));
}

static int pins_from_json(const json_t *doc, const char *esn, struct hsm_pins *pins, char *err,
			  size_t errlen)
{
	const char *file_esn, *identity, *svc;
	json_t *keys, *val;
	json_int_t pinned;
	int recovery = 0;
	char jwhy[256];

	/* recovery is optional: pins written before it existed, and those of
	 * a primary-mode enrollment, have none (strict). */
	if (hsm_json_unpack((json_t *)doc, JSON_STRICT, jwhy, sizeof(jwhy),
			    "{s:s, s:s, s:o, s:I, s?b}", "esn", &file_esn, "identity_key",
			    &identity, "host_keys", &keys, "pinned", &pinned, "recovery",
			    &recovery) < 0) {
		hsm_set_err(err, errlen, "%s", jwhy);
		return -1;
	}
	if (strcmp(file_esn, esn) != 0) {
		hsm_set_err(err, errlen, "holds the pins of ESN '%.20s'", file_esn);
		return -1;
	}
	if (!hsm_ssh_pubkey_valid(identity) || !json_is_object(keys)) {
		hsm_set_err(err, errlen, "malformed identity_key or host_keys");
		return -1;
	}
	memcpy(pins->esn, esn, HSM_ESN_LEN + 1);
	pins->pinned = pinned;
	pins->recovery = recovery != 0;
	if (!(pins->identity_key = strdup(identity)))
		goto oom;
	json_object_foreach(keys, svc, val)
	{
		int s = hsm_service_lookup(svc);
		if (s < 0 || !json_is_string(val) ||
		    !hsm_ssh_pubkey_valid(json_string_value(val))) {
			hsm_set_err(err, errlen, "host_keys: bad entry '%.20s'", svc);
			return -1;
		}
		if (!(pins->host_keys[s] = strdup(json_string_value(val))))
			goto oom;
	}
	return 0;
oom:
	hsm_set_err(err, errlen, "out of memory");
	return -1;
}

int hsm_pins_load(const char *home, const char *esn, struct hsm_pins *pins, char *err,
		  size_t errlen)
{
	char path[PATH_MAX], why[256];
	struct stat st;
	json_t *doc;
	int rc;

	memset(pins, 0, sizeof(*pins));
	if (pins_path(home, esn, path, sizeof(path)) < 0) {
		hsm_set_err(err, errlen, "bad ESN or path for pins");
		return -1;
	}
	if (stat(path, &st) < 0 && errno == ENOENT)
		return 1;
	if (!(doc = hsm_json_load_file(path, PINS_FILE_MAX, err, errlen)))
		return -1;
	rc = pins_from_json(doc, esn, pins, why, sizeof(why));
	json_decref(doc);
	if (rc < 0) {
		hsm_pins_clear(pins);
		hsm_set_err(err, errlen, "%s: %s", path, why);
	}
	return rc;
}

int hsm_pins_save(const char *home, const struct hsm_pins *pins, char *err, size_t errlen)
{
	char path[PATH_MAX], dir[PATH_MAX];
	json_t *doc, *keys;
	int rc;

	if (pins_path(home, pins->esn, path, sizeof(path)) < 0 ||
	    (size_t)snprintf(dir, sizeof(dir), "%s/pins", home) >= sizeof(dir)) {
		hsm_set_err(err, errlen, "bad ESN or path for pins");
		return -1;
	}
	if (hsm_mkdir_p(dir, 0700, err, errlen) < 0)
		return -1;
	keys = json_object();
	for (int i = 0; i < HSM_SVC_COUNT; i++)
		if (pins->host_keys[i])
			json_object_set_new(keys, hsm_service_name(i),
					    json_string(pins->host_keys[i]));
	doc = json_pack("{s:s, s:s, s:o, s:I}", "esn", pins->esn, "identity_key",
			pins->identity_key ? pins->identity_key : "", "host_keys", keys, "pinned",
			(json_int_t)pins->pinned);
	/* Written only when set, so that the pins of a primary-mode
	 * enrollment stay readable by earlier versions. */
	if (doc && pins->recovery)
		json_object_set_new(doc, "recovery", json_true());
	if (!doc) {
		hsm_set_err(err, errlen, "cannot build the pins document");
		return -1;
	}
	rc = hsm_write_json_atomic(path, doc, 0644, err, errlen);
	json_decref(doc);
	return rc;
}

int hsm_pins_remove(const char *home, const char *esn, char *err, size_t errlen)
{
	char path[PATH_MAX], dir[PATH_MAX];

	if (pins_path(home, esn, path, sizeof(path)) < 0 ||
	    (size_t)snprintf(dir, sizeof(dir), "%s/pins", home) >= sizeof(dir)) {
		hsm_set_err(err, errlen, "bad ESN or path for pins");
		return -1;
	}
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return hsm_fsync_dir(dir, err, errlen);
}
