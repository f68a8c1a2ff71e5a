#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsmadmin setnetwork end to end against a real hsmd: each mode, every
# validation refusal on the host (usage error naming the option) and on
# the device (the stock ssh client, bypassing the host), pending until
# reset and then current, shown by info and status, kept across an hsmd
# restart, erased by factory state, and refused while a VCM exists.
#
# A VCM is simulated, without the orchestrator, by writing a "vcms"
# member into device.json while hsmd is stopped
# (docs/formats/hsmd-state.md, "vcms").
. "$top_srcdir/tests/lib/platform-lib.sh"
need_plugins setnetwork
need_services setup
platform_setup

ESN=1A23-BC45-6789
hsm_new h "$ESN" && ok "HSM started" true
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "enrolled"
host_keys_for_ssh

vn() { # vn COMMAND JQ: a member of .vcm_network in info or status
	ha "$1" --json
	printf '%s' "$out" | jq -cS ".modules[0].result.vcm_network | $2"
}
# jq -S: keys sorted.
DEFAULT='{"address":null,"gateway":null,"mode":"default"}'
V4='{"address":"10.20.0.2/24","gateway":"10.20.0.1","mode":"ipv4static"}'
V6='{"address":"2001:db8:5::2/64","gateway":"2001:db8:5::1","mode":"ipv6static"}'

# --- the default, then each mode ---------------------------------------------------------
is "$(vn info .current)" "$DEFAULT" "a new HSM: the default network (IPv6 link-local)"
is "$(vn info .pending)" null "... nothing pending"
is "$(vn status .current)" "$DEFAULT" "status shows it too"

ha setnetwork ipv4static --address 10.20.0.2/24 --gateway 10.20.0.1
is "$rc" 0 "setnetwork ipv4static"
like "$out" "reset the HSM \(hsmadmin reset --esn $ESN\) to apply it" "... says a reset applies it"
like "$out" "pending: ipv4static 10.20.0.2/24, gateway 10.20.0.1" "... shows the pending network"
is "$(vn info .pending)" "$V4" "info: pending"
is "$(vn info .current)" "$DEFAULT" "info: current unchanged until reset"
is "$(vn status .pending)" "$V4" "status: pending"
ha info
like "$out" "vcm_network.pending.address: +10.20.0.2/24" "info text shows the pending network"
ha logs get --log system
like "$out" ' setnetwork  \{.*"mode":"ipv4static"' "the system log records setnetwork"

hsmd_stop h
hsmd_start h
is "$(vn info .pending)" "$V4" "pending survives an hsmd restart"
ha reset
is "$rc" 0 "reset"
is "$(vn info .current)" "$V4" "after reset: current"
is "$(vn status .pending)" null "... nothing pending"

ha setnetwork ipv6static --address 2001:DB8:5:0::2/64 --gateway 2001:db8:5::1
is "$rc" 0 "setnetwork ipv6static"
is "$(vn info .pending)" "$V6" "pending, in canonical form (RFC 5952)"
ha setnetwork ipv4static --address 10.20.0.2/24 --gateway 10.20.0.1
is "$rc" 0 "the current network again"
like "$out" "that is the current VCM network; nothing is pending" "... says so"
is "$(vn info .pending)" null "... and cancels the pending change"
ha setnetwork ipv6static --address 2001:db8:5::2/64 --gateway 2001:db8:5::1
ha reset
is "$(vn info .current)" "$V6" "ipv6static applied by reset"
ha setnetwork default --json
is "$rc" 0 "setnetwork default"
is "$(printf '%s' "$out" | jq -cS '.modules[0].result | [.vcm_network.pending, .reset_needed]')" \
	"[$DEFAULT,true]" "--json: the pending default, reset needed"
ha reset
is "$(vn info .current)" "$DEFAULT" "default applied by reset"

# Settings made through settime's reset apply too (every reset applies).
ha setnetwork ipv4static --address 192.168.7.9/30 --gateway 192.168.7.10
is "$rc" 0 "a /30"
call h setup set_mode setup '{"mode":"maintenance"}'
call h setup settime setup "{\"time\":$(date +%s)}"
is "$rc" 0 "settime (resets the HSM)"
is "$(vn info .current.address)" '"192.168.7.9/30"' "... applied the pending network"

# --- refusals on the host: usage errors naming the option ---------------------------------
one_line() { [ -n "$err" ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]; }
refuse() { # refuse OPTION REGEX NAME -- ARGS...
	_opt=$1 _re=$2 _name=$3; shift 4
	ha setnetwork "$@"
	is "$rc" 2 "host refuses $_name: usage error"
	like "$err" "^hsmadmin: setnetwork [a-z0-9]+: $_opt: .*$_re" "... naming $_opt"
}
refuse --gateway "not inside 10.20.0.0/24" "a gateway outside the prefix" -- \
	ipv4static --address 10.20.0.2/24 --gateway 10.20.1.1
refuse --gateway "is the HSM's own address" "gateway = address" -- \
	ipv4static --address 10.20.0.2/24 --gateway 10.20.0.2
refuse --address "network address of 10.20.0.0/24" "the network address" -- \
	ipv4static --address 10.20.0.0/24 --gateway 10.20.0.1
refuse --address "broadcast address of 10.20.0.0/24" "the broadcast address" -- \
	ipv4static --address 10.20.0.255/24 --gateway 10.20.0.1
refuse --gateway "network address of 10.20.0.0/24" "a gateway on the network address" -- \
	ipv4static --address 10.20.0.2/24 --gateway 10.20.0.0
refuse --gateway "broadcast address of 10.20.0.0/24" "a gateway on the broadcast address" -- \
	ipv4static --address 10.20.0.2/24 --gateway 10.20.0.255
