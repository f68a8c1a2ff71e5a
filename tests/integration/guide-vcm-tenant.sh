#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Guide conformance, the tenant's VCM family: every command line of guide
# 4.10.1.16 (hsmadmin vcm <subcommand>: create, start, enroll, unenroll,
# setproperties, inspect-request, info, getenvstats, single-setup, logs
# export|expire|getkey) run as written against an emulated HSM, each
# checked for its documented meaning; the guide's either-or options
# refused together; usage errors that name the word and exit 2.  Each
# description names the guide section.  (guide-vcm.sh walks the
# provider's vcmadmin lines.)
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins vcmtenant vcmlogs vcmsetup
vcm_setup
cd "$TEST_TMP" || exit 1
ESN=1A23-BC45-6789
E2=9Z87-YX65-4321
lists() { # OPTION... : the last --help lists each
	for _o in "$@"; do
		like "$out" "^  (-[a-z], )?$_o( |$)" "$SECTION: -h lists $_o"
	done
}
ok "HSM provisioned, started and enrolled" vcm_hsm h "$ESN"
ok "a licence for 3 active VCMs" licence h "$ESN" 3
mkdir -p cfg out

# --- 4.10.1.16: hsmadmin vcm <subcommand> ------------------------------------------------
tenant A vcm
rc_is 2 "4.10.1.16: hsmadmin vcm without a subcommand: usage (exit 2)"
tenant A vcm --help
rc_is 0 "4.10.1.16: hsmadmin vcm --help"
for s in create start enroll unenroll setproperties inspect-request info getenvstats single-setup logs; do
	like "$out" "(^|[^a-z-])$s([^a-z-]|$)" "4.10.1.16: vcm --help lists $s"
done
tenant A vcm bogus
rc_is 2 "4.10.1.16: an unknown vcm subcommand: usage (exit 2)"
like "$err" "unknown subcommand 'bogus'" "4.10.1.16: ... naming the word"

# --- 4.10.1.16.1: hsmadmin vcm create [-h] [--verbose] --request-file <REQUEST_FILE>
#     [--request-validity <REQUEST_VALIDITY>] [--restrict-startup | --autostart]
#     [--serial-cardreader] [--features] [--name <NAME>]
SECTION=4.10.1.16.1
tenant A vcm create -h
rc_is 0 "4.10.1.16.1: hsmadmin vcm create -h"
lists --verbose --request-file --request-validity --restrict-startup --autostart --serial-cardreader \
	--features --name
tenant A vcm create --verbose --request-file a.req --request-validity 3600 --autostart \
	--serial-cardreader --features 0x00000220 --name a
rc_is 0 "4.10.1.16.1: hsmadmin vcm create --verbose --request-file --request-validity --autostart --serial-cardreader --features <hex word> --name"
ok "4.10.1.16.1: ... the request is written to REQUEST_FILE" test -s a.req
ok "4.10.1.16.1: ... signed by a key unique to the tenant, generated with the first request" \
	test -s tenants/A/tenant/request.pub
tenant A vcm inspect-request --json a.req
is "$(jqr '[.properties.autostart, .properties.serial_cardreader, .properties.features, .properties.name] | map(tostring) | join(" ")')" \
	"true true 544 a" "4.10.1.16.1: ... asking for autostart, the card reader, features 0x220 and the name"
ok "4.10.1.16.1: --request-validity: the request is valid for 3600 s" \
	test "$(jqr '.not_after - .issued')" = 3600
tenant B vcm create --request-file b.req --restrict-startup --name b
rc_is 0 "4.10.1.16.1: hsmadmin vcm create --request-file <REQUEST_FILE> --restrict-startup --name"
tenant A vcm create --request-file c.req --restrict-startup --autostart
rc_is 2 "4.10.1.16.1: [--restrict-startup | --autostart]: not both (exit 2)"
like "$err" "--restrict-startup and --autostart cannot be used together" "4.10.1.16.1: ... naming both"
ok "4.10.1.16.1: ... and no request written" test ! -e c.req
tenant A vcm create --name c
rc_is 2 "4.10.1.16.1: --request-file is required: usage (exit 2)"
like "$err" "--request-file" "4.10.1.16.1: ... naming it"
tenant A vcm create --request-file c.req --features NoSuchFeature
rc_is 2 "4.10.1.16.1: --features that is no hex word or feature name: usage (exit 2)"
like "$err" "NoSuchFeature" "4.10.1.16.1: ... naming it"

