#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# How a command over several HSMs reports: each HSM's result as it
# arrives (a silent HSM does not hold back the others: status, enroll,
# enquiry), -q/--quiet keeps
# only the errors, a progress line on a terminal only, --json unchanged.
. "$top_srcdir/tests/lib/platform-lib.sh"
platform_setup

# Three HSMs; the one made silent sorts first by ESN, so that printing in
# ESN order (not as answers arrive) would hold the others back.
E1=1A00-0000-0001
E2=5B00-0000-0002
E3=9C00-0000-0003
hsm_new a "$E1"
hsm_new b "$E2"
hsm_new c "$E3"
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "three HSMs enrolled"

# --- -q/--quiet: nothing but errors ----------------------------------------------
ha status -q
is "$rc" 0 "status -q: exit 0"
is "$out" "" "... prints no result"
is "$err" "" "... and nothing on stderr"
ha --quiet status
is "$rc$out$err" "0" "--quiet before the command words: the same"
ha status --quiet --json
is "$rc" 0 "--quiet --json: exit 0"
is "$(printf '%s' "$out" | jq -r '[.modules[].esn] | join(" ")')" "$E1 $E2 $E3" \
	"... the JSON document is printed as without --quiet"
ha status -q --verbose
is "$rc" 2 "-q with --verbose: usage error"
like "$err" "cannot be used together" "... says they conflict"
ha status -q extra
is "$rc" 2 "-q does not hide a usage error"
ha info --help
like "$out" "-q, --quiet" "--help lists -q, --quiet"
ha completion bash
like "$out" "--quiet" "bash completion offers --quiet"

# --- a silent HSM: the others are printed while it is waited for ------------------
# A stopped hsmd still has the kernel accept connections on its ports, and
# then never answers: the client waits for it until the timeout.
silent=${HSMD_PIDS[a]}
stream_while_stopped "$silent" 2 '^HSM ' hsmadmin status --timeout 60
# Both answers were read while the command still waited for the silent HSM
# (it cannot end before that HSM answers or its 60 s run out).
is "$running" yes "the live HSMs' results came while the command still ran"
is "$(printf '%s' "$early" | grep '^HSM ' | cut -d' ' -f2 | sort | tr '\n' ' ')" "$E2 $E3 " \
	"... both live HSMs, and not the silent one"
is "$rc" 0 "once the silent HSM answers: exit 0"
is "$(printf '%s\n' "$out" | grep '^HSM ' | cut -d' ' -f2 | tail -n 1)" "$E1" \
	"... its block comes last, in the order of arrival"
is "$(printf '%s\n' "$out" | grep -c '^HSM ')" 3 "... one block per HSM"

# The same for the other commands over several HSMs: enroll (again: nothing
# changes), enquiry (the HSMs as modules 1-3, the silent one module 1).
stream_while_stopped "$silent" 2 "^($E2|$E3): already enrolled" hsmadmin enroll --timeout 60
is "$running" yes "enroll: the live HSMs' lines came while the silent one was waited for"
is "$rc" 0 "... exit 0 once it answers"
like "$late" "^$E1: already enrolled" "... its line last"
case " ${BUILT_PLUGINS:-} " in *" enquiry "*) has_enquiry=yes ;; *) has_enquiry=no ;; esac
if [ "$has_enquiry" = yes ]; then
	ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/enquiry"
	stream_while_stopped "$silent" 2 "^Module #[23]:" enquiry --timeout 60
	is "$running" yes "enquiry: modules 2 and 3 came while module 1 was waited for"
	unlike "$early" "Module #1:" "... not module 1"
	is "$rc" 0 "... exit 0 once it answers"
	like "$late" "^Module #1:" "... its block last"
	like "$late" "serial number +$E1" "... the silent HSM's"
else
	skip 5 "enquiry plugin not built"
fi

# --- progress: on a terminal only -----------------------------------------------
kill -STOP "$silent"
ha_tty status --timeout 3
is "$rc" 5 "on a terminal, the silent HSM times out: exit 5"
like "$out" "hsmadmin: status: waiting for 1 of 3 HSMs \([0-9]+ s\)" \
	"... a progress line while it is waited for"
esc=$(printf '\033')
ok "... erased again (carriage return, erase to end of line)" \
	grep -q "waiting for 1 of 3 HSMs.*${esc}\[K" "$TEST_TMP/.out"
like "$out" "$E1: setup service" "... then the error line"
# What stays visible of the last line: the text after its last carriage
# return (the terminal's own one before the newline aside).
visible=$(tail -n 1 "$TEST_TMP/.out" | awk '{ sub(/\r$/, ""); n = split($0, a, "\r"); print a[n] }')
like "$visible" "$E1: setup service" "... the error line is what shows on the last line"
unlike "$visible" "waiting for" \
	"... and no progress left visible on the last line"
ha_tty status --timeout 3 --json
unlike "$out" "waiting for" "no progress under --json on a terminal"
ha_tty status --timeout 3 -q
unlike "$out" "waiting for" "no progress under -q"
like "$out" "$E1: setup service" "... the error line still"
unlike "$out" "^HSM " "... and no result"
ha status --timeout 3
is "$rc" 5 "piped: exit 5"
unlike "$err" "waiting for|$esc" "... no progress and no escape sequence on a non-terminal"
is "$(printf '%s\n' "$err" | wc -l)" 1 "... only the error line on stderr"
ha status --timeout 3 -q
is "$rc" 5 "-q with an HSM that does not answer: exit 5"
is "$out" "" "... no result printed"
like "$err" "^hsmadmin: status: $E1: " "... the one error line"
if [ "$has_enquiry" = yes ]; then
	timeout -k 5 60 script -qec "enquiry --timeout 3" /dev/null </dev/null >"$TEST_TMP/.enq" 2>&1
	like "$(tr -d '\r' <"$TEST_TMP/.enq")" "^enquiry: (enquiry: )?waiting for 1 of 3 modules \([0-9]+ s\)" \
		"enquiry on a terminal: a progress line while module 1 is waited for"
else
	skip 1 "enquiry plugin not built"
fi
kill -CONT "$silent"
done_testing
