#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The repository stands alone: no file points outside it (a sibling
# checkout, a planning document, an issue number), every docs/ page a file
# names exists, and every "guide N.N" section cited is in the index of
# docs/vendor-documents.md.
. "$top_srcdir/tests/lib/common.sh"

# sources ROOT: the files to check, relative to ROOT.
sources() {
	(cd "$1" && find core plugins firmware conf.d tests bench scripts tools docs README.md \
		configure.ac Makefile.am \( -path tests/fuzz/corpus -o -name _build \) -prune \
		-o -type f ! -name '*.o' ! -name '*.so' ! -name '*.la' -print 2>/dev/null |
		grep -v '^tests/repo/references\.sh$' | sort)
}

# outside ROOT: lines naming something outside the tree.
outside() {
	sources "$1" | (cd "$1" && xargs grep -nIE '\.\./shared|[Ii]ssue #?[0-9]|(SPEC|DESIGN|PITFALLS)\.md' /dev/null)
}

# dangling ROOT: docs/ paths named in files that do not exist.
dangling() {
	# (man pages write a hyphen as \-)
	sources "$1" | (cd "$1" && xargs grep -hIE 'docs/' /dev/null) | sed 's/\\-/-/g' |
		grep -oE 'docs/[A-Za-z0-9_./-]*[A-Za-z0-9_]' | sort -u | while read -r p; do
		[ -e "$1/$p" ] || echo "$p"
	done
}

# unresolved ROOT: "guide N.N" sections missing from the index.
unresolved() {
	sources "$1" | (cd "$1" && xargs grep -ohIE '[Gg]uide (chapter |section |§)?[0-9]+(\.[0-9]+)*' /dev/null) |
		grep -oE '[0-9]+(\.[0-9]+)*$' | sort -u | while read -r n; do
		grep -qE "^ *- (\*\*)?$n(\*\*)? " "$1/docs/vendor-documents.md" || echo "guide $n"
	done
}

is "$(outside "$top_srcdir")" "" "no file refers outside the repository or to an issue number"
is "$(dangling "$top_srcdir" | tr '\n' ' ')" "" "every docs/ path named in the tree exists"
is "$(unresolved "$top_srcdir" | tr '\n' ' ')" "" "every guide section cited is in docs/vendor-documents.md"

# The checks themselves: a tree breaking each rule is caught.
t=$TEST_TMP/tree
mkdir -p "$t/core" "$t/docs"
printf -- '- **3** Chapter\n  - 3.1 Section\n' >"$t/docs/vendor-documents.md"
printf '/* see ../%s/PITFALLS.md and docs/nowhere.md (guide 3.1, guide 9.9) */\n' shared >"$t/core/a.c"
printf '# fixed in issue %d\n' 12 >"$t/core/b.sh"
like "$(outside "$t")" "core/a.c:1:" "a path outside the repository is caught"
like "$(outside "$t")" "core/b.sh:1:" "an issue number is caught"
is "$(dangling "$t")" "docs/nowhere.md" "a dangling docs/ path is caught"
is "$(unresolved "$t")" "guide 9.9" "an unknown guide section is caught, a known one is not"
done_testing
