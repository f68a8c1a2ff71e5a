#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/autostart.sh - what autostart VCMs add to hsmd's boot.
#
# One emulated HSM with COUNT (default 16) autostart VCMs: hsmd start-up,
# from exec until the sshadmin port sends its SSH banner (the boot, VCM
# autostart included, is over), against the start-up of the same HSM before
# any VCM was created; median of N (default 7) each.  hsmd starts up to four
# VCMs at once (firmware/hsmd/vcmhost.c), so the time per VCM is below one
# VCM process's own start-up when the machine has CPUs to spare.
#
# An -O2 build installed under _build/bench, like bench/store.sh.
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-7}
COUNT=${COUNT:-16}
bench_build

bench_scratch
bench_one_hsm BE0C-0000-0044 --own-allocations

# Start hsmd; print how long until its boot is over (microseconds).
start_hsmd() {
	bench_hsm_start_timed
	echo "$start_banner_us"
}
active_vcms() { vcmadmin list --json | jq '[.vcms[] | select(.state == "active")] | length'; }

start_hsmd >/dev/null
bench_enroll
bench_licence "$esn" "$COUNT"
bench_hsm_stop
for _ in $(seq 1 "$N"); do start_hsmd; bench_hsm_stop; done >"$w/start0"

start_hsmd >/dev/null
for i in $(seq 1 "$COUNT"); do
	hsmadmin vcm create --request-file "$w/req$i" --name "auto $i" --autostart >/dev/null
	vcmadmin create --request "$w/req$i" --autostart --outdir "$w/configs" "auto $i" >/dev/null
done
bench_hsm_stop
for _ in $(seq 1 "$N"); do
	start_hsmd
	n=$(active_vcms)
	[ "$n" = "$COUNT" ] || { echo "only $n of $COUNT autostart VCMs are active after the boot"; exit 1; }
	bench_hsm_stop
done >"$w/startN"

s0=$(median <"$w/start0")
sn=$(median <"$w/startN")
echo "hsmd start-up until its boot is over, median of $N ($(nproc) CPUs):"
echo "  no VCM: $(ms "$s0") ms; $COUNT autostart VCMs: $(ms "$sn") ms" \
	"($(awk -v a="$sn" -v b="$s0" -v n="$COUNT" 'BEGIN { printf "%.1f", (a - b) / n / 1000 }') ms per VCM)"
echo "  with / without = $(ratio "$sn" "$s0")"
