#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsmd provision: what it creates, and the bad arguments it refuses.
. "$top_srcdir/tests/lib/hsmd-common.sh"
hsmd_setup
A=$(test_address)
V=$TEST_TMP/vendor.pem
S=$TEST_TMP/hsm

prov() { run "$HSMD" provision "$@"; }

prov --esn 1A23-BC45-6789 --vendor-key "$V"
is "$rc" 2 "missing --state is a usage error"
like "$err" '--state DIR is required' "... and says so"
prov --state "$S" --vendor-key "$V"
is "$rc" 2 "missing --esn is a usage error"
prov --state "$S" --esn 1A23-BC45-6789
is "$rc" 2 "missing --vendor-key is a usage error"
prov --state "$S" --esn 1A23-BC45-678 --vendor-key "$V"
is "$rc" 2 "a malformed ESN is refused"
like "$err" "not an ESN" "... naming the problem"
prov --state "$S" --esn 1A23-BC45-6789 --vendor-key "$V" --speed turbo
is "$rc" 2 "an unknown speed is refused"
prov --state "$S" --esn 1A23-BC45-6789 --vendor-key "$V" --address 127.0.0.300
is "$rc" 2 "a bad address is refused"
prov --state "$S" --esn 1A23-BC45-6789 --vendor-key "$V" --port setup=0
is "$rc" 2 "port 0 is refused"
prov --state "$S" --esn 1A23-BC45-6789 --vendor-key "$V" --port nosuch=2210
is "$rc" 2 "a port for an unknown service is refused"
prov --state "$S" --esn 1A23-BC45-6789 --vendor-key "$V" --port setup=2201
is "$rc" 2 "two services on one port are refused"
like "$err" "share port 2201" "... naming the port"
prov --state "$S" --esn 1A23-BC45-6789 --vendor-key "$V" --bogus
is "$rc" 2 "an unknown option is refused"
prov --state "$S" --esn 1A23-BC45-6789 --vendor-key "$V" --features 'NoSuchFeature'
is "$rc" 2 "an unknown feature name is refused"
chmod 0644 "$V"
prov --state "$S" --esn 1A23-BC45-6789 --vendor-key "$V"
is "$rc" 1 "a vendor key readable by others is refused"
chmod 0600 "$V"
prov --state "$S" --esn 1A23-BC45-6789 --vendor-key "$TEST_TMP/nonexistent.pem"
is "$rc" 1 "a missing vendor key fails"
ok "nothing was provisioned by the failures" test ! -e "$S/lifetime.json"

prov --state "$S" --esn 1a23-bc45-6789 --vendor-key "$V" --address "$A" --speed base \
	--port sshadmin=12201 --features KISAAlgorithms --module-conf "$TEST_TMP/mod.conf"
is "$rc" 0 "provision succeeds"
like "$out" "provisioned 1A23-BC45-6789" "... and reports the normalised ESN"
is "$(stat -c %a "$S")" 700 "state directory is 0700"
is "$(stat -c %a "$S/identity.pem")" 600 "identity key is 0600"
is "$(stat -c %a "$S/device.json")" 600 "device state (host keys) is 0600"
is "$(jq -r .esn "$S/lifetime.json")" 1A23-BC45-6789 "lifetime: esn"
is "$(jq -r .psn "$S/lifetime.json")" EMU-1A23BC456789 "lifetime: default psn"
is "$(jq -r .speed "$S/lifetime.json")" base "lifetime: speed"
# builtin 0x1A20 | HSMSpeed0 0x400 | KISAAlgorithms 0x10
is "$(jq -r .features "$S/lifetime.json")" $((0x1A20 | 0x400 | 0x10)) "lifetime: factory features word"
is "$(jq -r .ports.sshadmin "$S/lifetime.json")" 12201 "lifetime: configured port"
is "$(jq -r .ports.monitor "$S/lifetime.json")" 2206 "lifetime: default port"
is "$(jq -r .state "$S/device.json")" factory "device starts in factory state"
is "$(jq -r '.host_keys | keys | length' "$S/device.json")" 7 "a host key for each of the 7 platform services"
is "$(jq -r '[.certificates[].body.host_key] | unique | length' "$S/device.json")" 7 "... all different"
is "$(jq -r '.warrant.body.identity_key' "$S/lifetime.json")" "$(jq -r .identity_key "$S/lifetime.json")" \
	"the warrant names the identity key"
# The warrant is signed by the vendor key: compare with its public key.
vpub=$(openssl pkey -in "$V" -pubout -outform DER 2>/dev/null | tail -c 32 | python3 -c '
import sys, base64, struct
raw = sys.stdin.buffer.read()
t = b"ssh-ed25519"
blob = struct.pack(">I", len(t)) + t + struct.pack(">I", len(raw)) + raw
print("ssh-ed25519 " + base64.b64encode(blob).decode())')
is "$(jq -r '.warrant.signature.key' "$S/lifetime.json")" "$vpub" "the warrant is signed by the vendor key"
is "$(jq -r '.certificates.setup.signature.key' "$S/device.json")" "$(jq -r .identity_key "$S/lifetime.json")" \
	"host key certificates are signed by the identity key"
expected=$(printf '[module]\nesn = 1A23-BC45-6789\naddress = %s\n[ports]\nsshadmin = 12201\nsetup = 2202\nncoreapi = 2203\nupdater = 2204\nlauncher = 2205\nmonitor = 2206\norchestrator = 2207' "$A")
is "$(cat "$TEST_TMP/mod.conf")" "$expected" "--module-conf writes the host's modules.d entry"

prov --state "$S" --esn 9Z87-YX65-4321 --vendor-key "$V"
is "$rc" 1 "provisioning over an existing HSM is refused"
like "$err" "already holds a provisioned HSM" "... and says so"
is "$(jq -r .esn "$S/lifetime.json")" 1A23-BC45-6789 "... and the HSM is untouched"

# hsmd run refuses what provision did not make, or what was tampered with.
run "$HSMD" run --state "$TEST_TMP/empty" --conf "$HSMD_CONFDIR"
is "$rc" 1 "run on an unprovisioned directory fails"
like "$err" "not a provisioned HSM" "... and says so"
cp "$S/lifetime.json" "$TEST_TMP/lifetime.good"
jq '.warrant.body.psn = "FORGED"' "$TEST_TMP/lifetime.good" >"$S/lifetime.json"
run "$HSMD" run --state "$S" --conf "$HSMD_CONFDIR"
is "$rc" 1 "a tampered warrant stops hsmd"
like "$err" "lifetime.json: warrant" "... naming the file and member"
cp "$TEST_TMP/lifetime.good" "$S/lifetime.json"
cp "$S/device.json" "$TEST_TMP/device.good"
jq '.state = "hacked"' "$TEST_TMP/device.good" >"$S/device.json"
run "$HSMD" run --state "$S" --conf "$HSMD_CONFDIR"
is "$rc" 1 "an invalid device state stops hsmd"
like "$err" "device.json: state" "... naming the file and member"
printf '{"version":1,' >"$S/device.json"
run "$HSMD" run --state "$S" --conf "$HSMD_CONFDIR"
is "$rc" 1 "a truncated device state stops hsmd"
like "$err" "device.json" "... naming the file"
cp "$TEST_TMP/device.good" "$S/device.json"
done_testing
