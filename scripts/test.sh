#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scripts/test.sh - build hsmadmin with ASan+UBSan and run every test:
# unit, CLI and integration tests (make check), each fuzz target for a
# bounded time, and make distcheck.  Ends with "N passed, N failed".
#
#   sudo bash scripts/test.sh          (installs its build dependencies)
#
# Environment: FUZZ_SECONDS (default 20 per target), SKIP_DISTCHECK=1,
# SKIP_PACKAGES=1 (the Debian package build and install check).
set -u
cd "$(dirname "$0")/.." || exit 1
top=$PWD
. scripts/deps.sh
hsm_install_deps $HSM_BUILD_DEPS $HSM_TEST_DEPS
jobs=$(hsm_jobs)
log=$top/_build/logs
mkdir -p "$log"
passed=0 failed=0 skipped=0
step() { # step NAME CMD... : one counted step, output in _build/logs/NAME.log
	name=$1; shift
	if "$@" >"$log/$name.log" 2>&1; then echo "PASS: $name"; passed=$((passed + 1)); return 0; fi
	echo "FAIL: $name (see $log/$name.log)"; tail -n 30 "$log/$name.log" | sed 's/^/    /'
	failed=$((failed + 1)); return 1
}
summary() { # the single closing line CI reads
	if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"
	else echo "$passed passed, $failed failed"; fi
	[ "$failed" -eq 0 ]
}

step autoreconf autoreconf -fi || { summary; exit 1; }
mkdir -p _build/san
( cd _build/san && step configure "$top/configure" --enable-sanitizers --enable-werror ) || { failed=$((failed + 1)); summary; exit 1; }
step build make -C _build/san -j"$jobs" || { summary; exit 1; }

# make check: every TAP test point counts.
make -C _build/san -j"$jobs" check >"$log/check.log" 2>&1
for trs in $(find _build/san -name '*.trs'); do
	p=$(grep -c '^:test-result: PASS' "$trs"); f=$(grep -c '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$trs")
	s=$(grep -c '^:test-result: SKIP' "$trs")
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	[ "$f" -gt 0 ] && { echo "FAIL: ${trs%.trs}"; grep -E '^not ok|^#' "${trs%.trs}.log" | head -n 40 | sed 's/^/    /'; }
done
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' "$log/check.log" | sed 's/^/make check /'
if ! grep -q '^# TOTAL' "$log/check.log"; then
	echo "FAIL: make check did not run (see $log/check.log)"; tail -n 30 "$log/check.log"; failed=$((failed + 1))
fi

# Fuzz targets: clang + libFuzzer, each for a bounded time from its corpus.
mkdir -p _build/fuzz
if ( cd _build/fuzz && "$top/configure" CC=clang --enable-fuzzing --enable-sanitizers --enable-werror >"$log/fuzz-configure.log" 2>&1 ) &&
   make -C _build/fuzz -j"$jobs" all >"$log/fuzz-build.log" 2>&1; then
	for f in _build/fuzz/tests/fuzz/fuzz-*; do
		[ -x "$f" ] && [ ! -d "$f" ] || continue
		n=${f##*/fuzz-}
		corpus=$top/tests/fuzz/corpus/$n
		mkdir -p "_build/fuzz/corpus/$n"
		step "fuzz-$n" "$f" -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -timeout=10 \
			"_build/fuzz/corpus/$n" $( [ -d "$corpus" ] && echo "$corpus")
	done
else
	echo "FAIL: fuzz build (see $log/fuzz-build.log)"; tail -n 30 "$log/fuzz-build.log"; failed=$((failed + 1))
fi

# distcheck proves the tarball builds, installs, uninstalls and passes its
# unit tests out of tree; the whole suite already ran above, so running it
# again there would only double the time.
distcheck_tests="$(cd "$top" && ls tests/unit/test-*.c | sed 's/\.c$//' | tr '\n' ' ')tests/repo/licence.sh"
if [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
	mkdir -p _build/dist
	( cd _build/dist && "$top/configure" --enable-werror >/dev/null 2>&1 ) &&
		step distcheck make -C _build/dist distcheck TESTS="$distcheck_tests"
else
	skipped=$((skipped + 1)); echo "SKIP: distcheck (SKIP_DISTCHECK=1)"
fi
# Debian packages: build, lint, install, smoke flow, remove, purge (as root;
# the script skips itself otherwise).  Every TAP point counts.
if [ "${SKIP_PACKAGES:-0}" != 1 ]; then
	hsm_install_deps $HSM_PKG_DEPS
	bash tests/packaging/debian.sh "$top/_build/deb" >"$log/packages.log" 2>&1
	p=$(grep -c '^ok ' "$log/packages.log"); f=$(grep -c '^not ok ' "$log/packages.log")
	s=$(grep -c '^1\.\.0 # SKIP' "$log/packages.log")
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -gt 0 ] || ! grep -q '^1\.\.' "$log/packages.log"; then
		echo "FAIL: packages (see $log/packages.log)"; grep -A25 '^not ok' "$log/packages.log" | head -n 60 | sed 's/^/    /'
		grep -q '^1\.\.' "$log/packages.log" || failed=$((failed + 1))
	else
		echo "PASS: packages ($p checks)"
	fi
else
	skipped=$((skipped + 1)); echo "SKIP: packages (SKIP_PACKAGES=1)"
fi
summary
