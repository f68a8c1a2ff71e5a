#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsmd as a system service: readiness told over the sd_notify protocol,
# diagnostics with syslog priorities when stderr is the journal, a level
# threshold, one line per authentication (address, service, key
# fingerprint) and per state-changing call with its result; and the
# generated systemd unit's paths and hardening.
. "$top_srcdir/tests/lib/hsmd-common.sh"
hsmd_setup
client_keys
A=$(test_address)
hsmd_provision h "$A" 3C45-DE67-8901

# A stand-in service manager: receive one sd_notify datagram.
notify=$TEST_TMP/notify.sock
python3 - "$notify" >"$TEST_TMP/notify.out" 2>"$TEST_TMP/notify.err" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
print(s.recv(4096).decode())
PY
listener=$!
cleanup_pid "$listener"
for _ in $(seq 1 200); do [ -S "$notify" ] && break; sleep 0.05; done
ok "the stand-in service manager listens" test -S "$notify"

: >"$TEST_TMP/h.log"
export NOTIFY_SOCKET=$notify JOURNAL_STREAM
JOURNAL_STREAM=$(stat -c '%d:%i' "$TEST_TMP/h.log")
ok "hsmd starts with a journal on stderr" hsmd_start h
unset NOTIFY_SOCKET JOURNAL_STREAM
wait "$listener"
is "$?" 0 "a readiness datagram arrived (stderr: $(cat "$TEST_TMP/notify.err"))"
like "$(cat "$TEST_TMP/notify.out")" '^READY=1' "... saying READY=1"
like "$(cat "$TEST_TMP/h.log")" '^<6>hsmd: serving 3C45-DE67-8901' \
	"lines carry a syslog priority prefix when stderr is the journal"

call h sshadmin enroll sshadmin "$(enroll_params)"
is "$rc" 0 "enrolled (stderr: $err)"
# A fingerprint as an extended regular expression (base64 has + and /).
fingerprint_re() { ssh-keygen -lf "$1" | awk '{print $2}' | sed 's/[][\\.*^$+?(){}|/]/\\&/g'; }
fp=$(fingerprint_re "$TEST_TMP/keys/sshadmin.pub")
log=$(cat "$TEST_TMP/h.log")
like "$log" "^<5>hsmd: sshadmin: authentication accepted for ssh-ed25519 key $fp from [0-9.:a-f]+ port [0-9]+" \
	"an accepted login is logged at notice with the key fingerprint and address"
like "$log" "^<5>hsmd: sshadmin\.enroll by $fp from [0-9.:a-f]+ port [0-9]+: ok" \
	"a state-changing call is logged at notice with its result"
call h setup gettime other ''
ok "a stranger's key is refused (stderr: $err)" test "$rc" -ne 0
ofp=$(fingerprint_re "$TEST_TMP/keys/other.pub")
like "$(cat "$TEST_TMP/h.log")" "^<4>hsmd: setup: authentication refused for ssh-ed25519 key $ofp from [0-9.:a-f]+ port" \
	"a refused key is logged at warning"
call h setup settime setup "{\"time\":$(( $(date +%s) + 100 ))}"
is "$rc" 3 "a refused call (settime outside maintenance mode)"
like "$(cat "$TEST_TMP/h.log")" "^<4>hsmd: setup\.settime by .* status 3: " \
	"... is logged at warning with the status and reason"
unlike "$(cat "$TEST_TMP/h.log")" 'setup\.gettime' "read-only calls are not logged at the default level"
hsmd_stop h

# A threshold: at warning, the notice lines of a login are not written.
: >"$TEST_TMP/h.log"
"$HSMD" run --state "$TEST_TMP/h" --conf "$HSMD_CONFDIR" --log-level warning --log-target stderr \
	>>"$TEST_TMP/h.log" 2>&1 &
HSMD_PIDS[h]=$!
cleanup_pid "${HSMD_PIDS[h]}"
call h setup gettime setup ''
for _ in $(seq 1 200); do [ "$rc" = 0 ] && break; sleep 0.05; call h setup gettime setup ''; done
is "$rc" 0 "hsmd --log-level warning serves (stderr: $err)"
unlike "$(cat "$TEST_TMP/h.log")" 'authentication accepted' "... and writes no notice lines"
hsmd_stop h

out=$("$HSMD" run --state "$TEST_TMP/h" --log-level chatty 2>&1); rc=$?
is "$rc" 2 "an unknown --log-level is a usage error"
like "$out" "chatty" "... naming the value"

# The unit made by the build: configured paths, notify type, hardening.
unit=$top_builddir/conf.d/hsmd@.service
ok "the build made hsmd@.service" test -f "$unit"
like "$(cat "$unit")" 'ExecStart=/.*/hsmd run --state \$\{STATE_DIRECTORY\} --conf /' "... with configured absolute paths"
unlike "$(cat "$unit")" '@[a-z]+@' "... and no placeholder left"
like "$(cat "$unit")" 'Type=notify' "... waiting for hsmd's readiness"
if command -v systemd-analyze >/dev/null && systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
	exposure=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	ok "systemd-analyze security rates it 4.5 or lower (got '${exposure:-none}')" \
		awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 4.5) }'
else
	echo "ok $((_tap_n + 1)) # SKIP systemd-analyze security --offline not available"; _tap_n=$((_tap_n + 1))
fi
done_testing
