#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Guide conformance, logs family: every command line of guide 4.10.1.8
# (hsmadmin logs <subcommand>: get, clear, export, expire, getkey) and of
# 4.12.3 (the init log) run as written against emulated HSMs, each checked
# for its documented meaning; [--json | --out] and [--json | --outdir]
# refused together; usage errors that name the word and exit 2.  Each
# description names the guide section.  (The signed log's own rules are
# tested in logs-signed.sh.)
. "$top_srcdir/tests/lib/platform-lib.sh"
need_plugins logs nopclearfail
ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/nopclearfail"
platform_setup
cd "$TEST_TMP" || exit 1
ESN=1A23-BC45-6789
E2=9Z87-YX65-4321
npf() { run nopclearfail "$@"; }

ok "HSM $ESN provisioned and started" hsm_new h "$ESN"
ok "HSM $E2 provisioned and started" hsm_new h2 "$E2"
ha enroll --secret-file "$(secrets)"
rc_is 0 "both HSMs enrolled"
mkdir -p out

# --- 4.10.1.8: hsmadmin logs <subcommand> ------------------------------------------------
ha logs
rc_is 2 "4.10.1.8: hsmadmin logs without a subcommand: usage (exit 2)"
ha logs --help
rc_is 0 "4.10.1.8: hsmadmin logs --help"
for s in get clear export expire getkey; do
	like "$out" "(^|[^a-z-])$s([^a-z-]|$)" "4.10.1.8: logs --help lists $s"
done
ha logs bogus
rc_is 2 "4.10.1.8: an unknown logs subcommand: usage (exit 2)"
like "$err" "unknown subcommand 'bogus'" "4.10.1.8: ... naming the word"
ha logs bogus --help
rc_is 2 "4.10.1.8: --help on an unknown logs subcommand: usage (exit 2)"

# --- 4.10.1.8.1: hsmadmin logs get [-h] [--verbose] [--timeout <TIMEOUT>] --esn <ESN> --log <LOG>
#     [--json | --out <OUTFILE>]
ha logs get -h
rc_is 0 "4.10.1.8.1: hsmadmin logs get -h"
for o in --verbose --timeout --esn --log --json --out; do
	like "$out" "^  (-[a-z], )?$o( |$)" "4.10.1.8.1: logs get -h lists $o"
done
ha logs get --verbose --timeout 30 --esn "$ESN" --log system --json
rc_is 0 "4.10.1.8.1: hsmadmin logs get --verbose --timeout 30 --esn <ESN> --log system --json"
is "$(jqr '[.modules[].esn] | join(" ")')" "$ESN" "4.10.1.8.1: ... the log of that HSM"
is "$(jqr '.modules[0].result.entries[0].event')" log_open "4.10.1.8.1: ... its system log, from the start"
ha logs get --verbose --timeout 30 --esn "$ESN" --log system --out get-system.log
rc_is 0 "4.10.1.8.1: hsmadmin logs get ... --out <OUTFILE>"
ok "4.10.1.8.1: --out writes the log to OUTFILE" grep -q 'log_open' get-system.log
is "$out" "" "4.10.1.8.1: ... and prints nothing of it"
ha logs get --esn "$ESN" --log system
rc_is 0 "4.10.1.8.1: hsmadmin logs get --esn <ESN> --log system (text)"
like "$out" "log_open" "4.10.1.8.1: ... prints the entries"
ha logs get --esn "$ESN" --log system --json --out x.log
rc_is 2 "4.10.1.8.1: [--json | --out]: not both (exit 2)"
like "$err" "--json or --out" "4.10.1.8.1: ... naming both"
ok "4.10.1.8.1: ... and nothing written" test ! -e x.log
ha logs get --esn "$ESN"
rc_is 2 "4.10.1.8.1: --log is required: usage (exit 2)"
like "$err" "--log" "4.10.1.8.1: ... naming --log"
ha logs get --esn "$ESN" --log audit
rc_is 2 "4.10.1.8.1: --log audit (options are system, init): usage (exit 2)"
like "$err" "'audit' is not a log" "4.10.1.8.1: ... naming the word"
ha logs get --esn "$ESN" --esn "$E2" --log system
rc_is 2 "4.10.1.8.1: only one ESN can be used: two --esn is a usage error (exit 2)"
like "$err" "--esn" "4.10.1.8.1: ... naming --esn"
ha logs get --log system
rc_is 2 "4.10.1.8.1: --esn is required when the host knows two HSMs (exit 2)"
ha logs get --timeout 2 --esn "$ESN" --log system
rc_is 2 "4.10.1.8.1: --timeout 2 (minimum 3s): usage (exit 2)"
ha logs get --timeout 121 --esn "$ESN" --log system
rc_is 2 "4.10.1.8.1: --timeout 121 (maximum 120s): usage (exit 2)"
ha --esn "$ESN" logs get --log system --json
rc_is 0 "4.10.1.8.1: the common options before the command words"
is "$(jqr '[.modules[].esn] | join(" ")')" "$ESN" "4.10.1.8.1: ... with the same meaning"
ha logs --esn "$E2" --timeout 10 get --log system --json
rc_is 0 "4.10.1.8.1: ... between them: hsmadmin logs --esn E --timeout 10 get --log system"
is "$(jqr '[.modules[].esn] | join(" ")')" "$E2" "4.10.1.8.1: ... with the same meaning"
ha logs --log system get --esn "$ESN"
rc_is 2 "4.10.1.8.1: the subcommand's own --log before the subcommand: usage (exit 2)"
like "$err" "logs: usage: a subcommand is needed before '--log'" "4.10.1.8.1: ... naming the option"

