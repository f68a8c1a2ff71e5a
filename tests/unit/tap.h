/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/tap.h - a tiny TAP producer for the C unit tests.
 * Each check prints "ok N - name" or "not ok N - name"; tap_done() prints
 * the plan and returns the exit status.  Automake's tap-driver counts them.
 */
#ifndef HSM_TESTS_TAP_H
#define HSM_TESTS_TAP_H
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static void tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static void tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define TAP_STR_EQ(got, want, name)                                                                \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		int eq_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                             \
		tap_ok(eq_, "%s", name);                                                           \
		if (!eq_)                                                                          \
			printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)",             \
			       w_ ? w_ : "(null)");                                                \
	} while (0)

#define TAP_INT_EQ(got, want, name)                                                                \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		tap_ok(g_ == w_, "%s", name);                                                      \
		if (g_ != w_)                                                                      \
			printf("#   got:  %lld\n#   want: %lld\n", g_, w_);                        \
	} while (0)

/* got contains needle. */
#define TAP_HAS(got, needle, name)                                                                 \
	do {                                                                                       \
		const char *g_ = (got), *n_ = (needle);                                            \
		int has_ = g_ && strstr(g_, n_) != NULL;                                           \
		tap_ok(has_, "%s", name);                                                          \
		if (!has_)                                                                         \
			printf("#   got:  '%s'\n#   want: ...'%s'...\n", g_ ? g_ : "(null)", n_);  \
	} while (0)

static int tap_done(void) __attribute__((unused));
static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
