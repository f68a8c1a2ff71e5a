#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/integration/firmware-images.sh - hsmd runs the firmware image
# installed from a vendor-signed package: provisioning installs packages
# (and refuses an untrusted or tampered one), status and info report the
# package's versions and VSN, the services served are the image's, and at
# boot every file is checked against the signed manifest: a changed module
# or a module the manifest does not list, or an image whose services fail
# to start, makes hsmd go back to the previous image and say so in the
# system log.  Without a package the development image (servicedir) runs.
. "$top_srcdir/tests/lib/hsmd-common.sh"
VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }
hsmd_setup
client_keys
cd "$TEST_TMP" || exit 1

# The vendor key of hsmd_setup signs the warrant and the packages; hsmd
# trusts its public half.
mkdir -p "$HSMD_CONFDIR/vendor.d" mods/services.d pkgs
openssl pkey -in vendor.pem -pubout -out "$HSMD_CONFDIR/vendor.d/vendor.pem" 2>/dev/null
cp "$HSMD_SVCDIR"/*.so mods/
cp "$HSMD_CONFDIR"/services.d/*.conf mods/services.d/
"$VENDOR" npkg --key vendor.pem --component primary --version 13.7.1 --vsn 8 --modules mods --out pkgs >/dev/null
"$VENDOR" npkg --key vendor.pem --component recovery --version 13.7.0 --vsn 8 --modules mods --out pkgs >/dev/null
P=pkgs/nShield5s-primary-13.7.1-vsn8.npkg R=pkgs/nShield5s-recovery-13.7.0-vsn8.npkg
[ -f "$P" ] && [ -f "$R" ] || { echo "Bail out! packages not built"; exit 1; }

status() { # NAME: setup status and info into $st and $inf
	call "$1" setup status setup ''; st=$out
	call "$1" setup info setup ''; inf=$out
}

# --- provisioning with packages -------------------------------------------------
A=$(test_address)
run "$HSMD" provision --state "$TEST_TMP/h" --esn 1A23-BC45-6789 --address "$A" \
	--vendor-key vendor.pem --firmware "$P" --firmware "$R"
is "$rc" 0 "provision installs a primary and a recovery package"
HSMD_ADDR[h]=$A
is "$(jq -r '"\(.primary.version) \(.primary.vsn) \(.recovery.version) \(.primary.development)"' h/images.json)" \
	"13.7.1 8 13.7.0 false" "images.json names the installed images"
id=$(jq -r .primary.id h/images.json)
ok "the image's files are in its own directory" test -f "h/images/$id/modules/setup.so" -a -f "h/images/$id/manifest.json"
# The image, not servicedir, is what runs: an empty servicedir proves it.
mv "$HSMD_SVCDIR" services.off
mkdir -m 0755 "$HSMD_SVCDIR"
ok "hsmd serves from the installed image" hsmd_start h
call h sshadmin enroll sshadmin "$(enroll_params)"
is "$rc" 0 "enrolled"
status h
is "$(printf '%s' "$st" | jq -r '"\(.firmware.primary) \(.firmware.recovery)"')" "13.7.1 13.7.0" \
	"status shows the installed packages' versions"
is "$(printf '%s' "$inf" | jq -r .vsn)" 8 "info shows the package's VSN"
hsmd_stop h
rm -rf "$HSMD_SVCDIR"
mv services.off "$HSMD_SVCDIR"

# A package the HSM's vendor did not sign, and a tampered one, never install.
"$VENDOR" keygen --out rogue.key --pub rogue.pub >/dev/null
"$VENDOR" npkg --key rogue.key --component primary --version 99.0 --vsn 99 --modules mods --out rogue.npkg >/dev/null
run "$HSMD" provision --state "$TEST_TMP/r" --esn 1A23-BC45-6780 --address "$(test_address)" \
	--vendor-key vendor.pem --firmware rogue.npkg
is "$rc" 1 "provision refuses a package of another vendor"
like "$err" "not a trusted vendor key" "... saying why"
ok "... and leaves no HSM behind" test ! -e r/lifetime.json
head -c -1 "$P" >short.npkg
run "$HSMD" provision --state "$TEST_TMP/s" --esn 1A23-BC45-6781 --address "$(test_address)" \
	--vendor-key vendor.pem --firmware short.npkg
is "$rc" 1 "provision refuses a truncated package"
ok "... and leaves no image behind" test -z "$(ls s/images 2>/dev/null)"

# --- boot checks: a changed module rolls back -------------------------------------
# (The image before the package was the development one: servicedir.)
printf 'x' >>"h/images/$id/modules/monitor.so"
ok "hsmd still boots" hsmd_start h
like "$(cat h.log)" "modules/monitor.so: does not match the signed manifest" "the changed module is found"
like "$(cat h.log)" "firmware rolled back from 13.7.1 to 13.6.3" "hsmd rolled back to the previous image"
like "$(grep firmware_rollback h/system.log)" '"from":"13.7.1".*"to":"13.6.3"' "... and the system log says so"
status h
is "$(printf '%s' "$st" | jq -r .firmware.primary)" 13.6.3 "status shows the image that runs"
hsmd_stop h

# A file the signed manifest does not list is refused the same way.
E=$(test_address)
hsmd_provision e "$E" 1A23-BC45-6785 --firmware "$P"
eid=$(jq -r .primary.id e/images.json)
cp mods/setup.so "e/images/$eid/modules/extra.so"
ok "an image with an extra module: hsmd boots" hsmd_start e
like "$(cat e.log)" "modules/extra.so: a file the signed manifest does not list" "the extra module is found"
like "$(grep firmware_rollback e/system.log)" '"from":"13.7.1"' "... rolled back, in the system log"
hsmd_stop e

# --- an image whose services fail to start rolls back ---------------------------------
B=$(test_address)
hsmd_provision b "$B" 1A23-BC45-6782 --firmware "$P"
hsmd_start b
call b sshadmin enroll sshadmin "$(enroll_params b)"
status b
is "$(printf '%s' "$st" | jq -r .firmware.primary)" 13.7.1 "a second HSM runs 13.7.1"
hsmd_stop b
mkdir -p broken/services.d
cp mods/*.so broken/
cp mods/services.d/*.conf broken/services.d/
printf '[service]\nname = ghost\nmodule = ghost.so\n' >broken/services.d/ghost.conf
"$VENDOR" npkg --key vendor.pem --component primary --version 13.8.0 --vsn 9 --modules broken --out pkgs >/dev/null
# Install it as an upgrade would: a new image, the old one kept as previous.
"$HSMD" provision --state "$TEST_TMP/tmpb" --esn 1A23-BC45-6783 --address "$(test_address)" \
	--vendor-key vendor.pem --firmware pkgs/nShield5s-primary-13.8.0-vsn9.npkg >/dev/null
nid=$(jq -r .primary.id tmpb/images.json)
cp -a "tmpb/images/$nid" "b/images/$nid"
jq --slurpfile n tmpb/images.json '.previous = .primary | .primary = $n[0].primary | .trial = true' \
	b/images.json >b/images.new && mv b/images.new b/images.json
hsmd_start b
like "$(cat b.log)" "image 13.8.0: 1 of its 4 services failed to start" "the new image's missing service is found"
like "$(cat b.log)" "firmware rolled back from 13.8.0 to 13.7.1" "hsmd went back to the previous image"
like "$(grep firmware_rollback b/system.log)" '"to":"13.7.1"' "... said in the system log"
status b
is "$(printf '%s' "$st" | jq -r .firmware.primary)" 13.7.1 "status shows the image that runs"
is "$(jq -r '"\(.primary.version) \(.previous) \(.trial)"' b/images.json)" "13.7.1 null false" \
	"images.json names the old image again"
ok "the failed image's directory is gone" test ! -e "b/images/$nid"
hsmd_stop b

# --- no package: the development image -----------------------------------------------
D=$(test_address)
hsmd_provision d "$D" 1A23-BC45-6784
ok "without a package hsmd runs the development image" hsmd_start d
call d sshadmin enroll sshadmin "$(enroll_params d)"
status d
is "$(printf '%s' "$st" | jq -r .firmware.primary)" 13.6.3 "... with the development versions"
ok "... and no images.json" test ! -e d/images.json
hsmd_stop d
done_testing
