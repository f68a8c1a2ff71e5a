#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every VCM rule of guide chapter 3 as the device enforces it: forged,
# wrongly signed, expired, replayed and misdirected requests; restrict-
# startup; autostart vs restrict-startup; one serial card reader; features
# and speed bits; properties only while stopped and only to the request's
# value; stop while ncoreapi is operational and the platform interlock;
# the disk limit; a killed VCM process; autostart after `hsmadmin reset`
# within the licence; the base-speed limit of 5 VCMs.
. "$top_srcdir/tests/lib/vcm-lib.sh"
HSMD_EXTRA_CONF=$(printf '[vcm]\nstats_interval = 1\ndisk_limit = 262144\n')
vcm_one_hsm 1A23-BC45-6789 --features KISAAlgorithms
ok "licence: 2 active VCMs" licence h "$ESN" 2
"$KEYEXPORT" orchestrator "$HSMADMIN_HOME/keys/client/orchestrator" "$TEST_TMP/keys/orchestrator"
device() { call h orchestrator "$1" orchestrator "$2"; }
req_json() { jq -c . "$1"; }

# --- create requests ----------------------------------------------------------------
create_req A a1.req --name one
sed 's/"name":"one"/"name":"onf"/' a1.req >forged.req
va create --request forged.req forged
is "$rc" 4 "a forged create request (body changed after signing) is refused"
like "$err" "signature" "... as a bad signature"
device create "$(jq -nc --argjson r "$(req_json forged.req)" '{request: $r, name: "x"}')"
is "$rc" 4 "... by the device itself (stock ssh, no host checks)"
like "$out" '"code":"denied"' "... with code denied"
device create '{"request": {"body": {}, "signature": 5}, "name": "x"}'
is "$rc" 2 "a malformed request envelope is a bad request"
device create '{"name": "x"}'
is "$rc" 2 "create without a request is a bad request"
for bad in 'stop {"uuid":"0b3c5f2e-0000-4000-8000-000000000001","force":"yes"}' 'show {"uuid":5}' \
	'list {"active":1}' 'start {}' 'stats {"uuid":"x","more":1}' 'setproperties {"uuid":"x"}' \
	'delete {"uuid":"0b3c5f2e-0000-4000-8000-000000000001","extra":true}'; do
	device "${bad%% *}" "${bad#* }"
	is "$rc" 2 "hostile params are a bad request: $bad"
	like "$out" '"message":"[^"]+"' "... with a message"
done
create_req A old.req --name old --request-validity 1
sleep 2.2
va create --request old.req old
is "$rc" 4 "an expired create request is refused"
like "$err" "expired" "... as expired (module clock)"
create_req A start-typed.req --uuid 00000000-0000-4000-8000-000000000000 && mv start-typed.req /dev/null 2>/dev/null
tenant A vcm start --request-file st.req
va create --request st.req wrongtype
is "$rc" 1 "a start request cannot create a VCM"
like "$err" "start request cannot be used to create" "... saying so"

ok "create VCM one" new_vcm A one
UA=$UUID
va create --request "$(ls req-A-*.req | head -1)" again
is "$rc" 4 "the same create request cannot create a second VCM"
like "$err" "already used to create VCM $UA" "... (replay)"

# --- restrict-startup and start requests ------------------------------------------------
ok "create a restrict-startup VCM" new_vcm B two
UB=$UUID
create_req B b-restrict.req --name three --restrict-startup
va create --request b-restrict.req --outdir configs three
is "$rc" 0 "create with restrict-startup from the request"
UR=$(printf '%s' "$out" | sed -n 's/^Created VCM //p')
is "$(jq -r --arg u "$UR" '.vcms[$u].restrict_startup' <(hsmd_device_doc h))" true "registry: restrict_startup"
va start "$UR"
is "$rc" 4 "restrict-startup: start without a request is refused"
like "$err" "restrict-startup: a start request signed by its tenant is needed" "... saying what is needed"
tenant A vcm start --request-file a-for-r.req --uuid "$UR"
va start --request a-for-r.req "$UR"
is "$rc" 4 "a start request signed by another tenant's key is refused"
like "$err" "not signed with this VCM's k_tenant_req" "... naming the key"
tenant B vcm start --request-file b-for-b.req --uuid "$UB"
va start --request b-for-b.req "$UR"
is "$rc" 4 "a start request for another UUID is refused"
like "$err" "made for VCM $UB, not $UR" "... naming both"
tenant B vcm start --request-file short.req --uuid "$UR" --request-validity 1
sleep 2.2
va start --request short.req "$UR"
is "$rc" 4 "an expired start request is refused"
like "$err" "expired" "... as expired"
tenant B vcm start --request-file good.req --uuid "$UR" --request-validity 600
va start --request good.req "$UR"
is "$rc" 0 "a valid start request starts the restricted VCM"
va stop "$UR"
va start --request good.req "$UR"
is "$rc" 4 "the same start request does not start it twice (replay)"
like "$err" "already used" "... saying so"
tenant B vcm start --request-file any.req
va start --request any.req "$UR"
is "$rc" 0 "a start request without a UUID, signed with the VCM's key, starts it"
va stop "$UR"

