#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A tenant's commands over several VCMs report each VCM as it answers: with
# the VCM of module 1 silent (its process stopped), `hsmadmin vcm info`,
# `vcm getenvstats` and `enquiry` print the other VCM while the silent one
# is still waited for, then the silent one's block once it answers; on a
# terminal a progress line names what is waited for; --json keeps the
# order of the records; -q prints only errors.
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins vcmtenant enquiry
vcm_setup
cd "$TEST_TMP" || exit 1
ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/enquiry"
E1=1A23-BC45-6821 E2=1A23-BC45-6822
ok "HSM 1 provisioned, started and enrolled" vcm_hsm h1 "$E1"
ok "HSM 2 provisioned, started and enrolled" vcm_hsm h2 "$E2"
ok "licence on HSM 1" licence h1 "$E1" 2
ok "licence on HSM 2" licence h2 "$E2" 2

ok "tenant A: a VCM on HSM 1 (module 1)" vcm_up A a1 "$E1"
U1=$UUID
ok "tenant A: a VCM on HSM 2 (module 2)" vcm_up A a2 "$E2"
U2=$UUID
tenant A vcm info --json
is "$(printf '%s' "$out" | jq -r '[.vcms[] | "\(.module)"] | join(" ")')" "1 2" \
	"both VCMs answer, modules 1 and 2"

VCM_HSM=h1
silent=$(vcm_pid "$U1")
like "$silent" '^[0-9]+$' "the process of module 1's VCM ($silent)"

# streamed PATTERN ARGS...: tenant A's hsmadmin ARGS with module 1's VCM
# stopped until a line matches PATTERN (the other VCM's block); the
# silent VCM has 60 s to answer, so the command cannot have ended by then.
streamed() { HSMADMIN_HOME=$TEST_TMP/tenants/A stream_while_stopped "$silent" 1 "$@" --timeout 60; }

streamed "^VCM $U2 " hsmadmin vcm info
is "$running" yes "vcm info: the answering VCM's block came while the silent one was waited for"
unlike "$early" "VCM $U1" "... and not the silent VCM's"
is "$rc" 0 "... once the silent VCM answers: exit 0"
like "$late" "^VCM $U1 \(module 1\):" "... its block comes last"

streamed "^VCM $U2 " hsmadmin vcm getenvstats
is "$running" yes "vcm getenvstats: the same"
is "$rc" 0 "... exit 0"
like "$late" "^VCM $U1 " "... the silent VCM's block last"

streamed "^Module #2:" enquiry
is "$running" yes "enquiry: module 2 came while module 1 was waited for"
like "$early" "^Server:" "... after the server block"
unlike "$early" "Module #1:" "... and before module 1's"
is "$rc" 0 "... exit 0"
like "$late" "^Module #1:" "... module 1's block comes last"

# --- a terminal: the progress line -------------------------------------------------
kill -STOP "$silent"
HSMADMIN_HOME=$TEST_TMP/tenants/A ha_tty vcm info --timeout 3
info_rc=$rc info_out=$out
HSMADMIN_HOME=$TEST_TMP/tenants/A ha_tty vcm info --timeout 3 --json
json_tty=$out
HSMADMIN_HOME=$TEST_TMP/tenants/A timeout -k 5 60 script -qec "enquiry --timeout 3" /dev/null \
	</dev/null >"$TEST_TMP/.enq" 2>&1
enq_out=$(tr -d '\r' <"$TEST_TMP/.enq")
tenant A vcm info --timeout 3 --json
json_rc=$rc json_out=$out
tenant A vcm info --timeout 3 -q
q_rc=$rc q_out=$out q_err=$err
kill -CONT "$silent"
is "$info_rc" 5 "vcm info on a terminal, the silent VCM times out: exit 5"
like "$info_out" "hsmadmin: vcm info: waiting for 1 of 2 VCMs \([0-9]+ s\)" \
	"... a progress line names the VCMs waited for"
like "$info_out" "hsmadmin: vcm info: $U1: " "... then the silent VCM's error line"
like "$enq_out" "^enquiry: (enquiry: )?waiting for 1 of 2 modules \([0-9]+ s\)" \
	"enquiry on a terminal: a progress line names the modules waited for"
like "$(printf '%s\n' "$enq_out" | grep -A1 'Module #1:' | tail -n 1)" "enquiry reply flags +Failed" \
	"... then the silent module, shown Failed"
unlike "$json_tty" "waiting for" "no progress line under --json"
is "$json_rc" 5 "--json: exit 5"
is "$(printf '%s' "$json_out" | jq -r '[.vcms[] | .uuid] | join(" ")')" "$U1 $U2" \
	"... the VCMs in the order of their records"
is "$(printf '%s' "$json_out" | jq -r '.vcms[0].error')" unreachable "... the silent one unreachable"
is "$q_rc" 5 "-q: exit 5"
is "$q_out" "" "... no block printed"
like "$q_err" "^hsmadmin: vcm info: $U1: " "... only the error line"
done_testing
