#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The dispatcher and option parser end to end: the real binary, a fixture
# plugin with every option type, hsmadmin and vcmadmin from one binary.
. "$top_srcdir/tests/lib/common.sh"
install_fixture good

run hsmadmin --help
is "$rc" 0 "hsmadmin --help exits 0"
like "$out" "  good
      fixture good" "top-level help lists the fixture from its conf"
run hsmadmin -v
abi_minor=$(sed -n 's/^#define HSMADMIN_PLUGIN_ABI_MINOR //p' "$top_srcdir/core/include/hsmadmin/plugin.h")
like "$out" "^hsmadmin [0-9.]+ \\(plugin ABI 1\\.$abi_minor\\)$" "-v prints the version"
run hsmadmin --version
is "$rc" 0 "--version exits 0"
run vcmadmin -v
like "$out" "^vcmadmin " "argv[0] selects the tool name"

run hsmadmin good show --name x f1
is "$rc" 0 "a command runs"
like "$out" "tool=hsmadmin timeout=30 esns=0" "hsmadmin tool, default timeout"
like "$out" "count=3" "integer default applied"
run vcmadmin good show --name x f1
like "$out" "tool=vcmadmin" "the same plugin adds a command to vcmadmin"

run hsmadmin good show --name x --count 11 f1
is "$rc" 2 "int out of range is a usage error (exit 2)"
is "$err" "hsmadmin: good show: usage: --count: 11 is out of range (1..10) (try 'hsmadmin good show --help')" "one-line usage error"
run hsmadmin good show --name x --loud --quiet f1
is "$rc" 2 "mutually exclusive options refused"
like "$err" "--loud and --quiet cannot be used together" "names both options"
run hsmadmin good show f1
like "$err" "missing required option --name" "required option enforced"
run hsmadmin good show --name x
like "$err" "missing operand FILE" "required operand enforced"
run hsmadmin good show --name x --tag a --tag b f1 f2 f3
is "$rc" 0 "repeatable option and operands"
run hsmadmin good show --json --name x --tag a --tag b f1 f2 f3
is "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["tag"], d["rest"], d["file"])')" \
   "['a', 'b'] ['f2', 'f3'] f1" "--json prints one document with the parsed values"
unlike "$out" "tool=" "--json suppresses the text output"

run hsmadmin good device show --name x --esn A --esn B --timeout 120 f
like "$out" "timeout=120 esns=2" "device command: --esn repeatable, --timeout"
for t in 2 121 abc; do
	run hsmadmin good device show --name x --timeout $t f
	is "$rc" 2 "--timeout $t is a usage error"
done
run hsmadmin good show --name x --esn A f
like "$err" "unknown option '--esn'" "non-device commands do not take --esn"

run hsmadmin good show --name x --fail f
is "$rc" 3 "a command's exit code is passed through"
is "$err" "hsmadmin: good show: fixture: asked to fail" "error line format <tool>: <command>: <what>: <why>"
run hsmadmin good show --json --name x --fail f
is "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["exit"])')" 3 "--json error document"

run hsmadmin good show --help
is "$rc" 0 "command --help exits 0"
like "$out" "usage: hsmadmin good show \\[-h\\] --name NAME \\[--count COUNT\\] \\[--tag TAG ...\\] \\[--loud \\| --quiet\\]" "usage line from the table"
like "$out" "1\\.\\.10" "help shows the range"
run hsmadmin good device show -h
like "$out" "--timeout SECONDS" "device command help shows --timeout"
run hsmadmin good
is "$rc" 2 "a group without subcommand is a usage error"
like "$err" "good show" "group help lists the subcommands"
run hsmadmin good --help
is "$rc" 0 "group --help exits 0"
# Another spelling of a command (HSM_CMDF_ALIAS, like the guide's
# "settime adjust" and "show uuid") is a form of that command in help.
is "$(printf '%s\n' "$out" | grep -c 'good device')" 1 "group help lists a command and its other spelling once"
like "$out" "good device show +Show parsed options of a device command \(also: good device list\)" \
	"... on the command's line, naming the other form"
run hsmadmin good device show -h
like "$out" "Also written: hsmadmin good device list" "a command's help names its other spelling"
run hsmadmin good device list --name x f
is "$rc" 0 "the other spelling runs"
like "$out" "name=x" "... as the same command"
run hsmadmin good bogus
is "$rc" 2 "unknown subcommand"
run hsmadmin nosuch
is "$rc" 2 "unknown command exits 2"
is "$err" "hsmadmin: unknown command 'nosuch' (try 'hsmadmin --help')" "unknown command message"
run hsmadmin --bogus
is "$rc" 2 "unknown top-level option exits 2"
run hsmadmin
is "$rc" 2 "no command at all exits 2 with help on stderr"

# HSMADMIN_CONF really decides: an empty configuration has no commands.
mkdir -p "$TEST_TMP/empty/plugins.d"
HSMADMIN_CONF="$TEST_TMP/empty" run hsmadmin good show --name x f
is "$rc" 2 "another HSMADMIN_CONF has other commands"
done_testing
