/* SPDX-License-Identifier: Apache-2.0 */
/*
 * button.h - the emulated recovery-mode button on the back panel (guide
 * 4.5.4.2).  Holding it while the HSM boots boots the recovery image.
 *
 * The button is not device state: `hsmd button` presses it from another
 * process while hsmd runs, so it is a small file of its own, DIR/button,
 * holding the host time (Unix seconds, decimal, one line) until which the
 * button is held (docs/formats/hsmd-state.md).  No file: not held.
 */
#ifndef HD_BUTTON_H
#define HD_BUTTON_H

#include <stddef.h>
#include <stdint.h>

/* The button file's text: one decimal number of at most 12 digits and an
 * optional newline, nothing else.  0, or -1 with err. */
int hd_button_parse(const char *buf, size_t len, int64_t *until, char *err, size_t errlen);

/* Hold the button until host time `until` (atomic write), or release it. */
int hd_button_hold(const char *dir, int64_t until, char *err, size_t errlen);
int hd_button_release(const char *dir, char *err, size_t errlen);

/* Is the button held at host time now?  A file that does not parse counts
 * as not held (and is logged): a bad file must not trap the HSM in
 * recovery mode. */
int hd_button_held(const char *dir, int64_t now);

/* hsmd button --state DIR (--hold SECONDS | --release | --show) */
int hd_button_main(int argc, char **argv);

#endif
