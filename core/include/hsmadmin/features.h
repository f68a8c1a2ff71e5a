/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmadmin/features.h - feature words (guide 3.3.3 and 4.9).
 *
 * A feature word is 32 bits; each known bit has a name.  Text accepts a
 * hexadecimal word ("9A37", "0x9A37") or names joined by '|'
 * ("ForeignTokenOpen|KISAAlgorithms|EllipticCurve").  The guide's misspelt
 * names ("ForeignTokenpen", "KISAAgorithms", "Elliptic curve") are accepted
 * as aliases; output always uses the canonical names.
 */
#ifndef HSMADMIN_FEATURES_H
#define HSMADMIN_FEATURES_H

#include <stddef.h>
#include <stdint.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#ifdef __cplusplus
extern "C" {
#endif

#define HSM_FEAT_FOREIGN_TOKEN_OPEN 0x00000001u
#define HSM_FEAT_REMOTE_SHARE 0x00000002u
#define HSM_FEAT_GENERAL_SEE 0x00000004u
#define HSM_FEAT_EXPORT_CGEA 0x00000008u
#define HSM_FEAT_KISA_ALGORITHMS 0x00000010u
#define HSM_FEAT_STANDARD_KM 0x00000020u
#define HSM_FEAT_ELLIPTIC_CURVE 0x00000200u
#define HSM_FEAT_HSM_SPEED0 0x00000400u
#define HSM_FEAT_ECCMQV 0x00000800u
#define HSM_FEAT_ACCELERATED_ECC 0x00001000u
#define HSM_FEAT_HSM_SPEED1 0x00004000u
#define HSM_FEAT_HSM_SPEED2 0x00008000u
#define HSM_FEAT_FAST_RANDOM 0x00100000u

/* Always on, whatever a command asks (guide 3.3.2). */
#define HSM_FEAT_BUILTIN                                                                           \
	(HSM_FEAT_STANDARD_KM | HSM_FEAT_ELLIPTIC_CURVE | HSM_FEAT_ECCMQV |                        \
	 HSM_FEAT_ACCELERATED_ECC)
#define HSM_FEAT_SPEED_MASK (HSM_FEAT_HSM_SPEED0 | HSM_FEAT_HSM_SPEED1 | HSM_FEAT_HSM_SPEED2)
/* Every bit that has a name. */
#define HSM_FEAT_KNOWN 0x0010DE3Fu

/* Parse text (hex word or '|'-separated names).  Empty text, unknown
 * names, empty names ("A||B"), words wider than 32 bits and trailing junk
 * are errors with a reason naming the offending part. */
HSM_API int hsm_features_parse(const char *text, uint32_t *word, char *err, size_t errlen);

/* Canonical names joined by '|' in bit order; bits without a name are
 * appended as one hex word ("|0x00020000").  Returns the length the full
 * text needs (like snprintf); "" for 0. */
HSM_API size_t hsm_features_format(uint32_t word, char *buf, size_t buflen);

/* Canonical name of a single bit, or NULL. */
HSM_API const char *hsm_feature_name(uint32_t bit);

#ifdef __cplusplus
}
#endif
#endif
