#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `hsmadmin vcm single-setup` on an unlicensed HSM enrolled from this host:
# one command makes the tenant request, creates and starts the VCM and
# enrolls it; the VCM then serves its tenant (this host).  A second run is
# refused by the licence and leaves nothing behind.
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins vcmtenant vcmsetup
vcm_one_hsm 1A23-BC45-6792

run hsmadmin vcm single-setup --json
is "$rc" 0 "single-setup"
U=$(printf '%s' "$out" | jq -r .uuid)
like "$U" "^[0-9a-f-]{36}$" "... reports the VCM's UUID"
is "$(printf '%s' "$out" | jq -r .name)" autocreated "... named autocreated by default"
is "$(printf '%s' "$out" | jq -r .enrollment.esn)" "$ESN" "... on this HSM"
is "$(vcm_state "$U")" active "the VCM is active in the registry"
is "$(jq -r --arg u "$U" '.vcms[$u].name' <(hsmd_device_doc h))" autocreated "... with the name"
ok "the enrollment record is in HSMADMIN_HOME" test -f "$HSMADMIN_HOME/tenant/vcms/$U/enrollment.json"
ok "no hand-over files are left behind" sh -c "! ls -d '$HSMADMIN_HOME'/tenant/.single-setup.* 2>/dev/null"
run hsmadmin vcm getenvstats --uuid "$U"
is "$rc" 0 "the tenant (this host) reaches the VCM"
is "$(jq -r '.client_keys | keys | join(" ")' "h/vcms/$U/device.json")" "monitor ncoreapi sshadmin" \
	"the VCM has the tenant's ncoreapi and monitor keys"
va show "$U" --json
is "$(printf '%s' "$out" | jq -r .ncoreapi)" operational "its ncoreapi is operational"

run hsmadmin vcm single-setup --name second
ok "a second single-setup on the unlicensed HSM fails" test "$rc" != 0
like "$err" "at most 1 VCM" "... saying why"
va list --json
is "$(printf '%s' "$out" | jq '.vcms | length')" 1 "... and leaves no second VCM"
run hsmadmin vcm single-setup --esn 0000-0000-0000
ok "an unknown --esn fails" test "$rc" != 0
run hsmadmin vcm single-setup --esn a --esn b
is "$rc" 2 "two --esn: exit 2"
done_testing
