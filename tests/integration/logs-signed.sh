#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsmadmin logs against a real hsmd (guide 4.12): export once (again only
# with --saved), expire only exported segments, each segment beginning
# with its own and the previous sequence number, the sequence surviving
# factory state while the key changes (the factorystate entry names the
# new key), tampered and incomplete exports failing verification with the
# place named, clear refused outside recovery mode, the safe and critical
# capacities (and the way back through export, expire and reset), and a
# lost clock refusing export and expire.
. "$top_srcdir/tests/lib/platform-lib.sh"
case " ${BUILT_PLUGINS:-} " in *" logs "*) ;; *) skip_all "logs plugin not built" ;; esac

entry() { sed -n "$2p" "$1" | sed 's/^[^{]*//'; } # FILE LINE: an entry's JSON

HSMD_EXTRA_CONF=$(printf '[logs]\ncheckpoint_every = 3\n')
platform_setup
ESN=5E67-FA89-0123
ok "enrolled" hsm_enrolled h "$ESN"
host_keys_for_ssh
cd "$TEST_TMP" || exit 1
mkdir out

# --- help no longer points at missing commands ----------------------------------------
ha logs get --help
like "$out" "logs export" "logs get --help points at logs export"
for c in export expire getkey clear verify; do
	ha logs $c --help
	rc_is 0 "logs $c exists"
done

# --- getkey ---------------------------------------------------------------------------------
ha logs getkey
rc_is 0 "getkey"
like "$out" "^ssh-ed25519 [A-Za-z0-9+/]+=*$" "... prints the key"
key1=$out
ha logs getkey --out key.json
rc_is 0 "getkey --out (certificates checked against the pinned identity key)"
is "$(jq -r '.keys[0].epoch' key.json)" 1 "... epoch 1"
is "$(jq -r '.keys[0].key' key.json)" "$key1" "... the same key"
cp "$HSMADMIN_HOME/pins/$ESN.json" pins.bak
jq --arg k "$(jq -r .key key.json)" '.identity_key = $k' pins.bak >"$HSMADMIN_HOME/pins/$ESN.json"
ha logs getkey
rc_is 4 "a log key whose certificate is not from the pinned identity key: exit 4"
cp pins.bak "$HSMADMIN_HOME/pins/$ESN.json"

# --- export once, again with --saved ------------------------------------------------------
call h setup set_mode setup '{"mode":"maintenance"}'
ha logs export --outdir out
rc_is 0 "export"
f1=out/$ESN-system-1.log
ok "... writes ESN-system-1.log" test -f "$f1"
is "$(entry "$f1" 1 | jq -r '.event + " " + (.detail.segment|tostring)')" "log_open 1" \
	"the segment's first entry carries its own sequence number"
is "$(entry "$f1" 2 | jq -r '.event + " " + (.detail.segment|tostring)')" "log_previous 0" \
	"... the second the previous one"
is "$(tail -1 "$f1" | sed 's/^[^{]*//' | jq -r '.event + " " + (.detail.close|tostring)')" "checkpoint true" \
	"... and it ends with a closing checkpoint"
ha logs export --outdir out
rc_is 3 "exporting again without --saved is refused"
like "$err" "already exported.*--saved" "... saying to use --saved or to expire"
ha logs export --saved --json
rc_is 0 "export --saved"
is "$(printf '%s' "$out" | jq -r .segment)" 1 "... the stored segment again"
is "$(printf '%s' "$out" | jq -r .verified)" true "... verified"

# --- expire ------------------------------------------------------------------------------------
ha logs expire --seq 2
rc_is 3 "expiring the open segment is refused"
like "$err" "never exported" "... saying why"
ha logs expire --seq 9
rc_is 3 "expiring a segment that does not exist is refused"
ha logs expire --seq 1 --json
rc_is 0 "expire the exported segment"
ha logs expire --seq 1
rc_is 3 "expiring it twice is refused"
ha logs export --outdir out
rc_is 0 "export the next segment"
f2=out/$ESN-system-2.log
is "$(entry "$f2" 2 | jq -r '.detail.last_seq')" "$(tail -1 "$f1" | sed 's/^[^{]*//' | jq -r .seq)" \
	"segment 2 names the last entry of segment 1"
