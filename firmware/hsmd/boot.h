/* SPDX-License-Identifier: Apache-2.0 */
/*
 * boot.h - choosing, checking and loading the firmware image at boot
 * (boot.c).
 */
#ifndef HD_BOOT_H
#define HD_BOOT_H

#include <stddef.h>
#include "hsmd.h"
#include "services.h"
#include "store.h"

/* The directory of the package image hsmd booted ("" for a development
 * image); VCM processes load their services from it too. */
extern char hd_image_dir[4200];

/* Load the services of the primary image (verified against the vendor
 * keys of cfg->vendordir), rolling back to the previous image when the
 * new one fails; record the firmware versions in the device document.
 * 0, or -1 with err when no image can boot. */
int hd_boot_image(struct hd_store *st, const struct hd_config *cfg, const char *confdir,
		  struct hd_loaded_service **svcs, size_t *nsvcs, char *err, size_t errlen);

/* Does images.json name another primary image than the one booted (an
 * upgrade installed with --no-reset)?  Then a reset restarts hsmd. */
int hd_boot_image_changed(struct hd_store *st);

#endif