# --- 4.10.1.16.6: hsmadmin vcm inspect-request [--verify] [--key-file <KEY_FILE>] <REQUEST_FILE>
tenant A vcm inspect-request a.req
rc_is 0 "4.10.1.16.6: hsmadmin vcm inspect-request <REQUEST_FILE>"
like "$out" "Signature: +not checked" "4.10.1.16.6: ... displays the contents, the signature unchecked"
like "$out" "autostart +true" "4.10.1.16.6: ... with the properties asked for"
tenant A vcm inspect-request --verify a.req
rc_is 0 "4.10.1.16.6: hsmadmin vcm inspect-request --verify <REQUEST_FILE>"
like "$out" "Signature: +valid" "4.10.1.16.6: --verify: the signature is valid"
tenant B vcm inspect-request --verify --key-file "$TEST_TMP/tenants/A/tenant/request.pub" a.req
rc_is 0 "4.10.1.16.6: hsmadmin vcm inspect-request --verify --key-file <KEY_FILE> <REQUEST_FILE>"
tenant A vcm inspect-request --verify --key-file "$TEST_TMP/tenants/B/tenant/request.pub" a.req
rc_is 4 "4.10.1.16.6: --key-file of another tenant: the signature does not verify (exit 4)"
sed 's/"name": *"a"/"name":"m"/' a.req >forged.req
ok "a copy of the request with another name" sh -c '! cmp -s a.req forged.req'
tenant A vcm inspect-request --verify forged.req
rc_is 4 "4.10.1.16.6: a changed request does not verify (exit 4)"
tenant A vcm inspect-request
rc_is 2 "4.10.1.16.6: <REQUEST_FILE> is required: usage (exit 2)"
tenant A vcm inspect-request no-such.req
rc_is 2 "4.10.1.16.6: a missing request file: exit 2"
like "$err" "no-such\.req" "4.10.1.16.6: ... naming it"

# --- the provider creates them ----------------------------------------------------------------
va create --request a.req --outdir cfg --json a
rc_is 0 "the provider creates A's VCM"
UA=$(jqr .uuid)
va create --request b.req --outdir cfg --json b
rc_is 0 "the provider creates B's VCM (restrict-startup)"
UB=$(jqr .uuid)
va start "$UA"
rc_is 0 "the provider starts A's VCM"
va start "$UB"
rc_is 4 "B's VCM does not start without the tenant's start request (restrict-startup)"

# --- 4.10.1.16.2: hsmadmin vcm start [-h] --request-file <REQUEST_FILE>
#     [--request-validity <REQUEST_VALIDITY>] [--uuid <UUID>]
SECTION=4.10.1.16.2
tenant B vcm start -h
rc_is 0 "4.10.1.16.2: hsmadmin vcm start -h"
lists --request-file --request-validity --uuid
tenant B vcm start --request-file s.req --request-validity 600 --uuid "$UB"
rc_is 0 "4.10.1.16.2: hsmadmin vcm start --request-file <REQUEST_FILE> --request-validity 600 --uuid <UUID>"
tenant B vcm inspect-request --json s.req
is "$(jqr .uuid)" "$UB" "4.10.1.16.2: the authorization is for that VCM"
is "$(jqr '.not_after - .issued')" 600 "4.10.1.16.2: ... valid for 600 s"
va start --request s.req "$UB"
rc_is 0 "4.10.1.16.2: with the authorization the provider starts the VCM"
tenant B vcm start --request-file s2.req
rc_is 0 "4.10.1.16.2: hsmadmin vcm start --request-file <REQUEST_FILE> (any VCM of the tenant)"
tenant B vcm start --uuid "$UB"
rc_is 2 "4.10.1.16.2: --request-file is required: usage (exit 2)"
tenant B vcm start --request-file s3.req --uuid not-a-uuid
rc_is 2 "4.10.1.16.2: a malformed --uuid: usage (exit 2)"
like "$err" "'not-a-uuid' is not a UUID" "4.10.1.16.2: ... naming the word"

