#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# setup methods and the central rules: time, VSN, acceleration, env stats,
# interlock, lost clock, log capacity, reset and factory state.
. "$top_srcdir/tests/lib/hsmd-common.sh"
hsmd_setup
client_keys
A=$(test_address)
hsmd_provision h "$A" 2B34-CD56-7890
started=$(date +%s)
hsmd_start h
call h sshadmin enroll sshadmin "$(enroll_params)"
is "$rc" 0 "enrolled"
mfg=$(jq -r .mfgtime "$TEST_TMP/h/lifetime.json")
now=$(date +%s)

# --- time ---------------------------------------------------------------------
# Clock checks bound the device's answer by host clock readings taken
# around the calls, so a slow machine widens the window instead of failing.
call h setup gettime setup ''
t=$(jqr .time) after=$(date +%s)
ok "gettime is the host time of a fresh HSM ($now <= $t <= $after)" \
	test "$t" -ge "$((now - 1))" -a "$t" -le "$((after + 1))"
call h setup settime setup "{\"time\":$((now + 100))}"
is "$rc" 3 "settime without adjust needs maintenance mode"
like "$(jqr .error.message)" "maintenance" "... and says so"
call h setup set_mode setup '{"mode":"maintenance"}'
call h setup settime setup "{\"time\":$((mfg - 10))}"
is "$rc" 3 "a time before the manufacturing time is refused"
like "$(jqr .error.message)" "manufacturing time" "... saying so"
# the uptime check below tells a reset from a start only if they are apart
wait_until 10 test "$(date +%s)" -ge $((started + 3))
before=$(date +%s)
call h setup settime setup "{\"time\":$((now + 100))}"
is "$rc" 0 "settime in maintenance mode"
is "$(jqr '.reset')" true "... resets the HSM"
call h setup status setup ''
is "$(jqr .mode)" operational "after the reset the mode is operational"
is "$(jqr .clock_set)" true "status: clock_set"
call h setup gettime setup ''
t=$(jqr .time) after=$(date +%s)
# set to now+100 at some moment after $before; read back by $after
ok "gettime follows the time set ($t in [$((now + 100)), $((now + 100 + after - before + 1))])" \
	test "$t" -ge "$((now + 100))" -a "$t" -le "$((now + 100 + after - before + 1))"
call h setup set_mode setup '{"mode":"maintenance"}'
call h setup settime setup "{\"time\":$((now + 50))}"
is "$rc" 3 "a time before the last time set is refused"
like "$(jqr .error.message)" "last time set" "... saying so"
call h setup settime setup "{\"time\":$((now + 130)),\"adjust\":true}"
is "$rc" 0 "settime adjust"
is "$(jqr .adjusting)" true "... returns adjusting at once"
like "$(jqr .message)" "calibration in progress" "... with the guide's message"
call h setup status setup ''
is "$(jqr .mode)" maintenance "adjust does not reset"

# --- VSN ------------------------------------------------------------------------
call h setup setminvsn setup '{"vsn":8}'
is "$rc" 3 "setminvsn above the installed VSN is refused"
call h setup setminvsn setup '{"vsn":3}'
is "$rc" 0 "setminvsn 3"
call h setup info setup ''
is "$(jqr .min_vsn)" 3 "info shows min_vsn 3"
is "$(jqr '[.max_active_vcms, .max_creatable_vcms] | @csv')" "1,1" "no licence: 1 active and 1 creatable VCM"
call h setup setminvsn setup '{"vsn":2}'
is "$rc" 3 "lowering the minimum VSN is refused"

# --- acceleration and env stats ---------------------------------------------------
call h setup select_acceleration setup '{"set":"rsa"}'
is "$rc" 0 "select acceleration in maintenance mode"
is "$(jqr '[.selected, .pending] | @csv')" '"ecc","rsa"' "... pending until reset"
call h setup select_acceleration setup '{"set":"quantum"}'
is "$rc" 2 "an unknown accelerator is bad_request"
call h setup reset setup ''
is "$rc" 0 "reset"
call h setup select_acceleration setup ''
is "$(jqr '[.selected, .pending] | @csv')" '"rsa",' "the selection applies at reset"
call h setup select_acceleration setup '{"set":"ecc"}'
is "$rc" 3 "select --set needs maintenance mode"
call h setup getenvstats setup ''
is "$rc" 0 "getenvstats"
is "$(envstats_missing "$out")" "" "getenvstats has every field of guide 4.10.1.13 (and mem_used)"
up=$(jqr .uptime) since=$(($(date +%s) - before))
ok "uptime restarted at the reset ($up s; the reset was at most $since s ago)" test "$up" -le $((since + 1))
jqe() { jq -e "$1" "$TEST_TMP/.out" >/dev/null; }
ok "cpu_temp is plausible" jqe '.cpu_temp > 20 and .cpu_temp < 90'
ok "battery voltage is plausible" jqe '.voltage_battery > 2.5 and .voltage_battery < 3.6'
ok "min_temp <= max_temp" jqe '.min_temp <= .max_temp'
ok "current_time is the HSM time" jqe ".current_time >= $((now + 100))"


