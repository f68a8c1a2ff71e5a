#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The vendor pair of docs/examples/vendor-pair, as a vendor ships it: both
# halves built out of tree with pkg-config against a `make install
# DESTDIR` of the SDK (headers, .pc files, libraries), installed with their
# plugins.d and services.d files, and the plugin calling its service module
# on real hsmd processes on loopback through <hsmadmin/call.h>: fan-out and
# --esn, per-HSM results, host-key pinning, the client key of the service,
# the timeout, each HSM's line as it answers (a silent HSM holds nothing
# back) with the progress line on a terminal, and the device's refusal of
# bad params.
. "$top_srcdir/tests/lib/platform-lib.sh"
command -v cc >/dev/null || skip_all "no C compiler"
command -v pkg-config >/dev/null || skip_all "no pkg-config"
platform_setup

# --- the SDK, installed into a DESTDIR -----------------------------------------
SDK=$TEST_TMP/sdk
# make from inside make check: not as a sub-make of the test run
nomake="env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL"
RUN_TIMEOUT=300 run $nomake make -s -C "$top_builddir" DESTDIR="$SDK" \
	install-pkgincludeHEADERS install-pkgconfigDATA
is "$rc" 0 "make install DESTDIR of the SDK's headers and .pc files"
pcdir=$(dirname "$(find "$SDK" -name hsmadmin-call.pc | head -1)")
# The public libraries are copied, not installed by make: libtool relinks
# a library on install, rewriting the build tree's copy while the tests
# running beside this one load it.
libdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir hsmadmin-call)
mkdir -p "$SDK$libdir"
for l in hsmadmin hsmadmin-call; do
	cp -P "$top_builddir"/core/.libs/lib$l.so* "$SDK$libdir/"
done
ok "the SDK has hsmadmin-call.pc" test -f "$pcdir/hsmadmin-call.pc"
ok "... and <hsmadmin/call.h>" test -n "$(find "$SDK" -path '*/hsmadmin/call.h')"
ok "... and libhsmadmin-call.so" test -n "$(find "$SDK" -name 'libhsmadmin-call.so')"
headers=$(find "$SDK" -path '*/include/*' -name '*.h' | sed 's#.*/##' | sort | tr '\n' ' ')
like "$headers" 'call\.h .*plugin\.h' "the SDK's headers are installed"
unlike "$headers" 'transport|hostkeys|modules\.h' "... and no header of the transport"
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$SDK
like "$(pkg-config --cflags --libs hsmadmin-call)" "^-I$SDK/.* -L$SDK/.*-lhsmadmin-call" \
	"pkg-config hsmadmin-call points into the installed SDK"

# --- the vendor pair, built and installed out of tree --------------------------
cp -r "$top_srcdir/docs/examples/vendor-pair" "$TEST_TMP/acme"
run $nomake make -C "$TEST_TMP/acme"
is "$rc" 0 "the vendor pair builds out of tree against the SDK"
run $nomake make -C "$TEST_TMP/acme" install plugindir="$PLUGIN_DIR" \
	pluginconfdir="$HSMADMIN_CONF/plugins.d" servicedir="$HSMD_SVCDIR" \
	serviceconfdir="$HSMD_CONFDIR/services.d"
is "$rc" 0 "... and installs (plugins.d and services.d files)"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
ok "the plugin conf is installed" test -f "$HSMADMIN_CONF/plugins.d/acme.conf"
ok "the service conf is installed" test -f "$HSMD_CONFDIR/services.d/launcher.conf"
exports() { nm -D --defined-only "$1" | awk '$2 ~ /[TDRB]/ {print $3}' | grep -v '^_' | sort | tr '\n' ' '; }
is "$(exports "$PLUGIN_DIR/acme.so")" "hsmadmin_plugin " "the plugin exports only its descriptor"
is "$(exports "$HSMD_SVCDIR/acme-service.so")" "hsmd_service " "the module exports only its descriptor"
needed=$(objdump -p "$PLUGIN_DIR/acme.so" | awk '$1 == "NEEDED" {print $2}' | tr '\n' ' ')
like "$needed" 'libhsmadmin-call\.so\.0' "the plugin links the public libhsmadmin-call"
unlike "$needed" 'libhsmadmin-(net|crypto)|libssh' "... and neither the transport nor libssh"

# --- two HSMs serving the module, enrolled ---------------------------------------
E1=1A23-BC45-6789 E2=2B34-CD56-7890
hsm_new h "$E1" || echo "Bail out! hsmd h did not start"
hsm_new g "$E2" || echo "Bail out! hsmd g did not start"
# sshadmin, setup and monitor, and the vendor's module as launcher
like "$(cat "$TEST_TMP/h.log")" "serving $E1 .*\(4 services\)" "hsmd serves the vendor module too"
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "enroll both HSMs"

