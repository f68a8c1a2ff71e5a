#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The tenant's side of enrollment against a real hsmd and real VCM
# processes: `hsmadmin vcm enroll` checks the configuration file's
# signatures and the VCM's host keys, installs its own ncoreapi and monitor
# keys and records the VCM; one VCM per HSM; unenroll and re-enroll;
# info/getenvstats; the VCM's key store through ncoreapi with stock ssh
# (kept across a stop and start; another tenant's key refused).
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins vcmtenant
vcm_one_hsm 1A23-BC45-6789
ok "licence for 3 active VCMs" licence h "$ESN" 3

ok "tenant A's first VCM created" new_vcm A "tenant a"
U1=$UUID A1=$ADDR
va start "$U1"
is "$rc" 0 "provider starts it"
cfg1=configs/vcm-$U1.json

# --- bad configuration files are refused before any connection ------------------------
tenant A vcm enroll --config nonexistent.json
is "$rc" 2 "a missing configuration file: exit 2"
printf '{"format":' >bad.json
tenant A vcm enroll --config bad.json
is "$rc" 2 "malformed JSON: exit 2"
like "$err" "bad.json" "... naming the file"
jq --arg k "$(ssh-keygen -q -t ed25519 -N '' -C '' -f other.key && cut -d' ' -f1,2 other.key.pub)" \
	'.services.ncoreapi.host_key = $k' "$cfg1" >swapped.json
tenant A vcm enroll --config swapped.json
is "$rc" 4 "a host key that is not the certified one: exit 4"
like "$err" "differs from the certified one" "... saying so"
jq '.services.monitor.certificate.body.address = "127.0.0.9"' "$cfg1" >readdr.json
tenant A vcm enroll --config readdr.json
is "$rc" 4 "a certificate edited after signing: exit 4"
jq '.services.sshadmin.certificate.body |= del(.vcm, .address)' "$cfg1" >platcert.json
tenant A vcm enroll --config platcert.json
is "$rc" 4 "a platform-shaped certificate is refused for a VCM"
mv "$HSMADMIN_CONF/vendor.d" vendor.away
tenant A vcm enroll --config "$cfg1"
is "$rc" 4 "no trusted vendor key: the HSM warrant does not verify"
like "$err" "not signed by a trusted vendor key" "... saying so"
mv vendor.away "$HSMADMIN_CONF/vendor.d"
ok "nothing was recorded by the refused attempts" test ! -e tenants/A/tenant/vcms

# --- another tenant cannot enroll A's VCM ------------------------------------------------
tenant B vcm create --request-file b0.req --name b
tenant B vcm enroll --config "$cfg1"
is "$rc" 4 "tenant B's sshadmin key is refused by A's VCM"
ok "... and B recorded nothing" test ! -e tenants/B/tenant/vcms

tenant A vcm enroll --config "$cfg1" --esn 9999-9999-9999
is "$rc" 2 "--esn of another HSM than the configuration file's: exit 2"

# --- enroll ---------------------------------------------------------------------------------
tenant A vcm enroll --config "$cfg1" --esn "$ESN"
is "$rc" 0 "tenant A enrolls its VCM"
like "$out" "Enrolled VCM $U1 as module 1" "... as module 1"
rec=tenants/A/tenant/vcms/$U1/enrollment.json
ok "the enrollment record exists" test -f "$rec"
is "$(jq -r '"\(.uuid) \(.esn) \(.address) \(.module) \(.name)"' "$rec")" "$U1 $ESN $A1 1 tenant a" \
	"record: uuid, esn, address, module, name"
is "$(jq -r '.ports | "\(.sshadmin) \(.ncoreapi) \(.monitor)"' "$rec")" "2201 2203 2206" "record: ports"
is "$(jq -r '.host_keys.ncoreapi' "$rec")" "$(jq -r .services.ncoreapi.host_key "$cfg1")" \
	"record: the certified ncoreapi host key is pinned"
is "$(jq -r .identity_key "$rec")" "$(jq -r .hsm_identity.body.identity_key "$cfg1")" \
	"record: the HSM identity key"