ha logs verify --key key.json "$f2" "$f1"
rc_is 0 "verify both segments offline (any order)"
like "$out" "2 segment\\(s\\) verified against the given keys" "... anchored to the certified key"
ha logs expire --seq 2

# --- tampering and gaps are pinpointed ----------------------------------------------------
sed '3s/"mode":"maintenance"/"mode":"operational"/' "$f1" >t1.log
grep -q '"mode":"operational"' t1.log || sed '4s/"enroll"/"enrolL"/' "$f1" >t1.log
ha logs verify --key key.json t1.log
rc_is 4 "a tampered segment fails verification: exit 4"
like "$err" "t1.log: byte [0-9]+: damaged entry after seq [0-9]+" "... naming the place"
sed '4d' "$f1" >t2.log
ha logs verify --key key.json t2.log
rc_is 4 "a segment with an entry removed fails"
like "$err" "entries 4\\.\\.4 are missing" "... naming the missing sequence number"
ha logs verify --key key.json "$f1" out/does-not-exist.log
rc_is 2 "an unreadable file: exit 2"
ha logs verify "$f1"
rc_is 0 "without --key the segment is consistent"
like "$err" "warning: no --key given" "... with a warning that this proves nothing"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOGZaxjOge46gpuLF3qAvU4x8e/1lGUDnJPg58at8o7n\n' >other.pub
ha logs verify --key other.pub "$f1"
rc_is 0 "another key line: consistent ..."
like "$err" "warning: a checkpoint is signed by a key the key file does not give" "... but not anchored"

# --- factory state: the sequence survives, the key changes -----------------------------
call h monitor logs_get monitor '{"log":"system"}'
lastseq=$(jqr '.entries[-1].seq')
ha factorystate --esn "$ESN"
rc_is 0 "factorystate"
ha enroll --secret-file "$(secrets)"
rc_is 0 "enroll again"
host_keys_for_ssh
hsmd_known_hosts h
ha logs getkey --out key2.json
rc_is 0 "getkey after factory state"
key2=$(jq -r .key key2.json)
ok "... a new key" test "$key2" != "$key1"
is "$(jq -r '[.keys[].epoch] | join(",")' key2.json)" "1,2" "... both epochs' keys, certified"
call h monitor logs_get monitor '{"log":"system"}'
fs=$(jqr '[.entries[] | select(.event == "factorystate")][-1]')
is "$(printf '%s' "$fs" | jq -r .seq)" $((lastseq + 1)) "the sequence continues through factory state"
is "$(printf '%s' "$fs" | jq -r .detail.log_key)" "$key2" "... and the factorystate entry names the new key"
ha logs export --outdir out
rc_is 0 "export across the key change"
f3=out/$ESN-system-3.log
is "$(entry "$f3" 1 | jq -r .detail.segment)" 3 "... segment 3: the number survived factory state"
ha logs verify --key key2.json "$f1" "$f2" "$f3"
rc_is 0 "all three segments verify with the key file of both epochs"
ha logs verify --key key.json "$f1" "$f2" "$f3"
rc_is 0 "... also with the old key only (the new key is announced under it)"
ha logs verify --key key2.json "$f1" "$f3"
rc_is 4 "a missing segment fails"
like "$err" "segments 2\\.\\.2 are missing" "... naming it"
ha logs expire --seq 3

# --- clear: only in recovery mode -----------------------------------------------------------
ha logs clear --log system
rc_is 3 "clearing the signed system log outside recovery mode is refused"
like "$err" "recovery mode.*export and expire" "... pointing at export and expire"
ha logs clear --log init
rc_is 3 "clearing the init log outside recovery mode is refused"
ha logs clear --log audit
rc_is 2 "an unknown log: exit 2"

