#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The guide's tool names for the tenant's Security World (guide 4.11:
# new-world, nfkminfo, generatekey) as tools of the multi-call binary,
# against real VCMs: the guide's command lines as written (new-world -S
# MODULE, nfkminfo), -i/-l/-m/-Q mapped onto vcm world create and load,
# nfkminfo -w/-k onto world info and key list, generatekey's
# APPNAME NAME=VALUE parameters onto vcm key generate; modules are
# enquiry's numbers; every misuse is a one-line usage error; help and
# completion know the tools.
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins vcmtenant vcmkeys enquiry
for t in new-world nfkminfo generatekey enquiry; do ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/$t"; done
vcm_setup
cd "$TEST_TMP" || exit 1
E1=1A23-BC45-6811 E2=1A23-BC45-6812
ok "HSM 1 provisioned, started and enrolled" vcm_hsm h1 "$E1"
ok "HSM 2 provisioned, started and enrolled" vcm_hsm h2 "$E2"
ok "licences" licence h1 "$E1" 1
ok "licences" licence h2 "$E2" 1
ok "tenant A: a VCM on HSM 1" vcm_up A a1 "$E1"
U1=$UUID
ok "tenant A: a VCM on HSM 2" vcm_up A a2 "$E2"
U2=$UUID
for i in 1 2 3; do printf 'passphrase of card %s\n' "$i" >"pass$i"; done
# As tenant A: $out $err $rc.
A() { HSMADMIN_HOME=$TEST_TMP/tenants/A run "$@"; }
A enquiry --json
M1=$(printf '%s' "$out" | jq -r --arg u "$U1" '.modules[] | select(.uuid == $u) | .module')
M2=$(printf '%s' "$out" | jq -r --arg u "$U2" '.modules[] | select(.uuid == $u) | .module')
is "$M1 $M2" "1 2" "enquiry: the two VCMs are modules 1 and 2"

# --- new-world -------------------------------------------------------------------------------
A new-world -S 1
rc_is 2 "the guide's 'new-world -S MODULE' as written: asks where the cards go (exit 2)"
like "$err" "^new-world: new-world: --cards: where to write the new world's card files is required$" \
	"... in one line naming --cards"
A new-world -S 1 -Q 2/3 --cards cards --passphrase-file pass1 --passphrase-file pass2 \
	--passphrase-file pass3 --json
rc_is 0 "new-world -S 1 -Q 2/3 --cards cards: a world in module 1"
W=$(printf '%s' "$out" | jq -r .world)
like "$W" '^[0-9a-f]{32}$' "... a world ID"
is "$(printf '%s' "$out" | jq -r '"\(.quorum.k)/\(.quorum.n) \(.loaded[0])"')" "2/3 $U1" \
	"... quorum 2/3, loaded in module 1's VCM"
ok "... three cards and the world file" test -f cards/card-3.json -a -f tenants/A/kmdata/world

A nfkminfo
rc_is 0 "the guide's 'nfkminfo' as written"
like "$out" "^World $W" "... shows the world"
like "$out" "quorum +2 of 3 administrator cards" "... its quorum"
like "$out" "module 1 +VCM $U1 on $E1: loaded" "... loaded in module 1"
like "$out" "module 2 +VCM $U2 on $E2: not loaded" "... not in module 2"
A nfkminfo -w --json
is "$(printf '%s' "$out" | jq -r '"\(.world) \(.keys)"')" "$W 0" "nfkminfo -w --json: the world, no keys yet"

# --- generatekey -----------------------------------------------------------------------------
A generatekey -b simple type=Ed25519 ident=signing --json
rc_is 0 "generatekey -b simple type=Ed25519 ident=signing (module 1)"
printf '%s' "$out" | jq -r .public >signing.pub
is "$(printf '%s' "$out" | jq -r '"\(.name) \(.type) \(.world)"')" "signing ed25519 $W" \
	"... an Ed25519 key of the world"
ok "... its blob is in kmdata" test -f tenants/A/kmdata/key_signing.json
A generatekey -g -m 1 simple type=ECDSA curve=NISTP256 ident=ec protect=module
rc_is 0 "generatekey -g -m 1 simple type=ECDSA curve=NISTP256 ident=ec protect=module"
A nfkminfo -k --json
is "$(printf '%s' "$out" | jq -r '[.keys[] | "\(.name):\(.type)"] | join(",")')" "ec:p256,signing:ed25519" \
	"nfkminfo -k lists the keys of kmdata"
