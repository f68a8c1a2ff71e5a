#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/logs.sh - the signed system log, measured in one run against one
# emulated HSM (an -O2 build installed under _build/bench, like
# bench/store.sh):
#
#  (a) offline `hsmadmin logs verify` of an exported segment of about MB
#      megabytes (default 100) against `openssl dgst -sha256` of the same
#      file: the throughput ratio, best of N runs each.  Target >= 0.5;
#  (b) `hsmadmin logs export` of ENTRIES entries (default 1000000) over
#      SSH: the time, and hsmd's peak memory (VmHWM) before and after the
#      export against the segment's size (a streamed export does not grow
#      with the segment).  Also the host's peak (GNU time, maximum RSS),
#      and hsmd's start with that segment open: the time until it serves
#      and its peak memory (start-up scans the open segment a chunk at a
#      time, so this too does not grow with the segment).
#
# The logs are made with `hsmd simulate --log-fill` (not timed), with
# checkpoints as the device places them by default ([logs] checkpoint_every
# of the installed hsmd.conf, commented out: hsmd's default), or every
# CHECKPOINT_EVERY entries when that is set (to weigh the signatures'
# share).  PARTS (default "a b") picks the parts to run.
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-3}
MB=${MB:-100}
ENTRIES=${ENTRIES:-1000000}
PARTS=${PARTS:-a b}
CHECKPOINT_EVERY=${CHECKPOINT_EVERY:-}
bench_build

bench_scratch
# Room for a large log: the capacity rules are not what is measured.
sed -i 's/^#capacity = .*/capacity = 17179869184/' "$HSMADMIN_CONF/hsmd.conf"
if [ -n "$CHECKPOINT_EVERY" ]; then
	sed -i "s/^#checkpoint_every = .*/checkpoint_every = $CHECKPOINT_EVERY/" "$HSMADMIN_CONF/hsmd.conf"
fi
every=$(sed -n 's/^checkpoint_every = //p' "$HSMADMIN_CONF/hsmd.conf")
bench_one_hsm BE0C-0000-0045

# A large log takes hsmd a while to read at start: wait for the monitor.
start_hsmd() { bench_hsm_start 2206 60000 0.01; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$hsmd_pid/status"; }
best() { sort -n | head -1; } # the fastest of N runs (nanoseconds)
fill() { # ENTRIES BYTES: a segment of that many entries, exported (not timed)
	bench_hsm_stop
	hsmd simulate --state "$w/hsm" --conf "$HSMADMIN_CONF" --log-fill "$1" --log-fill-bytes "$2" >/dev/null
	t0=$(now_ns)
	start_hsmd
	start_ns=$(($(now_ns) - t0))
}

start_hsmd
bench_enroll
hsmadmin logs getkey --out "$w/key.json" >/dev/null

# --- (a) offline verify against sha256 ---------------------------------------------------
# Entries of about 400 bytes, as a busy log has them.
case " $PARTS " in *" a "*)
fill $((MB * 1024 * 1024 / 400)) 250
mkdir "$w/a"
hsmadmin logs export --outdir "$w/a" >/dev/null
hsmadmin logs expire --seq 1 >/dev/null
f=$w/a/$esn-system-1.log
size=$(stat -c %s "$f")
cat "$f" >/dev/null # both read it from the page cache
for _ in $(seq 1 "$N"); do
	t0=$(now_ns)
	openssl dgst -sha256 "$f" >/dev/null
	echo $(($(now_ns) - t0))
done | best >"$w/sha"
for _ in $(seq 1 "$N"); do
	t0=$(now_ns)
	hsmadmin logs verify --key "$w/key.json" "$f" >/dev/null
	echo $(($(now_ns) - t0))
done | best >"$w/verify"
sha=$(cat "$w/sha") ver=$(cat "$w/verify")
echo "(a) offline verify of a $((size / 1048576)) MiB segment ($(grep -c '' "$f") entries," \
	"$(grep -c '"event":"checkpoint"' "$f") checkpoints, checkpoint_every ${every:-default})," \
	"best of $N:"
echo "    openssl dgst -sha256: $(awk -v s="$size" -v t="$sha" 'BEGIN { printf "%.0f", s / t * 1e9 / 1048576 }') MiB/s"
echo "    hsmadmin logs verify: $(awk -v s="$size" -v t="$ver" 'BEGIN { printf "%.0f", s / t * 1e9 / 1048576 }') MiB/s"
echo "    verify / sha256 throughput: $(ratio "$sha" "$ver") (target >= 0.5)"
;; esac

# --- (b) export of ENTRIES entries over SSH ----------------------------------------------------
case " $PARTS " in *" b "*)
fill "$ENTRIES" 100
before=$(hwm_kb)
mkdir "$w/b"
t0=$(now_ns)
/usr/bin/time -f %M -o "$w/host-rss" hsmadmin logs export --timeout 120 --outdir "$w/b" >/dev/null
t1=$(now_ns)
after=$(hwm_kb)
size=$(stat -c %s "$w/b/$esn"-system-*.log) # segment 2 after (a), else 1
echo "(b) export of $ENTRIES entries ($((size / 1048576)) MiB) over SSH, verified and written:"
echo "    time: $(awk -v t="$((t1 - t0))" 'BEGIN { printf "%.2f", t / 1e9 }') s," \
	"$(awk -v s="$size" -v t="$((t1 - t0))" 'BEGIN { printf "%.0f", s / t * 1e9 / 1048576 }') MiB/s"
echo "    hsmd peak memory (VmHWM): $before kB before, $after kB after" \
	"(+$((after - before)) kB for a $((size / 1024)) kB segment)"
echo "    hsmd start with that segment open: $(awk -v t="$start_ns" 'BEGIN { printf "%.2f", t / 1e9 }') s" \
	"to serve, peak memory (VmHWM) $before kB"
echo "    hsmadmin peak memory (max RSS): $(cat "$w/host-rss") kB"
;; esac
