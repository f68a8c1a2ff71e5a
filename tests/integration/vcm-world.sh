#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The tenant's Security World (docs/formats/world.md) against real hsmd
# instances: a world made 2 of 3 in a VCM on one HSM and loaded with 2
# cards in a VCM on another; key blobs made on one sign on the other; the
# refusals (too few cards, a wrong passphrase, a card of another world, a
# changed world file), each leaving nothing loaded, and the same refusals
# when the VCM already has that world (a load never succeeds without a
# quorum of good cards, asked through hsmadmin or directly); another tenant's VCM
# refuses the blob; the provider's keys do not reach a world; a loaded
# world survives stop and start and goes with delete; kill -9 of the VCM
# process during a create or a load, and of hsmd during a load, leaves no
# half world (in the VCM: whole or absent; in kmdata: a world file only
# with all its cards).
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins vcmtenant vcmkeys
vcm_setup
cd "$TEST_TMP" || exit 1
E1=1A23-BC45-6801 E2=1A23-BC45-6802
ok "HSM 1 provisioned, started and enrolled" vcm_hsm h1 "$E1"
ok "HSM 2 provisioned, started and enrolled" vcm_hsm h2 "$E2"
ok "licences" licence h1 "$E1" 3
ok "licences" licence h2 "$E2" 3

ok "tenant A: a VCM on HSM 1" vcm_up A a1 "$E1"
U1=$UUID
ok "tenant A: a VCM on HSM 2" vcm_up A a2 "$E2"
U2=$UUID
ok "tenant B: a VCM on HSM 1" vcm_up B b1 "$E1"
UB=$UUID
VCM_HSM=h1
for i in 1 2 3; do printf 'passphrase of card %s\n' "$i" >"pass$i"; done
printf 'not the passphrase\n' >wrong

# --- create -------------------------------------------------------------------------
# A key blob a writer killed mid-write left in kmdata goes when kmdata is next written.
mkdir -p -m 700 tenants/A/kmdata && printf 'secret\n' >tenants/A/kmdata/key_simple_k.tmp.Ab3xYz
tenant A vcm world create --uuid "$U1" --quorum 2/3 --cards cards --passphrase-file pass1 \
	--passphrase-file pass2 --passphrase-file pass3 --json
is "$rc" 0 "world create 2/3 in A's VCM on HSM 1"
W=$(printf '%s' "$out" | jq -r .world)
like "$W" '^[0-9a-f]{32}$' "... a world ID"
ok "... three card files and the world file" test -f cards/card-1.json -a -f cards/card-2.json \
	-a -f cards/card-3.json -a -f tenants/A/kmdata/world
is "$(stat -c %a cards/card-1.json tenants/A/kmdata/world | tr '\n' ' ')" "600 600 " "... owner-only"
ok "... the leftover temporary file in kmdata is gone" test ! -e tenants/A/kmdata/key_simple_k.tmp.Ab3xYz
ok "... no passphrase or share in the clear in a card" sh -c "! grep -q 'passphrase of card' cards/*.json"
tenant A vcm world create --uuid "$U1" --quorum 2/3 --cards cards2 --passphrase-file pass1 \
	--passphrase-file pass2 --passphrase-file pass3
is "$rc" 3 "a second world in the same kmdata is refused"
tenant A vcm world create --uuid "$U1" --quorum 4/3 --cards cards2
is "$rc" 2 "quorum 4/3: usage error"
tenant A vcm world info --json
is "$(printf '%s' "$out" | jq -r '"\(.world) \(.quorum.k)/\(.quorum.n)"')" "$W 2/3" "world info: ID and quorum"
is "$(printf '%s' "$out" | jq -r --arg u "$U1" '.vcms[] | select(.uuid == $u) | .state')" loaded \
	"... loaded in the VCM on HSM 1"
is "$(printf '%s' "$out" | jq -r --arg u "$U2" '.vcms[] | select(.uuid == $u) | .state')" "not loaded" \
	"... not in the VCM on HSM 2"

ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/nfkminfo"
HSMADMIN_HOME=$TEST_TMP/tenants/A run nfkminfo --json
is "$rc $(printf '%s' "$out" | jq -r .world)" "0 $W" "nfkminfo (the guide's tool name) shows the world"

