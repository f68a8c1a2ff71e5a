#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A flood from one client leaves the other services and clients served
# (hsmd(8), Connections):
#   - 1030 unauthenticated TCP connections to sshadmin from one source
#     address used to hold every session slot (max_connections) and lock out
#     every platform service; now that source gets at most
#     max_unauthenticated_per_source of them, the rest are closed at once;
#   - sessions whose exec channel never sees the end of its input used to
#     live for ever, so 20 monitor-key sessions locked out setup and
#     sshadmin; now one key holds at most max_sessions_per_key sessions and
#     the idle timeout closes a session with an open channel too;
#   - each refused connection is logged once per source per interval.
. "$top_srcdir/tests/lib/hsmd-common.sh"
# Limits low enough to reach quickly; the login deadline long enough that
# the flood is still held while the other clients are served.
HSMD_EXTRA_CONF=$'[server]\nlogin_timeout = 60\nidle_timeout = 3\nmax_unauthenticated_per_source = 8\nmax_sessions_per_key = 4\nrefusal_log_interval = 3600\n'
hsmd_enrolled 4D56-EF78-9012
is "$rc" 0 "enrolled (stderr: $err)"

# --- 1030 unauthenticated connections from one source -----------------------------
# The flooder's own loopback source address: another machine as hsmd sees it.
FLOOD_SRC=$(test_address)
while [ "$FLOOD_SRC" = "$A" ]; do FLOOD_SRC=$(test_address); done
cat >"$TEST_TMP/flood.py" <<'PY'
# SPDX-License-Identifier: Apache-2.0
# flood.py SRC DST PORT N READY: open N TCP connections from SRC, write how
# many connected to READY, then hold them until killed.
import socket, sys, time
src, dst, port, n, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
held, ok = [], 0
for i in range(n):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    try:
        s.connect((dst, port))
        ok += 1
    except OSError:
        pass
    held.append(s)
with open(ready + ".tmp", "w") as f:
    f.write("%d\n" % ok)
import os
os.rename(ready + ".tmp", ready)
while True:
    time.sleep(60)
PY
python3 "$TEST_TMP/flood.py" "$FLOOD_SRC" "$A" "$(port_of h sshadmin)" 1030 "$TEST_TMP/flood.ready" &
FLOOD=$!
cleanup_pid "$FLOOD"
for _ in $(seq 1 600); do [ -f "$TEST_TMP/flood.ready" ] && break; kill -0 "$FLOOD" 2>/dev/null || break; sleep 0.1; done
ok "the flooder opened its connections ($(cat "$TEST_TMP/flood.ready" 2>/dev/null) connected)" \
	test -f "$TEST_TMP/flood.ready"
call h setup info setup ''
is "$rc" 0 "during the flood the setup service answers another client (stderr: $err)"
call h sshadmin authorized_keys sshadmin ''
is "$rc" 0 "... and so does the flooded sshadmin service (stderr: $err)"
call h monitor logs_get monitor '{"log":"init"}'
is "$rc" 0 "... and monitor (stderr: $err)"
held=$(ss -Htn state established "( sport = :$(port_of h sshadmin) )" dst "$FLOOD_SRC" 2>/dev/null | wc -l)
ok "hsmd holds at most 8 of the flooder's connections ($held)" test "$held" -le 8
n=$(grep -c "refused a connection from $FLOOD_SRC" "$TEST_TMP/h.log")
is "$n" 1 "the refusals are logged once for that source in the interval ($(grep "from $FLOOD_SRC" "$TEST_TMP/h.log" | head -3))"
like "$(cat "$TEST_TMP/h.log")" "sshadmin: refused a connection from $FLOOD_SRC: too many unauthenticated connections from this address" \
	"... with the service and the reason"
kill "$FLOOD"; wait "$FLOOD" 2>/dev/null

