#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Small consistencies a user or packager meets first: warnings are errors
# only when asked (--enable-werror, which the test command passes), every
# tool answers --version and --help with exit 0, completion's help works
# after the shell's name too.
. "$top_srcdir/tests/lib/common.sh"

# --- -Werror only with --enable-werror -----------------------------------------------
help=$("$top_srcdir/configure" --help 2>/dev/null)
like "$help" "--enable-werror +turn warnings into errors" "configure offers --enable-werror"
unlike "$help" "--disable-werror" "... and -Werror is not the default"
n=$(grep -c '"\$top/configure"' "$top_srcdir/scripts/test.sh")
m=$(grep '"\$top/configure"' "$top_srcdir/scripts/test.sh" | grep -c -- '--enable-werror')
ok "the test command passes --enable-werror to each of its $n configure runs" test "$n" -gt 0 -a "$n" = "$m"
like "$(grep -h 'AM_DISTCHECK_CONFIGURE_FLAGS' "$top_srcdir/Makefile.am")" "--enable-werror" \
	"... and so does distcheck"
if grep -q '^WARN_CFLAGS = ' "$top_builddir/Makefile"; then
	flags=$(sed -n 's/^WARN_CFLAGS = //p' "$top_builddir/Makefile")
	if grep -q 'enable-werror' "$top_builddir/config.status"; then
		like "$flags" "-Werror" "this build was configured with --enable-werror: -Werror is on"
	else
		unlike "$flags" "-Werror" "this build was configured without --enable-werror: -Werror is off"
	fi
fi

# --- --version and --help exit 0 ------------------------------------------------------
VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }
run "$VENDOR" --version
is "$rc" 0 "hsm-vendor --version: exit 0"
like "$out" "^hsm-vendor [0-9]" "... prints its version"
run "$VENDOR" --help
is "$rc" 0 "hsm-vendor --help: exit 0"
run hsmadmin --version
is "$rc" 0 "hsmadmin --version: exit 0"
run hsmadmin completion bash --help
is "$rc" 0 "hsmadmin completion bash --help: exit 0"
like "$out" "^usage: hsmadmin completion" "... prints the usage"
run hsmadmin completion --help
is "$rc" 0 "hsmadmin completion --help: exit 0"
run hsmadmin completion bogus
is "$rc" 2 "hsmadmin completion bogus: usage (exit 2)"
done_testing