# --- 4.12.3.1: hsmadmin logs get --esn <ESN> --log init [--json | --out <OUTFILE>] -------------
ha logs get --esn "$ESN" --log init --out init.log
rc_is 0 "4.12.3.1: hsmadmin logs get --esn <ESN> --log init --out <OUTFILE>"
ok "4.12.3.1: ... the init log records the boot" grep -q ' boot ' init.log
ha logs get --esn "$ESN" --log init --json
rc_is 0 "4.12.3.1: hsmadmin logs get --esn <ESN> --log init --json"
is "$(jqr '.modules[0].result.entries[0].event')" boot "4.12.3.1: ... the init log begins with the boot"

# --- 4.10.1.8.5: hsmadmin logs getkey [-h] [--verbose] [--timeout] [--esn] [--json | --out] ----
ha logs getkey -h
rc_is 0 "4.10.1.8.5: hsmadmin logs getkey -h"
ha logs getkey --verbose --timeout 30 --esn "$ESN" --json
rc_is 0 "4.10.1.8.5: hsmadmin logs getkey --verbose --timeout 30 --esn <ESN> --json"
like "$(jqr .key)" "^ssh-ed25519 " "4.10.1.8.5: ... the system log signing key"
key=$(jqr .key)
ha logs getkey --verbose --timeout 30 --esn "$ESN" --out key.json
rc_is 0 "4.10.1.8.5: hsmadmin logs getkey ... --out <OUTFILE>"
is "$(jq -r .key key.json 2>/dev/null)" "$key" "4.10.1.8.5: --out writes the key to OUTFILE"
ha logs getkey --esn "$ESN"
rc_is 0 "4.10.1.8.5: hsmadmin logs getkey --esn <ESN>"
is "$out" "$key" "4.10.1.8.5: ... prints the key"
ha logs getkey --esn "$ESN" --json --out k2.json
rc_is 2 "4.10.1.8.5: [--json | --out]: not both (exit 2)"
ok "4.10.1.8.5: ... and nothing written" test ! -e k2.json
ha logs getkey --esn "$E2"
ok "4.10.1.8.5: each HSM has its own key" test "$rc" = 0 -a -n "$out" -a "$out" != "$key"

# --- 4.10.1.8.3: hsmadmin logs export [-h] [--verbose] [--timeout] [--esn] [--saved] [--expire]
#     [--json | --outdir <OUTDIR>]
npf -M --esn "$ESN" -w
rc_is 0 "maintenance mode (nopclearfail -M --esn <ESN> -w)"
ha logs export -h
rc_is 0 "4.10.1.8.3: hsmadmin logs export -h"
for o in --verbose --timeout --esn --saved --expire --json --outdir; do
	like "$out" "^  (-[a-z], )?$o( |$)" "4.10.1.8.3: logs export -h lists $o"
