#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The service provider's whole flow against a real hsmd, with tenant
# requests made by the real `hsmadmin vcm create|start|setproperties`:
# create many VCMs, start up to the licence, the next start refused, stop,
# restart with the tenant's data intact, show/list/stats in text and JSON,
# properties, delete; each VCM a process of its own on its own address.
. "$top_srcdir/tests/lib/vcm-lib.sh"
HSMD_EXTRA_CONF=$(printf '[vcm]\nstats_interval = 1\n')
vcm_one_hsm 1A23-BC45-6789

# --- without a licence: one VCM ---------------------------------------------------
ok "tenant A requests a VCM" create_req A a1.req --name "tenant a"
va create --request a1.req --outdir configs "tenant a"
is "$rc" 0 "vcmadmin create"
like "$out" "^Created VCM [0-9a-f-]{36}" "... prints the UUID"
like "$out" "IP ADDRESS +: 127\." "... and the address"
like "$out" "Configuration file for the tenant: configs/vcm-" "... and where the configuration went"
U1=$(printf '%s' "$out" | sed -n 's/^Created VCM //p')
cfg=configs/vcm-$U1.json
ok "configuration file written" test -f "$cfg"
is "$(jq -r '.uuid, .esn, .format' "$cfg" | tr '\n' ' ')" "$U1 $ESN hsmadmin-vcm-config " "config: uuid, esn, format"
is "$(jq -r '.ports | "\(.sshadmin) \(.ncoreapi) \(.monitor)"' "$cfg")" "2201 2203 2206" "config: the documented ports"
is "$(jq -r '[.services[] | .certificate.body.vcm] | unique | .[0]' "$cfg")" "$U1" "config: certificates name the VCM"
is "$(jq -r '[.services[] | .certificate.signature.key] | unique | .[0]' "$cfg")" \
	"$(jq -r .identity_key h/lifetime.json)" "config: certificates signed by the HSM identity key"
is "$(jq -r '.hsm_identity.body.identity_key' "$cfg")" "$(jq -r .identity_key h/lifetime.json)" \
	"config: carries the HSM warrant"
is "$(vcm_state "$U1")" inactive "registry: created inactive"
is "$(stat -c %a "h/vcms/$U1")" 700 "VCM state directory is 0700"
is "$(jq -r --arg u "$U1" '.vcms[$u].k_tenant_req' <(hsmd_device_doc h))" \
	"$(cut -d' ' -f1,2 tenants/A/tenant/request.pub)" "k_tenant_req is the tenant's request key"
is "$(jq -r '.client_keys.sshadmin' "h/vcms/$U1/device.json")" \
	"$(cut -d' ' -f1,2 tenants/A/tenant/vcm-sshadmin.pub)" "the VCM's sshadmin key is the tenant's"

ok "tenant B requests a VCM" create_req B b1.req --name "tenant b"
va create --request b1.req --outdir configs "tenant b"
is "$rc" 3 "no licence: a second VCM is refused"
like "$err" "at most 1 VCM .*no multi-tenant licence" "... saying why"

va start "$U1"
is "$rc" 0 "start the VCM"
is "$(vcm_state "$U1")" active "registry: active"
pid1=$(vcm_pid "$U1")
ok "the VCM runs as its own process" kill -0 "$pid1"
is "$(tr '\0' ' ' </proc/"$pid1"/cmdline | cut -d' ' -f2-3)" "vcm --state" "... an 'hsmd vcm' process"
addr1=$(jq -r .address "$cfg")
ok "its sshadmin serves on the VCM address" sh -c "timeout 5 ssh-keyscan -p 2201 -t ed25519 $addr1 2>/dev/null | grep -q ssh-ed25519"
tkey=$(tenant_ssh_key A)
tcall "$U1" sshadmin hostkeys "$tkey"
is "$rc" 0 "the tenant reaches the VCM's sshadmin with the key of the request (host key pinned from the config)"
is "$(printf '%s' "$out" | jq -r .services.ncoreapi.host_key)" "$(jq -r .services.ncoreapi.host_key "$cfg")" \
	"... and the VCM presents the host keys of the configuration file"
tcall "$U1" sshadmin hostkeys "$(tenant_ssh_key B)"
is "$rc" 255 "another tenant's key is refused by the VCM"
host_keys_for_ssh
cp "$TEST_TMP/keys/sshadmin" "$TEST_TMP/prov-sshadmin"
tcall "$U1" sshadmin hostkeys "$TEST_TMP/prov-sshadmin"
is "$rc" 255 "the provider's platform key is refused by the VCM"

