#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `hsmadmin completion bash` is generated from the command tables and
# completes commands and options for every tool.
. "$top_srcdir/tests/lib/common.sh"
install_fixture good

run hsmadmin completion bash
is "$rc" 0 "completion bash exits 0"
like "$out" "'hsmadmin\\|good show\\|--help --name --count --tag --loud --quiet --fail --json --verbose\\| --name=any --count=any --tag=any @=file'" "the table comes from the plugin, with value kinds"
like "$out" "complete -F _hsmadmin_complete hsmadmin( [a-z]+)* vcmadmin( |$)" "registered for every tool"
printf '%s\n' "$out" >"$TEST_TMP/comp.bash"

complete_words() { # complete_words WORD... -> COMPREPLY sorted, one line
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
		_hsmadmin_complete; [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$TEST_TMP/comp.bash" "$@"
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
run hsmadmin completion tcsh
is "$rc" 2 "an unsupported shell is a usage error"
like "$err" "tcsh" "... naming it"
run hsmadmin completion --help
is "$rc" 0 "completion --help exits 0"
like "$out" "bash\\|zsh\\|fish" "... and names the shells"

# Values, from the option declarations (the metavar names the kind).
run hsmadmin completion bash
printf '%s\n' "$out" >"$TEST_TMP/comp.bash"
: >"$TEST_TMP/a-file"
mkdir -p "$TEST_TMP/a-dir" "$HSMADMIN_CONF/modules.d"
is "$(cd "$TEST_TMP" && complete_words hsmadmin good show a-)" "a-dir a-file " "an operand FILE completes file names"
is "$(complete_words hsmadmin good show --count "")" "" "a number offers nothing, not option names"
if [[ " ${BUILT_PLUGINS:-} " == *" logs "* ]]; then
	is "$(complete_words hsmadmin logs get --log "")" "init system " "logs get --log offers the log names"
	is "$(complete_words hsmadmin logs get --log=s)" "system " "... also as --log=VALUE"
fi
printf '[module]\nesn = 1A23-BC45-0001\naddress = 127.0.0.9\n' >"$HSMADMIN_CONF/modules.d/one.conf"
printf '[module]\nesn = 1A23-BC45-0002\naddress = 127.0.0.10\n' >"$HSMADMIN_CONF/modules.d/two.conf"
printf '[module]\nesn = not-an-esn; rm -rf /\n' >"$HSMADMIN_CONF/modules.d/bad.conf"
# An ESN is digits and upper-case letters, not only hex (modules.d's rule).
printf '[module]\nesn = ZZ99-ABCG-0003\naddress = 127.0.0.11\n' >"$HSMADMIN_CONF/modules.d/zz.conf"
run hsmadmin completion values esn
is "$out" "1A23-BC45-0001
1A23-BC45-0002
ZZ99-ABCG-0003" "completion values esn lists the ESNs of modules.d (and nothing that is not an ESN)"
rm -f "$HSMADMIN_CONF/modules.d/zz.conf"
is "$(complete_words hsmadmin good device show --esn 1A)" "1A23-BC45-0001 1A23-BC45-0002 " "--esn offers the ESNs of modules.d"
u1=0c3e9a4e-5a8e-4c41-9d0e-6f5b5d3c1a01 u2=7f1d2b3c-1111-4222-8333-944455556666
mkdir -p "$HSMADMIN_HOME/tenant/vcms/$u1" "$HSMADMIN_HOME/cache"
printf '%s\nnot-a-uuid\n' "$u2" >"$HSMADMIN_HOME/cache/vcms"
run hsmadmin completion values uuid
is "$out" "$u1
$u2" "completion values uuid: the tenant's enrollments and the provider's last listing"
if [[ " ${BUILT_PLUGINS:-} " == *" vcmadmin "* ]]; then
	is "$(complete_words vcmadmin show 7f)" "$u2 " "vcmadmin show offers VCM UUIDs"
fi
run hsmadmin completion values colour
is "$rc" 2 "an unknown value kind is a usage error"

# zsh and fish scripts come from the same tables.
run hsmadmin completion zsh
is "$rc" 0 "completion zsh exits 0"
like "$out" "bashcompinit" "zsh reuses the bash functions through bashcompinit"
if command -v zsh >/dev/null; then
	printf '%s\n' "$out" >"$TEST_TMP/comp.zsh"
	ok "zsh loads the script" zsh -f -c ". '$TEST_TMP/comp.zsh'"
fi
run hsmadmin completion fish
is "$rc" 0 "completion fish exits 0"
like "$out" "complete -c hsmadmin -f -n '__hsmadmin_path_is good' -a show" "fish: subcommand words"
like "$out" "complete -c hsmadmin -n '__hsmadmin_path_is good,device,show' -l esn -r -f -a '\\(hsmadmin completion values esn" "fish: --esn offers ESNs"
if command -v fish >/dev/null; then
	printf '%s\n' "$out" >"$TEST_TMP/comp.fish"
	is "$(fish -c "source '$TEST_TMP/comp.fish'; complete -C 'hsmadmin good device show --esn 1A'" | cut -f1 | sort | tr '\n' ' ')" \
		"1A23-BC45-0001 1A23-BC45-0002 " "fish completes ESNs"
fi
done_testing