# --- autostart and restrict-startup are exclusive --------------------------------------------
create_req C c-auto.req --name four --autostart
create_req C c-restrict.req --name five --restrict-startup
va create --request c-restrict.req --autostart five
is "$rc" 4 "--autostart not asked for by the request is refused"
va create --request c-auto.req --autostart --outdir configs four
is "$rc" 0 "create with --autostart asked for by the request"
UAUTO=$(printf '%s' "$out" | sed -n 's/^Created VCM //p')
tenant B vcm setproperties --request-file b-auto.req --uuid "$UR" --autostart --no-restrict-startup
va properties set --request b-auto.req "$UR" autostart true
is "$rc" 3 "setting autostart on a restrict-startup VCM is refused"
like "$err" "mutually exclusive" "... as mutually exclusive"
va properties set --request b-auto.req "$UR" restrict_startup false
is "$rc" 0 "clear restrict_startup first (same request)"
va properties set --request b-auto.req "$UR" autostart True
is "$rc" 0 "... then autostart (True accepted)"
va properties set --request b-auto.req "$UR" autostart true
is "$rc" 4 "the same request does not set the same property twice (replay)"
va properties set --request b-auto.req "$UR" restrict_startup False
is "$rc" 4 "... nor the other"
tenant B vcm setproperties --request-file b-both.req --uuid "$UR" --restrict-startup
va properties set --request b-both.req "$UR" restrict_startup true
is "$rc" 3 "restrict_startup on an autostart VCM is refused"
va properties set --request b-both.req "$UR" restrict_startup false
is "$rc" 4 "a value other than the request's is refused"
like "$err" "Invalid property value: restrict_startup mismatch" "... with the guide's message"
va properties set --request b-both.req "$UR" colour blue
is "$rc" 1 "an unknown property is refused (bad_request)"
like "$err" "Invalid property: 'colour'" "... naming it"
va properties set --request b-both.req "$UR" autostart maybe
is "$rc" 1 "a boolean that is not true/false is refused"
like "$err" "autostart must be true or false" "... saying what it takes"
tenant A vcm setproperties --request-file a-name.req --uuid "$UR" --name stolen
va properties set --request a-name.req "$UR" name stolen
is "$rc" 4 "a setproperties request signed by another tenant is refused"
va properties set --request b-both.req "$UR" k_tenant_req "$(cut -d' ' -f1,2 tenants/A/tenant/request.pub)"
is "$rc" 4 "k_tenant_req cannot be changed by a request that does not carry it"

# --- one serial card reader ---------------------------------------------------------
create_req D d1.req --name six --serial-cardreader
create_req D d2.req --name seven --serial-cardreader
va create --request d1.req --serial-cardreader --outdir configs six
is "$rc" 0 "the first VCM gets the serial card reader"
UD1=$(printf '%s' "$out" | sed -n 's/^Created VCM //p')
va create --request d2.req --serial-cardreader seven
is "$rc" 3 "a second VCM with the serial card reader is refused"
like "$err" "only one VCM may have the serial card reader; VCM $UD1 has it" "... naming the holder"
tenant A vcm setproperties --request-file a-card.req --uuid "$UA" --serial-cardreader
va properties set --request a-card.req "$UA" serial_cardreader true
is "$rc" 3 "... also by properties set"

# --- features -----------------------------------------------------------------------
platform=$(jq -r .features h/lifetime.json)
va show "$UA" --json
is "$(printf '%s' "$out" | jq .features)" "$platform" "no --features: the platform's features"
create_req E e1.req --name eight
va create --request e1.req --features ForeignTokenOpen eight
is "$rc" 3 "a feature the platform lacks is refused"
like "$err" "ForeignTokenOpen are not enabled on this HSM" "... naming it"
ok "create with --features KISAAlgorithms" new_vcm E eight --features KISAAlgorithms
va show "$UUID" --json
is "$(printf '%s' "$out" | jq '.features')" "$(( 0x10 | 0x20 | 0x200 | 0x800 | 0x1000 ))" \
	"VCM features: the one asked for plus the built-ins"
like "$(printf '%s' "$out" | jq -r .features_names)" "^KISAAlgorithms\|StandardKM\|EllipticCurve\|ECCMQV\|AcceleratedECC$" \
	"... shown as names"
