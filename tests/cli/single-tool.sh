#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tools that are one command (enquiry, nopclearfail): the plugin claims
# the tool's own name and a command of that path; the dispatcher runs it
# when the tool is given no command words, passing every argument to it.
. "$top_srcdir/tests/lib/common.sh"
case " ${BUILT_PLUGINS:-} " in *" enquiry "*) ;; *) skip_all "enquiry plugin not built" ;; esac
for t in enquiry nopclearfail; do ln -s "$HSMADMIN_BIN" "$TEST_TMP/bin/$t"; done

run enquiry
is "$rc" 0 "enquiry with no arguments runs the enquiry command"
like "$out" "modules +0" "... (no VCM enrolled)"
run enquiry --json
is "$(printf '%s' "$out" | jq -c .modules)" "[]" "options reach the command (--json)"
run enquiry -m 3
is "$rc" 2 "a short option with a value reaches it (-m 3: no such module)"
like "$err" "^enquiry: enquiry: -m: no module #3" "... with the one-line error of the command"
run enquiry --help
is "$rc" 0 "enquiry --help is the command's help"
like "$out" "usage: enquiry enquiry|usage: enquiry" "... a usage line"
like "$out" "--module" "... listing its options"
run enquiry -m
is "$rc" 2 "-m without a value: usage error"
run enquiry bogus
is "$rc" 2 "a word the tool does not know: usage error"
like "$err" "unknown command 'bogus'" "... naming it"
run enquiry --version
like "$out" "^enquiry [0-9.]+" "--version names the tool"
run hsmadmin --help
is "$rc" 0 "hsmadmin still lists its own commands"
unlike "$out" "^  enquiry" "... without the enquiry tool's command"
run hsmadmin completion bash
printf '%s\n' "$out" >"$TEST_TMP/comp.bash"
complete_words() { # complete_words WORD... -> COMPREPLY sorted, one line
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
		_hsmadmin_complete; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$TEST_TMP/comp.bash" "$@"
}
is "$(complete_words enquiry --m)" "--module " "bash completion: enquiry completes its own options"
is "$(complete_words enquiry -m 1 --j)" "--json " "... after other options too"
is "$(complete_words hsmadmin vcm en)" "enroll " "... and hsmadmin its words as before"
case " ${BUILT_PLUGINS:-} " in
*" nopclearfail "*)
	run nopclearfail -m 1 -r
	is "$rc" 2 "nopclearfail -m 1 -r with nothing enrolled: usage error (no module)"
	rm "$HSMADMIN_CONF/plugins.d/nopclearfail.conf"
	run nopclearfail -m 1 -r
	is "$rc" 2 "a tool whose plugin is left out: exit 2"
	like "$err" "usage: nopclearfail" "... with the tool's usage (no command is configured)"
	;;
esac
done_testing