A generatekey -m 2 simple type=Ed25519 ident=early
rc_is 3 "generatekey in module 2 before the world is loaded there: refused (exit 3)"

# --- new-world -l: load into module 2, and the blob signs there -----------------------------
A new-world -l -m 2 --card cards/card-1.json --card cards/card-3.json \
	--passphrase-file pass1 --passphrase-file pass3
rc_is 0 "new-world -l -m 2 with cards 1 and 3"
like "$out" "Loaded Security World $W in VCM $U2" "... loaded in module 2's VCM"
printf 'sign me\n' >msg
A hsmadmin vcm key sign --uuid "$U2" --name signing --in msg --out msg.sig
rc_is 0 "the key generatekey made signs in module 2"
ok "... and verifies with its public key" \
	openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in msg -sigfile msg.sig
A nfkminfo
like "$out" "module 2 +VCM $U2 on $E2: loaded" "nfkminfo: loaded in module 2 now"

# --- many inputs signed by one command (batches of one call each) ---------------------------
for i in 1 2 3; do printf 'document %s\n' "$i" >"doc$i"; done
A hsmadmin vcm key sign --uuid "$U2" --name signing --in doc1 --in doc2 --in doc3 \
	--out doc1.sig --out doc2.sig --out doc3.sig
rc_is 0 "vcm key sign with three --in and three --out"
like "$out" "^doc1: doc1.sig \(64 bytes\)" "... one line per input"
for i in 1 2 3; do
	ok "... doc$i's signature verifies" \
		openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in "doc$i" -sigfile "doc$i.sig"
done
A hsmadmin vcm key sign --uuid "$U2" --name signing --in doc1 --in doc2 --json
is "$(printf '%s' "$out" | jq -r '[.signatures[].in] | join(",")')" "doc1,doc2" "--json: a signature per input"
printf '%s' "$out" | jq -r '.signatures[1].signature' | base64 -d >doc2.b64sig
ok "... in base64, verifying" openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in doc2 -sigfile doc2.b64sig
mkdir -p many
args=()
for i in $(seq 1 150); do head -c 600 /dev/urandom >"many/$i"; args+=(--in "many/$i" --out "many/$i.sig"); done
A hsmadmin vcm key sign --uuid "$U2" --name signing "${args[@]}"
rc_is 0 "150 inputs of 600 bytes in one command (several calls: 64 inputs or 48 KiB each)"
bad=0
for i in $(seq 1 150); do
	openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in "many/$i" -sigfile "many/$i.sig" \
		>/dev/null 2>&1 || bad=$((bad + 1))
done
is "$bad" 0 "... every one of the 150 signatures verifies"
A hsmadmin vcm key sign --uuid "$U2" --name signing --in doc1 --in doc2 --out doc1.sig
rc_is 2 "two --in and one --out: usage error"
like "$err" "--out: one per --in: 2 inputs, 1 outputs" "... saying so"
A hsmadmin vcm key sign --uuid "$U2" --name signing --in doc1 --in nosuchfile
rc_is 2 "an unreadable input among several: exit 2"
like "$err" "nosuchfile" "... naming it"

# --- misuse: one line, exit 2 (3 for state) ---------------------------------------------------
misuse() { # WANT_RC REGEX NAME ARGS...
	_w=$1 _re=$2 _n=$3; shift 3
	A "$@"
	rc_is "$_w" "$_n"
	like "$err" "$_re" "... $(printf '%s' "$_re" | cut -c1-50)"
	is "$(printf '%s\n' "$err" | wc -l)" 1 "... in one line"
}
misuse 2 "say what to do: -i" "new-world with no operation" new-world --cards x
misuse 2 "initialize|program" "new-world -i -l" new-world -i -l --cards x
misuse 2 "-S 1 and -m 2 name two modules" "new-world -S 1 -m 2" new-world -S 1 -m 2 --cards x
misuse 2 "--cards: only with -i" "new-world -l --cards" new-world -l --cards x --card cards/card-1.json
misuse 2 "--card: only with -l" "new-world -i --card" new-world -i --cards x --card cards/card-1.json
misuse 2 "--acs-quorum: '4/3' is not K/N" "new-world -i -Q 4/3" new-world -i -Q 4/3 --cards x
misuse 2 "-m: no enrolled VCM is module #9" "new-world -i -m 9" new-world -i -m 9 --cards x
misuse 2 "--card: -l loads the world with a quorum" "new-world -l without cards" new-world -l
misuse 3 "a world exists here already" "new-world -i with a world in kmdata" \
	new-world -i --cards cards2 --passphrase-file pass1
