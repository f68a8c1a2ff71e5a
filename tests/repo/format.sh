#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The layout rules of scripts/format-check.sh hold on the whole tree (the
# same check as `make format-check`), and the check can fail.
. "$top_srcdir/tests/lib/common.sh"

run sh "$top_srcdir/scripts/format-check.sh" "$top_srcdir"
is "$rc" 0 "scripts/format-check.sh passes on the tree"
[ "$rc" = 0 ] || printf '%s\n' "$out" | head -20 | sed 's/^/# /'

t=$TEST_TMP/tree
mkdir -p "$t/core/lib" "$t/scripts"
printf 'int f(void)\n{\n        return 0; \n}' >"$t/core/lib/bad.c"
run sh "$top_srcdir/scripts/format-check.sh" "$t"
is "$rc" 1 "a badly laid out file fails the check"
like "$out" "bad.c:3: trailing white space" "... naming trailing white space"
like "$out" "bad.c:3: indented with spaces" "... indentation by spaces"
like "$out" "bad.c: no newline at the end" "... and a missing final newline"
done_testing
