#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/upgrade.sh - firmware packages, each figure a ratio against a
# reference measured in the same run (best of REPS, default 3):
#
#  (a) the streaming verifier alone (`hsmadmin npkginfo`: signature, every
#      digest, the framing; no network) vs `openssl dgst -sha256` of the
#      same SIZE MiB package.  Target >= 0.8x its throughput.
#      And the device's own verifier without any transport: `hsmd
#      provision --firmware` of the package (the same reader and image
#      writer as the updater: hash every file, stage it, fsync, commit)
#      minus a provision without it, in CPU time, vs openssl dgst's.
#  (b) the full device-side path, `hsmadmin upgrade --dry-run` to one
#      emulated HSM (host check, SSH transfer, hsmd verifying and writing
#      the staged image), against two references:
#        - the bare transfer: the same command, the same bytes, the same
#          SSH exec channel and hsmd event loop, to an HSM whose updater is
#          bench/updater-sink.c (a bench-only module built here that drops
#          the bytes: no verification, no image, never installed);
#        - openssl dgst, as the issue's target is stated.
#      And hsmd's own CPU time (utime+stime from /proc) for the real and
#      the sink transfer: their difference is what verifying and staging
#      cost the device, compared with openssl dgst's CPU time.  CPU time
#      is the figure to trust on a loaded machine.
#  (c) hsmd's peak memory (VmHWM) after receiving a SMALL and a SIZE MiB
#      package: should not depend on the package size.
#  (d) `hsmadmin upgrade --dry-run` of the SMALL package to 16 HSMs in
#      parallel vs to one.
#  (e) a real `hsmadmin upgrade` (install, reboot into the new image) of
#      the SMALL package: the command's time for one HSM and for 16, and
#      until every upgraded HSM serves again (first boot: factory state).
#
# SIZE (MiB, default 32), SMALL (default 4), REPS (default 3), TIMEOUT
# (seconds a command may take, default 120, the most hsmadmin allows).  Every part runs to the end:
# a command that fails is reported as such and its figure printed as "-".
set -eu
. "$(dirname "$0")/lib.sh"
SIZE=${SIZE:-32}
SMALL=${SMALL:-4}
REPS=${REPS:-3}
TIMEOUT=${TIMEOUT:-120}
bench_build

bench_scratch
export NFAST_KEYPROT=KFG
# hsmd's configuration: the installed one, trusting the bench vendor.
cp -r "$HSMADMIN_CONF" "$w/hsmdconf"
svcdir=$(sed -n 's/^servicedir *= *//p' "$w/hsmdconf/hsmd.conf" | head -1)
[ -n "$svcdir" ] || svcdir=$inst/lib/hsmadmin/services

