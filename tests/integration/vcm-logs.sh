#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `hsmadmin vcm logs export|expire|getkey` against real VCM processes: each
# tenant reaches its own VCM's monitor with the key enrollment installed;
# the VCM's log is its own (not the platform's, not another VCM's); signed
# segments verify offline and tampering is caught; a segment exports once
# (again with --saved); expiry only of exported segments; `vcm logs verify`
# checks good, tampered, cut and missing segments offline; and a tenant's
# monitor key gets into neither another tenant's VCM nor the platform's
# monitor (exit 4).
. "$top_srcdir/tests/lib/vcm-lib.sh"
case " ${BUILT_PLUGINS:-} " in *" vcmtenant "*) ;; *) skip_all "vcmtenant plugin not built" ;; esac
case " ${BUILT_PLUGINS:-} " in *" vcmlogs "*) ;; *) skip_all "vcmlogs plugin not built" ;; esac
case " ${BUILT_PLUGINS:-} " in *" logs "*) ;; *) skip_all "logs plugin not built" ;; esac
vcm_two_tenants 1A23-BC45-6791
tenant A vcm enroll --config "configs/vcm-$UA.json"
rc_is 0 "tenant A enrolls its VCM"
tenant B vcm enroll --config "configs/vcm-$UB.json"
rc_is 0 "tenant B enrolls its VCM"

# --- getkey -----------------------------------------------------------------------------
tenant A vcm logs getkey --uuid "$UA"
rc_is 0 "getkey"
like "$out" "^ssh-ed25519 [A-Za-z0-9+/]+=*$" "... prints an ssh-ed25519 key"
keya=$out
tenant A vcm logs getkey --uuid "$UA" --json
is "$(printf '%s' "$out" | jq -r .key)" "$keya" "getkey --json: the same key"
tenant A vcm logs getkey --uuid "$UA" --out a-log.pub
rc_is 0 "getkey --out"
is "$(jq -r .key a-log.pub)" "$keya" "... writes the key file with the current key"
is "$(jq -r '.keys | length' a-log.pub)" 1 "... and every epoch's key (one so far)"
tenant B vcm logs getkey --uuid "$UB"
keyb=$out
ok "each VCM has a log key of its own" test "$keya" != "$keyb" -a -n "$keyb"
host_keys_for_ssh
call h monitor logs_getkey monitor '{}'
rc_is 0 "the platform's monitor answers logs_getkey to the provider"
ok "... with a key that is not a VCM's" test "$(jqr .key)" != "$keya" -a "$(jqr .key)" != "$keyb"
pa=$(vcm_pid "$UA")
va stop --force "$UA"
rc_is 0 "stop A's VCM (forced: it is operational)"
va start "$UA"
rc_is 0 "start it again"
ok "... a new process" test "$(vcm_pid "$UA")" != "$pa"
tenant A vcm logs getkey --uuid "$UA"
is "$out" "$keya" "the log key is kept in the VCM's state across a stop and start"

# --- export ---------------------------------------------------------------------------------
tenant A vcm logs export --uuid "$UA"
rc_is 0 "export"
like "$out" "vcm_created .*\"uuid\":\"$UA\"" "... the VCM's own log, from its creation"
unlike "$out" "$UB" "... nothing of the other VCM"
unlike "$out" "  fet  " "... nothing of the platform's log"
like "$out" "log_open .*\"segment\":1" "... segment 1 begins with its own sequence number"
like "$out" "log_previous .*\"segment\":0" "... and the previous one"
mkdir out
tenant A vcm logs export --uuid "$UA" --outdir out
rc_is 3 "exporting again without --saved is refused"
like "$err" "already exported.*--saved" "... saying to use --saved or expire"
tenant A vcm logs export --uuid "$UA" --outdir out --saved
rc_is 0 "export --saved --outdir"
f=out/vcm-$UA-system-1.log
ok "... writes the segment file" test -f "$f"
is "$(stat -c %a "$f")" 600 "... 0600"
run hsmadmin logs verify --key a-log.pub "$f"
rc_is 0 "the exported VCM segment verifies offline with the key file"
like "$out" "vcm/$UA: 1 segment\(s\) verified against the given keys" "... anchored to the VCM's key"
sed 's/vcm_created/vcm_createD/' "$f" >tampered.log
run hsmadmin logs verify --key a-log.pub tampered.log
rc_is 4 "a tampered copy fails: exit 4"
like "$err" "tampered.log: byte [0-9]+: damaged entry after seq" "... naming where"
tenant B vcm logs getkey --uuid "$UB" --out b-log.pub
run hsmadmin logs verify --key b-log.pub "$f"
rc_is 4 "A's segment does not verify with B's key"

