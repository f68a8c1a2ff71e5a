#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fault injection over every state-changing device method (in the spirit of
# SQLite's crash and I/O-error tests; tests/fault/README.md): each method
# runs once to count the writes, fsyncs and renames it makes, then once for
# every N of that count with the Nth failing with ENOSPC, with EIO, and
# with hsmd killed (SIGKILL) just before it.  After each, hsmd is started
# again and must start, hold the state from before or after the method, have
# the method's log entry if and only if the change is there, have no gap in
# the system log, leave no temporary file (they may hold host keys), and
# every VCM must hold its claim in the machine-wide VCM allocations.
#
# A method is one line in the table below.  FAULT_METHODS="a b" runs only
# those; FAULT_KINDS="kill" only those kinds (default "enospc kill"; "eio"
# takes the same paths in hsmd, README.md).
. "$top_srcdir/tests/lib/vcm-lib.sh"
SHIM=$(_find_built "$top_builddir/tests/fault" faultshim.so) || { echo "Bail out! faultshim not built"; exit 1; }
FAULTCTL="$top_builddir/tests/fault/faultctl"
[ -x "$FAULTCTL" ] || { echo "Bail out! faultctl not built"; exit 1; }
CTL=$TEST_TMP/fault.ctl
SNAP=$TEST_TMP/snapshots
# No statistics poll during a method: the count must be the method's.
HSMD_EXTRA_CONF=$'[vcm]\nstats_interval = 3600\n'
vcm_setup
cd "$TEST_TMP" || exit 1
ESN=1A23-BC45-6789
VCM_HSM=h
"$FAULTCTL" "$CTL" init || exit 1

# --- base states ---------------------------------------------------------------------------------
snapshot() { # NAME: hsmd h stopped
	mkdir -p "$SNAP/$1"
	cp -a "$TEST_TMP/h" "$SNAP/$1/h" && cp -a "$HSMADMIN_HOME" "$SNAP/$1/home"
}
restore() { # NAME
	rm -rf "$TEST_TMP/h" "$HSMADMIN_HOME"
	cp -a "$SNAP/$1/h" "$TEST_TMP/h" && cp -a "$SNAP/$1/home" "$HSMADMIN_HOME"
}
ok "base: HSM enrolled" vcm_hsm h "$ESN"
ok "base: licensed" licence h "$ESN" 8
host_keys_for_ssh
"$VENDOR" licence --key lic.key --esn "$ESN" --max-active-vcms 4 --serial 77 --out two.lic >/dev/null
client_keys
SETKEY=$(jq -nc --arg k "$(cut -d' ' -f1,2 "$TEST_TMP/keys/other.pub")" '{service: "monitor", key: $k}')
hsmd_stop h
snapshot plain
hsmd_start h
ok "base: VCM a" new_vcm A "vcm a"; UA=$UUID
ok "base: VCM b" new_vcm A "vcm b"; UB=$UUID
ok "base: VCM c" new_vcm A "vcm c"; UC=$UUID
tenant A vcm start --request-file b-start.req --uuid "$UB"
tenant A vcm setproperties --request-file b-name.req --uuid "$UB" --name renamed
create_req A d-create.req --name "vcm d"
hsmd_stop h
snapshot vcms
hsmd_start h
ha factorystate --esn "$ESN"
ok "base: factory state" test "$rc" = 0
hsmd_stop h
snapshot factory

# --- the methods ---------------------------------------------------------------------------------
# method NAME BASE EVENT PROJECTION PRE COMMAND
#   BASE        plain (enrolled, licensed), vcms (plus VCMs a, b, c), factory
#   EVENT       the system log event the change is logged as
#   PROJECTION  jq over the device document: what the method changes, as it
#               reads after a restart (every start stops VCMs)
#   PRE         run before counting starts; COMMAND is the method
METHODS=()
# Fields are joined with the unit separator: tabs would collapse an empty PRE.
method() { METHODS+=("$(printf '%s\037' "$@")"); }
method enroll         factory enroll            '.state'                         '' 'ha enroll --secret-file "$(secrets h)" --esn $ESN'
method set_key        plain   set_key           '.client_keys.monitor'           '' 'call h sshadmin set_key sshadmin "$SETKEY"'
method fet            plain   fet               '.licence.serial'                '' 'ha fet --esn $ESN two.lic'
method setnetwork     plain   setnetwork        '.vcm_network | (.pending // .current)' '' 'ha setnetwork ipv4static --esn $ESN --address 10.20.0.2/24 --gateway 10.20.0.1'
method settime        plain   settime           '.clock.last_set | type'         'call h setup set_mode setup "{\"mode\":\"maintenance\"}"' 'ha settime --esn $ESN'
method factorystate   plain   factorystate      '.state'                         '' 'ha factorystate --esn $ESN'
method vcm_create     vcms    vcm_create        '.vcms | length'                 '' 'va create --request d-create.req --outdir configs "vcm d"'
method vcm_start      vcms    vcm_start         ".vcms[\"$UB\"].state != \"inactive\""         '' 'va start --request b-start.req $UB'
# A stop and the stop every start makes read the same after a restart: only
# the log entry is checked (at most one).
method vcm_stop       vcms    vcm_stop          ".vcms | has(\"$UA\")"         'va start $UA' 'va stop $UA'
method vcm_delete     vcms    vcm_delete        ".vcms | has(\"$UC\")"           '' 'va delete $UC'
method vcm_properties vcms    vcm_setproperties ".vcms[\"$UB\"].name"            '' 'va properties set --request b-name.req $UB name renamed'

