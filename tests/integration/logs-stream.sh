#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Streamed log export against a real hsmd: a segment larger than any reply
# could be buffered whole (over 16 MiB, made quickly with hsmd simulate
# --log-fill) is exported, verified as it streams in, and written only
# once all of it verified; the file is the device's segment byte for byte
# and verifies offline.  A segment changed or cut short on the device, and
# a stream cut off by hsmd dying mid-way, are refused with nothing written
# (no file, no temporary file).  In recovery mode getkey gives the key
# without a certificate, with a warning.
. "$top_srcdir/tests/lib/platform-lib.sh"
case " ${BUILT_PLUGINS:-} " in *" logs "*) ;; *) skip_all "logs plugin not built" ;; esac

nothing_written() { # DIR NAME
	is "$(find "$1" -mindepth 1 | wc -l)" 0 "$2: nothing written, no temporary file left"
}

# Checkpoints every 64 entries (not hsmd's default): the stream carries
# several, checked as they arrive, the second thread's included.
HSMD_EXTRA_CONF=$(printf '[logs]\ncapacity = 1073741824\ncheckpoint_every = 64\n')
platform_setup
ESN=5E67-FA89-0456
ok "enrolled" hsm_enrolled h "$ESN"
cd "$TEST_TMP" || exit 1
mkdir out bad

# --- a segment over the old 16 MiB bound ------------------------------------------------------
hsmd_stop h
"$HSMD" simulate --state "$TEST_TMP/h" --conf "$HSMD_CONFDIR" --log-fill 300 \
	--log-fill-bytes 60000 >/dev/null
rc=$?
rc_is 0 "hsmd simulate --log-fill: 300 entries of 60000 bytes"
hsmd_start h
ok "hsmd serves again" kill -0 "$HSMD_PID"
ha logs getkey --out key.json
rc_is 0 "getkey --out"
ha logs export --outdir out --json
like "$err" "--json or --outdir" "export: --json and --outdir are exclusive"
ha logs export --outdir out
rc_is 0 "export of a large segment"
f=out/$ESN-system-1.log
size=$(stat -c %s "$f" 2>/dev/null || echo 0)
ok "... written, larger than 16 MiB ($size bytes)" test "$size" -gt 16777216
ok "... byte for byte the device's segment" cmp -s "$f" "$TEST_TMP/h/system.saved/1.log"
is "$(stat -c %a "$f")" 600 "... readable by its owner only"
is "$(find out -name '.hsmadmin-export*' | wc -l)" 0 "... no temporary file left"
ha logs verify --key key.json "$f"
rc_is 0 "... verifies offline"
like "$out" "segment 1: entries 1-" "... naming its entries"
like "$out" "segment 1: entries 1-[0-9]+, [4-9] checkpoints" \
	"... with a checkpoint every 64 entries (simulate --conf) and the closing one"
ha logs export --outdir bad --saved --seq 1 --json
rc_is 2 "--json with --outdir: usage"
ha logs export --json --saved --seq 1
rc_is 1 "--json holds the segment in memory: refused past 16 MiB"
like "$err" "too large to be held in memory.*--outdir" "... pointing at --outdir"

# --- a changed or cut segment on the device: refused, nothing written ---------------------------
saved=$TEST_TMP/h/system.saved/1.log
cp "$saved" orig.log
# one byte of a padding entry in the middle: its frame no longer checks
python3 - "$saved" <<'EOF'
import sys
p = sys.argv[1]
data = bytearray(open(p, 'rb').read())
i = data.index(b'xxxxxxxxxx', len(data) // 2)
data[i] = ord('y')
open(p, 'wb').write(data)
EOF
ha logs export --outdir bad --saved --seq 1
rc_is 4 "a changed segment: refused (exit 4)"
like "$err" "does not verify, nothing written" "... saying nothing was written"
like "$err" "byte [0-9]+" "... naming the place"
nothing_written bad "changed segment"
head -c $((size - 1000)) orig.log >"$saved"
ha logs export --outdir bad --saved --seq 1
rc_is 4 "a segment cut short: refused (exit 4)"
like "$err" "torn tail" "... as a torn tail"
nothing_written bad "cut segment"
cp orig.log "$saved"

# --- hsmd dies mid-stream ------------------------------------------------------------------
hsmd_stop h
HSMD_CRASH_AT=log-stream hsmd_start h
pid=$HSMD_PID
ha logs export --outdir bad --saved --seq 1
ok "hsmd killed mid-stream: export fails (exit $rc)" test "$rc" -ne 0
like "$(cat h.log)" "crash point log-stream: SIGKILL" "... hsmd died where it was told to"
ok "... it is gone" sh -c "! kill -0 $pid 2>/dev/null"
nothing_written bad "stream cut off"
hsmd_start h
ha logs export --outdir bad --saved --seq 1
rc_is 0 "after the restart the saved segment exports"
ok "... whole" cmp -s bad/$ESN-system-1.log orig.log

# --- recovery mode: the key without a certificate -------------------------------------------
enter_recovery h
ha logs getkey
rc_is 0 "getkey in recovery mode gives the key"
like "$out" "^ssh-ed25519 [A-Za-z0-9+/]+=*$" "... an OpenSSH line"
like "$err" "no certificate exists for the log key" "... warning that no certificate exists"
ha logs getkey --json
rc_is 0 "getkey --json in recovery mode"
is "$(jqr '.certified')" false "... certified: false"
is "$(jqr '[.keys[] | has("certificate")] | any')" false "... no certificate in the keys"
ha logs getkey --out rkey.json
rc_is 0 "getkey --out in recovery mode"
like "$err" "no certificate" "... warns"
ha logs verify --key rkey.json "$f"
rc_is 0 "... and its key file verifies the export"
done_testing
