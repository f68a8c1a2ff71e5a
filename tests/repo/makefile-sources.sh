#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One folder per plugin and per service compiles only its own files: a
# source under plugins/NAME/ or firmware/services/NAME/ is listed only by
# that folder's Makefile.inc, and nothing else adds that folder to its
# include path.  Library code (core/, firmware/hsmd/, firmware/lib/) is
# compiled once, into its library, and listed only by its own fragment;
# everything else links the library.  Shared code belongs in a library.
. "$top_srcdir/tests/lib/common.sh"

# owner PATH: the fragment that alone may list PATH, or "" for any.
owner() {
	case $1 in
	plugins/*/*) echo "plugins/$(echo "$1" | cut -d/ -f2)/Makefile.inc" ;;
	firmware/services/*/*) echo "firmware/services/$(echo "$1" | cut -d/ -f3)/Makefile.inc" ;;
	firmware/hsmd/*) echo firmware/hsmd/Makefile.inc ;;
	firmware/lib/*) echo firmware/lib/Makefile.inc ;;
	core/*) echo core/Makefile.inc ;;
	*) echo "" ;;
	esac
}

# check_tree ROOT: one line per violation.
check_tree() {
	(cd "$1" && find . -name _build -prune -o \( -name Makefile.am -o -name 'Makefile.inc' \) -type f -print |
		sed 's|^\./||' | sort |
		while read -r frag; do
			# Join continuation lines, then print "fragment variable word".
			awk -v frag="$frag" '
				{ line = line $0 }
				/\\$/ { sub(/\\$/, " ", line); next }
				{
					if (line ~ /^[A-Za-z0-9_]+_(SOURCES|CPPFLAGS|CFLAGS)[ \t]*\+?=/) {
						n = split(line, w, /[ \t=]+/)
						for (i = 2; i <= n; i++) print frag, w[1], w[i]
					}
					line = ""
				}' "$frag"
		done) | while read -r frag var word; do
		case $var in
		*_SOURCES)
			case $word in *.c | *.h) ;; *) continue ;; esac
			o=$(owner "$word")
			[ -n "$o" ] && [ "$o" != "$frag" ] && echo "$frag: $var compiles $word (belongs to $o)"
			case $word in
			core/*.c | firmware/hsmd/*.c | firmware/lib/*.c) echo "LIB $word $frag $var" ;;
			esac ;;
		*)
			case $word in
			-I'$(top_srcdir)'/plugins/* | -I'$(top_srcdir)'/firmware/services/*)
				dir=${word#-I\$(top_srcdir)/}
				o=$(owner "$dir/x")
				[ "$o" != "$frag" ] && echo "$frag: $var includes $dir (belongs to $o)" ;;
			esac ;;
		esac
	done | awk '
		$1 == "LIB" { seen[$2]++; where[$2] = where[$2] " " $4; next }
		{ print }
		END { for (f in seen) if (seen[f] > 1) print f ": compiled by more than one target:" where[f] }'
}

bad=$(check_tree "$top_srcdir")
is "$bad" "" "no fragment compiles or includes another plugin's, service's or library's sources"

# The check itself: a tree that breaks each rule is caught.
t=$TEST_TMP/tree
mkdir -p "$t/plugins/a" "$t/plugins/b" "$t/core"
printf 'x_la_SOURCES = plugins/a/a.c\n' >"$t/plugins/a/Makefile.inc"
printf 'y_la_SOURCES = plugins/b/b.c \\\n\tplugins/a/a.c\ny_la_CPPFLAGS = -I$(top_srcdir)/plugins/a\n' >"$t/plugins/b/Makefile.inc"
printf 'l_la_SOURCES = core/lib/x.c\nt_SOURCES = t.c core/lib/x.c\n' >"$t/core/Makefile.inc"
bad=$(check_tree "$t")
like "$bad" "plugins/b/Makefile.inc: y_la_SOURCES compiles plugins/a/a.c" "a source of another plugin's folder is caught"
like "$bad" "plugins/b/Makefile.inc: y_la_CPPFLAGS includes plugins/a" "an include path into another plugin's folder is caught"
like "$bad" "core/lib/x.c: compiled by more than one target" "library code compiled twice is caught"
done_testing