# --- the checks ----------------------------------------------------------------------------------
project() { hsmd_device_doc "$TEST_TMP/h" | jq -c "$1"; }
log_entries() { sed -n 's/^[^{]*//p' "$TEST_TMP/h/system.log" | jq -sc '.'; }
# The real binary, not libtool's wrapper: every start counts here.
HSMD_BIN=$(_find_built "$top_builddir/firmware/hsmd" hsmd) || { echo "Bail out! hsmd not built"; exit 1; }
fast_start() { # start hsmd h, wait until it serves (or dies)
	f_before_n=$(grep -c serving "$TEST_TMP/h.log" 2>/dev/null)
	"$HSMD_BIN" run --state "$TEST_TMP/h" --conf "$HSMD_CONFDIR" >>"$TEST_TMP/h.log" 2>&1 &
	HSMD_PIDS[h]=$!
	cleanup_pid "$!"
	for _ in $(seq 1 500); do
		[ "$(grep -c serving "$TEST_TMP/h.log" 2>/dev/null)" -gt "${f_before_n:-0}" ] && return 0
		kill -0 "${HSMD_PIDS[h]}" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}
start_shimmed() {
	LD_PRELOAD=$SHIM FAULT_CTL=$CTL ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		fast_start
}
stop_any() { # hsmd h, however it is (a kill -9 at rest is one more crash it must survive)
	kill -KILL "${HSMD_PIDS[h]}" 2>/dev/null
	wait "${HSMD_PIDS[h]}" 2>/dev/null
	for _ in $(seq 100); do pgrep -f "hsmd vcm --state $TEST_TMP/h/vcms/" >/dev/null || break; sleep 0.05; done
}

