/* SPDX-License-Identifier: Apache-2.0 */
/*
 * images.c - firmware images: images.json, installing a package into an
 * image directory while it streams, and checking an image at boot.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <hsmadmin/fileio.h>
#include "hsmd.h"
#include "images.h"
#include "sign.h"

/* What a development HSM reports (guide 4.1: primary, recovery, uboot). */
#define DEV_FIRMWARE_PRIMARY "13.6.3"
#define DEV_FIRMWARE_RECOVERY "13.6.3"
#define DEV_FIRMWARE_UBOOT "2023.04-nshield"
#define DEV_FIRMWARE_VSN 7

#define IMAGES_MAX 65536
#define IO_CHUNK (256 * 1024)

static const char *const slots[] = { "primary", "recovery", "bootloader", "previous", NULL };

void hd_crash_point(const char *point)
{
	const char *at = secure_getenv("HSMD_CRASH_AT");

	if (at && strcmp(at, point) == 0) {
		hd_log("crash point %s: SIGKILL", point);
		raise(SIGKILL);
	}
}

json_t *hd_images_development(void)
{
	return json_pack(
	    "{s:i, s:{s:n, s:b, s:s, s:i}, s:{s:n, s:b, s:s, s:i}, s:{s:n, s:b, s:s, s:b}, "
	    "s:n, s:b}",
	    "version", HD_IMAGES_VERSION, "primary", "id", "development", 1, "version",
	    DEV_FIRMWARE_PRIMARY, "vsn", DEV_FIRMWARE_VSN, "recovery", "id", "development", 1,
	    "version", DEV_FIRMWARE_RECOVERY, "vsn", DEV_FIRMWARE_VSN, "bootloader", "id",
	    "development", 1, "version", DEV_FIRMWARE_UBOOT, "revokes_older", 0, "previous",
	    "trial", 0);
}

