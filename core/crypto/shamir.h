/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/shamir.h - Shamir secret sharing, K of N, byte-wise over
 * GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b), the
 * field and share layout of the IETF draft "Threshold Secret Sharing"
 * (draft-mcgrew-tss-03): share i is f(i) for i = 1..N, f(0) the secret.
 *
 * In-tree API of libhsmadmin-crypto (used by the ncoreapi service for the
 * Security World's administrator cards).  Functions return 0, or -1 with a
 * one-line reason in err.
 */
#ifndef HSMADMIN_NET_SHAMIR_H
#define HSMADMIN_NET_SHAMIR_H

#include <stddef.h>
#include <stdint.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#define HSM_SHAMIR_MAX_SHARES 255

/* Multiplication in GF(2^8) mod 0x11b, in constant time. */
HSM_API uint8_t hsm_gf256_mul(uint8_t a, uint8_t b);
/* The multiplicative inverse (0 for 0), in constant time. */
HSM_API uint8_t hsm_gf256_inv(uint8_t a);

/* Split len bytes of secret into n shares of len bytes each, any k of
 * which recover it (1 <= k <= n <= 255).  Share i (x = i + 1) is written to
 * shares + i * len.  The random coefficients are wiped before returning. */
HSM_API int hsm_shamir_split(const uint8_t *secret, size_t len, unsigned k, unsigned n,
			     uint8_t *shares, char *err, size_t errlen);

/* Recover the secret from k shares: xs[j] the share's x (1..255, all
 * distinct), ys[j] its len bytes.  With fewer than the threshold's shares
 * the result is a value unrelated to the secret (the caller must check it,
 * e.g. with an authenticated unwrap). */
HSM_API int hsm_shamir_combine(const uint8_t *xs, const uint8_t *const *ys, unsigned k, size_t len,
			       uint8_t *secret, char *err, size_t errlen);

#endif
