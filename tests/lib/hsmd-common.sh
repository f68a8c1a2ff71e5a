# SPDX-License-Identifier: Apache-2.0
# tests/lib/hsmd-common.sh - real hsmd processes on loopback for
# the hsmd-*.sh tests, called with the stock OpenSSH client.
#
#   . "$top_srcdir/tests/lib/hsmd-common.sh"
#   hsmd_setup                      services and configuration in $TEST_TMP
#   hsmd_provision NAME ADDR ESN [provision options...]
#   hsmd_start NAME                 background; $HSMD_PID; waits until serving
#   hsmd_stop NAME                  SIGTERM and wait
#   client_keys                     $TEST_TMP/keys/{sshadmin,setup,monitor,other}
#   call NAME SERVICE METHOD KEY [PARAMS]   sets $out $err $rc (ssh's status)
#   hsmd_enrolled ESN               all of the above for one HSM h at $A,
#                                   enrolled with the stock ssh client keys

. "$top_srcdir/tests/lib/common.sh"

HSMD="$top_builddir/firmware/hsmd/hsmd"
[ -x "$HSMD" ] || { echo "Bail out! hsmd not built"; exit 1; }
HSMD_CONFDIR=$TEST_TMP/hsmdconf
HSMD_SVCDIR=$TEST_TMP/services
# One machine-wide table of VCM addresses and users (hsmd(8)) for every
# test of this machine, as for every hsmd of a real one: the HSMs of tests
# running side by side never hand out the same VCM address or uid.
HSMD_VCM_ALLOCATIONS=${HSMD_VCM_ALLOCATIONS:-${TMPDIR:-/tmp}/hsmadmin-tests-vcm-allocations.json}
declare -A HSMD_PIDS HSMD_ADDR

