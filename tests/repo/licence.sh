#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every source, build and configuration file carries the project's licence
# line, and the licence itself ships at the top of the tree, so a
# distribution can ship the sources as they are.
. "$top_srcdir/tests/lib/common.sh"

ok "LICENSE is the Apache License 2.0" grep -q 'Apache License' "$top_srcdir/LICENSE"

missing=$(cd "$top_srcdir" && find core plugins firmware conf.d tests bench scripts tools docs \
	\( -path tests/fuzz/corpus -o -name _build \) -prune -o -type f \
	\( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.inc' -o -name '*.am' \
	   -o -name '*.in' -o -name '*.map' -o -name '*.conf' -o -name '*.service' \
	   -o -name '*.[1-8]' -o -name Makefile \) -print 2>/dev/null |
	while read -r f; do grep -q 'SPDX-License-Identifier: Apache-2.0' "$f" || echo "$f"; done)
for f in configure.ac Makefile.am; do
	grep -q 'SPDX-License-Identifier: Apache-2.0' "$top_srcdir/$f" || missing="$missing $f"
done
is "$(echo $missing)" "" "every source file has an SPDX-License-Identifier: Apache-2.0 line"
done_testing