va delete "$UUID"

# --- properties only while stopped ----------------------------------------------------
va start "$UA"
is "$rc" 0 "start VCM one"
tenant A vcm setproperties --request-file a-n2.req --uuid "$UA" --name renamed
va properties set --request a-n2.req "$UA" name renamed
is "$rc" 3 "properties of an active VCM cannot change"
like "$err" "stop it before changing its properties" "... saying so"

# --- ncoreapi operational: stop and the platform interlock -------------------------------
tk=$(tenant_ssh_key A)
ssh-keygen -q -t ed25519 -N '' -C '' -f nc-key
tcall "$UA" sshadmin set_key "$tk" "$(jq -nc --arg k "$(cut -d' ' -f1,2 nc-key.pub)" '{service: "ncoreapi", key: $k}')"
is "$rc" 0 "the tenant installs its ncoreapi key in the VCM"
tcall "$UA" ncoreapi enquiry nc-key
is "$(printf '%s' "$out" | jq -r .mode)" operational "the VCM's ncoreapi is operational"
va show "$UA" --json
is "$(printf '%s' "$out" | jq -r .ncoreapi)" operational "show: ncoreapi operational"
va stop "$UA"
is "$rc" 3 "stop is refused while the VCM's ncoreapi is operational"
like "$err" "ask its tenant to put the module in maintenance mode" "... telling the provider what to ask"
ha reset --esn "$ESN"
is "$rc" 3 "platform interlock: reset refused while a VCM's ncoreapi is operational"
like "$err" "interlock" "... naming the interlock"
va list --json
is "$rc" 0 "read-only commands still work"
tcall "$UA" ncoreapi set_mode nc-key '{"mode":"maintenance"}'
is "$rc" 0 "the tenant puts the module into maintenance mode"
va stop "$UA"
is "$rc" 0 "... and then stop works"
va start "$UA"
tcall "$UA" ncoreapi set_mode nc-key '{"mode":"operational"}'
va stop --force "$UA"
is "$rc" 0 "stop --force stops an operational VCM"
is "$(vcm_state "$UA")" stopped "... and it is stopped"

# --- a VCM process that dies is failed; others go on -------------------------------------
va start "$UA"
va start "$UB"
pa=$(vcm_pid "$UA"); pb=$(vcm_pid "$UB")
kill -9 "$pa"
for _ in $(seq 50); do [ "$(vcm_state "$UA")" = failed ] && break; sleep 0.1; done
is "$(vcm_state "$UA")" failed "kill -9 of a VCM process: the VCM is failed"
is "$(vcm_state "$UB")" active "... another VCM stays active"
ok "... and its process runs on" kill -0 "$pb"
tcall "$UB" sshadmin hostkeys "$(tenant_ssh_key B)"
is "$rc" 0 "... and serves"
sleep 0.5
is "$(vcm_state "$UA")" failed "nothing restarts the failed VCM"
grep -q '"event":"vcm_failed"' h/system.log
ok "the failure is in the system log" test $? = 0
va list --json
is "$(printf '%s' "$out" | jq '[.vcms[] | select(.state == "active")] | length')" 1 "a failed VCM does not count as active"
va start "$UA"
is "$rc" 0 "an explicit start brings the failed VCM back"
# UA's module is operational (its mode and ncoreapi key persist): only a
# forced stop is sure to stop it, whenever its status line arrives.
va stop --force "$UA"
va stop "$UB"

# --- the disk limit -----------------------------------------------------------------
va start "$UB"
head -c 300000 /dev/zero >"h/vcms/$UB/bulk"
for _ in $(seq 50); do [ "$(vcm_state "$UB")" = stopped ] && break; sleep 0.1; done
is "$(vcm_state "$UB")" stopped "a VCM over its disk limit is stopped"
is "$(jq -r --arg u "$UB" '.vcms[$u].disk_exceeded' <(hsmd_device_doc h))" true "... and marked"
va start "$UB"
is "$rc" 3 "it cannot start again"
like "$err" "can only be deleted" "... it can only be deleted"
va delete "$UB"
is "$rc" 0 "delete works"

# --- autostart after a reset, within the licence, in creation order ------------------
create_req F f1.req --name auto2 --autostart
create_req F f2.req --name auto3 --autostart
va create --request f1.req --autostart auto2
UAUTO2=$(printf '%s' "$out" | sed -n 's/^Created VCM //p')
va create --request f2.req --autostart auto3
UAUTO3=$(printf '%s' "$out" | sed -n 's/^Created VCM //p')
va start "$UAUTO3"
ha reset --esn "$ESN"
is "$rc" 0 "hsmadmin reset"
is "$(vcm_state "$UR") $(vcm_state "$UAUTO") $(vcm_state "$UAUTO2") $(vcm_state "$UAUTO3")" \
	"active active inactive stopped" "after reset the first autostart VCMs (creation order) run, up to the licence"
