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
#  (b) hsmd start-up (exec until the sshadmin port answers) with COUNT
#      VCMs against start-up of the same HSM with none (median of N each).
#
# N runs per median (default 20).
set -eu
cd "$(dirname "$0")/.."
top=$PWD
N=${N:-20}
COUNT=${COUNT:-1000}
b=$top/_build/bench
mkdir -p "$b"
[ -x configure ] || autoreconf -fi >/dev/null
( cd "$b" && [ -f Makefile ] || "$top/configure" --quiet --prefix="$b/inst" CFLAGS="-O2 -g" )
make -C "$b" -j"$(nproc)" --quiet >/dev/null
make -C "$b" install --quiet >/dev/null

w=$(mktemp -d /tmp/hsmbench.XXXXXX)
hsmd_pid=
stop_hsmd() { [ -z "$hsmd_pid" ] || { kill "$hsmd_pid" 2>/dev/null; wait "$hsmd_pid" 2>/dev/null || true; hsmd_pid=; }; }
cleanup() { stop_hsmd; rm -rf "$w"; }
trap cleanup EXIT
export PATH="$b/inst/bin:$b/inst/sbin:$PATH"
export HSMADMIN_CONF=$w/conf HSMADMIN_HOME=$w/home
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$w/system-uuid"
export HSMADMIN_SYSTEM_UUID_FILE=$w/system-uuid
cp -r "$b/inst/etc/hsmadmin" "$HSMADMIN_CONF"
mkdir -p "$HSMADMIN_CONF/modules.d" "$HSMADMIN_CONF/vendor.d"
hsm-vendor keygen --out "$w/vendor.key" --pub "$HSMADMIN_CONF/vendor.d/bench.pem" >/dev/null
esn=BE0C-0000-0043
# A loopback address of its own: two runs (or a test) never collide.
addr=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).2
hsmd provision --state "$w/hsm" --esn "$esn" --address "$addr" --vendor-key "$w/vendor.key" \
	--module-conf "$HSMADMIN_CONF/modules.d/hsm.conf" >/dev/null

now_ns() { date +%s%N; }
# Start hsmd; print how long until the sshadmin port answers (microseconds).
start_hsmd() {
	_t0=$(now_ns)
	hsmd run --state "$w/hsm" --conf "$HSMADMIN_CONF" >>"$w/hsm.log" 2>&1 &
	hsmd_pid=$!
	for _ in $(seq 1 2000); do (exec 3<>"/dev/tcp/$addr/2201") 2>/dev/null && break; sleep 0.005; done
	echo $(( ($(now_ns) - _t0) / 1000 ))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1000 }'; }

# --- (b) reference: start-up without VCMs ------------------------------------------
start_hsmd >/dev/null
hsmadmin enroll --secret-file "$w/hsm/enrollment-secret" >/dev/null
hsm-vendor licence --key "$w/vendor.key" --esn "$esn" --max-active-vcms 1000 --out "$w/1000.lic" >/dev/null
hsmadmin fet "$w/1000.lic" >/dev/null
stop_hsmd
for _ in $(seq 1 "$N"); do start_hsmd; stop_hsmd; done >"$w/start0"

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
stop_hsmd

# --- (b) start-up with COUNT VCMs ----------------------------------------------------
for _ in $(seq 1 "$N"); do start_hsmd; stop_hsmd; done >"$w/startN"

early=$(head -n "$N" "$w/creates" | median)
late=$(tail -n "$N" "$w/creates" | median)
s0=$(median <"$w/start0")
sn=$(median <"$w/startN")
echo "(a) $COUNT creates: $(( (t1 - t0) / 1000000 )) ms in all"
echo "    median of creates 1-$N: $(ms "$early") ms; of the last $N: $(ms "$late") ms"
echo "    late / early = $(ratio "$late" "$early")   (target <= 1.5)"
echo "    device.json $(stat -c %s "$w/hsm/device.json") bytes, $(ls "$w/hsm/registry" | wc -l) registry documents"
echo "(b) hsmd start-up, median of $N: $(ms "$s0") ms with no VCM, $(ms "$sn") ms with $COUNT VCMs"
echo "    with / without = $(ratio "$sn" "$s0")"