# --- 4.10.1.16.3: hsmadmin vcm enroll [-h] [--verbose] --config <CONFIG_FILE> [--no-service-restart]
SECTION=4.10.1.16.3
tenant A vcm enroll -h
rc_is 0 "4.10.1.16.3: hsmadmin vcm enroll -h"
lists --verbose --config --no-service-restart
tenant A vcm enroll --verbose --config "cfg/vcm-$UA.json" --no-service-restart
rc_is 0 "4.10.1.16.3: hsmadmin vcm enroll --verbose --config <CONFIG_FILE> --no-service-restart"
tenant B vcm enroll --config "cfg/vcm-$UB.json"
rc_is 0 "4.10.1.16.3: hsmadmin vcm enroll --config <CONFIG_FILE>"
tenant A vcm enroll
rc_is 2 "4.10.1.16.3: --config is required: usage (exit 2)"
tenant A vcm enroll --config no-such.json
rc_is 2 "4.10.1.16.3: a missing configuration file: exit 2"
like "$err" "no-such\.json" "4.10.1.16.3: ... naming it"

# --- 4.10.1.16.7: hsmadmin vcm info [-h] [--timeout <TIMEOUT>] [--uuid <UUID>] [--json] ---------
SECTION=4.10.1.16.7
tenant A vcm info -h
rc_is 0 "4.10.1.16.7: hsmadmin vcm info -h"
lists --timeout --uuid --json
tenant A vcm info --timeout 30 --uuid "$UA" --json
rc_is 0 "4.10.1.16.7: hsmadmin vcm info --timeout 30 --uuid <UUID> --json"
is "$(jqr '[.vcms[].uuid] | join(" ")')" "$UA" "4.10.1.16.7: ... information for that VCM"
ok "4.10.1.16.7: ... about the HSM it is hosted on" test "$(jqr '.vcms[0] | tostring' | grep -c "$ESN")" = 1
tenant A vcm info
rc_is 0 "4.10.1.16.7: hsmadmin vcm info (all enrolled VCMs)"
like "$out" "$UA" "4.10.1.16.7: ... names the tenant's VCM"
tenant A vcm info --timeout 2
rc_is 2 "4.10.1.16.7: --timeout 2 (minimum 3s): usage (exit 2)"

# --- 4.10.1.16.8: hsmadmin vcm getenvstats [-h] [--verbose] [--timeout] [--uuid] [--json] ------
SECTION=4.10.1.16.8
tenant A vcm getenvstats -h
rc_is 0 "4.10.1.16.8: hsmadmin vcm getenvstats -h"
lists --verbose --timeout --uuid --json
tenant A vcm getenvstats --verbose --timeout 30 --uuid "$UA" --json
rc_is 0 "4.10.1.16.8: hsmadmin vcm getenvstats --verbose --timeout 30 --uuid <UUID> --json"
now=$(date +%s)
t=$(jqr '[.. | objects | .current_time? // empty][0]')
ok "4.10.1.16.8: ... the system time in Unix seconds ($t)" \
	test -n "$t" -a "${t:-0}" -ge $((now - 120)) -a "${t:-0}" -le $((now + 120))
tenant A vcm getenvstats
rc_is 0 "4.10.1.16.8: hsmadmin vcm getenvstats"

# --- 4.10.1.16.5: hsmadmin vcm setproperties [-h] --request-file <REQUEST_FILE>
#     [--request-validity] [--uuid] [--restrict-startup | --no-restrict-startup]
#     [--autostart | --no-autostart] [--serial-cardreader | --no-serial-cardreader]
#     [--features <FEATURES>] [--name <NAME>]
SECTION=4.10.1.16.5
tenant A vcm setproperties -h
rc_is 0 "4.10.1.16.5: hsmadmin vcm setproperties -h"
lists --request-file --request-validity --uuid --restrict-startup --no-restrict-startup --autostart \
	--no-autostart --serial-cardreader --no-serial-cardreader --features --name
tenant A vcm setproperties --request-file p.req --request-validity 600 --uuid "$UA" \
	--restrict-startup --no-autostart --no-serial-cardreader --features 0x00000020 --name renamed
rc_is 0 "4.10.1.16.5: hsmadmin vcm setproperties --request-file --request-validity --uuid --restrict-startup --no-autostart --no-serial-cardreader --features --name"
tenant A vcm inspect-request --json p.req
is "$(jqr '[.properties.restrict_startup, .properties.autostart, .properties.serial_cardreader, .properties.features, .properties.name] | map(tostring) | join(" ")')" \
	"true false false 32 renamed" "4.10.1.16.5: ... the request asks for each change"
