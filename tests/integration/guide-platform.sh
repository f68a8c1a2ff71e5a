#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Guide conformance, platform family: the synopsis lines of guide 4.10.1
# (hsmadmin, factorystate, status, reset, enroll, keys, info, settime,
# gettime, setminvsn, getenvstats, cs5, select, fet, setnetwork) and the
# overview's examples, run as written against emulated HSMs, with the
# guide's field names; common options before or after the command words;
# usage errors that name the word and exit 2; help that lists only what
# the parser accepts.  Each description names the guide section.
# (npkginfo/upgrade and logs are covered with the firmware and logs tests.)
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins enquiry nopclearfail keys fet setnetwork
for t in enquiry nopclearfail; do ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/$t"; done
vcm_setup
cd "$TEST_TMP" || exit 1
ESN=1A23-BC45-6789
E2=9Z87-YX65-4321
ha() { run hsmadmin "$@"; }
npf() { run nopclearfail "$@"; }

# --- 4.10.1: the tool and its own options ----------------------------------------------
ha --no-reset
rc_is 2 "4.10.1: hsmadmin --no-reset without a command: usage (exit 2)"
like "$err" "--no-reset needs a command" "4.10.1: ... the option is known, the command is missing"
unlike "$err" "unknown option" "4.10.1: --no-reset is not an unknown option"
ha -v
rc_is 0 "4.10.1: hsmadmin -v"
like "$out" "^hsmadmin [0-9]" "4.10.1: ... the version"
ha status -v
rc_is 0 "4.10.1: hsmadmin <subcommand> -v, as the synopsis writes it (hsmadmin status -v)"
like "$out" "^hsmadmin [0-9]" "4.10.1: ... the version"
ha --no-reset settime -v
like "$out" "^hsmadmin [0-9]" "4.10.1: hsmadmin --no-reset settime -v: the version, nothing set"
ha vcm create --name -v --request-file x.req
unlike "$out" "^hsmadmin [0-9]" "... but -v as an option's value is that value"
ha -h
rc_is 0 "4.10.1: hsmadmin -h"
for c in factorystate status reset enroll keys info settime gettime setminvsn getenvstats cs5 select \
	vcm fet setnetwork; do
	like "$out" "(^|[ ,])$c(,|$)" "4.10.1: hsmadmin -h lists $c"
done

# --- 4.10.1.6: enroll --------------------------------------------------------------------
ok "HSM $ESN provisioned and started" hsm_new h "$ESN"
ok "HSM $E2 provisioned and started" hsm_new h2 "$E2"
# (plus the one-time enrollment secrets the factory-state HSMs printed)
ha enroll --timeout 30 --verbose --secret-file "$(secrets)"
rc_is 0 "4.10.1.6: hsmadmin enroll [--timeout <TIMEOUT>] [--verbose]"
like "$out" "$ESN: enrolled" "4.10.1.6: ... enrolls the first HSM"
like "$out" "$E2: enrolled" "4.10.1.6: ... and the second"

# --- 4.10.1.2: status, and the common options anywhere --------------------------------
ha status --esn "$ESN" --esn "$E2" --timeout 30 --verbose --json
rc_is 0 "4.10.1.2: hsmadmin status --esn E1 --esn E2 --timeout --verbose --json"
is "$(jqr '[.modules[].esn] | sort | join(" ")')" "$ESN $E2" "4.10.1.2: ... both HSMs"
is "$(jqr '.modules[0].result.firmware | has("primary") and has("recovery") and has("uboot")')" true \
	"4.10.1.2: --json shows primary, recovery and uboot versions"
ha --esn "$ESN" --timeout 10 status --json
rc_is 0 "common options before the command word: hsmadmin --esn E --timeout 10 status --json"
is "$(jqr '[.modules[].esn] | join(" ")')" "$ESN" "... --esn has the same meaning there"
ha --json status --esn "$E2"
is "$(jqr '[.modules[].esn] | join(" ")')" "$E2" "... --json before, --esn after"
ha --timeout 2 status
rc_is 2 "--timeout out of range before the command word: usage (exit 2)"
like "$err" "--timeout: 2 is out of range \(3\.\.120\)" "... naming the option and the range"
ha keys --timeout 10 show
rc_is 0 "4.10.1.7: hsmadmin keys [--timeout <TIMEOUT>] <subcommand> (keys --timeout 10 show)"
ha keys show --json --verbose
rc_is 0 "4.10.1.7.1: hsmadmin keys show [--json] [--verbose]"

