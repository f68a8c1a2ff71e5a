#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The example plugin of docs/plugin-guide.md builds out of tree with
# pkg-config (against this tree's uninstalled .pc) and runs.
. "$top_srcdir/tests/lib/common.sh"
command -v cc >/dev/null || skip_all "no C compiler"
cp -r "$top_srcdir/docs/examples/hello-plugin" "$TEST_TMP/hello"
run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PKG_CONFIG_PATH="$top_builddir/core" make -C "$TEST_TMP/hello"
is "$rc" 0 "example plugin builds with pkg-config hsmadmin-plugin"
[ "$rc" = 0 ] || printf '# %s\n' "$err" | head -20
cp "$TEST_TMP/hello/hello.so" "$PLUGIN_DIR/hello.so"
cp "$TEST_TMP/hello/hello.conf" "$HSMADMIN_CONF/plugins.d/hello.conf"
# Only the descriptor is exported.
is "$(nm -D --defined-only "$PLUGIN_DIR/hello.so" | awk '$2 ~ /[TDRB]/ {print $3}' | grep -v '^_' | sort | tr '\n' ' ')" \
   "hsmadmin_plugin " "the example exports only its descriptor"
run hsmadmin hello --times 2 world
is "$rc" 0 "the example runs"
is "$out" "hello, world
hello, world" "and prints what it should"
run hsmadmin hello --shout --whisper world
is "$rc" 2 "its exclusive group is enforced by the core"
run hsmadmin hello --json world
like "$out" '"greeted": "world"' "its --json document"

# A plugin built for the previous minor ABI (1.0, before the call API of
# 1.1) still loads: the same example, built against a frozen copy of the
# 1.0 header that comes first on the include path.
abi10=$top_srcdir/tests/fixtures/plugin-abi-1.0
minor() { # the ABI minor a compile with CFLAGS $1 sees
	printf '#include <hsmadmin/plugin.h>\nHSMADMIN_PLUGIN_ABI_MINOR\n' |
		cc -E -P $1 $(PKG_CONFIG_PATH="$top_builddir/core" pkg-config --cflags hsmadmin-plugin) - |
		tail -1
}
is "$(minor "-I$abi10")" 0 "the frozen header is ABI 1.0"
like "$(minor "")" '^[1-9]' "this tree's header is a newer minor"
rm -rf "$TEST_TMP/hello10"
cp -r "$top_srcdir/docs/examples/hello-plugin" "$TEST_TMP/hello10"
run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PKG_CONFIG_PATH="$top_builddir/core" \
	make -C "$TEST_TMP/hello10" CFLAGS="-O2 -I$abi10"
is "$rc" 0 "the example builds against the 1.0 header"
cp "$TEST_TMP/hello10/hello.so" "$PLUGIN_DIR/hello.so"
run hsmadmin hello --times 2 world
is "$rc" 0 "a plugin built for ABI 1.0 loads and runs"
is "$out" "hello, world
hello, world" "... and prints what it should"
run hsmadmin hello --shout --whisper world
is "$rc" 2 "... with its options checked by the core"
done_testing
