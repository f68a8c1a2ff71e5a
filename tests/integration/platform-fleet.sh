#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Several HSMs side by side: one command fans out to all of them in
# parallel, one block per HSM (--json: in ESN order), --esn selects, one bad modules.d file or
# one unreachable HSM does not stop the others; the common option rules.
. "$top_srcdir/tests/lib/platform-lib.sh"
platform_setup

# --- no HSMs, bad options ------------------------------------------------------
ha status
is "$rc" 1 "no HSM known: exit 1"
like "$err" "modules.d has no usable HSM file" "... says where HSMs are configured"
ha status --timeout 2
is "$rc" 2 "--timeout 2: usage error"
ha status --timeout 121
is "$rc" 2 "--timeout 121: usage error"
ha status --timeout x
is "$rc" 2 "--timeout x: usage error"

# Two HSMs; the second ESN sorts first.
E1=9Z87-YX65-4321
E2=1A23-BC45-6789
hsm_new b "$E1"
hsm_new a "$E2"
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "one enroll enrolls both"
is "$(printf '%s\n' "$out" | grep -c ': enrolled;')" 2 "... one line each"
is "$(ls "$HSMADMIN_HOME/pins" | sort | tr '\n' ' ')" "$E2.json $E1.json " "... both pinned"
ha status --json
is "$rc" 0 "status on both"
is "$(printf '%s' "$out" | jq -r '[.modules[].esn] | join(" ")')" "$E2 $E1" "--json: sorted by ESN"
ha status
# Text comes in the order of the answers (platform-fanout.sh).
is "$(printf '%s\n' "$out" | grep '^HSM ' | cut -d' ' -f2 | sort | tr '\n' ' ')" "$E2 $E1 " \
	"text: one block per HSM"
ha gettime --esn "$E1"
is "$rc" 0 "--esn selects one HSM"
is "$(printf '%s\n' "$out" | cut -d: -f1)" "$E1" "... and only that one"
ha gettime --esn "$(printf '%s' "$E1" | tr 'A-Z' 'a-z')" --esn "$E1"
is "$(printf '%s\n' "$out" | wc -l)" 1 "--esn in lower case and repeated: the HSM once"
ha status --esn 5555-5555-5555
is "$rc" 2 "--esn of an unknown HSM: usage error"
like "$err" "^hsmadmin: status: --esn: 5555-5555-5555 is not a known HSM" "... naming it"
ha status --esn bogus
is "$rc" 2 "--esn that is not an ESN: usage error"
ha logs get --log system
is "$rc" 2 "logs get with two HSMs and no --esn: usage error"
like "$err" "exactly one --esn" "... says so"
ha logs get --log system --esn "$E1" --esn "$E2"
is "$rc" 2 "logs get with two --esn: usage error"
ha logs get --log system --esn "$E1"
is "$rc" 0 "logs get --esn"

# --- a broken modules.d file: named with its line, that HSM skipped -------------
printf '[module]\nesn = 7777-7777-7777\naddress = 127.0.0.9\nport = 22\n' >"$HSMADMIN_CONF/modules.d/broken.conf"
ha status
is "$rc" 2 "a broken modules.d file: exit 2"
like "$err" "modules.d/broken.conf: line 4: unknown key 'port' in \[module\] \(this HSM is skipped\)" \
	"... one line naming file and line"
is "$(printf '%s\n' "$out" | grep -c '^HSM ')" 2 "... the other HSMs still answer"
ha status --json
is "$(printf '%s' "$out" | jq -r '.config_errors[0].error')" "line 4: unknown key 'port' in [module]" \
	"--json: config_errors"
ha status --esn "$E1"
is "$rc" 2 "... also when the broken file is not selected (it is still broken)"
rm "$HSMADMIN_CONF/modules.d/broken.conf"

# --- several in parallel: 2 HSMs cost about as much as 1 ---------------------------
t0=$(now_ms); ha getenvstats --esn "$E1"; one=$(( $(now_ms) - t0 ))
t0=$(now_ms); ha getenvstats; two=$(( $(now_ms) - t0 ))
is "$rc" 0 "getenvstats on both"
ok "two HSMs in parallel: ${two} ms vs ${one} ms for one" test "$two" -lt $(( one * 3 + 500 ))

# --- one HSM down: the other still answers, exit 5 within the timeout -----------------
hsmd_stop b
t0=$(now_ms)
ha status --timeout 3
el=$(( $(now_ms) - t0 ))
is "$rc" 5 "one HSM down: exit 5 (the worst)"
like "$err" "^hsmadmin: status: $E1: setup service at .* Connection refused" "... one line naming it"
like "$out" "^HSM $E2 " "... the other one answered"
ok "... within the timeout (${el} ms)" test "$el" -lt 4000
ha status --json --timeout 3
is "$(printf '%s' "$out" | jq -c '[.modules[] | [.esn, .ok]]')" "[[\"$E2\",true],[\"$E1\",false]]" \
	"--json: per-HSM ok"
is "$(printf '%s' "$out" | jq -r '.modules[1].error.exit')" 5 "--json: the error's exit code"

# An address where nothing listens and nothing answers: still bounded.
printf '[module]\nesn = 8888-8888-8888\naddress = 127.0.0.1\n[ports]\nsetup = 9\n' \
	>"$HSMADMIN_CONF/modules.d/nothing.conf"
cp "$HSMADMIN_HOME/pins/$E2.json" "$HSMADMIN_HOME/pins/8888-8888-8888.json"
sed -i "s/$E2/8888-8888-8888/" "$HSMADMIN_HOME/pins/8888-8888-8888.json"
t0=$(now_ms)
ha status --esn 8888-8888-8888 --timeout 3
el=$(( $(now_ms) - t0 ))
is "$rc" 5 "nothing listening: exit 5"
ok "... within the timeout (${el} ms)" test "$el" -lt 4000
done_testing
