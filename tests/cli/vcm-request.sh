#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vcm-request.sh - the tenant's request tools through the real binary:
# hsmadmin vcm create | start | setproperties | inspect-request.
. "$top_srcdir/tests/lib/common.sh"
KEYPROT_PEM=$(_find_built "$top_builddir/tests/tools" keyprot-pem) || { echo "Bail out! keyprot-pem not built"; exit 1; }

[ -f "$PLUGIN_DIR/vcm.so" ] || skip_all "vcm plugin not built"

T=$TEST_TMP
ALL_OUTPUT=$T/all-output # every stdout/stderr, to prove no private key leaks
keep() { printf '%s\n%s\n' "$out" "$err" >>"$ALL_OUTPUT"; }
# one_error PATTERN NAME: stderr is exactly one error line matching PATTERN
one_error() {
	is "$(printf '%s\n' "$err" | wc -l)" 1 "$2: one line on stderr"
	like "$err" "^hsmadmin: vcm [a-z-]+: .*$1" "$2: says why"
}
# flip FILE OFFSET: change the byte at OFFSET to a different plausible one
# (letters change case, digits count up, anything else becomes 'A').
flip() {
	_c=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null)
	case $_c in
	[a-z]) _n=$(printf '%s' "$_c" | tr a-z A-Z) ;;
	[A-Z]) _n=$(printf '%s' "$_c" | tr A-Z a-z) ;;
	[0-8]) _n=$((_c + 1)) ;;
	9) _n=0 ;;
	*) _n=A ;;
	esac
	printf '%s' "$_n" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
