#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Recovery mode (guide 4.5.4) against a real hsmd: the emulated recovery
# button (`hsmd button`), `hsmadmin reset` while it is held boots the
# recovery image in factory state, enroll there warns that host keys are
# not certified, only platform services run, the mode is shown as
# recovery and cannot be changed, and a reset without the button (or a
# power cycle) returns to the primary image, in factory state again.
. "$top_srcdir/tests/lib/platform-lib.sh"
need_plugins enquiry nopclearfail
for t in enquiry nopclearfail; do ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/$t"; done
platform_setup
# The VCM orchestrator too: it must not run on the recovery image.
hsmd_add_service orchestrator || { echo "Bail out! service orchestrator not built"; exit 1; }
ESN=1A23-BC45-6789
S=$TEST_TMP/h
hsm_new h "$ESN"
button() { run "$HSMD" button --state "$S" "$@"; }
dev() { jq -r "$1" "$S/device.json"; }
status_of() { ha status --esn "$ESN" --json; printf '%s' "$out" | jq -r ".modules[0].result | $1"; }
ha enroll --esn "$ESN" --secret-file "$(secrets)"
rc_is 0 "enroll (primary image)"
is "$(status_of '"\(.image) \(.mode)"')" "primary operational" "status: primary image, operational"
is "$(jq -r '.host_keys | has("orchestrator") and has("ncoreapi") and has("launcher")' "$HSMADMIN_HOME/pins/$ESN.json")" \
	true "primary: orchestrator, ncoreapi and launcher are pinned too"

# --- the button ----------------------------------------------------------------------------
button --show
is "$out" released "the button starts released"
button --hold 0
rc_is 2 "--hold 0: exit 2"
button --hold 5x
rc_is 2 "--hold 5x: exit 2"
like "$err" "^hsmd: button: --hold: not a number of seconds" "... one line naming --hold"
button --hold 10 --release
rc_is 2 "--hold and --release together: exit 2"
run "$HSMD" button --hold 10
rc_is 2 "no --state: exit 2"
run "$HSMD" button --state "$TEST_TMP/nowhere" --hold 10
rc_is 2 "--state of no HSM: exit 2"
printf 'garbage\n' >"$S/button"
button --show
is "$out" released "a malformed button file counts as released"

# --- a reset while the button is held boots the recovery image -------------------------------
button --hold 60
rc_is 0 "hold the recovery button for 60 s"
button --show
is "$out" held "... held"
ha reset --esn "$ESN"
rc_is 0 "hsmadmin reset with the button held"
like "$out" "^$ESN: reset; the recovery image booted \(recovery mode\) in factory state: enroll it again" \
	"... says the recovery image booted in factory state"
is "$(dev '"\(.image) \(.state) \(.client_keys | length) \(.certificates | length)"')" "recovery factory 0 0" \
	"device state: recovery image, factory state, no client keys, no certificates"
ok "the host dropped the stale pins" test ! -e "$HSMADMIN_HOME/pins/$ESN.json"
ha status --esn "$ESN"
rc_is 3 "status before enrolling again: exit 3"
like "$err" "run 'hsmadmin enroll --esn $ESN'" "... saying to enroll"

ha enroll --esn "$ESN" --secret-file "$(secrets)"
rc_is 0 "enroll in recovery mode"
like "$err" "^hsmadmin: enroll: warning: $ESN: the HSM runs its recovery image, which makes no certificates for its SSH host keys" \
	"... warns that the host keys are not certified"
# (This HSM's image has no updater: the platform services it has.)
is "$(jq -r '.host_keys | keys | join(",")' "$HSMADMIN_HOME/pins/$ESN.json")" "monitor,setup,sshadmin" \
	"only the platform services run (no orchestrator, ncoreapi or launcher)"
ha enroll --esn "$ESN" --json --secret-file "$(secrets)"
is "$(printf '%s' "$out" | jq -r '.modules[0].result | "\(.recovery) \(.warning != null)"')" "true true" \
	"enroll --json: recovery and the warning"