# --- interlock and lost clock (emulated hardware) --------------------------------------
hsmd_stop h
"$HSMD" simulate --state "$TEST_TMP/h" --ncoreapi operational
hsmd_start h
call h setup reset setup ''
is "$rc" 3 "interlock: reset refused while an ncoreapi is operational"
like "$(jqr .error.message)" "interlock" "... saying so"
call h setup info setup ''
is "$rc" 0 "interlock: read-only methods still work"
call h setup set_mode setup '{"mode":"maintenance"}'
call h setup setminvsn setup '{"vsn":4}'
is "$rc" 3 "interlock: setminvsn refused"
hsmd_stop h
"$HSMD" simulate --state "$TEST_TMP/h" --ncoreapi stopped --clock-lost yes
hsmd_start h
call h setup setminvsn setup '{"vsn":4}'
is "$rc" 3 "lost clock: setminvsn refused"
like "$(jqr .error.message)" "clock is lost" "... saying so"
call h setup settime setup "{\"time\":$((now + 200)),\"adjust\":true}"
is "$rc" 3 "lost clock: settime --adjust refused"
call h setup reset setup ''
is "$rc" 0 "lost clock: reset is allowed"
call h setup set_mode setup '{"mode":"maintenance"}'
call h setup settime setup "{\"time\":$((now + 200))}"
is "$rc" 0 "lost clock: settime (maintenance) restores the clock"
call h setup set_mode setup '{"mode":"maintenance"}'
call h setup setminvsn setup '{"vsn":4}'
is "$rc" 0 "... after which setminvsn works"

# --- log capacity --------------------------------------------------------------------------
used=$(( $(stat -c %s "$TEST_TMP/h/system.log") + $(stat -c %s "$TEST_TMP/h/init.log") ))
hsmd_stop h
# capacity so that the usage is between 50% and 90%
cap=$(( used * 100 / 70 + 1 ))
printf '[paths]\nservicedir = %s\n[logs]\ncapacity = %d\nsafe_percent = 50\ncritical_percent = 90\n' \
	"$HSMD_SVCDIR" "$cap" >"$HSMD_CONFDIR/hsmd.conf"
hsmd_start h
call h setup set_mode setup '{"mode":"maintenance"}'
call h setup setminvsn setup '{"vsn":5}'
is "$rc" 3 "past the safe log level setminvsn is refused"
like "$(jqr .error.message)" "safe working capacity" "... saying so"
call h setup gettime setup ''
is "$rc" 0 "... read-only methods work"
hsmd_stop h
printf '[paths]\nservicedir = %s\n[logs]\ncapacity = 1024\n' "$HSMD_SVCDIR" >"$HSMD_CONFDIR/hsmd.conf"
hsmd_start h
call h setup gettime setup ''
is "$rc" 3 "past the critical level even gettime is refused"
like "$(jqr .error.message)" "critical capacity" "... saying so"
call h monitor logs_get monitor '{"log":"system"}'
is "$rc" 0 "... but the logs can be retrieved"
hsmd_stop h
printf '[paths]\nservicedir = %s\n' "$HSMD_SVCDIR" >"$HSMD_CONFDIR/hsmd.conf"
hsmd_start h
call h setup gettime setup ''
is "$rc" 3 "the critical state is latched until a reset"
call h setup reset setup ''
is "$rc" 0 "... a reset (the emulated reboot) is allowed, and with logs below the critical level"
call h setup gettime setup ''
is "$rc" 0 "... it clears the critical state"
logkey=$(jq -r .log.key "$TEST_TMP/h/device.json")

# --- factory state -------------------------------------------------------------------------------
call h monitor logs_get monitor '{"log":"system"}'
lastseq=$(jqr '.entries[-1].seq')
call h setup factorystate setup ''
is "$rc" 0 "factorystate"
ok "factory state changes the log signing key" test "$logkey" != "$(jq -r .log.key "$TEST_TMP/h/device.json")"
is "$(jq -r '.client_keys | length' "$TEST_TMP/h/device.json")" 0 "factory state erases the client keys"
call h setup info setup ''
is "$rc" 255 "after factory state the setup key is refused"
call h sshadmin hostkeys other ''
is "$rc" 255 "... and the old host keys no longer match the pins"
hsmd_known_hosts h
call h sshadmin hostkeys other ''
is "$rc" 0 "with the new host keys sshadmin answers any key"
is "$(jqr .services.setup.host_key)" "$(jq -r .certificates.setup.body.host_key "$TEST_TMP/h/device.json")" \
	"hostkeys shows the new key"
call h sshadmin enroll sshadmin "$(enroll_params)"
is "$rc" 0 "re-enroll after factory state"
call h monitor logs_get monitor '{"log":"system"}'
is "$(jqr "[.entries[] | select(.event == \"factorystate\")][0].seq")" $((lastseq + 1)) \
	"the log sequence continued through factory state"
call h setup info setup ''
is "$(jqr .min_vsn)" 4 "min VSN survives factory state"
is "$(jqr .esn)" 2B34-CD56-7890 "lifetime data survives factory state"
call h setup status setup ''
is "$(jqr .clock_set)" false "the saved time is erased"
done_testing
