#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/fanout.sh - what one more HSM costs a command that fans out.
#
# `hsmadmin status` against 1, 16 and MAX (default 64) emulated HSMs, each
# an hsmd on its own loopback address, enrolled from one host.  For each
# count: the median wall time and the median client CPU time (user +
# system of hsmadmin) of N runs (default 20), the CPU per extra HSM, and
# the ratios against one HSM.  Target: status to 16 HSMs at most 2x one.
#
# An -O2 build installed under _build/bench, like bench/rpc.sh; INST=DIR
# measures an installation made elsewhere instead (e.g. an older build, to
# compare).  CURVE=1 measures every power of two up to MAX (1, 2, 4, 8, 16,
# 32, 64) instead of 1, 16 and MAX: the curve shows whether the cost per HSM
# is flat (a fixed price per connection) or grows with the count (contention:
# the HSMs themselves run on the same CPUs).  PROFILE=1 also records where
# the client's CPU goes for status to 16 HSMs (valgrind --tool=callgrind,
# inclusive cost by library).
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-20}
MAX=${MAX:-64}
[ -n "${INST:-}" ] || bench_build
mkdir -p "$b"
bench_runtimes

# Each hsmd holds a few dozen descriptors; the client one socket per HSM.
[ "$(ulimit -n)" -ge $((MAX * 4 + 64)) ] || ulimit -n $((MAX * 4 + 64))

bench_scratch
esn() { printf 'BF0A-0000-%04d' "$1"; }
for i in $(seq 1 "$MAX"); do
	bench_provision "hsm$i" "$(esn "$i")" "$net.$i"
	bench_run "hsm$i" "$inst/etc/hsmadmin"
done
for i in $(seq 1 "$MAX"); do
	for _ in $(seq 1 400); do grep -q serving "$w/hsm$i.log" 2>/dev/null && break; sleep 0.05; done
	grep -q serving "$w/hsm$i.log" || { echo "hsmd $i did not start:"; cat "$w/hsm$i.log"; exit 1; }
done
cat "$w"/hsm*/enrollment-secret >"$w/secrets"
hsmadmin enroll --timeout 120 --secret-file "$w/secrets" >/dev/null
hsmd_rss=$(awk '/^VmRSS/ {s += $2} END {print s}' $(for p in $pids; do echo "/proc/$p/status"; done))

# The CPU time all the hsmd have used so far (us): the HSMs' side of the
# calls runs on the same CPUs as the client, so on a small machine it sets
# the floor of the wall time as much as the client does.
hz=$(getconf CLK_TCK)
hsmd_cpu() {
	for p in $pids; do cut -d' ' -f14-17 "/proc/$p/stat"; done |
		awk -v hz="$hz" '{ t += $1 + $2 + $3 + $4 } END { printf "%.0f", t * 1e6 / hz }'
}

# The ESNs of the first K HSMs as --esn options (all MAX: none, the default).
esns() { for i in $(seq 1 "$1"); do printf -- '--esn %s ' "$(esn "$i")"; done; }
counts="1 16 $MAX"
[ "$MAX" -gt 16 ] || counts="1 $MAX"
if [ "${CURVE:-0}" = 1 ]; then
	counts=""
	for k in 1 2 4 8 16 32 64 128 256; do [ "$k" -ge "$MAX" ] || counts="$counts $k"; done
	counts="$counts $MAX"
fi
for k in $counts; do
	# shellcheck disable=SC2046
	args=$([ "$k" = "$MAX" ] || esns "$k")
	# shellcheck disable=SC2086
	got=$(hsmadmin status --json --timeout 120 $args | jq '[.modules[] | select(.ok)] | length')
	[ "$got" = "$k" ] || { echo "status reached $got of $k HSMs"; exit 1; }
	h0=$(hsmd_cpu)
	# shellcheck disable=SC2086
	read -r wall cpu < <("$b/runtimes" -c "$N" "$inst/bin/hsmadmin" status --timeout 120 $args)
	eval "wall_$k=$wall cpu_$k=$cpu srv_$k=$(awk -v a="$h0" -v b="$(hsmd_cpu)" -v n="$N" \
		'BEGIN { printf "%.1f", (b - a) / n }')"
done

per() { awk -v a="$1" -v b="$2" -v k="$3" 'BEGIN { printf "%.2f", (a - b) / (k - 1) / 1000 }'; }
echo "hsmadmin status, medians of $N runs ($(nproc) CPUs, $MAX hsmd on $net.0/24," \
	"hsmd RSS $((hsmd_rss / 1024)) MiB in all)"