is "$(status_of '"\(.image) \(.mode) \(.state)"')" "recovery recovery enrolled" "status: recovery image, mode recovery"
ha status --esn "$ESN"
like "$out" "mode: +recovery" "status text: mode recovery"
ha info --esn "$ESN" --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.mode')" recovery "info: mode recovery"
run enquiry --json
is "$(printf '%s' "$out" | jq -r '.modules[0] | "\(.kind) \(.mode)"')" "hsm recovery" "enquiry: mode recovery"
run nopclearfail -M --esn "$ESN"
rc_is 3 "nopclearfail -M in recovery mode: exit 3"
like "$err" "recovery image: its mode is recovery until it is reset without the recovery button held" \
	"... saying how recovery mode ends"
# No ncoreapi runs, so what needs maintenance mode works (guide 4.3: the
# clock; 4.10.1.4: upgrade from recovery mode).  The reset of settime,
# with the button still held, stays on the recovery image.
ha settime --esn "$ESN"
rc_is 0 "settime in recovery mode (counts as maintenance)"
like "$out" "the HSM was reset" "... and resets"
is "$(status_of '"\(.image) \(.state) \(.clock_set)"')" "recovery enrolled true" \
	"... staying in recovery mode with the button held"
ha logs get --esn "$ESN" --log system --json
like "$out" '"event": *"recovery_enter"' "the system log records entering recovery mode"
ha logs get --esn "$ESN" --log init --json
like "$out" '"image": *"recovery"' "the init log shows the recovery image booted"

# The orchestrator is not even loaded, even for a client key installed
# for it: its port refuses connections (stock ssh, the host keys taken
# from the device; nothing certifies them).
host_keys_for_ssh
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/keys/orch"
for svc in sshadmin orchestrator; do
	( umask 077; jq -r ".host_keys.$svc" "$S/device.json" >"$TEST_TMP/hk" )
	echo "[${HSMD_ADDR[h]}]:$(port_of h $svc) $(ssh-keygen -y -f "$TEST_TMP/hk")"
done >"$TEST_TMP/h.known_hosts"
call h sshadmin set_key sshadmin "{\"service\":\"orchestrator\",\"key\":\"$(cut -d' ' -f1,2 "$TEST_TMP/keys/orch.pub")\"}"
rc_is 0 "stock ssh: a client key for the orchestrator installed in recovery mode"
call h orchestrator list orch ''
rc_is 255 "the orchestrator does not run on the recovery image: no connection"
like "$err" "Connection refused" "... its port is closed"
like "$(cat "$TEST_TMP/h.log")" "service 'orchestrator' does not run on the recovery image; not loaded" \
	"... hsmd did not load its module"

# A reset with the button still held stays in recovery mode, enrolled.
ha reset --esn "$ESN"
rc_is 0 "reset with the button still held"
like "$out" "^$ESN: reset$" "... an ordinary reset"
is "$(status_of '"\(.image) \(.state)"')" "recovery enrolled" "... still recovery, still enrolled"

# --- a reset without the button leaves recovery mode -------------------------------------------
button --release
rc_is 0 "release the button"
ha reset --esn "$ESN"
rc_is 0 "reset without the button"
like "$out" "left recovery mode: the primary image booted in factory state" "... says it left recovery mode"
is "$(dev '"\(.image // "primary") \(.state) \(.certificates | length > 0)"')" "primary factory true" \
	"device state: primary image, factory state, certificates again"
ha enroll --esn "$ESN" --secret-file "$(secrets)"
rc_is 0 "enroll on the primary image"
unlike "$err" "recovery" "... without the warning"
is "$(status_of '"\(.image) \(.mode)"')" "primary operational" "status: primary, operational"
ha logs get --esn "$ESN" --log system --json
like "$out" '"event": *"recovery_leave"' "the system log records leaving recovery mode"

# --- power cycling with the button held ------------------------------------------------------
button --hold 60
hsmd_stop h
hsmd_start h
is "$(dev '"\(.image) \(.state)"')" "recovery factory" "a power cycle with the button held boots the recovery image"
button --release
hsmd_stop h
hsmd_start h
is "$(dev '"\(.image // "primary") \(.state)"')" "primary factory" "... and one without it the primary image"
ha enroll --esn "$ESN" --secret-file "$(secrets)"
rc_is 0 "enroll again"
is "$(status_of .mode)" operational "operational"

done_testing
