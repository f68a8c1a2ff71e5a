#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The device clock's high-water mark: setting the clock back (allowed while
# it is not earlier than the last time set) revives no expired request.
. "$top_srcdir/tests/lib/vcm-lib.sh"
vcm_clock_setup clock

t0=$(date +%s)
ok "the clock set to now" settime "$t0"
tenant A vcm start --request-file start.req --uuid "$U" --request-validity 5
is "$rc" 0 "a start request valid for 5 seconds"
expires=$(grep -o '"not_after":[0-9]*' start.req | cut -d: -f2)
# Wait on the device's clock, not the host's: the device was set to $t0
# a moment after the host read it, so under load it runs behind.
device_time() { call h setup gettime setup '' && jqr .time; }
deadline=$(($(date +%s) + 60))
while dt=$(device_time) && [ "$dt" -le "$expires" ] && [ "$(date +%s)" -lt "$deadline" ]; do
	sleep 0.2
done
ok "the device clock passed the request's expiry ($dt > $expires)" test "${dt:-0}" -gt "$expires"
va start --request start.req "$U"
is "$rc" 4 "after it expired the start request is refused"
like "$err" "expired" "... as expired"
ok "the clock set back, to one second after the last time set" settime $((t0 + 1))
va start --request start.req "$U"
is "$rc" 4 "the expired request is still refused: expiry uses the highest time the device has seen" ||
	{ echo "# out: $out"; echo "# err: $err"; }
like "$err" "expired" "... as expired"
hw=$(jq -r '.clock.high_water' h/device.json)
ok "device.json records the high-water mark ($hw >= $expires)" test "$hw" -ge "$expires"
done_testing
