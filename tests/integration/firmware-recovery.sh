#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/integration/firmware-recovery.sh - recovery mode runs the recovery
# image's own firmware (guide 4.1.1, 4.5.4): an HSM with a primary package
# (13.7.1: every service) and a recovery package told apart by its version
# (13.5.2) and its services (sshadmin, setup, updater; no monitor).  A
# reset with the recovery button held loads the platform services from the
# recovery image's verified files: the modules mapped into hsmd are the
# recovery image's, enrollment pins only its services, status shows
# firmware.running 13.5.2 and enquiry that version; a client that connects
# while hsmd restarts into the other image is served, not refused.  A
# reset without the button, and a power cycle, bring the primary image
# back.  A recovery image that fails its check does not boot, and says to
# release the button.
. "$top_srcdir/tests/lib/platform-lib.sh"
VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }
case " ${BUILT_PLUGINS:-} " in *" enquiry "*) ;; *) skip_all "enquiry plugin not built" ;; esac
ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/enquiry"
platform_setup
for s in updater orchestrator; do
	hsmd_add_service "$s" || skip_all "service $s not built"
done
mkdir -p "$HSMD_CONFDIR/vendor.d"
openssl pkey -in "$TEST_TMP/vendor.pem" -pubout -out "$HSMD_CONFDIR/vendor.d/vendor.pem" 2>/dev/null
cd "$TEST_TMP" || exit 1

# --- two packages that can be told apart --------------------------------------------------
mkdir -p prim/services.d rec/services.d pkgs
cp "$HSMD_SVCDIR"/*.so prim/
cp "$HSMD_CONFDIR"/services.d/*.conf prim/services.d/
for s in sshadmin setup updater; do
	cp "$HSMD_SVCDIR/$s.so" rec/
	cp "$HSMD_CONFDIR/services.d/$s.conf" rec/services.d/
done
"$VENDOR" npkg --key vendor.pem --component primary --version 13.7.1 --vsn 8 --modules prim --out pkgs >/dev/null
"$VENDOR" npkg --key vendor.pem --component recovery --version 13.5.2 --vsn 8 --modules rec --out pkgs >/dev/null
P=pkgs/nShield5s-primary-13.7.1-vsn8.npkg R=pkgs/nShield5s-recovery-13.5.2-vsn8.npkg
[ -f "$P" ] && [ -f "$R" ] || { echo "Bail out! packages not built"; exit 1; }

ESN=1A23-BC45-6789
S=$TEST_TMP/h
ok "provision with a primary and a recovery package" hsmd_provision h "$(test_address)" "$ESN" \
	--module-conf "$HSMADMIN_CONF/modules.d/h.conf" --firmware "$P" --firmware "$R"
PID_DIR=$(jq -r .primary.id h/images.json) RID_DIR=$(jq -r .recovery.id h/images.json)
# The package images, not servicedir, are what runs: an empty servicedir proves it.
mv "$HSMD_SVCDIR" services.off
mkdir -m 0755 "$HSMD_SVCDIR"
hsmd_start h || { echo "Bail out! hsmd did not start: $(tail -5 h.log)"; exit 1; }
PID=${HSMD_PIDS[h]}

status_of() { ha status --esn "$ESN" --json; printf '%s' "$out" | jq -r ".modules[0].result | $1"; }
enquiry_version() { run enquiry --json; printf '%s' "$out" | jq -r '.modules[] | select(.kind == "hsm") | .version'; }
pins() { jq -r '.host_keys | keys | join(",")' "$HSMADMIN_HOME/pins/$ESN.json" 2>/dev/null; }
# The image directories whose modules are mapped into hsmd right now.
mapped_images() {
	grep -o "/images/[0-9a-f]*/modules/[a-z]*\.so" "/proc/$PID/maps" 2>/dev/null |
		cut -d/ -f3 | sort -u | tr '\n' ' '
}

ha enroll --esn "$ESN" --secret-file "$(secrets)"
rc_is 0 "enroll (primary image)"
is "$(status_of '"\(.image) \(.firmware.running) \(.firmware.primary) \(.firmware.recovery)"')" \
	"primary 13.7.1 13.7.1 13.5.2" "status: the primary image 13.7.1 runs; recovery 13.5.2 installed"
is "$(enquiry_version)" 13.7.1 "enquiry: version 13.7.1"
is "$(mapped_images)" "$PID_DIR " "hsmd runs the primary image's modules"
like "$(pins)" "monitor" "the primary image serves monitor"

