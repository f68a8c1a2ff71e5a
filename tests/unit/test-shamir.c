/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test-shamir.c - Shamir secret sharing over GF(2^8)
 * (core/crypto/shamir.c): published vectors, then properties.
 *
 * Vectors and where they come from:
 *  - FIPS 197 (AES), section 4.2 and 4.2.1: {57} x {83} = {c1},
 *    {57} x {13} = {fe}, and xtime: {57} x {02} = {ae}, {57} x {04} = {47},
 *    {57} x {08} = {8e}, {57} x {10} = {07}.  The same field is used here.
 *  - IETF draft-mcgrew-tss-03 ("Threshold Secret Sharing"), section 9, the
 *    official test case: secret 74 65 73 74 00, threshold 2, share index 1
 *    = B9 FA 07 E1 85, share index 2 = F5 40 9B 45 11.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "shamir.h"
#include "tap.h"

static void field_vectors(void)
{
	TAP_INT_EQ(hsm_gf256_mul(0x57, 0x83), 0xc1, "FIPS 197 4.2: {57} x {83} = {c1}");
	TAP_INT_EQ(hsm_gf256_mul(0x57, 0x13), 0xfe, "FIPS 197 4.2.1: {57} x {13} = {fe}");
	TAP_INT_EQ(hsm_gf256_mul(0x57, 0x02), 0xae, "FIPS 197 4.2.1: xtime({57}) = {ae}");
	TAP_INT_EQ(hsm_gf256_mul(0x57, 0x04), 0x47, "FIPS 197 4.2.1: {57} x {04} = {47}");
	TAP_INT_EQ(hsm_gf256_mul(0x57, 0x08), 0x8e, "FIPS 197 4.2.1: {57} x {08} = {8e}");
	TAP_INT_EQ(hsm_gf256_mul(0x57, 0x10), 0x07, "FIPS 197 4.2.1: {57} x {10} = {07}");

	int inv_ok = 1, comm_ok = 1;
	for (unsigned a = 1; a < 256; a++) {
		if (hsm_gf256_mul((uint8_t)a, hsm_gf256_inv((uint8_t)a)) != 1)
			inv_ok = 0;
		for (unsigned b = 0; b < 256; b++)
			if (hsm_gf256_mul((uint8_t)a, (uint8_t)b) !=
			    hsm_gf256_mul((uint8_t)b, (uint8_t)a))
				comm_ok = 0;
	}
	tap_ok(inv_ok, "a x inv(a) = 1 for every non-zero a");
	tap_ok(comm_ok, "multiplication commutes");
	TAP_INT_EQ(hsm_gf256_inv(0), 0, "inv(0) is 0 (never used as a divisor)");
}

static void tss_vector(void)
{
	static const uint8_t secret[5] = { 0x74, 0x65, 0x73, 0x74, 0x00 };
	static const uint8_t s1[5] = { 0xb9, 0xfa, 0x07, 0xe1, 0x85 };
	static const uint8_t s2[5] = { 0xf5, 0x40, 0x9b, 0x45, 0x11 };
	const uint8_t *ys[2] = { s1, s2 }, *ys_rev[2] = { s2, s1 };
	uint8_t xs[2] = { 1, 2 }, xs_rev[2] = { 2, 1 }, out[5];
	char err[128];

	tap_ok(hsm_shamir_combine(xs, ys, 2, 5, out, err, sizeof(err)) == 0 &&
		   memcmp(out, secret, 5) == 0,
	       "draft-mcgrew-tss-03 section 9: shares 1, 2 give \"test\\0\"");
	tap_ok(hsm_shamir_combine(xs_rev, ys_rev, 2, 5, out, err, sizeof(err)) == 0 &&
		   memcmp(out, secret, 5) == 0,
	       "... in either order");
	/* With threshold 2, f(x) = s + a x: the vector fixes a = s ^ share1,
	 * so share 2 must be s ^ 2a.  Checks our evaluation side against it. */
	int eval_ok = 1;
	for (int b = 0; b < 5; b++)
		if ((secret[b] ^ hsm_gf256_mul((uint8_t)(secret[b] ^ s1[b]), 2)) != s2[b])
			eval_ok = 0;
	tap_ok(eval_ok, "... and share 2 is f(2) of the line through the secret and share 1");
}

static void refusals(void)
{
	uint8_t secret[4] = { 1, 2, 3, 4 }, shares[4 * 4], out[4], xs[2] = { 1, 1 };
	const uint8_t *ys[2] = { shares, shares };
	char err[128];

	tap_ok(hsm_shamir_split(secret, 4, 0, 3, shares, err, sizeof(err)) == -1, "K = 0 refused");
	tap_ok(hsm_shamir_split(secret, 4, 4, 3, shares, err, sizeof(err)) == -1, "K > N refused");
	tap_ok(hsm_shamir_split(secret, 4, 2, 256, shares, err, sizeof(err)) == -1,
	       "N > 255 refused");
	tap_ok(hsm_shamir_combine(xs, ys, 2, 4, out, err, sizeof(err)) == -1,
	       "the same share twice refused");
	TAP_STR_EQ(err, "the same share was given twice", "... saying so");
	xs[0] = 0;
	tap_ok(hsm_shamir_combine(xs, ys, 1, 4, out, err, sizeof(err)) == -1, "x = 0 refused");
}