# --- keys ---------------------------------------------------------------------------
tenant A vcm key generate --uuid "$U1" --name signing --json
is "$rc" 0 "a key generated in the VCM on HSM 1"
printf '%s' "$out" | jq -r .public >signing.pub
ok "... its blob is in kmdata" test -f tenants/A/kmdata/key_signing.json
ok "... with no private key in the clear" sh -c "! grep -q PRIVATE tenants/A/kmdata/key_signing.json"
ok "... and nothing in the VCM's own store" test "$(jq '.services.ncoreapi.keys | length' "h1/vcms/$U1/device.json")" = 0
tenant A vcm key generate --uuid "$U1" --name ec --type p256
is "$rc" 0 "a p256 key"
tenant A vcm key generate --uuid "$U1" --name signing
is "$rc" 3 "a second key of the same name is refused"
printf 'sign me\n' >msg
tenant A vcm key sign --uuid "$U1" --name signing --in msg --out msg.sig1
is "$rc" 0 "the blob signs on HSM 1"
ok "... and the signature verifies" openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in msg -sigfile msg.sig1
tenant A vcm key sign --uuid "$U2" --name signing --in msg
is "$rc" 3 "on HSM 2 before the world is loaded: refused (no world)"
like "$err" "no Security World is loaded" "... saying so"
tenant A vcm key list --json
is "$(printf '%s' "$out" | jq -r '[.keys[].name] | join(",")')" "ec,signing" "key list reads kmdata"

# --- load: refusals leave nothing loaded --------------------------------------------
loaded2() { tenant A vcm world info --json; printf '%s' "$out" | jq -r --arg u "$U2" '.vcms[] | select(.uuid == $u) | .state'; }
tenant A vcm world load --uuid "$U2" --card cards/card-2.json --passphrase-file pass2
is "$rc" 4 "one card of a 2/3 quorum: refused (exit 4)"
is "$(printf '%s\n' "$err" | wc -l)" 1 "... in one line"
like "$err" "quorum is 2 of 3 cards: 1 given" "... saying how many are needed"
tenant A vcm world load --uuid "$U2" --card cards/card-2.json --card cards/card-3.json \
	--passphrase-file pass2 --passphrase-file wrong
is "$rc" 4 "a wrong passphrase: refused"
like "$err" "card 3 does not open" "... naming the card"
is "$(loaded2)" "not loaded" "... nothing loaded"
# tenant B's world, for a card of another world
tenant B vcm world create --uuid "$UB" --quorum 1/1 --cards bcards --passphrase-file pass1
is "$rc" 0 "tenant B makes a world of its own (1/1)"
tenant A vcm world load --uuid "$U2" --card cards/card-2.json --card bcards/card-1.json \
	--passphrase-file pass2 --passphrase-file pass1
is "$rc" 4 "a card of another world: refused"
like "$err" "belongs to world" "... saying so"
is "$(loaded2)" "not loaded" "... nothing loaded"
mkdir -p tampered && cp tenants/A/kmdata/world tampered/world
jq '.quorum.k = 1' tenants/A/kmdata/world >tampered/world
NFAST_KMDATA=$TEST_TMP/tampered tenant A vcm world load --uuid "$U2" --card cards/card-2.json \
	--card cards/card-3.json --passphrase-file pass2 --passphrase-file pass3
is "$rc" 4 "a world file with an edited quorum: refused"
like "$err" "world file" "... naming the world file"
jq --arg m "$(jq -c .module_key tenants/B/kmdata/world)" '.module_key = ($m | fromjson)' \
	tenants/A/kmdata/world >tampered/world
NFAST_KMDATA=$TEST_TMP/tampered tenant A vcm world load --uuid "$U2" --card cards/card-2.json \
	--card cards/card-3.json --passphrase-file pass2 --passphrase-file pass3
is "$rc" 4 "a world file with another module key: refused"
is "$(loaded2)" "not loaded" "... nothing loaded"

# --- load, and the blob works on the other HSM ---------------------------------------
tenant A vcm world load --uuid "$U2" --card cards/card-3.json --card cards/card-2.json \
	--passphrase-file pass3 --passphrase-file pass2
is "$rc" 0 "cards 3 and 2 load the world in A's VCM on HSM 2"
is "$(loaded2)" loaded "... world info shows it loaded there"

# --- loading the world a VCM already has still takes the quorum of cards -------------
tenant A vcm world load --uuid "$U2" --card cards/card-2.json --card cards/card-3.json \
	--passphrase-file pass2 --passphrase-file wrong
