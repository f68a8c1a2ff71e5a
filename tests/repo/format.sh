#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The layout rules of scripts/format-check.sh hold on the whole tree (the
# same check as `make format-check`), and the check can fail.
. "$top_srcdir/tests/lib/common.sh"

# clang-format over the whole tree takes minutes on a loaded machine.
RUN_TIMEOUT=600 run sh "$top_srcdir/scripts/format-check.sh" "$top_srcdir"
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

if command -v "${CLANG_FORMAT:-clang-format}" >/dev/null 2>&1; then
	rm -f "$t/core/lib/bad.c"
	cp "$top_srcdir/.clang-format" "$t/"
	printf 'int g(int a,int b){return a+b;}\n' >"$t/core/lib/layout.c"
	run sh "$top_srcdir/scripts/format-check.sh" "$t"
	is "$rc" 1 "a file clang-format would change fails the check"
	like "$out" "layout.c: not in the layout of .clang-format" "... naming the file"
	printf 'int g(int a, int b)\n{\n\treturn a + b;\n}\n' >"$t/core/lib/layout.c"
	run sh "$top_srcdir/scripts/format-check.sh" "$t"
	is "$rc" 0 "the same function laid out as .clang-format says passes"
else
	skip 3 "clang-format is not installed"
fi
done_testing