is "$(stat -c %a "$rec") $(stat -c %a tenants/A/tenant/vcms/$U1/ncoreapi.key) $(stat -c %a tenants/A/tenant/vcms/$U1/monitor.key)" \
	"600 600 600" "record and client keys are owner-only"
ok "client keys are stored protected (no plain PEM)" sh -c "! grep -q 'PRIVATE KEY' tenants/A/tenant/vcms/$U1/ncoreapi.key"
vk=$(jq -r '.client_keys.ncoreapi' "h/vcms/$U1/device.json")
ok "the VCM now holds an ncoreapi client key" test -n "$vk" -a "$vk" != null
isnt_same() { [ "$1" != "$2" ]; }
ok "... distinct from the monitor key" isnt_same "$vk" "$(jq -r '.client_keys.monitor' "h/vcms/$U1/device.json")"
is "$(jq -r '.client_keys.sshadmin' "h/vcms/$U1/device.json")" "$(cut -d' ' -f1,2 tenants/A/tenant/vcm-sshadmin.pub)" \
	"the sshadmin key is still the tenant's"

tenant A vcm info --json
is "$rc" 0 "vcm info"
is "$(printf '%s' "$out" | jq -r '.vcms[0] | "\(.uuid) \(.esn) \(.module) \(.address)"')" "$U1 $ESN 1 $A1" \
	"info --json: the VCM, its HSM and module"
tenant A vcm info
like "$out" "VCM $U1 \(module 1\)" "info text names the VCM"
like "$out" "esn +: $ESN" "... and the HSM"
tenant A vcm getenvstats --uuid "$U1" --json
is "$rc" 0 "vcm getenvstats --uuid"
t=$(printf '%s' "$out" | jq -r '.vcms[0].current_time')
now=$(date +%s)
ok "current_time is Unix time ($t vs $now)" test "$t" -ge $((now - 120)) -a "$t" -le $((now + 120))
ok "uptime and boot_time are consistent" test "$(printf '%s' "$out" | jq '.vcms[0] | .current_time - .uptime == .boot_time')" = true
tenant A vcm info --esn 9999-9999-9999
is "$rc" 1 "info --esn of an HSM with no enrolled VCM: exit 1"
tenant A vcm info --esn "$ESN" --json
is "$(printf '%s' "$out" | jq -r '.vcms | length')" 1 "info --esn of its HSM: the VCM"
tenant A vcm getenvstats --uuid 00000000-0000-4000-8000-000000000000
is "$rc" 2 "getenvstats of a VCM not enrolled: exit 2"
tenant B vcm info
is "$rc" 1 "a tenant with no enrolled VCM: exit 1"

# --- one VCM per HSM -------------------------------------------------------------------------
tenant A vcm enroll --config "$cfg1"
is "$rc" 3 "enrolling the same VCM again is refused"
like "$err" "already enrolled" "... saying so"
ok "tenant A's second VCM on the same HSM" new_vcm A "tenant a two"
U2=$UUID
va start "$U2"
tenant A vcm enroll --config "configs/vcm-$U2.json"
is "$rc" 3 "a second VCM on the same HSM is refused"
like "$err" "one VCM per HSM" "... saying why"
tenant A vcm unenroll "$U1"
is "$rc" 0 "unenroll the first"
ok "its record and keys are gone" test ! -e "tenants/A/tenant/vcms/$U1"
tenant A vcm unenroll "$U1"
is "$rc" 2 "unenrolling it again: exit 2"
tenant A vcm unenroll NOT-A-UUID
is "$rc" 2 "unenroll of a malformed UUID: exit 2"
tenant A vcm enroll --config "configs/vcm-$U2.json" --no-service-restart
is "$rc" 0 "now the second VCM enrolls"
like "$out" "as module 1" "... taking the lowest free module number"
tenant A vcm info --uuid "$U1"
is "$rc" 2 "the unenrolled VCM is no longer addressable"