static int id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n != 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int image_validate(const json_t *img, const char *slot, char *err, size_t errlen)
{
	static const char *const img_keys[] = {
		"id", "development", "version", "vsn", "revokes_older", "installed", "size", NULL
	};
	int boot = strcmp(slot, "bootloader") == 0, bad = 0;
	json_t *id, *dev, *ver, *vsn, *rev;
	char where[32];

	snprintf(where, sizeof(where), "%s.", slot);
	if (!json_is_object(img))
		return hsm_set_err(err, errlen, "%s: must be an object", slot);
	if (hsm_json_only_keys(img, where, img_keys, err, errlen) != 0)
		return -1;
	id = json_object_get(img, "id");
	dev = hsm_json_member(img, where, "development", JSON_TRUE, 1, &bad, err, errlen);
	ver = hsm_json_member(img, where, "version", JSON_STRING, 1, &bad, err, errlen);
	vsn = hsm_json_member(img, where, "vsn", JSON_INTEGER, !boot, &bad, err, errlen);
	rev = hsm_json_member(img, where, "revokes_older", JSON_TRUE, boot, &bad, err, errlen);
	hsm_json_member(img, where, "installed", JSON_INTEGER, 0, &bad, err, errlen);
	hsm_json_member(img, where, "size", JSON_INTEGER, 0, &bad, err, errlen);
	if (bad)
		return -1;
	if ((boot && vsn) || (!boot && rev))
		return hsm_set_err(err, errlen,
				   "%s: vsn is for images, revokes_older for the bootloader", slot);
	if (json_is_true(dev) ? !json_is_null(id)
			      : !(json_is_string(id) && id_valid(json_string_value(id))))
		return hsm_set_err(
		    err, errlen, "%s.id: must be null for a development image, else 32 hex digits",
		    slot);
	if (json_string_length(ver) < 1 || json_string_length(ver) > 32)
		return hsm_set_err(err, errlen, "%s.version: 1 to 32 characters", slot);
	for (const char *p = json_string_value(ver); *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return hsm_set_err(err, errlen, "%s.version: printable characters only",
					   slot);
	if (vsn && (json_integer_value(vsn) < 1 || json_integer_value(vsn) > HSM_NPKG_VSN_MAX))
		return hsm_set_err(err, errlen, "%s.vsn: 1 to %d", slot, HSM_NPKG_VSN_MAX);
	return 0;
}

int hd_images_validate(const json_t *doc, char *err, size_t errlen)
{
	static const char *const keys[] = { "version",  "primary", "recovery", "bootloader",
					    "previous", "trial",   NULL };
	int bad = 0;
	json_t *v;

	if (!json_is_object(doc))
		return hsm_set_err(err, errlen, "images: must be an object");
	if (hsm_json_only_keys(doc, "", keys, err, errlen) != 0)
		return -1;
	v = hsm_json_member(doc, "", "version", JSON_INTEGER, 1, &bad, err, errlen);
	hsm_json_member(doc, "", "trial", JSON_TRUE, 1, &bad, err, errlen);
	if (bad)
		return -1;
	if (json_integer_value(v) != HD_IMAGES_VERSION)
		return hsm_set_err(err, errlen, "version: %lld is not %d",
				   (long long)json_integer_value(v), HD_IMAGES_VERSION);
	for (int i = 0; slots[i]; i++) {
		const json_t *img = json_object_get(doc, slots[i]);
		int optional = strcmp(slots[i], "previous") == 0;
		if (optional && (!img || json_is_null(img)))
			continue;
		if (image_validate(img, strcmp(slots[i], "previous") == 0 ? "primary" : slots[i],
				   err, errlen) != 0)
			return -1;
	}
	return 0;
}

json_t *hd_images_load(const char *state, char *err, size_t errlen)
{
	char path[4200], inner[HD_ERRLEN];
	struct stat st;
	json_t *doc;

	snprintf(path, sizeof(path), "%s/images.json", state);
	if (lstat(path, &st) != 0 && errno == ENOENT)
		return hd_images_development();
	doc = hsm_json_load_file(path, IMAGES_MAX, inner, sizeof(inner));
	if (!doc) {
		hsm_set_err(err, errlen, "%s", inner);
		return NULL;
	}
	if (hd_images_validate(doc, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "%s: %s", path, inner);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int hd_images_save(const char *state, const json_t *doc, char *err, size_t errlen)
{
	char path[4200], inner[HD_ERRLEN];

	if (hd_images_validate(doc, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "images: %s", inner);
	snprintf(path, sizeof(path), "%s/images.json", state);
	return hsm_write_json_atomic(path, doc, 0644, err, errlen);
}

const json_t *hd_images_slot(const json_t *doc, const char *slot)
{
	const json_t *img = json_object_get(doc, slot);

	return json_is_object(img) ? img : NULL;
}

int hd_images_dir(const char *state, const json_t *image, char *buf, size_t len)
{
	const char *id = json_string_value(json_object_get(image, "id"));
	int n;

	if (!id)
		return -1;
	n = snprintf(buf, len, "%s/images/%s", state, id);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

json_t *hd_images_firmware(const json_t *doc)
{
	const json_t *p = hd_images_slot(doc, "primary");

	return json_pack("{s:O, s:O, s:O, s:O}", "primary", json_object_get(p, "version"),
			 "recovery", json_object_get(hd_images_slot(doc, "recovery"), "version"),
			 "uboot", json_object_get(hd_images_slot(doc, "bootloader"), "version"),
			 "vsn", json_object_get(p, "vsn"));
}

/* --- the writer ------------------------------------------------------------- */

static int w_file_begin(void *ctx, const struct hsm_npkg_file *f, char *err, size_t errlen)
{
	struct hd_image_writer *w = ctx;
	char path[4600];
	const char *slash = strchr(f->name, '/');

	if (slash) { /* one level: modules/ or services.d/ (the reader checked) */
		snprintf(path, sizeof(path), "%s/%.*s", w->staging, (int)(slash - f->name),
			 f->name);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/%s", w->staging, f->name);
	/* Modules are loaded only from files not writable by others. */
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     strncmp(f->name, "modules/", 8) == 0 ? 0755 : 0644);
	if (w->fd < 0)
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	return 0;
}

static int w_file_data(void *ctx, const void *data, size_t len, char *err, size_t errlen)
{
	struct hd_image_writer *w = ctx;

	if (hsm_write_all(w->fd, data, len) != 0)
		return hsm_set_err(err, errlen, "writing the image: %s", strerror(errno));
	w->written += (uint64_t)len;
	return 0;
}

/* No fsync here: a staged file is made durable only when the image is
 * committed (hd_image_writer_commit, before the rename that makes it an
 * image), so a dry run or a refused package never waits for the disk. */
static int w_file_end(void *ctx, const struct hsm_npkg_file *f, char *err, size_t errlen)
{
	struct hd_image_writer *w = ctx;
	int rc = close(w->fd);

	w->fd = -1;
	if (rc != 0)
		return hsm_set_err(err, errlen, "writing %s: %s", f->name, strerror(errno));
	return 0;
}

/* Every staged file of the manifest on disk: fsync each. */
static int sync_files(const struct hd_image_writer *w, const struct hsm_npkg_manifest *m, char *err,
		      size_t errlen)
{
	char path[4600];

	for (size_t i = 0; i < m->nfiles; i++) {
		int fd, rc;

		snprintf(path, sizeof(path), "%s/%s", w->staging, m->files[i].name);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
		rc = fsync(fd);
		if (close(fd) != 0 || rc != 0)
			return hsm_set_err(err, errlen, "writing %s: %s", m->files[i].name,
					   strerror(errno));
	}
	return 0;
}

const struct hsm_npkg_sink hd_image_sink = {
	.file_begin = w_file_begin,
	.file_data = w_file_data,
	.file_end = w_file_end,
};

int hd_image_writer_open(struct hd_image_writer *w, const char *state, char *err, size_t errlen)
{
	uint8_t raw[16];
	char dir[4200];

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (hsm_random(raw, sizeof(raw)) != 0)
		return hsm_set_err(err, errlen, "no random bytes for an image id");
	for (int i = 0; i < 16; i++)
		snprintf(w->id + 2 * i, 3, "%02x", raw[i]);
	snprintf(w->state, sizeof(w->state), "%s", state);
	snprintf(dir, sizeof(dir), "%s/images", state);
	if (hsm_mkdir_p(dir, 0755, err, errlen) != 0)
		return -1;
	snprintf(w->staging, sizeof(w->staging), "%s/.staging-%s", dir, w->id);
	if (mkdir(w->staging, 0755) != 0)
		return hsm_set_err(err, errlen, "%s: %s", w->staging, strerror(errno));
	return 0;
}

static void rm_tree(const char *path)
{
	struct dirent **ents = NULL;
	int n = scandir(path, &ents, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char sub[4600];
		struct stat st;
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
			if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				rm_tree(sub);
			else
				unlink(sub);
		}
		free(ents[i]);
	}
	free(ents);
	rmdir(path);
}

void hd_image_writer_abort(struct hd_image_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->staging[0])
		rm_tree(w->staging);
	w->staging[0] = '\0';
}

json_t *hd_image_writer_commit(struct hd_image_writer *w, const struct hsm_npkg_manifest *m,
			       int64_t now, char *err, size_t errlen)
{
	char path[4600], final[4400];
	json_t *rec;

	if (sync_files(w, m, err, errlen) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/manifest.json", w->staging);
	if (hsm_write_file_atomic(path, m->text, m->text_len, 0644, err, errlen) != 0)
		return NULL;
	for (const char *sub = "modules"; sub;
	     sub = strcmp(sub, "modules") == 0 ? "services.d" : NULL) {
		snprintf(path, sizeof(path), "%s/%s", w->staging, sub);
		if (access(path, F_OK) == 0 && hsm_fsync_dir(path, err, errlen) != 0)
			return NULL;
	}
	if (hsm_fsync_dir(w->staging, err, errlen) != 0)
		return NULL;
	hd_crash_point("image-staged");
	snprintf(final, sizeof(final), "%s/images/%s", w->state, w->id);
	if (rename(w->staging, final) != 0) {
		hsm_set_err(err, errlen, "%s: %s", final, strerror(errno));
		return NULL;
	}
	w->staging[0] = '\0';
	snprintf(path, sizeof(path), "%s/images", w->state);
	if (hsm_fsync_dir(path, err, errlen) != 0)
		return NULL;
	hd_crash_point("image-renamed");
	rec = json_pack("{s:s, s:b, s:s, s:I, s:I}", "id", w->id, "development", 0, "version",
			m->firmware_version, "installed", (json_int_t)now, "size",
			(json_int_t)m->payload_size);
	if (rec && m->component == HSM_NPKG_BOOTLOADER)
		json_object_set_new(rec, "revokes_older", json_boolean(m->revokes_older));
	else if (rec)
		json_object_set_new(rec, "vsn", json_integer(m->vsn));
	if (!rec)
		hsm_set_err(err, errlen, "out of memory");
	return rec;
}

static int check_product(void *ctx, const struct hsm_npkg_manifest *m, char *err, size_t errlen)
{
	(void)ctx;
	if (strcmp(m->product, HSM_NPKG_PRODUCT) != 0)
		return hsm_set_err(err, errlen, "the package is for product %s, this HSM is %s",
				   m->product, HSM_NPKG_PRODUCT);
	return 0;
}

int hd_images_install_file(const char *state, const char *pkg, EVP_PKEY *const *trusted,
			   size_t ntrusted, int64_t now, char *err, size_t errlen)
{
	struct hsm_npkg_sink sink = hd_image_sink;
	struct hd_image_writer w;
	struct hsm_npkg_reader *r = NULL;
	const struct hsm_npkg_manifest *m;
	const char *slot;
	json_t *doc = NULL, *rec = NULL;
	char inner[HD_ERRLEN];
	int fd = -1, rc = -1;

	sink.manifest = check_product;
	if (hd_image_writer_open(&w, state, err, errlen) != 0)
		return -1;
	fd = open(pkg, O_RDONLY | O_CLOEXEC);
	r = hsm_npkg_reader_new(trusted, ntrusted, 0, &sink, &w);
	if (fd < 0 || !r) {
		hsm_set_err(err, errlen, "%s: %s", pkg, fd < 0 ? strerror(errno) : "out of memory");
		goto out;
	}
	if (hsm_npkg_read_fd(r, fd, pkg, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "%s", inner);
		goto out;
	}
	m = hsm_npkg_reader_manifest(r);
	rec = hd_image_writer_commit(&w, m, now, err, errlen);
	doc = rec ? hd_images_load(state, err, errlen) : NULL;
	if (!doc)
		goto out;
	slot = hsm_npkg_component_name(m->component);
	/* The primary it replaces stays as the image to roll back to. */
	if (m->component == HSM_NPKG_PRIMARY)
		json_object_set(doc, "previous", json_object_get(doc, "primary"));
	json_object_set(doc, slot, rec);
	if (hd_images_save(state, doc, err, errlen) != 0)
		goto out;
	hd_images_gc(state, doc);
	rc = 0;
out:
	if (rc != 0)
		hd_image_writer_abort(&w);
	if (fd >= 0)
		close(fd);
	hsm_npkg_reader_free(r);
	json_decref(doc);
	json_decref(rec);
	return rc;
}

/* --- checking an image at boot ------------------------------------------------ */

static int hash_fd(int fd, uint8_t out[32], uint64_t *size)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *buf = malloc(IO_CHUNK);
	unsigned int n32 = 0;
	int rc = -1;

	*size = 0;
	if (!md || !buf || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	rc = EVP_DigestFinal_ex(md, out, &n32) == 1 && n32 == 32 ? 0 : -1;
out:
	free(buf);
	EVP_MD_CTX_free(md);
	return rc;
}

static int listed(const struct hsm_npkg_manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].name, name) == 0)
			return 1;
	return 0;
}

/* Every entry of dir/sub is in the manifest (or is one of its folders). */
static int no_extra(const char *dir, const char *sub, const struct hsm_npkg_manifest *m, char *err,
		    size_t errlen)
{
	char path[4400], name[300];
	struct dirent **ents = NULL;
	int n, rc = 0;

	snprintf(path, sizeof(path), "%s%s%s", dir, sub[0] ? "/" : "", sub);
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0)
		return sub[0] ? 0 : hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		snprintf(name, sizeof(name), "%s%s%s", sub, sub[0] ? "/" : "", e);
		if (rc == 0 && strcmp(e, ".") && strcmp(e, "..") &&
		    !(sub[0] == '\0' && (!strcmp(e, "manifest.json") || !strcmp(e, "modules") ||
					 !strcmp(e, "services.d"))) &&
		    !listed(m, name))
			rc = hsm_set_err(err, errlen,
					 "%s: a file the signed manifest does not list", name);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int hd_images_verify(const char *state, const json_t *image, EVP_PKEY *const *trusted,
		     size_t ntrusted, char *err, size_t errlen)
{
	struct hsm_npkg_manifest *m = NULL;
	char dir[4200], path[4400], inner[HD_ERRLEN], *text = NULL;
	size_t len;
	int rc = -1;

	if (hd_images_dir(state, image, dir, sizeof(dir)) != 0)
		return hsm_set_err(err, errlen, "a development image has nothing to verify");
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (hsm_read_file(path, HSM_NPKG_MANIFEST_MAX, &text, &len, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "%s", inner);
	if (hsm_npkg_manifest_parse(text, len, trusted, ntrusted, &m, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "%s: %s", path, inner);
		goto out;
	}
	if (!m->signature_ok || !m->trusted || strcmp(m->product, HSM_NPKG_PRODUCT) != 0) {
		hsm_set_err(err, errlen, "%s: %s", path,
			    !m->signature_ok ? "the signature does not verify"
			    : !m->trusted    ? "not signed by a trusted vendor key (vendor.d)"
					     : "for another product");
		goto out;
	}
	if (strcmp(m->firmware_version, json_string_value(json_object_get(image, "version"))) !=
	    0) {
		hsm_set_err(err, errlen, "%s: version %s, images.json says %s", path,
			    m->firmware_version,
			    json_string_value(json_object_get(image, "version")));
		goto out;
	}
	for (size_t i = 0; i < m->nfiles; i++) {
		uint8_t got[32];
		uint64_t size;
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, m->files[i].name);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			hsm_set_err(err, errlen, "%s: %s", m->files[i].name, strerror(errno));
			goto out;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || hash_fd(fd, got, &size) != 0 ||
		    size != m->files[i].size || CRYPTO_memcmp(got, m->files[i].sha256, 32) != 0) {
			close(fd);
			hsm_set_err(err, errlen, "%s: does not match the signed manifest",
				    m->files[i].name);
			goto out;
		}
		close(fd);
	}
	if (no_extra(dir, "", m, err, errlen) != 0 ||
	    no_extra(dir, "modules", m, err, errlen) != 0 ||
	    no_extra(dir, "services.d", m, err, errlen) != 0)
		goto out;
	rc = 0;
out:
	hsm_npkg_manifest_free(m);
	free(text);
	return rc;
}

void hd_images_gc(const char *state, const json_t *doc)
{
	char dir[4200];
	struct dirent **ents = NULL;
	int n;

	snprintf(dir, sizeof(dir), "%s/images", state);
	n = scandir(dir, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		int keep = !strcmp(e, ".") || !strcmp(e, "..");
		for (int s = 0; slots[s] && !keep; s++) {
			const char *id =
			    json_string_value(json_object_get(hd_images_slot(doc, slots[s]), "id"));
			keep = id && strcmp(e, id) == 0;
		}
		if (!keep) {
			char path[4600];
			snprintf(path, sizeof(path), "%s/%s", dir, e);
			rm_tree(path);
		}
		free(ents[i]);
	}
	free(ents);
}
