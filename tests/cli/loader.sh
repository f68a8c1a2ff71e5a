#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The plugin loader refuses bad plugins one by one, with one line naming the
# file and the reason, and the other commands keep working.
. "$top_srcdir/tests/lib/common.sh"
install_fixture good
for f in abi small nosym dup initfail undef badopt; do install_fixture $f; done

run hsmadmin good show --name x f
is "$rc" 0 "a good plugin works next to broken ones"
is "$err" "" "and loading it opens no broken plugin (no diagnostics)"

check() { # check FIXTURE REGEX DESCRIPTION
	run hsmadmin "$1" show --name x f
	is "$rc" 6 "$3: exit 6 (command unavailable)"
	first=$(printf '%s\n' "$err" | head -n 1)
	like "$first" "^hsmadmin: plugin $1 \\(.*/plugins.d/$1.conf\\): .*/$1\\.so: $2" "$3: one line naming conf, file and reason"
	like "$err" "command unavailable: plugin $1 could not be loaded" "$3: says the command is unavailable"
}
abi_minor=$(sed -n 's/^#define HSMADMIN_PLUGIN_ABI_MINOR //p' "$top_srcdir/core/include/hsmadmin/plugin.h")
check abi "plugin ABI 99\\.$abi_minor, this hsmadmin speaks 1\\.$abi_minor" "wrong ABI major"
check small "descriptor too small" "too-small descriptor"
check nosym "no 'hsmadmin_plugin' symbol" "missing descriptor symbol"
check dup "duplicate command path 'dup show' for hsmadmin" "duplicate command path"
check initfail "initialisation failed: fixture refuses to start" "failing init"
check undef "cannot load: .*hsm_fixture_symbol_nobody_defines" "unresolved symbol"
check badopt "command .badopt show. redefines the common option --json" "bad option table"

# A second plugin claiming a command path another conf owns.
install_fixture good zz-clash
sed -i 's/^name = good/name = clash/' "$HSMADMIN_CONF/plugins.d/zz-clash.conf"
run hsmadmin good show --name x f
is "$rc" 0 "the first owner keeps the command"
like "$err" "zz-clash.conf: duplicate command path: 'good' for hsmadmin is already owned by plugin good" "the clash is reported"
rm "$HSMADMIN_CONF/plugins.d/zz-clash.conf"

# Trust: group- or world-writable files and directories are refused.
chmod g+w "$PLUGIN_DIR/good.so"
run hsmadmin good show --name x f
is "$rc" 6 "group-writable plugin file refused"
like "$err" "good\\.so: refused: writable by its group" "reason: group-writable"
chmod 0755 "$PLUGIN_DIR/good.so"
chmod o+w "$PLUGIN_DIR"
run hsmadmin good show --name x f
like "$err" "plugin directory .* refused: writable by others" "world-writable plugin directory refused"
chmod 0755 "$PLUGIN_DIR"
chmod g+w "$HSMADMIN_CONF/plugins.d/good.conf"
run hsmadmin good show --name x f
like "$err" "good\\.conf: refused: writable by its group" "group-writable plugin conf refused"
is "$rc" 2 "and its commands do not exist"
chmod 0644 "$HSMADMIN_CONF/plugins.d/good.conf"
mv "$PLUGIN_DIR/good.so" "$PLUGIN_DIR/real-good.so"
ln -s real-good.so "$PLUGIN_DIR/good.so"
run hsmadmin good show --name x f
like "$err" "symbolic links are not followed" "a symlinked plugin file is refused"
rm "$PLUGIN_DIR/good.so"; mv "$PLUGIN_DIR/real-good.so" "$PLUGIN_DIR/good.so"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$PLUGIN_DIR/good.so"
	run hsmadmin good show --name x f
	like "$err" "good\\.so: refused: owned by uid [0-9]+, not by root or by us" "a file owned by another user is refused"
	chown 0 "$PLUGIN_DIR/good.so"
else
	_tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP chown needs root"
fi

# Bad configuration files: one line each, the rest still loads.
printf '[plugin]\nname = x\nfile = ../evil.so\n[commands]\nhsmadmin = x\n' >"$HSMADMIN_CONF/plugins.d/evil.conf"
printf '[plugin]\nname = y\nfile = y.so\nbogus = 1\n[commands]\nhsmadmin = y\n' >"$HSMADMIN_CONF/plugins.d/unknownkey.conf"
printf '[plugin]\nname = z\nfile = z.so\n  hsmadmin = z\n' >"$HSMADMIN_CONF/plugins.d/indent.conf"
run hsmadmin good show --name x f
is "$rc" 0 "bad conf files do not stop good plugins"
like "$err" "evil.conf:3: file must be a plain file name in the plugin directory" "path escape in file= refused"
like "$err" "unknownkey.conf:4: unknown key 'bogus' in section \\[plugin\\]" "unknown key refused with its line"
like "$err" "indent.conf:4: leading white space" "indented continuation refused"
# A plugin whose file is gone (its package removed, its conf kept as a
# conffile) is not an error: it disappears from help and completion.
install_fixture good gone
rm -f "$PLUGIN_DIR/good.so"
run hsmadmin --help
is "$rc" 0 "help with a plugin whose file is gone exits 0"
unlike "$out" "good" "... and does not list its commands"
unlike "$err" "gone\\.conf|good" "... and says nothing about it"
run hsmadmin completion bash
unlike "$out" "'hsmadmin\\|good " "completion does not offer its commands"
run hsmadmin good show --verbose
like "$err" "note: good.so is not installed in .*plugin good skipped" "--verbose notes the skipped conf"
rm -f "$HSMADMIN_CONF/plugins.d/gone.conf"
done_testing
