#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/lib.sh - what every benchmark does before it measures: build and
# install an -O2 tree under _build/bench (BENCH_BUILD), make a scratch
# HSMADMIN_CONF/HSMADMIN_HOME with a bench vendor key, start emulated HSMs,
# and the median and ratio arithmetic.  Source it after `set -eu`; it
# leaves the working directory at the top of the tree, with $top, $b and
# $inst (the installation measured: INST=DIR, e.g. an older build to
# compare, or else the one bench_build makes in $b/inst).

cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$PWD
b=${BENCH_BUILD:-$top/_build/bench}
inst=${INST:-$b/inst}

# bench_build [TARGET...]: configure once, then make the targets (none: the
# whole tree, installed under $b/inst).
bench_build() {
	mkdir -p "$b"
	[ -x configure ] || autoreconf -fi >/dev/null
	(cd "$b" && [ -f Makefile ] || "$top/configure" --quiet --prefix="$b/inst" CFLAGS="-O2 -g")
	if [ $# -gt 0 ]; then
		make -C "$b" -j"$(nproc)" --quiet "$@" >/dev/null
	else
		make -C "$b" -j"$(nproc)" --quiet >/dev/null
		make -C "$b" install --quiet >/dev/null
	fi
}

# bench_runtimes: $b/runtimes N CMD... prints the median run time (us).
bench_runtimes() {
	cc -O2 -o "$b/runtimes" bench/runtimes.c
}

# bench_scratch: $w, removed on exit with every process in $pids; the
# installed configuration as HSMADMIN_CONF with modules.d and a vendor.d
# that trusts $w/vendor.key; an empty HSMADMIN_HOME; a system UUID for key
# protection (this machine may have no DMI one); this run's own addresses
# ($net, bench_net).
bench_scratch() {
	w=$(mktemp -d /tmp/hsmbench.XXXXXX)
	pids=""
	hsmd_pid=""
	bench_net
	trap bench_cleanup EXIT
	export PATH="$inst/bin:$inst/sbin:$PATH"
	export HSMADMIN_CONF=$w/conf HSMADMIN_HOME=$w/home
	head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$w/system-uuid"
	export HSMADMIN_SYSTEM_UUID_FILE=$w/system-uuid
	cp -r "$inst/etc/hsmadmin" "$HSMADMIN_CONF"
	mkdir -p "$HSMADMIN_CONF/modules.d" "$HSMADMIN_CONF/vendor.d"
	hsm-vendor keygen --out "$w/vendor.key" --pub "$HSMADMIN_CONF/vendor.d/bench.pem" >/dev/null
}

# Under set -e: a process that is already gone must not stop the cleanup.
bench_cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$w"
}

# bench_net: a random 127.X.Y of this run's own in $net (addresses $net.1
# to $net.254), as tests/lib/common.sh's test_address does for the tests:
# two runs, or a run beside the test suite, never collide on an address.
bench_net() {
	net=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
}

# bench_provision NAME ESN ADDRESS: a factory-state HSM in $w/NAME whose
# modules.d entry is $HSMADMIN_CONF/modules.d/NAME.conf.
bench_provision() {
	hsmd provision --state "$w/$1" --esn "$2" --address "$3" --vendor-key "$w/vendor.key" \
		--module-conf "$HSMADMIN_CONF/modules.d/$1.conf" >/dev/null
}

# bench_one_hsm ESN: the HSM "hsm" with this ESN on $net.1 (sets esn and
# addr), provisioned; with --own-allocations it also gets a machine-wide VCM
# allocations table of its own under $w (the stores benches measure).
bench_one_hsm() {
	esn=$1
	addr=$net.1
	bench_provision hsm "$esn" "$addr"
	if [ "${2:-}" = --own-allocations ]; then
		printf '\n[paths]\nvcm_allocations = %s/vcm-allocations.json\n' "$w" >>"$HSMADMIN_CONF/hsmd.conf"
	fi
}

