#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/integration/upgrade.sh - hsmadmin upgrade against real hsmd: the
# updater service receives a package as a stream, verifies it before it
# writes an image, applies the firmware rules and reboots into the new
# image, which returns the HSM to factory state.  Every refusal is checked
# on the device itself (stock ssh streaming the file) and through
# hsmadmin: tampered payload and manifest, unknown vendor (4), truncated,
# padded (2), another product (1), a VSN below the minimum, not in
# maintenance mode without --force, an operational ncoreapi, a lost clock,
# logs past their safe level (3); --dry-run writes nothing; a downgrade to a VSN >= the minimum works
# and setminvsn then forbids it.
. "$top_srcdir/tests/lib/platform-lib.sh"
VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }
need_plugins upgrade nopclearfail
ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/nopclearfail"
platform_setup
updater_setup

# --- packages ---------------------------------------------------------------------
mkdir -p pkgs
npkg() { "$VENDOR" npkg --key vendor.pem --modules mods --out pkgs "$@" >/dev/null; }
npkg --component primary --version 13.7.1 --vsn 8
npkg --component primary --version 13.6.9 --vsn 7
npkg --component primary --version 13.5.0 --vsn 6
npkg --component primary --version 14.0.0 --vsn 9 --product nShield5c
P8=pkgs/nShield5s-primary-13.7.1-vsn8.npkg P7=pkgs/nShield5s-primary-13.6.9-vsn7.npkg
P6=pkgs/nShield5s-primary-13.5.0-vsn6.npkg OTHER=pkgs/nShield5c-primary-14.0.0-vsn9.npkg
"$VENDOR" keygen --out rogue.key --pub rogue.pub >/dev/null
"$VENDOR" npkg --key rogue.key --component primary --version 13.7.1 --vsn 8 --modules mods --out rogue.npkg >/dev/null
size=$(stat -c %s "$P8")
cp "$P8" payload.npkg
printf 'Z' | dd of=payload.npkg bs=1 seek=$((size - 100)) conv=notrunc status=none
off=$(($(grep -abo '"sha256":"' "$P8" | head -1 | cut -d: -f1) + 12))
cp "$P8" manifest.npkg
c=$(dd if="$P8" bs=1 skip="$off" count=1 status=none); [ "$c" = 0 ] && c=1 || c=0
printf '%s' "$c" | dd of=manifest.npkg bs=1 seek="$off" conv=notrunc status=none
head -c $((size - 1)) "$P8" >trunc.npkg
{ cat "$P8"; printf 'x'; } >padded.npkg
[ -s "$P8" ] && [ -s "$OTHER" ] || { echo "Bail out! packages not built"; exit 1; }

E=1A23-BC45-6789
hsm_new h "$E" || { echo "Bail out! hsmd did not start"; exit 1; }
ha enroll --esn "$E" --secret-file "$(secrets)"
is "$rc" 0 "enrolled (the updater key too)"
mkdir -p keys
"$KEYEXPORT" updater "$HSMADMIN_HOME/keys/client/updater" keys/updater
host_keys_for_ssh

# stream FILE [PARAMS]: the device's upgrade method with the stock ssh.
stream() {
	timeout -k 2 60 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$TEST_TMP/h.known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-o IdentitiesOnly=yes -o ConnectTimeout=5 -o LogLevel=ERROR -i keys/updater \
		-p "$(port_of h updater)" "hsm@${HSMD_ADDR[h]}" upgrade \
		< <(printf '%s\n' "${2:-{\}}"; cat "$1") >.sout 2>.serr
	rc=$?
	out=$(cat .sout); err=$(cat .serr)
}
images_unchanged() { test "$(jq -r .primary.development h/images.json 2>/dev/null || echo true)" = true; }

# --- refusals on the device ---------------------------------------------------------
stream "$P8"
is "$rc" 3 "device: not in maintenance mode: refused (3)"
like "$(jqr .error.message)" "maintenance" "... saying so"
run nopclearfail -M --esn "$E" -w
is "$rc" 0 "maintenance mode"
for f in payload manifest rogue; do
	stream "$f.npkg"
	is "$rc" 4 "device: $f package refused (4)"
