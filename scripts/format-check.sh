#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/format-check.sh [SRCDIR] - the layout rules the whole tree keeps
# (`make format-check`; tests/repo/format.sh runs it in the test suite).
#
# It checks, in every source, build, script and documentation file:
#   - no trailing white space, no carriage return, a final newline;
# and in C sources and headers:
#   - indentation by tabs (no line starts with eight spaces),
#   - no space before a tab,
#   - no line longer than 100 columns (tabs at 8),
#   - the layout of .clang-format: `clang-format --dry-run --Werror` finds
#     nothing to change (run `make format` to apply it).  clang-format is
#     found as $CLANG_FORMAT or on PATH; without it this part is skipped
#     and says so (the test command installs it).
# Prints one line per violation and exits 1 if there is any.
top=${1:-$(dirname "$0")/..}
cd "$top" || exit 2
files=$(find core plugins firmware tests tools bench scripts conf.d docs \
	\( -path tests/fuzz/corpus -o -name _build -o -name .deps -o -name .libs \) -prune -o -type f \
	\( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.inc' -o -name '*.am' -o -name '*.in' \
	   -o -name '*.md' -o -name '*.map' -o -name '*.conf' -o -name '*.[1-8]' \) -print 2>/dev/null;
	ls configure.ac Makefile.am README.md 2>/dev/null)
csrc=$(printf '%s\n' $files | grep -E '\.[ch]$')
bad=0
report() { echo "$1"; bad=1; }

for f in $files; do
	grep -nE '[[:space:]]$' "$f" /dev/null | grep -v "$(printf '\r')" | cut -d: -f1,2 | sed 's/$/: trailing white space/' | head -5
	grep -n "$(printf '\r')" "$f" /dev/null | cut -d: -f1,2 | sed 's/$/: carriage return/' | head -5
	[ -s "$f" ] && [ -n "$(tail -c1 "$f")" ] && echo "$f: no newline at the end"
done >"${TMPDIR:-/tmp}/format-check.$$"
for f in $csrc; do
	grep -nE '^        ' "$f" /dev/null | cut -d: -f1,2 | sed 's/$/: indented with spaces, not tabs/' | head -5
	grep -nE ' 	' "$f" /dev/null | cut -d: -f1,2 | sed 's/$/: space before a tab/' | head -5
	expand -t8 "$f" | awk -v f="$f" 'length > 100 { print f ":" FNR ": " length " columns (at most 100)" }'
done >>"${TMPDIR:-/tmp}/format-check.$$"
cf=${CLANG_FORMAT:-clang-format}
if command -v "$cf" >/dev/null 2>&1; then
	# one clang-format for all files (a process per file takes minutes
	# under load); its complaints name the files, one line each here
	cflog=${TMPDIR:-/tmp}/format-check-cf.$$
	# shellcheck disable=SC2086
	"$cf" --dry-run --Werror $csrc >/dev/null 2>"$cflog"; cfrc=$?
	sed -n 's/^\([^ :]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' "$cflog" |
		sort -u | sed "s|.*|&: not in the layout of .clang-format (run: $cf -i &)|" \
		>>"${TMPDIR:-/tmp}/format-check.$$"
	if [ "$cfrc" != 0 ] && ! grep -q 'code should be clang-formatted' "$cflog"; then
		echo "$cf failed: $(head -1 "$cflog")" >>"${TMPDIR:-/tmp}/format-check.$$"
	fi
	rm -f "$cflog"
	cfnote="clang-format checked"
else
	cfnote="clang-format not found: its layout was not checked"
fi
if [ -s "${TMPDIR:-/tmp}/format-check.$$" ]; then
	cat "${TMPDIR:-/tmp}/format-check.$$"; bad=1
fi
rm -f "${TMPDIR:-/tmp}/format-check.$$"
echo "format-check: $(printf '%s\n' $files | wc -l) files; $cfnote"
exit $bad
