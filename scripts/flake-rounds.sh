#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scripts/flake-rounds.sh - run a set of tests several rounds in a row under
# `make check -jJOBS` and stop at the first round with a failure, keeping
# the failing tests' logs.  It is how the suite is checked for flaky tests:
# run it while another build loads every core.
#
#   bash scripts/flake-rounds.sh BUILDDIR [ROUNDS [JOBS [REGEX]]]
#
# BUILDDIR is a configured and built tree; ROUNDS defaults to 20, JOBS to 4,
# REGEX (which TESTS to run, an extended regex) to tests/integration/.
# Prints one line per round and exits 0 only if every round passed; the logs
# of a failing round are copied to BUILDDIR/flake-rounds/round-N/.
set -u
builddir=${1:?usage: flake-rounds.sh BUILDDIR [ROUNDS [JOBS [REGEX]]]}
rounds=${2:-20} jobs=${3:-4} regex=${4:-tests/integration/}
tests=$(make -s -C "$builddir" -pn 2>/dev/null | sed -n 's/^TESTS = //p' | head -n 1 |
	tr ' ' '\n' | grep -E -- "$regex" | tr '\n' ' ')
[ -n "$tests" ] || { echo "flake-rounds: no TESTS match '$regex' in $builddir" >&2; exit 2; }
echo "flake-rounds: $(echo $tests | wc -w) tests, $rounds rounds, make -j$jobs, load $(cut -d' ' -f1 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
	start=$(date +%s)
	make -C "$builddir" -j"$jobs" check TESTS="$tests" >"$builddir/flake-rounds.log" 2>&1
	rc=$?
	total=$(sed -n 's/^# TOTAL: *//p' "$builddir/flake-rounds.log")
	fails=$(grep -l '^:test-result: \(FAIL\|ERROR\)' $(for t in $tests; do echo "$builddir/${t%.sh}.trs"; done) 2>/dev/null)
	echo "round $r: rc $rc, $total tests, $(($(date +%s) - start)) s, load $(cut -d' ' -f1 /proc/loadavg)"
	if [ "$rc" -ne 0 ] || [ -n "$fails" ]; then
		mkdir -p "$builddir/flake-rounds/round-$r"
		cp "$builddir/flake-rounds.log" "$builddir/flake-rounds/round-$r/"
		for f in $fails; do
			cp "${f%.trs}.log" "$builddir/flake-rounds/round-$r/"
			echo "  failed: ${f%.trs}"
			grep -E '^not ok' "${f%.trs}.log" | head -n 5 | sed 's/^/    /'
		done
		exit 1
	fi
done
echo "flake-rounds: $rounds rounds passed"