done
like "$(stream payload.npkg; jqr .error.message)" "does not match the manifest \(tampered\)" "... a digest mismatch names the file"
like "$(stream rogue.npkg; jqr .error.message)" "not a trusted vendor key" "... an unknown vendor is named"
stream trunc.npkg
is "$rc" 2 "device: truncated package refused (2)"
like "$(jqr .error.message)" "truncated" "... saying so"
stream padded.npkg
is "$rc" 2 "device: padded package refused (2)"
stream "$OTHER"
is "$rc" 1 "device: another product's package refused"
like "$(jqr .error.message)" "for product nShield5c" "... naming it"
stream "$P8" '{"dry_run":true,"bogus":1}'
is "$rc" 2 "device: unknown params refused"
ok "after every refusal no image was installed" images_unchanged
ok "... and no staging directory is left" test -z "$(ls -A h/images 2>/dev/null)"

# --- the same through hsmadmin ------------------------------------------------------------
ha upgrade --esn "$E" manifest.npkg
is "$rc" 4 "hsmadmin: a tampered manifest is refused on the host already"
like "$err" "^hsmadmin: upgrade: package: .*signature" "... before any HSM is contacted"
ha upgrade --esn "$E" payload.npkg
is "$rc" 4 "hsmadmin: a tampered payload is refused by the HSM, which hashes every file (4)"
like "$err" "$E: .*does not match the manifest \(tampered\)" "... naming the HSM and the file"
ok "... and nothing was installed" images_unchanged
ha upgrade --esn "$E" padded.npkg
is "$rc" 2 "hsmadmin: padded: refused on the host from the manifest's sizes (2)"
like "$err" "package: .*padded" "... saying so"
ha upgrade "$P8"
is "$rc" 2 "hsmadmin upgrade needs --esn"
mv "$HSMADMIN_CONF/vendor.d" vendor.d.off  # the host trusts nothing: the HSM decides
ha upgrade --esn "$E" rogue.npkg
is "$rc" 4 "hsmadmin: the HSM refuses an unknown vendor (4)"
like "$err" "$E: .*not a trusted vendor key" "... one line naming the HSM"
mv vendor.d.off "$HSMADMIN_CONF/vendor.d"
ha upgrade --esn "$E" trunc.npkg
is "$rc" 2 "hsmadmin: truncated: 2"

# VSN: the minimum VSN is the floor.
ha setminvsn --esn "$E" 7
is "$rc" 0 "setminvsn 7"
ha upgrade --esn "$E" --dry-run "$P6"
is "$rc" 3 "a VSN below the minimum is refused, even in a dry run"
like "$err" "VSN 6 is lower than the HSM's minimum VSN 7" "... saying so"

# The interlock and a lost clock (hsmd simulate on the stopped HSM).
hsmd_stop h
"$HSMD" simulate --state "$TEST_TMP/h" --ncoreapi operational
hsmd_start h
ha upgrade --esn "$E" --dry-run --force "$P8"
is "$rc" 3 "refused while an ncoreapi is operational (--force does not help)"
like "$err" "ncoreapi" "... saying so"
hsmd_stop h
"$HSMD" simulate --state "$TEST_TMP/h" --ncoreapi stopped --clock-lost yes
hsmd_start h
ha upgrade --esn "$E" --dry-run --force "$P8"
is "$rc" 3 "refused while the clock is lost"
like "$err" "clock" "... saying so"
hsmd_stop h
"$HSMD" simulate --state "$TEST_TMP/h" --clock-lost no
# Logs past their safe level (guide 4.12.1).
used=$(( $(stat -c %s h/system.log) + $(stat -c %s h/init.log) ))
cp "$HSMD_CONFDIR/hsmd.conf" hsmd.conf.saved
printf '[paths]\nservicedir = %s\n[logs]\ncapacity = %d\nsafe_percent = 50\ncritical_percent = 95\n' \
	"$HSMD_SVCDIR" $(( used * 100 / 70 + 1 )) >"$HSMD_CONFDIR/hsmd.conf"
hsmd_start h
ha upgrade --esn "$E" --dry-run --force "$P8"
is "$rc" 3 "refused past the safe log level"
like "$err" "safe working capacity" "... saying so"
hsmd_stop h
mv hsmd.conf.saved "$HSMD_CONFDIR/hsmd.conf"
hsmd_start h

