#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsmd and hsm-vendor complete in bash, zsh and fish like hsmadmin: their
# scripts are made from their own option tables (the getopt tables they
# parse with) by the generator of `hsmadmin completion`, and loaded into
# the same shell as hsmadmin's they leave its table alone.
. "$top_srcdir/tests/lib/common.sh"
HSMD="$top_builddir/firmware/hsmd/hsmd"
VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }

run "$HSMD" completion bash
is "$rc" 0 "hsmd completion bash exits 0"
printf '%s\n' "$out" >"$TEST_TMP/hsmd.bash"
like "$out" "complete -F _hsmd_complete hsmd$" "registered for hsmd"
run "$VENDOR" completion bash
is "$rc" 0 "hsm-vendor completion bash exits 0"
printf '%s\n' "$out" >"$TEST_TMP/vendor.bash"
like "$out" "complete -F _hsm_vendor_complete hsm-vendor$" "registered for hsm-vendor"

# complete SCRIPT FUNCTION WORD...: COMPREPLY, sorted, on one line
complete_words() {
	bash -c '. "$1"; f=$2; shift 2; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
		"$f"; [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		_ "$@"
}
h() { complete_words "$TEST_TMP/hsmd.bash" _hsmd_complete hsmd "$@"; }
v() { complete_words "$TEST_TMP/vendor.bash" _hsm_vendor_complete hsm-vendor "$@"; }

is "$(h "")" "button completion fail methods provision run simulate vcm " "hsmd: its commands"
is "$(h pro)" "provision " "hsmd: a command word"
is "$(h run --)" "--conf --help --log-level --log-target --state " "hsmd run: the options of its getopt table"
is "$(h run --log-level "")" "debug err info notice warning " "hsmd run --log-level: the levels"
is "$(h provision --speed "")" "base high mid " "hsmd provision --speed: the ratings"
is "$(h simulate --clock-lost=y)" "yes " "... also as --option=VALUE"
is "$(h provision --esn "")" "" "a free value offers nothing, not option names"
: >"$TEST_TMP/a-file"
mkdir -p "$TEST_TMP/a-dir"
is "$(cd "$TEST_TMP" && h run --state a-)" "a-dir " "hsmd run --state: directories"
is "$(cd "$TEST_TMP" && h provision --vendor-key a-)" "a-dir a-file " "hsmd provision --vendor-key: files"
is "$(h completion "")" "bash fish zsh " "hsmd completion: the shells"

is "$(v "")" "completion keygen licence npkg verify-licence " "hsm-vendor: its commands"
is "$(v licence --speed-upgrade "")" "high mid " "hsm-vendor licence --speed-upgrade"
is "$(v npkg --component "")" "bootloader primary recovery " "hsm-vendor npkg --component"
is "$(v keygen --)" "--force --help --out --pub " "hsm-vendor keygen: the options it parses"
is "$(cd "$TEST_TMP" && v verify-licence --pub x a-)" "a-dir a-file " "hsm-vendor verify-licence: the licence FILE operand"

# The options offered are the ones each command accepts: every option the
# script offers for hsmd run and hsm-vendor npkg is taken by the command
# (an unknown one would be a usage error naming it).
for o in $(h run --); do
	[ "$o" = --help ] && continue
	run "$HSMD" run "$o" x --help
	is "$rc" 0 "hsmd run takes $o"
done
for o in $(v npkg --); do
	[ "$o" = --help ] && continue
	case "$o" in --force | --revokes-older) run "$VENDOR" npkg "$o" --help ;; *) run "$VENDOR" npkg "$o" x --help ;; esac
	is "$rc" 0 "hsm-vendor npkg takes $o"
done

