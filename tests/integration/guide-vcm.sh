#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Guide conformance, VCM family: the synopsis lines of vcmadmin (guide
# 3.4.1.x) and of hsmadmin vcm (4.10.1.16.x), enquiry (4.3.1.1 and the
# field report) and nopclearfail (overview §11, guide 4.9.3), run as
# written against an emulated HSM, with the guide's field names; UUIDs in
# either case; usage errors that exit 2 naming the word; configuration
# files whose errors name the file and the field.  Each description names
# the guide section.  (vcm logs and vcm key/world are covered by the logs
# and Security World tests.)
. "$top_srcdir/tests/lib/vcm-lib.sh"
vcm_tools_setup
ESN=1A23-BC45-6789
upper() { printf '%s' "$1" | tr a-f A-F; }
enq() { HSMADMIN_HOME="$TEST_TMP/tenants/A" run enquiry "$@"; }
npf() { HSMADMIN_HOME="$TEST_TMP/tenants/A" run nopclearfail "$@"; }
ok "HSM provisioned, started and enrolled" vcm_hsm h "$ESN"
ok "a licence for 3 active VCMs" licence h "$ESN" 3

# --- 4.10.1.16.1: the tenant's create request ---------------------------------------------
tenant A vcm create -h
rc_is 0 "4.10.1.16.1: hsmadmin vcm create [-h]"
tenant A vcm create --verbose --request-file a1.req --request-validity 3600 --autostart \
	--serial-cardreader --features "StandardKM|PostQuantum" --name a1
rc_is 0 "4.10.1.16.1: hsmadmin vcm create --verbose --request-file --request-validity --autostart --serial-cardreader --features --name"
tenant B vcm create --request-file a2.req --restrict-startup --name a2
rc_is 0 "4.10.1.16.1: hsmadmin vcm create --restrict-startup"
tenant A vcm create --request-file a3.req --restrict-startup --autostart --name a3
rc_is 2 "4.10.1.16.1: [--restrict-startup | --autostart]: not both (exit 2)"

# --- 4.10.1.16.6: inspect-request -----------------------------------------------------------
tenant A vcm inspect-request --verify --key-file "$TEST_TMP/tenants/A/keys/tenantreq.pub" a1.req
[ "$rc" = 0 ] || tenant A vcm inspect-request --verify a1.req
rc_is 0 "4.10.1.16.6: hsmadmin vcm inspect-request [--verify] [--key-file] <REQUEST_FILE>"

# --- 3.4.1.1: create ----------------------------------------------------------------------------
va create --request a1.req -h
rc_is 0 "3.4.1.1: vcmadmin create --request REQUESTFILE [-h]"
va create --request a1.req --timeout 30 --esn "$ESN" --verbose --json --serial-cardreader --autostart \
	--features "StandardKM|EllipticCurve|PostQuantum" --outdir cfg a1
rc_is 0 "3.4.1.1: vcmadmin create --request --timeout --esn --verbose --json --serial-cardreader --autostart --features --outdir NAME"
U1=$(jqr .uuid)
ok "3.4.1.1: ... a UUID and the tenant's configuration file" test -n "$U1" -a -f "cfg/vcm-$U1.json"
is "$(jqr '.features | type')" number "3.3.3.4: --json shows the features as the decimal word"
va --esn "$ESN" create --request a2.req --outdir cfg a2
rc_is 0 "3.4.1.1: --esn before the command word"
U2=$(sed -n 's/^Created VCM //p' <<<"$out")
ok "3.4.1.1: ... text names the VCM" test -n "$U2"

# --- 3.4.1.2-3.4.1.5: start, list, show, stop --------------------------------------------------
va start --esn "$ESN" --timeout 30 --verbose --json "$(upper "$U1")"
rc_is 0 "3.4.1.2: vcmadmin start [--esn] [--timeout] [--verbose] [--json] UUID (in upper case)"
tenant B vcm start --request-file s2.req --request-validity 600 --uuid "$(upper "$U2")"
rc_is 0 "4.10.1.16.2: hsmadmin vcm start --request-file --request-validity --uuid (upper case)"
va start --request s2.req "$U2"
rc_is 0 "3.4.1.2: vcmadmin start --request <REQUESTFILE> UUID (restrict-startup)"
va list --esn "$ESN" --timeout 30 --verbose --json --active
rc_is 0 "3.4.1.4: vcmadmin list --esn [--timeout] [--verbose] [--json] [--active]"
is "$(jqr '[.vcms[].uuid] | sort | join(" ")')" "$(printf '%s\n' "$U1" "$U2" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"3.4.1.4: ... both VCMs active"
va list --esn "$ESN"
like "$out" "^HSM $ESN: 2 VCMs listed, 2 active; the HSM allows 3 active and [0-9]+ created$" \
	"3.4.1.4: the header reads as limits, not as a count"
