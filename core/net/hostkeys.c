/*
 * core/net/hostkeys.c - client key store and host key pins.
 *
 * Client keys are kept in OpenSSH's unencrypted private key format written
 * by ssh_pki_export_privkey_base64: loading it costs microseconds, where
 * ssh_pki_export_privkey_file would use the umask and bcrypt
 * (../shared/PITFALLS.md).  Protection at rest comes with the keys issue,
 * behind this same API.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <hsmadmin/fileio.h>

#include "hostkeys-ssh.h"

/* A private key file is a few hundred bytes. */
#define KEY_FILE_MAX 16384
#define PINS_FILE_MAX 65536
#define PUBKEY_LINE_MAX 256

struct hsm_client_key {
	char *text;     /* the private key file's content */
	size_t len;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) HSM_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void hsm_client_key_free(struct hsm_client_key *key)
{
	if (!key)
		return;
	if (key->text) {
		OPENSSL_cleanse(key->text, key->len);
		free(key->text);
	}
	free(key);
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

/* Take ownership of text if it holds an Ed25519 private key. */
static struct hsm_client_key *key_from_text(char *text, size_t len, char *err, size_t errlen)
{
	struct hsm_client_key *key = calloc(1, sizeof(*key));
	ssh_key k;

	if (!key) {
		OPENSSL_cleanse(text, len);
		free(text);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	key->text = text;
	key->len = len;
	if (!(k = hsm_client_key_ssh(key))) {
		hsm_client_key_free(key);
		set_err(err, errlen, "not an unencrypted Ed25519 private key");
		return NULL;
	}
	ssh_key_free(k);
	return key;
}

struct hsm_client_key *hsm_client_key_generate(char *err, size_t errlen)
{
	ssh_key k = NULL;
	char *b64 = NULL, *text;
	int rc;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &k) != SSH_OK) {
		set_err(err, errlen, "cannot generate an Ed25519 key");
		return NULL;
	}
	rc = ssh_pki_export_privkey_base64(k, NULL, NULL, NULL, &b64);
	ssh_key_free(k);
	if (rc != SSH_OK || !b64) {
		set_err(err, errlen, "cannot export the new key");
		return NULL;
	}
	text = strdup(b64);
	OPENSSL_cleanse(b64, strlen(b64));
	ssh_string_free_char(b64);
	if (!text) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	return key_from_text(text, strlen(text), err, errlen);
}

struct hsm_client_key *hsm_client_key_load(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* Judge the file we opened, not the path, so a swap cannot slip by. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		set_err(err, errlen, "%s: not a regular file", path);
		return NULL;
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		set_err(err, errlen, "%s: owned by uid %u, not by this user", path, (unsigned)st.st_uid);
		return NULL;
	}
	if (st.st_mode & 077) {
		close(fd);
		set_err(err, errlen, "%s: permissions %04o are too open: group and others must have none (chmod 600)",
			path, (unsigned)(st.st_mode & 07777));
		return NULL;
	}
	if (st.st_size > KEY_FILE_MAX || !(text = malloc(KEY_FILE_MAX + 1))) {
		close(fd);
		set_err(err, errlen, "%s: larger than %d bytes", path, KEY_FILE_MAX);
		return NULL;
	}
	for (;;) {
		ssize_t r = read(fd, text + len, KEY_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r > 0 && len + (size_t)r > KEY_FILE_MAX)) {
			set_err(err, errlen, "%s: %s", path, r < 0 ? strerror(errno) : "file too large");
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
		set_err(err, errlen, "%s: NUL byte in key file", path);
		return NULL;
	}
	{
		char why[128];
		struct hsm_client_key *key = key_from_text(text, len, why, sizeof(why));
		if (!key)
			set_err(err, errlen, "%s: %s", path, why);
		return key;
	}
}

static int dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return snprintf(dir, len, ".") >= (int)len ? -1 : 0;
	if ((size_t)(slash - path) + 1 > len)
		return -1;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!*dir)
		snprintf(dir, len, "/");
	return 0;
}

/* Write to a private temporary file, then link() it into place: the key
 * appears whole or not at all, and an existing key is never replaced. */
