#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The field report of a failed HSM, end to end with this project's
# commands only (docs/replacing-a-failed-hsm.md): two HSMs, a tenant with a
# VCM on each in one Security World and several keys; HSM 1 fails (it
# still answers, as the report's did); enquiry shows it Failed while HSM 2
# keeps signing; the provider removes it from the host, brings up a
# replacement at the same address, probes it, enrolls it, upgrades it from
# its own firmware to the fleet's (hsmadmin upgrade: factory state, so
# before anything else), enrolls it again, licenses and networks it; the
# tenant's new VCM is created, started, enrolled and
# loaded with 2 of the 3 cards (1 is refused); every key made before the
# failure signs, and the signatures verify against the public keys taken
# before the failure.  No key is lost.
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins vcmtenant vcmkeys enquiry upgrade nopclearfail
vcm_setup
for t in enquiry nopclearfail; do ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/$t"; done
updater_setup
cp "$HSMD_CONFDIR/vendor.d/vendor.pem" "$HSMADMIN_CONF/vendor.d/firmware.pem"
# The fleet's firmware: a vendor-signed package of every service, 13.7.1.
"$VENDOR" npkg --key vendor.pem --component primary --version 13.7.1 --vsn 8 --modules mods --out . >/dev/null
FLEET=nShield5s-primary-13.7.1-vsn8.npkg
[ -f "$FLEET" ] || { echo "Bail out! the fleet's firmware package was not built"; exit 1; }
E1=2B34-CD56-7801 E2=2B34-CD56-7802 E3=2B34-CD56-7803
ok "HSM 1 (the fleet's firmware) provisioned, started and enrolled" vcm_hsm h1 "$E1" --firmware "$FLEET"
ADDR1=${HSMD_ADDR[h1]}
ok "HSM 2 (the fleet's firmware) provisioned, started and enrolled" vcm_hsm h2 "$E2" --firmware "$FLEET"
ok "HSM 1 licensed" licence h1 "$E1" 2
ok "HSM 2 licensed" licence h2 "$E2" 2

ten() { tenant T "$@"; }

# --- before: redundant VCMs in one world, several keys ------------------------------
ok "the tenant's VCM on HSM 1" vcm_up T t1 "$E1"
U1=$UUID
ok "the tenant's VCM on HSM 2" vcm_up T t2 "$E2"
U2=$UUID
for i in 1 2 3; do printf 'card %s passphrase\n' "$i" >"pass$i"; done
ten vcm world create --uuid "$U1" --quorum 2/3 --cards cards --passphrase-file pass1 \
	--passphrase-file pass2 --passphrase-file pass3
is "$rc" 0 "the tenant makes a 2/3 Security World in its VCM on HSM 1"
ten vcm world load --uuid "$U2" --card cards/card-1.json --card cards/card-2.json \
	--passphrase-file pass1 --passphrase-file pass2