is "$rc" 4 "the world loaded already, a wrong passphrase: refused all the same"
like "$err" "card 3 does not open" "... naming the card"
unlike "$out" "loaded" "... and nothing says the world was loaded"
is "$(loaded2)" loaded "... the world loaded before stays loaded"
tenant A vcm world load --uuid "$U2" --card cards/card-2.json --card bcards/card-1.json \
	--passphrase-file pass2 --passphrase-file pass1
is "$rc" 4 "the world loaded already, a card of another world: refused"
like "$err" "belongs to world" "... saying so"
# The same world ID and quorum, its module key wrapped otherwise: the cards
# do not open it, whatever the VCM has loaded.
NFAST_KMDATA=$TEST_TMP/tampered tenant A vcm world load --uuid "$U2" --card cards/card-2.json \
	--card cards/card-3.json --passphrase-file pass2 --passphrase-file pass3
is "$rc" 4 "the world loaded already, a world file with another module key: refused"
# Below the host's own check: the VCM itself asks for the quorum.
( umask 077; HSMADMIN_HOME=$TEST_TMP/tenants/A "$KEYPROT_PEM" \
	"tenants/A/tenant/vcms/$U2/ncoreapi.key" >a2-nc.pem ) && pem_to_openssh a2-nc.pem a2-nc
one_card=$(jq -nc --slurpfile w tenants/A/kmdata/world --slurpfile c cards/card-2.json \
	'{world: $w[0], cards: [{card: $c[0], passphrase: "passphrase of card 2"}]}')
tcall "$U2" ncoreapi world_load a2-nc "$one_card"
is "$rc" 4 "the VCM, asked directly with one card of 2/3 for the world it has: refused (4)"
like "$out" "quorum is 2 of 3 cards: 1 given" "... the VCM names the quorum"
tenant A vcm world load --uuid "$U2" --card cards/card-1.json --card cards/card-3.json \
	--passphrase-file pass1 --passphrase-file pass3
is "$rc" 0 "the world loaded already, a quorum of good cards: accepted"
like "$out" "was already loaded in VCM $U2" "... saying it was loaded already"
is "$(loaded2)" loaded "... and it stays loaded"
tenant A vcm key sign --uuid "$U2" --name signing --in msg --out msg.sig2
is "$rc" 0 "the blob made on HSM 1 signs on HSM 2"
ok "... and the signature verifies with the public key made before" \
	openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in msg -sigfile msg.sig2

# --- other tenants and the provider ---------------------------------------------------
mkdir -p tenants/B/kmdata && cp tenants/A/kmdata/key_signing.json tenants/B/kmdata/
tenant B vcm key sign --uuid "$UB" --name signing --in msg
is "$rc" 4 "tenant B's VCM refuses tenant A's blob"
like "$err" "belongs to world $W" "... it belongs to another world"
NFAST_KMDATA=$TEST_TMP/tenants/A/kmdata tenant B vcm key generate --uuid "$UB" --name strayed
is "$rc" 3 "a key from a VCM of another world than kmdata's is not kept"
ok "... no blob written" test ! -e tenants/A/kmdata/key_strayed.json
host_keys_for_ssh
for k in sshadmin setup monitor; do
	tcall "$U1" ncoreapi world_info "$TEST_TMP/keys/$k"
	is "$rc" 255 "the provider's platform $k key cannot reach the VCM's world"
done

# --- stop/start keeps the world, delete destroys it ----------------------------------
VCM_HSM=h2
va stop --force "$U2"
is "$rc" 0 "the provider stops A's VCM on HSM 2"
va start "$U2"
is "$rc" 0 "... and starts it"
is "$(loaded2)" loaded "the world is still loaded after stop and start (no cards needed)"
tenant A vcm key sign --uuid "$U2" --name signing --in msg
is "$rc" 0 "... and the blob signs"

