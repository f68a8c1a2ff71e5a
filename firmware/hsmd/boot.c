/* SPDX-License-Identifier: Apache-2.0 */
/*
 * boot.c - which firmware image hsmd runs, and loading its services.
 *
 * At start-up (an emulated boot) hsmd takes the primary image that
 * images.json names, checks every file of it against its vendor-signed
 * manifest, and loads the service modules from that image's directory —
 * never from anywhere a file could have been swapped after the check
 * (services.c opens each module by descriptor).  A development image
 * (no package installed) loads CONF/services.d and hsmd.conf's servicedir.
 *
 * A newly installed primary image is on trial until it has booted once
 * with all its services: if it fails its check or a service does not
 * load, hsmd goes back to the previous image, says so in the system log,
 * and boots that.  The device document's "firmware" member (what status,
 * info and enquiry show) is kept equal to the installed images.
 *
 * A boot with the recovery button held (store.c decides) runs the
 * recovery image the same way: its own verified modules, and of them only
 * the platform services (guide 4.5.4.1).  It has no previous image to go
 * back to: a recovery image that fails its check does not boot, and hsmd
 * says to release the button.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/fileio.h>
#include "boot.h"
#include "gate.h"
#include "hsmd.h"
#include "images.h"
#include "licence.h" /* hsm_vendor_keys_load */

char hd_image_dir[4200];
/* The slot ("primary" or "recovery") and the id of the image this
 * process booted (id "" for development). */
static char booted_slot[16];
static char booted_id[40];

/* The image a boot of this device runs: the device document says which
 * (store.c sets it from the recovery button at every boot). */
static const char *boot_slot(const struct hd_store *st)
{
	return strcmp(hd_store_image(st), "recovery") == 0 ? "recovery" : "primary";
}

int hd_boot_image_changed(struct hd_store *st)
{
	char err[HD_ERRLEN];
	const char *slot = boot_slot(st);
	json_t *images = hd_images_load(st->dir, err, sizeof(err));
	const json_t *img = hd_images_slot(images, slot);
	const char *id = json_string_value(json_object_get(img, "id"));
	int changed;

	if (json_is_true(json_object_get(img, "development")))
		id = "";
	changed =
	    images && (strcmp(slot, booted_slot) != 0 || strcmp(id ? id : "", booted_id) != 0);
	json_decref(images);
	return changed;
}

/* Does the service of a services.d file name ("NAME.conf") run on the
 * recovery image? */
static int runs_in_recovery(const char *file)
{
	char name[48];
	size_t n = strlen(file);

	if (n <= 5 || n - 5 >= sizeof(name) || strcmp(file + n - 5, ".conf") != 0)
		return 0;
	memcpy(name, file, n - 5);
	name[n - 5] = '\0';
	return hd_gate_runs_in_recovery(name);
}

/* How many services.d files the image's manifest lists (with
 * platform_only, only those of services that run on the recovery image). */
static size_t expected_services(const char *imgdir, int platform_only)
{
	char path[4400], *text = NULL, err[HD_ERRLEN];
	struct hsm_npkg_manifest *m = NULL;
	size_t len, n = 0;

	snprintf(path, sizeof(path), "%s/manifest.json", imgdir);
	if (hsm_read_file(path, HSM_NPKG_MANIFEST_MAX, &text, &len, err, sizeof(err)) == 0 &&
	    hsm_npkg_manifest_parse(text, len, NULL, 0, &m, err, sizeof(err)) == 0)
		for (size_t i = 0; i < m->nfiles; i++)
			n += strncmp(m->files[i].name, "services.d/", 11) == 0 &&
			     (!platform_only || runs_in_recovery(m->files[i].name + 11));
	hsm_npkg_manifest_free(m);
	free(text);
	return n;
}

/* Check and load one package image.  0 when every service it configures
 * loaded (with platform_only: every platform service). */
