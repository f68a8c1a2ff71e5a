#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsmadmin against one real hsmd: enroll (twice), the read-only commands in
# text and JSON, the time/VSN/acceleration rules as the device applies
# them, logs get, reset, factory state and re-enrollment.
. "$top_srcdir/tests/lib/platform-lib.sh"
platform_setup
ESN=1A23-BC45-6789
hsm_new h "$ESN"
ok "hsmd serving" test -n "${HSMD_PIDS[h]}"
ok "hsmd wrote the modules.d entry" grep -q "esn = $ESN" "$HSMADMIN_CONF/modules.d/h.conf"

# --- before enrollment ---------------------------------------------------------
ha status
is "$rc" 3 "status before enroll: exit 3"
like "$err" "^hsmadmin: status: $ESN: .*run 'hsmadmin enroll" "... one line telling to enroll"

# --- enroll ----------------------------------------------------------------------
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "enroll a factory-state HSM"
like "$out" "^$ESN: enrolled; pinned host keys of sshadmin, setup" "... says what it pinned"
for s in sshadmin setup ncoreapi updater launcher monitor orchestrator; do
	m=$(stat -c %a "$HSMADMIN_HOME/keys/client/$s" 2>/dev/null)
	is "$m" 600 "client key $s is 0600"
done
is "$(stat -c %a "$HSMADMIN_HOME/keys/client")" 700 "keys/client is 0700"
pins=$HSMADMIN_HOME/pins/$ESN.json
ok "pins written" test -f "$pins"
addr=$(sed -n 's/^address = //p' "$HSMADMIN_CONF/modules.d/h.conf")
want=$(ssh-keyscan -t ed25519 -p "$(port_of h setup)" "$addr" 2>/dev/null | cut -d' ' -f2,3)
ok "ssh-keyscan sees the setup host key" test -n "$want"
is "$(jq -r '.host_keys.setup' "$pins")" "$want" "pinned setup key is the one the setup service presents"
is "$(jq -r '.identity_key' "$pins")" "$(jq -r '.identity_key' "$TEST_TMP/h/lifetime.json")" \
	"pinned identity key is the device's"
fp=$(printf '%s\n' "$(jq -r '.identity_key' "$pins")" | ssh-keygen -lf - | cut -d' ' -f2)
ok "enroll prints the identity fingerprint as ssh-keygen does" \
	sh -c 'printf "%s" "$1" | grep -qF "$2"' _ "$out" "identity $fp"
key_before=$(cat "$HSMADMIN_HOME/keys/client/setup.pub" 2>/dev/null; md5sum <"$HSMADMIN_HOME/keys/client/setup")
pins_before=$(md5sum <"$pins")

ha enroll --secret-file "$(secrets)"
is "$rc" 0 "enroll again"
like "$out" "already enrolled from this host: nothing changed" "... changes nothing and says so"
is "$(md5sum <"$pins")" "$pins_before" "... pins untouched"
is "$(cat "$HSMADMIN_HOME/keys/client/setup.pub" 2>/dev/null; md5sum <"$HSMADMIN_HOME/keys/client/setup")" \
	"$key_before" "... client keys untouched"
ha enroll --secret-file "$(secrets)" --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.changed')" false "enroll --json: changed false"

# --- read-only commands -------------------------------------------------------
ha status
is "$rc" 0 "status"
like "$out" "^HSM $ESN \(" "status: one block per HSM"
like "$out" "state: +enrolled" "status: enrolled"
like "$out" "image: +primary" "status: image"
like "$out" "firmware.primary: +[0-9]" "status: firmware version"
ha status --json
is "$rc" 0 "status --json"
is "$(printf '%s' "$out" | jq -r '.modules[0].esn')" "$ESN" "status --json: esn"
is "$(printf '%s' "$out" | jq -r '.modules[0].ok')" true "status --json: ok"
is "$(printf '%s' "$out" | jq -r '.modules[0].result.firmware | keys | join(",")')" "primary,recovery,running,uboot" \
	"status --json: primary, recovery and uboot versions, and the running image's"
