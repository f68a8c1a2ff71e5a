#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The VCMs run on the HSM's hardware, so two of the HSM's states are
# theirs (docs/protocol.md, "Who may call what"):
# - its clock (guide 4.2.2): with the HSM's clock lost (hsmd simulate
#   --clock-lost, which sets the HSM's state only) a VCM refused nothing;
#   now its set_key and log export are refused with the lost-clock message;
# - its logs past the critical capacity (guide 4.12.1, the monitor only
#   state): a running VCM's operational ncoreapi kept serving and held the
#   HSM's reset interlock; now, once the HSM's logs cross the critical level
#   while it runs, its ncoreapi is terminated (no interlock, its calls
#   refused), its logs still served; export, expire and reset end it.
#   That took the VCM a tick of hsmd and one of its own: the call that
#   crossed the level now returns once the VCM took it in, so the very
#   next call finds the interlock free, the VCM's ncoreapi refusing
#   connections (terminated, guide 4.17.1) and its other calls refused.
# And an autostarted VCM whose "ready" and "ncoreapi operational" reached
# hsmd in one read held no interlock (the second line waited in the buffer
# for the VCM's next one): HSMD_VCM_STATUS_ONE_WRITE=1 (hsmd(8)) makes
# every VCM write the two with one write(), so each start here reads both
# at once.
. "$top_srcdir/tests/lib/vcm-lib.sh"
case " ${BUILT_PLUGINS:-} " in *" logs "*) ;; *) skip_all "logs plugin not built" ;; esac
export HSMD_PROBE=1 HSMD_VCM_STATUS_ONE_WRITE=1
vcm_one_hsm 1A23-BC45-6789
host_keys_for_ssh
S=$TEST_TMP/h
ok "licence for 1 active VCM" licence h "$ESN" 1
create_req A req-a.req --name "tenant a" --autostart
rc_is 0 "tenant A asks for an autostart VCM"
va create --request req-a.req --outdir "$TEST_TMP/configs" --json --autostart "tenant a"
rc_is 0 "... the provider creates it"
U=$(printf '%s' "$out" | jq -r .uuid)
va start "$U"
rc_is 0 "... and started"
SK=$(tenant_ssh_key A)
mkdir -p keys-a
for s in ncoreapi monitor; do
	ssh-keygen -q -t ed25519 -N '' -C '' -f "keys-a/$s"
	tcall "$U" sshadmin set_key "$SK" \
		"$(jq -nc --arg s "$s" --arg k "$(cut -d' ' -f1,2 "keys-a/$s.pub")" '{service: $s, key: $k}')"
	rc_is 0 "tenant A installs its $s key"
done
NK=$TEST_TMP/keys-a/ncoreapi MK=$TEST_TMP/keys-a/monitor
interlock() { # the reset probe: "held" or "free"
	call h setup reset setup '{"hsmd_probe":true}'
	case $rc:$out in
	0:*'"probe":"admitted"'*) echo free ;;
	3:*'"message":"interlock:'*) echo held ;;
	*) echo "rc $rc: $out $err" ;;
	esac
}
is "$(interlock)" held "A's operational ncoreapi holds the HSM's interlock"

# --- an autostarted VCM's two first status lines in one read ----------------------------------
ok "hsmd stops" hsmd_stop h
ok "hsmd starts: A starts by itself, its ready and ncoreapi lines in one write" hsmd_start h
is "$(vcm_state "$U")" active "the autostart VCM runs"
for m in "setup reset" "setup factorystate" "sshadmin set_key"; do
	call h $m "${m%% *}" '{"hsmd_probe":true}'
	rc_is 3 "the HSM's ${m#* } is refused (exit 3)"
	like "$out" '"message":"interlock:' "... by the interlock A's operational ncoreapi holds"
done

# --- the HSM's clock is lost -----------------------------------------------------------------
ok "hsmd stops" hsmd_stop h
run "$HSMD" simulate --state "$S" --clock-lost yes
rc_is 0 "the HSM's clock is lost (hsmd simulate --clock-lost yes)"
ok "hsmd starts with a lost clock" hsmd_start h
is "$(vcm_state "$U")" active "the autostart VCM runs"
KEYP=$(jq -nc --arg k "$(cut -d' ' -f1,2 keys-a/ncoreapi.pub)" '{service: "ncoreapi", key: $k}')
tcall "$U" sshadmin set_key "$SK" "$KEYP"
rc_is 3 "the VCM's set_key is refused (exit 3)"
like "$out" '"message":"the system clock is lost: set it with settime first"' \
	"... with the platform's lost-clock message"