# --- 4.10.1.9 and 4.9.6: info --------------------------------------------------------------
ha info --timeout 30 --esn "$ESN" --verbose --json
rc_is 0 "4.10.1.9: hsmadmin info [--timeout] [--esn] [--verbose] [--json]"
is "$(jqr '.modules[0].result.dbid')" HSMD-EMU-01 "4.9.6: info shows dbid"
ha info --esn "$ESN"
like "$out" "^  dbid: +HSMD-EMU-01$" "4.9.6: dbid in the text output"
like "$out" "^  psn: +EMU-" "4.9.6: psn"
like "$out" "^  mfgtime: +[0-9]{4}-" "4.9.6: mfgtime"

# --- 4.10.1.11: gettime ------------------------------------------------------------------
ha gettime --timeout 30 --esn "$ESN" --verbose --json
rc_is 0 "4.10.1.11: hsmadmin gettime [--timeout] [--esn] [--verbose] [--json]"
ok "4.10.1.11: ... a time" test "$(jqr '.modules[0].result.time | type')" = number

# --- 4.10.1.13 and 3.1.3.5.1: getenvstats ------------------------------------------------
ha getenvstats --timeout 30 --esn "$ESN" --verbose --json
rc_is 0 "4.10.1.13: hsmadmin getenvstats [--timeout] [--esn] [--verbose] [--json]"
is "$(envstats_missing "$(jqr '.modules[0].result')")" "" "4.10.1.13 and 3.1.3.5.1: every field of the guide's list, and mem_used"
used=$(jqr '.modules[0].result.mem_used')
total=$(jqr '.modules[0].result.mem_total')
ok "3.1.3.5.1: mem_used ($used kB) is the HSM's memory in use: above 0, below mem_total" \
	test "${used:-0}" -gt 0 -a "${used:-0}" -lt "${total:-0}"
ha getenvstats --esn "$ESN"
like "$out" "^  mem_used: +[0-9]+$" "3.1.3.5.1: mem_used in the text output"

# --- 4.10.1.14: cs5 ---------------------------------------------------------------------------
ha cs5 stats --timeout 30 -u 4f9d05b8-95f4-41ab-8b0a-0c9c7ce14209 --esn "$ESN" --json
rc_is 3 "4.10.1.14.1: hsmadmin cs5 stats [--timeout] [-u UUID] [--esn] [--json]: refused (exit 3)"
is "$(jqr '.message')" "CodeSafe 5 is not supported in multi-tenant systems" \
	"4.10.1.14: the guide's answer on a multi-tenant system"
ha cs5 stats
rc_is 3 "4.10.1.14.1: hsmadmin cs5 stats"
like "$err" "CodeSafe 5 is not supported in multi-tenant systems" "4.10.1.14: ... says so on stderr"
ha cs5
rc_is 2 "4.10.1.14: hsmadmin cs5 <subcommand> without one: usage"

# --- 4.10.1.15: select ------------------------------------------------------------------------
ha select acceleration --show --esn "$ESN" --json --timeout 30
rc_is 0 "4.10.1.15.1: hsmadmin select acceleration --show (with --esn --json --timeout)"
ha --esn "$ESN" select acceleration --show
rc_is 0 "4.10.1.15: hsmadmin select <option> with --esn before the words"
ha select bogus --help
rc_is 2 "--help on an unknown subcommand: usage (exit 2)"
like "$err" "unknown subcommand 'bogus'" "... naming the word"