/* Every K-subset of N shares recovers the secret (all subsets for N <= 6,
 * by bit masks), for several K/N and a 32-byte secret. */
static void any_k_of_n(void)
{
	char err[128];
	int all_ok = 1, fewer_differ = 1;

	for (unsigned n = 1; n <= 6; n++) {
		for (unsigned k = 1; k <= n; k++) {
			uint8_t secret[32], shares[6 * 32], out[32];

			RAND_bytes(secret, sizeof(secret));
			if (hsm_shamir_split(secret, 32, k, n, shares, err, sizeof(err)) != 0) {
				all_ok = 0;
				continue;
			}
			for (unsigned mask = 1; mask < (1u << n); mask++) {
				uint8_t xs[6];
				const uint8_t *ys[6];
				unsigned c = 0;

				for (unsigned i = 0; i < n; i++)
					if (mask & (1u << i)) {
						xs[c] = (uint8_t)(i + 1);
						ys[c++] = shares + i * 32;
					}
				if (c != k && c != k - 1)
					continue;
				if (hsm_shamir_combine(xs, ys, c, 32, out, err, sizeof(err)) != 0) {
					all_ok = 0;
					continue;
				}
				if (c == k && memcmp(out, secret, 32) != 0)
					all_ok = 0;
				/* K-1 shares interpolate a polynomial of lower degree:
				 * its value at 0 is (with overwhelming probability)
				 * not the secret. */
				if (c == k - 1 && c > 0 && memcmp(out, secret, 32) == 0)
					fewer_differ = 0;
			}
		}
	}
	tap_ok(all_ok, "every K-subset of N shares recovers the secret (1 <= K <= N <= 6)");
	tap_ok(fewer_differ, "K-1 shares never gave the secret back");
}

/* Pearson chi-square of counts against the uniform distribution. */
static double chi_square(const unsigned *count, unsigned cells, unsigned long total)
{
	double expect = (double)total / cells, x = 0;

	for (unsigned i = 0; i < cells; i++)
		x += ((double)count[i] - expect) * ((double)count[i] - expect) / expect;
	return x;
}

/* K-1 shares say nothing about the secret: for two fixed, very different
 * secrets (all 0x00 and all 0xff), the bytes of share 1 (K = 2) and the
 * pairs of high nibbles of shares 1 and 2 (K = 3) are uniform.  The
 * bounds are the mean plus about 6 standard deviations of the chi-square
 * distribution (df 255: 255 + 6 x 22.6), so a correct implementation
 * fails with a probability below 1e-8; a biased one (the check itself is
 * tested on the secret, which is constant) fails by orders of magnitude. */
static void k_minus_1_uniform(void)
{
	enum { LEN = 4096, ROUNDS = 16 };
	static uint8_t secret[LEN], shares[3 * LEN];
	char err[128];
	const double bound = 255 + 6 * 22.6;

	for (int which = 0; which < 2; which++) {
		unsigned one[256] = { 0 }, pair[256] = { 0 }, constant[256] = { 0 };

		memset(secret, which ? 0xff : 0x00, LEN);
		for (int r = 0; r < ROUNDS; r++) {
			hsm_shamir_split(secret, LEN, 2, 3, shares, err, sizeof(err));
			for (int b = 0; b < LEN; b++) {
				one[shares[b]]++;
				constant[secret[b]]++;
			}
			hsm_shamir_split(secret, LEN, 3, 3, shares, err, sizeof(err));
			for (int b = 0; b < LEN; b++)
				pair[(shares[b] >> 4) << 4 | shares[LEN + b] >> 4]++;
		}
		double x1 = chi_square(one, 256, (unsigned long)LEN * ROUNDS);
		double x2 = chi_square(pair, 256, (unsigned long)LEN * ROUNDS);
		double xc = chi_square(constant, 256, (unsigned long)LEN * ROUNDS);
		tap_ok(x1 < bound,
		       "K=2, secret %02x: one share is uniform (chi-square %.1f < %.1f)",
		       which ? 0xff : 0, x1, bound);
		tap_ok(x2 < bound,
		       "K=3, secret %02x: two shares are jointly uniform (chi-square %.1f < %.1f)",
		       which ? 0xff : 0, x2, bound);
		tap_ok(xc > 100 * bound, "... and the check does see a constant (chi-square %.0f)",
		       xc);
	}
}

int main(void)
{
	field_vectors();
	tss_vector();
	refusals();
	any_k_of_n();
	k_minus_1_uniform();
	return tap_done();
}
