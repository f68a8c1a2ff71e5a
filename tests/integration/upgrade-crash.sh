#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/integration/upgrade-crash.sh - power loss during an upgrade: hsmd
# is killed (SIGKILL, at the crash points of firmware/hsmd/images.h) after
# the package verified but before the image is renamed into place, after
# the rename but before images.json names it, after images.json names it
# but before the reboot, and on the new image's first boot after factory
# state but before the trial ends.  Each time the HSM boots again, into
# the old image or the new one (never neither), with no partial image
# left behind.
. "$top_srcdir/tests/lib/platform-lib.sh"
VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }
case " ${BUILT_PLUGINS:-} " in *" upgrade "*) ;; *) skip_all "upgrade plugin not built" ;; esac
platform_setup
updater_setup
"$VENDOR" npkg --key vendor.pem --component primary --version 13.7.1 --vsn 8 --modules mods --out new.npkg >/dev/null
[ -s new.npkg ] || { echo "Bail out! no package"; exit 1; }

# point EXPECTED-VERSION-AFTER
n=0
for spec in image-staged:13.6.3 image-renamed:13.6.3 image-installed:13.7.1 image-factory:13.7.1; do
	pt=${spec%%:*} want=${spec#*:}
	n=$((n + 1))
	name=c$n esn=3C45-DE67-890$n
	hsm_new "$name" "$esn" || { echo "Bail out! $name did not start"; exit 1; }
	ha enroll --esn "$esn" --secret-file "$(secrets "$name")"
	hsmd_stop "$name"
	HSMD_CRASH_AT=$pt hsmd_start "$name"
	pid=${HSMD_PIDS[$name]}
	ha upgrade --esn "$esn" --force new.npkg
	for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	ok "$pt: hsmd died at the crash point" sh -c "! kill -0 $pid 2>/dev/null"
	like "$(cat "$name.log")" "crash point $pt: SIGKILL" "$pt: ... where it was told to"
	wait "$pid" 2>/dev/null
	ok "$pt: hsmd boots again after the power loss" hsmd_start "$name"
	is "$(jq -r .primary.version "$name/images.json" 2>/dev/null || echo 13.6.3)" "$want" \
		"$pt: images.json names the $( [ "$want" = 13.6.3 ] && echo old || echo new) image"
	like "$(tail -n 5 "$name.log")" "serving $esn" "$pt: ... and it serves"
	left=$(ls -A "$name/images" 2>/dev/null | grep -v "^$(jq -r '.primary.id // empty' "$name/images.json" 2>/dev/null)\$" |
		grep -v "^$(jq -r '.previous.id // empty' "$name/images.json" 2>/dev/null)\$")
	is "$left" "" "$pt: no partial or unnamed image is left"
	if [ "$want" = 13.7.1 ]; then
		is "$(jq -r .trial "$name/images.json")" false "$pt: the new image passed its trial"
		like "$(grep -c '"event":"factorystate"' "$name/system.log")" "^[1-9]" "$pt: ... and it started from factory state"
	fi
	hsmd_stop "$name"
done
done_testing
