/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enrollsecret.c - the one-time enrollment secret of a factory-state HSM
 * (see enrollsecret.h for why it exists).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <hsmadmin/fileio.h>
#include "enrollsecret.h"
#include "hsmd.h"

/* Crockford's base32: no I, L, O or U, so a secret read aloud or copied
 * by hand is not mistaken. */
static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void path_of(const char *dir, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, HD_ENROLL_SECRET_FILE);
}

int hd_enroll_secret_normalize(const char *s, char out[33])
{
	size_t n = 0;

	if (!s)
		return -1;
	for (; *s; s++) {
		char c = *s;
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!strchr(ALPHABET, c) || c == '\0' || n >= 32)
			return -1;
		out[n++] = c;
	}
	if (n != 32)
		return -1;
	out[32] = '\0';
	return 0;
}

int hd_enroll_secret_new(const char *dir, const char *esn, char *out, size_t outlen, char *err,
			 size_t errlen)
{
	unsigned char raw[20];
	char secret[HD_ENROLL_SECRET_LEN + 1], line[128], path[4200];
	size_t o = 0;
	int n, rc;

	if (outlen < sizeof(secret))
		return hsm_set_err(err, errlen, "internal: secret buffer too small");
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return hsm_set_err(err, errlen, "no random bytes for the enrollment secret");
	/* 160 bits, 5 at a time, most significant first. */
	for (int bit = 0; bit < 160; bit += 5) {
		unsigned v = 0;
		for (int b = 0; b < 5; b++)
			v = (v << 1) | ((raw[(bit + b) / 8] >> (7 - (bit + b) % 8)) & 1u);
		if (bit && bit % 20 == 0)
			secret[o++] = '-';
		secret[o++] = ALPHABET[v];
	}
	secret[o] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	n = snprintf(line, sizeof(line), "%s %s\n", esn, secret);
	path_of(dir, path, sizeof(path));
	rc = n > 0 && (size_t)n < sizeof(line)
		 ? hsm_write_file_atomic(path, line, (size_t)n, 0600, err, errlen)
		 : hsm_set_err(err, errlen, "ESN too long");
	OPENSSL_cleanse(line, sizeof(line));
	if (rc == 0)
		memcpy(out, secret, sizeof(secret));
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

/* The stored secret, normalised; 0, or -1 when there is none usable. */
static int stored_secret(const char *dir, char out[33])
{
	char path[4200], *text = NULL, *sp, inner[HD_ERRLEN];
	size_t len = 0;
	int rc;

	path_of(dir, path, sizeof(path));
	if (hsm_read_file(path, 256, &text, &len, inner, sizeof(inner)) != 0)
		return -1;
	sp = memchr(text, ' ', len);
	if (sp && len && text[len - 1] == '\n')
		text[len - 1] = '\0';
	rc = sp && memchr(text, '\0', len) == text + len - 1
		 ? hd_enroll_secret_normalize(sp + 1, out)
		 : -1;
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int hd_enroll_secret_sync(const char *dir, const char *esn, int factory, char *err, size_t errlen)
{
	char path[4200], have[33], secret[HD_ENROLL_SECRET_LEN + 1];

	path_of(dir, path, sizeof(path));
	if (!factory) {
		if (unlink(path) != 0 && errno != ENOENT)
			return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (stored_secret(dir, have) == 0) {
		OPENSSL_cleanse(have, sizeof(have));
		hd_log("%s is in factory state: its one-time enrollment secret is in %s", esn,
		       path);
		return 0;
	}
	if (hd_enroll_secret_new(dir, esn, secret, sizeof(secret), err, errlen) != 0)
		return -1;
	/* The emulated device's console: only its owner sees it. */
	hd_log("%s is in factory state: one-time enrollment secret %s (also in %s until enrolled)",
	       esn, secret, path);
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

int hd_enroll_secret_check(const char *dir, const char *given)
{
	char want[33], got[33];
	int same;

	if (hd_enroll_secret_normalize(given, got) != 0)
		return 0;
	if (stored_secret(dir, want) != 0) {
		OPENSSL_cleanse(got, sizeof(got));
		return 0;
	}
	same = CRYPTO_memcmp(want, got, 32) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	OPENSSL_cleanse(got, sizeof(got));
	return same;
}
