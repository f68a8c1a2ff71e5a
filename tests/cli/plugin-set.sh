#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# An install matches the plugin set: configure refuses a set in which a
# plugin lacks a plugin it requires (requires = in its plugins.d conf),
# naming the missing one; a build of platform and logs, compiled and
# installed in a scratch prefix, installs their plugins, man pages and
# plugins.d files and nothing of the others', no vcmadmin link or
# completion, and its installed hsmadmin offers only their commands.
# At run time a plugin whose required plugin is not installed is refused
# in one line and its commands exit 6.
. "$top_srcdir/tests/lib/common.sh"

# --- requires = in the shipped confs ---------------------------------------------
like "$(grep '^requires' "$top_srcdir/conf.d/plugins.d/vcmsetup.conf")" \
	'^requires = .*vcmadmin' "vcmsetup declares that it needs vcmadmin"

# --- configure: one build directory, its cache shared by both runs -------------
B=$TEST_TMP/build
D=$TEST_TMP/prefix
mkdir -p "$B"
cd "$B" || exit 1
# (CFLAGS in both runs: the cache refuses a changed precious variable.)
RUN_TIMEOUT=600 run "$top_srcdir/configure" -C --enable-plugins=platform,vcmsetup CFLAGS=-O0
is "$rc" 1 "configure refuses vcmsetup without vcmadmin"
like "$err" "plugin vcmsetup requires plugin vcmadmin, which is not enabled" "... naming the missing plugin"
ok "... and writes no Makefile" test ! -f "$B/Makefile"
# -O0: the fastest compile; this build is run, not measured.
RUN_TIMEOUT=600 run "$top_srcdir/configure" -C --prefix="$D" --enable-plugins=platform,logs \
	--enable-services=sshadmin CFLAGS=-O0
is "$rc" 0 "configure --enable-plugins=platform,logs"

# --- the reduced set, compiled and installed ------------------------------------
# A make of its own, not a part of the make check that runs this test.
nomake="env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL"
RUN_TIMEOUT=1200 run $nomake make -s -j2 -C "$B"
is "$rc" 0 "the reduced set builds"
RUN_TIMEOUT=300 run $nomake make -s -C "$B" install
is "$rc" 0 "... and installs (make install into its prefix)"
cd "$TEST_TMP" || exit 1
names() { # the names of the files below $D matching find's ARGS, sorted, on one line
	find "$D" "$@" -printf '%f\n' | sort | tr '\n' ' '
}
is "$(names -path '*/hsmadmin/plugins/*' -name '*.so')" "logs.so platform.so " "only the two plugins are installed"
is "$(names -path '*/hsmadmin/services/*' -name '*.so')" "sshadmin.so " "... and only the one service module"
pages=$(names -path '*/man1/*')
like "$pages" 'hsmadmin-enroll\.1 .*hsmadmin-logs\.1' "platform's and logs' man pages are installed"
like "$pages" '(^| )hsmadmin\.1 ' "... and the core's"
unlike "$pages" 'vcmadmin|hsmadmin-vcm|hsmadmin-keys|hsmadmin-fet|enquiry|nopclearfail|upgrade' \
	"... and no other plugin's"
is "$(names -path '*/plugins.d/*')" "logs.conf platform.conf " "only their plugins.d files"
is "$(names -path '*/bin/*' -type l)" "" "no tool link (vcmadmin, enquiry, ...)"
is "$(names -path '*bash-completion*' -type l)" "" "no bash completion link for another tool"
ok "bash completion for hsmadmin" test -n "$(find "$D" -path '*bash-completion*' -name hsmadmin)"
fish=$(names -name '*.fish')
like "$fish" "(^| )hsmadmin\.fish " "fish: hsmadmin's completion"
unlike "$fish" "vcmadmin|enquiry|nopclearfail|nfkminfo" "... and no other plugin tool's"
is "$(head -1 "$(find "$D" -name _hsmadmin)" | sed 's/ *$//')" "#compdef hsmadmin" "zsh: hsmadmin only"
links() { # the tool links build directory $1 installs
	printf 'show-links:\n\t@echo $(HSMADMIN_TOOL_LINKS)\n' |
		$nomake make -s -C "$1" -f Makefile -f - show-links
}
is "$(links "$B")" "" "the reduced build links no other tool"
case " ${BUILT_PLUGINS:-} " in
*" vcmadmin "*) like "$(links "$top_builddir")" "vcmadmin" "... while this build, with vcmadmin, links vcmadmin" ;;
esac

# The installed hsmadmin, from its prefix (its own libraries, its own
# plugins.d), offers the commands of the two plugins and no other.
installed() { # ARGS...: the installed hsmadmin
	HSMADMIN_CONF=$D/etc/hsmadmin LD_LIBRARY_PATH=$D/lib run "$D/bin/hsmadmin" "$@"
}
installed --help
is "$rc" 0 "the installed hsmadmin --help runs"
# the command words: the lines "  enroll, status, ..." of the listing
cmds=$(printf '%s\n' "$out" | grep -E '^  [a-z]' | tr ', ' '\n\n' | grep . | sort -u | tr '\n' ' ')
like "$cmds" "(^| )enroll .*(^| )status " "... lists platform's commands"
like "$cmds" "(^| )logs " "... and logs'"
unlike "$cmds" "(^| )(vcm|keys|fet|upgrade|setnetwork|npkginfo) " "... and no other plugin's ($cmds)"
installed vcm --help
is "$rc" 2 "hsmadmin vcm is not a command of this build: exit 2"
installed completion bash
like "$out" "enroll" "its completion offers platform's commands"
unlike "$out" "vcmadmin|nopclearfail" "... and no other tool"
# --- run time: a conf whose required plugin is missing ----------------------------
if [ -f "$PLUGIN_DIR/vcmsetup.so" ]; then
	rm -f "$HSMADMIN_CONF/plugins.d/vcmadmin.conf"
	run hsmadmin vcm single-setup --help
	is "$rc" 6 "vcm single-setup without the vcmadmin plugin installed: exit 6"
	like "$err" "plugin vcmsetup .*needs the vcmadmin plugin, which is not installed" "... one line naming it"
	cp "$top_srcdir/conf.d/plugins.d/vcmadmin.conf" "$HSMADMIN_CONF/plugins.d/"
	run hsmadmin vcm single-setup --help
	is "$rc" 0 "with it installed, it loads"
fi
printf '[plugin]\nname = x\nfile = x.so\nrequires = vcmadmin, Bad/Name\n[commands]\nhsmadmin = x\n' \
	>"$HSMADMIN_CONF/plugins.d/x.conf"
run hsmadmin --help
like "$err" "x\.conf.*requires: bad plugin name 'Bad/Name'" "a malformed requires = is refused, named"
done_testing