# --- 4.2.4 and 4.10.1.10: settime ----------------------------------------------------------
ha settime adjust --esn "$ESN"
rc_is 0 "4.2.4: hsmadmin settime adjust"
like "$out" "^$ESN: HSM system time calibration in progress$" "4.2.4: ... answers the guide's message"
ha settime --adjust --timeout 30 --esn "$ESN" --verbose
rc_is 0 "4.10.1.10: hsmadmin settime --adjust [--timeout] [--esn] [--verbose]"
npf -M --esn "$ESN" -w
rc_is 0 "4.10.1.10: maintenance mode (nopclearfail -M --esn ESN -w)"
ha --no-reset settime --esn "$ESN"
rc_is 0 "4.10.1: hsmadmin --no-reset settime: sets the time"
like "$out" "not reset \(--no-reset\)" "4.10.1: ... and says the HSM was not reset"
ha status --esn "$ESN" --json
is "$(jqr '.modules[0].result.mode')" maintenance "4.10.1: --no-reset: no reset, still in maintenance mode"
ha settime adjust --no-reset --esn "$ESN"
rc_is 2 "settime adjust takes no --no-reset: usage"
like "$err" "unknown option '--no-reset'" "... naming the option"
# The clock set an hour ahead by another host: settime must name that time.
host_keys_for_ssh
hsmd_known_hosts h
ahead=$(( $(date +%s) + 3600 ))
call h setup settime setup "{\"time\":$ahead}"
is "$rc" 0 "the clock set an hour ahead with the stock ssh client"
npf -M --esn "$ESN" -w
ha settime --esn "$ESN"
rc_is 3 "4.2.4.1: settime earlier than the last time set: refused (exit 3)"
like "$err" "last time set \(($ahead|$((ahead + 1)))\)" "4.2.4.1: ... naming the last time set, not 0"
ha settime --adjust --no-reset --esn "$ESN"
rc_is 2 "settime --adjust --no-reset: usage (they cannot be used together)"

# --- 4.10.1.12: setminvsn ------------------------------------------------------------------
ha info --esn "$ESN" --json
vsn=$(jqr '.modules[0].result.min_vsn')
npf -M --esn "$ESN" -w
ha setminvsn --timeout 30 --esn "$ESN" --verbose --json "$vsn"
rc_is 0 "4.10.1.12: hsmadmin setminvsn [--timeout] [--esn] [--verbose] [--json] <VSN>"

# --- 4.10.1.17: fet -------------------------------------------------------------------------
"$VENDOR" licence --key "$TEST_TMP/lic.key" --esn "$ESN" --max-active-vcms 1 --out lic1 >/dev/null
ha fet --timeout 30 --verbose --esn "$ESN" --json lic1
rc_is 0 "4.10.1.17: hsmadmin fet [--timeout] [--verbose] [--esn] [--json] <FILENAME>"

# --- 4.10.1.18 and overview §9: setnetwork ----------------------------------------------------
ha setnetwork --esn "$E2" ipv4static --address 192.168.0.11/24 --gateway 192.168.0.10
rc_is 0 "overview: hsmadmin setnetwork --esn E ipv4static --address 192.168.0.11/24 --gateway ..."
ha setnetwork ipv6static --address fd00::11/64 --gateway fd00::10 --esn "$E2"
rc_is 0 "4.10.1.18.3: hsmadmin setnetwork ipv6static --address <ADDRESS> --gateway <GATEWAY>"
ha setnetwork default -h
rc_is 0 "4.10.1.18.1: hsmadmin setnetwork default [-h]"
ha --esn "$E2" setnetwork default
rc_is 0 "4.10.1.18.1: hsmadmin setnetwork default"
ha setnetwork ipv4static --address 192.168.0.300/24 --gateway 192.168.0.10 --esn "$E2"
rc_is 2 "4.10.1.18.2: a malformed address: usage (exit 2)"
like "$err" "--address" "... naming the option"
ha setnetwork bogus
rc_is 2 "4.10.1.18: an unknown subcommand: usage (exit 2)"
like "$err" "setnetwork: unknown subcommand 'bogus'" "... naming the word"