misuse 2 "'pkcs11': keys here belong to the application 'simple'" "generatekey pkcs11" \
	generatekey pkcs11 type=Ed25519 ident=x
misuse 2 "type=RSA: the VCMs make Ed25519 and ECDSA" "generatekey type=RSA" \
	generatekey simple type=RSA ident=x
misuse 2 "size: not a parameter here" "generatekey size=2048" \
	generatekey simple type=Ed25519 size=2048 ident=x
misuse 2 "curve: type=ECDSA needs curve=NISTP256" "generatekey ECDSA without a curve" \
	generatekey simple type=ECDSA ident=x
misuse 2 "curve: type=ECDSA needs curve=NISTP256 \(not NISTP384\)" "generatekey ECDSA NISTP384" \
	generatekey simple type=ECDSA curve=NISTP384 ident=x
misuse 2 "curve: only for type=ECDSA" "generatekey Ed25519 with a curve" \
	generatekey simple type=Ed25519 curve=NISTP256 ident=x
misuse 2 "ident given more than once" "generatekey ident twice" \
	generatekey simple type=Ed25519 ident=a ident=b
misuse 2 "ident=NAME \(the key's name\) is required" "generatekey without ident" \
	generatekey simple type=Ed25519
misuse 2 "type=Ed25519 or type=ECDSA .* is required" "generatekey without type" \
	generatekey simple ident=x
misuse 2 "ident: '../x'" "generatekey ident=../x" generatekey simple type=Ed25519 ident=../x
misuse 2 "protect=softcard: keys here are blobs" "generatekey protect=softcard" \
	generatekey simple type=Ed25519 ident=x protect=softcard
misuse 2 "not NAME=VALUE" "generatekey a bare word" generatekey simple type=Ed25519 ident
misuse 2 "ident: the value must be 1-64 printable" "generatekey a control character" \
	generatekey simple type=Ed25519 "$(printf 'ident=a\033[2Jb')"
misuse 2 "the value must be 1-64" "generatekey an empty value" generatekey simple type= ident=x
misuse 2 "missing operand APPNAME" "generatekey with nothing" generatekey
misuse 3 "a key of this name exists" "generatekey an existing name" \
	generatekey simple type=Ed25519 ident=signing
misuse 2 "--key-list|--world-info" "nfkminfo -w -k" nfkminfo -w -k
ok "no key file was written by the refusals" test "$(ls tenants/A/kmdata | grep -c '^key_')" = 2

# --- help, version and completion ---------------------------------------------------------------
A new-world --help
rc_is 0 "new-world --help"
like "$out" "--acs-quorum" "... lists -Q"
like "$out" "--no-remoteshare-cert" "... and -S"
A generatekey --help
like "$out" "NAME=VALUE" "generatekey --help names the parameters"
A nfkminfo --version
like "$out" "^nfkminfo [0-9.]+" "nfkminfo --version names the tool"
A hsmadmin --help
unlike "$out" "^  (new-world|generatekey|nfkminfo)" "hsmadmin --help does not list the tools"
A hsmadmin completion bash
printf '%s\n' "$out" >comp.bash
like "$out" "complete -F _hsmadmin_complete .*new-world" "bash completion is registered for new-world"
complete_words() { # WORD... -> COMPREPLY sorted, one line
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
		_hsmadmin_complete; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ comp.bash "$@"
}
is "$(complete_words new-world --acs)" "--acs-quorum " "new-world completes its options"
is "$(complete_words generatekey -m 1 --ba)" "--batch " "generatekey too, after other options"
is "$(complete_words nfkminfo --k)" "--key-list " "nfkminfo too"
done_testing