# --- dry run, then the upgrade ---------------------------------------------------------------
ha upgrade --esn "$E" --dry-run --force "$P8"
is "$rc" 0 "--dry-run --force: every check passes"
like "$out" "$E: current primary firmware 13.6.3; package primary 13.7.1 \(VSN 8\)" "shows the current and the new version"
like "$out" "dry run: .*nothing was written" "... and that nothing was written"
ok "--dry-run wrote nothing" images_unchanged

# --- the progress line of the transfer: the bytes sent of the total -------------------------
# On a terminal, with the HSM stopped (it takes no byte): "sent 0 B of
# TOTAL (0%)"; once it runs again the transfer ends and the result replaces
# the line.
total=$(awk -v n="$size" 'BEGIN { split("KiB MiB GiB TiB", u, " ");
	if (n < 1024) { printf "%d B", n; exit } v = n; i = 0
	while (v >= 1024 && i < 4) { v /= 1024; i++ } printf "%.1f %s", v, u[i] }')
kill -STOP "${HSMD_PIDS[h]}"
timeout -k 5 90 script -qec "hsmadmin upgrade --esn $E --dry-run --force --timeout 60 $P8" /dev/null \
	</dev/null >up.tty 2>&1 &
up=$!
cleanup_pid "$up"
for _ in $(seq 1 300); do grep -q 'sent 0 B' up.tty 2>/dev/null && break; sleep 0.1; done
like "$(tr -d '\r' <up.tty)" "hsmadmin: upgrade: sent 0 B of $total \(0%\) \([0-9]+ s\)" \
	"on a terminal, the HSM taking nothing: 'sent 0 B of $total (0%)'"
kill -CONT "${HSMD_PIDS[h]}"
wait "$up"
is "$?" 0 "... once the HSM runs again, the dry run completes"
visible=$(tail -n 1 up.tty | awk '{ sub(/\r$/, ""); n = split($0, a, "\r"); print a[n] }')
like "$visible" "dry run: .*nothing was written" "... its result is what stays on the last line"
unlike "$visible" "sent " "... with no progress left visible"
ha upgrade --esn "$E" --dry-run --force "$P8"
unlike "$err" "sent |$(printf '\033')" "no progress line when stderr is not a terminal"
run nopclearfail -O --esn "$E" -w
ha upgrade --esn "$E" "$P8"
is "$rc" 3 "without --force the HSM must be in maintenance mode"
run nopclearfail -M --esn "$E" -w
before=$(grep -c serving h.log)
ha upgrade --esn "$E" --json "$P8"
is "$rc" 0 "upgrade in maintenance mode"
is "$(printf '%s' "$out" | jq -r '.modules[0].result | "\(.changed[0]) \(.reset) \(.factory_state) \(.package.version)"')" \
	"primary true true 13.7.1" "--json: primary changed, reboot, factory state"
for _ in $(seq 1 200); do [ "$(grep -c serving h.log)" -gt "$before" ] && break; sleep 0.05; done
ok "hsmd rebooted into the new image" test "$(grep -c serving h.log)" -gt "$before"
like "$(cat h.log)" "firmware 13.7.1 booted for the first time: factory state" "... which returned it to factory state"
hsmd_known_hosts h
ha status --esn "$E"
is "$rc" 3 "factory state: status refused until enrolled again"
ha enroll --esn "$E" --secret-file "$(secrets)"
is "$rc" 0 "enrolled again (the host forgot the old pins)"
ha status --esn "$E" --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.firmware.primary')" 13.7.1 "status shows the new firmware"
ha info --esn "$E" --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.vsn')" 8 "info shows its VSN"
ha logs get --esn "$E" --log system --json
like "$(printf '%s' "$out" | jq -c '[.modules[0].result.entries[].event]')" '"firmware_install".*"factorystate"' \
	"the system log has the install and the factory state"

