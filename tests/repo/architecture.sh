#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# docs/architecture.md's table of who links which of our libraries is the
# build's: it is compared with the _LIBADD/_LDADD of every Makefile
# fragment, so a newcomer can trust it to predict where code lives.
. "$top_srcdir/tests/lib/common.sh"

# links ROOT: "folder: lib lib ..." for every library, plugin and service
links() {
	(cd "$1" && for frag in core/Makefile.inc firmware/lib/Makefile.inc firmware/hsmd/Makefile.inc plugins/*/Makefile.inc firmware/services/*/Makefile.inc; do
		[ -f "$frag" ] || continue
		awk '{ line = line $0 } /\\$/ { sub(/\\$/, " ", line); next } { print line; line = "" }' "$frag" |
			grep -E '^([a-z0-9_]+_(la_LIBADD|LDADD)|HSMD_LIBS) *\+?=' | grep -v '^tests_' | while read -r var _ rest; do
			case $var in
			core_libhsmadmin_la_LIBADD) name=core/lib ;;
			core_libhsmadmin_crypto_la_LIBADD) name=core/crypto ;;
			core_libhsmadmin_net_la_LIBADD) name=core/net ;;
			core_libhsmadmin_call_la_LIBADD) name=core/call ;;
			core_cli_hsmadmin_LDADD) name=core/cli ;;
			HSMD_LIBS) name=firmware/hsmd ;;
			firmware_hsmd_*) continue ;;
			plugins_*) name=plugins/$(echo "$var" | cut -d_ -f2) ;;
			firmware_services_*) name=firmware/services/$(echo "$var" | cut -d_ -f3) ;;
			*) continue ;;
			esac
			libs=$(printf '%s\n' $rest | sed -n 's#^\(core\|firmware/[a-z]*\)/\(lib[a-z-]*\)\.la$#\2#p' | grep -v '^libhsmd$' | sort | tr '\n' ' ')
			libs=${libs% }; echo "$name: ${libs:-(none)}"
		done
	done) | sort -u
}

documented() { # the table between the markers of docs/architecture.md
	sed -n '/<!-- links: begin -->/,/<!-- links: end -->/p' "$1/docs/architecture.md" |
		grep -v '<!--' | sed 's/^ *//'
}

built=$(links "$top_srcdir")
doc=$(documented "$top_srcdir")
like "$built" 'plugins/[a-z]+: libhsmadmin' "the fragments name the libraries each plugin links"
is "$doc" "$built" "docs/architecture.md lists what each library, plugin and service links"
[ "$doc" = "$built" ] || echo "# update the table in docs/architecture.md to the lines above ('got' is the documentation)"

# The check can fail: a fragment that links one more library is noticed.
t=$TEST_TMP/tree
mkdir -p "$t/plugins/x" "$t/docs" "$t/core"
printf 'plugins_x_x_la_LIBADD = core/libhsmadmin.la \\\n\tcore/libhsmadmin-net.la $(JANSSON_LIBS)\n' >"$t/plugins/x/Makefile.inc"
printf '<!-- links: begin -->\n    plugins/x: libhsmadmin\n<!-- links: end -->\n' >"$t/docs/architecture.md"
is "$(links "$t")" "plugins/x: libhsmadmin libhsmadmin-net" "continuation lines are read"
unlike "$(links "$t")" "^$(documented "$t")\$" "a table missing a library differs"
done_testing