va stop --force "$UA"
va properties set --request p.req "$UA" name renamed
rc_is 0 "4.10.1.16.5: the provider actions the request (name)"
va properties set --request p.req "$UA" autostart false
rc_is 0 "4.10.1.16.5: ... (autostart)"
va show "$UA" --json
is "$(jqr '"\(.name) \(.autostart)"')" "renamed false" "4.10.1.16.5: ... and the VCM's properties changed"
tenant A vcm setproperties --request-file p2.req --uuid "$UA" --no-restrict-startup --autostart
rc_is 0 "4.10.1.16.5: hsmadmin vcm setproperties --no-restrict-startup --autostart"
tenant A vcm setproperties --request-file p4.req --serial-cardreader
rc_is 0 "4.10.1.16.5: hsmadmin vcm setproperties --request-file <REQUEST_FILE> --serial-cardreader"
for pair in "--restrict-startup --no-restrict-startup" "--autostart --no-autostart" \
	"--serial-cardreader --no-serial-cardreader"; do
	# shellcheck disable=SC2086
	tenant A vcm setproperties --request-file p3.req --uuid "$UA" $pair
	rc_is 2 "4.10.1.16.5: [${pair/ / | }]: not both (exit 2)"
done
ok "4.10.1.16.5: ... and no request written" test ! -e p3.req
va start "$UA"
rc_is 0 "A's VCM started again"

# --- 4.10.1.16.10-13: hsmadmin vcm logs <subcommand> ----------------------------------------
tenant A vcm logs
rc_is 2 "4.10.1.16.10: hsmadmin vcm logs without a subcommand: usage (exit 2)"
tenant A vcm logs --help
for s in export expire getkey; do
	like "$out" "(^|[^a-z-])$s([^a-z-]|$)" "4.10.1.16.10: vcm logs --help lists $s"
done
# 4.10.1.16.13: hsmadmin vcm logs getkey [-h] [--verbose] [--timeout] --uuid <UUID> [--json | --out]
SECTION=4.10.1.16.13
tenant A vcm logs getkey -h
rc_is 0 "4.10.1.16.13: hsmadmin vcm logs getkey -h"
lists --verbose --timeout --uuid --json --out
tenant A vcm logs getkey --verbose --timeout 30 --uuid "$UA" --json
rc_is 0 "4.10.1.16.13: hsmadmin vcm logs getkey --verbose --timeout 30 --uuid <UUID> --json"
like "$(jqr .key)" "^ssh-ed25519 " "4.10.1.16.13: ... the VCM's system log signing key"
key=$(jqr .key)
tenant A vcm logs getkey --verbose --timeout 30 --uuid "$UA" --out vkey.json
rc_is 0 "4.10.1.16.13: hsmadmin vcm logs getkey ... --out <OUTFILE>"
is "$(jq -r .key vkey.json 2>/dev/null)" "$key" "4.10.1.16.13: --out writes the key to OUTFILE"
tenant A vcm logs getkey --uuid "$UA" --json --out vk2.json
rc_is 2 "4.10.1.16.13: [--json | --out]: not both (exit 2)"
tenant A vcm logs --timeout 10 getkey --uuid "$UA" --json
rc_is 0 "4.10.1.16.13: a common option between the command words: hsmadmin vcm logs --timeout 10 getkey"
tenant A --json vcm --verbose logs getkey --uuid "$UA"
rc_is 0 "4.10.1.16.13: ... and before them: hsmadmin --json vcm --verbose logs getkey"
is "$(jqr .key)" "$key" "4.10.1.16.13: ... with the same meaning"
tenant A vcm logs --uuid "$UA" getkey
rc_is 2 "4.10.1.16.13: the subcommand's own --uuid before the subcommand: usage (exit 2)"
like "$err" "vcm logs: usage: a subcommand is needed before '--uuid'" "4.10.1.16.13: ... naming the option"
tenant A vcm --uuid "$UA" logs getkey
like "$err" "vcm: usage: a subcommand is needed before '--uuid'" "4.10.1.16.13: ... also before 'logs'"
# 4.10.1.16.11: hsmadmin vcm logs export [-h] [--verbose] [--timeout] --uuid <UUID> [--saved]
#     [--expire] [--json | --outdir <OUTDIR>]
SECTION=4.10.1.16.11
tenant A vcm logs export -h
rc_is 0 "4.10.1.16.11: hsmadmin vcm logs export -h"
lists --verbose --timeout --uuid --saved --expire --json --outdir
tenant A vcm logs export --verbose --timeout 30 --uuid "$UA" --outdir out
rc_is 0 "4.10.1.16.11: hsmadmin vcm logs export --verbose --timeout 30 --uuid <UUID> --outdir <OUTDIR>"
ok "4.10.1.16.11: ... the signed, validated log written to OUTDIR" test -s "out/vcm-$UA-system-1.log"
tenant A vcm logs export --uuid "$UA" --saved --json
rc_is 0 "4.10.1.16.11: hsmadmin vcm logs export --uuid <UUID> --saved --json"
is "$(jqr .segment)" 1 "4.10.1.16.11: --saved: the previously saved log again"
tenant A vcm logs export --uuid "$UA" --json --outdir out
rc_is 2 "4.10.1.16.11: [--json | --outdir]: not both (exit 2)"
tenant A vcm logs export --uuid "$UA" --outdir no-such-dir
rc_is 2 "4.10.1.16.11: the directory must exist: usage (exit 2)"
# 4.10.1.16.12: hsmadmin vcm logs expire [-h] [--verbose] [--timeout] --uuid <UUID> --seq <SEQ_NO> [--json]
SECTION=4.10.1.16.12
tenant A vcm logs expire -h
rc_is 0 "4.10.1.16.12: hsmadmin vcm logs expire -h"
lists --verbose --timeout --uuid --seq --json
tenant A vcm logs expire --uuid "$UA"
rc_is 2 "4.10.1.16.12: --seq is required: usage (exit 2)"
tenant A vcm logs expire --verbose --timeout 30 --uuid "$UA" --seq 1 --json
rc_is 0 "4.10.1.16.12: hsmadmin vcm logs expire --verbose --timeout 30 --uuid <UUID> --seq 1 --json"
tenant A vcm logs export --uuid "$UA" --saved --json
rc_is 3 "4.10.1.16.12: ... the log is expired (--saved finds none, exit 3)"
tenant A vcm logs export --verbose --timeout 30 --uuid "$UA" --expire --outdir out
rc_is 0 "4.10.1.16.11: hsmadmin vcm logs export ... --expire --outdir <OUTDIR>"
ok "4.10.1.16.11: ... the next log written" test -s "out/vcm-$UA-system-2.log"
tenant A vcm logs expire --uuid "$UA" --seq 2
rc_is 3 "4.10.1.16.11: --expire: it was expired after exporting it (exit 3)"