# --- the recovery button held: the recovery image's own modules ----------------------------
run "$HSMD" button --state "$S" --hold 60
rc_is 0 "hold the recovery button"
ha reset --esn "$ESN"
rc_is 0 "reset with the button held"
like "$out" "the recovery image booted \(recovery mode\)" "... the recovery image booted"
# No wait: hsmd restarts into the recovery image while this enroll connects.
ha enroll --esn "$ESN" --secret-file "$(secrets)"
rc_is 0 "enroll right after the reset (the restart does not refuse connections)"
is "$(kill -0 "$PID" 2>/dev/null && echo same)" same "hsmd restarted in place (the same process)"
is "$(mapped_images)" "$RID_DIR " "hsmd runs the recovery image's modules, none of the primary's"
is "$(pins)" "setup,sshadmin,updater" "only the recovery image's services run (it has no monitor)"
is "$(status_of '"\(.image) \(.mode) \(.firmware.running) \(.firmware.primary)"')" \
	"recovery recovery 13.5.2 13.7.1" "status: firmware.running is the recovery image's 13.5.2"
ha status --esn "$ESN"
like "$out" "firmware.running: +13.5.2" "status text shows it"
is "$(enquiry_version)" 13.5.2 "enquiry: version 13.5.2 in recovery mode"
run enquiry
like "$out" "version +13.5.2" "enquiry text too"
like "$(cat h.log)" "booted the recovery image 13.5.2" "hsmd's log names the recovery image"
like "$(cat h/init.log)" '"image":"recovery"' "the init log shows the recovery image booted"
ha logs get --esn "$ESN" --log init
rc_is 3 "logs get needs monitor, which this recovery image does not run: exit 3"
like "$err" "the monitor service was not enrolled" "... saying so"

# A reset with the button still held stays on it, without a restart.
ha reset --esn "$ESN"
rc_is 0 "reset with the button still held"
is "$(status_of '"\(.image) \(.state) \(.firmware.running)"')" "recovery enrolled 13.5.2" \
	"... still the recovery image, still enrolled"

# --- leaving recovery mode: the primary image again ---------------------------------------
run "$HSMD" button --state "$S" --release
ha reset --esn "$ESN"
rc_is 0 "reset without the button"
like "$out" "left recovery mode: the primary image booted" "... left recovery mode"
ha enroll --esn "$ESN" --secret-file "$(secrets)"
rc_is 0 "enroll on the primary image"
is "$(mapped_images)" "$PID_DIR " "hsmd runs the primary image's modules again"
like "$(pins)" "monitor" "... monitor serves again"
is "$(status_of '"\(.image) \(.mode) \(.firmware.running)"')" "primary operational 13.7.1" \
	"status: the primary image 13.7.1 runs"
is "$(enquiry_version)" 13.7.1 "enquiry: version 13.7.1 again"

# --- a power cycle with the button held boots the recovery image too ---------------------
run "$HSMD" button --state "$S" --hold 60
hsmd_stop h
hsmd_start h
PID=${HSMD_PIDS[h]}
is "$(mapped_images)" "$RID_DIR " "a power cycle with the button held: the recovery image's modules"
is "$(jq -r .image h/device.json)" recovery "... in recovery mode"

# --- a recovery image that fails its check does not boot ----------------------------------
hsmd_stop h
printf 'x' >>"h/images/$RID_DIR/modules/setup.so"
before=$(wc -l <h.log)
"$HSMD" run --state "$S" --conf "$HSMD_CONFDIR" >>h.log 2>&1 &
bad=$!
cleanup_pid "$bad"
timeout 60 tail --pid="$bad" -f /dev/null
wait "$bad"
rc=$?
is "$rc" 1 "a tampered recovery image: hsmd does not boot (exit 1)"
like "$(tail -n +"$((before + 1))" h.log)" \
	"the recovery image does not boot: .*modules/setup.so: does not match the signed manifest; release the recovery button" \
	"... saying what failed and to release the button"
unlike "$(tail -n +"$((before + 1))" h.log)" "serving" "... and serves nothing instead"
run "$HSMD" button --state "$S" --release
hsmd_start h
PID=${HSMD_PIDS[h]}
is "$(mapped_images)" "$PID_DIR " "released: the primary image boots"
ha enroll --esn "$ESN" --secret-file "$(secrets)"
is "$(status_of '"\(.image) \(.firmware.running)"')" "primary 13.7.1" "... and serves"
hsmd_stop h
rm -rf "$HSMD_SVCDIR"
mv services.off "$HSMD_SVCDIR"
done_testing
