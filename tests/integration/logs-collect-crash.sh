#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The audit-log collector and hsmd killed (SIGKILL) at every step of
# export -> store -> expire, each at a deterministic point (the collector's
# HSMADMIN_COLLECT_CRASH_AT steps "received", "stored", "expired"; hsmd's
# HSMD_CRASH_AT points "log-closed", "log-stream", "log-expired"): after a
# restart one more round stores exactly the segments 1..N, each once,
# together a chain that verifies; nothing is left on the HSM or as a
# temporary file; and no segment was exported twice without --saved (one
# logs_exported entry per segment).  Then the tenant side: a tenant's
# collector stores its VCM's segment under DIR/vcm-UUID, also when killed
# between storing and expiring it.
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins logs vcmtenant

stored() { (cd "$1" 2>/dev/null && ls) | tr '\n' ' '; } # DIR
expected() { for i in $(seq 1 "$1"); do printf 'system-%s.log ' "$i"; done; } # N
news() { # a change in the HSM's system log (whatever mode it is in)
	call h setup set_mode setup '{"mode":"maintenance"}'
	call h setup set_mode setup '{"mode":"operational"}'
}
# After a crash and a clean round: exactly 1..N stored, a chain that
# verifies, nothing left on the HSM, no temporary file.
check_store() { # WHAT N: at least N segments
	n=$(stored "$col" | wc -w)
	ok "$1: at least $2 segments stored ($n)" test "$n" -ge "$2"
	is "$(stored "$col")" "$(expected "$n")" "$1: ... exactly segments 1..$n, each once"
	ha logs verify --key key.json "$col"/system-*.log
	rc_is 0 "$1: ... they chain and verify (nothing lost, nothing duplicated)"
	ha logs export --saved --json
	rc_is 3 "$1: ... nothing exported is left on the HSM"
	is "$(find "$col" -name '.hsmadmin-export*' | wc -l)" 0 "$1: ... no temporary file left"
}

vcm_one_hsm 1A23-BC45-6795
host_keys_for_ssh
ha logs getkey --out key.json
rc_is 0 "getkey"
mkdir col
col=$TEST_TMP/col/$ESN
ha logs collect --outdir col
rc_is 0 "a first round"
n=$(stored "$col" | wc -w)
ok "... stores segment 1" test "$n" = 1

for pt in received stored expired; do
	news
	HSMADMIN_COLLECT_CRASH_AT=$pt ha logs collect --outdir col
	is "$rc" 137 "collector killed (SIGKILL) at step $pt"
	[ "$pt" != received ] || is "$(find "$col" -name '.hsmadmin-export.tmp.*' | wc -l)" 1 \
		"received: ... the segment it received is left as its temporary file"
	ha logs collect --outdir col
	rc_is 0 "$pt: the next round completes"
	check_store "collector killed at $pt" $((n + 1))
done

for pt in log-closed log-stream log-expired; do
	news
	hsmd_stop h
	HSMD_CRASH_AT=$pt hsmd_start h
	pid=$HSMD_PID
	ha logs collect --outdir col
	ok "hsmd killed at $pt: the round fails (exit $rc)" test "$rc" -ne 0
	ok "$pt: ... hsmd is gone" sh -c "! kill -0 $pid 2>/dev/null"
	like "$(cat h.log)" "crash point $pt: SIGKILL" "$pt: ... where it was told to die"
	hsmd_start h
	ha logs collect --outdir col
	rc_is 0 "$pt: after hsmd restarts the next round completes"
	check_store "hsmd killed at $pt" $((n + 1))
done
# Every segment went out once without --saved: one logs_exported each.
exported=$(for f in "$col"/system-*.log; do sed 's/^[^{]*//' "$f"; done |
	jq -r 'select(.event == "logs_exported") | .detail.segment' | sort -n | tr '\n' ' ')
is "$exported" "$(seq 1 $((n - 1)) | tr '\n' ' ')" \
	"no segment was exported twice without --saved (one logs_exported entry each)"

# --- the tenant side: VCMs enrolled on this host ----------------------------------------------
ok "licence for 1 active VCM" licence h "$ESN" 1
ok "tenant A's VCM created" new_vcm A "tenant a"
UA=$UUID
va start "$UA"
rc_is 0 "start A's VCM"
tenant A vcm enroll --config "configs/vcm-$UA.json"
rc_is 0 "tenant A enrolls its VCM"
tenant A vcm logs getkey --uuid "$UA" --out a-key.json
rc_is 0 "tenant A: vcm logs getkey"
# The tenant's host administers no HSM: its configuration has no modules.d.
cp -r "$HSMADMIN_CONF" tconf
rm -rf tconf/modules.d
mkdir tcol
vdir=$TEST_TMP/tcol/vcm-$UA
HSMADMIN_COLLECT_CRASH_AT=stored HSMADMIN_CONF=$TEST_TMP/tconf tenant A logs collect --outdir tcol
is "$rc" 137 "tenant A's collector killed between storing and expiring its VCM's segment"
is "$(stored "$vdir")" "system-1.log " "... segment 1 was stored under DIR/vcm-UUID"
HSMADMIN_CONF=$TEST_TMP/tconf tenant A logs collect --outdir tcol --json
rc_is 0 "tenant A's collector: the next round over its VCM"
is "$(jqr '.modules[0].uuid') $(jqr '.modules[0].log')" "$UA vcm/$UA" "... the VCM, its own log"
is "$(jqr '.modules[0].segments | map("\(.segment) \(.saved)") | join(",")')" "1 true" \
	"... fetched the segment the VCM still held (saved), not a new export"
is "$(stored "$vdir")" "system-1.log " "... stored once"
tenant A vcm logs verify --key a-key.json "$vdir"/system-1.log
rc_is 0 "... it verifies with the VCM's key"
tenant A vcm logs export --uuid "$UA" --saved
rc_is 3 "... and was expired on the VCM"
HSMADMIN_CONF=$TEST_TMP/tconf tenant A logs collect --outdir tcol
rc_is 0 "another round with nothing new"
is "$(stored "$vdir")" "system-1.log " "... stores nothing more"
done_testing