is "$(printf '%s' "$out" | jq -r '.modules[0].result | [.image, .firmware.running == .firmware.primary] | @csv')" \
	'"primary",true' "... which is the primary image"
ha status --verbose
like "$err" "$ESN: [0-9]+ ms" "--verbose: round-trip time on stderr"

ha info
is "$rc" 0 "info"
like "$out" "psn: +EMU-" "info: psn"
like "$out" "mfgtime: +20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC" "info: manufacturing time as a date"
like "$out" "max_active_vcms: +[0-9]" "info: max_active_vcms"
ha info --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.mfgtime')" "$(jq -r .mfgtime "$TEST_TMP/h/lifetime.json")" \
	"info --json: mfgtime as Unix seconds"
is "$(printf '%s' "$out" | jq -r '.modules[0].result.max_creatable_vcms | type')" number "info --json: max_creatable_vcms"

ha gettime
is "$rc" 0 "gettime"
like "$out" "^$ESN: 20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC$" "gettime: one line per HSM"
before=$(date +%s)
ha gettime --json
t=$(printf '%s' "$out" | jq -r '.modules[0].result.time') after=$(date +%s)
ok "gettime --json: the host time ($before <= $t <= $after)" \
	test "$t" -ge "$((before - 1))" -a "$t" -le "$((after + 1))"

ha getenvstats
is "$rc" 0 "getenvstats"
for f in uptime current_time mem_total cpu_temp voltage_battery max_temp nvm_free_space bios_code dfs_throttling; do
	like "$out" "^  $f: " "getenvstats: $f"
done
ha getenvstats --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result | has("crypto_co_proc_temp") and has("sp_voltage_failures")')" \
	true "getenvstats --json: the guide's fields"

# --- time ----------------------------------------------------------------------
ha settime
is "$rc" 3 "settime without --adjust needs maintenance mode: exit 3"
like "$err" "^hsmadmin: settime: $ESN: .*maintenance" "... one line saying so"
ha settime --adjust
is "$rc" 0 "settime --adjust in operational mode"
like "$out" "^$ESN: HSM system time calibration in progress$" "... the guide's message, at once"
host_keys_for_ssh
hsmd_known_hosts h
call h setup set_mode setup '{"mode":"maintenance"}'
is "$rc" 0 "stock ssh with this host's setup key: maintenance mode"
ha settime
is "$rc" 0 "settime in maintenance mode"
like "$out" "^$ESN: HSM system time set to .* UTC; the HSM was reset$" "... sets and resets"
ha status --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.mode')" operational "after the reset: operational"
is "$(printf '%s' "$out" | jq -r '.modules[0].result.clock_set')" true "clock_set"
# A time in the future set by someone else: the host clock is now earlier.
call h setup set_mode setup '{"mode":"maintenance"}'
call h setup settime setup "{\"time\":$(( $(date +%s) + 3600 ))}"
is "$rc" 0 "stock ssh: the clock set an hour ahead"
call h setup set_mode setup '{"mode":"maintenance"}'
ha settime
is "$rc" 3 "settime earlier than the last time set: exit 3"
like "$err" "last time set" "... names the rule"

# --- VSN and acceleration ----------------------------------------------------------
vsn=$(jq -r .vsn "$TEST_TMP/h/device.json" 2>/dev/null)
ha info --json
vsn=$(printf '%s' "$out" | jq -r '.modules[0].result.vsn')
minv=$(printf '%s' "$out" | jq -r '.modules[0].result.min_vsn')
ha setminvsn $((vsn + 1))
is "$rc" 3 "setminvsn above the installed VSN: exit 3"
ha setminvsn "$vsn"
is "$rc" 0 "setminvsn to the installed VSN"
like "$out" "minimum VSN is now $vsn" "... says so"
ha setminvsn "$minv"
if [ "$minv" -lt "$vsn" ]; then is "$rc" 3 "setminvsn below the current minimum: exit 3"; fi
ha setminvsn -- -1
is "$rc" 2 "negative VSN: usage error"
ha setminvsn
is "$rc" 2 "no VSN: usage error"

