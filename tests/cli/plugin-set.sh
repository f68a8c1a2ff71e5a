#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# An install matches the plugin set: configure refuses a set in which a
# plugin lacks a plugin it requires (requires = in its plugins.d conf),
# naming the missing one; a build of platform and logs installs their man
# pages and nothing of the others', and no vcmadmin link or completion.
# At run time a plugin whose required plugin is not installed is refused
# in one line and its commands exit 6.
. "$top_srcdir/tests/lib/common.sh"

# --- requires = in the shipped confs ---------------------------------------------
like "$(grep '^requires' "$top_srcdir/conf.d/plugins.d/vcmsetup.conf")" \
	'^requires = .*vcmadmin' "vcmsetup declares that it needs vcmadmin"

# --- configure: one build directory, its cache shared by both runs -------------
B=$TEST_TMP/build
mkdir -p "$B"
cd "$B" || exit 1
RUN_TIMEOUT=600 run "$top_srcdir/configure" -C --enable-plugins=platform,vcmsetup
is "$rc" 1 "configure refuses vcmsetup without vcmadmin"
like "$err" "plugin vcmsetup requires plugin vcmadmin, which is not enabled" "... naming the missing plugin"
ok "... and writes no Makefile" test ! -f "$B/Makefile"
RUN_TIMEOUT=600 run "$top_srcdir/configure" -C --enable-plugins=platform,logs --enable-services=sshadmin
is "$rc" 0 "configure --enable-plugins=platform,logs"

# --- what that build installs ----------------------------------------------------
# The pieces of `make install` that depend on the plugin set (man pages,
# plugins.d files, tool links, completion), without compiling the tree.
D=$TEST_TMP/dest
RUN_TIMEOUT=300 run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$B" DESTDIR="$D" \
	install-man install-pluginconfDATA install-tool-links install-bash-completion \
	install-fish-zsh-completion
is "$rc" 0 "make install DESTDIR of the reduced set"
cd "$TEST_TMP" || exit 1
pages=$(find "$D" -path '*/man1/*' -printf '%f\n' | sort | tr '\n' ' ')
like "$pages" 'hsmadmin-enroll\.1 .*hsmadmin-logs\.1' "platform's and logs' man pages are installed"
like "$pages" '(^| )hsmadmin\.1 ' "... and the core's"
unlike "$pages" 'vcmadmin|hsmadmin-vcm|hsmadmin-keys|hsmadmin-fet|enquiry|nopclearfail|upgrade' \
	"... and no other plugin's"
is "$(find "$D" -path '*/plugins.d/*' -printf '%f\n' | sort | tr '\n' ' ')" "logs.conf platform.conf " \
	"only their plugins.d files"
is "$(find "$D" -path '*/bin/*' -printf '%f\n' | sort | tr '\n' ' ')" "" "no tool link (vcmadmin, enquiry, ...)"
is "$(find "$D" -path '*bash-completion*' -name '*' -type l -printf '%f\n' | tr '\n' ' ')" "" \
	"no bash completion link for another tool"
ok "bash completion for hsmadmin" test -n "$(find "$D" -path '*bash-completion*' -name hsmadmin)"
is "$(find "$D" -name '*.fish' -printf '%f\n' | sort | tr '\n' ' ')" "hsmadmin.fish " "fish: hsmadmin only"
is "$(head -1 "$(find "$D" -name _hsmadmin)" | sed 's/ *$//')" "#compdef hsmadmin" "zsh: hsmadmin only"
links() { # the tool links build directory $1 installs
	printf 'show-links:\n\t@echo $(HSMADMIN_TOOL_LINKS)\n' |
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$1" -f Makefile -f - show-links
}
is "$(links "$B")" "" "the reduced build links no other tool"
case " ${BUILT_PLUGINS:-} " in
*" vcmadmin "*) like "$(links "$top_builddir")" "vcmadmin" "... while this build, with vcmadmin, links vcmadmin" ;;
esac

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