# --- a licence for 3 active VCMs -------------------------------------------------------
ok "licence for 3 active VCMs applied with hsmadmin fet" licence h "$ESN" 3
uuids=("$U1")
for i in 2 3 4 5; do
	ok "create VCM $i" new_vcm "T$i" "tenant $i"
	uuids+=("$UUID")
done
va list --json
is "$(printf '%s' "$out" | jq '.vcms | length')" 5 "list --json: 5 VCMs"
is "$(printf '%s' "$out" | jq -r '[.vcms[].address] | unique | length')" 5 "... each with its own address"
is "$(printf '%s' "$out" | jq -r '.vcms[0].uuid')" "$U1" "... in creation order"
for i in 1 2; do
	va start "${uuids[$i]}"
	is "$rc" 0 "start VCM $((i + 1))"
done
va start "${uuids[3]}"
is "$rc" 3 "the 4th start is refused by the licence"
like "$err" "3 VCMs are active: the licence allows 3" "... naming the limit"
is "$(vcm_state "${uuids[3]}")" inactive "... and the VCM stays inactive"
va list --active --json
is "$(printf '%s' "$out" | jq -r '[.vcms[].state] | unique | join(",")')" active "list --active: only active VCMs"
is "$(printf '%s' "$out" | jq '.vcms | length')" 3 "... three of them"
va list
like "$out" "HSM $ESN: 5 VCMs listed, 3 active; the HSM allows 3 active and 1000 created" "list text: header"
like "$out" "$U1 +active +127\." "list text: a row per VCM"

# --- tenant data survives stop and start -------------------------------------------------
tcall "$U1" sshadmin set_key "$tkey" '{"service":"monitor","key":"'"$(cut -d' ' -f1,2 tenants/B/tenant/request.pub)"'"}'
is "$rc" 0 "tenant A installs a key in its VCM (its data)"
va stop "$U1"
is "$rc" 0 "stop the VCM"
is "$(vcm_state "$U1")" stopped "registry: stopped"
ok "its process is gone" sh -c "! kill -0 $pid1 2>/dev/null"
ok "its data is kept" test -f "h/vcms/$U1/device.json"
va start "${uuids[3]}"
is "$rc" 0 "with one stopped, another VCM starts"
va start "$U1"
is "$rc" 3 "... and the stopped one cannot start over the licence"
va stop "${uuids[3]}"
va start "$U1"
is "$rc" 0 "start the stopped VCM again"
tcall "$U1" sshadmin authorized_keys "$tkey"
is "$(printf '%s' "$out" | jq -r .keys.monitor)" "$(cut -d' ' -f1,2 tenants/B/tenant/request.pub)" \
	"the restarted VCM has the tenant's data"

# --- show -------------------------------------------------------------------------------
va show "$U1"
is "$rc" 0 "show"
like "$out" "FEATURES +: .*StandardKM\|EllipticCurve\|ECCMQV\|AcceleratedECC" "show: features as names (built-ins on)"
like "$out" "STATE +: active" "show: state"
va show "$U1" --json
is "$(printf '%s' "$out" | jq -r '.features | type')" number "show --json: features as the decimal word"
is "$(printf '%s' "$out" | jq -r .esn)" "$ESN" "show --json: the ESN"
va show 00000000-0000-4000-8000-000000000000
is "$rc" 1 "show of an unknown UUID fails"
like "$err" "no VCM 00000000-0000-4000-8000-000000000000" "... naming it"
va show not-a-uuid
is "$rc" 2 "a malformed UUID is a usage error"
like "$err" "UUID: 'not-a-uuid' is not a UUID" "... naming the operand and the word"
va show "$(printf '%s' "$U1" | tr a-f A-F)"
is "$rc" 0 "show of the upper-case UUID finds the VCM"
like "$out" "UUID +: $U1" "... and shows it in lower case"