ha acme info
is "$rc" 0 "acme info on every HSM"
is "$(printf '%s\n' "$out" | sort)" "$E1: acme 1.0
$E2: acme 1.0" "... one line per HSM (in the order they answer)"
ha acme sum 1 2 39
is "$rc" 0 "acme sum"
is "$(printf '%s\n' "$out" | sort)" "$E1: sum 42 of 3 values
$E2: sum 42 of 3 values" "... computed by the module on each HSM"
ha acme sum --esn "$E2" -- -5 5 7
is "$rc" 0 "acme sum --esn (one HSM; negative values after --)"
is "$out" "$E2: sum 7 of 3 values" "... only the HSM selected by --esn answers"
ha acme info --json --esn "$E1"
is "$rc" 0 "acme info --json"
is "$(jqr ".hsms[\"$E1\"].esn")" "$E1" "... the module's result per HSM (it reports its own ESN)"
is "$(jqr '.errors | length')" 0 "... and no errors"

# --- refusals -------------------------------------------------------------------
ha acme sum one
is "$rc" 2 "a value that is not an integer: exit 2"
like "$err" "^hsmadmin: acme sum: VALUE: 'one' is not an integer$" "... one line naming it"
ha acme sum --esn "$E1" 2000000000
is "$rc" 1 "the module refuses bad params: exit 1 (the device's bad_request)"
like "$err" "^hsmadmin: acme sum: $E1: values\[0\]: not an integer" "... its message, for that HSM"
is "$(hsmadmin acme sum --json --esn "$E1" 2000000000 2>/dev/null | jq -r ".errors[\"$E1\"].code")" \
	bad_request "... code bad_request in the --json document"
ha acme sum --esn 9Z99-ZZZZ-0000 1
is "$rc" 2 "an unknown --esn: exit 2, nothing called"
like "$err" "9Z99-ZZZZ-0000 is not a known HSM" "... named"

# Host-key pinning: a launcher host key other than the pinned one is refused
# before authenticating, on that HSM only.
pins=$HSMADMIN_HOME/pins/$E1.json
cp "$pins" "$TEST_TMP/pins.saved"
jq '.host_keys.launcher = .host_keys.setup' "$TEST_TMP/pins.saved" >"$pins"
ha acme info
is "$rc" 4 "a host key that is not the pinned one: exit 4"
like "$err" "^hsmadmin: acme info: $E1: " "... one line for that HSM"
is "$out" "$E2: acme 1.0" "... the other HSM still answers"
is "$(jq -r ".errors[\"$E1\"].code" <<<"$(hsmadmin acme info --json 2>/dev/null)")" trust \
	"... code trust in the --json document"
cp "$TEST_TMP/pins.saved" "$pins"

# The client key of the service: the call authenticates with this host's
# launcher key; without it there is nothing to authenticate with.
key=$HSMADMIN_HOME/keys/client/launcher
mv "$key" "$key.saved"
ha acme info --esn "$E2"
is "$rc" 3 "no launcher client key on this host: exit 3 (not enrolled)"
like "$err" "^hsmadmin: acme info: $E2: .*launcher" "... naming the service's key"
# Another service's key is not the launcher's: the HSM refuses it.
cp "$HSMADMIN_HOME/keys/client/monitor" "$key"
ha acme info --esn "$E2"
is "$rc" 4 "the monitor key offered to launcher: exit 4 (refused by the HSM)"
rm -f "$key"
mv "$key.saved" "$key"
ha acme info --esn "$E2"
is "$rc" 0 "the launcher key back: the call works again"

# Timeout: an HSM that accepts TCP but never speaks SSH (stopped) costs
# --timeout, reported as unreachable, while the other one answers.
kill -STOP "${HSMD_PIDS[g]}"
start=$(now_ms)
ha acme info --timeout 3
elapsed=$(($(now_ms) - start))
kill -CONT "${HSMD_PIDS[g]}"
is "$rc" 5 "a silent HSM: exit 5 after --timeout"
like "$err" "^hsmadmin: acme info: $E2: " "... reported for that HSM"
is "$out" "$E1: acme 1.0" "... the other HSM's answer is printed"
ok "... bounded by the timeout, not by the silent HSM ($elapsed ms)" test "$elapsed" -lt 20000

# Each HSM as it answers (hsm_call_each): the silent HSM sorts first by
# ESN, so printing in ESN order would hold the other one back.
silent=${HSMD_PIDS[h]}
stream_while_stopped "$silent" 1 . hsmadmin acme info --timeout 60
is "$early" "$E2: acme 1.0
" "a silent HSM: the other HSM's line comes while it is waited for"
# It cannot have ended: the silent HSM had 60 s and was still stopped.
is "$running" yes "... the command still waits for the silent HSM"
is "$rc" 0 "... once it answers: exit 0"
is "$late" "$E1: acme 1.0" "... and its line comes last"
is "$err" "" "... nothing on stderr"
# On a terminal, the core's progress line while the silent HSM is waited for.
kill -STOP "$silent"
ha_tty acme info --timeout 3
kill -CONT "$silent"
is "$rc" 5 "on a terminal, the silent HSM times out: exit 5"
like "$out" "hsmadmin: acme info: waiting for 1 of 2 HSMs \([0-9]+ s\)" \
	"... a progress line while it is waited for"
like "$out" "$E1: " "... then its error line"
ha acme info --timeout 3 --quiet --esn "$E2"
is "$rc$out$err" "0" "--quiet: nothing printed for an HSM that answered"

# An HSM that is gone: unreachable, exit 5.
hsmd_stop g
ha acme info --esn "$E2"
is "$rc" 5 "a stopped HSM: exit 5"
done_testing
