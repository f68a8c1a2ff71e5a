#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `hsmadmin completion bash` is generated from the command tables and
# completes commands and options for every tool.
. "$top_srcdir/tests/lib/common.sh"
install_fixture good

run hsmadmin completion bash
is "$rc" 0 "completion bash exits 0"
like "$out" "'hsmadmin\\|good show\\|--help --name --count --tag --loud --quiet --fail --json --verbose'" "the table comes from the plugin"
like "$out" "complete -F _hsmadmin_complete hsmadmin( [a-z]+)* vcmadmin( |$)" "registered for every tool"
printf '%s\n' "$out" >"$TEST_TMP/comp.bash"

complete_words() { # complete_words WORD... -> COMPREPLY sorted, one line
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
		_hsmadmin_complete; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$TEST_TMP/comp.bash" "$@"
}
is "$(complete_words hsmadmin go)" "good " "completes the command word"
is "$(complete_words hsmadmin good "")" "device show " "completes subcommands"
is "$(complete_words hsmadmin good show --c)" "--count " "completes an option"
is "$(complete_words hsmadmin good device show --t)" "--tag --timeout " "device commands complete --timeout"
is "$(complete_words vcmadmin good "")" "show " "vcmadmin has its own table"
# Several plugins in one process: each must get its own mapping (a reused
# /proc/self/fd/N name once made glibc hand back the previous plugin).
install_fixture abi
install_fixture dup
run hsmadmin completion bash
like "$out" "'hsmadmin\\|good show\\|" "good still loads after refused plugins in the same process"
like "$err" "plugin abi .*plugin ABI 99" "the refused plugin is reported for what it is"
like "$err" "plugin dup .*duplicate command path" "and so is the next one"
run hsmadmin completion zsh
is "$rc" 2 "unsupported shell is a usage error"
done_testing
