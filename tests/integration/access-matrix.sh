#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The access matrix (docs/protocol.md, "Who may call what"): every method
# of every service, as `hsmd methods` lists it from the very tables hsmd
# dispatches with, in every mode of the platform (operational with the
# interlock, maintenance, recovery enrolled and in factory state, factory
# state, a lost clock, logs past their safe and past their critical
# capacity, failed) and of a VCM (operational, maintenance, on an HSM
# with a lost clock, past the safe capacity, failed; one running when its
# HSM's logs cross the critical capacity keeps its log methods and its
# ncoreapi, terminated, refuses connections; past the HSM's critical
# capacity no VCM starts, autostart or not, and refuses connections),
# with every key (each platform service key, the VCM's tenant's keys,
# another tenant's keys, a stranger's key, no key), against the answer the
# documented rule gives.  Calls carry "hsmd_probe": true under
# HSMD_PROBE=1 (hsmd(8)): an admitted call is answered before its handler
# runs, so nothing changes whatever the method.  The docs table must list
# every method with the rules its table entry declares: a new method
# without a documented rule fails here.
. "$top_srcdir/tests/lib/vcm-lib.sh"
need_plugins nopclearfail
ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/nopclearfail"
need_services updater
vcm_setup
hsmd_add_service updater || { echo "Bail out! service updater not built"; exit 1; }
cd "$TEST_TMP" || exit 1
ESN=1A23-BC45-6789
S=$TEST_TMP/h
rc_is() {
	is "$rc" "$1" "$2"
	[ "$rc" = "$1" ] || printf '#   stdout: %s\n#   stderr: %s\n' "$out" "$err" | head -20
}

# --- the method tables and their documentation ----------------------------------------------
run "$HSMD" methods --conf "$HSMD_CONFDIR" --json
rc_is 0 "hsmd methods --json"
printf '%s\n' "$out" >methods.json
nmethods=$(jq length methods.json)
ok "it lists the methods of the six services ($nmethods)" \
	test "$(jq -r '[.[].service] | unique | join(" ")' methods.json)" = \
	"monitor ncoreapi orchestrator setup sshadmin updater"
run "$HSMD" methods --conf "$HSMD_CONFDIR"
rc_is 0 "hsmd methods (the table of docs/protocol.md)"
printf '%s\n' "$out" | grep '^| `' >listed.md
grep '^| `[a-z]*\.[a-z_]*`' "$top_srcdir/docs/protocol.md" >documented.md
missing=$(comm -23 <(sort listed.md) <(sort documented.md) | sed 's/^| `\([^`]*\)`.*/new method \1 has no documented rule (or its rules changed)/')
stale=$(comm -13 <(sort listed.md) <(sort documented.md) | sed 's/^| `\([^`]*\)`.*/\1 is documented with rules no table has/')
is "$missing" "" "every method's rules are documented in docs/protocol.md, as its table declares them"
is "$stale" "" "... and the documentation lists no rule that no table declares"
is "$(jq '[.[] | select(.runs_on == [])] | length' methods.json)" 0 "every method is served somewhere"

