#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Signed log export and collection in recovery mode (guide 4.5.4.1: the
# platform commands, hsmadmin logs among them, work there), against a real
# hsmd.  The recovery image makes no certificates, so nothing chains the
# log keys to the HSM identity: `logs export` and `logs collect` verify
# against the keys the HSM gives, with one warning (the collector: once
# per HSM per run) and certified false in their JSON; the collector stores
# those keys next to the segment.  The chain, the sequence numbers and the
# checkpoint signatures are still checked: a changed segment is refused
# with nothing written.  Leaving recovery mode (factory state again) gives
# certified keys and ordinary exports back.
#
# Uncertified keys are taken only from an HSM this host enrolled in
# recovery mode (its pins say "recovery": true): an HSM enrolled in
# primary mode that gives them without certificates is refused (exit 4)
# by export, collect and getkey, before and after a stay in recovery mode,
# and so is one whose pins (of an earlier version) do not say recovery
# until it is enrolled again.
. "$top_srcdir/tests/lib/platform-lib.sh"
need_plugins logs

# Change the checkpoint signature in a segment file, keeping its frame
# valid (length and CRC-32C recomputed): only the signature check can
# catch it.
resign() { # FILE
	python3 - "$1" <<'EOF'
import json, sys
def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
path = sys.argv[1]
lines = open(path, 'rb').read().split(b'\n')[:-1]
out, done = [], False
for line in reversed(lines):
    n, crc, body = line.split(b' ', 2)
    e = json.loads(body)
    if not done and e['event'] == 'checkpoint':
        sig = e['detail']['sig']
        e['detail']['sig'] = ('B' if sig[0] == 'A' else 'A') + sig[1:]
        body = json.dumps(e, sort_keys=True, separators=(',', ':')).encode()
        line = b'%d %08x %s' % (len(body), crc32c(body), body)
        done = True
    out.append(line)
assert done
open(path, 'wb').write(b'\n'.join(reversed(out)) + b'\n')
EOF
}
nothing_written() { # DIR NAME
	is "$(find "$1" -mindepth 1 | wc -l)" 0 "$2: nothing written, no temporary file left"
}
warnings() { printf '%s\n' "$1" | grep -c "$2"; } # TEXT REGEX: how many lines match
pins_recovery() { jq -r '.recovery // "absent"' "$HSMADMIN_HOME/pins/$ESN.json"; }

# Boot hsmd again on IMAGE (primary or recovery) without the factory state
# a real change of image brings (guide 4.5.4.2): the host keys, the
# enrollment and so the pins stay valid, but on the recovery image the
# monitor gives the log keys without certificates.  On an HSM enrolled in
# primary mode this is an HSM that simply stops sending certificates.
boot_keeping_state() { # IMAGE
	hsmd_stop h || return 1
	if [ "$1" = recovery ]; then
		"$HSMD" button --state h --hold 120 >/dev/null && jq -c '.image = "recovery"' h/device.json >dev.tmp
	else
		"$HSMD" button --state h --release >/dev/null && jq -c 'del(.image)' h/device.json >dev.tmp
	fi || return 1
	cat dev.tmp >h/device.json && rm -f dev.tmp && hsmd_start h
}

# refused WHEN: export, collect and getkey of the uncertified log keys of
# an HSM whose pins say primary mode are refused with exit 4, one line
# saying what to do, nothing written and nothing exported on the HSM.
refused() {
	mkdir -p refused refused-col
	ha logs export --outdir refused
	rc_is 4 "$1: logs export refuses log keys without certificates (exit 4)"
	like "$err" "^hsmadmin: logs export: $ESN: the HSM gave its log keys without certificates, but this host enrolled it in primary mode \($HSMADMIN_HOME/pins/$ESN.json\): refused, nothing exported; if it really runs its recovery image, enroll it again \(hsmadmin enroll\) while it is in recovery mode$" \
		"... one line saying why and what to do"
	is "$(printf '%s\n' "$err" | grep -c .)" 1 "... only that line"
	nothing_written refused "$1: refused export"
	ha logs collect --outdir refused-col --json
	rc_is 4 "$1: logs collect refuses them too (exit 4)"
	like "$err" "$ESN: the HSM gave its log keys without certificates, but this host enrolled it in primary mode .*: refused, nothing collected or expired; .*enroll it again" \
		"... saying so"
	unlike "$err" "warning" "... with no warning of an accepted key"
	nothing_written refused-col "$1: refused collection"
	ha logs getkey --out refused/key.json
	rc_is 4 "$1: logs getkey refuses them too (exit 4)"
	nothing_written refused "$1: refused getkey"
}
# Nothing was exported on the HSM (a refusal comes before the export).
none_saved() {
	ha logs export --saved --json
	rc_is 3 "$1: the HSM holds no exported segment"
}