# --- kill -9 of the VCM during a load: all or nothing ---------------------------------
VCM_HSM=h1
good=0 n=0
for d in 0.05 0.3 0.8; do
	n=$((n + 1))
	# a fresh tenant and VCM for each try (one VCM per HSM per tenant)
	vcm_up "C$n" "c$n" "$E1" >/dev/null || { ok "VCM for the kill test" false; continue; }
	UC=$UUID
	mkdir -p "tenants/C$n/kmdata" && cp tenants/A/kmdata/world "tenants/C$n/kmdata/"
	( HSMADMIN_HOME=$TEST_TMP/tenants/C$n hsmadmin vcm world load --uuid "$UC" --card cards/card-1.json \
		--card cards/card-2.json --passphrase-file pass1 --passphrase-file pass2 >/dev/null 2>&1 ) &
	lp=$!
	sleep "$d"
	p=$(vcm_pid "$UC")
	[ -n "$p" ] && kill -9 "$p"
	wait "$lp"
	st=$(jq -r '.services.ncoreapi.world // "none" | if type == "object" then (if .id and .module_key then "whole" else "half" end) else . end' \
		"h1/vcms/$UC/device.json" 2>/dev/null)
	ok "VCM process killed ${d}s into a load: the world is whole or absent ($st)" test "$st" = whole -o "$st" = none
	[ "$st" = whole ] && good=$((good + 1))
	va stop --force "$UC"; va delete "$UC"
done
echo "# $good of 3 loads completed before the kill"
ok "the check sees a whole world (A's VCM on HSM 1)" test "$(jq -r '.services.ncoreapi.world | if .id and .module_key then "whole" else "half" end' "h1/vcms/$U1/device.json")" = whole

# --- kill -9 of the VCM during a create ------------------------------------------------
world_state() { # UUID: whole, half or none (the VCM's loaded world)
	jq -r '.services.ncoreapi.world // "none" | if type == "object" then (if .id and .module_key and .k and .n then "whole" else "half" end) else . end' \
		"h1/vcms/$1/device.json" 2>/dev/null
}
n=0
for d in 0.1 0.5 1.5; do
	n=$((n + 1))
	vcm_up "D$n" "d$n" "$E1" >/dev/null || { ok "VCM for the kill test" false; continue; }
	UD=$UUID
	( HSMADMIN_HOME=$TEST_TMP/tenants/D$n hsmadmin vcm world create --uuid "$UD" --quorum 2/2 \
		--cards "dcards$n" --passphrase-file pass1 --passphrase-file pass2 >/dev/null 2>&1 ) &
	lp=$!
	sleep "$d"
	p=$(vcm_pid "$UD")
	[ -n "$p" ] && kill -9 "$p"
	wait "$lp"
	st=$(world_state "$UD")
	ok "VCM process killed ${d}s into a create: the world in the VCM is whole or absent ($st)" \
		test "$st" = whole -o "$st" = none
	if [ -f "tenants/D$n/kmdata/world" ]; then
		ok "... the world file in kmdata has both its cards" test -f "dcards$n/card-1.json" -a -f "dcards$n/card-2.json"
	else
		ok "... no world file in kmdata, and no world in the VCM" test "$st" = none
	fi
	va stop --force "$UD"; va delete "$UD"
done

# --- kill -9 of hsmd during a load ----------------------------------------------------------
vcm_up E e1 "$E1" >/dev/null
UE=$UUID
mkdir -p tenants/E/kmdata && cp tenants/A/kmdata/world tenants/E/kmdata/
( HSMADMIN_HOME=$TEST_TMP/tenants/E hsmadmin vcm world load --uuid "$UE" --card cards/card-1.json \
	--card cards/card-2.json --passphrase-file pass1 --passphrase-file pass2 >/dev/null 2>&1 ) &
lp=$!
sleep 0.3
kill -9 "${HSMD_PIDS[h1]}"
wait "${HSMD_PIDS[h1]}" 2>/dev/null
wait "$lp"
ok "hsmd restarts after kill -9" hsmd_start h1
st=$(world_state "$UE")
ok "hsmd killed during a load: the world in the VCM is whole or absent ($st)" test "$st" = whole -o "$st" = none
va start "$UE"
tenant E vcm world load --uuid "$UE" --card cards/card-1.json --card cards/card-2.json \
	--passphrase-file pass1 --passphrase-file pass2
is "$rc" 0 "... and after the restart the world loads (or was loaded) in full"

# --- delete ------------------------------------------------------------------------------
VCM_HSM=h2
va stop --force "$U2"
va delete "$U2"
is "$rc" 0 "the provider deletes A's VCM on HSM 2"
ok "... its state, the loaded world with it, is gone" test ! -e "h2/vcms/$U2"
done_testing
