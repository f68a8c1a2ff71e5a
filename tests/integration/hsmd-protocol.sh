#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The wire protocol with the stock OpenSSH client: factory state, enroll,
# one key per service, pinned host keys, algorithms, hostile params.
. "$top_srcdir/tests/lib/hsmd-common.sh"
hsmd_setup
client_keys
A=$(test_address)
hsmd_provision h "$A" 1A23-BC45-6789
ok "hsmd starts" hsmd_start h

# --- factory state: only sshadmin, only hostkeys and enroll --------------
call h sshadmin hostkeys other '{}'
is "$rc" 0 "factory: sshadmin hostkeys with any Ed25519 key"
is "$(jqr .esn)" 1A23-BC45-6789 "... names the ESN"
is "$(jqr '.services.setup.host_key')" "$(jq -r .certificates.setup.body.host_key "$TEST_TMP/h/device.json")" \
	"... and the setup host key"
is "$(jqr '.services.setup.certificate.body.service')" setup "... with its certificate"
is "$(jqr '.services.setup.port')" 2202 "... and its port"
call h sshadmin authorized_keys other '{}'
is "$rc" 3 "factory: other sshadmin methods are refused_state (exit 3)"
is "$(jqr .error.code)" refused_state "... with the error envelope"
like "$(jqr .error.message)" "factory state: only enroll" "... saying why"
call h setup info setup '{}'
is "$rc" 255 "factory: setup accepts no key"
like "$err" "Permission denied" "... at authentication"
call h monitor logs_get monitor '{}'
is "$rc" 255 "factory: monitor accepts no key"

# --- enroll ---------------------------------------------------------------
call h sshadmin enroll sshadmin '{"client_keys":{"sshadmin":"ssh-ed25519 AAAA"}}'
is "$rc" 4 "enroll without the enrollment secret is denied, before its params are looked at"
call h sshadmin enroll sshadmin "$(enroll_params | jq -c '.client_keys = {sshadmin: "ssh-ed25519 AAAA"}')"
is "$rc" 2 "enroll with a bad key is bad_request"
call h sshadmin enroll sshadmin "$(enroll_params | jq -c 'del(.client_keys.monitor)')"
is "$rc" 2 "enroll without a key for a running service is bad_request"
like "$(jqr .error.message)" "no key for service monitor" "... naming the service"
call h sshadmin enroll sshadmin "$(enroll_params | jq -c '.client_keys.setup = .client_keys.monitor')"
is "$rc" 2 "enroll with one key for two services is bad_request"
call h sshadmin enroll sshadmin "$(enroll_params)"
is "$rc" 0 "enroll succeeds"
is "$(jqr '[.enrolled, .changed] | @csv')" "true,true" "... enrolled and changed"
is "$(jqr '.services.sshadmin.certificate.body.esn')" 1A23-BC45-6789 "... with the hostkeys fields"
call h sshadmin enroll sshadmin "$(enroll_params)"
is "$rc" 0 "enroll again succeeds"
is "$(jqr '[.enrolled, .changed] | @csv')" "true,false" "... and changes nothing"
call h sshadmin enroll other '{}'
is "$rc" 255 "after enroll another key cannot log in to sshadmin"

# --- one key per service ----------------------------------------------------
call h setup info setup '{}'
is "$rc" 0 "setup accepts the setup key"
is "$(jqr .esn)" 1A23-BC45-6789 "... and answers info"
call h setup info sshadmin '{}'
is "$rc" 255 "setup refuses the sshadmin key"
call h setup info monitor '{}'
is "$rc" 255 "setup refuses the monitor key"
call h sshadmin authorized_keys setup '{}'
is "$rc" 255 "sshadmin refuses the setup key"
call h monitor logs_get setup '{"log":"system"}'
is "$rc" 255 "monitor refuses the setup key"
call h monitor logs_get monitor '{"log":"system"}'
is "$rc" 0 "monitor accepts the monitor key"
is "$(jqr '[.entries[].event] | join(",")')" "log_open,log_previous,provision,enroll" \
	"the system log holds its segment's first entries, provision and enroll"
is "$(jqr '[.entries[].seq] | join(",")')" "1,2,3,4" "... numbered 1 to 4"
call h sshadmin authorized_keys sshadmin ''
is "$(jqr .keys.setup)" "$(cut -d' ' -f1,2 "$TEST_TMP/keys/setup.pub")" "authorized_keys shows the setup key"

# --- pinned host keys and algorithms -----------------------------------------
cp "$TEST_TMP/h.known_hosts" "$TEST_TMP/h.good"
sed -i "s/ ssh-ed25519 .*/ $(cut -d' ' -f1,2 "$TEST_TMP/keys/other.pub" | sed 's/[\/&]/\\&/g')/" "$TEST_TMP/h.known_hosts"
call h setup info setup '{}'
is "$rc" 255 "a different pinned host key makes ssh refuse"
cp "$TEST_TMP/h.good" "$TEST_TMP/h.known_hosts"
sshx() { # extra ssh options, then the method
	timeout 20 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$TEST_TMP/h.known_hosts" -o IdentitiesOnly=yes -o LogLevel=ERROR \
		-p 2202 "$@" "hsm@$A" info </dev/null >/dev/null 2>&1
}
sshx -i "$TEST_TMP/keys/setup" -o Ciphers=aes128-ctr; is "$?" 255 "a legacy cipher is refused"
sshx -i "$TEST_TMP/keys/setup" -o KexAlgorithms=diffie-hellman-group14-sha256; is "$?" 255 "a legacy key exchange is refused"
sshx -i "$TEST_TMP/keys/setup" -o Ciphers=chacha20-poly1305@openssh.com; is "$?" 0 "chacha20-poly1305 works"
sshx -i "$TEST_TMP/keys/setup" -o Ciphers=aes256-gcm@openssh.com; is "$?" 0 "aes256-gcm works"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$TEST_TMP/keys/rsa"
sshx -i "$TEST_TMP/keys/rsa"; is "$?" 255 "an RSA client key is refused"
timeout 20 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -T \
	-o UserKnownHostsFile="$TEST_TMP/h.known_hosts" -o IdentitiesOnly=yes -o LogLevel=ERROR \
	-i "$TEST_TMP/keys/setup" -p 2202 "hsm@$A" </dev/null >/dev/null 2>&1
