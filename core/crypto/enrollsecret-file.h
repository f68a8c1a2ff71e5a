/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/enrollsecret-file.h - the files that hold HSMs' one-time enrollment
 * secrets for `hsmadmin enroll --secret-file` (docs/man/hsmadmin-enroll.1).
 *
 * One "ESN SECRET" line per HSM, as hsmd writes STATE/enrollment-secret,
 * so the files of several HSMs can simply be concatenated.  Empty lines
 * and lines starting with '#' are ignored.  A SECRET is 1-64 characters
 * of [0-9A-Za-z-]; the HSM compares it in normalised form.
 *
 * In-tree API of libhsmadmin-crypto (not installed).
 */
#ifndef HSMADMIN_NET_ENROLLSECRET_H
#define HSMADMIN_NET_ENROLLSECRET_H

#include <stddef.h>
#include <hsmadmin/plugin.h> /* HSM_API */
#include "modules.h"         /* HSM_ESN_LEN */

#define HSM_ENROLL_SECRET_MAX 64
#define HSM_ENROLL_SECRETS_FILE_MAX 65536

struct hsm_enroll_secret {
	char esn[HSM_ESN_LEN + 1];
	char secret[HSM_ENROLL_SECRET_MAX + 1];
};

/* Is s the shape of a secret (1-64 characters of [0-9A-Za-z-])? */
HSM_API int hsm_enroll_secret_valid(const char *s);

/* Parse secrets text, appending to *list (*count entries, realloc'ed).
 * An ESN given twice with different secrets is an error; the same line
 * twice is not.  Errors name the line but never quote it (it holds a
 * secret).  0, or -1 with err; *list stays valid either way (free it with
 * hsm_enroll_secrets_free). */
HSM_API int hsm_enroll_secrets_parse(const char *text, size_t len, struct hsm_enroll_secret **list,
				     size_t *count, char *err, size_t errlen);

/* The secret for esn in list, or NULL. */
HSM_API const char *hsm_enroll_secret_for(const struct hsm_enroll_secret *list, size_t count,
					  const char *esn);

/* Wipe and free a list. */
HSM_API void hsm_enroll_secrets_free(struct hsm_enroll_secret *list, size_t count);

#endif
