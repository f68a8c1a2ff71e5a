#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/vendor-licence.sh - hsm-vendor: vendor keys, signing and
# verifying feature licences, and every refusal with its exit code:
# tampered (4), unknown signer (4), unknown version (2), hostile files (2),
# wrong ESN (1), bad options (2).  Also checks, with the openssl CLI, that
# a licence is a standard Ed25519 signature over the canonical body.
. "$top_srcdir/tests/lib/common.sh"

VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }
cd "$TEST_TMP" || exit 1
ESN=1A23-BC45-6789

one_line() { [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [ -n "$err" ]; }
# verify ARGS...: verify-licence with the test's vendor key trusted.
verify() { run "$VENDOR" verify-licence --pub vendor.pub "$@"; }
# refused FILE EXIT NAME [REGEX WHAT]: verify FILE exits EXIT, its error
# matching REGEX.
refused() {
	verify "$1"
	is "$rc" "$2" "$3: exit $2"
	[ $# -lt 4 ] || like "$err" "$4" "$5"
}

# --- keys ---------------------------------------------------------------------
run "$VENDOR" keygen --out vendor.key --pub vendor.pub
is "$rc" 0 "keygen exits 0"
like "$out" "^vendor key SHA256:" "keygen names the key's fingerprint"
is "$(stat -c %a vendor.key)" 600 "the private key is mode 0600"
like "$(cat vendor.pub)" "BEGIN PUBLIC KEY" "the public key is PEM"
unlike "$(cat vendor.pub)" "PRIVATE" "the public key file holds no private key"
run "$VENDOR" keygen --out vendor.key
is "$rc" 1 "keygen refuses to replace a key"
like "$err" "exists \(use --force" "and says how"
run "$VENDOR" keygen --out other.key --pub other.pub
is "$rc" 0 "a second vendor key"
run "$VENDOR" keygen --out stdout.key
like "$out" "^-----BEGIN PUBLIC KEY-----" "without --pub the public key goes to stdout"

# --- issue and verify -----------------------------------------------------------
run "$VENDOR" licence --key vendor.key --esn 1a23-bc45-6789 --max-active-vcms 8 \
	--features 'ForeignTokenOpen|RemoteShare' --serial 77 --out good.lic
is "$rc" 0 "licence exits 0"
like "$out" "licence 77 for ESN $ESN \(8 active VCMs\) written to good.lic" "licence reports what it wrote"
like "$(head -1 good.lic)" "^# hsmadmin feature licence$" "the file starts with a readable title"
like "$(cat good.lic)" "# esn: $ESN" "the header shows the ESN (normalised)"
like "$(cat good.lic)" "# max-active-vcms: 8" "the header shows the VCM count"
like "$(cat good.lic)" "# features: ForeignTokenOpen\|RemoteShare" "the header shows features by name"
verify good.lic
is "$rc" 0 "verify-licence accepts it"
like "$out" "signature: good" "and says the signature is good"
like "$out" "max-active-vcms: 8" "and prints the VCM count"
like "$out" "features: ForeignTokenOpen\|RemoteShare \(0x00000003\)" "and the features by name and word"
run "$VENDOR" verify-licence --pub other.pub --pub vendor.pub --esn "$ESN" --json good.lic
is "$rc" 0 "verify with a list of trusted keys and the right ESN"
like "$out" '"max_active_vcms": 8' "--json gives the fields"
like "$out" '"serial": 77' "--json gives the serial"

run "$VENDOR" licence --key vendor.key --esn $ESN --max-active-vcms 1000 --features 0x13 \
	--speed-upgrade high --out speed.lic
is "$rc" 0 "a licence with a hex feature word and a speed upgrade"
like "$(cat speed.lic)" "# speed-upgrade: high" "the header shows the speed upgrade"
verify speed.lic
like "$out" "features: ForeignTokenOpen\|RemoteShare\|KISAAlgorithms \(0x00000013\)" "hex word shown by name"
like "$out" "speed-upgrade: high" "speed upgrade verified"
run "$VENDOR" licence --key vendor.key --esn $ESN --max-active-vcms 1 --out good.lic
is "$rc" 1 "licence refuses to replace a file"

# --- refusals ---------------------------------------------------------------------
sed 's/"max_active_vcms":8/"max_active_vcms":9/; s/^# max-active-vcms: 8$/# max-active-vcms: 9/' good.lic >forged.lic
refused forged.lic 4 "one byte of the body changed (header agreeing)" \
	"signature does not match.*altered" "reported as tampered"
ok "one line" one_line

sed 's/"max_active_vcms":8/"max_active_vcms":9/' good.lic >body.lic
refused body.lic 4 "one byte of the body changed" \
	"body.lic: header line 4 reads '# max-active-vcms: 8' but the signed body says '# max-active-vcms: 9'" "the header disagrees"

sed 's/^# max-active-vcms: 8$/# max-active-vcms: 80/' good.lic >header.lic
refused header.lic 4 "header edited" \
	"header line 4 reads '# max-active-vcms: 80'.*altered" "reported as altered"

run "$VENDOR" verify-licence --pub other.pub good.lic
is "$rc" 4 "another vendor's key: exit 4"
like "$err" "which is not a trusted vendor key" "reported as unknown signer"
ok "one line" one_line

verify --esn 1A23-BC45-0000 good.lic
is "$rc" 1 "wrong ESN: exit 1"
like "$err" "for ESN $ESN, not for 1A23-BC45-0000" "names both ESNs"

# --- the format from first principles: openssl signs a body we write by hand --------
keyline=$(sed -n 's/.*"key":"\(ssh-ed25519 [A-Za-z0-9+\/=]*\)".*/\1/p' good.lic)
handmade() { # handmade VERSION SERIAL: a licence signed by openssl, not by us
	body="{\"esn\":\"$ESN\",\"features\":3,\"format\":\"hsmadmin-licence\",\"issued\":1700000000,\"max_active_vcms\":4,\"serial\":$2,\"type\":\"multi-tenant\",\"version\":$1}"
	printf '%s' "$body" >body.bin
	sig=$(openssl pkeyutl -sign -rawin -inkey vendor.key -in body.bin | base64 -w0)
	printf '# hsmadmin feature licence\n# type: multi-tenant\n# esn: %s\n# max-active-vcms: 4\n# features: ForeignTokenOpen|RemoteShare\n# issued: 2023-11-14T22:13:20Z\n# serial: %s\n-----BEGIN HSMADMIN LICENCE-----\n{"body":%s,"signature":{"alg":"ed25519","key":"%s","sig":"%s"}}\n-----END HSMADMIN LICENCE-----\n' \
		"$ESN" "$2" "$body" "$keyline" "$sig"
}
if command -v openssl >/dev/null && [ -n "$keyline" ]; then
	handmade 1 5 >v1.lic
	verify v1.lic
	is "$rc" 0 "a licence signed by openssl over the documented body verifies"
	like "$out" "max-active-vcms: 4" "with the hand-written fields"
	handmade 2 5 >v2.lic
	verify v2.lic
	is "$rc" 2 "format version 2: exit 2"
	like "$err" "unknown licence format version 2" "reported as unknown version"
else
	ok "# SKIP openssl CLI missing" true
fi

# --- hostile files ------------------------------------------------------------------
head -c 300 good.lic >truncated.lic
refused truncated.lic 2 "truncated"
ok "one line" one_line
{ cat good.lic; head -c 70000 /dev/zero | tr '\0' '#'; } >big.lic
refused big.lic 2 "over 64 KiB" "too large|larger" "reported as too large"
sed '2s/^# type/# \xff\xfeype/' good.lic >utf.lic
refused utf.lic 2 "non-UTF-8" "not UTF-8" "reported as not UTF-8"
sed 's/{"body":{"esn"/{"body":{"esn":"0000-0000-0000","esn"/' good.lic >dup.lic
refused dup.lic 2 "duplicate keys" "duplicate" "reported as duplicate"
grep -v BEGIN good.lic >nobegin.lic
refused nobegin.lic 2 "no BEGIN line" \
	"no '-----BEGIN HSMADMIN LICENCE-----' line" "names the missing line"
grep -v END good.lic >noend.lic
refused noend.lic 2 "no END line" "END HSMADMIN LICENCE" "names the missing line"
: >empty.lic
refused empty.lic 2 "empty file"
refused "$TEST_TMP" 2 "a directory"
refused missing.lic 2 "a missing file" "missing.lic" "names the file"
run "$VENDOR" verify-licence --pub good.lic good.lic
is "$rc" 2 "a licence given as a key: exit 2"
run "$VENDOR" verify-licence good.lic
is "$rc" 2 "no trusted key: exit 2"

# --- bad options ----------------------------------------------------------------------
bad_licence() { # bad_licence NAME REGEX ARGS...
	_n=$1 _re=$2; shift 2
	run "$VENDOR" licence --key vendor.key --out never.lic "$@"
	is "$rc" 2 "$_n: exit 2"
	like "$err" "$_re" "$_n: says why"
	ok "$_n: one line" one_line
}
bad_licence "0 VCMs" "--max-active-vcms: must be a number from 1 to 1000" --esn $ESN --max-active-vcms 0
bad_licence "1001 VCMs" "--max-active-vcms" --esn $ESN --max-active-vcms 1001
bad_licence "leading zero" "--max-active-vcms" --esn $ESN --max-active-vcms 08
bad_licence "junk count" "--max-active-vcms" --esn $ESN --max-active-vcms 8x
bad_licence "bad ESN" "--esn: not an ESN" --esn 1A23-BC45 --max-active-vcms 8
bad_licence "unknown feature" "--features:" --esn $ESN --max-active-vcms 8 --features 'ForeignTokenOpen|Bogus'
bad_licence "speed bits as features" "--speed-upgrade" --esn $ESN --max-active-vcms 8 --features HSMSpeed2
bad_licence "bad speed" "--speed-upgrade: must be 'mid' or 'high'" --esn $ESN --max-active-vcms 8 --speed-upgrade low
bad_licence "bad type" "--type: unknown licence type" --esn $ESN --max-active-vcms 8 --type single
bad_licence "serial 0" "--serial" --esn $ESN --max-active-vcms 8 --serial 0
bad_licence "missing ESN" "are required" --max-active-vcms 8
bad_licence "unknown option" "unknown option '--bogus'" --esn $ESN --max-active-vcms 8 --bogus
ok "nothing was written by refused commands" test ! -e never.lic
chmod 0644 other.key
run "$VENDOR" licence --key other.key --esn $ESN --max-active-vcms 8 --out never.lic
is "$rc" 1 "a world-readable vendor key is refused"
ok "one line" one_line
run "$VENDOR" frobnicate
is "$rc" 2 "unknown command: exit 2"
run "$VENDOR" package
is "$rc" 2 "package is not a command yet"
run "$VENDOR"
is "$rc" 2 "no command: exit 2"
run "$VENDOR" --help
is "$rc" 0 "--help exits 0"
like "$out" "verify-licence" "--help lists the commands"

done_testing
