/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/enrollsecret-file.c - parsing the files of HSMs' one-time
 * enrollment secrets (enrollsecret-file.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <hsmadmin/fileio.h>
#include "enrollsecret-file.h"

int hsm_enroll_secret_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > HSM_ENROLL_SECRET_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= 'a' && *s <= 'z') || *s == '-'))
			return 0;
	return 1;
}

const char *hsm_enroll_secret_for(const struct hsm_enroll_secret *list, size_t count,
				  const char *esn)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(list[i].esn, esn) == 0)
			return list[i].secret;
	return NULL;
}

void hsm_enroll_secrets_free(struct hsm_enroll_secret *list, size_t count)
{
	if (list)
		OPENSSL_cleanse(list, count * sizeof(*list));
	free(list);
}

/* One non-comment line: "ESN SECRET" with one or more blanks between. */
static int parse_line(const char *line, size_t n, struct hsm_enroll_secret *out)
{
	char esn[HSM_ESN_LEN + 2], secret[HSM_ENROLL_SECRET_MAX + 2];
	size_t i = 0, a, b;

	while (i < n && line[i] != ' ' && line[i] != '\t')
		i++;
	a = i;
	if (a == 0 || a >= sizeof(esn))
		return -1;
	memcpy(esn, line, a);
	esn[a] = '\0';
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	b = n - i;
	while (b && (line[i + b - 1] == ' ' || line[i + b - 1] == '\t' || line[i + b - 1] == '\r'))
		b--;
	if (b == 0 || b >= sizeof(secret))
		return -1;
	memcpy(secret, line + i, b);
	secret[b] = '\0';
	if (hsm_esn_normalize(esn, out->esn) != 0 || !hsm_enroll_secret_valid(secret)) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return -1;
	}
	memcpy(out->secret, secret, b + 1);
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

int hsm_enroll_secrets_parse(const char *text, size_t len, struct hsm_enroll_secret **list,
			     size_t *count, char *err, size_t errlen)
{
	size_t pos = 0, lineno = 0;

	if (len > HSM_ENROLL_SECRETS_FILE_MAX)
		return hsm_set_err(err, errlen, "larger than %d bytes",
				   HSM_ENROLL_SECRETS_FILE_MAX);
	if (memchr(text, '\0', len))
		return hsm_set_err(err, errlen, "holds a NUL byte: not a text file");
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct hsm_enroll_secret e, *grown;
		const char *have;

		lineno++;
		if (n == 0 || text[pos] == '#' || (n == 1 && text[pos] == '\r')) {
			pos += n + 1;
			continue;
		}
		if (parse_line(text + pos, n, &e) != 0) {
			OPENSSL_cleanse(&e, sizeof(e));
			return hsm_set_err(err, errlen,
					   "line %zu: not \"ESN SECRET\" (an ESN like "
					   "1A23-BC45-6789, then 1-64 letters, digits or '-')",
					   lineno);
		}
		pos += n + 1;
		have = hsm_enroll_secret_for(*list, *count, e.esn);
		if (have) {
			int same = strlen(have) == strlen(e.secret) &&
				   CRYPTO_memcmp(have, e.secret, strlen(have)) == 0;
			OPENSSL_cleanse(e.secret, sizeof(e.secret));
			if (!same)
				return hsm_set_err(err, errlen,
						   "line %zu: a second, different secret for %s",
						   lineno, e.esn);
			continue;
		}
		grown = realloc(*list, (*count + 1) * sizeof(*grown));
		if (!grown) {
			OPENSSL_cleanse(&e, sizeof(e));
			return hsm_set_err(err, errlen, "out of memory");
		}
		*list = grown;
		grown[(*count)++] = e;
		OPENSSL_cleanse(&e, sizeof(e));
	}
	return 0;
}
