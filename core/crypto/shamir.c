/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/shamir.c - Shamir secret sharing over GF(2^8) (shamir.h).
 *
 * The field arithmetic avoids lookup tables and data-dependent branches:
 * the shares and the secret are key material, and log/exp tables indexed
 * by them leak through the cache.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "shamir.h"

uint8_t hsm_gf256_mul(uint8_t a, uint8_t b)
{
	unsigned p = 0, x = a, y = b;

	for (int i = 0; i < 8; i++) {
		p ^= x & (0u - (y & 1u));                  /* add x when the low bit of y is set */
		x = (x << 1) ^ (0x11bu & (0u - (x >> 7))); /* x *= 2, reduced mod 0x11b */
		y >>= 1;
	}
	return (uint8_t)p;
}

/* a^254 = a^-1 in GF(2^8) (and 0 for 0), by square and multiply with a
 * fixed exponent, so the sequence of operations never depends on a. */
uint8_t hsm_gf256_inv(uint8_t a)
{
	uint8_t r = 1, s = a;

	for (int bit = 0; bit < 8; bit++) {
		if ((254 >> bit) & 1)
			r = hsm_gf256_mul(r, s);
		s = hsm_gf256_mul(s, s);
	}
	return r;
}

static int fail(char *err, size_t errlen, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return -1;
}

int hsm_shamir_split(const uint8_t *secret, size_t len, unsigned k, unsigned n, uint8_t *shares,
		     char *err, size_t errlen)
{
	uint8_t *coef;
	size_t ncoef;

	if (k < 1 || n < k || n > HSM_SHAMIR_MAX_SHARES)
		return fail(err, errlen, "a quorum needs 1 <= K <= N <= 255");
	if (len == 0 || !secret || !shares)
		return fail(err, errlen, "nothing to split");
	/* coefficients a_1..a_{k-1} for every byte of the secret */
	ncoef = (size_t)(k - 1) * len;
	coef = OPENSSL_secure_malloc(ncoef ? ncoef : 1);
	if (!coef)
		return fail(err, errlen, "out of memory");
	if (ncoef && RAND_priv_bytes(coef, (int)ncoef) != 1) {
		OPENSSL_secure_clear_free(coef, ncoef ? ncoef : 1);
		return fail(err, errlen, "no random bytes for the coefficients");
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t x = (uint8_t)(i + 1);

		for (size_t b = 0; b < len; b++) {
			/* Horner: f(x) = (((a_{k-1} x + a_{k-2}) x + ...) x + s */
			uint8_t y = 0;

			for (unsigned c = k - 1; c >= 1; c--)
				y = hsm_gf256_mul(y, x) ^ coef[(size_t)(c - 1) * len + b];
			shares[(size_t)i * len + b] = hsm_gf256_mul(y, x) ^ secret[b];
		}
	}
	OPENSSL_secure_clear_free(coef, ncoef ? ncoef : 1);
	return 0;
}

int hsm_shamir_combine(const uint8_t *xs, const uint8_t *const *ys, unsigned k, size_t len,
		       uint8_t *secret, char *err, size_t errlen)
{
	uint8_t lagrange[HSM_SHAMIR_MAX_SHARES];

	if (k < 1 || k > HSM_SHAMIR_MAX_SHARES)
		return fail(err, errlen, "between 1 and 255 shares are needed");
	if (len == 0 || !xs || !ys || !secret)
		return fail(err, errlen, "nothing to combine");
	for (unsigned j = 0; j < k; j++) {
		if (xs[j] == 0)
			return fail(err, errlen, "a share with x = 0 is not a share");
		for (unsigned m = 0; m < j; m++)
			if (xs[m] == xs[j])
				return fail(err, errlen, "the same share was given twice");
	}
	/* The Lagrange basis at 0: l_j = prod_{m != j} x_m / (x_m - x_j);
	 * subtraction is XOR in GF(2^8). */
	for (unsigned j = 0; j < k; j++) {
		uint8_t num = 1, den = 1;

		for (unsigned m = 0; m < k; m++) {
			if (m == j)
				continue;
			num = hsm_gf256_mul(num, xs[m]);
			den = hsm_gf256_mul(den, xs[m] ^ xs[j]);
		}
		lagrange[j] = hsm_gf256_mul(num, hsm_gf256_inv(den));
	}
	for (size_t b = 0; b < len; b++) {
		uint8_t s = 0;

		for (unsigned j = 0; j < k; j++)
			s ^= hsm_gf256_mul(ys[j][b], lagrange[j]);
		secret[b] = s;
	}
	OPENSSL_cleanse(lagrange, sizeof(lagrange));
	return 0;
}
