#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsmd under stress: silent clients, signals, kill -9 during state changes,
# damaged files, bad service configuration.
. "$top_srcdir/tests/lib/hsmd-common.sh"
HSMD_EXTRA_CONF=$'[server]\nlogin_timeout = 30\n'
hsmd_enrolled 3C45-DE67-8901
is "$rc" 0 "enrolled"

# --- slow and silent clients never block others ---------------------------------
# The login deadline is 30 s here, longer than call's 20 s bound: a server
# that waited for the silent clients to be dropped would fail these calls.
exec 3<>"/dev/tcp/$A/2202"
for i in 4 5 6 7 8 9; do eval "exec $i<>/dev/tcp/$A/2201"; done
call h setup info setup ''
is "$rc" 0 "a call succeeds while 7 clients are connected and silent (not waiting for their 30 s deadline)"
# a client that sent its banner and then stalls mid key exchange
exec 10<>"/dev/tcp/$A/2206"
printf 'SSH-2.0-stall\r\n' >&10
call h monitor logs_get monitor '{"log":"init"}'
is "$rc" 0 "a client stalled in key exchange does not block others"
exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- 10>&-
# the login deadline (2 s now) drops a silent client; the wait is bounded
sed -i 's/^login_timeout = .*/login_timeout = 2/' "$HSMD_CONFDIR/hsmd.conf"
hsmd_stop h
hsmd_start h
exec 3<>"/dev/tcp/$A/2202"
timeout 20 cat <&3 >"$TEST_TMP/banner"; crc=$?
is "$crc" 0 "the server closes a silent client after the login deadline"
like "$(head -c 8 "$TEST_TMP/banner")" "^SSH-2.0" "... after sending its banner"
exec 3>&-

# --- many calls in parallel -------------------------------------------------------------
for i in $(seq 1 12); do
	( call h setup gettime setup ''; echo "$rc" >"$TEST_TMP/par.$i" ) &
done
wait_pids=$(jobs -p | grep -v "^${HSMD_PIDS[h]}$")
for p in $wait_pids; do wait "$p"; done
is "$(cat "$TEST_TMP"/par.* | sort -u | tr -d '\n')" 0 "12 parallel calls all succeed"

# --- signals ----------------------------------------------------------------------------
kill -HUP "${HSMD_PIDS[h]}"
ok "SIGHUP is logged" wait_until 20 grep -q "SIGHUP: nothing to reload" "$TEST_TMP/h.log"
call h setup info setup ''
is "$rc" 0 "... and does not stop hsmd"
hsmd_stop h; src=$?
is "$src" 0 "SIGTERM: exit status 0 (hsmd_stop waits at most 30 s)"

# --- one state, one hsmd ------------------------------------------------------------------
hsmd_start h
run "$HSMD" run --state "$TEST_TMP/h" --conf "$HSMD_CONFDIR"
is "$rc" 1 "a second hsmd on the same state is refused"
like "$err" "in use by another hsmd" "... and says so"
run "$HSMD" simulate --state "$TEST_TMP/h" --clock-lost yes
is "$rc" 1 "simulate refuses a running HSM"

# --- kill -9 during state changes -------------------------------------------------------------
call h setup status setup ''
mode_before=$(jqr .mode)
# The kill comes at a random moment after the round's first change is
# committed (on a loaded machine a call can take a second: a fixed delay
# would often kill hsmd before any change and test nothing; and setting
# the mode it already has changes nothing).
next_seq() { jq -r .log.next_seq "$TEST_TMP/h/device.json" 2>/dev/null; }
changed_rounds=0
for round in 1 2 3 4 5; do
	seq0=$(next_seq)
	( for i in $(seq 1 40); do
		m=$([ $((i % 2)) = 0 ] && echo maintenance || echo operational)
		call h setup set_mode setup "{\"mode\":\"$m\"}"
	done ) >/dev/null 2>&1 &
	loader=$!
	for _ in $(seq 1 600); do [ "$(next_seq)" != "$seq0" ] && break; sleep 0.05; done
	[ "$(next_seq)" != "$seq0" ] && changed_rounds=$((changed_rounds + 1))
	sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
	kill -KILL "${HSMD_PIDS[h]}"
	wait "${HSMD_PIDS[h]}" 2>/dev/null
	wait "$loader"
	hsmd_start h || break