# The reference HSM's configuration: the same modules, but the updater is
# the bench sink.
mkdir -p "$w/sinksvc"
cp "$svcdir"/*.so "$w/sinksvc/"
cc -O2 -shared -fPIC -o "$w/sinksvc/updater.so" bench/updater-sink.c -I"$top/core/include" \
	$(pkg-config --cflags jansson)
cp -r "$w/hsmdconf" "$w/sinkconf"
{ grep -v '^ *servicedir' "$w/hsmdconf/hsmd.conf" | sed "s|^\[paths\]|[paths]\nservicedir = $w/sinksvc|"; } \
	>"$w/sinkconf/hsmd.conf"
grep -q "^servicedir = $w/sinksvc" "$w/sinkconf/hsmd.conf" ||
	printf '[paths]\nservicedir = %s\n' "$w/sinksvc" >>"$w/sinkconf/hsmd.conf"

# Packages: the installed services plus one payload file of the size.
mkdir -p "$w/mods/services.d"
cp "$svcdir"/*.so "$w/mods/"
cp "$w/hsmdconf/services.d/"*.conf "$w/mods/services.d/"
pkg() { # MiB OUT
	head -c "$1M" /dev/urandom >"$w/mods/zzpayload.so"
	hsm-vendor npkg --key "$w/vendor.key" --component primary --version 13.7.1 --vsn 8 \
		--modules "$w/mods" --out "$2" >/dev/null
}
pkg "$SIZE" "$w/big.npkg"
pkg "$SMALL" "$w/small.npkg"
rm -f "$w/mods/zzpayload.so"

# HSMs 1-16 real, 17 the sink, in this run's own network (bench_net).
esn() { printf 'BE0D-0000-%04d' "$1"; }
start_hsm() { # I CONF
	bench_provision "hsm$1" "$(esn "$1")" "$net.$1"
	bench_run "hsm$1" "$2"
	eval "hsm_pid_$1=$bench_pid"
}
for i in $(seq 1 16); do start_hsm "$i" "$w/hsmdconf"; done
start_hsm 17 "$w/sinkconf"
for i in $(seq 1 17); do bench_wait_port "$net.$i" 2204; done
bench_enroll

failed=""
# secs CMD...: microseconds, or "-" when the command failed.
secs() {
	local s e
	s=$(date +%s%N)
	if ! "$@" >/dev/null 2>"$w/last.err"; then
		echo "  failed: $* ($(head -c 300 "$w/last.err"))" >&2
		echo -
		return 0
	fi
	e=$(date +%s%N)
	echo $(((e - s) / 1000))
}
# best CMD...: the least of REPS runs ("-" if any failed).
best() {
	local m= t
	for _ in $(seq 1 "$REPS"); do
		t=$(secs "$@")
		[ "$t" = - ] && { echo -; return 0; }
		if [ -z "$m" ] || [ "$t" -lt "$m" ]; then m=$t; fi
	done
	echo "$m"
}
# cpu_of PID: its utime+stime in microseconds.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"; }
# best_cpu PID CMD...: the least CPU time PID spent during one of REPS runs.
best_cpu() {
	local pid=$1 m= a z t
	shift
	for _ in $(seq 1 "$REPS"); do
		a=$(cpu_of "$pid")
		"$@" >/dev/null 2>&1 || { echo -; return 0; }
		z=$(cpu_of "$pid")
		t=$((z - a))
		if [ -z "$m" ] || [ "$t" -lt "$m" ]; then m=$t; fi
	done
	echo "$m"
}
# own_cpu CMD...: the least user+system time of the command itself.
own_cpu() {
	local m= t
	for _ in $(seq 1 "$REPS"); do
		/usr/bin/env time -o "$w/time.out" -f '%U %S' "$@" >/dev/null 2>&1 || { echo -; return 0; }
		t=$(awk '{ printf "%d", ($1 + $2) * 1000000 }' "$w/time.out")
		if [ -z "$m" ] || [ "$t" -lt "$m" ]; then m=$t; fi
	done
	echo "$m"
}
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
r() { case "$1$2" in *-*) echo - ;; *) ratio "$1" "$2" ;; esac; }
d() { case "$1$2" in *-*) echo - ;; *) echo $(($1 - $2)) ;; esac; }
mbs() { case "$1" in -) echo "- MB/s" ;; *) awk -v s="$(stat -c %s "$2")" -v t="$1" 'BEGIN { printf "%.0f MB/s", s / t }' ;; esac; }
one=$(esn 1)
up() { hsmadmin upgrade --timeout "$TIMEOUT" "$@"; }
dry() { up --esn "$1" --dry-run --force "$2"; }

# (a) the verifier alone.
t_openssl=$(best openssl dgst -sha256 "$w/big.npkg")
t_info=$(best hsmadmin npkginfo "$w/big.npkg")
c_openssl=$(own_cpu openssl dgst -sha256 "$w/big.npkg")
c_info=$(own_cpu hsmadmin npkginfo "$w/big.npkg")

# (a) the device's verifier and image writer, offline (CPU time).
cat >"$w/prov.sh" <<EOF
rm -rf "$w/prov" "$w/prov.conf"
exec hsmd provision --state "$w/prov" --esn BE0D-0000-0099 --address 127.0.0.1 \\
	--vendor-key "$w/vendor.key" --module-conf "$w/prov.conf" "\$@"
EOF
c_prov0=$(own_cpu bash "$w/prov.sh")
c_prov1=$(own_cpu bash "$w/prov.sh" --firmware "$w/big.npkg")
rm -rf "$w/prov" "$w/prov.conf"

# (b) the device side, and (c) its memory.
dry "$one" "$w/small.npkg" >/dev/null || failed="$failed (b)"
hwm_small=$(hwm "$hsm_pid_1")
t_up1=$(best dry "$one" "$w/big.npkg")
hwm_big=$(hwm "$hsm_pid_1")
t_sink=$(best dry "$(esn 17)" "$w/big.npkg")
c_up1=$(best_cpu "$hsm_pid_1" dry "$one" "$w/big.npkg")
c_sink=$(best_cpu "$hsm_pid_17" dry "$(esn 17)" "$w/big.npkg")

# (d) 16 HSMs vs 1, dry runs of the small package.
all=()
for i in $(seq 1 16); do all+=(--esn "$(esn "$i")"); done
t_small1=$(best dry "$one" "$w/small.npkg")
t_up16=$(secs up "${all[@]}" --dry-run --force "$w/small.npkg")

# (e) real upgrades: one HSM, then (enrolled again) all 16.
# Until each HSM I logged one more first boot of the new image than
# counted in before[I].
declare -A before
count_boots() { grep -c "firmware 13.7.1 booted for the first time" "$w/hsm$1.log" 2>/dev/null || true; }
snapshot() { for i in "$@"; do before[$i]=$(count_boots "$i"); done; }
booted() {
	for _ in $(seq 1 1200); do
		local left=0
		for i in "$@"; do [ "$(count_boots "$i")" -gt "${before[$i]:-0}" ] || left=1; done
		[ "$left" = 0 ] && return 0
		sleep 0.05
	done
	return 1
}
real_upgrade() { # ESN-OPTIONS...: sets t_real t_serve
	local s0 s1 s2
	snapshot "${hsms[@]}"
	s0=$(date +%s%N)
	if ! up "$@" --force "$w/small.npkg" >/dev/null 2>"$w/last.err"; then
		echo "(e) the upgrade of ${#hsms[@]} HSM(s) failed: $(head -c 300 "$w/last.err")" >&2
		failed="$failed (e)"
		t_real=- t_serve=-
		return 0
	fi
	s1=$(date +%s%N)
	if ! booted "${hsms[@]}"; then
		echo "(e) not every HSM rebooted into the new image in 60 s" >&2
		failed="$failed (e)"
		t_real=$(((s1 - s0) / 1000)) t_serve=-
		return 0
	fi
	s2=$(date +%s%N)
	t_real=$(((s1 - s0) / 1000)) t_serve=$(((s2 - s0) / 1000))
}
hsms=(1)
real_upgrade --esn "$one"
t_real1=$t_real t_serve1=$t_serve
# The upgraded HSM is in factory state: enroll it again (its new secret).
for _ in $(seq 1 100); do [ -s "$w/hsm1/enrollment-secret" ] && break; sleep 0.05; done
hsmadmin enroll --esn "$one" --secret-file "$w/hsm1/enrollment-secret" >/dev/null 2>&1 ||
	failed="$failed (e: enroll)"
hsms=($(seq 1 16))
real_upgrade "${all[@]}"
t_real16=$t_real t_serve16=$t_serve

size=$(stat -c %s "$w/big.npkg")
echo "package: $size bytes (${SIZE} MiB payload); best of $REPS, microseconds"
echo "(a) verifier alone: openssl dgst -sha256 $t_openssl ($(mbs "$t_openssl" "$w/big.npkg")),"
echo "    npkginfo $t_info ($(mbs "$t_info" "$w/big.npkg")); CPU: openssl $c_openssl, npkginfo $c_info"
echo "    verifier throughput / openssl dgst           = $(r "$t_openssl" "$t_info")   (target >= 0.8; CPU: $(r "$c_openssl" "$c_info"))"
echo "    hsmd provision CPU: with the package $c_prov1, without $c_prov0; verify+install = $(d "$c_prov1" "$c_prov0") us"
echo "    device verifier offline, CPU throughput / openssl = $(r "$c_openssl" "$(d "$c_prov1" "$c_prov0")")   (target >= 0.8)"
echo "(b) upgrade --dry-run 1 HSM $t_up1 ($(mbs "$t_up1" "$w/big.npkg")); the same to the sink $t_sink ($(mbs "$t_sink" "$w/big.npkg"))"
echo "    bare transfer (sink) / full dry run          = $(r "$t_sink" "$t_up1")   (1.00: verifying costs nothing over the transfer)"
echo "    full dry run / openssl dgst                  = $(r "$t_openssl" "$t_up1")"
echo "    hsmd CPU: real $c_up1, sink $c_sink; verify+stage = $(d "$c_up1" "$c_sink") us"
echo "    device verify+stage CPU throughput / openssl = $(r "$c_openssl" "$(d "$c_up1" "$c_sink")")   (target >= 0.8)"
echo "    hsmd whole dry run CPU / openssl CPU         = $(r "$c_openssl" "$c_up1")"
echo "(c) hsmd peak RSS: $hwm_small KiB after ${SMALL} MiB, $hwm_big KiB after ${SIZE} MiB (target: the same)"
echo "(d) ${SMALL} MiB dry run: 1 HSM $t_small1, 16 HSMs $t_up16; 16 HSMs / 1 HSM = $(r "$t_up16" "$t_small1")"
echo "(e) real upgrade (${SMALL} MiB): 1 HSM $t_real1 us (serving again after $t_serve1 us);"
echo "    16 HSMs $t_real16 us (all serving again after $t_serve16 us); 16/1 = $(r "$t_real16" "$t_real1")"
if [ -n "$failed" ]; then
	echo "failed:$failed"
	exit 1
fi