# --- lost clock ---------------------------------------------------------------------------------
hsmd_stop h
"$HSMD" simulate --state "$TEST_TMP/h" --clock-lost yes >/dev/null
hsmd_start h
ha logs export --outdir out
rc_is 3 "with the clock lost export is refused"
like "$err" "clock is lost" "... saying so"
ha logs expire --seq 3
rc_is 3 "... and expire"
ha logs get --log system
rc_is 0 "... logs get still works"
hsmd_stop h
"$HSMD" simulate --state "$TEST_TMP/h" --clock-lost no >/dev/null

# --- capacity: safe, then critical, and the way back -------------------------------------
hsmd_start h
for i in $(seq 1 12); do
	call h setup set_mode setup '{"mode":"maintenance"}'
	call h setup set_mode setup '{"mode":"operational"}'
done
hsmd_stop h
used=$(( $(stat -c %s h/system.log) + $(stat -c %s h/init.log) ))
# usage at 40%: past a safe level of 30%, with room for the export's own entries
cap=$(( used * 100 / 40 + 1 ))
printf '[paths]\nservicedir = %s\n[logs]\ncapacity = %d\nsafe_percent = 30\ncritical_percent = 99\ncheckpoint_every = 3\n' \
	"$HSMD_SVCDIR" "$cap" >"$HSMD_CONFDIR/hsmd.conf"
hsmd_start h
call h setup set_mode setup '{"mode":"maintenance"}'
ha settime
rc_is 3 "past the safe capacity settime is refused"
like "$err" "safe working capacity: export and expire logs first \\(hsmadmin logs export, hsmadmin logs expire\\)" \
	"... in one line saying to export and expire"
ha setminvsn 2
rc_is 3 "... setminvsn too"
ha factorystate --esn "$ESN"
rc_is 3 "... factorystate too"
ha logs export --outdir out
rc_is 0 "export is allowed"

ha logs expire --seq 4
rc_is 0 "... and expire"
call h setup set_mode setup '{"mode":"maintenance"}'
ha settime
rc_is 0 "below the safe level again settime works"
hsmd_stop h
printf '[paths]\nservicedir = %s\n[logs]\ncapacity = 1200\ncheckpoint_every = 3\n' "$HSMD_SVCDIR" >"$HSMD_CONFDIR/hsmd.conf"
hsmd_start h
ha gettime
rc_is 3 "past the critical capacity even gettime is refused"
like "$err" "critical capacity" "... saying so"
ha logs get --log system
rc_is 0 "... logs can be retrieved"
hsmd_stop h
printf '[paths]\nservicedir = %s\n[logs]\ncheckpoint_every = 3\n' "$HSMD_SVCDIR" >"$HSMD_CONFDIR/hsmd.conf"
hsmd_start h
ha gettime
rc_is 3 "the critical state is latched"
ha logs export --outdir out
rc_is 0 "... export works"
ha logs expire --seq 5
rc_is 0 "... expire works"
ha reset
rc_is 0 "... reset works"
ha gettime
rc_is 0 "after the reset with logs reduced the HSM works again"

# --- recovery mode: both logs can be cleared, numbering goes on ----------------------------
call h monitor logs_get monitor '{"log":"system"}'
before=$(jqr '.entries[-1].seq')
enter_recovery h
ha logs clear --log init
rc_is 0 "in recovery mode the init log can be cleared"
ha logs clear --log system
rc_is 0 "... and the signed system log"
ha logs get --log system --json
entries=$(printf '%s' "$out" | jq -c '.modules[0].result.entries')
is "$(printf '%s' "$entries" | jq -r '.[1] | "\(.event) \(.detail.cleared)"')" "log_previous true" \
	"the new segment says the log was cleared"
ok "... and the sequence numbers go on" test "$(printf '%s' "$entries" | jq -r '.[0].seq')" -gt "$before"
is "$(printf '%s' "$entries" | jq -r '[.[] | select(.event != "checkpoint")][-1].event')" logs_cleared \
	"... the clear is logged"
ha logs getkey --out key3.json
rc_is 0 "getkey in recovery mode"
is "$(jq -r '[.keys[].epoch] | join(",")' key3.json)" "1,2,3" \
	"entering recovery mode (a factory state) made a new key epoch"
done_testing
