#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/integration/upgrade-vcm.sh - an upgrade is refused while any VCM
# is active, even with --force (guide 4.10.1.4), and goes through once the
# VCM is stopped.
. "$top_srcdir/tests/lib/vcm-lib.sh"
VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }
for _p in upgrade vcmadmin vcmtenant; do
	case " ${BUILT_PLUGINS:-} " in *" $_p "*) ;; *) skip_all "$_p plugin not built" ;; esac
done
vcm_setup
so=$(_find_built "$top_builddir/firmware/services/updater" updater.so) || skip_all "updater service not built"
cp "$so" "$HSMD_SVCDIR/updater.so"
cp "$top_srcdir/conf.d/services.d/updater.conf" "$HSMD_CONFDIR/services.d/"
openssl pkey -in "$TEST_TMP/vendor.pem" -pubout -out "$HSMD_CONFDIR/vendor.d/vendor.pem" 2>/dev/null
cd "$TEST_TMP" || exit 1
mkdir -p mods/services.d
cp "$HSMD_SVCDIR"/*.so mods/
cp "$HSMD_CONFDIR"/services.d/*.conf mods/services.d/
"$VENDOR" npkg --key vendor.pem --component primary --version 13.7.1 --vsn 8 --modules mods --out new.npkg >/dev/null

E=4D56-EF78-9012
ok "an HSM with the orchestrator" vcm_hsm h "$E"
ok "a licence for one active VCM" licence h "$E" 1
ok "a VCM" new_vcm T1 "tenant one"
va start "$UUID"
is "$rc" 0 "the VCM started"
run hsmadmin upgrade --esn "$E" --dry-run --force new.npkg
is "$rc" 3 "upgrade refused while a VCM is active, even with --force"
like "$err" "VCM is active \($UUID\): stop every VCM before upgrading firmware \(--force does not override this\)" \
	"... naming the VCM"
va stop "$UUID"
is "$rc" 0 "the VCM stopped"
run hsmadmin upgrade --esn "$E" --dry-run --force new.npkg
is "$rc" 0 "with no active VCM the dry run passes"
done_testing