static int load_image(struct hd_store *st, const json_t *img, int platform_only, EVP_PKEY **keys,
		      size_t nkeys, struct hd_loaded_service **svcs, size_t *nsvcs, char *err,
		      size_t errlen)
{
	char dir[4200], mods[4300], inner[HD_ERRLEN];
	size_t want;

	if (hd_images_dir(st->dir, img, dir, sizeof(dir)) != 0)
		return hsm_set_err(err, errlen, "the image has no directory");
	if (hd_images_verify(st->dir, img, keys, nkeys, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "image %s fails its check: %s",
				   json_string_value(json_object_get(img, "version")), inner);
	snprintf(mods, sizeof(mods), "%s/modules", dir);
	if (hd_services_load(dir, mods, platform_only, svcs, nsvcs, inner, sizeof(inner)) < 0)
		return hsm_set_err(err, errlen, "%s", inner);
	want = expected_services(dir, platform_only);
	if (*nsvcs == 0 || *nsvcs < want) {
		hsm_set_err(err, errlen, "image %s: %zu of its %zu services failed to start",
			    json_string_value(json_object_get(img, "version")), want - *nsvcs,
			    want);
		hd_services_unload(*svcs, *nsvcs);
		*svcs = NULL;
		*nsvcs = 0;
		return -1;
	}
	snprintf(hd_image_dir, sizeof(hd_image_dir), "%s", dir);
	snprintf(booted_id, sizeof(booted_id), "%s", json_string_value(json_object_get(img, "id")));
	return 0;
}

/* The development image: CONF/services.d and hsmd.conf's servicedir. */
static int load_development(const struct hd_config *cfg, const char *confdir, int platform_only,
			    struct hd_loaded_service **svcs, size_t *nsvcs, char *err,
			    size_t errlen)
{
	return hd_services_load(confdir, cfg->servicedir, platform_only, svcs, nsvcs, err, errlen) <
		       0
		   ? -1
		   : 0;
}

/* A boot with the recovery button held: the recovery image, platform
 * services only, and nothing to roll back to. */
static int boot_recovery(struct hd_store *st, const struct hd_config *cfg, const char *confdir,
			 const json_t *images, struct hd_loaded_service **svcs, size_t *nsvcs,
			 char *err, size_t errlen)
{
	const json_t *img = hd_images_slot(images, "recovery");
	EVP_PKEY **keys = NULL;
	size_t nkeys = 0;
	char inner[HD_ERRLEN];
	int rc;

	snprintf(booted_slot, sizeof(booted_slot), "recovery");
	if (!img || json_is_true(json_object_get(img, "development")))
		return load_development(cfg, confdir, 1, svcs, nsvcs, err, errlen);
	if (hsm_vendor_keys_load(cfg->vendordir, &keys, &nkeys, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "vendor keys: %s", inner);
	rc = load_image(st, img, 1, keys, nkeys, svcs, nsvcs, inner, sizeof(inner));
	hsm_vendor_keys_free(keys, nkeys);
	if (rc != 0)
		return hsm_set_err(
		    err, errlen,
		    "the recovery image does not boot: %s; release the recovery button "
		    "(hsmd button --release) to boot the primary image",
		    inner);
	hd_log("booted the recovery image %s", json_string_value(json_object_get(img, "version")));
	return 0;
}

/* Make device.json's firmware member say what images.json says. */
static void sync_firmware(struct hd_store *st, const json_t *images)
{
	json_t *fw = hd_images_firmware(images), *doc;
	char err[HD_ERRLEN];

	if (!fw || json_equal(fw, json_object_get(st->device, "firmware"))) {
		json_decref(fw);
		return;
	}
	doc = json_deep_copy(st->device);
	json_object_set(doc, "firmware", fw);
	if (hd_store_commit(st, doc, "firmware", json_pack("{s:O}", "firmware", fw), err,
			    sizeof(err)) != 0)
		hd_log("firmware versions not recorded: %s", err);
	json_decref(fw);
}

static void log_event(struct hd_store *st, const char *event, json_t *detail)
{
	char err[HD_ERRLEN];

	if (hd_store_commit(st, json_deep_copy(st->device), event, detail, err, sizeof(err)) != 0)
		hd_log("%s not logged: %s", event, err);
}

int hd_boot_image(struct hd_store *st, const struct hd_config *cfg, const char *confdir,
		  struct hd_loaded_service **svcs, size_t *nsvcs, char *err, size_t errlen)
{
	EVP_PKEY **keys = NULL;
	size_t nkeys = 0;
	json_t *images;
	const json_t *img;
	char why[HD_ERRLEN], inner[HD_ERRLEN];
	int rc = -1;

	*svcs = NULL;
	*nsvcs = 0;
	hd_image_dir[0] = '\0';
	booted_id[0] = '\0';
	images = hd_images_load(st->dir, err, errlen);
	if (!images)
		return -1;
	if (strcmp(boot_slot(st), "recovery") == 0) {
		rc = boot_recovery(st, cfg, confdir, images, svcs, nsvcs, err, errlen);
		goto out;
	}
	snprintf(booted_slot, sizeof(booted_slot), "primary");
	img = hd_images_slot(images, "primary");
	if (json_is_true(json_object_get(img, "development"))) {
		rc = load_development(cfg, confdir, 0, svcs, nsvcs, err, errlen);
		goto out;
	}
	if (hsm_vendor_keys_load(cfg->vendordir, &keys, &nkeys, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "vendor keys: %s", inner);
		goto out;
	}
	if (load_image(st, img, 0, keys, nkeys, svcs, nsvcs, why, sizeof(why)) == 0) {
		if (json_is_true(json_object_get(images, "trial"))) {
			/* The new image booted with all its services: it stays,
			 * and a new primary image starts from factory state
			 * (overview §7).  Factory state first: a crash between
			 * the two repeats it, never skips it. */
			if (hd_store_factory_state(st, inner, sizeof(inner)) != 0)
				hd_log("factory state after the upgrade failed: %s", inner);
			hd_crash_point("image-factory");
			json_object_set_new(images, "trial", json_false());
			if (hd_images_save(st->dir, images, inner, sizeof(inner)) != 0)
				hd_log("images: %s", inner);
			hd_log("firmware %s booted for the first time: factory state",
			       json_string_value(json_object_get(img, "version")));
			hd_images_gc(st->dir, images);
		}
		rc = 0;
		goto out;
	}
	hd_log("%s", why);
	if (!hd_images_slot(images, "previous")) {
		hsm_set_err(err, errlen, "no bootable image: %s", why);
		goto out;
	}
	/* Roll back: the previous image becomes the primary again. */
	{
		json_t *bad = json_deep_copy(img);
		json_object_set(images, "primary", json_object_get(images, "previous"));
		json_object_set_new(images, "previous", json_null());
		json_object_set_new(images, "trial", json_false());
		if (hd_images_save(st->dir, images, inner, sizeof(inner)) != 0) {
			json_decref(bad);
			hsm_set_err(err, errlen, "cannot roll back: %s", inner);
			goto out;
		}
		hd_log("firmware rolled back from %s to %s",
		       json_string_value(json_object_get(bad, "version")),
		       json_string_value(
			   json_object_get(hd_images_slot(images, "primary"), "version")));
		log_event(st, "firmware_rollback",
			  json_pack("{s:O, s:O, s:s}", "from", json_object_get(bad, "version"),
				    "to",
				    json_object_get(hd_images_slot(images, "primary"), "version"),
				    "reason", why));
		json_decref(bad);
	}
	img = hd_images_slot(images, "primary");
	if (json_is_true(json_object_get(img, "development")))
		rc = load_development(cfg, confdir, 0, svcs, nsvcs, err, errlen);
	else
		rc = load_image(st, img, 0, keys, nkeys, svcs, nsvcs, err, errlen);
	hd_images_gc(st->dir, images);
out:
	if (rc == 0) {
		sync_firmware(st, images);
		hd_images_gc(st->dir, images); /* staging left by a crash */
	}
	hsm_vendor_keys_free(keys, nkeys);
	json_decref(images);
	return rc;
}