is "$rc" 0 "... and loads it in its VCM on HSM 2 (redundant VCMs in one world)"
printf 'a payment to sign\n' >msg
for k in alpha:ed25519 beta:p256 gamma:ed25519; do
	n=${k%%:*} t=${k#*:}
	ten vcm key generate --uuid "$U1" --name "$n" --type "$t" --json
	is "$rc" 0 "key $n ($t) generated"
	printf '%s' "$out" | jq -r .public >"$n.pub"
done
ten vcm key sign --uuid "$U2" --name alpha --in msg --out before.sig
is "$rc" 0 "a key made on HSM 1 signs on HSM 2"

# --- HSM 1 fails --------------------------------------------------------------------
"$HSMD" fail --state "$TEST_TMP/h1" --reason "HSM Failed"
is "$?" 0 "hsmd fail: HSM 1's module fails"
run enquiry
is "$rc" 0 "the provider's enquiry runs"
block1=$(printf '%s\n' "$out" | awk -v e="$E1" '/^Module #/ { b = "" } { b = b $0 "\n" } /connection info/ && index($0, e) { print b }')
like "$block1" "enquiry reply flags  Failed" "enquiry: HSM 1 is Failed"
like "$block1" "serial number        unknown" "... serial number unknown"
like "$block1" "version              0.0.0" "... version 0.0.0"
run enquiry --json
is "$(printf '%s' "$out" | jq -r --arg e "$E2" '.modules[] | select(.kind == "hsm" and .esn == $e) | .failed')" \
	false "... while HSM 2 is not failed"
HSMADMIN_HOME=$TEST_TMP/tenants/T run enquiry --json
is "$(printf '%s' "$out" | jq -r --arg u "$U1" '.modules[] | select(.uuid == $u) | .failed')" true \
	"the tenant's enquiry shows its VCM on HSM 1 failed"
ten vcm key sign --uuid "$U1" --name alpha --in msg
ok "signing on the failed HSM fails" test "$rc" != 0
like "$err" "the HSM has failed" "... saying so"
ten vcm key sign --uuid "$U2" --name beta --in msg --out beta.sig
is "$rc" 0 "HSM 2 keeps signing"
ok "... and the signature verifies" openssl pkeyutl -verify -pubin -inkey beta.pub -rawin -in msg -sigfile beta.sig
ha status
is "$rc" 1 "status over all HSMs fails on HSM 1"
like "$err" "$E1.*the HSM has failed" "... naming it"

# --- the provider removes it ----------------------------------------------------------
hsmd_stop h1 >/dev/null 2>&1
ha enroll --remove --esn "$E1"
is "$rc" 5 "enroll --remove of an HSM that does not answer: exit 5"
like "$err" "--force" "... pointing at --force"
ok "... and nothing was removed" test -f "$HSMADMIN_CONF/modules.d/h1.conf" -a -f "$HSMADMIN_HOME/pins/$E1.json"
ha enroll --remove --esn "$E1" --force --json
is "$rc" 0 "enroll --remove --force forgets HSM 1"
ok "... its modules.d entry is kept aside, not read" test ! -f "$HSMADMIN_CONF/modules.d/h1.conf" -a \
	-f "$HSMADMIN_CONF/modules.d/h1.conf.removed"
ok "... its pins are gone" test ! -e "$HSMADMIN_HOME/pins/$E1.json"
ha status
is "$rc" 0 "status over all HSMs works again"
ha enroll --remove --esn "$E1" --force
is "$rc" 2 "removing it again: exit 2 (not known)"

# --- a replacement at the same address ------------------------------------------------
hsmd_provision h3 "$ADDR1" "$E3" --module-conf "$TEST_TMP/h3.conf"
ok "the replacement HSM is started at HSM 1's address" hsmd_start h3
pins_before=$(ls "$HSMADMIN_HOME/pins" | sort | tr '\n' ' ')
ha enroll --probe "$ADDR1" --json
is "$rc" 0 "enroll --probe the new HSM"
is "$(printf '%s' "$out" | jq -r .esn)" "$E3" "... shows its ESN"
is "$(printf '%s' "$out" | jq -r .host_key)" "$(jq -r .certificates.sshadmin.body.host_key h3/device.json)" \
	"... and the sshadmin host key it presents"
like "$(printf '%s' "$out" | jq -r .host_key_fingerprint)" "^SHA256:" "... with its fingerprint to compare"
is "$(printf '%s' "$out" | jq -r .trusted)" false "... trusting nothing"
is "$(ls "$HSMADMIN_HOME/pins" | sort | tr '\n' ' ')" "$pins_before" "... and pinning nothing"
ha enroll --probe 999.1.1.1
is "$rc" 2 "--probe of a non-address: exit 2"
cp h3.conf "$HSMADMIN_CONF/modules.d/h3.conf"
ha enroll --esn "$E3" --secret-file "$(secrets h3)"
is "$rc" 0 "the provider enrolls the replacement"

# --- firmware alignment: the replacement gets the fleet's firmware before it serves ---------
fw_of() { ha status --esn "$1" --json; printf '%s' "$out" | jq -r '.modules[0].result.firmware.primary'; }
is "$(fw_of "$E2") $(fw_of "$E3")" "13.7.1 13.6.3" "status: the fleet runs 13.7.1, the replacement 13.6.3"
ha npkginfo "$FLEET" --json
is "$(printf '%s' "$out" | jq -r '"\(.version) \(.verified)"')" "13.7.1 true" \
	"npkginfo: the fleet's package verifies"
run nopclearfail -M --esn "$E3" -w
is "$rc" 0 "the replacement in maintenance mode"
booted_before=$(grep -c "firmware 13.7.1 booted for the first time" h3.log)
ha upgrade --esn "$E3" "$FLEET"
is "$rc" 0 "hsmadmin upgrade brings the replacement to the fleet's firmware"
like "$out" "$E3: current primary firmware 13.6.3; package primary 13.7.1" "... from 13.6.3 to 13.7.1"
for _ in $(seq 1 300); do
	[ "$(grep -c "firmware 13.7.1 booted for the first time" h3.log)" -gt "$booted_before" ] && break
	sleep 0.05
done
like "$(cat h3.log)" "firmware 13.7.1 booted for the first time: factory state" \
	"... it rebooted into 13.7.1, in factory state"
ha enroll --esn "$E3" --secret-file "$(secrets h3)"
is "$rc" 0 "the provider enrolls it again after the upgrade"
is "$(fw_of "$E3")" 13.7.1 "status: the replacement runs the fleet's 13.7.1"
ok "the provider licenses it" licence h3 "$E3" 2
NET=127.$((200 + RANDOM % 50)).$((RANDOM % 250))
ha setnetwork ipv4static --address "$NET.1/24" --gateway "$NET.254" --esn "$E3"
is "$rc" 0 "the provider sets its VCM network"
ha reset --esn "$E3"
is "$rc" 0 "... and resets it to apply it"
for _ in $(seq 100); do ha status --esn "$E3" >/dev/null 2>&1; [ "$rc" = 0 ] && break; sleep 0.1; done
is "$rc" 0 "... it is back"

# --- the tenant's new VCM -----------------------------------------------------------------
VCM_HSM=h3
ten vcm unenroll "$U1"
is "$rc" 0 "the tenant unenrolls its VCM of the failed HSM"
ok "a new VCM for the tenant on the replacement: created, started, enrolled" vcm_up T t3 "$E3"
U3=$UUID
ten vcm key sign --uuid "$U3" --name alpha --in msg
is "$rc" 3 "before the world is loaded the new VCM cannot use the blobs"
ten vcm world load --uuid "$U3" --card cards/card-3.json --passphrase-file pass3
is "$rc" 4 "one card (K-1) is refused"
ten vcm world load --uuid "$U3" --card cards/card-3.json --card cards/card-1.json \
	--passphrase-file pass3 --passphrase-file pass1
is "$rc" 0 "2 of the 3 cards load the world into the new VCM"
for n in alpha beta gamma; do
	ten vcm key sign --uuid "$U3" --name "$n" --in msg --out "$n.after.sig"
	is "$rc" 0 "key $n, made before the failure, signs on the replacement"
	ok "... and verifies against the public key taken before the failure" \
		openssl pkeyutl -verify -pubin -inkey "$n.pub" -rawin -in msg -sigfile "$n.after.sig"
done
ten vcm world info --json
is "$(printf '%s' "$out" | jq -r '[.vcms[] | select(.state == "loaded") | .esn] | sort | join(" ")')" "$E2 $E3" \
	"world info: loaded on HSM 2 and on the replacement"
is "$(printf '%s' "$out" | jq -r .keys)" 3 "... 3 keys, none lost"
done_testing