# --- keys ------------------------------------------------------------------------------------
declare -A KEY         # name -> OpenSSH private key file ("" for no key)
keyline() { ssh-keygen -y -f "$1" | cut -d' ' -f1,2; }
declare -A KEYLINE     # name -> its public key line
setkey() { KEY[$1]=$2 KEYLINE[$1]=$(keyline "$2"); }
newkey() { ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/keys/$1" && setkey "$1" "$TEST_TMP/keys/$1"; }
mkdir -p keys
newkey stranger
KEY[none]=
# The tenants' sshadmin keys exist before any VCM: made with their requests.
# Tenant A's VCM starts by itself at every boot (--autostart), B's only
# when started: the modes entered by restarting hsmd have both kinds.
autostart() { [ "$1" = A ] && echo --autostart; }
for T in A B; do
	create_req "$T" "$TEST_TMP/req-$T.req" --name "tenant $T" $(autostart "$T")
	rc_is 0 "tenant $T writes a create request $(autostart "$T")"
	setkey "$T-sshadmin" "$(tenant_ssh_key "$T")"
	# The keys the tenant installs on its VCM later, tried before too.
	newkey "$T-ncoreapi" && newkey "$T-monitor"
done
# The host's client keys for the platform services (the host keeps them
# protected; KEYEXPORT opens them for ssh), and one for the updater, which
# enroll leaves without a client key, installed through sshadmin.
platform_keys() {
	for _s in sshadmin setup monitor updater orchestrator; do
		[ -f "$HSMADMIN_HOME/keys/client/$_s" ] || continue
		rm -f "$TEST_TMP/keys/$_s"
		"$KEYEXPORT" "$_s" "$HSMADMIN_HOME/keys/client/$_s" "$TEST_TMP/keys/$_s" &&
			setkey "p-$_s" "$TEST_TMP/keys/$_s"
	done
	if [ ! -f "$HSMADMIN_HOME/keys/client/updater" ]; then
		[ -n "${KEY[p-updater]+x}" ] || newkey p-updater
		pcall "${KEY[p-sshadmin]}" sshadmin set_key \
			"$(jq -nc --arg k "${KEYLINE[p-updater]}" '{service: "updater", key: $k}')"
		rc_is 0 "a client key for the updater"
	fi
}

# --- calls -----------------------------------------------------------------------------------
SSHOPTS=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
	-o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o ConnectTimeout=10 -o LogLevel=ERROR)
