#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# No folder includes another folder's private header.  A library's
# interface is its headers in core/include/hsmadmin/ (libhsmadmin,
# installed), core/crypto/, core/net/, core/tenant/ (libhsmadmin-crypto
# and -net, in-tree only) and firmware/lib/ (libhsmfw); every other
# header (core/lib/, firmware/hsmd/, a plugin's or a service's folder) is
# private to its folder.  The one exception is core/cli, the program whose
# whole body is libhsmadmin's hsm_main (core/lib/dispatch.h).  Tests and
# benchmarks test internals and may include anything.
. "$top_srcdir/tests/lib/common.sh"

# check_tree ROOT: one line per include of another folder's private header.
check_tree() {
	(cd "$1" && find core plugins firmware tools docs -name '*.h' -type f 2>/dev/null | sort >"$TEST_TMP/headers"
	find core plugins firmware tools docs \( -name '*.c' -o -name '*.h' \) -type f 2>/dev/null | sort |
		while read -r f; do
			dir=${f%/*}
			sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$f" | while read -r h; do
				case $h in
				*/*) # a path: resolve it against the including folder
					p=$(realpath -m --relative-to=. "$dir/$h")
					if [ -f "$p" ]; then set -- "$p"; else set --; fi ;;
				*)
					[ -f "$dir/$h" ] && continue
					set -- $(grep -E "(^|/)$h\$" "$TEST_TMP/headers") ;;
				esac
				[ $# -gt 0 ] || continue # generated (config.h) or a system header
				public=no
				for p in "$@"; do
					[ "${p%/*}" = "$dir" ] && public=yes
					case ${p%/*} in
					core/include/hsmadmin | core/crypto | core/net | core/tenant | firmware/lib) public=yes ;;
					core/lib) [ "$dir" = core/cli ] && [ "$p" = core/lib/dispatch.h ] && public=yes ;;
					esac
				done
				[ $public = yes ] || echo "$f: includes $1 (private to ${1%/*})"
			done
		done)
}

bad=$(check_tree "$top_srcdir")
is "$bad" "" "no file includes another folder's private header"

# The check itself: a tree that breaks the rule is caught, and a library
# interface header is not.
t=$TEST_TMP/tree
mkdir -p "$t/core/lib" "$t/core/crypto" "$t/core/cli" "$t/firmware/hsmd" "$t/plugins/a" "$t/plugins/b"
: >"$t/core/lib/internal.h"
: >"$t/core/lib/dispatch.h"
: >"$t/core/crypto/sign.h"
: >"$t/firmware/hsmd/store.h"
: >"$t/plugins/b/b.h"
printf '#include "internal.h"\n' >"$t/core/lib/x.c"
printf '#include "dispatch.h"\n' >"$t/core/cli/main.c"
printf '#include "config.h"\n#include "sign.h"\n#include "a.h"\n' >"$t/plugins/a/a.c"
: >"$t/plugins/a/a.h"
printf '#include "internal.h"\n#include "../../firmware/hsmd/store.h"\n' >"$t/firmware/hsmd/y.c"
printf '#include "b.h"\n#include "store.h"\n' >"$t/plugins/a/c.c"
bad=$(check_tree "$t")
like "$bad" "firmware/hsmd/y.c: includes core/lib/internal.h" "core/lib's private header included from hsmd is caught"
like "$bad" "plugins/a/c.c: includes plugins/b/b.h" "another plugin's header is caught"
like "$bad" "plugins/a/c.c: includes firmware/hsmd/store.h" "hsmd's header included from a plugin is caught"
unlike "$bad" "y.c: includes firmware/hsmd/store.h" "a path back into the own folder is the folder's"
unlike "$bad" '^(plugins/a/a\.c|core/cli/|core/lib/x\.c)' "own headers, library interfaces and core/cli's hsm_main pass"
done_testing
