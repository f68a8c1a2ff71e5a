#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Replay records of tenant requests (docs/formats/hsmd-state.md, "Replay
# decision"): a record is kept while its request is valid, refuses its
# replay, and is pruned once the request has expired by the device clock.
. "$top_srcdir/tests/lib/vcm-lib.sh"
vcm_clock_setup replay
hsmd_known_hosts h
records() { hsmd_device_doc "$TEST_TMP/h" | jq -c --arg u "$U" '.vcms[$u].nonces'; }
show() { echo "# out: $out"; echo "# err: $err"; }

t0=$(date +%s)
ok "the clock set to now" settime "$t0"
tenant A vcm start --request-file s1.req --uuid "$U" --request-validity 600
is "$rc" 0 "a start request valid for 10 minutes" || show
va start --request s1.req "$U"
is "$rc" 0 "it starts the VCM" || show
va stop "$U"
is "$rc" 0 "stopped" || show
n1=$(grep -o '"nonce":"[0-9a-f]*"' s1.req | cut -d'"' -f4)
na=$(grep -o '"not_after":[0-9]*' s1.req | cut -d: -f2)
r=$(records)
is "$(jq -r --arg n "$n1" '[.[] | select(.nonce == $n and .not_after == '"$na"')] | length' <<<"$r")" 1 \
	"the device records the nonce with the request's expiry ($r)"
va start --request s1.req "$U"
is "$rc" 4 "its replay is refused" || show
like "$err" "replay" "... as a replay"

ok "the device clock set an hour forward" settime $((t0 + 3600))
tenant A vcm start --request-file s2.req --uuid "$U"
is "$rc" 0 "a start request without expiry" || show
va start --request s2.req "$U"
is "$rc" 0 "it starts the VCM" || show
r=$(records)
is "$(jq -r --arg n "$n1" '[.[] | select(.nonce == $n)] | length' <<<"$r")" 0 \
	"the expired request's record was pruned ($r)"
is "$(jq -r 'length' <<<"$r")" 1 "only the live record is left"
va stop "$U"
va start --request s1.req "$U"
is "$rc" 4 "the expired request is still refused" || show
like "$err" "expired" "... as expired"
ok "the clock set back to just after the last time set" settime $((t0 + 3601))
va start --request s1.req "$U"
is "$rc" 4 "setting the clock back does not revive it" || show
like "$err" "expired" "... as expired"
va start --request s2.req "$U"
is "$rc" 4 "the live request stays a replay" || show
like "$err" "replay" "... as a replay"
done_testing