grep '"event":"vcm_autostart_skipped"' h/system.log | tail -1 >skipped
ok "the VCM left out is reported in the system log" grep -q "$UAUTO2" skipped
like "$(cat skipped)" "licence limit" "... with the reason"
ha logs get --log init --esn "$ESN" --json
like "$out" "vcm_autostart" "the init log reports the autostart"

# --- addresses ----------------------------------------------------------------------
IFS=. read -r _ a2 a3 _ <<<"${HSMD_ADDR[h]}"
pool="127.$((a2 ^ 128)).$((a3 & 252))"
va list --json
is "$(printf '%s' "$out" | jq -r '.vcms[0].address')" "$pool.1" \
	"default network: addresses from 127.(A xor 128).(B and 252).0/22, lowest first"
create_req H h1.req --name addr1
va create --request h1.req --ip-address "$pool.1" addr1
is "$rc" 3 "--ip-address already in use is refused"
like "$err" "already used by another VCM" "... saying so"
va create --request h1.req --ip-address 10.1.2.3 addr1
is "$rc" 3 "--ip-address outside the VCM subnet is refused"
va create --request h1.req --ip-address "$pool.0" addr1
is "$rc" 3 "--ip-address of the subnet's network address is refused"
va create --request h1.req --ip-address "$pool.200" --outdir configs addr1
is "$rc" 0 "a free --ip-address in the subnet is used"
is "$(printf '%s' "$out" | sed -n 's/^IP ADDRESS *: //p' | head -1)" "$pool.200" "... as given"

# --- base speed: at most 5 VCMs ----------------------------------------------------------
E2=9Z87-YX65-4321
ok "a base-speed HSM" vcm_hsm b "$E2" --speed base
ok "licensed for 3" licence b "$E2" 3
VCM_HSM=b
create_req G g0.req --name g0
va create --esn "$E2" --request g0.req --features HSMSpeed1 g0
is "$rc" 3 "HSMSpeed1 on a base-speed HSM is above its rating"
like "$err" "above this HSM's rating \(base speed\)" "... naming the rating"
n=0
for i in 1 2 3 4 5; do create_req G "g$i.req" --name "g$i" && va create --esn "$E2" --request "g$i.req" "g$i" && [ "$rc" = 0 ] && n=$((n + 1)); done
is "$n" 5 "five VCMs on a base-speed HSM"
create_req G g6.req --name g6
va create --esn "$E2" --request g6.req g6
is "$rc" 3 "the sixth is refused"
like "$err" "at most 5 VCMs \(base speed HSM\)" "... naming the base-speed limit"
va create --request g6.req g6
is "$rc" 2 "create with two HSMs known and no --esn is a usage error"
ok "a speed upgrade to mid" licence b "$E2" 4 --speed-upgrade mid --serial 2
va create --esn "$E2" --request g6.req --features HSMSpeed1 --outdir configs g6
is "$rc" 0 "mid speed: more than 5 VCMs, and HSMSpeed1 accepted"
va show --esn "$E2" "$(printf '%s' "$out" | sed -n 's/^Created VCM //p')" --json
is "$(printf '%s' "$out" | jq -r '.features_names' | tr '|' '\n' | grep HSMSpeed)" HSMSpeed0 \
	"... and converted to HSMSpeed0 on the mid-speed HSM (guide 3.3.4)"
create_req G g7.req --name g7
va create --esn "$E2" --request g7.req --features HSMSpeed2 g7
is "$rc" 3 "HSMSpeed2 on a mid-speed HSM is refused"

# --- a static VCM network ------------------------------------------------------------
E3=5C5C-0000-0003
ok "a third HSM" vcm_hsm s "$E3"
ha setnetwork ipv4static --esn "$E3" --address 10.99.0.1/24 --gateway 10.99.0.254
is "$rc" 0 "hsmadmin setnetwork ipv4static"
ha reset --esn "$E3"
VCM_HSM=s
create_req K k1.req --name static
va create --esn "$E3" --request k1.req --outdir configs static
is "$rc" 0 "create on a static network"
like "$out" "IP ADDRESS +: 10\.99\.0\.2" "... the lowest free host, not the HSM's own address"
US=$(printf '%s' "$out" | sed -n 's/^Created VCM //p')
va start --esn "$E3" "$US"
is "$rc" 1 "starting a VCM whose address this machine does not have fails"
like "$err" "10\.99\.0\.2 port 2201" "... naming the address and port"
is "$(vcm_state "$US")" inactive "... and the VCM stays inactive"
done_testing