CM=$(mktemp -d /tmp/mx.XXXXXX) # control sockets: a short path
cleanup_masters() {
	for _c in "$CM"/*; do
		[ -S "$_c" ] && ssh "${SSHOPTS[@]}" -S "$_c" -O exit x >/dev/null 2>&1
	done
	rm -f "$CM"/*
}
trap 'cleanup_masters; rm -rf "$CM"; _test_cleanup' EXIT

_io=$TEST_TMP/.io # where a call's input and output go (one per job)
# open_master SOCK KEY ADDR PORT: one authenticated connection for the
# calls of one key to one service; sets $rc, $out, $err.  The master ends
# with `-O exit`, or when hsmd goes.
open_master() {
	_sock=$1 _key=$2 _addr=$3 _port=$4
	if [ -n "$_key" ]; then set -- -i "$_key"; else set -- -o PubkeyAuthentication=no; fi
	_last_command ssh -M "$_addr:$_port" "key ${_key:-none}"
	timeout -k 2 30 ssh "${SSHOPTS[@]}" "$@" -o ControlMaster=yes -o ControlPath="$_sock" \
		-o ControlPersist=yes -f -N -p "$_port" "hsm@$_addr" >"$_io.out" 2>"$_io.err" </dev/null
	rc=$?
	out=$(cat "$_io.out") err=$(cat "$_io.err")
}

# mcall SOCK KEY ADDR PORT METHOD PARAMS: one call over the open
# connection (should it have gone, a new one with the same key).  A call
# that fails in transport is not called again: it is a failure.
mcall() {
	_last_command ssh "$5" "params $6"
	printf '%s\n' "$6" >"$_io.params"
	timeout -k 2 30 ssh "${SSHOPTS[@]}" -o ControlPath="$1" -o ControlMaster=no -i "$2" -p "$4" "hsm@$3" "$5" \
		<"$_io.params" >"$_io.out" 2>"$_io.err"
	rc=$?
	out=$(cat "$_io.out") err=$(cat "$_io.err")
}

# The answer class of the last call (docs/protocol.md, "Who may call
# what"), from its exit status and its one-line JSON reply; $_hint is the
# method's gate_hint ("-" for none), which must start the message of its
# recovery or maintenance rule.
_hint=-
classify() {
	case "$rc" in
	0) case "$out" in *'"probe":"admitted"'*) echo admitted ;; *) echo "ran-without-probe" ;; esac ;;
	1) case "$out" in *'"message":"the HSM has failed'*) echo failed ;; *) echo "failed-other" ;; esac ;;
	2) echo bad_request ;;
	3) case "$out" in
	   *'"message":"HSM is in factory state'*) echo state-factory ;;
	   *'"message":"system logs are past their critical capacity'*) echo state-critical ;;
	   *'"message":"interlock:'*'nopclearfail -M'*) echo state-interlock ;;
	   *'"message":"system logs are past their safe working capacity'*) echo state-safe ;;
	   *'"message":"the system clock is lost'*) echo state-clock ;;
	   *'maintenance mode'*"'nopclearfail -M --esn"*) echo "state-maintenance$(hinted)" ;;
	   *'recovery mode'*'hsmd button --hold'*) echo "state-recovery$(hinted)" ;;
	   *) echo "state-other" ;;
	   esac ;;
	4) case "$out" in *'enrollment secret'*) echo denied-secret ;; *) echo denied ;; esac ;;
	255) case "$err" in
	     *"Permission denied"*) echo auth ;;
	     *"Connection refused"*) echo absent ;;
	     *) echo "ssh-error" ;;
	     esac ;;
	*) echo "exit-$rc" ;;
	esac
}

# "" when the last reply's message starts with the method's hint (or it
# has none), else "-without-its-hint".
hinted() {
	[ "$_hint" = - ] && return
	case "$out" in *"\"message\":\"$_hint; "*) ;; *) echo "-without-its-hint" ;; esac
}

# pcall KEYFILE SERVICE METHOD PARAMS: one call to a platform service,
# whatever its host keys are now (this test is about access, not pinning).
pcall() {
	_last_command ssh "$2.$3" "key $1" "params $4"
	printf '%s\n' "$4" >"$TEST_TMP/.params"
	timeout -k 2 30 ssh "${SSHOPTS[@]}" -i "$1" -p "$(port_of h "$2")" "hsm@${HSMD_ADDR[h]}" "$3" \
		<"$TEST_TMP/.params" >"$TEST_TMP/.out" 2>"$TEST_TMP/.err"
	rc=$?
	out=$(cat "$TEST_TMP/.out") err=$(cat "$TEST_TMP/.err")
}

# The documented rule (docs/protocol.md, "Who may call what") as one jq
# program: for each method of service $s (and its variant), the row
# NAME METHOD PARAMS EXPECTED HINT, given the facts of the mode
# {served, factory, recovery, maintenance, failed, interlock, clock_lost,
# safe, critical, and terminated: the services not served while the rest
# are} and whether the key authenticates ($keyok).
EXPECT_JQ='
def hasf($f): index($f) != null;
def expect($m; $v; $f):
	(if $v then $m.flags + $m.variant_flags else $m.flags + $m.plain_flags end) as $fl |
	if ($f.served | not) then "absent"
	elif ($keyok | not) then "auth"
	elif $f.failed and ($m.fault_exempt | not) then "failed"
	elif $f.factory and ($fl | hasf("factory_ok") | not) then "state-factory"
	elif $f.factory and ($fl | hasf("invasive")) then "denied-secret"
	elif $f.critical and ($fl | hasf("log_access") | not) then "state-critical"
	elif ($fl | hasf("invasive")) and $f.interlock then "state-interlock"
	elif ($fl | hasf("log_guarded")) and ($f.safe or $f.critical) then "state-safe"
	elif ($fl | hasf("needs_clock")) and $f.clock_lost then "state-clock"
	elif ($fl | hasf("recovery")) and ($f.recovery | not) then "state-recovery"
	elif ($fl | hasf("maintenance")) and ($f.maintenance | not) and ($f.recovery | not)
		then "state-maintenance"
	else "admitted" end;
.[] | select(.service == $s) | . as $m |
([false] + (if $m.variant_param then [true] else [] end))[] as $v |
[$m.method + (if $v then "+" + $m.variant_param else "" end), $m.method,
 ({hsmd_probe: true} + (if $v then {($m.variant_param): true} else {} end) | tojson),
 expect($m; $v; $facts), ($m.gate_hint // "-")] | @tsv'

# probe_service DIR WHERE ADDR PORT SERVICE DEVICE_JSON FACTS_JSON KEYNAME...:
# every method of one service with every key; for each key the answers
# and the expected answers go to DIR/KEY.{got,want,out,err}.  A key's
# authentication does not depend on the method (SSH authenticates before
# the exec request names it), so each key opens one connection and every
# method is called over it.
probe_service() {
	_dir=$1 _where=$2 _addr=$3 _port=$4 _svc=$5 _dev=$6 _f=$7
	shift 7
	_io=$_dir/io
	_factory=$(jq -r '.state == "factory"' "$_dev")
	_want_key=$(jq -r --arg s "$_svc" '.client_keys[$s] // empty' "$_dev")
	for _k in "$@"; do
		_file=${KEY[$_k]-}
		_keyok=false
		if [ -n "$_file" ]; then
			if [ "$_factory" = true ]; then [ "$_svc" = sshadmin ] && _keyok=true
			elif [ "${KEYLINE[$_k]}" = "$_want_key" ]; then _keyok=true; fi
		fi
		_sock=$CM/$_k-$_svc
		open_master "$_sock" "$_file" "$_addr" "$_port"
		_conn=$(classify) _cout=$out _cerr=$err _crc=$rc
		_got= _want=
		: >"$_dir/$_k.out"
		: >"$_dir/$_k.err"
		while IFS=$'\t' read -r _name _mn _p _e _hint; do
			if [ "$_crc" = 0 ]; then
				mcall "$_sock" "$_file" "$_addr" "$_port" "$_mn" "$_p"
				_c=$(classify)
			else
				_c=$_conn out=$_cout err=$_cerr rc=$_crc
			fi
			_got="$_got $_name=$_c" _want="$_want $_name=$_e"
			if [ "$_c" != "$_e" ]; then
				printf '%s (exit %s): %s\n' "$_name" "$rc" "$out" >>"$_dir/$_k.out"
				printf '%s: %s\n' "$_name" "$err" >>"$_dir/$_k.err"
			fi
		done < <(jq -r --arg s "$_svc" --argjson facts "$_f" --argjson keyok "$_keyok" \
			"$EXPECT_JQ" methods.json)
		[ "$_crc" = 0 ] && ssh "${SSHOPTS[@]}" -S "$_sock" -O exit x >/dev/null 2>&1
		printf '%s\n' "${_got# }" >"$_dir/$_k.got"
		printf '%s\n' "${_want# }" >"$_dir/$_k.want"
	done
}

# probe MODE WHERE ADDR PORTS_JSON DEVICE_JSON FACTS_JSON KEYNAME...: the
# whole matrix of one target (the platform, or one VCM) in one mode, the
# services side by side.
probe() {
	_mode=$1 _where=$2 _addr=$3 _ports=$4 _dev=$5 _facts=$6
	shift 6
	_svcs=$(jq -r --arg w "$_where" '[.[] | select(.runs_on | index($w)) | .service] | unique[]' methods.json)
	_jobs=
	for _svc in $_svcs; do
		_port=$(jq -r --arg s "$_svc" '.[$s] // empty' "$_ports")
		[ -n "$_port" ] || { ok "$_mode: $_where has a port for $_svc" false; continue; }
		_f=$(jq -c --arg s "$_svc" --argjson f "$_facts" \
			'$f + {served: ($f.served and (($f.terminated // []) | index($s) | not) and
				(($f.recovery | not) or
				([.[] | select(.service == $s)][0].in_recovery)))}' methods.json)
		_d=$TEST_TMP/res/$_where-$_svc
		rm -rf "$_d"
		mkdir -p "$_d"
		probe_service "$_d" "$_where" "$_addr" "$_port" "$_svc" "$_dev" "$_f" "$@" &
		_jobs="$_jobs $!"
	done
	for _j in $_jobs; do wait "$_j"; done
	for _svc in $_svcs; do
		_d=$TEST_TMP/res/$_where-$_svc
		[ -d "$_d" ] || continue
		for _k in "$@"; do
			out=$(cat "$_d/$_k.out" 2>/dev/null) err=$(cat "$_d/$_k.err" 2>/dev/null) rc=
			_last_command "the calls of $_svc with key $_k that differ"
			is "$(cat "$_d/$_k.got" 2>/dev/null)" "$(cat "$_d/$_k.want" 2>/dev/null)" \
				"$_mode: $_where $_svc with key $_k"
		done
	done
	cleanup_masters
}

platform_probe() { # MODE FACTS KEYNAME...
	_m=$1 _fa=$2
	shift 2
	jq '.ports' "$S/lifetime.json" >ports-h.json
	hsmd_device_doc "$S" >dev-h.json
	echo "# $(date +%T) $_m"
	probe "$_m" platform "${HSMD_ADDR[h]}" ports-h.json dev-h.json "$_fa" "$@"
}
vcm_probe() { # MODE UUID FACTS KEYNAME...
	_m=$1 _u=$2 _fa=$3
	shift 3
	jq '.ports' "configs/vcm-$_u.json" >"ports-$_u.json"
	if [ -f "$S/vcms/$_u/device.json" ]; then cp "$S/vcms/$_u/device.json" "dev-$_u.json"
	else echo '{"state":"gone","client_keys":{}}' >"dev-$_u.json"; fi
	echo "# $(date +%T) $_m"
	probe "$_m" vcm "$(jq -r .address "configs/vcm-$_u.json")" "ports-$_u.json" "dev-$_u.json" "$_fa" "$@"
}
F='{"served":true,"factory":false,"recovery":false,"maintenance":false,"failed":false,"interlock":false,
"clock_lost":false,"safe":false,"critical":false}'
facts() { jq -c ". + $1" <<<"$F"; }

# --- an HSM serving every service ----------------------------------------------------------
VCM_HSM=h
ok "HSM provisioned, started and enrolled" vcm_hsm h "$ESN"
platform_keys
# The keys there are: the platform's for each service it has a client key for.
keys() { for _k in "$@"; do [ -n "${KEY[$_k]+x}" ] && printf '%s ' "$_k"; done; }
KEYS_P=$(keys p-sshadmin p-setup p-monitor p-updater p-orchestrator A-sshadmin A-ncoreapi A-monitor \
	B-sshadmin B-ncoreapi B-monitor stranger none)
# Without HSMD_PROBE in hsmd's environment the member is an ordinary
# param: the handler runs.
pcall "${KEY[p-sshadmin]}" sshadmin authorized_keys '{"hsmd_probe":true}'
rc_is 0 "an hsmd without HSMD_PROBE runs the handler"
is "$(jqr '.probe // "none"')" none "... and answers for real"
ok "hsmd stops" hsmd_stop h
export HSMD_PROBE=1
ok "hsmd starts again, with the probe hook" hsmd_start h
pcall "${KEY[p-sshadmin]}" sshadmin authorized_keys '{"hsmd_probe":true}'
is "$(jqr '.probe // "none"')" admitted "with HSMD_PROBE=1 an admitted call is answered by the probe"

# --- recovery mode, in factory state and enrolled ----------------------------------------------
enter_recovery h
platform_keys
platform_probe "recovery" "$(facts '{"recovery":true}')" $KEYS_P

# --- factory state on the primary image, and recovery mode entered from it ---------------------
run "$HSMD" button --state "$S" --release
rc_is 0 "release the recovery button"
ha reset --esn "$ESN"
rc_is 0 "reset: the primary image boots in factory state"
platform_probe "factory state" "$(facts '{"factory":true}')" $KEYS_P
# No host may reset an HSM in factory state (none is enrolled): a power
# cycle with the button held boots the recovery image (hsmd(8), button).
run "$HSMD" button --state "$S" --hold 120
rc_is 0 "hold the recovery button in factory state"
ok "power off" hsmd_stop h
ok "power on: the recovery image boots, in factory state" hsmd_start h
is "$(hsmd_device_doc "$S" | jq -r '.image // "primary"')" recovery "... the recovery image"
platform_probe "recovery, factory state" "$(facts '{"recovery":true,"factory":true}')" $KEYS_P
run "$HSMD" button --state "$S" --release
rc_is 0 "release the recovery button"
ok "power off" hsmd_stop h
ok "power on: the primary image boots, in factory state" hsmd_start h
is "$(hsmd_device_doc "$S" | jq -r '.image // "primary"')" primary "... the primary image"
ha enroll --esn "$ESN" --secret-file "$(secrets h)"
rc_is 0 "enroll on the primary image"
platform_keys

# --- two tenants' VCMs ---------------------------------------------------------------------
ok "licence for 2 active VCMs" licence h "$ESN" 2
declare -A VCM
for T in A B; do
	va create --request "$TEST_TMP/req-$T.req" --outdir "$TEST_TMP/configs" --json \
		$(autostart "$T") "tenant-$T"
	rc_is 0 "the provider creates tenant $T's VCM"
	VCM[$T]=$(printf '%s' "$out" | jq -r .uuid)
	va start "${VCM[$T]}"
	rc_is 0 "... and starts it"
	for s in ncoreapi monitor; do
		tcall "${VCM[$T]}" sshadmin set_key "${KEY[$T-sshadmin]}" \
			"$(jq -nc --arg s "$s" --arg k "${KEYLINE[$T-$s]}" '{service: $s, key: $k}')"
		rc_is 0 "tenant $T installs its $s key"
	done
done
KEYS_P=$(keys p-sshadmin p-setup p-monitor p-updater p-orchestrator A-sshadmin A-ncoreapi A-monitor \
	B-sshadmin B-ncoreapi B-monitor stranger none)
KEYS_V=$(keys A-sshadmin A-ncoreapi A-monitor B-sshadmin B-ncoreapi B-monitor p-sshadmin p-setup \
	p-monitor p-updater p-orchestrator stranger none)

# --- operational: the tenants' ncoreapi services hold the interlock ------------------------
platform_probe "operational, interlock" "$(facts '{"interlock":true}')" $KEYS_P
vcm_probe "VCM operational" "${VCM[A]}" "$F" $KEYS_V
for T in A B; do
	tcall "${VCM[$T]}" ncoreapi set_mode "${KEY[$T-ncoreapi]}" '{"mode":"maintenance"}'
	rc_is 0 "tenant $T puts its VCM into maintenance mode"
done
vcm_probe "VCM maintenance" "${VCM[A]}" "$(facts '{"maintenance":true}')" $KEYS_V

# --- a lost clock, then logs past their safe and their critical capacity (guide 4.2.2, 4.12.1)
# Each is a start of hsmd, so VCM A (autostart) comes back by itself and
# B is started by the provider.  A VCM meets the central rules with its own
# state (docs/protocol.md, "Who may call what") and its HSM's: the HSM's
# clock, which is the VCM's (guide 4.2.2: a lost clock refuses the VCM's
# log export and expire and set_key too), and its own logs, measured
# against the same hsmd.conf [logs] settings; past the HSM's critical
# capacity no VCM runs (guide 4.12.1).  Each mode probes VCM A with its tenants'
# ncoreapi operational (the platform then holds the interlock), then the
# platform with both VCMs in maintenance mode, so that the mode's own rule
# answers the invasive methods rather than the interlock.
# The thresholds are hsmd.conf's [logs] settings (hsmd.conf(5)), so that
# the logs in hand cross them at once: at a safe level of 1% and a critical
# one of 100%, a capacity twice the larger log is past the safe level for
# both the HSM and VCM A (each over 1% of it, checked) and below the
# critical one; 1024 bytes (the least) is past any critical level.
cp "$HSMD_CONFDIR/hsmd.conf" hsmd.conf.base
hsmd_conf() { { cat hsmd.conf.base; printf '%s\n' "$1"; } >"$HSMD_CONFDIR/hsmd.conf"; }
log_bytes() { # STATE-DIR
	cat "$1"/system.log "$1"/system.saved/*.log "$1"/init.log 2>/dev/null | wc -c
}
VA=$S/vcms/${VCM[A]}
# Right after a start only the autostarted A runs: its ncoreapi, operational
# again, holds the interlock (once missed when its status lines came in one
# read).
a_holds_interlock() {
	pcall "${KEY[p-setup]}" setup reset '{"hsmd_probe":true}'
	rc_is 3 "$1: the autostarted VCM A holds the interlock"
	like "$out" '"message":"interlock:' "... reset is refused by the interlock"
}
start_vcm_b() {
	a_holds_interlock "$1"
	va start "${VCM[B]}"
	rc_is 0 "$1: the provider starts tenant B's VCM (A started by itself)"
	is "$(jq -r .state "$S/registry/${VCM[A]}.json" 2>/dev/null)" active "... A is active"
}
to_maintenance() {
	for T in A B; do
		tcall "${VCM[$T]}" ncoreapi set_mode "${KEY[$T-ncoreapi]}" '{"mode":"maintenance"}'
		rc_is 0 "$1: tenant $T puts its VCM into maintenance mode"
	done
}
ok "hsmd stops" hsmd_stop h
run "$HSMD" simulate --state "$S" --clock-lost yes
rc_is 0 "the real-time clock loses its time (hsmd simulate --clock-lost yes)"
ok "hsmd starts with a lost clock" hsmd_start h
start_vcm_b "lost clock"
vcm_probe "VCM operational, HSM with a lost clock" "${VCM[A]}" "$(facts '{"clock_lost":true}')" $KEYS_V
to_maintenance "lost clock"
platform_probe "operational, lost clock" "$(facts '{"clock_lost":true}')" $KEYS_P
ok "hsmd stops" hsmd_stop h
run "$HSMD" simulate --state "$S" --clock-lost no
rc_is 0 "the clock is back"
used_h=$(log_bytes "$S") used_a=$(log_bytes "$VA")
cap=$((2 * (used_h > used_a ? used_h : used_a) + 1024))
ok "the HSM's logs ($used_h bytes) and VCM A's ($used_a) are each over 1% of $cap bytes" \
	test $((used_h * 100)) -ge $cap -a $((used_a * 100)) -ge $cap
hsmd_conf "$(printf '[logs]\ncapacity = %d\nsafe_percent = 1\ncritical_percent = 100\n' $cap)"
ok "hsmd starts with its logs past the safe capacity" hsmd_start h
start_vcm_b "logs past the safe capacity"
vcm_probe "VCM operational, logs past the safe capacity" "${VCM[A]}" "$(facts '{"safe":true}')" $KEYS_V
to_maintenance "logs past the safe capacity"
platform_probe "operational, logs past the safe capacity" "$(facts '{"safe":true}')" $KEYS_P
# The HSM's logs cross the critical capacity while the VCMs run (guide
# 4.12.1, 4.17.1): a little room below it, then logged platform calls until
# the platform refuses; the VCMs took it in before the call that crossed it
# returned (hsmd(8), VCMs), so A is probed at once: its ncoreapi terminated
# (no port, as a service not served), its other services at the critical
# level.  Safe at 99%: A's own logs, far smaller, stay below it.
ok "hsmd stops" hsmd_stop h
used_h=$(log_bytes "$S") used_a=$(log_bytes "$VA")
cap=$(((used_h > used_a ? used_h : used_a) + 8192))
hsmd_conf "$(printf '[logs]\ncapacity = %d\nsafe_percent = 99\ncritical_percent = 100\n' $cap)"
ok "hsmd starts with its logs ($used_h bytes) below a critical level of $cap bytes" hsmd_start h
start_vcm_b "logs below the critical capacity"
log_until_refused 400 pcall "${KEY[p-setup]}" setup set_mode
rc_is 3 "the HSM's logs cross the critical capacity after $n logged calls"
like "$out" 'past their critical capacity' "... the platform is in the monitor only state"
vcm_probe "VCM running when its HSM's logs crossed the critical capacity" "${VCM[A]}" \
	"$(facts '{"critical":true,"terminated":["ncoreapi"]}')" $KEYS_V
ok "hsmd stops" hsmd_stop h
hsmd_conf "$(printf '[logs]\ncapacity = 1024\n')"
ok "hsmd starts with its logs past the critical capacity" hsmd_start h
# The HSM is in the monitor only state (guide 4.12.1): no VCM starts, the
# autostart A included, so no ncoreapi holds the interlock; the provider
# cannot start B (orchestrator start is not a log method); the VCMs'
# services refuse connections.
pcall "${KEY[p-setup]}" setup reset '{"hsmd_probe":true}'
rc_is 0 "past the critical capacity no VCM holds the interlock (reset admitted)"
is "$(jqr '.probe // "none"')" admitted "... by the probe"
is "$(jq -r .state "$S/registry/${VCM[A]}.json" 2>/dev/null)" stopped \
	"... the autostart VCM A did not start"
va start "${VCM[B]}"
rc_is 3 "past the critical capacity the provider cannot start tenant B's VCM (exit 3)"
like "$out$err" 'critical capacity' "... the message names the critical capacity"
vcm_probe "autostart VCM of an HSM past the critical capacity" "${VCM[A]}" \
	"$(facts '{"served":false}')" $KEYS_V
vcm_probe "stopped VCM of an HSM past the critical capacity" "${VCM[B]}" \
	"$(facts '{"served":false}')" $KEYS_V
platform_probe "error state: logs past the critical capacity" "$(facts '{"critical":true}')" $KEYS_P
ok "hsmd stops" hsmd_stop h
hsmd_conf ""
ok "hsmd starts with the capacity it had" hsmd_start h
# The HSM's critical state lasts until its reset (latched): A still does
# not start; the reset, below the critical level, ends it and A starts.
is "$(jq -r .state "$S/registry/${VCM[A]}.json" 2>/dev/null)" stopped \
	"the error state lasts until the reset: A does not start"
ha reset --esn "$ESN"
rc_is 0 "reset: the critical state (latched) ends with the logs below it"
pcall "${KEY[p-setup]}" setup gettime '{}'
rc_is 0 "... gettime works again"
is "$(jq -r .state "$S/registry/${VCM[A]}.json" 2>/dev/null)" active \
	"... and the autostart VCM A starts with the reset"
start_vcm_b "after the reset"
to_maintenance "after the reset"

# --- maintenance ----------------------------------------------------------------------------
run nopclearfail -M --esn "$ESN" -w
rc_is 0 "nopclearfail -M: the HSM enters maintenance mode"
platform_probe "maintenance" "$(facts '{"maintenance":true}')" $KEYS_P

# --- a failed HSM -----------------------------------------------------------------------------
run "$HSMD" fail --state "$S" --reason "matrix"
rc_is 0 "hsmd fail: the module fails"
platform_probe "failed" "$(facts '{"maintenance":true,"failed":true}')" $KEYS_P
vcm_probe "VCM of a failed HSM" "${VCM[A]}" "$(facts '{"maintenance":true,"failed":true}')" $KEYS_V

done_testing
