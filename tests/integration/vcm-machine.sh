#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Several HSMs on one machine, sharing one configuration as in the README:
# hsmd instances used to number their VCMs from 1 each, so VCM #1 of every
# HSM ran as the same uid (uid_base + 1) and could signal another HSM's VCM,
# and HSMs on neighbouring addresses derive the same VCM subnet, so their
# first VCMs got the same address ("Address already in use").  Now one
# machine-wide table (hsmd(8), [paths] vcm_allocations) hands out every VCM
# address and user number once.
. "$top_srcdir/tests/lib/vcm-lib.sh"
# A table of this test's own: it removes an HSM and checks its claims stay
# until an hsmd start sweeps them, and any other test's hsmd starting on
# the shared table would sweep them in between.
HSMD_VCM_ALLOCATIONS=$TEST_TMP/vcm-allocations.json
vcm_setup
cd "$TEST_TMP" || exit 1
net=$(test_address | cut -d. -f1-3)
E=(none 2C45-DE67-0001 2C45-DE67-0002 2C45-DE67-0003)
for i in 1 2 3; do
	VCM_HSM_ADDRESS=$net.$((i + 1))
	ok "HSM $i on $VCM_HSM_ADDRESS provisioned, started and enrolled" vcm_hsm "h$i" "${E[i]}"
done
unset VCM_HSM_ADDRESS
for i in 1 2 3; do
	new_vcm "T$i" "v$i" --esn "${E[i]}"
	is "$rc" 0 "a VCM on HSM $i (stderr: $err)"
	U[i]=$UUID A[i]=$ADDR
done
like "${A[1]}" "^[0-9a-f.:]+$" "VCM addresses: ${A[1]} ${A[2]} ${A[3]}"
is "$(printf '%s\n' "${A[@]:1}" | sort -u | wc -l)" 3 "the three HSMs' VCMs have three different addresses"
is "$(for i in 1 2 3; do hsmd_vcm_claims "${U[i]}"; done | jq -r .index | sort -u | wc -l)" 3 \
	"... and three different user numbers in the machine-wide table"
# each claim is linked as its number and its address (one file, three names)
T=$HSMD_VCM_ALLOCATIONS.d
for i in 1 2 3; do
	c=$(hsmd_vcm_claims "${U[i]}")
	f=$(ls "$T"/hsms/*/"${U[i]}")
	is "$(stat -c %i "$T/index/$(jq -r .index <<<"$c")" "$T/address/$(jq -r .address <<<"$c")" | sort -u)" \
		"$(stat -c %i "$f")" "VCM $i's claim is its number's and its address's entry ($c)"
done
for i in 1 2 3; do
	va start "${U[i]}" --esn "${E[i]}"
	is "$rc" 0 "VCM of HSM $i starts (stderr: $err)"
done
for i in 1 2 3; do
	tenant "T$i" vcm enroll --config "configs/vcm-${U[i]}.json"
	is "$rc" 0 "tenant $i enrolls its VCM (stderr: $err)"
	tenant "T$i" vcm getenvstats --uuid "${U[i]}"
	is "$rc" 0 "... and its VCM answers on ${A[i]} (stderr: $err)"
done
if [ "$(id -u)" = 0 ]; then
	uids=
	for i in 1 2 3; do
		p=$(pgrep -f "vcms/${U[i]}" | head -1)
		uids="$uids $(awk '/^Uid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)"
	done
	is "$(printf '%s\n' $uids | sort -u | wc -l)" 3 "the three VCM processes run as three different users ($uids)"
else
	echo "# not root: VCM processes share hsmd's uid; the user numbers are checked in the table above"
fi

# a deleted VCM gives its address and number back; a removed HSM's are purged
va stop "${U[3]}" --force --esn "${E[3]}"
is "$rc" 0 "VCM of HSM 3 stopped (its ncoreapi is operational: --force) (stderr: $err)"
va delete "${U[3]}" --esn "${E[3]}"
is "$rc" 0 "VCM of HSM 3 deleted (stderr: $err)"
is "$(hsmd_vcm_claims "${U[3]}" | wc -l)" 0 "... and released from the table"
hsmd_stop h2
rm -rf "$TEST_TMP/h2"
new_vcm T3 w3 --esn "${E[3]}"
is "$rc" 0 "a new VCM on HSM 3 (stderr: $err)"
# the removed HSM's claim is nobody's: its address (the lowest free one)
# goes to the new VCM, which takes the claim's names over
is "$ADDR" "${A[2]}" "... at the removed HSM's VCM address"
is "$(hsmd_vcm_claims "$UUID" | jq -r .address)" "${A[2]}" "... claimed in the table"
is "$(stat -c %i "$T/address/${A[2]}")" "$(stat -c %i "$(ls "$T"/hsms/*/"$UUID")")" \
	"... whose address entry is the new VCM's claim"
licence h3 "${E[3]}" 3
is "$rc" 0 "HSM 3 licensed for 3 VCMs (stderr: $err)"
new_vcm T3 w5 --esn "${E[3]}" --ip-address "${A[1]}"
ok "HSM 1's VCM address is refused to HSM 3 (rc $rc)" test "$rc" = 3
like "$err" "${A[1]} is already used" "... saying so"
# and the next start of any hsmd sweeps the removed HSM's claims
is "$(ls "$T"/hsms/*/"${U[2]}" 2>/dev/null | wc -l)" 1 "the removed HSM's claim is still in the table"
hsmd_stop h1
ok "HSM 1 starts again" hsmd_start h1
is "$(hsmd_vcm_claims "${U[2]}" | wc -l)" 0 "... and its start swept the removed HSM's claims"
is "$(hsmd_vcm_claims "${U[1]}" | jq -r .address)" "${A[1]}" "... keeping HSM 1's own"
done_testing