# --- downgrade, setminvsn ---------------------------------------------------------------------
ha upgrade --esn "$E" --force "$P7"
is "$rc" 0 "a downgrade to a VSN >= the minimum works"
for _ in $(seq 1 200); do grep -q "firmware 13.6.9 booted" h.log && break; sleep 0.05; done
hsmd_known_hosts h
ha enroll --esn "$E" --secret-file "$(secrets)"
ha status --esn "$E" --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.firmware.primary')" 13.6.9 "... now 13.6.9"
ha upgrade --esn "$E" --force --no-reset "$P8"
is "$rc" 0 "upgrade again with --no-reset"
like "$out" "after the next reset" "... applies at the next reset"
ha status --esn "$E" --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.firmware.primary')" 13.6.9 "... the old firmware still runs"
run nopclearfail -M --esn "$E" -w
ha setminvsn --esn "$E" 7
is "$rc" 0 "setminvsn 7 (VSN 7 runs)"
before=$(grep -c serving h.log)
ha reset --esn "$E"
like "$out" "firmware 13.7.1 installed by upgrade boots now, in factory state" "reset says the new firmware boots"
for _ in $(seq 1 200); do [ "$(grep -c serving h.log)" -gt "$before" ] && break; sleep 0.05; done
ok "reset restarts hsmd into the installed image" test "$(grep -c serving h.log)" -gt "$before"
hsmd_known_hosts h
ha enroll --esn "$E" --secret-file "$(secrets)"
is "$rc" 0 "... enrolled again"
ha status --esn "$E" --json
is "$(printf '%s' "$out" | jq -r '.modules[0].result.firmware.primary')" 13.7.1 "13.7.1 runs after the reset"
run nopclearfail -M --esn "$E" -w
ha setminvsn --esn "$E" 8
is "$rc" 0 "setminvsn 8"
ha upgrade --esn "$E" --force "$P7"
is "$rc" 3 "setminvsn forbids the downgrade now"

# --- bootloader: an irreversible upgrade revokes older bootloaders -------------------------------
"$VENDOR" npkg --key vendor.pem --component bootloader --version 2024.10 --revokes-older --out boot-new.npkg >/dev/null
"$VENDOR" npkg --key vendor.pem --component bootloader --version 2024.01 --out boot-old.npkg >/dev/null
ha upgrade --esn "$E" --force --no-reset --json boot-new.npkg
is "$(printf '%s' "$out" | jq -r '.modules[0].result | "\(.changed[0]) \(.factory_state)"')" "bootloader false" \
	"a bootloader upgrade (no factory state)"
is "$(jq -r '"\(.bootloader.version) \(.bootloader.revokes_older)"' h/images.json)" "2024.10 true" "... recorded"
ha upgrade --esn "$E" --force --dry-run boot-old.npkg
is "$rc" 3 "an older bootloader is refused after a revoking one"
like "$err" "bootloader 2024.10 revoked older bootloaders: 2024.01 cannot be installed" "... saying so"

# --- kill -9 during the transfer: the old image boots, nothing is left ---------------------------
mkdir -p bigmods/services.d
cp mods/*.so bigmods/
cp mods/services.d/*.conf bigmods/services.d/
head -c 96M /dev/urandom >bigmods/zzpayload.so
"$VENDOR" npkg --key vendor.pem --component primary --version 13.7.2 --vsn 8 --modules bigmods --out big.npkg >/dev/null
rm -rf bigmods
"$KEYEXPORT" updater "$HSMADMIN_HOME/keys/client/updater" keys/updater.new && mv keys/updater.new keys/updater
hsmd_known_hosts h
old_id=$(jq -r .primary.id h/images.json)
( stream big.npkg '{"force":true}' ) &
streamer=$!
for _ in $(seq 1 400); do ls -d h/images/.staging-* >/dev/null 2>&1 && break; sleep 0.01; done
ok "the package is being received into a staging directory" ls -d h/images/.staging-*
kill -KILL "${HSMD_PIDS[h]}"
wait "${HSMD_PIDS[h]}" 2>/dev/null
wait "$streamer" 2>/dev/null
ok "after kill -9 mid-transfer hsmd boots" hsmd_start h
is "$(jq -r .primary.id h/images.json)" "$old_id" "... the old image"
ok "... and the partial image is gone" test -z "$(ls -d h/images/.staging-* 2>/dev/null)"

# Upgrading many HSMs in parallel: upgrade-vcm.sh (16, one refusing).
done_testing