# --- 4.10.1.16.4: hsmadmin vcm unenroll [-h] [--no-service-restart] [--verbose] uuid ---------------
SECTION=4.10.1.16.4
tenant B vcm unenroll -h
rc_is 0 "4.10.1.16.4: hsmadmin vcm unenroll -h"
lists --no-service-restart --verbose
tenant B vcm unenroll
rc_is 2 "4.10.1.16.4: uuid is required: usage (exit 2)"
tenant B vcm unenroll --no-service-restart --verbose "$UB"
rc_is 0 "4.10.1.16.4: hsmadmin vcm unenroll --no-service-restart --verbose <uuid>"
ok "4.10.1.16.4: ... the VCM's details are removed from the host" test ! -e "tenants/B/tenant/vcms/$UB"
tenant B vcm info --uuid "$UB"
ok "4.10.1.16.4: ... and info no longer knows it" test "$rc" != 0
like "$err" "$UB" "4.10.1.16.4: ... naming it"
tenant A vcm unenroll "$UA"
rc_is 0 "4.10.1.16.4: hsmadmin vcm unenroll <uuid>"

# --- 4.10.1.16.9: hsmadmin vcm single-setup [-h] [--verbose] [--timeout] [--esn] [--json] [--name]
SECTION=4.10.1.16.9
ok "a second HSM, not licensed, enrolled from this host" vcm_hsm h2 "$E2"
run hsmadmin vcm single-setup -h
rc_is 0 "4.10.1.16.9: hsmadmin vcm single-setup -h"
lists --verbose --timeout --esn --json --name
run hsmadmin vcm single-setup --verbose --timeout 30 --esn "$E2" --json --name solo
rc_is 0 "4.10.1.16.9: hsmadmin vcm single-setup --verbose --timeout 30 --esn <ESN> --json --name <NAME>"
US=$(jqr .uuid)
is "$(jqr '"\(.name) \(.enrollment.esn)"')" "solo $E2" "4.10.1.16.9: ... the VCM named NAME on that HSM"
VCM_HSM=h2
is "$(vcm_state "$US")" active "4.10.1.16.9: ... created and started"
run hsmadmin vcm info --uuid "$US" --json
rc_is 0 "4.10.1.16.9: ... and enrolled on this host (vcm info answers)"
run hsmadmin vcm single-setup --esn "$ESN" --esn "$E2"
rc_is 2 "4.10.1.16.9: one --esn: two is a usage error (exit 2)"

done_testing