done
ok "hsmd restarts after 5 kill -9 during state changes" kill -0 "${HSMD_PIDS[h]}"
is "$changed_rounds" 5 "... each after at least one committed change"
call h setup status setup ''
is "$rc" 0 "... and answers"
call h monitor logs_get monitor '{"log":"system"}'
n=$(jqr '.entries | length')
is "$(jqr '[.entries[].seq] == [range(1; .entries | length + 1)]')" true \
	"the system log has no gaps ($n entries)"
next=$(jq -r .log.next_seq "$TEST_TMP/h/device.json")
is "$(jqr "[.entries[] | select(.seq >= $next and .event != \"checkpoint\") | .event] | join(\",\")")" "" \
	"... and has no change entry past the state's next sequence number"
# (under load no set_mode may have got through before a kill: then the
# mode is still the first one)
last_mode=$(jqr '[.entries[] | select(.event == "set_mode")][-1].detail.mode')
[ "$last_mode" = null ] && last_mode=$mode_before
call h setup status setup ''
is "$(jqr .mode)" "$last_mode" "the mode is the one the last logged change set"

# --- damaged files -----------------------------------------------------------------------------
hsmd_stop h
printf '{"seq":99999,"time":1,"ev' >>"$TEST_TMP/h/system.log"
ok "hsmd starts over a torn last log entry" hsmd_start h
like "$(cat "$TEST_TMP/h.log")" "system.log: byte [0-9]+: [0-9]+ damaged bytes after seq [0-9]+" \
	"... and reports it with the sequence number before it"
call h monitor logs_get monitor '{"log":"system"}'
is "$rc" 0 "... and the log reads back"
is "$(jqr '.entries[-1].event')" log_damaged "... ending with the report of what was cut"
hsmd_stop h
# Damage in the middle (what unframed appends glued together): hsmd still
# starts, names the gap, and keeps the entries after it.
mid=$(grep -n '"event":"provision"' "$TEST_TMP/h/system.log" | cut -d: -f1)
sed -i "${mid:-3}s/^[0-9]*/X/" "$TEST_TMP/h/system.log"
after=$(sed -n "$((mid + 1))p" "$TEST_TMP/h/system.log" | sed 's/^[^{]*//' | jq -r .seq)
ok "hsmd starts over a damaged entry in the middle of the log" hsmd_start h
like "$(cat "$TEST_TMP/h.log")" "entries $((after - 1))\.\.$((after - 1)) are missing \(gap before seq $after\)" \
	"... and reports the gap with its sequence numbers"
call h monitor logs_get monitor '{"log":"system"}'
is "$(jqr "[.entries[] | select(.seq == $after)] | length")" 1 "... keeping the entry after the damage"
like "$(jqr '[.entries[] | select(.event == "log_damaged") | .detail.found] | join(" ")')" \
	"gap before seq $after" "... and recording the gap in the log itself"
hsmd_stop h

# --- service configuration --------------------------------------------------------------------
printf '[service]\nname = monitor\nmodule = monitor.so\nextra = 1\n' >"$HSMD_CONFDIR/services.d/monitor.conf"
chmod 0666 "$HSMD_SVCDIR/setup.so"
hsmd_start h
like "$(cat "$TEST_TMP/h.log")" "monitor.conf: line 4: unknown key 'extra'" "a bad services.d file is reported with its line"
like "$(cat "$TEST_TMP/h.log")" "setup.so: owned by another user or writable" "a world-writable module is refused"
like "$(cat "$TEST_TMP/h.log")" "serving .* \(1 service\)" "... and the other services still run"
call h sshadmin authorized_keys sshadmin ''
is "$rc" 0 "sshadmin answers"
hsmd_stop h
chmod 0755 "$HSMD_SVCDIR/setup.so"
cp "$top_srcdir/conf.d/services.d/monitor.conf" "$HSMD_CONFDIR/services.d/"
printf 'not an ELF file' >"$HSMD_SVCDIR/monitor.so"
printf '[service]\nname = setup\nmodule = monitor.so\n' >"$HSMD_CONFDIR/services.d/zz.conf"
hsmd_start h
like "$(cat "$TEST_TMP/h.log")" "monitor.so: .*(invalid ELF|too short|file too short|ELF)" "a broken module is refused with dlerror's reason"
like "$(cat "$TEST_TMP/h.log")" "zz.conf: names service 'setup' but is not called setup.conf" "a misnamed services.d file is refused"
done_testing