is "$?" 255 "a shell request is refused"
timeout 20 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -s \
	-o UserKnownHostsFile="$TEST_TMP/h.known_hosts" -o IdentitiesOnly=yes -o LogLevel=ERROR \
	-i "$TEST_TMP/keys/setup" -p 2202 "hsm@$A" sftp </dev/null >/dev/null 2>&1
is "$?" 255 "a subsystem request is refused"

# --- hostile params -----------------------------------------------------------
call h setup nosuchmethod setup '{}'
is "$rc" 2 "an unknown method is bad_request (exit 2)"
like "$(jqr .error.message)" "unknown method 'nosuchmethod'" "... naming it"
call h setup 'info extra' setup '{}'
is "$rc" 2 "a command with arguments is bad_request"
call h setup info setup '{"a":1,"a":2}'
is "$rc" 2 "duplicate keys are bad_request"
like "$(jqr .error.message)" "duplicate" "... saying so"
call h setup info setup 'not json'
is "$rc" 2 "non-JSON params are bad_request"
call h setup info setup '[1,2]'
is "$rc" 2 "params that are not an object are bad_request"
call h setup set_mode setup '{"mode":"maintenance"}' # setminvsn needs it
raw='item not found|left unpacked|Expected [a-z]+, got'
call h setup setminvsn setup '{"vsn":"seven"}'
is "$rc" 2 "a wrong type is bad_request"
like "$(jqr .error.message)" "^params: field 'vsn': expected integer, got string$" \
	"... naming the field and the type in our words"
call h setup setminvsn setup '{"vsn":3,"extra":1}'
is "$rc" 2 "an unknown member is bad_request"
like "$(jqr .error.message)" "^params: unknown field 'extra'$" "... naming it"
call h setup setminvsn setup '{}'
like "$(jqr .error.message)" "^params: missing field 'vsn'$" "a missing member is named"
call h monitor logs_get monitor '{"log":5}'
like "$(jqr .error.message)" "^params: field 'log': expected string, got integer$" \
	"monitor: a wrong type is named"
call h monitor logs_expire monitor '{"seq":1}'
like "$(jqr .error.message)" "^params: missing field 'segment'$" "monitor: a missing member is named"
call h sshadmin set_key sshadmin '{"service":"monitor"}'
like "$(jqr .error.message)" "^params: missing field 'key'$" "sshadmin set_key: a missing member is named"
unlike "$(jqr .error.message)" "$raw" "... never the JSON library's own words"
call h setup set_mode setup '{"mode":1}'
like "$(jqr .error.message)" "^params: field 'mode': expected string, got integer$" \
	"setup set_mode: a wrong type is named"
call h setup setminvsn setup '{"vsn":4294967299}'
is "$rc" 3 "a huge VSN is refused, not truncated"
like "$(jqr .error.message)" "higher than the VSN of the installed firmware" "... as higher than the installed VSN"
call h setup set_mode setup '{"mode":"operational"}'
call h setup info setup "{\"pad\":\"$(head -c 70000 /dev/zero | tr '\0' a)\"}"
is "$rc" 2 "params over 64 KiB are bad_request"
like "$(jqr .error.message)" "larger than 65536" "... saying so"
deep=$(printf '%.0s[' $(seq 1 100))
call h setup info setup "{\"a\":$deep"
is "$rc" 2 "deeply nested params are bad_request"
call h setup info setup ''
is "$rc" 0 "empty stdin means {}"
kill -0 "${HSMD_PIDS[h]}"; is "$?" 0 "hsmd is still running after the hostile calls"

# --- a method that changes state logs it --------------------------------------
call h setup set_mode setup '{"mode":"maintenance"}'
is "$rc" 0 "set_mode maintenance"
call h setup status setup ''
is "$(jqr .mode)" maintenance "status shows the mode"
call h monitor logs_get monitor '{"log":"system"}'
is "$(jqr '.entries[-1].event')" set_mode "the change is in the system log"
call h monitor logs_get monitor '{"log":"init"}'
is "$(jqr '.entries[0].event')" boot "the init log starts with the boot"
like "$(jqr '[.entries[].event] | join(",")')" "service_started.*boot_complete" "... and records the services"
call h monitor logs_get monitor '{"log":"audit"}'
is "$rc" 2 "an unknown log is bad_request"

ok "SIGTERM stops hsmd with status 0" hsmd_stop h
like "$(cat "$TEST_TMP/h.log")" "signal 15: stopping" "... and it says so"
done_testing
