#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/integration/upgrade-vcm.sh - an upgrade is refused while any VCM
# is active, even with --force (guide 4.10.1.4), and goes through once the
# VCM is stopped; 16 HSMs upgraded by one command in parallel, one of them
# refusing for its active VCM: a result per HSM, the refusal changes
# nothing on that HSM, and each of the 15 others boots the new firmware.
. "$top_srcdir/tests/lib/vcm-lib.sh"
VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }
need_plugins upgrade vcmadmin vcmtenant
vcm_setup
updater_setup
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

# --- 16 HSMs in parallel, one refusing ----------------------------------------------------------
va start "$UUID"
is "$rc" 0 "the VCM on $E started again"
N=15
esns=() args=(--esn "$E")
for i in $(seq -w 1 $N); do
	esns+=("2B34-CD56-78$i")
	args+=(--esn "2B34-CD56-78$i")
	hsm_new "p$i" "2B34-CD56-78$i" || { echo "Bail out! p$i did not start: $(tail -3 "p$i.log")"; exit 1; }
done
enroll_args=()
for e in "${esns[@]}"; do enroll_args+=(--esn "$e"); done
run hsmadmin enroll "${enroll_args[@]}" --secret-file "$(secrets $(for i in $(seq -w 1 $N); do echo "p$i"; done))"
is "$rc" 0 "$N more HSMs enrolled"
h_images=$(cat h/images.json 2>/dev/null)
t0=$(now_ms)
run hsmadmin upgrade "${args[@]}" --force --json new.npkg
t1=$(now_ms)
is "$rc" 3 "upgrade of 16 HSMs in one command: exit 3 (one HSM refused)"
echo "# 16 parallel upgrades took $((t1 - t0)) ms"
res=$out
is "$(printf '%s' "$res" | jq '.modules | length')" 16 "one result per HSM"
is "$(printf '%s' "$res" | jq -r --arg e "$E" '.modules[] | select(.esn == $e) | "\(.ok) \(.error.exit)"')" \
	"false 3" "$E: refused with exit 3"
like "$(printf '%s' "$res" | jq -r --arg e "$E" '.modules[] | select(.esn == $e) | .error.message')" \
	"VCM is active \($UUID\)" "... naming its active VCM"
is "$(printf '%s' "$res" | jq -r --arg e "$E" '[.modules[] | select(.esn != $e) |
	select(.ok and .result.changed == ["primary"] and .result.reset and .result.package.version == "13.7.1")] | length')" \
	$N "each of the $N others: ok, primary changed to 13.7.1, rebooting"
like "$err" "^hsmadmin: upgrade: $E: .*VCM is active" "the refusal is one line naming the HSM"
is "$(cat h/images.json 2>/dev/null)" "$h_images" "$E's images are unchanged"
is "$(ls -A h/images 2>/dev/null)" "" "... and nothing was staged on it"
is "$(vcm_state "$UUID")" active "... and its VCM still runs"
booted=0
for i in $(seq -w 1 $N); do
	for _ in $(seq 1 600); do grep -q "firmware 13.7.1 booted for the first time" "p$i.log" && break; sleep 0.05; done
	grep -q "firmware 13.7.1 booted for the first time" "p$i.log" && booted=$((booted + 1))
	hsmd_known_hosts "p$i"
done
is "$booted" $N "each of the $N HSMs rebooted into 13.7.1"
run hsmadmin enroll "${enroll_args[@]}" --secret-file "$(secrets $(for i in $(seq -w 1 $N); do echo "p$i"; done))"
is "$rc" 0 "... in factory state: enrolled again"
run hsmadmin status "${args[@]}" --json
is "$(printf '%s' "$out" | jq -r '[.modules[] | "\(.esn)=\(.result.firmware.primary)"] | sort | join(" ")')" \
	"$( { echo "$E=13.6.3"; for e in "${esns[@]}"; do echo "$e=13.7.1"; done; } | sort | tr '\n' ' ' | sed 's/ $//')" \
	"status: $E still runs 13.6.3, the others 13.7.1"
done_testing
