#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# keys roll interrupted halfway never leaves an HSM without a key this host
# holds: the host killed after N set_key calls (any N), an HSM unreachable,
# an hsmd killed while the roll waits for it; running the roll again
# finishes the job.
. "$top_srcdir/tests/lib/keys-lib.sh"
platform_setup
hsm_new a 1A23-BC45-6789
hsm_new b 9Z87-YX65-4321
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "two HSMs enrolled"
collect_seeds

# Does each HSM accept the sshadmin key in keys/client or in keys/roll?
every_hsm_has_a_host_key() { # [HSM...]: default a b
	export_key sshadmin "$HSMADMIN_HOME/keys/client/sshadmin" "$TEST_TMP/keys/cur"
	[ -f "$HSMADMIN_HOME/keys/roll/sshadmin" ] &&
		export_key sshadmin "$HSMADMIN_HOME/keys/roll/sshadmin" "$TEST_TMP/keys/new"
	for h in ${@:-a b}; do
		admin_works "$h" cur || { [ -f "$TEST_TMP/keys/new" ] && admin_works "$h" new; } || return 1
	done
	rm -f "$TEST_TMP/keys/cur" "$TEST_TMP/keys/new"
}

# --- the host dies after N keys were installed, for N across the roll --------
# 2 HSMs x 7 services = 14 set_key calls; the sshadmin keys go last.
for n in 1 4 7 8 13 14; do
	HSMADMIN_KEYS_TEST_CRASH_AFTER=$n ha keys roll
	is "$rc" 137 "crash after $n set_key calls: the host process died (SIGKILL)"
	ok "... a roll is pending" test -d "$HSMADMIN_HOME/keys/roll"
	ok "... every HSM accepts an sshadmin key this host holds" every_hsm_has_a_host_key
	ha keys show
	like "$out" "A key roll is pending" "... show says a roll is pending"
	ha keys roll
	is "$rc" 0 "... running the roll again finishes it"
	like "$err" "finishing an interrupted roll" "... and says so"
	ok "... nothing pending any more" test ! -e "$HSMADMIN_HOME/keys/roll"
	ha status
	is "$rc" 0 "... both HSMs work with the host's keys"
	ok "... both HSMs have this host's keys" sh -c '
		for s in sshadmin setup monitor; do
			[ "$(jq -r ".client_keys.$s" "$1/a/device.json")" = "$(jq -r ".client_keys.$s" "$1/b/device.json")" ] || exit 1
		done' _ "$TEST_TMP"
	collect_seeds
done

# --- an HSM unreachable: the other goes back to the current keys ------------------
before=$(hsm_key a setup)
hsmd_stop b
ha keys roll
is "$rc" 5 "one HSM down: roll fails with exit 5"
like "$err" "not done: every HSM keeps this host's current keys" "... and says nothing changed"
is "$(hsm_key a setup)" "$before" "... the reachable HSM is back on the current keys"
ok "... no roll pending" test ! -e "$HSMADMIN_HOME/keys/roll"
ha status --esn 1A23-BC45-6789
is "$rc" 0 "... and works"
hsmd_start b
ha keys roll
is "$rc" 0 "with both up the roll succeeds"
collect_seeds

# --- hsmd killed while the roll talks to it -----------------------------------------
# b is frozen, so the roll changes a and waits for b; then b dies.
kill -STOP "${HSMD_PIDS[b]}"
before=$(hsm_key a sshadmin)
hsmadmin keys roll --timeout 5 >"$TEST_TMP/roll.out" 2>"$TEST_TMP/roll.err" &
rollpid=$!
cleanup_pid "$rollpid"
for _ in $(seq 1 100); do
	[ "$(hsm_key a sshadmin)" != "$before" ] && break
	sleep 0.05
done
ok "the roll changed HSM a while b hangs" test "$(hsm_key a sshadmin)" != "$before"
kill -KILL "${HSMD_PIDS[b]}"
kill -CONT "${HSMD_PIDS[b]}" 2>/dev/null
wait "$rollpid"
rc=$?
cat "$TEST_TMP/roll.out" "$TEST_TMP/roll.err" >>"$TRANSCRIPT"
is "$rc" 5 "hsmd of b killed mid-roll: exit 5"
ok "HSM a still accepts an sshadmin key this host holds" every_hsm_has_a_host_key a
hsmd_start b
ok "... b too, after its restart" every_hsm_has_a_host_key
ha keys roll
is "$rc" 0 "the next roll succeeds"
ha status
is "$rc" 0 "both HSMs work"
collect_seeds

flock "$HSMADMIN_HOME/keys/roll.lock" sleep 60 &
lockpid=$!
cleanup_pid "$lockpid"
ok "another process holds the roll lock" wait_until 20 eval '! flock -n "$HSMADMIN_HOME/keys/roll.lock" true'
ha keys roll
is "$rc" 1 "a second roll while one runs: exit 1"
like "$err" "another keys roll or restore is running" "... says so"
kill "$lockpid"

ha keys roll --esn 1A23-BC45-6789
is "$rc" 2 "roll --esn: usage error (every HSM shares the keys)"

no_key_leaked 40
done_testing
