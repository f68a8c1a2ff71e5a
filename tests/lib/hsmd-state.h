/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/lib/hsmd-state.h - set-up shared by the C unit tests of hsmd's
 * state store: a freshly provisioned HSM state in a temporary directory.
 */
#ifndef HSM_TESTS_HSMD_STATE_H
#define HSM_TESTS_HSMD_STATE_H

#include <stddef.h>

/* Make a temporary directory $TMPDIR/NAME-XXXXXX (into dir, dirlen bytes),
 * a vendor key in it, and provision a test HSM (ESN 1A23-BC45-6789,
 * address 127.0.0.9) in DIR/s (into state).  Returns the exit status of
 * hsmd provision, or -1 when the directory could not be made. */
int test_hsmd_provision(const char *name, char *dir, size_t dirlen, char *state, size_t statelen);

/* Remove what test_hsmd_provision made: 0, or -1 when that failed. */
int test_hsmd_cleanup(const char *dir);

#endif
