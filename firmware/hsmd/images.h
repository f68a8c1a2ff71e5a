/* SPDX-License-Identifier: Apache-2.0 */
/*
 * images.h - the HSM's firmware images (guide 4.1.1): a primary and a
 * recovery image, each installed from a vendor-signed package, and the
 * bootloader version.  docs/formats/hsmd-state.md ("Firmware images").
 *
 * STATE/images.json says which image is which; it is its own document,
 * written atomically, separate from device.json.  An installed image is
 * the directory STATE/images/<id>/ holding the package's files and its
 * signed manifest (manifest.json).  An image directory is complete before
 * images.json names it, and images.json is switched in one rename, so a
 * crash leaves the old or the new image named, never a partial one.
 *
 * An HSM provisioned without packages runs a "development" primary image:
 * the service modules of hsmd.conf's servicedir and CONF/services.d, with
 * the emulator's built-in version numbers.  Installing a package replaces
 * it.
 */
#ifndef HD_IMAGES_H
#define HD_IMAGES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "npkg.h"

#define HD_IMAGES_VERSION 1

/* The images document of a state directory: read and validated, or, when
 * there is none (a development HSM), the development document.  New ref. */
json_t *hd_images_load(const char *state, char *err, size_t errlen);
/* Check a document (the fuzzable part of load). */
int hd_images_validate(const json_t *doc, char *err, size_t errlen);
/* Write it atomically (temp, fsync, rename, fsync dir). */
int hd_images_save(const char *state, const json_t *doc, char *err, size_t errlen);
/* The document of an HSM without packages. */
json_t *hd_images_development(void);

/* The image record of a slot ("primary", "recovery", "bootloader"), or
 * NULL. */
const json_t *hd_images_slot(const json_t *doc, const char *slot);
/* Directory of an installed image: STATE/images/<id>; 0, or -1 for a
 * development image (no directory). */
int hd_images_dir(const char *state, const json_t *image, char *buf, size_t len);

/* The device's "firmware" member for a document: {"primary","recovery",
 * "uboot","vsn"} (vsn: the primary image's).  New reference. */
json_t *hd_images_firmware(const json_t *doc);

/* --- installing a package ------------------------------------------------- */

/* Writes a package's files into a staging directory as they stream
 * through an npkg reader (use hd_image_sink with the writer as ctx),
 * then makes the directory an image.  Memory use does not depend on the
 * package size. */
struct hd_image_writer {
	char state[4096];
	char staging[4400]; /* STATE/images/.staging-<id> */
	char id[40];
	int fd; /* the file being written, or -1 */
	uint64_t written;
};
extern const struct hsm_npkg_sink hd_image_sink;

int hd_image_writer_open(struct hd_image_writer *w, const char *state, char *err, size_t errlen);
/* After the reader's finish() returned 0: fsync every staged file (the
 * sink does not, so a dry run never waits for the disk), write the
 * manifest, fsync the directories, and rename the staging directory to
 * STATE/images/<id>.  Returns the new
 * image record {"id","version","vsn"|"revokes_older","installed","size"}
 * (new ref.) or NULL. */
json_t *hd_image_writer_commit(struct hd_image_writer *w, const struct hsm_npkg_manifest *m,
			       int64_t now, char *err, size_t errlen);
/* Remove the staging directory (any failure, or a dry run). */
void hd_image_writer_abort(struct hd_image_writer *w);

/* Install one package file into a state directory's images (provision):
 * verify it against trusted while writing it, then name it in images.json
 * for its component.  The previous primary is kept as "previous". */
int hd_images_install_file(const char *state, const char *pkg, EVP_PKEY *const *trusted,
			   size_t ntrusted, int64_t now, char *err, size_t errlen);

/* Check an installed image against its signed manifest: the signature by
 * a trusted vendor key, the product, and every file's size and SHA-256
 * (streamed).  No other file may be in the directory. */
int hd_images_verify(const char *state, const json_t *image, EVP_PKEY *const *trusted,
		     size_t ntrusted, char *err, size_t errlen);

/* Power-loss testing: when the environment variable HSMD_CRASH_AT names
 * this point, hsmd kills itself with SIGKILL there (tests/integration/
 * upgrade-crash.sh).  Points: "image-staged" (package verified, image
 * not yet renamed), "image-renamed" (image in place, images.json not yet
 * switched), "image-installed" (switched, not yet rebooted),
 * "image-factory" (first boot: factory state done, trial not yet cleared),
 * "log-closed" (a log export closed and saved its segment, no reply yet),
 * "log-stream" (a streamed export sent its head, not yet its bytes),
 * "log-expired" (a segment expired, no reply yet; tests/integration/
 * logs-stream.sh, logs-collect.sh). */
void hd_crash_point(const char *point);

/* Remove image directories no slot names any more, and stale staging. */
void hd_images_gc(const char *state, const json_t *doc);

#endif