int hsm_client_key_save(const struct hsm_client_key *key, const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t off = 0;
	int fd, rc = -1;

	if (dir_of(path, dir, sizeof(dir)) < 0 ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp)) {
		set_err(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		set_err(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) < 0)
		goto out;
	while (off < key->len) {
		ssize_t w = write(fd, key->text + off, key->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto out;
	if (link(tmp, path) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		set_err(err, errlen, "%s: %s", path, strerror(errno));
	close(fd);
	unlink(tmp);
	if (rc == 0 && hsm_fsync_dir(dir, err, errlen) < 0)
		rc = -1;
	return rc;
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

struct hsm_client_key *hsm_client_key_load_service(const char *home, const char *service,
						   char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (hsm_client_key_path(home, service, path, sizeof(path)) < 0) {
		set_err(err, errlen, "no client key path for service '%s'", service);
		return NULL;
	}
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		set_err(err, errlen, "no %s client key on this host (%s): run 'hsmadmin enroll'",
			service, path);
		return NULL;
	}
	return hsm_client_key_load(path, err, errlen);
}

int hsm_client_keys_ensure(const char *home, int *created, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];

	*created = 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/keys/client", home) >= sizeof(dir)) {
		set_err(err, errlen, "%s: path too long", home);
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
			set_err(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (!(key = hsm_client_key_generate(err, errlen)))
			return -1;
		rc = hsm_client_key_save(key, path, err, errlen);
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

int hsm_ssh_pubkey_valid(const char *line)
{
	ssh_key k = hsm_ssh_pubkey_import(line);

	ssh_key_free(k);
	return k != NULL;
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

static int pins_from_json(const json_t *doc, const char *esn, struct hsm_pins *pins,
			  char *err, size_t errlen)
{
	const char *file_esn, *identity, *svc;
	json_t *keys, *val;
	json_int_t pinned;
	json_error_t jerr;

	if (json_unpack_ex((json_t *)doc, &jerr, JSON_STRICT, "{s:s, s:s, s:o, s:I}",
			   "esn", &file_esn, "identity_key", &identity, "host_keys", &keys,
			   "pinned", &pinned) < 0) {
		set_err(err, errlen, "%s", jerr.text);
		return -1;
	}
	if (strcmp(file_esn, esn) != 0) {
		set_err(err, errlen, "holds the pins of ESN '%.20s'", file_esn);
		return -1;
	}
	if (!hsm_ssh_pubkey_valid(identity) || !json_is_object(keys)) {
		set_err(err, errlen, "malformed identity_key or host_keys");
		return -1;
	}
	memcpy(pins->esn, esn, HSM_ESN_LEN + 1);
	pins->pinned = pinned;
	if (!(pins->identity_key = strdup(identity)))
		goto oom;
	json_object_foreach(keys, svc, val) {
		int s = hsm_service_lookup(svc);
		if (s < 0 || !json_is_string(val) || !hsm_ssh_pubkey_valid(json_string_value(val))) {
			set_err(err, errlen, "host_keys: bad entry '%.20s'", svc);
			return -1;
		}
		if (!(pins->host_keys[s] = strdup(json_string_value(val))))
			goto oom;
	}
	return 0;
oom:
	set_err(err, errlen, "out of memory");
	return -1;
}

int hsm_pins_load(const char *home, const char *esn, struct hsm_pins *pins, char *err, size_t errlen)
{
	char path[PATH_MAX], why[256];
	struct stat st;
	json_t *doc;
	int rc;

	memset(pins, 0, sizeof(*pins));
	if (pins_path(home, esn, path, sizeof(path)) < 0) {
		set_err(err, errlen, "bad ESN or path for pins");
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
		set_err(err, errlen, "%s: %s", path, why);
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
		set_err(err, errlen, "bad ESN or path for pins");
		return -1;
	}
	if (hsm_mkdir_p(dir, 0700, err, errlen) < 0)
		return -1;
	keys = json_object();
	for (int i = 0; i < HSM_SVC_COUNT; i++)
		if (pins->host_keys[i])
			json_object_set_new(keys, hsm_service_name(i), json_string(pins->host_keys[i]));
	doc = json_pack("{s:s, s:s, s:o, s:I}", "esn", pins->esn, "identity_key",
			pins->identity_key ? pins->identity_key : "", "host_keys", keys,
			"pinned", (json_int_t)pins->pinned);
	if (!doc) {
		set_err(err, errlen, "cannot build the pins document");
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
		set_err(err, errlen, "bad ESN or path for pins");
		return -1;
	}
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return hsm_fsync_dir(dir, err, errlen);
}
