#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Nothing is exported without a declaration: every symbol the libraries
# export (nm -D) is declared in a header of core/ or firmware/lib/ (HSM_API marks them;
# everything else is hidden by -fvisibility=hidden).  An exported symbol
# no header names is an ABI nobody can see or keep.
. "$top_srcdir/tests/lib/common.sh"
command -v nm >/dev/null || skip_all "no nm"

# undeclared SYMBOLS-FILE HEADER-DIR...: exported symbols no header names.
undeclared() {
	_syms=$1; shift
	_words=$(find "$@" -name '*.h' -exec cat {} + | tr -c 'A-Za-z0-9_' '\n' | sort -u)
	printf '%s\n' "$_words" >"$TEST_TMP/words"
	sort -u "$_syms" | comm -23 - "$TEST_TMP/words"
}

: >"$TEST_TMP/syms"
for lib in core/libhsmadmin core/libhsmadmin-crypto core/libhsmadmin-net core/libhsmadmin-call firmware/lib/libhsmfw; do
	so=$(_find_built "$top_builddir/${lib%/*}" "${lib##*/}.so") || { echo "Bail out! $lib not built"; exit 1; }
	# Defined code and data; the sanitizers' own symbols start with __.
	nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^_/ { print $3 }' >>"$TEST_TMP/syms"
done
n=$(sort -u "$TEST_TMP/syms" | wc -l)
ok "the libraries export functions ($n)" test "$n" -gt 50
is "$(undeclared "$TEST_TMP/syms" "$top_srcdir/core" "$top_srcdir/firmware/lib" | tr '\n' ' ')" "" \
	"every exported symbol is declared in a header under core/ or firmware/lib/"

# libhsmadmin-call, the public call API for vendor plugins, exports that
# API (<hsmadmin/call.h>) and nothing of the transport under it.
so=$(_find_built "$top_builddir/core" libhsmadmin-call.so)
calls=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^_/ { print $3 }' | sort | tr '\n' ' ')
declared=$(grep -o 'hsm_call[a-z_]*(' "$top_srcdir/core/include/hsmadmin/call.h" | tr -d '(' | sort -u | tr '\n' ' ')
is "$calls" "$declared" "libhsmadmin-call exports exactly the functions of <hsmadmin/call.h>"

# The check can fail.
printf 'hsm_declared\nhsm_secret_helper\n' >"$TEST_TMP/fake"
mkdir -p "$TEST_TMP/h" && printf 'HSM_API int hsm_declared(void);\n' >"$TEST_TMP/h/x.h"
is "$(undeclared "$TEST_TMP/fake" "$TEST_TMP/h")" "hsm_secret_helper" "an undeclared export is caught"
done_testing
