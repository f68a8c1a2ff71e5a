#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The disk fills up while the system log is appended (the reproduction:
# half an entry written, the call still succeeded, the next entry glued to
# it, hsmd then refused to start with "line 33: invalid JSON" and the gap
# went unreported).  With an LD_PRELOAD shim that cuts the write to
# system.log short and then fails it with ENOSPC: the call that needed the
# entry fails and changes nothing, the half entry is gone, the next call
# is logged with the next sequence number, hsmd restarts, and the exported
# segment verifies with no gap.
. "$top_srcdir/tests/lib/platform-lib.sh"
case " ${BUILT_PLUGINS:-} " in *" logs "*) ;; *) skip_all "logs plugin not built" ;; esac
SHIM=$(_find_built "$top_builddir/tests/fault" enospc-shim.so) || { echo "Bail out! enospc shim not built"; exit 1; }


platform_setup
ESN=4D56-EF78-9012
CTL=$TEST_TMP/disk-full
addr=$(test_address)
hsmd_provision h "$addr" "$ESN" --module-conf "$HSMADMIN_CONF/modules.d/h.conf"
export HSM_FAULT_ENOSPC_FILE=system.log HSM_FAULT_ENOSPC_CONTROL=$CTL
# The sanitizer runtime need not come first when the shim is preloaded.
LD_PRELOAD=$SHIM ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 hsmd_start h
ok "hsmd serving with the disk-full shim" kill -0 "${HSMD_PIDS[h]}"
ha enroll --secret-file "$(secrets)"
rc_is 0 "enrolled"
host_keys_for_ssh
call h monitor logs_get monitor '{"log":"system"}'
before=$(jqr '.entries[-1].seq')
size=$(stat -c %s "$TEST_TMP/h/system.log")

# --- the disk fills up in the middle of an entry ---------------------------------------
echo 40 >"$CTL"
call h setup set_mode setup '{"mode":"maintenance"}'
rc_is 1 "disk full: the call that needed the log entry fails"
like "$(jqr .error.message)" "system log.*No space left on device" "... saying the system log could not be written"
is "$(stat -c %s "$TEST_TMP/h/system.log")" "$size" "... the half-written entry is cut off again"
is "$(cat "$CTL")" 0 "... (40 bytes of it had been written)"
is "$(jq -r .mode "$TEST_TMP/h/device.json")" operational "... and the change was not made"
call h setup set_mode setup '{"mode":"maintenance"}'
rc_is 1 "still full: the next call fails too, nothing is glued"
is "$(stat -c %s "$TEST_TMP/h/system.log")" "$size" "... the log is unchanged"

# --- space again ---------------------------------------------------------------------------
rm -f "$CTL"
call h setup set_mode setup '{"mode":"maintenance"}'
rc_is 0 "with space again the change is made"
call h monitor logs_get monitor '{"log":"system"}'
is "$(jqr '.entries[-1].event')" set_mode "... and logged"
is "$(jqr '.entries[-1].seq')" $((before + 1)) "... with the next sequence number (no gap)"
is "$(jqr '[.entries[] | select(.event == "log_damaged")] | length')" 0 "... and nothing damaged"

# --- restart: hsmd starts, the log is whole ----------------------------------------------
hsmd_stop h
hsmd_start h
ok "hsmd starts again" kill -0 "${HSMD_PIDS[h]}"
unlike "$(cat "$TEST_TMP/h.log")" "invalid JSON|damaged|missing" "... with no damage to report"
mkdir -p "$TEST_TMP/exported"
ha logs export --outdir "$TEST_TMP/exported"
rc_is 0 "the segment exports (verified against the certified key)"
ha logs getkey --out "$TEST_TMP/key.json"
ha logs verify --key "$TEST_TMP/key.json" "$TEST_TMP"/exported/*.log
rc_is 0 "... and verifies offline: no gap, no torn entry"

# --- the reader reports a gap with its sequence numbers (the repaired case) ----------------
ha logs expire --seq 1
rc_is 0 "the exported segment is expired"
hsmd_stop h
# Lose one entry in the middle of the open segment, as a manual repair would.
victim=$(grep -n '"event":"logs_exported"' "$TEST_TMP/h/system.log" | head -1 | cut -d: -f1)
gone=$(sed -n "${victim}p" "$TEST_TMP/h/system.log" | sed 's/^[^{]*//' | jq -r .seq)
sed -i "${victim}d" "$TEST_TMP/h/system.log"
hsmd_start h
like "$(cat "$TEST_TMP/h.log")" "entries $gone\\.\\.$gone are missing \\(gap before seq $((gone + 1))\\)" \
	"a missing entry is reported at start with its sequence numbers"
ha logs export --outdir "$TEST_TMP/exported"
rc_is 4 "... and the segment holding the gap fails verification on export"
like "$err" "entries $gone\\.\\.$gone are missing" "... naming the missing sequence number"
done_testing
