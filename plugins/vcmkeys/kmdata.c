/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kmdata.c - the tenant's key-management directory (docs/formats/world.md):
 * where the world file and key blobs live, written as new files only, and
 * the passphrases of administrator cards.
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

#include <hsmadmin/fileio.h>
#include "sign.h"
#include "tty-prompt.h"
#include "vcmkeys.h"

int km_dir(struct hsm_ctx *ctx, char *buf, size_t len, int create)
{
	const char *env = secure_getenv("NFAST_KMDATA");
	char err[512];
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else
		n = snprintf(buf, len, "%s/kmdata", hsm_home(ctx));
	if (n < 0 || (size_t)n >= len)
		return hsm_error(ctx, HSM_EXIT_USAGE, "kmdata", "path too long");
	if (create && hsm_mkdir_p(buf, 0700, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "kmdata", "%s", err);
	/* What a writer killed mid-write left (key blobs, cards) goes before
	 * anything is written here. */
	if (create)
		hsm_remove_stale_temps(buf, NULL);
	return 0;
}

int km_path(struct hsm_ctx *ctx, const char *file, char *buf, size_t len, int create)
{
	char dir[4096];
	int rc = km_dir(ctx, dir, sizeof(dir), create);

	if (rc)
		return rc;
	if ((size_t)snprintf(buf, len, "%s/%s", dir, file) >= len)
		return hsm_error(ctx, HSM_EXIT_USAGE, "kmdata", "path too long");
	return 0;
}

int km_write_new(const char *path, const json_t *doc, mode_t mode, char *err, size_t errlen)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS), *t;
	size_t len;
	int rc;

	if (!text)
		return hsm_set_err(err, errlen, "%s: out of memory", path);
	len = strlen(text);
	/* End with a newline (json_dumps allocates exactly len + 1 bytes). */
	if (!(t = realloc(text, len + 2))) {
		free(text);
		return hsm_set_err(err, errlen, "%s: out of memory", path);
	}
	text = t;
	text[len++] = '\n';
	/* An existing world or key is never replaced; a card written outside
	 * kmdata gets its own leftovers removed. */
	hsm_remove_stale_temps_of(path);
	rc = hsm_write_file_ex(path, text, len, mode, (gid_t)-1, HSM_WRITE_NOREPLACE, err, errlen);
	if (rc < 0 && errno == EEXIST)
		hsm_set_err(err, errlen, "%s: already exists", path);
	free(text);
	return rc == 0 ? 0 : -1;
}

int km_world_load(struct hsm_ctx *ctx, json_t **doc)
{
	char path[4200], err[600];
	struct stat st;

	*doc = NULL;
	if (km_path(ctx, "world", path, sizeof(path), 0) != 0)
		return -1;
	if (stat(path, &st) != 0 && errno == ENOENT)
		return 1;
	if (!(*doc = hsm_json_load_file(path, KM_FILE_MAX, err, sizeof(err)))) {
		hsm_error(ctx, HSM_EXIT_USAGE, path, "%s", err);
		return -1;
	}
	return 0;
}

int vk_ncore(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, const char *method,
	     json_t *params, struct hsm_rpc_reply *r)
{
	memset(r, 0, sizeof(*r));
	hsm_tenant_call(ctx, v, HSM_TENANT_NCOREAPI, method, params, r);
	json_decref(params);
	if (r->exit != 0)
		return hsm_error(ctx, r->exit, v->uuid, "%s", r->message);
	return 0;
}

int vk_passphrase(struct hsm_ctx *ctx, size_t i, const char *prompt, int confirm, char **out)
{
	char err[512], *data = NULL, *nl, a[HSM_WORLD_PASS_MAX + 2], b[HSM_WORLD_PASS_MAX + 2];
	size_t len = 0;
	int fd;

	*out = NULL;
	if (hsm_opt_count(ctx, "passphrase-file") > 0) {
		const char *f = hsm_opt_str_at(ctx, "passphrase-file", i);

		if (!f)
			return hsm_error(ctx, HSM_EXIT_USAGE, "--passphrase-file",
					 "one file per card: %zu given, card %zu has none",
					 hsm_opt_count(ctx, "passphrase-file"), i + 1);
		if (hsm_read_file(f, HSM_WORLD_PASS_MAX + 2, &data, &len, err, sizeof(err)) != 0)
			return hsm_error(ctx, HSM_EXIT_USAGE, f, "%s", err);
		if ((nl = memchr(data, '\n', len)))
			*nl = '\0';
		if (!data[0] || strlen(data) > HSM_WORLD_PASS_MAX) {
			OPENSSL_clear_free(data, len + 1);
			return hsm_error(ctx, HSM_EXIT_USAGE, f,
					 "the passphrase on its first line must be 1-%d bytes",
					 HSM_WORLD_PASS_MAX);
		}
		*out = data;
		return 0;
	}
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "passphrase",
				 "no terminal to ask on: give --passphrase-file for each card");
	/* Echo off, and the terminal restored even if a signal ends the
	 * command at the prompt (tty-prompt.h).  Too long a line reads as
	 * empty: refused below. */
	b[0] = '\0';
	hsm_tty_prompt_hidden(fd, prompt, a, sizeof(a));
	if (confirm && a[0])
		hsm_tty_prompt_hidden(fd, "Again: ", b, sizeof(b));
	close(fd);
	if (!a[0] || strlen(a) > HSM_WORLD_PASS_MAX || (confirm && strcmp(a, b) != 0)) {
		const char *why = a[0] && strlen(a) <= HSM_WORLD_PASS_MAX ? "the two entries differ"
									  : "1-1023 bytes needed";
		OPENSSL_cleanse(a, sizeof(a));
		OPENSSL_cleanse(b, sizeof(b));
		return hsm_error(ctx, HSM_EXIT_USAGE, "passphrase", "%s", why);
	}
	*out = strdup(a);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return *out ? 0 : hsm_error(ctx, HSM_EXIT_FAILED, "passphrase", "out of memory");
}
