#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/keyload.sh - what does client key protection cost a load?
#
# Builds the tree with -O2 (no sanitizers) and runs bench/keyload.c, which
# loads the same Ed25519 key N times (default 1000) in one process from an
# unprotected PEM file and from a KFSG-protected file, and a few times from
# a KP (scrypt) file, and prints medians and ratios.
# Target: a KFSG load under 5 ms (exit 1 otherwise).
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-1000}
bench_build core/libhsmadmin-crypto.la
cc -O2 -o "$b/keyload" bench/keyload.c -I"$top/core/crypto" -I"$top/core/include" \
	-L"$b/core/.libs" -lhsmadmin-crypto -lhsmadmin -lcrypto -Wl,-rpath,"$b/core/.libs"
"$b/keyload" "$N"
