#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/upgrade.sh - firmware packages, measured in one run against
# `openssl dgst -sha256` of the same file:
#
#  (a) the streaming verifier on a host (`hsmadmin npkginfo`: signature,
#      every digest, the framing) vs openssl dgst -sha256.  Target >= 0.8x
#      its throughput.
#  (b) the device side: `hsmadmin upgrade --dry-run` of the package to one
#      emulated HSM (host check, SSH transfer, hsmd verifying and writing
#      the staged image) vs openssl dgst.
#  (c) hsmd's peak memory (VmHWM) after receiving a SMALL and a SIZE MiB
#      package: should not depend on the package size.
#  (d) `hsmadmin upgrade --dry-run` of the SMALL package to 16 HSMs in
#      parallel vs to one (16 x SIZE MiB would exceed the 120 s timeout on
#      a small machine: every byte goes through SSH to every HSM).
#  (e) a real `hsmadmin upgrade` (install, reboot into the new image) of
#      the SMALL package: the command's time for one HSM and for 16, and
#      until every upgraded HSM serves again (first boot: factory state).
#
# SIZE (MiB, default 256), SMALL (default 16).  Prints ratios.
set -eu
. "$(dirname "$0")/lib.sh"
SIZE=${SIZE:-256}
SMALL=${SMALL:-16}
bench_build

bench_scratch
bench_net
export NFAST_KEYPROT=KFG
# hsmd's configuration: the installed one, trusting the bench vendor.
cp -r "$HSMADMIN_CONF" "$w/hsmdconf"

# Packages: the installed services plus one payload file of the size.
svcdir=$(sed -n 's/^servicedir *= *//p' "$w/hsmdconf/hsmd.conf" | head -1)
[ -n "$svcdir" ] || svcdir=$b/inst/lib/hsmadmin/services
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

start_hsm() { # I
	bench_provision "hsm$1" "$(printf 'BE0D-0000-%04d' "$1")" "$net.$1"
	bench_run "hsm$1" "$w/hsmdconf"
	eval "hsm_pid_$1=$bench_pid"
}
for i in $(seq 1 16); do start_hsm "$i"; done
for i in $(seq 1 16); do bench_wait_port "$net.$i" 2204; done
bench_enroll

secs() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
best() { local m=; for _ in 1 2 3; do t=$(secs "$@"); [ -z "$m" ] || [ "$t" -lt "$m" ] && m=$t; done; echo "$m"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
one=BE0D-0000-0001
t_openssl=$(best openssl dgst -sha256 "$w/big.npkg")
t_info=$(best hsmadmin npkginfo "$w/big.npkg")
hsmadmin upgrade --esn "$one" --dry-run --force --timeout 120 "$w/small.npkg" >/dev/null
hwm_small=$(hwm "$hsm_pid_1")
t_up1=$(best hsmadmin upgrade --esn "$one" --dry-run --force --timeout 120 "$w/big.npkg")
hwm_big=$(hwm "$hsm_pid_1")
all=(); for i in $(seq 1 16); do all+=(--esn "$(printf 'BE0D-0000-%04d' "$i")"); done
t_small1=$(best hsmadmin upgrade --esn "$one" --dry-run --force --timeout 120 "$w/small.npkg")
t_up16=$(secs hsmadmin upgrade "${all[@]}" --dry-run --force --timeout 120 "$w/small.npkg")

# (e) real upgrades: one HSM, then (enrolled again) all 16.
# Until each HSM I... logged one more first boot of the new image than
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
snapshot 1
s0=$(date +%s%N)
hsmadmin upgrade --esn "$one" --force --timeout 120 "$w/small.npkg" >/dev/null
s1=$(date +%s%N)
booted 1 || echo "(e) HSM 1 did not reboot in 60 s"
s2=$(date +%s%N)
t_real1=$(( (s1 - s0) / 1000 )) t_serve1=$(( (s2 - s0) / 1000 ))
hsmadmin enroll --esn "$one" --secret-file "$w/hsm1/enrollment-secret" >/dev/null
snapshot $(seq 1 16)
s0=$(date +%s%N)
hsmadmin upgrade "${all[@]}" --force --timeout 120 "$w/small.npkg" >/dev/null || echo "(e) an upgrade of the 16 failed"
s1=$(date +%s%N)
booted $(seq 1 16) || echo "(e) not every HSM rebooted in 60 s"
s2=$(date +%s%N)
t_real16=$(( (s1 - s0) / 1000 )) t_serve16=$(( (s2 - s0) / 1000 ))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mbs() { awk -v s="$(stat -c %s "$w/big.npkg")" -v t="$1" 'BEGIN { printf "%.0f MB/s", s / t }'; }
echo "package: $(stat -c %s "$w/big.npkg") bytes (${SIZE} MiB payload); best of 3 (microseconds)"
echo "  openssl dgst -sha256 $t_openssl ($(mbs "$t_openssl")), npkginfo $t_info ($(mbs "$t_info")),"
echo "  upgrade --dry-run 1 HSM $t_up1 ($(mbs "$t_up1")); ${SMALL} MiB: 1 HSM $t_small1, 16 HSMs $t_up16"
echo "(a) verifier throughput / openssl dgst      = $(ratio "$t_openssl" "$t_info")   (target >= 0.8)"
echo "(b) device-side dry run / openssl dgst      = $(ratio "$t_openssl" "$t_up1")"
echo "(c) hsmd peak RSS: $hwm_small KiB after ${SMALL} MiB, $hwm_big KiB after ${SIZE} MiB (target: the same)"
echo "(d) 16 HSMs / 1 HSM (${SMALL} MiB)               = $(ratio "$t_up16" "$t_small1")"
echo "(e) real upgrade (${SMALL} MiB): 1 HSM $t_real1 us (serving again after $t_serve1 us);"
echo "    16 HSMs $t_real16 us (all serving again after $t_serve16 us); 16/1 = $(ratio "$t_real16" "$t_real1")"