tcall "$U" monitor logs_export "$MK" '{}'
rc_is 3 "the VCM's logs_export is refused"
like "$out" 'the system clock is lost' "... with the lost-clock message"
tcall "$U" monitor logs_get "$MK" '{"log":"system"}'
rc_is 0 "the VCM's logs_get works (it needs no clock)"
ok "hsmd stops" hsmd_stop h
run "$HSMD" simulate --state "$S" --clock-lost no
rc_is 0 "the clock is back"
ok "hsmd starts" hsmd_start h
tcall "$U" sshadmin set_key "$SK" "$KEYP"
rc_is 0 "the VCM's set_key works again"

# --- the HSM's logs cross the critical level while the VCM runs ------------------------------
log_bytes() { cat "$S"/system.log "$S"/system.saved/*.log "$S"/init.log 2>/dev/null | wc -c; }
cap=$(($(log_bytes) + 8192))
ok "hsmd stops" hsmd_stop h
cp "$HSMD_CONFDIR/hsmd.conf" hsmd.conf.base
printf '[logs]\ncapacity = %d\nsafe_percent = 99\ncritical_percent = 100\n' $cap \
	>>"$HSMD_CONFDIR/hsmd.conf"
ok "hsmd starts with its logs below a critical level of $cap bytes" hsmd_start h
is "$(vcm_state "$U")" active "the autostart VCM runs"
is "$(interlock)" held "... its ncoreapi holds the interlock"
log_until_refused 200 call h setup set_mode setup
rc_is 3 "the HSM's logs cross the critical level after $n logged calls"
like "$out" 'past their critical capacity' "... the platform is in the monitor only state"
# No waiting from here on: the call that crossed the level returned once
# the VCM had taken it in.  hsmd's log (the VCM's lines too) shows the
# order: the VCM ended its ncoreapi before the HSM refused the next call.
order=$(grep -E "ncoreapi: no longer served|setup\.set_mode .*past their critical capacity" \
	"$TEST_TMP/h.log" | head -2 |
	sed 's/.*no longer served.*/vcm ncoreapi terminated/; s/.*set_mode.*/hsm set_mode refused/' |
	paste -sd, -)
is "$order" "vcm ncoreapi terminated,hsm set_mode refused" \
	"the VCM acted before the call that crossed the level returned"
is "$(interlock)" free "the running VCM's ncoreapi is terminated: it holds no interlock"
tcall "$U" ncoreapi set_mode "$NK" '{"mode":"maintenance"}'
rc_is 255 "the VCM's ncoreapi refuses connections (terminated)"
like "$err" 'Connection refused' "... as a service the HSM does not run"
tcall "$U" sshadmin set_key "$SK" "$KEYP"
rc_is 3 "the VCM's set_key is refused (exit 3)"
like "$out" 'past their critical capacity' "... with the critical capacity message"
ok "the VCM logged why its ncoreapi ended" \
	grep -q "ncoreapi terminated: the HSM's logs are past their critical capacity" "$TEST_TMP/h.log"
tcall "$U" monitor logs_get "$MK" '{"log":"system"}'
rc_is 0 "the VCM's logs are still retrieved"
is "$(vcm_state "$U")" active "the VCM runs on (monitor only)"

# --- export, expire and reset: the VCM serves again ---------------------------------------
mkdir -p exported
ha logs export --outdir "$TEST_TMP/exported" --expire
rc_is 0 "the HSM's logs are exported and expired"
ha reset --esn "$ESN"
rc_is 0 "reset: the error state ends with the logs below the critical level"
is "$(vcm_state "$U")" active "the autostart VCM starts with the reset"
is "$(interlock)" held "... its ncoreapi operational again"
tcall "$U" ncoreapi set_mode "$NK" '{"mode":"maintenance"}'
rc_is 0 "... and serving"

# --- a VCM that does not answer: waited for, but not for ever ------------------------------
# The call that crosses the critical level waits for every running VCM to
# take it in, at most 3 s (hsmd(8), VCMs): a VCM whose process is stopped
# (SIGSTOP) does not; the call returns after the bound, hsmd logs it, and
# the VCM acts once it runs again.
P=$(vcm_pid "$U")
ok "the VCM's process ($P) is stopped (SIGSTOP)" kill -STOP "$P"
log_until_refused 200 call h setup set_mode setup
rc_is 3 "the HSM's logs cross the critical level again after $n logged calls"
ok "hsmd logged that the stopped VCM did not take it in within 3 s" \
	grep -qF "VCM $U: did not take in \"platform critical\" within 3000 ms" "$TEST_TMP/h.log"
ok "the VCM's process runs again (SIGCONT)" kill -CONT "$P"
ok "... takes the HSM's state in: its ncoreapi ends, the interlock is free" \
	wait_until 20 eval '[ "$(interlock)" = free ]'
tcall "$U" ncoreapi set_mode "$NK" '{"mode":"maintenance"}'
rc_is 255 "... its ncoreapi refuses connections"
cp hsmd.conf.base "$HSMD_CONFDIR/hsmd.conf"
done_testing
