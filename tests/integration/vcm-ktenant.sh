#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vcm-ktenant.sh - rotating a VCM's k_tenant_req (guide 3.1.2.3.7) end to
# end: the tenant's `hsmadmin vcm setproperties --k-tenant-req`, the
# provider's `vcmadmin properties set ... k_tenant_req VALUE`, the device's
# rules.  Only a request signed by the current key changes it, only to the
# key the request carries; afterwards the old key is refused and the new
# one works.
. "$top_srcdir/tests/lib/vcm-lib.sh"
vcm_one_hsm 1A23-BC45-6790
ok "licence: 1 active VCM" licence h "$ESN" 1

key_line() { cut -d' ' -f1,2 "tenants/$1/tenant/request.pub"; }
registry_key() { jq -r --arg u "$U" '.vcms[$u].k_tenant_req' <(hsmd_device_doc h); }
fp_of() { ssh-keygen -lf "tenants/$1/tenant/request.pub" 2>/dev/null | cut -d' ' -f2; }

# Tenant A owns the VCM; N's request key is A's next key; X is a stranger.
create_req A a.req --name rotating --restrict-startup
va create --request a.req --outdir configs rotating
is "$rc" 0 "restrict-startup VCM created from tenant A's request"
U=$(printf '%s' "$out" | sed -n 's/^Created VCM //p')
like "$U" '^[0-9a-f-]{36}$' "... its UUID"
create_req N n.req --name unused
is "$rc" 0 "the next request key exists (tenant home N)"
create_req X x.req --name unused
is "$rc" 0 "a stranger's request key exists (tenant home X)"
is "$(registry_key)" "$(key_line A)" "registry: k_tenant_req is A's key"

tenant A vcm setproperties --request-file rot.req --uuid "$U" --k-tenant-req tenants/N/tenant/request.pub
is "$rc" 0 "A writes a rotation request naming N's key"
tenant A vcm start --request-file a-start.req --uuid "$U"
is "$rc" 0 "A writes a start request (before the rotation)"
tenant N vcm start --request-file n-start.req --uuid "$U"
tenant X vcm setproperties --request-file x-rot.req --uuid "$U" --k-tenant-req tenants/N/tenant/request.pub
is "$rc" 0 "X writes a rotation request of its own"
tenant N vcm setproperties --request-file n-early.req --uuid "$U" --k-tenant-req tenants/X/tenant/request.pub

# --- refused -------------------------------------------------------------------
va properties set --request x-rot.req "$U" k_tenant_req "$(key_line N)"
is "$rc" 4 "a rotation signed by a key that is not the current one is refused"
like "$err" "not signed with this VCM's k_tenant_req" "... naming the key"
va properties set --request n-early.req "$U" k_tenant_req "$(key_line X)"
is "$rc" 4 "the next key cannot rotate before it is current"
va properties set --request rot.req "$U" k_tenant_req "$(key_line X)"
is "$rc" 4 "a value other than the request's key is refused"
like "$err" "Invalid property value: k_tenant_req mismatch" "... with the guide's message"
va properties set --request rot.req "$U" k_tenant_req "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"
is "$rc" 1 "a malformed key line is refused (bad_request)"
like "$err" "Invalid property value: k_tenant_req" "... saying which property"
va properties set --request rot.req "$U" k_tenant_req "$TEST_TMP/no-such-key.pub"
is "$rc" 2 "a VALUE that is neither a key line nor a key file is a usage error"
like "$err" "k_tenant_req: neither" "... saying what VALUE may be"
va properties set --request a-start.req "$U" k_tenant_req "$(key_line N)"
is "$rc" 1 "a start request cannot set k_tenant_req"
tenant A vcm setproperties --request-file a-name.req --uuid "$U" --name renamed
va properties set --request a-name.req "$U" k_tenant_req "$(key_line N)"
is "$rc" 4 "a setproperties request without k_tenant_req cannot set it"
like "$err" "k_tenant_req is not in the request" "... saying so"
is "$(registry_key)" "$(key_line A)" "registry: k_tenant_req unchanged by refused requests"

# --- the rotation -------------------------------------------------------------------
va properties set --request rot.req "$U" k_tenant_req "$(key_line N)"
is "$rc" 0 "the rotation signed by the current key sets k_tenant_req"
is "$(registry_key)" "$(key_line N)" "registry: k_tenant_req is N's key"
va show "$U"
fp=$(fp_of N)
[ -n "$fp" ] && like "$out" "$(printf '%s' "$fp" | sed 's/+/\\+/g')" "show names the new key's fingerprint"
va properties set --request rot.req "$U" k_tenant_req "$(key_line N)"
is "$rc" 4 "the rotation request cannot be used again (the old key no longer verifies)"

# --- afterwards ---------------------------------------------------------------------
va start --request a-start.req "$U"
is "$rc" 4 "a start request signed by the old key is refused"
like "$err" "not signed with this VCM's k_tenant_req" "... naming the key"
va properties set --request a-name.req "$U" name renamed
is "$rc" 4 "a setproperties request signed by the old key is refused"
is "$(vcm_state "$U")" inactive "the VCM has not started"
va start --request n-start.req "$U"
is "$rc" 0 "a start request signed by the new key starts the VCM"
is "$(vcm_state "$U")" active "registry: active"
va stop "$U"
is "$rc" 0 "stopped again"

# The new key rotates in turn; VALUE as a public key file this time.
va properties set --request n-early.req "$U" k_tenant_req tenants/X/tenant/request.pub
is "$rc" 0 "the new (now current) key rotates again; VALUE given as a key file"
is "$(registry_key)" "$(key_line X)" "registry: k_tenant_req is X's key"

va properties list
like "$out" "k_tenant_req" "properties list names k_tenant_req"
done_testing