# The machine-wide VCM allocations after a start: every VCM of the registry
# holds its claim, i.e. hsms/HSM/UUID is also the entry of its number and
# of its address (one file), so no other VCM can hold either
# (docs/formats/hsmd-state.md).  Prints what is wrong.
alloc_check() {
	a_t=$HSMD_VCM_ALLOCATIONS.d
	for a_u in $(hsmd_device_doc "$TEST_TMP/h" | jq -r '.vcms // {} | keys[]'); do
		a_f=$(ls "$a_t"/hsms/*/"$a_u" 2>/dev/null | head -1)
		[ -n "$a_f" ] || { echo "VCM $a_u has no claim in $a_t"; continue; }
		a_c=$(cat "$a_f")
		[[ $a_c =~ \"address\":\"([^\"]+)\",\"index\":([0-9]+) ]] || { echo "VCM $a_u: claim $a_c"; continue; }
		[ "$(stat -c %i "$a_t/index/${BASH_REMATCH[2]}" "$a_t/address/${BASH_REMATCH[1]}" 2>/dev/null |
			sort -u)" = "$(stat -c %i "$a_f")" ] ||
			echo "VCM $a_u: its claim $a_c is not its number's and its address's entry"
	done
}

# check NAME KIND N EVENT PROJECTION BEFORE AFTER LASTSEQ: one ok per fault
check() {
	f_name=$1 f_kind=$2 f_n=$3 f_ev=$4 f_proj=$5 f_before=$6 f_after=$7 f_last=$8
	f_why=
	if ! fast_start; then
		f_why="hsmd does not start: $(tail -3 "$TEST_TMP/h.log")"
	else
		# One jq for everything: the projection, the method's entries
		# after the base state's last one, and whether the log is gapless.
		f_res=$({ hsmd_device_doc "$TEST_TMP/h"; log_entries; } | jq -sr --arg e "$f_ev" --argjson s "$f_last" \
			"(.[0] | $f_proj | tojson), ([.[1][] | select(.seq > \$s and .event == \$e)] | length),
			 ([.[1][].seq] as \$q | \$q == [range(\$q[0]; \$q[0] + (\$q | length))]), ([.[1][].seq] | tojson)")
		{ read -r f_now; read -r f_count; read -r f_gapless; read -r f_seqs; } <<<"$f_res"
		f_tmp=$(find "$TEST_TMP/h" -name '*.tmp.*' 2>/dev/null | head -3)
		f_alloc=$(alloc_check)
		if [ "$f_now" != "$f_before" ] && [ "$f_now" != "$f_after" ]; then
			f_why="state is neither before ($f_before) nor after ($f_after): $f_now"
		elif [ "$f_before" != "$f_after" ] && [ "$f_now" = "$f_after" ] && [ "$f_count" != 1 ]; then
			f_why="the change is there but $f_count '$f_ev' log entries"
		elif [ "$f_before" != "$f_after" ] && [ "$f_now" = "$f_before" ] && [ "$f_count" != 0 ]; then
			f_why="no change but $f_count '$f_ev' log entries"
		elif [ "$f_count" -gt 1 ]; then
			f_why="$f_count '$f_ev' log entries"
		elif [ "$f_gapless" != true ]; then
			f_why="a gap in the system log: $f_seqs"
		elif [ -n "$f_tmp" ]; then
			f_why="temporary files left: $f_tmp"
		elif [ -n "$f_alloc" ]; then
			f_why="VCM allocations: $f_alloc"
		fi
	fi
	stop_any
	if [ -z "$f_why" ]; then
		ok "$f_name: $f_kind at operation $f_n" true
	else
		ok "$f_name: $f_kind at operation $f_n" false
		echo "#   $f_why"
		echo "#   method: rc=$m_rc out=$m_out"
		echo "#   method stderr: $m_err"
	fi
}

run_method() { # NAME BASE EVENT PROJECTION PRE COMMAND
	f_name=$1 f_base=$2 f_ev=$3 f_proj=$4 f_pre=$5 f_cmd=$6
	restore "$f_base"
	before=$(project "$f_proj")
	last=$(log_entries | jq '.[-1].seq // 0')
	# Reference run: the count, and the state after.
	start_shimmed || {
		ok "$f_name: hsmd starts with the fault shim" false
		tail -5 "$TEST_TMP/h.log" | sed "s/^/#   hsmd: /"
		return
	}
	[ -z "$f_pre" ] || eval "$f_pre" >/dev/null 2>&1
	"$FAULTCTL" "$CTL" arm 0 eio
	eval "$f_cmd"
	total=$("$FAULTCTL" "$CTL" show | cut -d' ' -f1)
	"$FAULTCTL" "$CTL" disarm
	ok "$f_name: runs without a fault ($total operations)" test "$rc" = 0 || echo "#   $err"
	stop_any
	# What the method leaves, as a restart shows it (a start stops VCMs).
	fast_start || ok "$f_name: hsmd starts after the method" false
	stop_any
	after=$(project "$f_proj")
	[ "$before" != "$after" ] || echo "# $f_name: the state before and after read the same ($before) after a restart"
	for kind in ${FAULT_KINDS:-enospc kill}; do
		for n in $(seq 1 "$total"); do
			restore "$f_base"
			: >"$TEST_TMP/h.log"
			if ! start_shimmed; then
				ok "$f_name: $kind at operation $n: hsmd starts" false
				continue
			fi
			[ -z "$f_pre" ] || eval "$f_pre" >/dev/null 2>&1
			"$FAULTCTL" "$CTL" arm "$n" "$kind" "${HSMD_PIDS[h]}"
			eval "$f_cmd"
			m_rc=$rc m_out=$out m_err=$err
			"$FAULTCTL" "$CTL" disarm
			stop_any
			check "$f_name" "$kind" "$n" "$f_ev" "$f_proj" "$before" "$after" "$last"
		done
	done
}

t0=$(now_ms)
for m in "${METHODS[@]}"; do
	IFS=$'\037' read -r name base ev proj pre cmd <<<"$m"
	case " ${FAULT_METHODS:-$name} " in *" $name "*) ;; *) continue ;; esac
	t1=$(now_ms)
	run_method "$name" "$base" "$ev" "$proj" "$pre" "$cmd"
	echo "# $name: $(( $(now_ms) - t1 )) ms"
done
echo "# all methods: $(( $(now_ms) - t0 )) ms"
done_testing