va show --esn "$ESN" --timeout 30 --verbose --json uuid "$U1"
rc_is 0 "3.4.1.5: vcmadmin show --esn [--timeout] [--verbose] [--json] uuid <UUID>"
is "$(jqr .uuid)" "$U1" "3.4.1.5: ... the VCM"
va show "$(upper "$U1")"
rc_is 0 "3.4.1.5: vcmadmin show UUID in upper case"
like "$out" "^FEATURES +: .*StandardKM" "3.3.3.4: FEATURES as names"
unlike "$out" "PostQuantum" "3.3.2: a built-in feature named has no effect (never shown as a bit)"
va show not-a-uuid
rc_is 2 "3.4.1.5: a malformed UUID: usage (exit 2)"
like "$err" "'not-a-uuid' is not a UUID" "... naming the word"
va stats --timeout 30 --esn "$ESN" --uuid "$U1" --json
rc_is 0 "3.4.1.7: vcmadmin stats [--timeout] [--esn] [--uuid] [--json]"
va properties list
rc_is 0 "3.4.1.8.2: vcmadmin properties list"
va properties bogus --help
rc_is 2 "3.4.1.8: --help on an unknown subcommand: usage (exit 2)"
like "$err" "properties: unknown subcommand 'bogus'" "... naming the word"

# --- 4.10.1.16.3: enroll; config file errors name the file and the field ------------------------
jq 'del(.format)' "cfg/vcm-$U1.json" >bad-config.json
tenant A vcm enroll --config bad-config.json
rc_is 2 "4.10.1.16.3: a configuration file without its format: usage (exit 2)"
like "$err" "bad-config\.json: missing field 'format'" "... naming the file and the field"
unlike "$err" "Object item not found" "... not the parser's own words"
jq '.created = "yesterday"' "cfg/vcm-$U1.json" >bad-config.json
tenant A vcm enroll --config bad-config.json
like "$err" "bad-config\.json: field 'created' must be an integer, not a string" \
	"a field of the wrong type: named with what it must be"
jq '.extra = 1' "cfg/vcm-$U1.json" >bad-config.json
tenant A vcm enroll --config bad-config.json
like "$err" "bad-config\.json: unknown field 'extra'" "an unknown field: named"
tenant A vcm enroll --verbose --config "cfg/vcm-$U1.json" --no-service-restart
rc_is 0 "4.10.1.16.3: hsmadmin vcm enroll [--verbose] --config <CONFIG_FILE> [--no-service-restart]"
tenant A vcm enroll --config "cfg/vcm-$U2.json"
rc_is 3 "4.10.1.16.3: one enrolled VCM per HSM per tenant: a second one is refused (exit 3)"
tenant B vcm enroll --config "cfg/vcm-$U2.json"
rc_is 0 "4.10.1.16.3: tenant B enrolls the second VCM"

# --- 4.10.1.16.7-8: info, getenvstats -------------------------------------------------------------
tenant A vcm info --timeout 30 --uuid "$(upper "$U1")" --json
rc_is 0 "4.10.1.16.7: hsmadmin vcm info [--timeout] [--uuid] [--json] (upper-case UUID)"
is "$(jqr '.vcms[0].uuid')" "$U1" "4.10.1.16.7: ... the VCM, in lower case"
tenant A vcm getenvstats --verbose --timeout 30 --uuid "$U1" --json
rc_is 0 "4.10.1.16.8: hsmadmin vcm getenvstats [--verbose] [--timeout] [--uuid] [--json]"
tenant A vcm info --uuid 0B3C5F2E-0000-4000-8000
rc_is 2 "4.10.1.16.7: a malformed --uuid: usage (exit 2)"
like "$err" "--uuid: '0B3C5F2E-0000-4000-8000' is not a UUID" "... naming the option and the word"

# --- 4.3.1.1 and the field report: enquiry ---------------------------------------------------------
enq
rc_is 0 "4.3.1.1: enquiry"
for f in "enquiry reply flags" "enquiry reply level" "serial number" "mode" "version" "speed index" \
	"rec. queue" "level one flags" "version string" "level two flags" "max. write size" \
	"level three flags" "level four flags" "module type code" "product name" "device name" \
	"EnquirySix version" "impath kx groups" "feature ctrl flags" "features enabled" \
	"version serial" "connection status" "connection info" "image version" \
	"max exported modules" "rec. LongJobs queue" "SEE machine type" "supported KML types" \
	"active modes" "physical serial" "hardware part no" "hardware status"; do
	n=$(printf "%s\n" "$out" | grep -c "^ $f ")
	ok "4.3.1.1: enquiry shows '$f'" test "$n" -ge 1
