#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A VCM runs tenant-facing code, so hsmd takes its status lines as a
# less-trusted peer's (firmware/hsmd/vcmlines.c; hsmd(8), VCMs).  With
# HSMD_VCM_STATUS_NOISE (hsmd(8), a test hook) each VCM process writes
# malformed status lines: before its "ready", the start is refused with one
# clear error (a "ready" followed by a NUL byte used to be taken for
# "ready"); after it, hsmd ignores them, logs one line per VCM process,
# however many it sent, and works on.
. "$top_srcdir/tests/lib/vcm-lib.sh"
export HSMD_PROBE=1
vcm_one_hsm 1A23-BC45-6789
host_keys_for_ssh
ok "licence for 1 active VCM" licence h "$ESN" 1
ok "a VCM is created" new_vcm A noisy
U=$UUID
malformed() { grep -c 'ignored a malformed status line' "$TEST_TMP/h.log"; }
# The reset probe asks the interlock, which reads what the VCMs wrote.
probe() { call h setup reset setup '{"hsmd_probe":true}'; }
malformed_is() { probe; [ "$(malformed)" = "$1" ]; }
no_vcm_process() { ! pgrep -f "hsmd vcm --state $TEST_TMP/h/vcms/$U" >/dev/null; }

va start "$U"
rc_is 0 "without noise the VCM starts"
probe
is "$(malformed)" 0 "... and hsmd logs no malformed status line"
va stop "$U"
rc_is 0 "... and stops"

ok "hsmd stops" hsmd_stop h
export HSMD_VCM_STATUS_NOISE=before
ok "hsmd starts, its VCMs to write malformed lines before their first" hsmd_start h
va start "$U"
ok "a VCM whose first status lines are malformed does not start (rc $rc)" test "$rc" -ne 0
like "$err" "the VCM process sent a malformed status" "... with one clear error: $err"
is "$(printf '%s\n' "$err" | grep -c .)" 1 "... on one line"
ok "... its process is gone" wait_until 10 no_vcm_process
va list --json
rc_is 0 "... hsmd serves on"

ok "hsmd stops" hsmd_stop h
export HSMD_VCM_STATUS_NOISE=after
ok "hsmd starts, its VCMs to write malformed lines after their first two" hsmd_start h
va start "$U"
rc_is 0 "a VCM that writes malformed lines once started starts"
ok "... hsmd logs one line for all of them" wait_until 10 malformed_is 1
probe
is "$(malformed)" 1 "... and no more when it reads again"
is "$(vcm_state "$U")" active "... the VCM runs"
va stop "$U"
rc_is 0 "... and stops"
va start "$U"
rc_is 0 "started again"
ok "... its new process gets its own one line" wait_until 10 malformed_is 2
va stop "$U"
rc_is 0 "... and stops"
ok "hsmd stops" hsmd_stop h
done_testing
