#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/vcms.sh - what VCMs cost, measured in one run against one emulated
# HSM licensed for 1000 active VCMs (an -O2 build installed under
# _build/bench, like bench/rpc.sh):
#
#  (a) time and hsmd resident memory to create 1000 VCMs with vcmadmin
#      (one `vcmadmin create` per VCM; the 1000 tenant requests are made
#      beforehand and not timed);
#  (b) `vcmadmin list --json` with 1000 VCMs against an `hsmadmin info`
#      round trip to the same HSM.  Target: list under 100 ms;
#  (c) memory per inactive VCM (hsmd RSS growth / 1000; no process) and per
#      active VCM (RSS of its process + hsmd growth), and disk per VCM.
#      Target: inactive VCMs cost no process and under 16 KiB each.
#
# N runs per median (default 20); COUNT VCMs (default 1000); ACTIVE VCMs
# started for (c) (default 10).
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-20}
COUNT=${COUNT:-1000}
ACTIVE=${ACTIVE:-10}
bench_build
bench_runtimes
bench_scratch

# hsmd reads the same configuration (its vendor.d trusts the licence key).
bench_one_hsm BE0C-0000-0042
bench_hsm_start
bench_enroll
bench_licence "$esn" 1000

# --- (a) create ----------------------------------------------------------------
echo "making $COUNT tenant requests (not timed) ..."
for i in $(seq 1 "$COUNT"); do
	hsmadmin vcm create --request-file "$w/req$i" --name "bench $i" >/dev/null
done
rss0=$(rss "$hsmd_pid")
t0=$(now_ms)
for i in $(seq 1 "$COUNT"); do
	vcmadmin create --request "$w/req$i" --outdir "$w/configs" "bench $i" >/dev/null
done
t1=$(now_ms)
rss1=$(rss "$hsmd_pid")
n=$(vcmadmin list --json | jq '.vcms | length')
[ "$n" = "$COUNT" ] || { echo "only $n VCMs were created"; exit 1; }
over=refused
if [ "$COUNT" = 1000 ]; then
	hsmadmin vcm create --request-file "$w/req-over" --name over >/dev/null
	vcmadmin create --request "$w/req-over" --outdir "$w/configs" over >/dev/null 2>&1 && over=ACCEPTED
fi

# --- (b) list against info ----------------------------------------------------------
t_info=$("$b/runtimes" "$N" "$b/inst/bin/hsmadmin" info)
t_list=$("$b/runtimes" "$N" "$b/inst/bin/vcmadmin" list --json)
list_bytes=$(vcmadmin list --json | wc -c)

# --- (c) active VCMs --------------------------------------------------------------
uuids=$(vcmadmin list --json | jq -r ".vcms[:$ACTIVE][].uuid")
rss2=$(rss "$hsmd_pid")
for u in $uuids; do vcmadmin start "$u" >/dev/null; done
sleep 1
rss3=$(rss "$hsmd_pid")
vcm_rss=0
for p in $(pgrep -P "$hsmd_pid"); do vcm_rss=$((vcm_rss + $(rss "$p"))); done
disk=$(du -sk "$w/hsm/vcms" | cut -f1)
devjson=$(stat -c %s "$w/hsm/device.json")

echo "(a) $COUNT creates: $((t1 - t0)) ms ($(ratio $((t1 - t0)) "$COUNT") ms each, one vcmadmin run per create)"
echo "    the 1001st create: $over (limit 1000)"
echo "    hsmd RSS: $rss0 KiB before, $rss1 KiB after $COUNT VCMs; device.json $devjson bytes"
echo "(b) medians of $N runs: hsmadmin info $(ms "$t_info") ms, vcmadmin list --json ($COUNT VCMs," \
	"$list_bytes bytes) $(ms "$t_list") ms"
echo "    list / info = $(ratio "$t_list" "$t_info")   (target: list under 100 ms)"
echo "(c) per inactive VCM: $(( (rss1 - rss0) * 1024 / COUNT )) bytes of hsmd memory, no process" \
	"(target < 16384); $((disk / COUNT)) KiB of disk"
echo "    per active VCM: $((vcm_rss / ACTIVE)) KiB in its own process + $(( (rss3 - rss2) / ACTIVE )) KiB in hsmd"