# One shell, three tables: loading hsmd's after hsmadmin's leaves both.
run hsmadmin completion bash
printf '%s\n' "$out" >"$TEST_TMP/hsmadmin.bash"
both=$(bash -c '. "$1"; . "$2"; . "$3"
	COMP_WORDS=(hsmadmin ""); COMP_CWORD=1; _hsmadmin_complete; a=${#COMPREPLY[@]}
	COMP_WORDS=(hsmd ""); COMP_CWORD=1; _hsmd_complete; b=${#COMPREPLY[@]}
	COMP_WORDS=(hsmadmin ""); COMP_CWORD=1; _hsmadmin_complete; c=${#COMPREPLY[@]}
	echo "$a $b $c"' _ "$TEST_TMP/hsmadmin.bash" "$TEST_TMP/hsmd.bash" "$TEST_TMP/vendor.bash")
set -- $both
is "$2" 8 "with all three loaded, hsmd still offers its 8 commands"
is "$3" "$1" "... and hsmadmin its own, unchanged ($1)"
ok "... which are more than none" test "${1:-0}" -gt 0

run "$HSMD" completion ksh
is "$rc" 2 "hsmd completion ksh: usage error"
like "$err" "'ksh' is not bash, zsh or fish" "... naming the shell"
run "$VENDOR" completion
is "$rc" 2 "hsm-vendor completion without a shell: usage error"

# zsh and fish from the same tables.
for t in hsmd vendor; do
	if [ $t = hsmd ]; then cmd=$HSMD name=hsmd; else cmd=$VENDOR name=hsm-vendor; fi
	run "$cmd" completion zsh
	is "$rc" 0 "$name completion zsh exits 0"
	like "$out" "bashcompinit" "... through bashcompinit"
	if command -v zsh >/dev/null; then
		printf '%s\n' "$out" >"$TEST_TMP/$t.zsh"
		ok "... and zsh loads it" zsh -f -c ". '$TEST_TMP/$t.zsh'"
	fi
	run "$cmd" completion fish
	is "$rc" 0 "$name completion fish exits 0"
	printf '%s\n' "$out" >"$TEST_TMP/$t.fish"
done
like "$(cat "$TEST_TMP/hsmd.fish")" "complete -c hsmd -n '__hsmadmin_path_is run' -l log-level -r -f -a 'err warning notice info debug'" \
	"fish: hsmd run --log-level offers the levels"
like "$(cat "$TEST_TMP/vendor.fish")" "complete -c hsm-vendor -f -n '__hsmadmin_path_is ''' -a npkg" "fish: hsm-vendor's commands"
if command -v fish >/dev/null; then
	is "$(fish -c "source '$TEST_TMP/hsmd.fish'; complete -C 'hsmd provision --speed '" | cut -f1 | sort | tr '\n' ' ')" \
		"base high mid " "fish completes hsmd provision --speed"
fi

# The installed loaders run each program by its installed path.
D=$TEST_TMP/dest
run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" DESTDIR="$D" install-tool-completion
is "$rc" 0 "make install-tool-completion"
b=$(find "$D" -path '*bash-completion*' -name hsmd)
like "$(cat "$b" 2>/dev/null)" '^eval "\$\(/.*/hsmd completion bash 2>/dev/null\)"$' "bash loader for hsmd, by its full path"
like "$(find "$D" -path '*bash-completion*' -name hsm-vendor)" 'hsm-vendor$' "... and one for hsm-vendor"
z=$(find "$D" -name _hsm-vendor)
is "$(head -1 "$z" 2>/dev/null)" "#compdef hsm-vendor" "zsh loader for hsm-vendor"
like "$(cat "$z" 2>/dev/null)" '^_hsm_vendor_complete "\$@"$' "... calling its function"
like "$(cat "$(find "$D" -name hsmd.fish)" 2>/dev/null)" '^/.*/hsmd completion fish 2>/dev/null \| source$' "fish loader for hsmd"
sed "s#/[^ ]*/hsmd completion#$HSMD completion#" "$b" >"$TEST_TMP/loader.bash"
is "$(complete_words "$TEST_TMP/loader.bash" _hsmd_complete hsmd bu)" "button " "the bash loader completes hsmd"
done_testing