# --- 20 monitor-key sessions whose input never ends ---------------------------------------------
ssh_hold() { # I: a monitor call whose stdin stays open until $TEST_TMP/in.I's writer ends
	mkfifo "$TEST_TMP/in.$1"
	( timeout -k 2 40 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$TEST_TMP/h.known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-o IdentitiesOnly=yes -o ConnectTimeout=5 -o LogLevel=ERROR \
		-i "$TEST_TMP/keys/monitor" -p "$(port_of h monitor)" "hsm@$A" logs_get \
		<"$TEST_TMP/in.$1" >"$TEST_TMP/hold.$1.out" 2>"$TEST_TMP/hold.$1.err"
	  echo "$?" >"$TEST_TMP/hold.$1.rc" ) &
	# the writer end, held open by a process of its own
	sleep 60 >"$TEST_TMP/in.$1" &
	WRITERS="$WRITERS $!"
	cleanup_pid $!
}
nrc() { ls "$TEST_TMP"/hold.*.rc 2>/dev/null | wc -l; }
wait_rc() { # N: wait (bounded) until N held calls have ended
	for _ in $(seq 1 300); do
		[ "$(nrc)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# (a) one key holds at most max_sessions_per_key sessions: the idle timeout
# is long here, so the 4 admitted sessions stay (and these 20 clients on one
# address may all log in at once).
sed -i -e 's/^idle_timeout = .*/idle_timeout = 60/' \
	-e 's/^max_unauthenticated_per_source = .*/max_unauthenticated_per_source = 32/' "$HSMD_CONFDIR/hsmd.conf"
hsmd_stop h
hsmd_start h
WRITERS=
for i in $(seq 1 20); do ssh_hold "$i"; done
wait_rc 16
sleep 1 # a fifth admitted session would end within this
is "$(nrc)" 16 "of 20 monitor-key sessions 16 are refused at once, 4 stay"
denied=$(grep -l "Permission denied" "$TEST_TMP"/hold.*.err 2>/dev/null | wc -l)
is "$denied" 16 "... refused at authentication ($(cat "$TEST_TMP"/hold.*.err | sort | uniq -c | head -3))"
call h setup info setup ''
is "$rc" 0 "while 4 monitor-key sessions hold open calls, setup answers (stderr: $err)"
call h sshadmin authorized_keys sshadmin ''
is "$rc" 0 "... and sshadmin (stderr: $err)"
like "$(cat "$TEST_TMP/h.log")" "monitor: refused a connection from [0-9.]+: this client key has too many sessions" \
	"the refusal is logged with the reason"
is "$(grep -c "this client key has too many sessions" "$TEST_TMP/h.log")" 1 "... once for that source in the interval"
kill $WRITERS 2>/dev/null
wait_rc 20
is "$(cat "$TEST_TMP"/hold.*.rc | sort | uniq -c | tr -s ' ' | tr '\n' ' ')" " 4 0  16 255 " \
	"once their input ends the 4 held calls complete"
call h monitor logs_get monitor '{"log":"init"}'
is "$rc" 0 "afterwards the monitor key works again (stderr: $err)"

# (b) the idle timeout closes a session whose call never gets its input
sed -i 's/^idle_timeout = .*/idle_timeout = 2/' "$HSMD_CONFDIR/hsmd.conf"
hsmd_stop h
hsmd_start h
rm -f "$TEST_TMP"/hold.* "$TEST_TMP"/in.*
WRITERS=
t0=$(date +%s)
for i in 1 2 3 4; do ssh_hold "$i"; done
wait_rc 4
secs=$(( $(date +%s) - t0 ))
is "$(cat "$TEST_TMP"/hold.*.rc 2>/dev/null | sort -u | tr '\n' ' ')" "255 " \
	"sessions with a call whose input never ends are closed by hsmd ($secs s; $(cat "$TEST_TMP"/hold.1.err 2>/dev/null))"
is "$(grep -c "monitor: closed the session of .*: idle for 2 s with a call open" "$TEST_TMP/h.log")" 4 \
	"... each logged ($(tail -4 "$TEST_TMP/h.log" | tr '\n' '|'))"
kill $WRITERS 2>/dev/null
done_testing
