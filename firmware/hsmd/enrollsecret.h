/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enrollsecret.h - the one-time enrollment secret of an HSM in factory
 * state.  On a PCIe HSM, whoever can reach sshadmin first could otherwise
 * enroll it and own it; the secret plays the role of physical access: the
 * emulator prints it when it makes the factory state (provisioning,
 * `factorystate`) and keeps it in STATE/enrollment-secret (0600, readable
 * only by whoever runs hsmd) until the HSM is enrolled.  The first
 * enrollment must present it (docs/man/hsmd.8, hsmadmin-enroll(1)).
 *
 * The file holds one line, "ESN SECRET", so that the files of several
 * HSMs can be concatenated and given to `hsmadmin enroll --secret-file`.
 */
#ifndef HD_ENROLLSECRET_H
#define HD_ENROLLSECRET_H

#include <stddef.h>

#define HD_ENROLL_SECRET_FILE "enrollment-secret"
/* 32 base32 characters (160 bits) in 8 groups of 4 joined by '-'. */
#define HD_ENROLL_SECRET_LEN 39

/* Make a new secret for the HSM ESN in the state directory dir: written
 * atomically (0600) to dir/enrollment-secret, copied to out (at least
 * HD_ENROLL_SECRET_LEN + 1 bytes).  0, or -1 with err. */
int hd_enroll_secret_new(const char *dir, const char *esn, char *out, size_t outlen, char *err,
			 size_t errlen);

/* Keep the file in step with the device state: in factory state make a
 * secret when there is none (and say so on hsmd's log, printing it when
 * it is new); once enrolled remove it.  factory: 1 in factory state.
 * 0, or -1 with err. */
int hd_enroll_secret_sync(const char *dir, const char *esn, int factory, char *err, size_t errlen);

/* Does given (any case; '-' and spaces ignored) match the stored secret?
 * A constant-time compare of the normalised forms.  1 yes, 0 no (also
 * when there is no secret or given is NULL). */
int hd_enroll_secret_check(const char *dir, const char *given);

/* The normalised form of a secret: 32 upper-case base32 characters and a
 * NUL in out (33 bytes).  0, or -1 when s is not a secret's shape. */
int hd_enroll_secret_normalize(const char *s, char out[33]);

#endif
