#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# nopclearfail and enquiry on a host that both administers HSMs and holds
# a tenant's VCM: the VCM keeps its module number, the HSMs follow it,
# --esn is always honoured (a module on another HSM is refused, never
# acted on) and the platform's mode is independent of the VCM's.
. "$top_srcdir/tests/lib/vcm-lib.sh"
vcm_tools_setup
E1=1A23-BC45-6789
E2=2B34-CD56-7890
ok "HSM 1 provisioned, started and enrolled" vcm_hsm h1 "$E1"
ok "HSM 2 provisioned, started and enrolled" vcm_hsm h2 "$E2"
VCM_HSM=h1

# A VCM on HSM 1 enrolled by this very host (its HSMADMIN_HOME).
ha vcm create --request-file req.req --name mine
rc_is 0 "this host writes a create request"
va create --request req.req --outdir configs --json --esn "$E1" mine
rc_is 0 "the provider creates the VCM on HSM 1"
U=$(printf '%s' "$out" | jq -r .uuid)
va start "$U" --esn "$E1"
rc_is 0 "... and starts it"
ha vcm enroll --config "configs/vcm-$U.json"
rc_is 0 "this host enrolls the VCM"

vmode() { run enquiry --json; printf '%s' "$out" | jq -r --argjson m "$1" '.modules[] | select(.module == $m) | (.enquiry.mode // .mode)'; }
run enquiry --json
rc_is 0 "enquiry"
is "$(printf '%s' "$out" | jq -r '[.modules[] | "\(.module):\(.kind):\(.esn)"] | join(" ")')" \
	"1:vcm:$E1 2:hsm:$E1 3:hsm:$E2" "the VCM keeps module 1; the HSMs follow in ESN order"

# The reproduction: --esn names HSM 2, -m 1 is the VCM on HSM 1.
run nopclearfail -M -m 1 --esn "$E2" -w
rc_is 2 "nopclearfail -M -m 1 --esn E2, module 1 being on E1: exit 2"
like "$err" "module #1 is on HSM $E1, not the HSM --esn names" "... says where module 1 is"
is "$(vmode 1)" operational "... the VCM was not touched"
is "$(vmode 3)" operational "... nor HSM 2"

run nopclearfail -M --esn "$E1" -w
rc_is 0 "nopclearfail -M --esn E1 -w: HSM 1's platform"
like "$out" "^Module #2 \(HSM $E1\) in maintenance mode$" "... says which module"
is "$(vmode 2)" maintenance "HSM 1's platform is in maintenance mode"
is "$(vmode 1)" operational "... its VCM is still operational"
is "$(vmode 3)" operational "... HSM 2 untouched"

run nopclearfail -M -m 1 --esn "$E1" -w
rc_is 0 "-m 1 --esn E1: the VCM on that HSM"
is "$(vmode 1)" maintenance "the VCM is in maintenance mode"
run nopclearfail -O -a --esn "$E1" -w
rc_is 0 "-O -a --esn E1: every module of HSM 1"
is "$(vmode 1) $(vmode 2) $(vmode 3)" "operational operational operational" "... both operational, HSM 2 untouched"
run nopclearfail -M -m 3 -w
rc_is 0 "-m 3: HSM 2's platform"
is "$(vmode 3) $(vmode 1)" "maintenance operational" "... only HSM 2"
run nopclearfail -r -m 3
rc_is 2 "-r on a platform: exit 2"

# Recovery mode runs no VCM (guide 4.5.4.1): entering it stops and erases them.
run nopclearfail -M -m 1 --esn "$E1" -w
rc_is 0 "the VCM in maintenance mode (the interlock allows the reset)"
pid=$(vcm_pid "$U")
ok "the VCM runs as a process" test -n "$pid"
run "$HSMD" button --state "$TEST_TMP/h1" --hold 60
rc_is 0 "hold HSM 1's recovery button"
ha reset --esn "$E1"
rc_is 0 "reset HSM 1 with the button held"
like "$out" "the recovery image booted" "... into recovery mode"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
ok "the VCM process is gone" sh -c "! kill -0 $pid 2>/dev/null"
is "$(vcm_state "$U")" none "the VCM registry is empty (factory state)"
run enquiry --json
is "$(printf '%s' "$out" | jq -r '.modules[] | select(.module == 1) | .failed')" true \
	"enquiry: the tenant's module 1 is failed (its VCM is gone)"

done_testing
