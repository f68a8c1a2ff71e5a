#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# One source of truth for the ABI versions: the headers.  configure reads
# them (configure.ac), and hsmadmin --version, hsmd --version and the
# pkg-config files must all say what the headers say.  A mismatch means
# the headers changed and configure was not regenerated (autoreconf -fi).
. "$top_srcdir/tests/lib/common.sh"

define() { # define HEADER NAME: the value of a #define in an installed header
	sed -n "s/^#define $2 *//p" "$top_srcdir/core/include/hsmadmin/$1"
}
plugin_abi="$(define plugin.h HSMADMIN_PLUGIN_ABI_MAJOR).$(define plugin.h HSMADMIN_PLUGIN_ABI_MINOR)"
service_abi="$(define service.h HSMD_SERVICE_ABI_MAJOR).$(define service.h HSMD_SERVICE_ABI_MINOR)"
like "$plugin_abi" '^[0-9]+\.[0-9]+$' "plugin.h defines the plugin ABI version ($plugin_abi)"
like "$service_abi" '^[0-9]+\.[0-9]+$' "service.h defines the service ABI version ($service_abi)"

run hsmadmin --version
is "$rc" 0 "hsmadmin --version exits 0"
like "$out" "\(plugin ABI ${plugin_abi//./\\.}\)" "hsmadmin --version names the plugin ABI of plugin.h"

HSMD="$top_builddir/firmware/hsmd/hsmd"
run "$HSMD" --version
is "$rc" 0 "hsmd --version exits 0"
like "$out" "\(service ABI ${service_abi//./\\.}\)" "hsmd --version names the service ABI of service.h"

pc_abi() { sed -n 's/^abi=//p' "$top_builddir/core/$1"; }
is "$(pc_abi hsmadmin-plugin.pc)" "$plugin_abi" "hsmadmin-plugin.pc abi= is plugin.h's"
is "$(pc_abi hsmadmin-call.pc)" "$plugin_abi" "hsmadmin-call.pc abi= is plugin.h's"
is "$(pc_abi hsmadmin-plugin-uninstalled.pc)" "$plugin_abi" "hsmadmin-plugin-uninstalled.pc abi= is plugin.h's"
is "$(pc_abi hsmadmin-service.pc)" "$service_abi" "hsmadmin-service.pc abi= is service.h's"
like "$(cat "$top_builddir/core/hsmadmin-service.pc")" "service ABI ${service_abi//./\\.}\)" \
	"hsmadmin-service.pc's description names the same version"
done_testing