offset_of() { # offset_of FILE TEXT: byte offset just after the first TEXT
	_o=$(LC_ALL=C grep -bo -F -- "$2" "$1" | head -1 | cut -d: -f1)
	echo $((_o + ${#2}))
}

# --- create, inspect, verify ------------------------------------------------
run hsmadmin vcm create --request-file "$T/create.req" --request-validity 3600 \
	--autostart --serial-cardreader --features 'ForeignTokenpen|KISAAgorithms|EllipticCurve' --name 'tenant one'
keep
is "$rc" 0 "create succeeds"
like "$out" "^Wrote create request to $T/create.req" "create says where the request went"
like "$out" "request key +SHA256:[A-Za-z0-9+/]{43} \(new key" "first create generates the request key"
ok "request key file exists" test -f "$HSMADMIN_HOME/tenant/request.key"
ok "sshadmin key file exists" test -f "$HSMADMIN_HOME/tenant/vcm-sshadmin.key"
is "$(stat -c %a "$HSMADMIN_HOME/tenant/request.key")" 600 "request key is 0600"
is "$(stat -c %a "$HSMADMIN_HOME/tenant/vcm-sshadmin.key")" 600 "sshadmin key is 0600"
is "$(stat -c %a "$HSMADMIN_HOME/tenant")" 700 "tenant key directory is 0700"
is "$(wc -l <"$T/create.req")" 1 "request file is one line"
if command -v ssh-keygen >/dev/null; then
	fp=$(ssh-keygen -lf "$HSMADMIN_HOME/tenant/request.pub" | cut -d' ' -f2 | sed 's/+/\\+/g')
	like "$out" "request key +$fp" "fingerprint is the one ssh-keygen prints"
fi

run hsmadmin vcm inspect-request --verify "$T/create.req"
keep
is "$rc" 0 "inspect --verify of a fresh create request succeeds"
like "$out" "Request: +create \(format version 1\)" "inspect shows the type"
like "$out" "autostart +true" "inspect shows autostart"
like "$out" "restrict_startup +false" "inspect shows restrict_startup"
like "$out" "serial_cardreader +true" "inspect shows serial_cardreader"
like "$out" "features +ForeignTokenOpen\|KISAAlgorithms\|EllipticCurve \(0x00000211\)" "features shown as canonical names"
like "$out" "name +tenant one" "inspect shows the name"
like "$out" "sshadmin key: +SHA256:" "inspect shows the sshadmin key fingerprint"
like "$out" "Status: +valid" "fresh request is valid"
like "$out" "Signature: +valid \(key SHA256:" "signature valid"

run hsmadmin vcm inspect-request --json "$T/create.req"
keep
is "$rc" 0 "inspect --json succeeds"
like "$out" '"type": "create"' "json: type"
like "$out" '"features": 529' "json: features as the decimal word"
like "$out" '"features_names": "ForeignTokenOpen\|KISAAlgorithms\|EllipticCurve"' "json: feature names"
like "$out" '"expired": false' "json: not expired"
like "$out" '"checked": false' "json: signature not checked without --verify"
like "$out" '"not_after": [0-9]+' "json: not_after"
unlike "$out" "Request:" "json mode prints no text"

run hsmadmin vcm inspect-request --json --verify "$T/create.req"
like "$out" '"valid": true' "json --verify: valid"

# Keys are made once and reused.
sum_before=$(cat "$HSMADMIN_HOME"/tenant/*.key | md5sum)
run hsmadmin vcm create --request-file "$T/create2.req" --features 9A37
keep
is "$rc" 0 "second create succeeds"
unlike "$out" "new key" "second create reuses the keys"
is "$(cat "$HSMADMIN_HOME"/tenant/*.key | md5sum)" "$sum_before" "key files unchanged by the second create"
run hsmadmin vcm inspect-request "$T/create2.req"
like "$out" "features +ForeignTokenOpen\|RemoteShare\|GeneralSEE\|KISAAlgorithms\|StandardKM\|EllipticCurve\|ECCMQV\|AcceleratedECC\|HSMSpeed2 \(0x00009A37\)" \
	"hex features 9A37 shown as the guide's names"
like "$out" "Valid until: +no expiry" "without --request-validity there is no expiry"

# An existing file is never replaced.
sum=$(md5sum <"$T/create.req")
run hsmadmin vcm create --request-file "$T/create.req"
is "$rc" 1 "create refuses an existing request file"
one_error "already exists" "existing request file"
is "$(md5sum <"$T/create.req")" "$sum" "existing request file untouched"

# What a writer killed mid-write left (a temporary file next to a key or a
# request, which may hold the key) goes at the next use.
printf 'secret\n' >"$HSMADMIN_HOME/tenant/request.key.tmp.Ab3xYz"
printf 'half\n' >"$T/create3.req.tmp.q1W2e3"
run hsmadmin vcm create --request-file "$T/create3.req"
keep
is "$rc" 0 "create after a crash left temporary files"
ok "... the key directory's leftover is gone" test ! -e "$HSMADMIN_HOME/tenant/request.key.tmp.Ab3xYz"
ok "... and the request file's" test ! -e "$T/create3.req.tmp.q1W2e3"

# --- any one-byte change fails verification ---------------------------------
check_change() { # check_change OFFSET NAME WANT_RC
	cp "$T/create.req" "$T/changed.req"
	flip "$T/changed.req" "$1"
	if cmp -s "$T/create.req" "$T/changed.req"; then
		echo "# flip at $1 changed nothing"; return
	fi
	run hsmadmin vcm inspect-request --verify "$T/changed.req"
	keep
	if [ -n "$3" ]; then is "$rc" "$3" "$2: exit $3"; else ok "$2: refused" test "$rc" -ne 0; fi
	unlike "$out" "Signature: +valid" "$2: not reported valid"
}
check_change "$(( $(offset_of "$T/create.req" '"name":"') + 1 ))" "changed name in body" 4
check_change "$(( $(offset_of "$T/create.req" '"nonce":"') + 5 ))" "changed nonce" "" # upper-case hex is malformed (2), a digit reaches the signature (4)
check_change "$(( $(offset_of "$T/create.req" '"issued":') + 9 ))" "changed issue time" 4
check_change "$(( $(offset_of "$T/create.req" '"sig":"') + 10 ))" "changed signature" 4
check_change "$(( $(offset_of "$T/create.req" '"signature":{"alg":"ed25519","key":"ssh-ed25519 ') + 40 ))" \
	"changed signer key" 4
check_change "$(( $(offset_of "$T/create.req" '"sshadmin_key":"ssh-ed25519 ') + 50 ))" "changed sshadmin key" 4
check_change "$(( $(offset_of "$T/create.req" '"request_key":"ssh-ed25519 ') + 50 ))" "changed request key" 4
size=$(wc -c <"$T/create.req")
for off in $(seq 0 53 $((size - 1))); do
	check_change "$off" "byte $off changed" ""
done
head -c $((size - 1)) "$T/create.req" >"$T/changed.req"
run hsmadmin vcm inspect-request --verify "$T/changed.req"
is "$rc" 2 "final newline removed: malformed"

# --- start and setproperties --------------------------------------------------
UUID=4f9d05b8-95f4-41ab-8b0a-0c9c7ce14209
run hsmadmin vcm start --request-file "$T/start.req" --uuid "$(echo $UUID | tr a-f A-F)" --request-validity 600
keep
is "$rc" 0 "start request written"
run hsmadmin vcm inspect-request --verify "$T/start.req"
keep
is "$rc" 0 "start request verifies with the tenant's own key by default"
like "$out" "VCM UUID: +$UUID" "uuid shown in lower case"
unlike "$out" "Properties:" "start carries no properties"
run hsmadmin vcm inspect-request --key-file "$HSMADMIN_HOME/tenant/request.pub" "$T/start.req"
is "$rc" 0 "start request verifies with --key-file (OpenSSH line; implies --verify)"
"$KEYPROT_PEM" "$HSMADMIN_HOME/tenant/request.key" | openssl pkey -pubout -out "$T/request-pub.pem" 2>/dev/null &&
	{ run hsmadmin vcm inspect-request --verify --key-file "$T/request-pub.pem" "$T/start.req"
	  is "$rc" 0 "start request verifies with a PEM public key"; }
run hsmadmin vcm inspect-request --verify --key-file "$HSMADMIN_HOME/tenant/vcm-sshadmin.pub" "$T/start.req"
keep
is "$rc" 4 "start request with another key: exit 4"
like "$out" "Signature: +INVALID" "invalid signature reported"
one_error "signature: .*not by the given key" "start with another key"

run hsmadmin vcm setproperties --request-file "$T/setprop.req" --uuid $UUID --restrict-startup \
	--no-autostart --features HSMSpeed1
keep
is "$rc" 0 "setproperties request written"
run hsmadmin vcm inspect-request --verify --json "$T/setprop.req"
is "$rc" 0 "setproperties verifies"
like "$out" '"restrict_startup": true' "setproperties carries restrict_startup"
like "$out" '"autostart": false' "setproperties carries --no-autostart"
like "$out" '"features": 16384' "setproperties carries features"
unlike "$out" '"serial_cardreader"|"name"' "setproperties carries only what was given"
cp "$T/setprop.req" "$T/setprop-changed.req"
flip "$T/setprop-changed.req" "$(( $(offset_of "$T/setprop.req" '"features":') + 1 ))"
run hsmadmin vcm inspect-request --verify "$T/setprop-changed.req"
is "$rc" 4 "changed setproperties request fails to verify"

# k_tenant_req (guide 3.1.2.3.7): the current key signs a request naming the next.
run env HSMADMIN_HOME="$T/next-home" hsmadmin vcm create --request-file "$T/next-create.req"
is "$rc" 0 "a second tenant home makes the next request key"
next_fp=$(printf '%s\n' "$out" | sed -n 's/.*request key *\(SHA256:[A-Za-z0-9+/]*\).*/\1/p')
like "$next_fp" '^SHA256:[A-Za-z0-9+/]{43}$' "fingerprint of the next key"
run hsmadmin vcm setproperties --request-file "$T/rotate.req" --uuid $UUID \
	--k-tenant-req "$T/next-home/tenant/request.pub"
keep
is "$rc" 0 "setproperties --k-tenant-req (OpenSSH public key file) written"
run hsmadmin vcm inspect-request --verify "$T/rotate.req"
is "$rc" 0 "rotation request verifies with the current key"
like "$out" "k_tenant_req +$(printf '%s' "$next_fp" | sed 's/+/\\+/g') \(new request key\)" "inspect shows the new key's fingerprint"
run hsmadmin vcm inspect-request --json --key-file "$T/next-home/tenant/request.pub" "$T/rotate.req"
is "$rc" 4 "the new key does not verify its own rotation request"
like "$out" "\"k_tenant_req\": \"$(printf '%s' "$next_fp" | sed 's/+/\\+/g')\"" "json: properties.k_tenant_req is the fingerprint"
if HSMADMIN_HOME=$T/next-home "$KEYPROT_PEM" "$T/next-home/tenant/request.key" |
	openssl pkey -pubout -out "$T/next-pub.pem" 2>/dev/null; then
	run hsmadmin vcm setproperties --request-file "$T/rotate-pem.req" --uuid $UUID \
		--k-tenant-req "$T/next-pub.pem" --name renamed
	is "$rc" 0 "--k-tenant-req takes a PEM public key, with other properties"
	run hsmadmin vcm inspect-request --json "$T/rotate-pem.req"
	like "$out" "\"k_tenant_req\": \"$(printf '%s' "$next_fp" | sed 's/+/\\+/g')\"" "PEM and OpenSSH name the same key"
fi
run hsmadmin vcm setproperties --request-file "$T/rotate-self.req" --k-tenant-req "$HSMADMIN_HOME/tenant/request.pub"
is "$rc" 1 "rotating to the current key fails"
one_error "must differ from the current one" "rotating to the current key"
ok "no request written for a rotation to the current key" test ! -e "$T/rotate-self.req"

# Another tenant (another HSMADMIN_HOME) has no key to sign or verify with.
run env HSMADMIN_HOME="$T/other-home" hsmadmin vcm start --request-file "$T/nokey.req"
is "$rc" 1 "start without a tenant key fails"
one_error "no tenant request-signing key" "start without a key"
ok "no request written without a key" test ! -e "$T/nokey.req"
run env HSMADMIN_HOME="$T/other-home" hsmadmin vcm inspect-request --verify "$T/start.req"
is "$rc" 2 "verifying a start request without any key is a usage error"
one_error "give --key-file" "verify without a key"
run env HSMADMIN_HOME="$T/other-home" hsmadmin vcm inspect-request --verify "$T/create.req"
is "$rc" 0 "anyone can verify a create request (the key is embedded)"

# --- expiry ---------------------------------------------------------------------
run hsmadmin vcm start --request-file "$T/short.req" --request-validity 1
is "$rc" 0 "start request valid for one second"
sleep 2.2
run hsmadmin vcm inspect-request --verify "$T/short.req"
keep
is "$rc" 0 "expired request: signature still verifies"
like "$out" "Status: +EXPIRED: expired at" "expired request shown as expired"
like "$err" "warning: .*expired at" "expired request warned about under --verify"
run hsmadmin vcm inspect-request --json "$T/short.req"
like "$out" '"expired": true' "json: expired"
like "$out" '"status": "expired"' "json: status expired"

# --- usage errors -------------------------------------------------------------
export HSMADMIN_HOME="$T/fresh-home"
usage_case() { # usage_case NAME PATTERN ARGS...
	_n=$1 _p=$2; shift 2
	run hsmadmin vcm "$@"
	is "$rc" 2 "$_n: exit 2"
	one_error "$_p" "$_n"
}
usage_case "autostart with restrict-startup" "--restrict-startup and --autostart cannot be used together" \
	create --request-file "$T/u.req" --restrict-startup --autostart
usage_case "unknown feature name" "--features: unknown feature name 'Bogus'" \
	create --request-file "$T/u.req" --features 'EllipticCurve|Bogus'
usage_case "empty feature name" "--features: empty feature name" \
	create --request-file "$T/u.req" --features 'EllipticCurve||ECCMQV'
usage_case "features wider than 32 bits" "--features: .*wider than 32 bits" \
	create --request-file "$T/u.req" --features 123456789
usage_case "validity zero" "--request-validity: 0 is out of range" \
	create --request-file "$T/u.req" --request-validity 0
usage_case "validity over a year" "--request-validity: 31536001 is out of range" \
	start --request-file "$T/u.req" --request-validity 31536001
usage_case "validity not a number" "--request-validity: '1h' is not an integer" \
	create --request-file "$T/u.req" --request-validity 1h
usage_case "negative validity" "--request-validity: -5 is out of range" \
	create --request-file "$T/u.req" --request-validity -5
usage_case "missing request file" "missing required option --request-file" create --autostart
usage_case "bad uuid" "--uuid: 'not-a-uuid' is not a UUID" start --request-file "$T/u.req" --uuid not-a-uuid
usage_case "bad name" "--name: VCM name may hold only" create --request-file "$T/u.req" --name 'a;b'
usage_case "autostart and no-autostart" "--autostart and --no-autostart cannot be used together" \
	setproperties --request-file "$T/u.req" --autostart --no-autostart
usage_case "setproperties both on" "--autostart and --restrict-startup cannot both be requested" \
	setproperties --request-file "$T/u.req" --autostart --restrict-startup
usage_case "setproperties with nothing" "nothing to change" setproperties --request-file "$T/u.req"
printf 'not a key\n' >"$T/garbage.pub"
usage_case "k-tenant-req missing file" "--k-tenant-req: .*$T/no-such.pub" \
	setproperties --request-file "$T/u.req" --k-tenant-req "$T/no-such.pub"
usage_case "k-tenant-req not a key" "--k-tenant-req: " \
	setproperties --request-file "$T/u.req" --k-tenant-req "$T/garbage.pub"
usage_case "k-tenant-req on create" "unknown option '--k-tenant-req'" \
	create --request-file "$T/u.req" --k-tenant-req "$T/garbage.pub"
usage_case "no-autostart on create" "unknown option '--no-autostart'" \
	create --request-file "$T/u.req" --no-autostart
usage_case "inspect without a file" "missing operand REQUEST_FILE" inspect-request --verify
ok "usage errors create no request file" test ! -e "$T/u.req"
ok "usage errors generate no keys" test ! -e "$HSMADMIN_HOME/tenant"

# --- hostile request files --------------------------------------------------------
hostile() { # hostile NAME FILE RC PATTERN
	run hsmadmin vcm inspect-request --verify "$2"
	keep
	is "$rc" "$3" "$1: exit $3"
	one_error "$4" "$1"
}
# hostile_edit NAME SED-SCRIPT RC PATTERN: the same for the good create
# request edited by SED-SCRIPT (which must change it).
hostile_edit() {
	LC_ALL=C sed "$2" "$T/create.req" >"$T/h-edit"
	ok "$1: the edit changes the request" eval '! cmp -s "$T/create.req" "$T/h-edit"'
	hostile "$1" "$T/h-edit" "$3" "$4"
}
head -c 300 "$T/create.req" >"$T/h-truncated"
hostile "truncated" "$T/h-truncated" 2 "invalid JSON"
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' ' ' >"$T/h-oversized"
hostile "oversized (> 1 MiB)" "$T/h-oversized" 2 "file too large"
hostile_edit "non-UTF-8" "s/tenant one/tenant$(printf '\377')one/" 2 "invalid JSON.*(decode|UTF-8)"
printf '{"body":{},"body":{}}\n' >"$T/h-dup"
hostile "duplicate keys" "$T/h-dup" 2 "duplicate"
hostile_edit "duplicate key inside the body" 's/"name":"tenant one"/"name":"x","name":"tenant one"/' 2 "duplicate"
{ for _ in $(seq 2000); do printf '['; done; for _ in $(seq 2000); do printf ']'; done; echo; } >"$T/h-deep"
hostile "deeply nested" "$T/h-deep" 2 "nested deeper than"
other_sig=$(LC_ALL=C grep -o '"sig":"[^"]*"' "$T/create2.req")
hostile_edit "wrong signature" "s|\"sig\":\"[^\"]*\"|$other_sig|" 4 "signature verification failed"
hostile_edit "wrong format version" 's/"version":1/"version":2/' 2 "unsupported request format version 2"
hostile_edit "missing nonce" 's/"nonce":"[0-9a-f]*",//' 2 "missing field 'nonce'"
hostile_edit "missing signature" 's/,"signature":{[^}]*}//' 2 "missing field 'signature'"
hostile_edit "issued as a string" 's/"issued":\([0-9]*\)/"issued":"\1"/' 2 "'issued' must be an integer, not a string"
hostile_edit "autostart as a number" 's/"autostart":true/"autostart":1/' 2 "'properties.autostart' must be a boolean"
hostile_edit "unknown request type" 's/"type":"create"/"type":"erase"/' 2 "unknown request type 'erase'"
hostile_edit "autostart and restrict_startup both true" 's/"restrict_startup":false/"restrict_startup":true/' 2 "cannot both be true"
tr -d '\n' <"$T/create.req" | sed 's/,/, /g' >"$T/h-spaces"; echo >>"$T/h-spaces"
hostile "not canonical" "$T/h-spaces" 2 "not in canonical form"
: >"$T/h-empty"
hostile "empty file" "$T/h-empty" 2 "empty"
hostile "missing file" "$T/does-not-exist" 2 "No such file"
hostile "a directory" "$T" 2 "not a regular file"
printf 'x\033[2J\n' >"$T/h-escape"
run hsmadmin vcm inspect-request "$T/h-escape"
unlike "$err" "$(printf '\033')" "terminal escapes in a hostile file are not echoed"

# --- private keys are never printed -------------------------------------------
key_body=$(HSMADMIN_HOME=$TEST_TMP/home "$KEYPROT_PEM" "$TEST_TMP/home/tenant/request.key" | grep -v -- '-----')
ssh_body=$(HSMADMIN_HOME=$TEST_TMP/home "$KEYPROT_PEM" "$TEST_TMP/home/tenant/vcm-sshadmin.key" | grep -v -- '-----')
ok "the tenant's keys are stored protected (docs/formats/keys.md), not as PEM" \
	sh -c "head -c 6 '$TEST_TMP/home/tenant/request.key' | grep -q HSMKEY && head -c 6 '$TEST_TMP/home/tenant/vcm-sshadmin.key' | grep -q HSMKEY"
ok "... and open to the same keys as their public halves" test -n "$key_body" -a -n "$ssh_body"
ok "request private key never printed" sh -c "! grep -qF -- '$key_body' '$ALL_OUTPUT'"
ok "sshadmin private key never printed" sh -c "! grep -qF -- '$ssh_body' '$ALL_OUTPUT'"
ok "no PEM private key in any output" sh -c "! grep -q 'PRIVATE KEY' '$ALL_OUTPUT'"
ok "no private key in any request file" sh -c "! grep -qF -- '$key_body' '$T'/*.req"

# Key protection of the tenant's keys (guide 4.8): tenantreq and sshadmin.
opts_of() { head -c 14 "$1" | tail -c 6 | tr -d '\0'; }
run env HSMADMIN_HOME="$T/kp-home" NFAST_TENANTREQ_KEYPROT=KF hsmadmin vcm create --request-file "$T/kp.req"
is "$rc" 0 "create with NFAST_TENANTREQ_KEYPROT=KF"
is "$(opts_of "$T/kp-home/tenant/request.key")" KF "... the request key is protected KF"
is "$(opts_of "$T/kp-home/tenant/vcm-sshadmin.key")" KFSG "... the sshadmin key keeps the sshadmin default KFSG"
run env HSMADMIN_HOME="$T/kp-home2" NFAST_TENANTREQ_KEYPROT=KQ hsmadmin vcm create --request-file "$T/kp2.req"
is "$rc" 2 "an invalid NFAST_TENANTREQ_KEYPROT: exit 2"
like "$err" "NFAST_TENANTREQ_KEYPROT" "... naming the variable"
ok "... and no key was made" test ! -e "$T/kp-home2/tenant/request.key"
if getent group root >/dev/null; then
	run env HSMADMIN_HOME="$T/kp-home3" NFAST_TENANTREQ_GROUP=root hsmadmin vcm create --request-file "$T/kp3.req"
	is "$rc" 0 "create with NFAST_TENANTREQ_GROUP=root"
	is "$(stat -c '%a %G' "$T/kp-home3/tenant/request.key")" "640 root" "... the request key is 0640, group root"
	is "$(stat -c %a "$T/kp-home3/tenant/vcm-sshadmin.key")" 600 "... the sshadmin key stays 0600"
	run env HSMADMIN_HOME="$T/kp-home3" NFAST_TENANTREQ_GROUP=root hsmadmin vcm create --request-file "$T/kp3b.req"
	is "$rc" 0 "... and the group-readable key is used again with the same group"
fi

if [ "$(id -u)" = 0 ]; then
	# Regression: with the group variables unset, root gets the guide's
	# default group (root) for both keys, and the keys are used again.
	run env -u NFAST_TENANTREQ_GROUP -u NFAST_SSHADMIN_GROUP HSMADMIN_HOME="$T/kp-home4" \
		hsmadmin vcm create --request-file "$T/kp4.req"
	is "$rc" 0 "create as root with the group variables unset"
	is "$(stat -c '%a %G' "$T/kp-home4/tenant/request.key")" "640 root" "... the request key gets the default group"
	run env -u NFAST_TENANTREQ_GROUP -u NFAST_SSHADMIN_GROUP HSMADMIN_HOME="$T/kp-home4" \
		hsmadmin vcm create --request-file "$T/kp4b.req"
	is "$rc" 0 "... and is used again"
fi

# A key readable by others is refused, not used.
chmod 0644 "$TEST_TMP/home/tenant/request.key"
run env HSMADMIN_HOME="$TEST_TMP/home" hsmadmin vcm start --request-file "$T/loose.req"
is "$rc" 1 "a group/world-readable request key is refused"
one_error "lets others access the key" "loose key"

done_testing
