/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tenant-keys.c - the tenant's own keys and the files the tenant writes.
 *
 * The request-signing key is made on the first `vcm create` and then used
 * for every later request (guide 4.10.1.16.1); losing or replacing it locks
 * the tenant out of their VCMs' start and setproperties requests, so an
 * existing key is never overwritten.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "keyprot.h"
#include "sign.h"
#include "vcm.h"

/* The key protection service a tenant key is stored under (guide 4.8):
 * the request key as "tenantreq" (NFAST_TENANTREQ_KEYPROT,
 * NFAST_TENANTREQ_GROUP), the VCM sshadmin key as "sshadmin". */
static const char *protection_service(const char *name)
{
	return strcmp(name, VCM_REQUEST_KEY) == 0 ? "tenantreq" : "sshadmin";
}

/* The inputs of a tenant key's protection; group and what are the
 * caller's buffers. */
static int protection_ctx(struct hsm_ctx *ctx, const char *name, struct hsm_keyprot_ctx *kp,
			  char *group, size_t glen, char *what, size_t wlen)
{
	char err[256];
	int rc;

	memset(kp, 0, sizeof(*kp));
	if ((rc = hsm_keyprot_group_for_service(protection_service(name), group, glen, err,
						sizeof(err))) < 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "tenant keys", "%s", err);
	kp->home = hsm_home(ctx);
	kp->group = group;
	/* With NFAST_<SERVICE>_GROUP unset a key keeps the group it was saved
	 * with (guide 4.8.4); saving uses the default group. */
	kp->group_unset = rc == 1;
	snprintf(what, wlen, "the tenant's %s key", name);
	kp->what = what;
	return 0;
}

/* A key file as written before protection (PKCS#8 PEM) keeps working. */
static int is_legacy_pem(const char *path)
{
	char head[11] = { 0 };
	FILE *f = fopen(path, "re");
	int legacy = 0;

	if (f) {
		legacy = fread(head, 1, 10, f) == 10 && strncmp(head, "-----BEGIN", 10) == 0;
		fclose(f);
	}
	return legacy;
}

char *vcm_tenant_path(struct hsm_ctx *ctx, const char *name, const char *suffix)
{
	const char *home = hsm_home(ctx);
	size_t n = strlen(home) + strlen(VCM_TENANT_DIR) + strlen(name) + strlen(suffix) + 3;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s/%s%s", home, VCM_TENANT_DIR, name, suffix);
	return p;
}

/* The key directory must be ours and closed to others: whoever can write
 * to it can swap the tenant's keys. */
static int check_key_dir(struct hsm_ctx *ctx, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "%s: %s", dir,
				 strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "%s: not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return hsm_error(
		    ctx, HSM_EXIT_FAILED, "tenant keys",
		    "%s: refusing a key directory owned by another user or writable by others "
		    "(mode %04o); chmod 700 it",
		    dir, (unsigned)(st.st_mode & 07777));
	/* A key a writer killed mid-write left in a temporary file goes
	 * before the keys are used. */
	hsm_remove_stale_temps(dir, NULL);
	return HSM_EXIT_OK;
}

static int write_public(struct hsm_ctx *ctx, const char *name, EVP_PKEY *key)
{
	char err[512], *path = vcm_tenant_path(ctx, name, ".pub"), *line = hsm_key_to_openssh(key);
	size_t n;
	int rc = HSM_EXIT_OK;

	if (!path || !line) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "out of memory");
	} else {
		n = strlen(line);
		line[n] = '\n'; /* replaces the NUL; we pass the length */
		if (hsm_write_file_atomic(path, line, n + 1, 0644, err, sizeof(err)) != 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "%s", err);
	}
	free(path);
	free(line);
	return rc;
}

int vcm_tenant_key(struct hsm_ctx *ctx, const char *name, int create, struct vcm_key *out)
{
	char err[512], *dir = NULL;
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	out->path = vcm_tenant_path(ctx, name, ".key");
	if (!out->path)
		return hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "out of memory");
	dir = strdup(out->path);
	if (!dir)
		return hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "out of memory");
	*strrchr(dir, '/') = '\0';

	if (lstat(out->path, &st) == 0 || errno != ENOENT) {
		rc = check_key_dir(ctx, dir);
		if (rc == HSM_EXIT_OK && is_legacy_pem(out->path)) {
			out->key = hsm_key_load_private(out->path, err, sizeof(err));
		} else if (rc == HSM_EXIT_OK) {
			struct hsm_keyprot_ctx kp;
			char group[64], what[64];

			if ((rc = protection_ctx(ctx, name, &kp, group, sizeof(group), what,
						 sizeof(what))) == 0)
				out->key = hsm_keyprot_load(out->path, &kp, NULL, err, sizeof(err));
		}
		if (rc == HSM_EXIT_OK && !out->key)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "%s", err);
		free(dir);
		return rc;
	}
	if (!create) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys",
			       "no tenant request-signing key (%s): 'hsmadmin vcm create' makes it",
			       out->path);
		free(dir);
		return rc;
	}
	if (hsm_mkdir_p(dir, 0700, err, sizeof(err)) != 0) {
		free(dir);
		return hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "%s", err);
	}
	rc = check_key_dir(ctx, dir);
	free(dir);
	if (rc != HSM_EXIT_OK)
		return rc;
	{
		struct hsm_keyprot_ctx kp;
		char group[64], what[64];
		unsigned opts;

		if ((rc = protection_ctx(ctx, name, &kp, group, sizeof(group), what,
					 sizeof(what))) != 0)
			return rc;
		if (hsm_keyprot_for_service(protection_service(name), &opts, err, sizeof(err)) != 0)
			return hsm_error(ctx, HSM_EXIT_USAGE, "tenant keys", "%s", err);
		out->key = hsm_ed25519_generate(err, sizeof(err));
		if (!out->key)
			return hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "%s", err);
		if (hsm_keyprot_save(out->path, out->key, opts, &kp, 0, err, sizeof(err)) != 0)
			return hsm_error(ctx, HSM_EXIT_FAILED, "tenant keys", "%s", err);
	}
	out->generated = 1;
	hsm_verbosef(ctx, "generated %s", out->path);
	return write_public(ctx, name, out->key);
}

void vcm_key_release(struct vcm_key *k)
{
	EVP_PKEY_free(k->key);
	free(k->path);
	memset(k, 0, sizeof(*k));
}

/* An existing file is never touched, and of two writers one wins; the
 * message says what to do about it. */
int vcm_write_new_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
		       size_t errlen)
{
	hsm_remove_stale_temps_of(path);
	if (hsm_write_file_ex(path, data, len, mode, (gid_t)-1, HSM_WRITE_NOREPLACE, err, errlen) ==
	    0)
		return 0;
	if (errno == EEXIST)
		snprintf(err, errlen, "%s: already exists; remove it or choose another file name",
			 path);
	return -1;
}