# --- stats ------------------------------------------------------------------------------
# hsmd samples every second here (stats_interval = 1): wait for a sample
# that includes the active VCM
active_sampled() {
	va stats --json &&
		[ "$(printf '%s' "$out" | jq --arg u "$U1" '.vcms[] | select(.uuid == $u) | .memory_kb' 2>/dev/null)" -gt 0 ] 2>/dev/null
}
ok "stats: an active VCM uses memory (once sampled)" wait_until 30 active_sampled
is "$rc" 0 "stats"
is "$(printf '%s' "$out" | jq '.vcms | length')" 5 "stats: every VCM"
ok "stats: an inactive VCM uses none" test "$(printf '%s' "$out" | jq --arg u "${uuids[4]}" '.vcms[] | select(.uuid == $u) | .memory_kb')" -eq 0
ok "stats: disk use is counted" test "$(printf '%s' "$out" | jq --arg u "${uuids[4]}" '.vcms[] | select(.uuid == $u) | .disk_kb')" -gt 0
ok "stats: the poll is at most a few seconds old" test "$(printf '%s' "$out" | jq '.hsms[0].age')" -le 3
va stats --uuid "$U1"
like "$out" "polled .* s ago, every 1 s" "stats text: age and interval"
like "$out" "$U1 +active +[0-9]+ kB +[0-9]+ kB" "stats text: memory and disk use"

# --- properties -------------------------------------------------------------------------
va properties list
like "$out" "^autostart" "properties list"
va stop "${uuids[1]}"
tenant T2 vcm setproperties --request-file p2.req --uuid "${uuids[1]}" --autostart --name renamed
va properties set --request p2.req "${uuids[1]}" autostart true
is "$rc" 0 "properties set autostart true"
va properties set --request p2.req "${uuids[1]}" name renamed
is "$rc" 0 "the same request sets its other property"
is "$(jq -r --arg u "${uuids[1]}" '.vcms[$u] | "\(.autostart) \(.name)"' <(hsmd_device_doc h))" "true renamed" \
	"registry: both changed"
va properties set --request p2.req "${uuids[1]}" restrict_startup False
is "$rc" 4 "a property not in the request is refused"
va properties set --request p2.req "${uuids[1]}" autostart false
is "$rc" 4 "a value other than the request's is refused"
like "$err" "Failed to set VCM properties: orchestrator setproperties: Invalid property value: autostart mismatch" \
	"... with the guide's message"

# --- delete -----------------------------------------------------------------------------
va delete "$U1"
is "$rc" 3 "delete of an active VCM is refused"
va delete --force "$U1"
is "$rc" 3 "... even with --force"
va stop "$U1"
printf '{"finalized": false}\n' >"h/vcms/$U1/audit.json"
va delete "$U1"
is "$rc" 3 "delete with an unfinalized audit log is refused"
like "$err" "unfinalized audit log" "... saying so"
va delete --force "$U1"
is "$rc" 0 "... and done with --force"
is "$(vcm_state "$U1")" none "registry: gone"
ok "its state directory (its secrets) is gone" test ! -e "h/vcms/$U1"
va delete "${uuids[4]}"
is "$rc" 0 "delete an inactive VCM"
va list --json
is "$(printf '%s' "$out" | jq '.vcms | length')" 3 "three VCMs left"

# --- local inputs are checked before the device is asked ----------------------------------
create_req O outdir.req --name "outdir"
: >not-a-dir
va create --request outdir.req --outdir not-a-dir outdir
is "$rc" 2 "create with an --outdir that is a file: exit 2" || echo "# out: $out err: $err"
like "$err" "not-a-dir is not a directory; no VCM was created" "... saying so before asking the device"
va list --json
is "$(printf '%s' "$out" | jq '.vcms | length')" 3 "... and no VCM was created"
mkfifo request.fifo
timeout -k 5 20 vcmadmin create --request request.fifo --outdir "$TEST_TMP/configs" fifo >/dev/null 2>fifo.err
rc=$?
ok "a FIFO given as --request is refused at once, not waited on (exit $rc)" test "$rc" != 0 -a "$rc" != 124 -a "$rc" != 137 ||
	cat fifo.err
va create --request outdir.req --outdir "$TEST_TMP/configs" outdir
is "$rc" 0 "the same request then creates the VCM (it was not used)" || echo "# err: $err"
va delete "$(printf '%s' "$out" | sed -n 's/^Created VCM //p')"
is "$rc" 0 "... which is deleted again"

# --- every VCM process stops with hsmd ---------------------------------------------------
pids=$(pgrep -f "hsmd vcm --state $TEST_TMP/h/vcms/" | tr '\n' ' ')
ok "VCM processes run" test -n "$pids"
hsmd_stop h
alive=
for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
is "$alive" "" "hsmd stopped its VCM processes"
done_testing