# The least wall time these CPU times allow.  The client's fixed part S
# (start-up, plugins, the client key, the report: its CPU for one HSM less
# one HSM's share) runs on one thread; the calls' client and HSM CPU then
# spread over every CPU.  One HSM: client and HSM take turns (each waits
# for the other's reply), so C + H.
eval "cmax=\$cpu_$MAX"
fixed=$(awk -v c1="$cpu_1" -v cm="$cmax" -v k="$MAX" 'BEGIN { printf "%.1f", c1 - (cm - c1) / (k - 1) }')
floor() {
	awk -v k="$1" -v c="$2" -v s="$3" -v f="$fixed" -v n="$(nproc)" \
		'BEGIN { printf "%.1f", (k == 1 ? c + s : f + (c - f + s) / n) }'
}
floor_1=$(floor 1 "$cpu_1" "$srv_1")
printf '  %5s  %9s  %9s  %7s  %7s  %11s  %9s  %9s\n' HSMs "wall ms" "CPU ms" "wall/1" "CPU/1" \
	"HSMs CPU ms" "floor ms" "floor/1"
for k in $counts; do
	eval "wk=\$wall_$k ck=\$cpu_$k sk=\$srv_$k"
	fk=$(floor "$k" "$ck" "$sk")
	printf '  %5s  %9s  %9s  %7s  %7s  %11s  %9s  %9s\n' "$k" "$(ms "$wk")" "$(ms "$ck")" \
		"$(ratio "$wk" "$wall_1")" "$(ratio "$ck" "$cpu_1")" "$(ms "$sk")" "$(ms "$fk")" \
		"$(ratio "$fk" "$floor_1")"
done
echo "  (HSMs CPU: what the hsmd processes used per run, on the same CPUs.  floor: the least"
echo "  wall time that CPU allows on $(nproc) CPUs: the client's fixed part ($(ms "$fixed") ms) on one"
echo "  CPU, then (client + HSMs CPU) spread over all; for one HSM client + HSM CPU in turn.)"
for k in $counts; do
	[ "$k" = 1 ] && continue
	eval "ck=\$cpu_$k wk=\$wall_$k sk=\$srv_$k"
	echo "  per extra HSM (1 -> $k): client CPU $(per "$ck" "$cpu_1" "$k") ms," \
		"HSMs CPU $(per "$sk" "$srv_1" "$k") ms, wall $(per "$wk" "$wall_1" "$k") ms"
done
[ -n "${wall_16:-}" ] && [ "$MAX" -gt 16 ] && echo "  status 16 HSMs / 1 HSM: wall $(ratio "$wall_16" "$wall_1") (target <= 2)"

if [ "${PROFILE:-0}" = 1 ] && command -v valgrind >/dev/null; then
	# Instructions, not time: stable however busy the machine is.
	k=$([ "$MAX" -ge 16 ] && echo 16 || echo "$MAX")
	for n in 1 "$k"; do
		# shellcheck disable=SC2046
		valgrind --tool=callgrind --callgrind-out-file="$w/cg.$n" \
			"$inst/bin/hsmadmin" status --timeout 120 $(esns "$n") >/dev/null 2>"$w/cg.log" || true
		eval "ir_$n=$(callgrind_annotate "$w/cg.$n" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')"
	done
	eval "irk=\$ir_$k"
	mi() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1e6 }'; }
	echo "callgrind: status to 1 HSM $(mi "$ir_1") M instructions, to $k HSMs $(mi "$irk") M;" \
		"$(per "$irk" "$ir_1" "$k" | awk '{ printf "%.2f", $1 / 1000 }') M per extra HSM"
	echo "  where the $k-HSM run spends them (self cost by library):"
	callgrind_annotate --inclusive=no "$w/cg.$k" 2>/dev/null |
		awk '/^ *[0-9,]+ .*\[/ && !/PROGRAM TOTALS/ { n = $1; gsub(",", "", n);
			lib = $NF; gsub(/[][]/, "", lib); sub(/.*\//, "", lib);
			t[lib] += n; all += n }
			END { for (l in t) printf "  %6.1f%%  %s\n", 100 * t[l] / all, l }' |
		sort -rn | head -8
	echo "  by OpenSSL entry point and libssh step (inclusive, $k HSMs):"
	callgrind_annotate --inclusive=yes "$w/cg.$k" 2>/dev/null |
		grep -E ':(ssh_connect|ssh_userauth_publickey|EVP_DigestVerify|EVP_DigestSign|EVP_PKEY_new_raw_private_key|EVP_PKEY_keygen|EVP_PKEY_derive|EVP_CIPHER_fetch|EVP_CipherInit_ex|hsm_pins_load|hsm_registry_load) ' |
		sed -E 's/ +\[.*//; s/\?\?\?://; s/^ */    /' | head -12
fi
