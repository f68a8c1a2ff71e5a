#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Platform modes (guide 4.5, 4.6.4) as a new user meets them, against one
# real hsmd: the HSM unit's mode in status, info and enquiry; the commands
# that need maintenance mode refuse with one line naming the command that
# enters it; `nopclearfail -M|-O|-I` reaches the platform by --esn or by
# its module number; maintenance mode -> settime -> operational again.
. "$top_srcdir/tests/lib/platform-lib.sh"
need_plugins enquiry nopclearfail
for t in enquiry nopclearfail; do ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/$t"; done
platform_setup
ESN=1A23-BC45-6789
OTHER=9Z87-YX65-4321
hsm_new h "$ESN"
npf() { run nopclearfail "$@"; }
# is "$rc" WANT NAME, printing the command's output when it fails.
enq() { run enquiry "$@"; }
mode_of() { ha status --esn "$ESN" --json; printf '%s' "$out" | jq -r '.modules[0].result.mode'; }

ha enroll --esn "$ESN" --secret-file "$(secrets)"
rc_is 0 "enroll"

# --- the mode is shown ---------------------------------------------------------------
ha status --esn "$ESN"
like "$out" "mode: +operational" "status: the HSM's mode"
ha info --esn "$ESN"
like "$out" "mode: +operational" "info: the HSM's mode"
ha info --esn "$ESN" --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.mode')" operational "info --json: mode"
enq
rc_is 0 "enquiry"
like "$out" "modules +1" "enquiry: one module, the HSM"
like "$out" "Module #1:" "... numbered 1 on a host without VCMs"
like "$out" "serial number +$ESN" "... its ESN"
like "$out" "mode +operational" "... its platform mode"
enq --json
is "$(printf '%s' "$out" | jq -r '.modules[0] | "\(.module) \(.kind) \(.esn) \(.mode) \(.failed)"')" \
	"1 hsm $ESN operational false" "enquiry --json: module, kind, esn, mode"

# --- commands that need maintenance mode say how to get there -------------------------
for c in settime "setminvsn 1" "select acceleration --set rsa"; do
	# shellcheck disable=SC2086
	ha $c --esn "$ESN"
	rc_is 3 "$c outside maintenance mode: exit 3"
	like "$err" "^hsmadmin: [a-z ]+: $ESN: the HSM is not in maintenance mode: enter it with 'nopclearfail -M --esn $ESN -w' first$" \
		"... one line naming the command that enters it"
	is "$(printf '%s\n' "$err" | wc -l)" 1 "... and only one"
done

# --- bad selections are refused, never sent elsewhere ---------------------------------
npf -M
rc_is 2 "nopclearfail -M without a module: exit 2"
like "$err" "give -m MODULE, -a or --esn ESN" "... says what to give"
npf -M --esn "$OTHER" -w
rc_is 2 "nopclearfail --esn of an HSM this host has no module on: exit 2"
like "$err" "$OTHER: this host has no module on that HSM" "... names the ESN"
npf -M --esn not-an-esn
rc_is 2 "a malformed --esn: exit 2"
npf -M -m 2
rc_is 2 "-m of no module: exit 2"
npf -F --esn "$ESN"
rc_is 2 "-F on an HSM's platform: exit 2"
like "$err" "platform has only modes" "... which has only modes"
is "$(mode_of)" operational "nothing changed"

# --- maintenance -> settime -> operational ------------------------------------------------
npf -M --esn "$ESN" -w
rc_is 0 "nopclearfail -M --esn ESN -w"
like "$out" "^Module #1 \(HSM $ESN\) in maintenance mode$" "... says so"
is "$(mode_of)" maintenance "status: maintenance"
enq
like "$out" "mode +maintenance" "enquiry: maintenance"
ha settime --esn "$ESN"
rc_is 0 "settime in maintenance mode"
like "$out" "the HSM was reset" "... resets the HSM"
is "$(mode_of)" operational "after the reset the HSM is operational again"

# The guide's form: -m MODULE, and back with -O.
npf -M -m 1 -w --json
rc_is 0 "nopclearfail -M -m 1 -w (the guide's form)"
is "$(printf '%s' "$out" | jq -r '.modules[0] | "\(.module) \(.kind) \(.esn) \(.ok)"')" "1 hsm $ESN true" \
	"... --json: the HSM's module"
vsn=$(ha info --esn "$ESN" --json; printf '%s' "$out" | jq -r '.modules[0].result.vsn')
ha setminvsn "$vsn" --esn "$ESN"
rc_is 0 "setminvsn in maintenance mode"
ha select acceleration --set rsa --esn "$ESN"
rc_is 0 "select acceleration --set in maintenance mode"
npf -I -m 1 -w
rc_is 0 "nopclearfail -I"
is "$(mode_of)" initialization "status: initialization"
npf -O -m 1 --esn "$ESN" -w
rc_is 0 "nopclearfail -O -m 1 --esn ESN -w"
is "$(mode_of)" operational "status: operational"
npf -M -a
rc_is 0 "nopclearfail -M -a includes the HSM"
is "$(mode_of)" maintenance "... which is in maintenance mode"
npf -c -a
rc_is 2 "-c -a with no VCM: nothing to clear, exit 2"

# The mode is device state: it survives a restart of hsmd.
hsmd_stop h
hsmd_start h
is "$(mode_of)" maintenance "the mode survives an hsmd restart"
ha reset --esn "$ESN"
is "$(mode_of)" operational "a reset returns the HSM to operational mode"

done_testing
