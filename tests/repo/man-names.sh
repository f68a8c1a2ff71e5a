#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every man page names itself, so whatis(1) finds the right page: the NAME
# line gives the page's own name first and, after it, only other programs
# the page documents (never a subcommand word such as "info", which made
# `whatis info` answer with the VCM enrollment page).
. "$top_srcdir/tests/lib/common.sh"
command -v lexgrog >/dev/null 2>&1 || skip_all "lexgrog (man-db) not installed"

programs=" vcmadmin "
bad=""
pages=0
for f in "$top_srcdir"/docs/man/*.[158]; do
	pages=$((pages + 1))
	base=$(basename "$f"); base=${base%.*}
	# lexgrog prints one line per name the page gives.
	names=$(lexgrog "$f" 2>/dev/null | sed -n 's/^[^:]*: "\([^ ]*\) - .*"$/\1/p')
	first=$(printf '%s\n' "$names" | head -n 1)
	[ "$first" = "$base" ] || bad="$bad [$base: first name '$first']"
	[ "$(lexgrog "$f" 2>/dev/null | grep -c .)" = "$(printf '%s\n' "$names" | grep -c .)" ] ||
		bad="$bad [$base: a name with a space]"
	for n in $(printf '%s\n' "$names" | tail -n +2); do
		case "$programs" in *" $n "*) ;; *) bad="$bad [$base: extra name '$n']" ;; esac
	done
done
is "$bad" "" "every man page's NAME starts with its own name and adds only program names"
ok "... more than 20 pages checked" test "$pages" -gt 20

if command -v mandb >/dev/null 2>&1 && command -v whatis >/dev/null 2>&1; then
	mkdir -p "$TEST_TMP/man/man1" "$TEST_TMP/man/man5" "$TEST_TMP/man/man8"
	for f in "$top_srcdir"/docs/man/*.[158]; do
		cp "$f" "$TEST_TMP/man/man${f##*.}/"
	done
	mandb -q "$TEST_TMP/man" >/dev/null 2>&1
	run whatis -M "$TEST_TMP/man" info
	unlike "$out" "hsmadmin-vcm-enroll" "whatis info does not answer with hsmadmin-vcm-enroll(1)"
	run whatis -M "$TEST_TMP/man" hsmadmin-info
	like "$out" "^hsmadmin-info \(1\) +- show the manufacturing data" "whatis hsmadmin-info finds its page"
	run whatis -M "$TEST_TMP/man" hsmadmin-vcm-enroll
	like "$out" "^hsmadmin-vcm-enroll \(1\)" "whatis hsmadmin-vcm-enroll finds its page"
else
	ok "# SKIP mandb/whatis not installed" true
	ok "# SKIP mandb/whatis not installed" true
	ok "# SKIP mandb/whatis not installed" true
fi
done_testing
