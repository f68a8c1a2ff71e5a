#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The tenant's `enquiry` and `nopclearfail` against real VCM processes:
# the enquiry layout and JSON, the modes, the interlock the modes drive
# (vcmadmin stop, platform-invasive operations), fail/clear/retry, and
# recovery (overview ch. 11) after kill -9 of the VCM process, a forced
# stop and start, and a restart of hsmd.  Also the core's single-command
# tools: `enquiry` and `nopclearfail` run with no command words.
. "$top_srcdir/tests/lib/vcm-lib.sh"
vcm_tools_setup
ESN=1A23-BC45-6789
VCM_HSM=h
ok "HSM provisioned, started and enrolled" vcm_hsm h "$ESN"

# As tenant A: enquiry / nopclearfail with A's HSMADMIN_HOME.
enq() { HSMADMIN_HOME="$TEST_TMP/tenants/A" run enquiry "$@"; }
npf() { HSMADMIN_HOME="$TEST_TMP/tenants/A" run nopclearfail "$@"; }
flags() { enq --json; printf '%s' "$out" | jq -r --argjson m "${1:-1}" '.modules[] | select(.module == $m) |
	"\(.failed) \(.connection_status) \(.enquiry.mode // "-")"'; }

mkdir -p tenants/A
enq
is "$rc" 0 "enquiry with nothing enrolled"
like "$out" "modules +0" "... shows no module"

ok "tenant A's VCM created" new_vcm A "tenant a"
U=$UUID
va start "$U"
is "$rc" 0 "provider starts it"
tenant A vcm enroll --config "configs/vcm-$U.json"
is "$rc" 0 "tenant A enrolls it"

# --- enquiry ----------------------------------------------------------------------------------
enq
is "$rc" 0 "enquiry"
like "$out" "^Server:" "text: a Server block"
like "$out" "Module #1:" "text: Module #1"
like "$out" "enquiry reply flags +none" "... reply flags none"
like "$out" "serial number +$ESN-V[0-9A-F]{4}" "... serial derived from the ESN"
like "$out" "mode +operational" "... operational"
like "$out" "device name +VCM $U" "... device name with the UUID"
like "$out" "connection status +OK" "... connection OK"
like "$out" "connection info +esn = $ESN; addr = INET/$ADDR" "... connection info"
like "$out" "hardware status +OK" "... hardware OK"
enq --json
is "$(printf '%s' "$out" | jq -r '.modules[0] | "\(.module) \(.uuid) \(.failed) \(.connection_status)"')" \
	"1 $U false OK" "--json: module, uuid, failed, connection status"
boot1=$(printf '%s' "$out" | jq -r '.modules[0].enquiry.boot_id')
like "$boot1" "^[0-9a-f]{32}$" "--json: the module's boot id"
enq -m 1
is "$rc" 0 "enquiry -m 1"
enq -m 7
is "$rc" 2 "enquiry -m of an unknown module: exit 2"
enq --help
is "$rc" 0 "enquiry --help"
like "$out" "nopclearfail" "... mentions nopclearfail"

# --- modes and the interlock -----------------------------------------------------------------
va show "$U" --json
is "$(printf '%s' "$out" | jq -r .ncoreapi)" operational "the provider sees the VCM's ncoreapi operational"
va stop "$U"
is "$rc" 3 "vcmadmin stop is refused while the module is operational"
like "$err" "ask its tenant to put the module in maintenance mode" "... telling the provider to ask the tenant"
ha reset --esn "$ESN"
is "$rc" 3 "platform reset refused while a VCM is operational"
like "$err" "interlock" "... by the interlock"
npf -m 1 -M
is "$rc" 0 "nopclearfail -M"
like "$out" "Module #1 in maintenance mode" "... says so"
is "$(flags)" "false OK maintenance" "enquiry: maintenance"
va show "$U" --json
is "$(printf '%s' "$out" | jq -r .ncoreapi)" stopped "the provider sees ncoreapi not operational"
npf -m1 -I -w
is "$rc" 0 "nopclearfail -m1 -I -w"
is "$(flags)" "false OK initialization" "enquiry: initialization"
npf -m 1 -O -w
is "$rc" 0 "nopclearfail -O -w"
is "$(flags)" "false OK operational" "enquiry: operational"
npf -m 1
is "$rc" 2 "no action: exit 2"
npf -M
is "$rc" 2 "no module: exit 2"
npf -m 1 -M -O
is "$rc" 2 "two actions: exit 2"
npf -m 9 -r
is "$rc" 2 "an unknown module: exit 2"

# --- fail and clear ----------------------------------------------------------------------------
npf -m 1 -F
is "$rc" 0 "nopclearfail -F"
is "$(flags)" "true OK operational" "enquiry: failed, connection OK"
enq
like "$out" "enquiry reply flags +Failed" "text: reply flags Failed"
like "$out" "failure +failed on the device" "... and why"
npf -m 1 -r
is "$rc" 3 "retry does not undo a failure on the device"
npf -m 1 -O
is "$rc" 3 "a failed module cannot go operational"
npf --clear --all
is "$rc" 0 "guide 4.9.3: nopclearfail --clear --all clears a failed operational module"
is "$(flags)" "false OK operational" "... through maintenance mode, back to operational"
npf -m 1 -F
is "$(flags)" "true OK operational" "failed again"
npf -m 1 -M
is "$rc" 0 "-M on a failed module"
npf -m 1 -c
is "$rc" 0 "then -c clears it"
is "$(flags)" "false OK operational" "enquiry: cleared and operational"

# --- kill -9 of the VCM process ----------------------------------------------------------------
pid=$(vcm_pid "$U")
kill -9 "$pid"
for _ in $(seq 1 100); do [ "$(vcm_state "$U")" = failed ] && break; sleep 0.1; done
is "$(vcm_state "$U")" failed "the registry marks the killed VCM failed"
is "$(flags)" "true Unreachable -" "enquiry: failed, unreachable"
enq
like "$out" "connection status +Unreachable" "text: connection status Unreachable"
npf -m 1 -r
is "$rc" 5 "retry while unreachable: exit 5"
va start "$U"
is "$rc" 0 "provider starts the VCM again"
enq --json
is "$(printf '%s' "$out" | jq -r '.modules[0] | "\(.failed) \(.restarted) \(.connection_status)"')" "true true OK" \
	"enquiry: reachable but failed (restarted)"
boot2=$(printf '%s' "$out" | jq -r '.modules[0].enquiry.boot_id')
ok "the restarted process has a new boot id" test "$boot2" != "$boot1"
npf -m 1 -r
is "$rc" 0 "nopclearfail -r"
is "$(flags)" "false OK operational" "enquiry: recovered, operational (mode kept)"

# --- forced stop and start ------------------------------------------------------------------------
va stop --force "$U"
is "$rc" 0 "vcmadmin stop --force"
is "$(flags)" "true Unreachable -" "enquiry: failed while stopped"
va start "$U"
is "$(flags)" "true OK operational" "enquiry: failed after the start (restarted)"
npf -a -r -w
is "$rc" 0 "nopclearfail -a -r -w"
is "$(flags)" "false OK operational" "recovered"

# --- hsmd restart ---------------------------------------------------------------------------------------
hsmd_stop h
ok "hsmd restarted" hsmd_start h
is "$(flags)" "true Unreachable -" "enquiry: failed after the HSM restart (the VCM is stopped)"
va start "$U"
is "$rc" 0 "provider starts the VCM"
is "$(flags)" "true OK operational" "enquiry: failed (restarted)"
npf -m 1 -M
npf -m 1 -c
is "$rc" 0 "clear (-M then -c) recovers it too"
is "$(flags)" "false OK operational" "enquiry: recovered and operational"

# --- the key store and the enrollment survive all this ---------------------------------------------
tenant A vcm info --json
is "$(printf '%s' "$out" | jq -r '.vcms[0].uuid')" "$U" "vcm info still works with the enrollment's keys"

done_testing