refuse --address "prefix length /31 is not allowed" "an IPv4 /31" -- \
	ipv4static --address 10.20.0.2/31 --gateway 10.20.0.3
refuse --address "prefix length /7 is not allowed" "an IPv4 /7" -- \
	ipv4static --address 10.20.0.2/7 --gateway 10.20.0.1
refuse --address "" "an IPv4 /33" -- ipv4static --address 10.20.0.2/33 --gateway 10.20.0.1
refuse --address "" "an address without a prefix" -- ipv4static --address 10.20.0.2 --gateway 10.20.0.1
refuse --address "" "an address with leading zeros" -- ipv4static --address 010.20.0.2/24 --gateway 10.20.0.1
refuse --address "multicast" "a multicast address" -- ipv4static --address 224.0.0.2/24 --gateway 224.0.0.1
refuse --address "" "an IPv6 address for ipv4static" -- ipv4static --address 2001:db8::2/64 --gateway 10.20.0.1
refuse --gateway "" "an IPv6 gateway for ipv4static" -- ipv4static --address 10.20.0.2/24 --gateway 2001:db8::1
refuse --gateway "not inside 2001:db8:5::/64" "an IPv6 gateway outside the prefix" -- \
	ipv6static --address 2001:db8:5::2/64 --gateway 2001:db8:6::1
refuse --address "prefix length /127 is not allowed" "an IPv6 /127" -- \
	ipv6static --address 2001:db8:5::2/127 --gateway 2001:db8:5::3
refuse --address "prefix length /48 is not allowed" "an IPv6 /48" -- \
	ipv6static --address 2001:db8:5::2/48 --gateway 2001:db8:5::1
refuse --address "Subnet-Router anycast" "the IPv6 subnet-router anycast address" -- \
	ipv6static --address 2001:db8:5::/64 --gateway 2001:db8:5::1
refuse --address "link-local" "a link-local static address" -- \
	ipv6static --address fe80::2/64 --gateway fe80::1
ok "refusals are one line" one_line
ha setnetwork ipv4static --address 10.20.0.2/24
is "$rc" 2 "missing --gateway: usage error"
like "$err" "gateway" "... naming it"
ha setnetwork default --address 10.20.0.2/24
is "$rc" 2 "default takes no --address"
ha setnetwork bogus
is "$rc" 2 "an unknown subcommand: usage error"
is "$(vn info .pending)" null "no refusal left anything pending"

# --- refusals on the device ---------------------------------------------------------------
dev() { call h setup setnetwork setup "$1"; }
dev '{"mode":"ipv4static","address":"10.20.0.0/24","gateway":"10.20.0.1"}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: network address: bad_request"
like "$(jqr .error.message)" "network address of 10.20.0.0/24" "... says why"
dev '{"mode":"ipv4static","address":"10.20.0.2/24","gateway":"10.30.0.1"}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: gateway outside the prefix: bad_request"
dev '{"mode":"ipv4static","address":"10.20.0.2/24","gateway":"10.20.0.2"}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: gateway = address: bad_request"
dev '{"mode":"ipv4static","address":"10.20.0.2/32","gateway":"10.20.0.2"}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: /32: bad_request"
dev '{"mode":"ipv6static","address":"10.20.0.2/24","gateway":"10.20.0.1"}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: IPv4 for ipv6static: bad_request"
dev '{"mode":"ipv4static","address":"10.20.0.2/24"}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: no gateway: bad_request"
like "$(jqr .error.message)" "gateway is required" "... says so"
dev '{"mode":"default","address":"10.20.0.2/24"}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: default with an address: bad_request"
dev '{"mode":"dhcp"}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: unknown mode: bad_request"
dev '{"mode":"ipv4static","address":"10.20.0.2/24\u0000x","gateway":"10.20.0.1"}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: a NUL byte in the address: bad_request"
dev '{"mode":"ipv4static","address":"10.20.0.2/24","gateway":"10.20.0.1","vlan":5}'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: an unknown member: bad_request"
dev '[]'
is "$rc:$(jqr .error.code)" "2:bad_request" "device: params not an object: bad_request"
is "$(vn info .pending)" null "no device refusal left anything pending"

# --- refused while a VCM exists ---
hsmd_stop h
hsmd_put_vcms h inactive@10.20.0.5
ok "restarted with a VCM" hsmd_start h
ha setnetwork default
is "$rc" 3 "refused while a VCM exists: exit 3"
like "$err" "1 VCM exists: the VCM network can change only while no VCM exists" "... says why and what to do"
is "$(vn info .pending)" null "... nothing pending"
hsmd_stop h
hsmd_put_vcms h
hsmd_start h
ha setnetwork default
is "$rc" 0 "accepted again once no VCM exists"

# --- a damaged stored network is refused at start-up -----------------------------------------
hsmd_stop h
cp "$TEST_TMP/h/device.json" "$TEST_TMP/dev.json"
jq '.vcm_network.current = {"mode":"ipv4static","address":"10.20.0.0/24","gateway":"10.20.0.1"}' \
	"$TEST_TMP/dev.json" >"$TEST_TMP/h/device.json"
run "$HSMD" run --state "$TEST_TMP/h" --conf "$HSMD_CONFDIR"
is "$rc" 1 "hsmd refuses a stored network that breaks the rules"
like "$err" "vcm_network: current: address 10.20.0.0 is the network address" "... and says why"
cp "$TEST_TMP/dev.json" "$TEST_TMP/h/device.json"
hsmd_start h

# --- factory state erases it ---------------------------------------------------------------------
ha factorystate --esn "$ESN"
is "$rc" 0 "factory state"
ha enroll --secret-file "$(secrets)"
is "$(vn info '[.current, .pending]')" "[$DEFAULT,null]" "after factory state: the default network, nothing pending"

done_testing
