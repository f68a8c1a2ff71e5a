#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsmadmin logs collect, the audit-log collector, against two real hsmd:
# segments stored per ESN and sequence number, verified, expired on the
# HSM only after they are stored; nothing exported when nothing happened;
# a collector that died between export and expiry picks the segment up
# again without exporting twice; an HSM that is away does not stop the
# others; gaps are reported; --daemon runs until SIGTERM.
. "$top_srcdir/tests/lib/platform-lib.sh"
case " ${BUILT_PLUGINS:-} " in *" logs "*) ;; *) skip_all "logs plugin not built" ;; esac

stored() { ls "$TEST_TMP/col/$1" 2>/dev/null | tr '\n' ' '; } # ESN

platform_setup
E1=6F78-AB90-1234 E2=7A89-BC01-2345
hsm_new h1 "$E1"
hsm_new h2 "$E2"
ha enroll --secret-file "$(secrets)"
rc_is 0 "both HSMs enrolled"
host_keys_for_ssh
mkdir "$TEST_TMP/col"

ha logs collect --outdir "$TEST_TMP/col" --json
rc_is 0 "collect"
is "$(stored "$E1")" "system-1.log " "... segment 1 of the first HSM stored"
is "$(stored "$E2")" "system-1.log " "... and of the second"
is "$(stat -c %a "$TEST_TMP/col/$E1/system-1.log")" 600 "... 0600"
is "$(printf '%s' "$out" | jq -r '[.modules[].segments[].segment] | join(",")')" "1,1" "... reported in JSON"
ha logs getkey --esn "$E1" --out "$TEST_TMP/k1.json"
ha logs verify --key "$TEST_TMP/k1.json" "$TEST_TMP/col/$E1"/*.log
rc_is 0 "... the stored segment verifies"
ha logs export --esn "$E1" --saved --json
rc_is 3 "... and it was expired on the HSM"

ha logs collect --outdir "$TEST_TMP/col"
rc_is 0 "collect again with nothing new"
is "$(stored "$E1")" "system-1.log " "... exports nothing"

call h1 setup set_mode setup '{"mode":"maintenance"}'
ha logs collect --outdir "$TEST_TMP/col"
rc_is 0 "collect after a change"
is "$(stored "$E1")" "system-1.log system-2.log " "... segment 2 stored"
is "$(stored "$E2")" "system-1.log " "... nothing from the unchanged HSM"
ha logs verify --key "$TEST_TMP/k1.json" "$TEST_TMP/col/$E1"/*.log
rc_is 0 "... segments 1 and 2 chain and verify"

# A collector that died between export and expiry: the HSM holds the
# exported segment; the next round fetches it (saved) instead of
# exporting again.
call h1 setup set_mode setup '{"mode":"operational"}'
mkdir "$TEST_TMP/manual"
ha logs export --esn "$E1" --outdir "$TEST_TMP/manual"
rc_is 0 "an export whose collector died before storing it"
ha logs collect --outdir "$TEST_TMP/col"
rc_is 0 "collect"
is "$(stored "$E1")" "system-1.log system-2.log system-3.log " "... stores that segment, once"
cmp -s "$TEST_TMP/manual/$E1-system-3.log" "$TEST_TMP/col/$E1/system-3.log"
rc_is 0 "... the very segment exported before"
ha logs export --esn "$E1" --saved --json
rc_is 3 "... and expires it"

# An HSM that is away.
hsmd_stop h2
call h1 setup set_mode setup '{"mode":"maintenance"}'
ha logs collect --outdir "$TEST_TMP/col"
rc_is 5 "one HSM away: exit 5"
like "$err" "$E2" "... naming it"
is "$(stored "$E1")" "system-1.log system-2.log system-3.log system-4.log " "... the other is still collected"
hsmd_start h2
ha logs collect --outdir "$TEST_TMP/col"
rc_is 0 "the HSM is back: collect works again"

# A gap: a stored segment went missing on this host.
rm "$TEST_TMP/col/$E1/system-4.log"
call h1 setup set_mode setup '{"mode":"operational"}'
ha logs collect --outdir "$TEST_TMP/col"
rc_is 0 "collect over a gap"
like "$err" "segments 4\\.\\.4 were never collected" "... reports the gap"

# A different file where a segment goes is never replaced.
call h1 setup set_mode setup '{"mode":"maintenance"}'
echo junk >"$TEST_TMP/col/$E1/system-6.log"
ha logs collect --outdir "$TEST_TMP/col"
rc_is 1 "a different file in the way: exit 1"
is "$(cat "$TEST_TMP/col/$E1/system-6.log")" junk "... it is not replaced"
ha logs export --esn "$E1" --saved --json
rc_is 0 "... and the segment stays on the HSM"
rm "$TEST_TMP/col/$E1/system-6.log"

# --daemon until SIGTERM.
HSMADMIN_BIN=$(command -v hsmadmin)
"$HSMADMIN_BIN" logs collect --daemon --interval 1 --outdir "$TEST_TMP/col" >"$TEST_TMP/d.out" 2>"$TEST_TMP/d.err" &
dpid=$!
cleanup_pid "$dpid"
for _ in $(seq 1 100); do [ -f "$TEST_TMP/col/$E1/system-6.log" ] && break; sleep 0.1; done
ok "the daemon collects the segment left on the HSM" test -f "$TEST_TMP/col/$E1/system-6.log"
call h2 setup set_mode setup '{"mode":"maintenance"}'
for _ in $(seq 1 100); do [ -f "$TEST_TMP/col/$E2/system-2.log" ] && break; sleep 0.1; done
ok "... and new segments as they come" test -f "$TEST_TMP/col/$E2/system-2.log"
kill -TERM "$dpid"
wait "$dpid"
is "$?" 0 "... and stops on SIGTERM with status 0"
done_testing
