#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Many VCMs, and kill -9 of hsmd in the middle of create, start and
# delete: after a restart the registry and the state directories agree
# (no lost and no duplicate VCM, no leaked address, no orphan state), no
# VCM process outlives hsmd, and everything works on.
. "$top_srcdir/tests/lib/vcm-lib.sh"
vcm_one_hsm 1A23-BC45-6789
ok "licence: 50 active VCMs" licence h "$ESN" 50

# --- create many ------------------------------------------------------------------
t0=$(now_ms)
n=0
for i in $(seq 1 50); do new_vcm "M$((i % 5))" "many $i" && n=$((n + 1)); done
is "$n" 50 "50 VCMs created"
echo "# 50 creates (tenant request + vcmadmin create each): $(( $(now_ms) - t0 )) ms"
va list --json
is "$(printf '%s' "$out" | jq '.vcms | length')" 50 "list: 50 VCMs"
is "$(printf '%s' "$out" | jq '[.vcms[].address] | unique | length')" 50 "50 distinct addresses"

consistent() { # the registry names exactly the state directories, addresses unique
	_reg=$(jq -r '.vcms // {} | keys[]' <(hsmd_device_doc h) | sort | tr '\n' ' ')
	_dirs=$(ls -A h/vcms 2>/dev/null | sort | tr '\n' ' ')
	_addrs=$(jq -r '.vcms // {} | [.[].address] | length' <(hsmd_device_doc h))
	_uniq=$(jq -r '.vcms // {} | [.[].address] | unique | length' <(hsmd_device_doc h))
	[ "$_reg" = "$_dirs" ] && [ "$_addrs" = "$_uniq" ] ||
		{ echo "# registry: $_reg"; echo "# dirs: $_dirs"; return 1; }
}
no_orphans() { # no VCM process of this HSM without its hsmd
	! pgrep -f "hsmd vcm --state $TEST_TMP/h/vcms/" >/dev/null
}
count() { jq '.vcms // {} | length' <(hsmd_device_doc h); }
crash() { # kill -9 hsmd after $1 seconds, wait for its children to go, restart
	sleep "$1"
	kill -9 "${HSMD_PIDS[h]}"
	wait "${HSMD_PIDS[h]}" 2>/dev/null
	for _ in $(seq 50); do no_orphans && break; sleep 0.05; done
}

# --- kill -9 during create -----------------------------------------------------------
for d in 0.005 0.02 0.04 0.08 0.15; do
	before=$(count)
	create_req C "c-$d.req" --name "crash $d"
	vcmadmin create --request "c-$d.req" --outdir configs "crash $d" >/dev/null 2>&1 &
	cpid=$!
	crash "$d"
	wait "$cpid" 2>/dev/null
	ok "create killed after ${d}s: no VCM process left" no_orphans
	ok "... hsmd restarts" hsmd_start h
	after=$(count)
	ok "... one VCM or none was created ($before -> $after)" test "$after" -ge "$before" -a "$after" -le $((before + 1))
	ok "... registry and state directories agree" consistent
done
ok "a create after the crashes works" new_vcm Z after
ok "... and its address was free" consistent

# --- kill -9 during start ------------------------------------------------------------
uuids=($(jq -r '.vcms | keys[]' <(hsmd_device_doc h)))
for d in 0.005 0.02 0.05 0.1; do
	u=${uuids[0]}
	vcmadmin start "$u" >/dev/null 2>&1 &
	cpid=$!
	crash "$d"
	wait "$cpid" 2>/dev/null
	ok "start killed after ${d}s: the VCM process died with hsmd" no_orphans
	ok "... hsmd restarts" hsmd_start h
	st=$(vcm_state "$u")
	ok "... the VCM is not active after the reboot ($st)" test "$st" = stopped -o "$st" = inactive
	va start "$u"
	is "$rc" 0 "... and starts (its address is free)"
	va stop "$u"
	ok "... registry and state directories agree" consistent
done

# --- kill -9 during delete -----------------------------------------------------------
for d in 0.005 0.02 0.05; do
	u=${uuids[$((RANDOM % ${#uuids[@]}))]}
	[ "$(vcm_state "$u")" = none ] && continue
	before=$(count)
	vcmadmin delete "$u" >/dev/null 2>&1 &
	cpid=$!
	crash "$d"
	wait "$cpid" 2>/dev/null
	ok "delete killed after ${d}s: hsmd restarts" hsmd_start h
	after=$(count)
	ok "... the VCM is either there or gone ($before -> $after)" test "$after" -le "$before" -a "$after" -ge $((before - 1))
	ok "... registry and state directories agree (no orphan secrets)" consistent
done

# --- an orphan state directory is removed at start --------------------------------------
hsmd_stop h
mkdir -p h/vcms/0b3c5f2e-0000-4000-8000-00000000dead h/vcms/.0b3c5f2e-0000-4000-8000-00000000beef.tmp
ok "hsmd restarts" hsmd_start h
ok "orphan state directories (interrupted create/delete) are removed" consistent
like "$(cat h.log)" "not in the registry \(an interrupted create or delete\); removed" "... and logged"
va list --json
is "$rc" 0 "list works after all that"
done_testing