# hsmd_vcm_claims UUID: the claim of VCM UUID in the machine-wide table
# (PATH.d/hsms/HSM/UUID, docs/formats/hsmd-state.md): one JSON line, or
# nothing.
hsmd_vcm_claims() { cat "$HSMD_VCM_ALLOCATIONS".d/hsms/*/"$1" 2>/dev/null; }

hsmd_setup() {
	mkdir -p "$HSMD_CONFDIR/services.d" "$HSMD_SVCDIR" "$TEST_TMP/keys"
	chmod 0755 "$HSMD_SVCDIR"
	for s in sshadmin setup monitor; do
		hsmd_add_service "$s" || { echo "Bail out! service $s not built"; exit 1; }
	done
	printf '[paths]\nservicedir = %s\nvcm_allocations = %s\n%s' "$HSMD_SVCDIR" "$HSMD_VCM_ALLOCATIONS" \
		"${HSMD_EXTRA_CONF:-}" >"$HSMD_CONFDIR/hsmd.conf"
	openssl genpkey -algorithm ed25519 -out "$TEST_TMP/vendor.pem" 2>/dev/null
	chmod 0600 "$TEST_TMP/vendor.pem"
}

# hsmd_add_service NAME: a built service module and its shipped conf in
# this test's hsmd, as installed; fails when configure did not build it.
hsmd_add_service() {
	_so=$(_find_built "$top_builddir/firmware/services/$1" "$1.so") || return 1
	cp "$_so" "$HSMD_SVCDIR/$1.so"
	chmod 0755 "$HSMD_SVCDIR/$1.so"
	cp "$top_srcdir/conf.d/services.d/$1.conf" "$HSMD_CONFDIR/services.d/"
}

# updater_setup: for the tests of firmware upgrades, after hsmd_setup (or
# an area's set-up): the updater service (the test skips itself without
# it), the test's vendor key trusted by hsmd for firmware packages, and
# the working directory $TEST_TMP with mods/ holding hsmd's service modules
# and their confs (for `hsm-vendor npkg --modules mods`).
updater_setup() {
	hsmd_add_service updater || skip_all "updater service not built"
	mkdir -p "$HSMD_CONFDIR/vendor.d"
	openssl pkey -in "$TEST_TMP/vendor.pem" -pubout -out "$HSMD_CONFDIR/vendor.d/vendor.pem" 2>/dev/null
	cd "$TEST_TMP" || exit 1
	mkdir -p mods/services.d
	cp "$HSMD_SVCDIR"/*.so mods/
	cp "$HSMD_CONFDIR"/services.d/*.conf mods/services.d/
}

client_keys() {
	for s in sshadmin setup monitor other; do
		[ -f "$TEST_TMP/keys/$s" ] || ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/keys/$s"
	done
}

# The enroll params for the keys in $TEST_TMP/keys, with the one-time
# enrollment secret of HSM NAME (default h) while it has one.
enroll_params() { # [NAME]
	_sf=$TEST_TMP/${1:-h}/enrollment-secret
	jq -nc --arg a "$(cut -d' ' -f1,2 "$TEST_TMP/keys/sshadmin.pub")" \
		--arg b "$(cut -d' ' -f1,2 "$TEST_TMP/keys/setup.pub")" \
		--arg c "$(cut -d' ' -f1,2 "$TEST_TMP/keys/monitor.pub")" \
		--arg s "$( [ -f "$_sf" ] && cut -d' ' -f2 "$_sf")" \
		'{client_keys: {sshadmin: $a, setup: $b, monitor: $c}} + (if $s == "" then {} else {enrollment_secret: $s} end)'
}

hsmd_provision() { # NAME ADDR ESN [options]
	_n=$1 _a=$2 _e=$3; shift 3
	HSMD_ADDR[$_n]=$_a
	"$HSMD" provision --state "$TEST_TMP/$_n" --esn "$_e" --address "$_a" \
		--vendor-key "$TEST_TMP/vendor.pem" "$@" >/dev/null
}

# hsmd_enrolled ESN: hsmd_setup, client_keys, HSM "h" of ESN at a fresh
# address ($A) provisioned and started, then enrolled with the keys of
# client_keys: $rc, $out and $err are those of the enroll call.
hsmd_enrolled() {
	hsmd_setup
	client_keys
	A=$(test_address)
	hsmd_provision h "$A" "$1"
	hsmd_start h
	call h sshadmin enroll sshadmin "$(enroll_params)"
}

# known_hosts of an HSM from its current host keys (what enroll pins).
hsmd_known_hosts() { # NAME
	_n=$1
	jq -r --arg a "${HSMD_ADDR[$_n]}" --slurpfile lt "$TEST_TMP/$_n/lifetime.json" \
		'.certificates | to_entries[] | "[\($a)]:\($lt[0].ports[.key]) \(.value.body.host_key)"' \
		"$TEST_TMP/$_n/device.json" >"$TEST_TMP/$_n.known_hosts"
}

hsmd_start() { # NAME
	_n=$1
	_before=$(grep -c 'serving' "$TEST_TMP/$_n.log" 2>/dev/null)
	"$HSMD" run --state "$TEST_TMP/$_n" --conf "$HSMD_CONFDIR" >>"$TEST_TMP/$_n.log" 2>&1 &
	HSMD_PIDS[$_n]=$!
	HSMD_PID=$!
	cleanup_pid "$HSMD_PID"
	for _ in $(seq 1 200); do
		_now=$(grep -c 'serving' "$TEST_TMP/$_n.log" 2>/dev/null)
		[ "${_now:-0}" -gt "${_before:-0}" ] && break
		kill -0 "$HSMD_PID" 2>/dev/null || break
		sleep 0.05
	done
	hsmd_known_hosts "$_n"
	_now=$(grep -c 'serving' "$TEST_TMP/$_n.log" 2>/dev/null)
	[ "${_now:-0}" -gt "${_before:-0}" ]
}

hsmd_stop() { # NAME: SIGTERM, wait; returns hsmd's exit status
	_p=${HSMD_PIDS[$1]}
	kill -TERM "$_p" 2>/dev/null
	# bounded: a hsmd that ignores SIGTERM is killed and reported (124)
	if ! wait_until 30 eval '! kill -0 "$_p" 2>/dev/null || ps -o stat= -p "$_p" | grep -q Z'; then
		echo "# hsmd $1 ($_p) did not exit within 30 s of SIGTERM: killed" >&2
		kill -KILL "$_p" 2>/dev/null; wait "$_p"
		return 124
	fi
	wait "$_p"
}

port_of() { # NAME SERVICE
	jq -r --arg s "$2" '.ports[$s]' "$TEST_TMP/$1/lifetime.json"
}

# log_until_refused MAX CMD...: `CMD... PARAMS` with PARAMS setting the
# HSM's mode to maintenance and operational in turn, until a call is
# refused or MAX went through: each one is logged, so with a small [logs]
# capacity the logs cross their critical level.  $n is how many went
# through; $out $err $rc are the last call's.
log_until_refused() {
	_max=$1 _mode=maintenance n=0
	shift
	while [ $n -lt "$_max" ]; do
		"$@" "{\"mode\":\"$_mode\"}"
		[ "$rc" = 0 ] || return 0
		[ $_mode = maintenance ] && _mode=operational || _mode=maintenance
		n=$((n + 1))
	done
}

# call NAME SERVICE METHOD KEYNAME [PARAMS]: one exec with the stock ssh.
call() {
	_n=$1 _s=$2 _m=$3 _k=$4 _p=${5-}
	_last_command ssh "${_s}.${_m}" "key $_k" "params $_p"
	printf '%s' "$_p" >"$TEST_TMP/.params"
	timeout -k 2 20 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$TEST_TMP/$_n.known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-o IdentitiesOnly=yes -o ConnectTimeout=5 -o LogLevel=ERROR \
		-i "$TEST_TMP/keys/$_k" -p "$(port_of "$_n" "$_s")" "hsm@${HSMD_ADDR[$_n]}" "$_m" \
		<"$TEST_TMP/.params" >"$TEST_TMP/.out" 2>"$TEST_TMP/.err"
	rc=$?
	out=$(cat "$TEST_TMP/.out")
	err=$(cat "$TEST_TMP/.err")
	return "$rc"
}

# The device document as hsmd holds it: DIR/device.json with the registry
# documents DIR/registry/UUID.json as its "vcms" member
# (docs/formats/hsmd-state.md, "Layout and crash guarantees").
hsmd_device_doc() { # DIR
	set -- "$1" "$1"/registry/*.json
	_dd=$1
	shift
	if [ -e "$1" ]; then
		jq -n --slurpfile dev "$_dd/device.json" '$dev[0] + {vcms: ([inputs |
			{key: (input_filename | split("/") | last | rtrimstr(".json")), value: .}] |
			from_entries)}' "$@"
	else
		jq . "$_dd/device.json"
	fi
}

jqr() { printf '%s' "$out" | jq -r "$1" 2>/dev/null; }

# envstats_missing JSON: which of the members guide 4.10.1.13 lists for a
# getenvstats result, and mem_used (3.1.3.5.1), JSON lacks (space-separated,
# empty when none).
ENVSTATS_FIELDS="uptime current_time mem_total mcp_temp cpu_temp crypto_co_proc_temp voltage_t1022_core
voltage_t1022_ifc_io voltage_t1022_serdes voltage_t1022_serdes_io voltage_c292_serdes
voltage_fpga_serdes voltage_c292_serdes_io voltage_fpga_serdes_io voltage_msp_avcc
voltage_ddr4_io_access voltage_ddr4_io voltage_battery voltage_pci_bus max_temp min_temp
ais31_preliminary_alarm_count spl_retries sp_i2c_total_failures sp_i2c_slave_failures
sp_temp_failures sp_voltage_failures host_bus_exceptions crypto_bus_exceptions
sp_sensor_cmd_failures nvm_free_space nvm_wear_level nvm_worn_blocks bios_code
dfs_throttling mem_used"
envstats_missing() {
	printf '%s' "$1" | jq -r --arg f "$ENVSTATS_FIELDS" '[$f | splits("\\s+")] - keys | join(" ")'
}

# hsmd_put_vcms NAME [STATE@ADDRESS...]: the device state of the stopped
# HSM NAME holds these VCMs and no other, as registry entries the way the
# orchestrator writes them (firmware/lib/vcmrules.c): the Nth has sequence
# number N and UUID 0b3c5f2e-0000-4000-8000-00000000000N.  For tests of
# what the registry forbids (the state file is rewritten in place).
hsmd_put_vcms() {
	_sd=$TEST_TMP/$1
	shift
	[ -f "$TEST_TMP/vcmkey.pub" ] || ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/vcmkey"
	printf '%s\n' "$@" | jq -nR --arg k "$(cut -d' ' -f1,2 "$TEST_TMP/vcmkey.pub")" \
		--slurpfile d "$_sd/device.json" '[inputs | select(. != "")] | to_entries |
		map({key: "0b3c5f2e-0000-4000-8000-\(1000000000000 + .key + 1 | tostring | .[1:])",
		     value: {seq: (.key + 1), name: "tenant\(.key + 1)", address: (.value | sub("^[^@]*@"; "")),
		             features: 0, autostart: false, restrict_startup: false,
		             serial_cardreader: false, k_tenant_req: $k, sshadmin_key: $k,
		             state: (.value | sub("@.*"; "")), disk_exceeded: false,
		             created: 1700000000, changed: 1700000000,
		             request_nonce: "00112233445566778899aabbccddeeff", nonces: [], nonce_floor: 0}}) |
		from_entries as $v | $d[0] | .vcms = $v' >"$_sd/.device.json.new" &&
		cat "$_sd/.device.json.new" >"$_sd/device.json" && rm -f "$_sd/.device.json.new"
}