done
like "$out" "module type code +14" "4.3.1.1: module type code 14 (nShield 5s)"
like "$out" "connection info +esn = $ESN; addr = INET/[^;]+; ku hash = [0-9a-f]{40};" \
	"field report: connection info with the ku hash"
like "$out" "physical serial +VCM-[0-9a-f]{8}" "4.3.1.1: physical serial (the module's psn)"
enq --help
rc_is 0 "enquiry --help"
like "$out" "^usage: enquiry \[-h\]" "enquiry's usage line names the tool once"
unlike "$out" "enquiry enquiry" "... never 'enquiry enquiry'"
enq bogus
rc_is 2 "enquiry with an unexpected word: usage (exit 2)"
like "$err" "bogus" "... naming it"

# --- overview §11 and 4.9.3: nopclearfail --------------------------------------------------------
enq --json
mod=$(jqr '.modules[] | select(.uuid == "'"$U1"'") | .module')
ok "enquiry numbers the VCM" test -n "$mod"
npf -m"$mod" -r
rc_is 0 "overview §11: nopclearfail -m1 -r"
npf -m"$mod" -M
rc_is 0 "overview §11: nopclearfail -m1 -M"
npf -m"$mod" -c
rc_is 0 "overview §11: nopclearfail -m1 -c"
npf --clear --all
rc_is 0 "4.9.3: nopclearfail --clear --all, from operational mode"
enq --json
is "$(jqr '[.modules[] | select(.kind != "hsm") | .enquiry.mode] | unique | join(" ")')" operational \
	"4.9.3: ... every module cleared and operational"

# --- 3.4.1.3: stop and start keep the module's mode --------------------------------------------------
npf -m"$mod" -M -w
rc_is 0 "the tenant puts the module into maintenance mode for the stop"
va stop --esn "$ESN" --timeout 30 --verbose --json "$U1"
rc_is 0 "3.4.1.3: vcmadmin stop [--esn] [--timeout] [--verbose] [--json] UUID"
va start "$U1"
rc_is 0 "3.4.1.2: start it again"
npf -m"$mod" -r
enq --json
is "$(jqr '.modules[] | select(.uuid == "'"$U1"'") | .enquiry.mode')" operational \
	"3.4.1.3: after stop and start the module is back in the mode it served in"
va stop --force "$U2"
rc_is 0 "3.4.1.3: vcmadmin stop --force UUID"

# --- 3.1.3.5.1: getenvstats mem_used counts the VCMs ---------------------------------------------
run hsmadmin getenvstats --esn "$ESN" --json
used=$(jqr '.modules[0].result.mem_used')
va stats --esn "$ESN" --json
ok "3.1.3.5.1: mem_used ($used kB) is at least a running VCM's memory" \
	test "${used:-0}" -ge "$(jqr "[.vcms[] | .memory_kb // 0] | max")"

# --- 3.4.1.6 and 4.10.1.16.4: delete, unenroll ----------------------------------------------------
va delete --esn "$ESN" --timeout 30 --verbose --json --force "$(upper "$U2")"
rc_is 0 "3.4.1.6: vcmadmin delete [--esn] [--timeout] [--verbose] [--json] [--force] UUID"
tenant B vcm unenroll --no-service-restart --verbose "$(upper "$U2")"
rc_is 0 "4.10.1.16.4: hsmadmin vcm unenroll [--no-service-restart] [--verbose] uuid (upper case)"

# --- vcmadmin create on a host with several HSMs ---------------------------------------------------
for n in 2 3 4; do
	hsm_new "h$n" "1A23-BC45-000$n" >/dev/null
done
tenant A vcm create --request-file a4.req --name a4
va create --request a4.req --outdir cfg a4
rc_is 2 "3.4.1.1: create without --esn on a host with four HSMs: usage (exit 2)"
like "$err" "--esn: needed: this host knows 4 HSMs" "... says how many HSMs there are and what to do"
unlike "$err" "0 HSMs" "... never '0 HSMs are known'"

# --- help: the guide's other spelling is a form of the command, not a command --------------
run vcmadmin show --help
like "$out" "Also written: vcmadmin show uuid" "3.4.1.5: vcmadmin show --help names the form 'show uuid UUID'"
run vcmadmin show uuid --help
is "$rc" 0 "3.4.1.5: vcmadmin show uuid --help"

done_testing
