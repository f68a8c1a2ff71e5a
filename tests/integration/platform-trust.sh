#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Trust failures end to end: a key of one service refused by another, a
# client key with loose permissions, an impostor HSM (same address and ESN,
# another identity) refused on every call including enroll, a device
# warranted by an untrusted vendor, no vendor keys at all.
. "$top_srcdir/tests/lib/platform-lib.sh"
platform_setup
ESN=3C45-DE67-8901
ADDR=$(test_address)
ok "enrolled" hsm_enrolled h "$ESN" "$ADDR"
host_keys_for_ssh
hsmd_known_hosts h

# --- one service's key at another service ----------------------------------------
call h setup status monitor ''
ok "stock ssh: the monitor key is refused by setup" test "$rc" -ne 0
like "$err" "Permission denied" "... permission denied"
call h setup status setup ''
is "$rc" 0 "stock ssh: the setup key is accepted by setup"
keys=$HSMADMIN_HOME/keys/client
cp -p "$keys/setup" "$TEST_TMP/setup.saved"
rm -f "$keys/setup" && cp -p "$keys/monitor" "$keys/setup"
ha status
is "$rc" 4 "hsmadmin with the monitor key as its setup key: exit 4"
like "$err" "^hsmadmin: status: $ESN: setup service refused this host's setup client key" "... one line naming ESN and service"
rm -f "$keys/setup" && cp -p "$TEST_TMP/setup.saved" "$keys/setup"
ha status
is "$rc" 0 "setup key restored: status works"

chmod 0640 "$keys/setup"
ha status
is "$rc" 4 "group-readable client key: exit 4"
like "$err" "mode 0640 lets group .* read the key, but no group is configured" "... says why"
chmod 0600 "$keys/setup"

# --- enroll --sshadmin-key: a backup of the sshadmin key ----------------------------
cp -p "$keys/sshadmin" "$TEST_TMP/sshadmin.backup"
chmod 0644 "$TEST_TMP/sshadmin.backup"
ha enroll --secret-file "$(secrets)" --sshadmin-key "$TEST_TMP/sshadmin.backup"
is "$rc" 2 "--sshadmin-key readable by others: usage error"
like "$err" "^hsmadmin: enroll: --sshadmin-key: .*lets others access the key" "... says why"
chmod 0600 "$TEST_TMP/sshadmin.backup"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/stranger"
ha enroll --secret-file "$(secrets)" --sshadmin-key "$TEST_TMP/stranger"
is "$rc" 4 "--sshadmin-key with a key the HSM does not know: exit 4"
like "$err" "enrolled with another host's keys" "... explains"
rm "$keys/sshadmin"
ha enroll --secret-file "$(secrets)" --sshadmin-key "$TEST_TMP/sshadmin.backup"
is "$rc" 0 "--sshadmin-key with the backup: works"
like "$out" "nothing changed" "... nothing changed on the HSM"
rm -f "$TEST_TMP/k1" "$TEST_TMP/k2"
"$KEYEXPORT" sshadmin "$keys/sshadmin" "$TEST_TMP/k1"
"$KEYEXPORT" sshadmin "$TEST_TMP/sshadmin.backup" "$TEST_TMP/k2"
is "$(ssh-keygen -y -f "$TEST_TMP/k1")" "$(ssh-keygen -y -f "$TEST_TMP/k2")" "... and the backup's key was reinstalled"
ok "... stored protected again (not a copy)" sh -c '[ "$(head -c 6 "$1")" = HSMKEY ]' _ "$keys/sshadmin"
rm -f "$TEST_TMP/k1" "$TEST_TMP/k2"
is "$(stat -c %a "$keys/sshadmin")" 600 "... with mode 0600"

# --- a client that connects and says nothing does not stall the others ---------
exec 3<>"/dev/tcp/$ADDR/$(port_of h setup)"
t0=$(now_ms)
ha status
is "$rc" 0 "status while another client sits silent on the setup port"
ok "... answered promptly ($(( $(now_ms) - t0 )) ms)" test $(( $(now_ms) - t0 )) -lt 3000
exec 3<&-

# --- an impostor on the same address with the same ESN ----------------------------
hsmd_stop h
hsmd_provision fake "$ADDR" "$ESN" --module-conf "$TEST_TMP/fake-module.conf"
hsmd_start fake
pins_before=$(md5sum <"$HSMADMIN_HOME/pins/$ESN.json")
for c in status info gettime getenvstats reset settime "settime --adjust" "setminvsn 1" \
	"select acceleration --show" "factorystate --all" "logs get --log system"; do
	# shellcheck disable=SC2086
	ha $c
	is "$rc" 4 "impostor: '$c' fails with exit 4"
	like "$err" "$ESN: [a-z]+ host key does not match the key pinned at enrollment" \
		"impostor: '$c' names the ESN, the service and the trust failure"
done
ha status --json
is "$(printf '%s' "$out" | jq -r '.modules[0].error.code')" trust "impostor: --json error code trust"
ha enroll --secret-file "$(secrets fake)"
is "$rc" 4 "impostor: enroll fails with exit 4"
like "$err" "device identity key differs from the one pinned at enrollment" "... because the identity changed"
is "$(md5sum <"$HSMADMIN_HOME/pins/$ESN.json")" "$pins_before" "impostor: pins untouched"
ha logs get --log system --esn "$ESN"
is "$rc" 4 "impostor: logs get --esn fails with exit 4"
hsmd_stop fake

# --- a device warranted by a vendor this host does not trust -----------------------
openssl genpkey -algorithm ed25519 -out "$TEST_TMP/rogue.pem" 2>/dev/null
chmod 0600 "$TEST_TMP/rogue.pem"
"$HSMD" provision --state "$TEST_TMP/rogue" --esn "$ESN" --address "$ADDR" \
	--vendor-key "$TEST_TMP/rogue.pem" >/dev/null
HSMD_ADDR[rogue]=$ADDR
hsmd_start rogue
rm -f "$HSMADMIN_HOME/pins/$ESN.json"
ha enroll --secret-file "$(secrets rogue)"
is "$rc" 4 "untrusted vendor: enroll fails with exit 4"
like "$err" "not signed by a trusted vendor key" "... says why"
ok "untrusted vendor: nothing pinned" test ! -e "$HSMADMIN_HOME/pins/$ESN.json"
mv "$HSMADMIN_CONF/vendor.d" "$TEST_TMP/vendor.d.off"
ha enroll --secret-file "$(secrets rogue)"
is "$rc" 4 "no vendor keys: enroll fails with exit 4"
like "$err" "no trusted vendor public key in .*/vendor.d" "... says where to put one"
mv "$TEST_TMP/vendor.d.off" "$HSMADMIN_CONF/vendor.d"
# One rule for vendor.d everywhere (enroll, keys, fet, hsmd): a file that
# is not a vendor key is refused and named, never skipped.
printf 'not a key\n' >"$HSMADMIN_CONF/vendor.d/broken.pem"
ha enroll
is "$rc" 1 "a bad file in vendor.d: enroll refuses (exit 1)"
like "$err" "broken\.pem" "... naming the file"
ok "... and pins nothing" test ! -e "$HSMADMIN_HOME/pins/$ESN.json"
rm "$HSMADMIN_CONF/vendor.d/broken.pem"
hsmd_stop rogue

# --- the real HSM back: everything works again ----------------------------------
hsmd_start h
ha enroll
is "$rc" 0 "the real HSM: enroll verifies and re-pins (it kept its identity)"
ha status
is "$rc" 0 "the real HSM: status works"
done_testing
