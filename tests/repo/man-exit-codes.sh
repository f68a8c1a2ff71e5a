#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every command's man page (sections 1 and 8) lists its exit codes: an
# EXIT STATUS section naming at least success (0) and usage (2), and no
# code outside the documented 0..6 (docs/exit-codes.md).
. "$top_srcdir/tests/lib/common.sh"

# codes PAGE: the exit codes the page's EXIT STATUS section names, sorted
codes() {
	sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$1" | sed '1d;$d' |
		grep -oE '(^|[^0-9.x-])[0-9]+([^0-9%]|$)' | tr -cd '0-9\n' | grep -E '^[0-9]+$' |
		sort -un | tr '\n' ' '
}

# missing PAGE...: "[page: why]" for each page that breaks the rule
missing() {
	for f in "$@"; do
		base=$(basename "$f")
		grep -q '^\.SH EXIT STATUS' "$f" || { printf ' [%s: no EXIT STATUS]' "$base"; continue; }
		c=" $(codes "$f")"
		case "$c" in *" 0 "*) ;; *) printf ' [%s: exit code 0 not listed]' "$base" ;; esac
		case "$c" in *" 2 "*) ;; *) printf ' [%s: exit code 2 (usage) not listed]' "$base" ;; esac
		for n in $c; do
			[ "$n" -le 6 ] || printf ' [%s: exit code %s is not one of 0..6]' "$base" "$n"
		done
	done
}

pages=$(ls "$top_srcdir"/docs/man/*.1 "$top_srcdir"/docs/man/*.8)
is "$(missing $pages)" "" "every command's man page lists its exit codes (0, 2, and only 0..6)"
ok "... $(echo "$pages" | wc -l) pages checked" test "$(echo "$pages" | wc -l)" -gt 20

# The check can fail.
printf '.TH X 1\n.SH NAME\nx \\- y\n.SH DESCRIPTION\nexits 0\n' >"$TEST_TMP/x.1"
printf '.TH Y 1\n.SH NAME\ny \\- y\n.SH EXIT STATUS\n0 success; 1 failed.\n.SH SEE ALSO\n' >"$TEST_TMP/y.1"
printf '.TH Z 1\n.SH NAME\nz \\- z\n.SH EXIT STATUS\n.TP\n0\nok\n.TP\n2\nusage\n.TP\n9\nodd\n' >"$TEST_TMP/z.1"
is "$(missing "$TEST_TMP/x.1" "$TEST_TMP/y.1" "$TEST_TMP/z.1")" \
	" [x.1: no EXIT STATUS] [y.1: exit code 2 (usage) not listed] [z.1: exit code 9 is not one of 0..6]" \
	"a page without the section, without usage, or with an unknown code is named"
done_testing