done
ha logs export --esn "$ESN" --outdir no-such-dir
rc_is 2 "4.10.1.8.3: the directory must exist: usage (exit 2)"
like "$err" "no-such-dir" "4.10.1.8.3: ... naming it"
ha logs export --verbose --timeout 30 --esn "$ESN" --outdir out
rc_is 0 "4.10.1.8.3: hsmadmin logs export --verbose --timeout 30 --esn <ESN> --outdir <OUTDIR>"
f1=out/$ESN-system-1.log
ok "4.10.1.8.3: ... writes the signed, validated log to OUTDIR" test -s "$f1"
ha logs export --esn "$ESN" --saved --json
rc_is 0 "4.10.1.8.3: hsmadmin logs export --esn <ESN> --saved --json (re-export a saved log)"
is "$(jqr .segment)" 1 "4.10.1.8.3: --saved: the previously saved log again"
is "$(jqr .verified)" true "4.10.1.8.3: --json: the metadata says it was validated"
ha logs export --esn "$ESN" --json --outdir out
rc_is 2 "4.10.1.8.3: [--json | --outdir]: not both (exit 2)"
# --- 4.10.1.8.4: hsmadmin logs expire [-h] [--verbose] [--timeout] [--esn] --seq <SEQ_NO> [--json]
ha logs expire -h
rc_is 0 "4.10.1.8.4: hsmadmin logs expire -h"
ha logs expire --esn "$ESN"
rc_is 2 "4.10.1.8.4: --seq is required: usage (exit 2)"
like "$err" "--seq" "4.10.1.8.4: ... naming --seq"
ha logs expire --esn "$ESN" --seq 0
rc_is 2 "4.10.1.8.4: --seq 0 is not a sequence number: usage (exit 2)"
ha logs expire --esn "$ESN" --seq 99
rc_is 3 "4.10.1.8.4: a log that was never exported cannot be expired (exit 3)"
ha logs expire --verbose --timeout 30 --esn "$ESN" --seq 1 --json
rc_is 0 "4.10.1.8.4: hsmadmin logs expire --verbose --timeout 30 --esn <ESN> --seq 1 --json"
ok "4.10.1.8.4: --json gives JSON" sh -c 'printf "%s" "$1" | jq -e . >/dev/null' _ "$out"
ha logs export --esn "$ESN" --saved --seq 1 --outdir out
rc_is 3 "4.10.1.8.4: ... the log is expired (--saved no longer finds it, exit 3)"

# --- 4.10.1.8.3 again: --expire ------------------------------------------------------------
ha logs export --verbose --timeout 30 --esn "$ESN" --expire --outdir out
rc_is 0 "4.10.1.8.3: hsmadmin logs export ... --expire --outdir <OUTDIR>"
ok "4.10.1.8.3: ... the next log written" test -s "out/$ESN-system-2.log"
like "$err" "--expire is not recommended" "4.10.1.8.3: ... with a warning"
ha logs export --esn "$ESN" --saved --seq 2 --outdir out
rc_is 3 "4.10.1.8.3: --expire: the log was expired after exporting it (--saved refused, exit 3)"
ha logs export --esn "$ESN" --json
rc_is 0 "4.10.1.8.3: hsmadmin logs export --esn <ESN> --json (the next log, printed)"
is "$(jqr .segment)" 3 "4.10.1.8.3: ... segment 3"

# --- 4.10.1.8.2 and 4.12.3.2: hsmadmin logs clear [-h] [--verbose] [--timeout] [--esn <ESN>
#     --log <LOG> [--json]
ha logs clear -h
rc_is 0 "4.10.1.8.2: hsmadmin logs clear -h"
npf -M --esn "$E2" -w
rc_is 0 "4.12.3.2: the units in maintenance mode (nopclearfail -M -w)"
ha logs clear --esn "$ESN" --esn "$E2" --log init
rc_is 3 "4.12.3.2: hsmadmin logs clear --esn E1 --esn E2 --log init: refused outside recovery mode (exit 3, the rule the guide gives from v13.7)"
like "$err" "$ESN.*recovery mode" "4.12.3.2: ... the first HSM says it needs recovery mode"
like "$err" "$E2.*recovery mode" "4.12.3.2: ... and the second"
ha logs clear --esn "$ESN" --log system --json
rc_is 3 "4.10.1.8.2: the system log (v13.5 on) is not cleared by clear (exit 3)"
like "$(jqr '.modules[0].error.message')" "export and expire" "4.10.1.8.2: ... --json says to export and expire it"
ha logs clear --esn "$ESN"
rc_is 2 "4.10.1.8.2: --log is required: usage (exit 2)"
ha logs clear --esn "$ESN" --log audit
rc_is 2 "4.10.1.8.2: --log audit: usage (exit 2)"
# recovery mode (guide 4.12.3.2: from v13.7 the init log is cleared only there)
enter_recovery h h2
ha logs clear --verbose --timeout 30 --esn "$ESN" --esn "$E2" --log init --json
rc_is 0 "4.10.1.8.2: hsmadmin logs clear --verbose --timeout 30 --esn E1 --esn E2 --log init --json (recovery mode)"
is "$(jqr '[.modules[] | "\(.esn):\(.result.cleared)"] | sort | join(" ")')" "$ESN:true $E2:true" \
	"4.10.1.8.2: ... cleared on both HSMs"
ha logs clear --log init --json
rc_is 0 "4.10.1.8.2: without --esn the logs of all connected HSMs are cleared"
is "$(jqr '[.modules[] | select(.result.cleared) | .esn] | sort | join(" ")')" "$ESN $E2" \
	"4.10.1.8.2: ... both HSMs"

done_testing
