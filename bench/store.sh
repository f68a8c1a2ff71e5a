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
#  (c) with OTHER=M (default 0: not run): creates while ANOTHER HSM of this
#      machine (same allocations table, same VCM subnet) holds M VCMs.
#      After (a), N creates are timed alone ("without"); then the other
#      HSM's M claims are written into the table (a live HSM's: its state
#      directory has a lifetime.json): the next addresses of the subnet
#      but N (those the "with" creates get), and the rest of the M, if the
#      /22 subnet has no room left, in the next /22 (never met by an
#      allocation, but once read by every create that reads every claim);
#      then N more creates are timed ("with").  Target: with / without
#      <= 1.5 (a create asks about the address it picks, and passes over
#      those it found held before, instead of reading every claim of the
#      other HSM).  COUNT + 2N must stay below 1000 (e.g. COUNT=100
#      OTHER=3000).
#
# The machine-wide VCM allocations table is the scratch directory's own.
#
# N runs per median (default 20).
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-20}
COUNT=${COUNT:-1000}
OTHER=${OTHER:-0}
if [ "$OTHER" -gt 0 ] && [ $((COUNT + 2 * N)) -ge 1000 ]; then
	echo "with OTHER, COUNT + 2N must stay below 1000 (the licence; the subnet is a /22)" >&2
	exit 2
fi
extra=0
[ "$OTHER" -gt 0 ] && extra=$((2 * N))
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
for i in $(seq 1 $((COUNT + extra))); do
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

# --- (c) creates beside another HSM's VCMs -------------------------------------------
# create_timed FROM TO: creates of requests FROM..TO, each timed alone (us).
create_timed() {
	for i in $(seq "$1" "$2"); do
		c0=$(now_ns)
		vcmadmin create --request "$w/req$i" --outdir "$w/configs" "bench $i" >/dev/null
		echo $(( ($(now_ns) - c0) / 1000 ))
	done
}
ip_int() { local IFS=.; set -- $1; echo $(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 )); }
int_ip() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }
# other_hsm M FROM ROOM: a live HSM of this machine holding M VCMs at the
# addresses from FROM (an integer) up, ROOM of them there and the rest
# 1024 addresses higher (the next /22), written into the table as hsmd
# writes its claims (docs/formats/hsmd-state.md), under its lock.
other_hsm() {
	local state tdir hsm i a u ai
	state=$(realpath -m "$w/other")
	mkdir -p "$state"
	: >"$state/lifetime.json"
	tdir=$w/vcm-allocations.json.d
	hsm=$(printf %s "$state" | sha256sum | cut -c1-32)
	(
		flock 9
		mkdir -p "$tdir/hsms/$hsm"
		printf '%s\n' "$state" >"$tdir/hsms/$hsm/state"
		for i in $(seq 1 "$1"); do
			ai=$(($2 + i - 1))
			[ "$i" -le "$3" ] || ai=$((ai + 1024))
			a=$(int_ip "$ai")
			u=$(printf 'bbbbbbbb-0000-4000-8000-%012d' "$i")
			printf '{"hsm":"%s","uuid":"%s","address":"%s","index":%d}\n' "$hsm" "$u" "$a" \
				$((60000 + i)) >"$tdir/tmp/o$i"
			ln "$tdir/tmp/o$i" "$tdir/address/$a"
			ln "$tdir/tmp/o$i" "$tdir/index/$((60000 + i))"
			mv "$tdir/tmp/o$i" "$tdir/hsms/$hsm/$u"
		done
	) 9>"$w/vcm-allocations.json.lock"
}
if [ "$OTHER" -gt 0 ]; then
	create_timed $((COUNT + 1)) $((COUNT + N)) >"$w/without"
	top_addr=$(vcmadmin list --json | jq -r '.vcms[].address' | sort -V | tail -n 1)
	# the subnet's last host address (hsmd's default VCM subnet: a /22)
	last=$(( ($(ip_int "$top_addr") | 1023) - 1 ))
	room=$(( last - $(ip_int "$top_addr") - N ))
	[ "$room" -lt "$OTHER" ] || room=$OTHER
	other_hsm "$OTHER" $(($(ip_int "$top_addr") + 1)) "$room"
	create_timed $((COUNT + N + 1)) $((COUNT + 2 * N)) >"$w/with"
	n=$(vcmadmin list --json | jq '[.vcms[].address] | unique | length')
	[ "$n" = $((COUNT + 2 * N)) ] || { echo "(c): $n VCM addresses, not $((COUNT + 2 * N))"; exit 1; }
	low=$(vcmadmin list --json | jq -r '.vcms[].address' | sort -V | tail -n "$N" | head -n 1)
	[ "$(ip_int "$low")" -gt $(($(ip_int "$top_addr") + room)) ] ||
		{ echo "(c): a create was given an address of the other HSM ($low)"; exit 1; }
fi
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
if [ "$OTHER" -gt 0 ]; then
	wo=$(median <"$w/without")
	wi=$(median <"$w/with")
	echo "(c) creates beside another HSM holding $OTHER VCMs ($room in the same subnet), median" \
		"of $N: $(ms "$wo") ms without, $(ms "$wi") ms with"
	echo "    with / without = $(ratio "$wi" "$wo")   (target <= 1.5);" \
		"first create with: $(ms "$(head -n 1 "$w/with")") ms"
fi
