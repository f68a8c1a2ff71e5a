#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The start-up table of overview chapter 6, steps 1-10, end to end with our
# CLIs on one machine: a service provider (the default HSMADMIN_HOME, which
# enrolled the HSM) and a tenant (HSMADMIN_HOME of its own), the emulated
# HSM a real hsmd.  Then the tenant uses its VCM: enquiry shows the module
# operational, a Security World is made in it and a key blob signs.
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins vcmtenant enquiry vcmkeys vcmlogs
ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/enquiry"
vcm_one_hsm 1A23-BC45-6793
T=$TEST_TMP/tenants/T
mkdir -p "$T" provider tenant
chmod 0700 "$T"
ten() { HSMADMIN_HOME="$T" run "$@"; }

# 1. Purchase and apply the multi-tenant licence.
"$VENDOR" licence --key "$TEST_TMP/lic.key" --esn "$ESN" --max-active-vcms 4 --out provider/hsm.lic >/dev/null
ha fet --esn "$ESN" provider/hsm.lic
is "$rc" 0 "step 1: the provider applies the multi-tenant licence"
ha info --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.licence.max_active_vcms // .licence.max_active_vcms // empty' | head -1)" 4 \
	"... info shows 4 active VCMs allowed"

# 2. Configure service provider networking (a loopback subnet here).
NET=127.$((200 + RANDOM % 50)).$((RANDOM % 250))
ha setnetwork ipv4static --address "$NET.1/24" --gateway "$NET.254"
is "$rc" 0 "step 2: the provider sets the VCM network"
ha reset
is "$rc" 0 "... and resets the HSM to apply it"
for _ in $(seq 50); do ha status >/dev/null 2>&1; [ "$rc" = 0 ] && break; sleep 0.1; done

# 3. Configure system log retrieval: the provider's logs get reads it.
ha logs get --log system --json
is "$rc" 0 "step 3: the provider retrieves the system log"
like "$(printf '%s' "$out" | jq -r '.. | .event? // empty' | tr '\n' ' ')" "fet" "... which records the licence"

# 4. The tenant creates a request for a VCM.
ten hsmadmin vcm create --request-file tenant/create.req --name "tenant t" --request-validity 86400
is "$rc" 0 "step 4: the tenant creates a signed request"
ten hsmadmin vcm inspect-request --verify tenant/create.req
is "$rc" 0 "... which verifies"

# 5. Send the request to the provider.
cp tenant/create.req provider/create.req

# 6. The provider creates the VCM; an unused address of the subnet is allocated.
va create --request provider/create.req --outdir provider --json "tenant t"
is "$rc" 0 "step 6: the provider creates the VCM"
U=$(printf '%s' "$out" | jq -r .uuid)
A=$(printf '%s' "$out" | jq -r .address)
like "$A" "^${NET//./\\.}\.[0-9]+$" "... on an address of the VCM subnet"
ok "... not the HSM's or the gateway's" test "$A" != "$NET.1" -a "$A" != "$NET.254"

# 7. The provider starts the VCM.
va start "$U"
is "$rc" 0 "step 7: the provider starts the VCM"
is "$(vcm_state "$U")" active "... active"

# 8. Send the configuration file to the tenant.
cp "provider/vcm-$U.json" tenant/

# 9. Tenant networking: the VCM's address is reachable from the tenant.
ok "step 9: the tenant reaches the VCM's address" \
	timeout 5 bash -c "exec 3<>/dev/tcp/$A/2201"

# 10. The tenant enrolls the VCM.
ten hsmadmin vcm enroll --config "tenant/vcm-$U.json"
is "$rc" 0 "step 10: the tenant enrolls the VCM"
like "$out" "Enrolled VCM $U as module 1" "... as module 1"

# The tenant uses it.
ten enquiry
is "$rc" 0 "enquiry"
like "$out" "mode +operational" "... shows the module operational"
ten enquiry --json
is "$(printf '%s' "$out" | jq -r '.modules[] | select(.module == 1) | "\(.failed) \(.enquiry.mode)"')" \
	"false operational" "enquiry --json: module 1 operational, not failed"
ten hsmadmin vcm key generate --uuid "$U" --name signing --json
is "$rc" 3 "a key needs a Security World in the VCM first"
printf 'card passphrase\n' >tenant/pass
ten hsmadmin vcm world create --uuid "$U" --quorum 1/1 --cards tenant/cards --passphrase-file tenant/pass
is "$rc" 0 "the tenant makes a Security World in its VCM"
ten hsmadmin vcm key generate --uuid "$U" --name signing --json
is "$rc" 0 "the tenant generates a key in the VCM (a blob in kmdata)"
printf '%s' "$out" | jq -r .public >tenant/signing.pub.pem
printf 'the tenant signs this\n' >tenant/msg
ten hsmadmin vcm key sign --uuid "$U" --name signing --in tenant/msg --out tenant/msg.sig
is "$rc" 0 "the tenant signs with the key in the VCM"
ok "the signature verifies with openssl" \
	openssl pkeyutl -verify -pubin -inkey tenant/signing.pub.pem -rawin -in tenant/msg -sigfile tenant/msg.sig
printf 'tampered\n' >tenant/msg2
ok "... and not for other data" sh -c \
	"! openssl pkeyutl -verify -pubin -inkey tenant/signing.pub.pem -rawin -in tenant/msg2 -sigfile tenant/msg.sig >/dev/null 2>&1"
ten hsmadmin vcm key list --uuid "$U" --json
is "$(printf '%s' "$out" | jq -r '[.keys[].name] | join(",")')" signing "key list: the key"
ten hsmadmin vcm key sign --uuid "$U" --name missing --in tenant/msg
ok "signing with a key that does not exist fails" test "$rc" != 0
ten hsmadmin vcm key sign --uuid "$U" --name signing --in tenant/nonexistent
is "$rc" 2 "a missing input file: exit 2"
ten hsmadmin vcm logs export --uuid "$U"
like "$out" "vcm_created" "the tenant reads its VCM's own system log"
# The provider's own home holds no tenant enrollment: the VCM is not its.
run hsmadmin vcm key list --uuid "$U"
is "$rc" 2 "the provider's home has no enrollment of the tenant's VCM"
va stop "$U"
is "$rc" 3 "the provider cannot stop an operational VCM without --force (the interlock)"
done_testing