platform_setup
ESN=6A12-CD34-5678
hsm_new h "$ESN"
ha enroll --secret-file "$(secrets)"
rc_is 0 "enrolled"
cd "$TEST_TMP" || exit 1
mkdir out bad col bad-col after
ha logs export --outdir out
rc_is 0 "export in primary mode"
unlike "$err" "certified" "... no warning about certificates"
ha logs expire --seq 1
rc_is 0 "... expired"
ha logs getkey --out key-primary.json
rc_is 0 "the certified key file of primary mode"
is "$(pins_recovery)" absent "the pins of a primary-mode enrollment say nothing of recovery mode"

# --- an HSM enrolled in primary mode stops sending certificates ----------------------------
ok "hsmd booted on the recovery image, keeping its enrollment" boot_keeping_state recovery
refused "enrolled in primary mode"
ok "hsmd booted on the primary image again" boot_keeping_state primary
none_saved "after the refusals"

# --- export in recovery mode ----------------------------------------------------------------
enter_recovery h
is "$(pins_recovery)" true "the pins say the HSM was enrolled in recovery mode"
like "$err" "warning: $ESN: the HSM runs its recovery image" "... and enroll warned"

# Pins of an earlier version do not say so: refused until enrolled again.
cp "$HSMADMIN_HOME/pins/$ESN.json" pins-recovery.json
jq -c 'del(.recovery)' pins-recovery.json >"$HSMADMIN_HOME/pins/$ESN.json"
refused "pins without the recovery mark"
ha enroll
rc_is 0 "enroll again (no secret: it is enrolled) as the error says"
like "$out" "pins restored" "... the pins rewritten"
is "$(pins_recovery)" true "... saying recovery mode"
ok "... and otherwise as before" \
	test "$(jq -c 'del(.pinned)' "$HSMADMIN_HOME/pins/$ESN.json")" = "$(jq -c 'del(.pinned)' pins-recovery.json)"
none_saved "after the refusals"

ha logs export --outdir out
rc_is 0 "logs export in recovery mode: exit 0"
seg=$(ls out | sed -n "s/^$ESN-system-\([0-9]*\)\.log$/\1/p" | sort -n | tail -1)
is "$seg" 2 "... segment 2 written"
w="^hsmadmin: logs export: warning: $ESN: segment 2 was verified against a log key NOT certified"
like "$err" "$w by the HSM identity \(recovery mode" \
	"... warning that the key is not certified by the HSM identity"
is "$(printf '%s\n' "$err" | grep -c .)" 1 "... on one line"
like "$out" "verified against an uncertified key\) to out/$ESN-system-2.log" \
	"... and says so on stdout"
ok "... byte for byte the device's segment" cmp -s "out/$ESN-system-2.log" h/system.saved/2.log
ha logs export --json --saved --seq 2
rc_is 0 "export --json --saved in recovery mode"
is "$(jqr '"\(.certified) \(.verified) \(.segment)"')" "false true 2" \
	"... certified false, verified, segment 2"
like "$err" "NOT certified by the HSM identity" "... with the warning"
ha logs getkey --out key-recovery.json
rc_is 0 "getkey --out in recovery mode"
ha logs verify --key key-recovery.json "out/$ESN-system-2.log"
rc_is 0 "logs verify --key (the recovery key file) passes on the export"
like "$out" "1 segment\(s\) verified against the given keys" "... anchored to the key file"
ha logs verify --key key-primary.json "out/$ESN-system-1.log" "out/$ESN-system-2.log"
rc_is 0 "the export chains to the certified key of primary mode (its log_key entry is signed by it)"

# --- a changed segment is refused in recovery mode too ----------------------------------------
cp h/system.saved/2.log orig-2.log
resign h/system.saved/2.log
ha logs export --outdir bad --saved --seq 2
rc_is 4 "a checkpoint signature changed on the device: refused (exit 4)"
like "$err" "does not verify, nothing written.*signature" \
	"... the signature is checked, nothing written"
unlike "$err" "warning" "... and no warning of a verified export"
nothing_written bad "changed signature"
cp orig-2.log h/system.saved/2.log
python3 - h/system.saved/2.log <<'EOF'
import sys
p = sys.argv[1]
data = bytearray(open(p, 'rb').read())
i = data.index(b'"seq":') + 6
data[i] = ord('9') if data[i] != ord('9') else ord('8')
open(p, 'wb').write(data)
EOF
ha logs export --outdir bad --saved --seq 2
rc_is 4 "a changed entry: refused (exit 4)"
like "$err" "does not verify, nothing written" "... nothing written"
nothing_written bad "changed entry"
cp orig-2.log h/system.saved/2.log
ha logs expire --seq 2
rc_is 0 "expire in recovery mode"

# --- the collector in recovery mode ------------------------------------------------------------
ha logs clear --log init
rc_is 0 "something new in the system log (the init log cleared)"
ha logs collect --outdir col --json
rc_is 0 "logs collect in recovery mode: exit 0"
is "$(ls col/$ESN | tr '\n' ' ')" "system-3.log system-3.uncertified-keys.json " \
	"... the segment stored with the keys it was verified against"
