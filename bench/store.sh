#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/store.sh - what the device state store costs as VCMs accumulate,
# measured in one run against one emulated HSM licensed for 1000 VCMs (an
# -O2 build installed under _build/bench, like bench/vcms.sh):
#
#  (a) COUNT creates (default 1000), each `vcmadmin create` timed alone:
#      the median of creates 1-N (around #10) against the median of the
#      last N (around #1000).  Target: late / early <= 1.5 (a commit writes
#      only what changed, so it must not grow with the registry);
#  (b) hsmd start-up with COUNT VCMs against start-up of the same HSM
#      with none (median of N each), twice: from exec until the sshadmin
#      port accepts a connection, and until hsmd sends its SSH banner on it
#      (its event loop runs: the boot, VCM autostart included, is over).
#
# The machine-wide VCM allocations table is the scratch directory's own.
#
# N runs per median (default 20).
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-20}
COUNT=${COUNT:-1000}
bench_build

bench_scratch
bench_one_hsm BE0C-0000-0043 --own-allocations

# Start hsmd; print how long until the sshadmin port accepts and until it
# sends its banner (microseconds).
start_hsmd() {
	bench_hsm_start_timed 2000
	echo "$start_port_us $start_banner_us"
}

# --- (b) reference: start-up without VCMs ------------------------------------------
start_hsmd >/dev/null
bench_enroll
bench_licence "$esn" 1000
bench_hsm_stop
for _ in $(seq 1 "$N"); do start_hsmd; bench_hsm_stop; done >"$w/start0"

# --- (a) creates ------------------------------------------------------------------
echo "making $COUNT tenant requests (not timed) ..."
for i in $(seq 1 "$COUNT"); do
	hsmadmin vcm create --request-file "$w/req$i" --name "bench $i" >/dev/null
done
start_hsmd >/dev/null
t0=$(now_ns)
for i in $(seq 1 "$COUNT"); do
	c0=$(now_ns)
	vcmadmin create --request "$w/req$i" --outdir "$w/configs" "bench $i" >/dev/null
	echo $(( ($(now_ns) - c0) / 1000 ))
done >"$w/creates"
t1=$(now_ns)
n=$(vcmadmin list --json | jq '.vcms | length')
[ "$n" = "$COUNT" ] || { echo "only $n VCMs were created"; exit 1; }
bench_hsm_stop

# --- (b) start-up with COUNT VCMs ----------------------------------------------------
for _ in $(seq 1 "$N"); do start_hsmd; bench_hsm_stop; done >"$w/startN"

early=$(head -n "$N" "$w/creates" | median)
late=$(tail -n "$N" "$w/creates" | median)
s0=$(cut -d' ' -f1 "$w/start0" | median)
sn=$(cut -d' ' -f1 "$w/startN" | median)
b0=$(cut -d' ' -f2 "$w/start0" | median)
bn=$(cut -d' ' -f2 "$w/startN" | median)
echo "(a) $COUNT creates: $(( (t1 - t0) / 1000000 )) ms in all"
echo "    median of creates 1-$N: $(ms "$early") ms; of the last $N: $(ms "$late") ms"
echo "    late / early = $(ratio "$late" "$early")   (target <= 1.5)"
echo "    device.json $(stat -c %s "$w/hsm/device.json") bytes, $(ls "$w/hsm/registry" | wc -l) registry documents"
echo "(b) hsmd start-up, median of $N, until the port accepts: $(ms "$s0") ms with no VCM," \
	"$(ms "$sn") ms with $COUNT VCMs"
echo "    with / without = $(ratio "$sn" "$s0")"
echo "    until its SSH banner (boot over): $(ms "$b0") ms with no VCM, $(ms "$bn") ms with" \
	"$COUNT VCMs"
echo "    with / without = $(ratio "$bn" "$b0")"