# --- 4.10.1.5: reset names the autostart VCMs it started and skipped ---------------------
tenant A vcm create --request-file a1.req --autostart --name a1
tenant A vcm create --request-file a2.req --autostart --name a2
va create --request a1.req --esn "$ESN" --autostart --outdir cfg a1 --json
U1=$(jqr .uuid)
va create --request a2.req --esn "$ESN" --autostart --outdir cfg a2 --json
U2=$(jqr .uuid)
ok "two autostart VCMs created on $ESN (the licence allows 1 active)" test -n "$U1" -a -n "$U2"
npf -M --esn "$ESN" -w
ha reset --esn "$ESN"
rc_is 0 "4.10.1.5: hsmadmin reset [-h] [--esn <ESN>]"
like "$out" "$ESN: autostart VCM ($U1|$U2) started" "4.10.1.5: reset names the autostart VCM it started"
like "$out" "$ESN: autostart VCM ($U1|$U2) not started: licence limit" \
	"4.10.1.5: ... and the one it skipped, with the reason"
ha reset --esn "$ESN" --json
is "$(jqr '.modules[0].result.autostart_not_started | length')" 1 "4.10.1.5: --json lists it too"

# --- 4.10.1.1: factorystate ---------------------------------------------------------------
npf -M --esn "$E2" -w
ha factorystate --timeout 30 --esn "$E2" --verbose
rc_is 0 "4.10.1.1: hsmadmin factorystate [--timeout] [--esn <ESN>] [--verbose]"

# --- usage errors name the word and exit 2 ------------------------------------------------
ha bogus
rc_is 2 "an unknown command: exit 2"
like "$err" "unknown command 'bogus'" "... naming it"
ha bogus --help
rc_is 2 "--help on an unknown command: exit 2"
ha status --esn not-an-esn
rc_is 2 "a malformed --esn: exit 2"
like "$err" "'not-an-esn' is not an ESN" "... naming it"
ha keys restore --esn "$ESN" backup.file
rc_is 2 "keys restore takes no --esn: usage (exit 2)"
like "$err" "unknown option '--esn'" "... naming the option"
ha keys restore --help
unlike "$out" "--esn" "4.10.1.7.5: keys restore --help does not list --esn"
like "$out" "--timeout" "... but --timeout, which it accepts"

# --- help lists each accepted option once, -h once ------------------------------------------
ha completion bash
cmds=$(printf '%s\n' "$out" | sed -n "s/^  'hsmadmin|\([^|]*\)|\([^|']*\).*'$/\1|\2/p" | grep -v '^completion ')
bad=""
while IFS='|' read -r path opts; do
	[ -n "$path" ] || continue
	# shellcheck disable=SC2086
	help=$(hsmadmin $path --help 2>&1)
	[ "$(printf '%s\n' "$help" | grep -c '^  -h, --help ')" = 1 ] || bad="$bad [$path: -h]"
	for o in $opts; do
		[ "$o" = --help ] && continue
		n=$(printf '%s\n' "$help" | grep -cE "^  (-[a-zA-Z], )?$o( |$)")
		[ "$n" = 1 ] || bad="$bad [$path: $o x$n]"
	done
done <<EOF
$cmds
EOF
is "$bad" "" "every command's --help lists -h and each option it accepts exactly once"
ha settime --help
like "$out" "Also written: hsmadmin settime adjust" "4.2.4: settime --help names the guide's form 'settime adjust'"
ha --help
is "$(printf '%s\n' "$out" | grep -o 'settime[a-z ]*' | sort -u | tr '\n' '|')" "settime|" \
	"4.2.4: hsmadmin --help lists settime once"
ok "... checked more than 20 commands" test "$(printf '%s\n' "$cmds" | grep -c .)" -gt 20

# --- configuration files: errors name the file and the field ---------------------------------
printf '[module]\nesn = %s\naddress = 127.0.0.1\nbogus = 1\n' "$E2" >"$HSMADMIN_CONF/modules.d/zz-bad.conf"
ha status --esn "$ESN"
like "$err" "modules\.d/zz-bad\.conf: .*bogus" "a modules.d file with an unknown field: names the file and the field"
rm -f "$HSMADMIN_CONF/modules.d/zz-bad.conf"

done_testing