ha select acceleration --show
is "$rc" 0 "select acceleration --show"
like "$out" "available: " "... lists the accelerators"
sel=$(printf '%s' "$out" | sed -n 's/^  selected: *//p')
ha select acceleration --show --set x
is "$rc" 2 "--show and --set together: usage error"
ha select acceleration --set "$sel"
is "$rc" 0 "select acceleration --set in maintenance mode"
ha select acceleration --set no-such-accel
ok "unknown accelerator refused" test "$rc" -ne 0
like "$err" "^hsmadmin: select acceleration: $ESN: " "... one line naming the HSM"

# --- logs -------------------------------------------------------------------------
ha logs get --log system
is "$rc" 0 "logs get --log system (the only HSM: --esn optional)"
like "$out" "provision" "system log starts with provisioning"
like "$out" "enroll" "enrollment was logged"
like "$out" "set_mode|settime" "state changes were logged"
ha logs get --log system --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.entries | length > 2')" true "logs get --json: entries"
is "$(printf '%s' "$out" | jq -r '[.modules[0].result.entries[].seq] | . == (sort)')" true "... in sequence order"
ha logs get --log init
is "$rc" 0 "logs get --log init"
ha logs get --log audit
is "$rc" 2 "logs get --log audit: usage error"
like "$err" "not a log" "... says so"
ha logs get --log system --out "$TEST_TMP/system.log"
is "$rc" 0 "logs get --out"
ok "--out wrote the log" grep -q enroll "$TEST_TMP/system.log"
ha logs get --log system --out "$TEST_TMP/x.log" --json
is "$rc" 2 "--out with --json: usage error"

# --- reset, factory state, re-enroll ------------------------------------------------
ha reset
is "$rc" 0 "reset"
like "$out" "^$ESN: reset$" "reset says so"
ha factorystate
is "$rc" 2 "factorystate without --esn or --all, stdin not a terminal: refused"
like "$err" "stdin is not a terminal" "... says why"
TTY_ANSWER=n ha_tty factorystate
ok "factorystate on a terminal, answered no: not done" test "$rc" -ne 0
like "$out" "Continue\? \[y/N\]" "... asked for confirmation"
ha status
is "$rc" 0 "... the HSM is still enrolled"
ha factorystate --esn "$ESN"
is "$rc" 0 "factorystate --esn"
like "$out" "returned to factory state" "... says so"
ok "... pins of that HSM forgotten" test ! -e "$pins"
for c in status info gettime getenvstats reset; do
	ha "$c"
	is "$rc" 3 "after factory state: $c refused (exit 3)"
done
ha logs get --log system
is "$rc" 3 "after factory state: logs get refused"
call h setup status setup ''
ok "after factory state: the old setup key is refused by the device too" test "$rc" -ne 0
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "only enroll works: re-enrolled"
like "$out" "^$ESN: enrolled" "... as a fresh enrollment"
ha status --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.state')" enrolled "status works again"
ha logs get --log system --json
is "$(printf '%s' "$out" | jq -r '[.modules[0].result.entries[].event] | index("factorystate") != null')" true \
	"factory state is in the system log, which survived it"

TTY_ANSWER=y ha_tty factorystate
is "$rc" 0 "factorystate on a terminal, answered yes"
like "$out" "$ESN \(" "... listed the HSM before asking"
like "$out" "returned to factory state" "... and did it"
ha status
is "$rc" 3 "... the HSM is in factory state"
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "re-enrolled"
ha factorystate --all --json
is "$rc" 0 "factorystate --all: no question asked"
is "$(printf '%s' "$out" | jq -r '.modules[0].result.factorystate')" true "... --json result"
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "re-enrolled again"
done_testing