# --- expire ----------------------------------------------------------------------------------
tenant A vcm logs expire --uuid "$UA" --seq 5
rc_is 3 "expiring a segment never exported is refused"
like "$err" "never exported" "... saying why"
tenant A vcm logs expire --uuid "$UA" --seq 2
rc_is 3 "expiring the open segment is refused"
tenant A vcm logs expire --uuid "$UA" --seq 1 --json
rc_is 0 "expire the exported segment"
ok "... bytes freed" test "$(printf '%s' "$out" | jq -r .freed)" -ge 1
tenant A vcm logs export --uuid "$UA" --saved
rc_is 3 "an expired segment cannot be exported again"
tenant A vcm logs export --uuid "$UA" --json
rc_is 0 "export after expiry"
is "$(printf '%s' "$out" | jq -r .segment)" 2 "... the next segment"
like "$(printf '%s' "$out" | jq -r .text)" "logs_expired" "... which logs the expiry"
printf '%s' "$out" | jq -j .text >seg2.log
last=$(printf '%s' "$out" | jq -r .last_seq)
tenant A vcm logs export --uuid "$UA" --saved --json
rc_is 0 "export --saved --json"
is "$(printf '%s' "$out" | jq -r '"\(.segment) \(.saved) \(.verified)"')" "2 true true" \
	"... the stored segment again, verified"
tenant A vcm logs expire --uuid "$UA" --seq 2
rc_is 0 "expire it"
tenant A vcm logs export --uuid "$UA" --expire --json
rc_is 0 "export --expire"
is "$(printf '%s' "$out" | jq -r .expired)" true "... expired what it exported"
like "$err" "not recommended" "... with the warning"
printf '%s' "$out" | jq -j .text >seg3.log
last=$(printf '%s' "$out" | jq -r .last_seq)

# --- vcm logs verify (offline, the code of logs verify) ------------------------------------
tenant A vcm logs verify --key a-log.pub seg3.log "$f" seg2.log
rc_is 0 "vcm logs verify: three segments in any order"
like "$out" "vcm/$UA: 3 segment\(s\) verified against the given keys" "... anchored to the VCM's key"
like "$out" "segment 2: entries" "... each named"
tenant A vcm logs verify --key a-log.pub --json "$f" seg2.log seg3.log
rc_is 0 "vcm logs verify --json"
is "$(jqr '"\(.verified) \(.anchored) \([.segments[].segment] | join(","))"')" "true true 1,2,3" \
	"... verified, anchored, segments 1,2,3"
tenant A vcm logs verify --key a-log.pub "$f" seg3.log
rc_is 4 "vcm logs verify: a missing segment fails (exit 4)"
like "$err" "segments 2\.\.2 are missing" "... naming the gap"
tenant A vcm logs verify --key a-log.pub tampered.log
rc_is 4 "vcm logs verify: a tampered segment fails (exit 4)"
like "$err" "tampered.log: byte [0-9]+: damaged entry after seq" "... naming where"
awk 'NR != 3' seg2.log >cut2.log
tenant A vcm logs verify --key a-log.pub "$f" cut2.log seg3.log
rc_is 4 "vcm logs verify: an entry removed from a segment fails (exit 4)"
like "$err" "entries [0-9]+\.\.[0-9]+ are missing" "... naming the missing sequence numbers"
tenant A vcm logs verify --key b-log.pub "$f"
rc_is 4 "vcm logs verify: another VCM's key fails (exit 4)"
tenant A vcm logs verify "$f" seg2.log
rc_is 0 "vcm logs verify without --key: consistent"
like "$err" "no --key given.*vcm logs getkey" "... with a warning naming vcm logs getkey"
tenant A vcm logs verify --key a-log.pub missing.log
rc_is 2 "vcm logs verify: an unreadable file is a usage error (exit 2)"
va stop --force "$UA"
va start "$UA"
tenant A vcm logs export --uuid "$UA" --json
is "$(printf '%s' "$out" | jq -r .segment)" 4 "the segment number survives a restart of the VCM"
ok "... and the entries continue" test "$(printf '%s' "$out" | jq -r .first_seq)" -eq $((last + 1))
tenant B vcm logs export --uuid "$UB" --json
like "$(printf '%s' "$out" | jq -r .text)" "vcm_created" "B's log was not touched by A's expiry"