is "$(warnings "$err" "warning: $ESN: no certificate exists for the log keys (recovery mode)")" 1 \
	"... one warning"
is "$(jqr '[.modules[0].certified, .modules[0].segments[0].certified] | map(tostring)
	| join(" ")')" \
	"false false" "... certified false in the JSON report"
is "$(jq -r '"\(.certified) \(.segment) \(.keys | length)"' \
	col/$ESN/system-3.uncertified-keys.json)" \
	"false 3 $(jq '.keys | length' key-recovery.json)" "... the key file says certified false"
ha logs verify --key "col/$ESN/system-3.uncertified-keys.json" "col/$ESN/system-3.log"
rc_is 0 "logs verify --key with the stored keys passes"
ha logs export --saved --json
rc_is 3 "... and the segment was expired on the HSM"

# A changed segment: not stored, no key file, not expired.
ha logs clear --log init
ha logs export --outdir bad-col
rc_is 0 "an export whose collector died before storing it"
rm -f bad-col/*
cp h/system.saved/4.log orig-4.log
resign h/system.saved/4.log
ha logs collect --outdir col
rc_is 4 "collect of a changed segment in recovery mode: exit 4"
like "$err" "not stored and not expired: .*checkpoint signature does not verify" \
	"... refused at the signature"
is "$(ls col/$ESN | tr '\n' ' ')" "system-3.log system-3.uncertified-keys.json " \
	"... nothing stored"
cp orig-4.log h/system.saved/4.log
ha logs collect --outdir col
rc_is 0 "the segment as the HSM signed it: collected"
is "$(ls col/$ESN | tr '\n' ' ')" \
	"system-3.log system-3.uncertified-keys.json system-4.log system-4.uncertified-keys.json " \
	"... stored with its keys"

# --daemon: the warning once per HSM per run, however many rounds.
HSMADMIN_BIN=$(command -v hsmadmin)
"$HSMADMIN_BIN" logs collect --daemon --interval 1 --outdir col >d.out 2>d.err &
dpid=$!
cleanup_pid "$dpid"
ha logs clear --log init
wait_until 10 test -f "col/$ESN/system-5.log"
ok "the daemon collects in recovery mode" test -f "col/$ESN/system-5.log"
ha logs clear --log init
wait_until 10 test -f "col/$ESN/system-6.log"
ok "... round after round" test -f "col/$ESN/system-6.log"
kill -TERM "$dpid"
wait "$dpid"
is "$?" 0 "... stops on SIGTERM with status 0"
is "$(warnings "$(cat d.err)" "no certificate exists for the log keys")" 1 "... having warned once"
ha logs verify --key key-primary.json out/$ESN-system-1.log out/$ESN-system-2.log col/$ESN/*.log
rc_is 0 "every segment since primary mode chains and verifies against its certified key file"

# --- leaving recovery mode: factory state, certified keys again ------------------------------
"$HSMD" button --state "$TEST_TMP/h" --release >/dev/null
ha reset
rc_is 0 "reset without the button: primary mode"
ha enroll --secret-file "$(secrets)"
rc_is 0 "enroll in primary mode"
ha logs export --outdir after
rc_is 0 "export after leaving recovery mode"
like "$out" "^Exported log segment 7 of $ESN \(entries [0-9]+-[0-9]+, verified\) to after/" \
	"... segment 7, verified"
unlike "$err" "certified" "... no warning"
ha logs export --json --saved --seq 7
is "$(jqr '"\(.certified) \(.segment)"')" "true 7" "... --json: certified true"
ha logs getkey --out key-after.json
rc_is 0 "getkey: certified again"
unlike "$err" "warning" "... without a warning"
ha logs verify --key key-after.json after/$ESN-system-7.log
rc_is 0 "... the export verifies against it"
ha logs collect --outdir col --json
rc_is 0 "collect after leaving recovery mode (the segment exported, not expired)"
is "$(jqr '"\(.modules[0].certified) \(.modules[0].segments[0].segment)"')" "true 7" \
	"... certified, segment 7"
unlike "$err" "no certificate" "... no warning"
is "$(ls col/$ESN | grep 'system-7' | tr '\n' ' ')" "system-7.log " \
	"... stored without an uncertified key file"

# --- enrolled in primary mode again: strict again ------------------------------------------
is "$(pins_recovery)" absent "the primary-mode enrollment cleared the recovery mark"
ok "hsmd booted on the recovery image, keeping its enrollment" boot_keeping_state recovery
refused "enrolled in primary mode again"
ok "hsmd booted on the primary image again" boot_keeping_state primary
none_saved "after the refusals"
ha logs verify --key "col/$ESN/system-3.uncertified-keys.json" "col/$ESN/system-3.log"
rc_is 0 "the stored uncertified key files still verify their segments (verify reads no pins)"
ha logs verify --key key-recovery.json "out/$ESN-system-2.log"
rc_is 0 "... and so does the key file of getkey in recovery mode"
done_testing