# bench_run NAME CONF: run the HSM of $w/NAME in the background with hsmd's
# configuration CONF (log $w/NAME.log); its pid is $bench_pid, also in $pids.
bench_run() {
	hsmd run --state "$w/$1" --conf "$2" >>"$w/$1.log" 2>&1 &
	bench_pid=$!
	pids="$pids $bench_pid"
}

# bench_hsm_start [PORT [TRIES [SECONDS]]]: run the HSM "hsm" (bench_provision
# hsm ESN $addr) with the installed configuration $HSMADMIN_CONF; its pid is
# $hsmd_pid; returns once PORT (default 2201, sshadmin) accepts, tried as
# bench_wait_port does.
bench_hsm_start() {
	bench_run hsm "$HSMADMIN_CONF"
	hsmd_pid=$bench_pid
	bench_wait_port "$addr" "${1:-2201}" "${2:-100}" "${3:-0.05}"
}

# bench_hsm_start_timed [BANNER_TRIES]: bench_hsm_start, timed.  Sets
# start_port_us and start_banner_us: the microseconds until the port accepts
# and until it answers with an SSH banner (the boot is over), tried
# BANNER_TRIES times (default 4000).  Not in a subshell or pipe: hsmd_pid
# must reach bench_hsm_stop.
bench_hsm_start_timed() {
	_t0=$(now_ns)
	bench_hsm_start 2201 20000 0.005
	_t1=$(now_ns)
	bench_wait_banner "$addr" 2201 "${1:-4000}"
	start_port_us=$(((_t1 - _t0) / 1000))
	start_banner_us=$((($(now_ns) - _t0) / 1000))
}

# bench_hsm_stop: stop the HSM bench_hsm_start ran (SIGTERM, wait), if any.
bench_hsm_stop() {
	[ -n "$hsmd_pid" ] || return 0
	kill "$hsmd_pid" 2>/dev/null || true
	wait "$hsmd_pid" 2>/dev/null || true
	pids=${pids/ $hsmd_pid/}
	hsmd_pid=
}

# bench_licence ESN COUNT: a licence for COUNT active VCMs, made with the
# bench vendor key, applied with hsmadmin fet.
bench_licence() {
	hsm-vendor licence --key "$w/vendor.key" --esn "$1" --max-active-vcms "$2" --out "$w/$2.lic" >/dev/null
	hsmadmin fet "$w/$2.lic" >/dev/null
}

# bench_wait_port ADDRESS PORT [TRIES [SECONDS]]: until something listens
# there, trying TRIES times (default 100) SECONDS apart (default 0.05).
bench_wait_port() {
	for _ in $(seq 1 "${3:-100}"); do
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
		sleep "${4:-0.05}"
	done
	return 0
}

# bench_wait_banner ADDRESS PORT TRIES: until a connection there gets an
# SSH banner (hsmd's event loop runs: its boot is over), TRIES tries 5 ms
# apart.
bench_wait_banner() {
	for _ in $(seq 1 "$3"); do
		if exec 3<>"/dev/tcp/$1/$2"; then
			if read -t 60 -r _line <&3 && [ "${_line#SSH-}" != "$_line" ]; then
				exec 3<&-
				return 0
			fi
			exec 3<&-
		fi 2>/dev/null
		sleep 0.005
	done
}

# bench_enroll: enroll this host with every HSM provisioned under $w (each
# in factory state shows its one-time enrollment secret in its state
# directory).
bench_enroll() {
	cat "$w"/*/enrollment-secret >"$w/secrets"
	hsmadmin enroll --secret-file "$w/secrets" >/dev/null
}

# The median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ratio A B [DIGITS]: A / B with DIGITS decimals (default 2).
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%." d "f", a / b }'; }
# Microseconds as milliseconds.
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1000 }'; }
# Now, in nanoseconds and in milliseconds since the epoch.
now_ns() { date +%s%N; }
now_ms() { date +%s%3N; }
# Resident memory of a process, KiB.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