# --- bad input ---------------------------------------------------------------------------------
tenant A vcm logs export --uuid not-a-uuid
rc_is 2 "a malformed UUID: exit 2"
tenant A vcm logs export --uuid "$UB"
rc_is 2 "a VCM this tenant has not enrolled: exit 2"
like "$err" "no enrolled VCM" "... saying so"
tenant A vcm logs export --uuid "$UA" --outdir missing-dir
rc_is 2 "a missing --outdir: exit 2"
tenant A vcm logs expire --uuid "$UA" --seq 0
rc_is 2 "--seq 0: exit 2"
tenant A vcm logs expire --uuid "$UA"
rc_is 2 "expire without --seq: exit 2"

# --- isolation through the real client -------------------------------------------------------
# Tenant A points its own monitor key at B's VCM (B's record, A's key):
# B's VCM refuses it.
recA=tenants/A/tenant/vcms/$UA
mkdir -p "tenants/A/tenant/vcms/$UB"
cp "tenants/B/tenant/vcms/$UB/enrollment.json" "tenants/A/tenant/vcms/$UB/"
jq '.module = 2' "tenants/A/tenant/vcms/$UB/enrollment.json" >x.json && mv x.json "tenants/A/tenant/vcms/$UB/enrollment.json"
cp "$recA/monitor.key" "$recA/ncoreapi.key" "tenants/A/tenant/vcms/$UB/"
tenant A vcm logs export --uuid "$UB"
rc_is 4 "tenant A's monitor key is refused by B's VCM: exit 4"
unlike "$out" "vcm_created" "... and nothing of B's log is shown"
tenant A vcm logs getkey --uuid "$UB"
rc_is 4 "... getkey too"
rm -rf "tenants/A/tenant/vcms/$UB"
# Tenant A points its VCM record at the platform's monitor (its address,
# port and pinned host key): the platform refuses the tenant's key.
hsmd_known_hosts h
phk=$(jq -r '.certificates.monitor.body.host_key' h/device.json)
cp "$recA/enrollment.json" a-rec.json
jq --arg a "${HSMD_ADDR[h]}" --argjson p "$(port_of h monitor)" --arg k "$phk" \
	'.address = $a | .ports.monitor = $p | .host_keys.monitor = $k' a-rec.json >"$recA/enrollment.json"
tenant A vcm logs export --uuid "$UA"
rc_is 4 "tenant A's VCM monitor key is refused by the platform's monitor: exit 4"
unlike "$out" "  fet  " "... and nothing of the platform's log is shown"
# The same record with the VCM's host key left pinned: a trust failure.
jq --arg a "${HSMD_ADDR[h]}" --argjson p "$(port_of h monitor)" \
	'.address = $a | .ports.monitor = $p' a-rec.json >"$recA/enrollment.json"
tenant A vcm logs getkey --uuid "$UA"
rc_is 4 "the platform's monitor does not pass for the VCM's (pinned host key): exit 4"
cp a-rec.json "$recA/enrollment.json"
printf '{"uuid":' >"$recA/enrollment.json"
tenant A vcm logs getkey --uuid "$UA"
rc_is 1 "a corrupt enrollment record: exit 1"
like "$err" "enrollment record" "... naming it"
cp a-rec.json "$recA/enrollment.json"
tenant A vcm logs getkey --uuid "$UA"
is "$out" "$keya" "the restored record works again"
done_testing