# --- the VCM's key store through ncoreapi (stock ssh, its own key) ------------------------------
ok "tenant C's VCM" new_vcm C "tenant c"
U3=$UUID
va start "$U3"
tk=$(tenant_ssh_key C)
ssh-keygen -q -t ed25519 -N '' -C '' -f c-nc
tcall "$U3" sshadmin set_key "$tk" "$(jq -nc --arg k "$(cut -d' ' -f1,2 c-nc.pub)" '{service: "ncoreapi", key: $k}')"
is "$rc" 0 "tenant C installs an ncoreapi key"
tcall "$U3" ncoreapi key_generate c-nc '{"name":"sig1"}'
is "$rc" 0 "key_generate ed25519"
pub1=$(printf '%s' "$out" | jq -r .public)
tcall "$U3" ncoreapi key_generate c-nc '{"name":"ec1","type":"p256"}'
is "$rc" 0 "key_generate p256"
tcall "$U3" ncoreapi key_generate c-nc '{"name":"sig1"}'
is "$rc" 3 "a second key of the same name is refused"
tcall "$U3" ncoreapi key_generate c-nc '{"name":"../x"}'
is "$rc" 2 "a bad key name is bad_request"
tcall "$U3" ncoreapi key_generate c-nc '{"name":"k","type":"rsa"}'
is "$rc" 2 "an unknown key type is bad_request"
tcall "$U3" ncoreapi key_list c-nc
is "$(printf '%s' "$out" | jq -r '[.keys[].name] | sort | join(",")')" "ec1,sig1" "key_list: both keys"
is "$(printf '%s' "$out" | jq -r '[.keys[] | has("private")] | any')" false "key_list shows no private key"
ok "no private key appears in the VCM's logs" sh -c "! grep -q 'PRIVATE' h/vcms/$U3/system.log"
printf 'hello tenant' >msg
for k in sig1 ec1; do
	tcall "$U3" ncoreapi key_sign c-nc "$(jq -nc --arg k "$k" --arg d "$(base64 -w0 msg)" '{name: $k, data: $d}')"
	is "$rc" 0 "key_sign with $k"
	printf '%s' "$out" | jq -r .signature | base64 -d >"$k.sig"
	tcall "$U3" ncoreapi key_list c-nc
	printf '%s' "$out" | jq -r --arg k "$k" '.keys[] | select(.name == $k) | .public' >"$k.pub.pem"
done
ok "the ed25519 signature verifies with openssl" \
	openssl pkeyutl -verify -pubin -inkey sig1.pub.pem -rawin -in msg -sigfile sig1.sig
ok "the p256 signature verifies with openssl" \
	openssl dgst -sha256 -verify ec1.pub.pem -signature ec1.sig msg
tcall "$U3" ncoreapi key_sign c-nc '{"name":"sig1","data":"***"}'
is "$rc" 2 "key_sign with data that is not base64: bad_request"
tcall "$U3" ncoreapi key_sign c-nc '{"name":"nokey","data":"aGk="}'
is "$rc" 1 "key_sign with an unknown key: failed"
tcall "$U3" ncoreapi key_list "$(tenant_ssh_key A)"
is "$rc" 255 "tenant A's sshadmin key is refused by C's ncoreapi"
tcall "$U3" ncoreapi set_mode c-nc '{"mode":"maintenance"}'
tcall "$U3" ncoreapi key_list c-nc
is "$rc" 3 "the key store is closed in maintenance mode"
va stop "$U3"
is "$rc" 0 "stop C's VCM (maintenance)"
va start "$U3"
is "$rc" 0 "start it again"
tcall "$U3" ncoreapi set_mode c-nc '{"mode":"operational"}'
tcall "$U3" ncoreapi key_list c-nc
is "$(printf '%s' "$out" | jq -r '[.keys[].name] | sort | join(",")')" "ec1,sig1" "the keys survive a stop and start"
is "$(printf '%s' "$out" | jq -r '.keys[] | select(.name == "sig1") | .public')" "$pub1" "... the same keys"
tcall "$U3" ncoreapi key_delete c-nc '{"name":"sig1"}'
is "$rc" 0 "key_delete"
tcall "$U3" ncoreapi key_list c-nc
is "$(printf '%s' "$out" | jq -r '[.keys[].name] | join(",")')" "ec1" "... the key is gone"
tenant A vcm info --uuid "$U2" --json
is "$(printf '%s' "$out" | jq -r '.vcms[0].uuid')" "$U2" "tenant A's enrollment survived all this"

done_testing
