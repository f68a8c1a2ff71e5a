#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The one-time enrollment secret (hsmd(8), hsmadmin-enroll(1)): after
# factory state, whoever reached sshadmin first used to enroll the HSM and
# own it.  Now only the holder of the secret the HSM printed may enroll it:
# a stranger without it (hsmadmin or a stock ssh client) is refused and the
# HSM stays in factory state; the owner enrolls; the secret is used up; a
# new factory state makes a new one.
. "$top_srcdir/tests/lib/platform-lib.sh"
platform_setup
client_keys
E1=2B34-CD56-7890
E2=2B34-CD56-7891
A1=$(test_address)
hsmd_provision h1 "$A1" "$E1" --module-conf "$HSMADMIN_CONF/modules.d/h1.conf"
prc=$?
is "$prc" 0 "provisioned"
S1=$TEST_TMP/h1/enrollment-secret
ok "provision left the secret in STATE/enrollment-secret" test -f "$S1"
is "$(stat -c %a "$S1")" 600 "... mode 0600"
like "$(cat "$S1")" "^$E1 [0-9A-Z]{4}(-[0-9A-Z]{4}){7}$" "... one line: ESN and 32 base32 characters"
old1=$(cut -d' ' -f2 "$S1")
run "$HSMD" provision --state "$TEST_TMP/px" --esn 2B34-CD56-7899 --vendor-key "$TEST_TMP/vendor.pem"
like "$out" "one-time enrollment secret: $(cut -d' ' -f2 "$TEST_TMP/px/enrollment-secret")" \
	"provision prints the secret (stdout: $out; stderr: $err)"
hsmd_start h1
like "$(cat "$TEST_TMP/h1.log")" "factory state: its one-time enrollment secret is in .*enrollment-secret" \
	"hsmd names the secret's file at start in factory state"

# --- a stranger: another host, no secret ------------------------------------------
stranger() { HSMADMIN_HOME=$TEST_TMP/stranger run hsmadmin "$@"; }
mkdir -p -m 0700 "$TEST_TMP/stranger"
stranger enroll
is "$rc" 4 "a stranger without the secret cannot enroll: exit 4 (stdout: $out)"
like "$err" "^hsmadmin: enroll: $E1: .*one-time enrollment secret" "... told why (stderr: $err)"
is "$(jq -r .state "$TEST_TMP/h1/device.json")" factory "... the HSM stays in factory state"
stranger enroll --secret 0000-0000-0000-0000-0000-0000-0000-0000
is "$rc" 4 "... nor with a wrong secret (stderr: $err)"
printf '%s %s\n' "$E2" "$(cut -d' ' -f2 "$S1")" >"$TEST_TMP/other-esn"
stranger enroll --secret-file "$TEST_TMP/other-esn"
is "$rc" 4 "... nor with the secret filed under another ESN (never sent to this HSM) (stderr: $err)"
is "$(jq -r .state "$TEST_TMP/h1/device.json")" factory "the HSM is still in factory state"
ok "... and its secret unchanged" test -f "$S1"

# stock OpenSSH: any key logs in to sshadmin in factory state
hsmd_known_hosts h1
call h1 sshadmin enroll other "$(enroll_params h1 | jq -c 'del(.enrollment_secret)')"
is "$rc" 4 "stock ssh: enroll without the secret is denied (stdout: $out; stderr: $err)"
like "$out" '"code":"denied"' "... code denied"
call h1 sshadmin enroll other "$(enroll_params h1 | jq -c '.enrollment_secret = "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"')"
is "$rc" 4 "stock ssh: a wrong secret of the right shape is denied (stdout: $out)"
call h1 sshadmin enroll other "$(enroll_params h1 | jq -c '.enrollment_secret = 42')"
ok "stock ssh: a secret that is not a string is refused (rc $rc; $out)" test "$rc" = 4 -o "$rc" = 2
call h1 sshadmin hostkeys other ''
is "$rc" 0 "hostkeys still answers anyone in factory state"

# --- bad input to --secret-file ----------------------------------------------------------
printf '%s\nnot a line with a secret-looking tail ABCD\n' "$(cat "$S1")" >"$TEST_TMP/bad-secrets"
ha enroll --secret-file "$TEST_TMP/bad-secrets"
is "$rc" 2 "a malformed secrets file is a usage error (stderr: $err)"
like "$err" "bad-secrets: line 2: not \"ESN SECRET\"" "... naming the file and line"
unlike "$err" "ABCD|$(cut -d' ' -f2 "$S1")" "... without quoting the file"
ha enroll --secret-file "$TEST_TMP/no-such-file"
is "$rc" 2 "a missing secrets file is a usage error"
printf '%s A\n%s B\n' "$E1" "$E1" >"$TEST_TMP/two-secrets"
ha enroll --secret-file "$TEST_TMP/two-secrets"
is "$rc" 2 "two different secrets for one ESN: usage error (stderr: $err)"

# --- a second HSM; --secret needs exactly one HSM ---------------------------------------
A2=$(test_address)
hsmd_provision h2 "$A2" "$E2" --module-conf "$HSMADMIN_CONF/modules.d/h2.conf"
hsmd_start h2
S2=$TEST_TMP/h2/enrollment-secret
ha enroll --secret "$(cut -d' ' -f2 "$S2")"
is "$rc" 2 "--secret with two HSMs addressed: usage error (stderr: $err)"
# a crash right after factory state loses the file: the next start makes a new one
hsmd_stop h2
old2=$(cat "$S2")
rm -f "$S2"
hsmd_start h2
ok "a start in factory state without a secret makes a new one" test -f "$S2"
like "$(cat "$TEST_TMP/h2.log")" "one-time enrollment secret [0-9A-Z-]{39} \(also in" "... and prints it"
[ "$(cat "$S2")" != "$old2" ]; is "$?" 0 "... a different one"

# --- the owner ----------------------------------------------------------------------------
ha enroll --esn "$E2" --secret "$(cut -d' ' -f2 "$S2" | tr 'A-Z' 'a-z')"
is "$rc" 0 "the owner enrolls with --secret (any case) (stderr: $err)"
ok "... the secret is used up (file removed)" test ! -e "$S2"
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "the owner enrolls the rest with --secret-file (stderr: $err)"
ok "... the secret is used up (file removed)" test ! -e "$S1"
is "$(jq -r .state "$TEST_TMP/h1/device.json")" enrolled "... h1 enrolled"
ha status
is "$rc" 0 "status works on both (stderr: $err)"
ha enroll
is "$rc" 0 "enroll on enrolled HSMs needs no secret"
stranger enroll --esn "$E1"
is "$rc" 4 "a stranger still cannot take the enrolled HSM (stderr: $err)"

# --- a new factory state, a new secret ------------------------------------------------------
ha factorystate --esn "$E1"
is "$rc" 0 "factory state (stderr: $err)"
ok "a new secret file" test -f "$S1"
new1=$(cut -d' ' -f2 "$S1")
[ "$new1" != "$old1" ]; is "$?" 0 "... with a new secret"
like "$(cat "$TEST_TMP/h1.log")" "$E1 is in factory state: one-time enrollment secret $new1" \
	"... printed on hsmd's log"
printf '%s %s\n' "$E1" "$old1" >"$TEST_TMP/old-secret"
ha enroll --esn "$E1" --secret-file "$TEST_TMP/old-secret"
is "$rc" 4 "the used-up secret does not enroll again (stderr: $err)"
ha enroll --esn "$E1" --secret-file "$(secrets)"
is "$rc" 0 "the new one does (stderr: $err)"
done_testing
