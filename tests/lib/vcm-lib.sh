# SPDX-License-Identifier: Apache-2.0
# tests/lib/vcm-lib.sh - shared set-up for the vcm-*.sh tests: a
# real hsmd with the orchestrator and the VCM services, the real vcmadmin
# for the provider and the real `hsmadmin vcm` for tenants (each tenant
# with its own HSMADMIN_HOME), licences made by hsm-vendor and applied
# with the real `hsmadmin fet`.
#
#   . "$top_srcdir/tests/lib/vcm-lib.sh"
#   vcm_setup                       services, vendor keys, licence key
#   vcm_hsm NAME ESN [provision options...]   provision, start, enroll
#                                   (at $VCM_HSM_ADDRESS when set)
#   licence NAME ESN N [hsm-vendor options]   make and apply a licence
#   tenant T ARGS...                hsmadmin as tenant T: $out $err $rc
#   va ARGS...                      vcmadmin: $out $err $rc
#   create_req T FILE [options]     tenant T writes a create request
#   new_vcm T NAME [vcmadmin create options]  $UUID $ADDR of a new VCM
#   vcm_up T NAME ESN               a started VCM of tenant T on that HSM,
#                                   enrolled by T: $UUID
#   vcm_state UUID                  the registry's state of a VCM
#   vcm_pid UUID                    the pid of its process ("" when none)
#   tcall UUID SERVICE METHOD T [PARAMS]  stock ssh to a VCM's service with
#                                   tenant T's sshadmin key: $out $err $rc
#   vcm_one_hsm ESN [provision options...]  vcm_setup, HSM h of $ESN
#                                   enrolled, in $TEST_TMP
#   vcm_two_tenants ESN             HSM h, tenants A and B each with a
#                                   started VCM: $UA $UB
#   vcm_tools_setup                 vcm_setup, with enquiry and nopclearfail
#                                   as commands of their own (or skip)
#   vcm_clock_setup NAME            HSM h enrolled, tenant A's VCM NAME in $U,
#                                   in $TEST_TMP; settime T sets the clock

. "$top_srcdir/tests/lib/platform-lib.sh"
case " ${BUILT_PLUGINS:-} " in *" vcmadmin "*) ;; *) skip_all "vcmadmin plugin not built" ;; esac
case " ${BUILT_PLUGINS:-} " in *" vcm "*) ;; *) skip_all "vcm plugin not built" ;; esac
VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }

vcm_setup() {
	platform_setup
	for _s in orchestrator ncoreapi; do
		hsmd_add_service "$_s" || { echo "Bail out! service $_s not built"; exit 1; }
	done
	"$VENDOR" keygen --out "$TEST_TMP/lic.key" --pub "$TEST_TMP/lic.pub" >/dev/null
	mkdir -p "$HSMD_CONFDIR/vendor.d"
	cp "$TEST_TMP/lic.pub" "$HSMD_CONFDIR/vendor.d/licences.pem"
	cp "$TEST_TMP/lic.pub" "$HSMADMIN_CONF/vendor.d/licences.pem"
}

vcm_hsm() { # NAME ESN [provision options]
	_n=$1 _e=$2; shift 2
	_addr=${VCM_HSM_ADDRESS:-$(test_address)}
	hsmd_provision "$_n" "$_addr" "$_e" --module-conf "$HSMADMIN_CONF/modules.d/$_n.conf" "$@" &&
		hsmd_start "$_n" &&
		run hsmadmin enroll --esn "$_e" --secret-file "$TEST_TMP/$_n/enrollment-secret" && [ "$rc" = 0 ]
}

licence() { # NAME ESN N [hsm-vendor options]
	_n=$1 _e=$2 _c=$3; shift 3
	"$VENDOR" licence --key "$TEST_TMP/lic.key" --esn "$_e" --max-active-vcms "$_c" \
		--out "$TEST_TMP/$_n-$_c.lic" "$@" >/dev/null &&
		run hsmadmin fet --esn "$_e" "$TEST_TMP/$_n-$_c.lic" && [ "$rc" = 0 ]
}

tenant() { # T ARGS...
	_t=$1; shift
	mkdir -p "$TEST_TMP/tenants/$_t"
	chmod 0700 "$TEST_TMP/tenants/$_t"
	HSMADMIN_HOME="$TEST_TMP/tenants/$_t" run hsmadmin "$@"
}

va() { run vcmadmin "$@"; }

create_req() { # T FILE [hsmadmin vcm create options]
	_t=$1 _f=$2; shift 2
	tenant "$_t" vcm create --request-file "$_f" "$@"
}

new_vcm() { # T NAME [vcmadmin create options]: sets UUID ADDR (not _name: ok's)
	_t=$1 _vcm_name=$2; shift 2
	_f=$TEST_TMP/req-$_t-$RANDOM$RANDOM.req
	UUID= ADDR=
	create_req "$_t" "$_f" --name "$_vcm_name" || return 1
	[ "$rc" = 0 ] || return 1
	va create --request "$_f" --outdir "$TEST_TMP/configs" --json "$@" "$_vcm_name"
	[ "$rc" = 0 ] || return 1
	UUID=$(printf '%s' "$out" | jq -r .uuid)
	ADDR=$(printf '%s' "$out" | jq -r .address)
}

# vcm_up T NAME ESN: a VCM of tenant T on the HSM of ESN, created, started
# and enrolled by T ($UUID); fails, saying why, when a step does.
vcm_up() {
	new_vcm "$1" "$2" --esn "$3" || return 1
	va start "$UUID"
	[ "$rc" = 0 ] || { echo "# $err"; return 1; }
	tenant "$1" vcm enroll --config "$TEST_TMP/configs/vcm-$UUID.json"
	[ "$rc" = 0 ] || { echo "# $err"; return 1; }
}

# Registry facts, read from the device state (as the device wrote it).
vcm_state() { jq -r --arg u "$1" '.vcms[$u].state // "none"' <(hsmd_device_doc "$TEST_TMP/${VCM_HSM:-h}"); }
vcm_pid() {
	va show "$1" --json
	printf '%s' "$out" | jq -r '.pid // empty'
}

# pem_to_openssh PEM OUT: an Ed25519 PKCS#8 PEM private key in the OpenSSH
# format the stock client reads (PROTOCOL.key), with openssl and xxd only.
pem_to_openssh() {
	_seed=$(openssl pkey -in "$1" -outform DER 2>/dev/null | tail -c 32 | xxd -p | tr -d '\n')
	_pub=$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | tail -c 32 | xxd -p | tr -d '\n')
	[ ${#_seed} = 64 ] && [ ${#_pub} = 64 ] || return 1
	_s() { printf '%08x%s' $(( ${#1} / 2 )) "$1"; }
	_a() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
	_kt=$(_s "$(_a ssh-ed25519)")
	_blob=$_kt$(_s "$_pub")
	_priv=0102030401020304$_kt$(_s "$_pub")$(_s "$_seed$_pub")$(_s "")
	_pad=1
	while [ $(( ${#_priv} / 2 % 8 )) != 0 ]; do _priv=$_priv$(printf '%02x' $_pad); _pad=$((_pad + 1)); done
	_all=$(_a openssh-key-v1)00$(_s "$(_a none)")$(_s "$(_a none)")$(_s "")00000001$(_s "$_blob")$(_s "$_priv")
	( umask 077
	  { echo "-----BEGIN OPENSSH PRIVATE KEY-----"
	    printf '%s' "$_all" | xxd -r -p | base64 -w 70
	    echo "-----END OPENSSH PRIVATE KEY-----"; } >"$2" )
}

# A tenant's sshadmin key, in the OpenSSH format the stock client reads
# (the tenant tools keep it as a protected key file, docs/formats/keys.md;
# tests/tools/keyprot-pem opens it with the tenant's protection inputs).
KEYPROT_PEM=$(_find_built "$top_builddir/tests/tools" keyprot-pem) || { echo "Bail out! keyprot-pem not built"; exit 1; }
tenant_ssh_key() { # T
	_k=$TEST_TMP/tenants/$1/ssh-sshadmin
	if [ ! -f "$_k" ]; then
		( umask 077; HSMADMIN_HOME=$TEST_TMP/tenants/$1 "$KEYPROT_PEM" \
			"$TEST_TMP/tenants/$1/tenant/vcm-sshadmin.key" >"$_k.pem" ) &&
			pem_to_openssh "$_k.pem" "$_k"
	fi
	echo "$_k"
}

# tcall UUID SERVICE METHOD KEYFILE [PARAMS]: stock ssh to a VCM service,
# the host key pinned from the tenant configuration file.
tcall() {
	_u=$1 _s=$2 _m=$3 _k=$4 _p=${5-}
	_last_command ssh "${_s}.${_m}" "key $_k" "params $_p"
	_cfg=$TEST_TMP/configs/vcm-$_u.json
	jq -r '.address as $a | .services | to_entries[] | "[\($a)]:\(.value.port) \(.value.host_key)"' \
		"$_cfg" >"$TEST_TMP/.vcm_known_hosts"
	printf '%s' "$_p" >"$TEST_TMP/.params"
	timeout -k 2 20 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$TEST_TMP/.vcm_known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-o IdentitiesOnly=yes -o ConnectTimeout=5 -o LogLevel=ERROR \
		-i "$_k" -p "$(jq -r --arg s "$_s" '.ports[$s]' "$_cfg")" "hsm@$(jq -r .address "$_cfg")" "$_m" \
		<"$TEST_TMP/.params" >"$TEST_TMP/.out" 2>"$TEST_TMP/.err"
	rc=$?
	out=$(cat "$TEST_TMP/.out")
	err=$(cat "$TEST_TMP/.err")
}

# vcm_one_hsm ESN [provision options...]: vcm_setup and HSM "h" of ESN (in
# $ESN; the HSM of vcm_state) provisioned, started and enrolled (a test
# point); the working directory is $TEST_TMP.
vcm_one_hsm() {
	vcm_setup
	cd "$TEST_TMP" || exit 1
	ESN=$1
	VCM_HSM=h
	shift
	ok "HSM h ($ESN${*:+ $*}) provisioned, started and enrolled" vcm_hsm h "$ESN" "$@"
}

# vcm_two_tenants ESN: vcm_one_hsm ESN with a licence for 2 active VCMs,
# tenant A's VCM ($UA) and tenant B's ($UB) created and started.
vcm_two_tenants() {
	vcm_one_hsm "$1"
	ok "licence for 2 active VCMs" licence h "$ESN" 2
	ok "tenant A's VCM created" new_vcm A "tenant a"
	UA=$UUID
	ok "tenant B's VCM created" new_vcm B "tenant b"
	UB=$UUID
	va start "$UA"
	is "$rc" 0 "start A's VCM"
	va start "$UB"
	is "$rc" 0 "start B's VCM"
}

# vcm_tools_setup: for the tests of the tenant's commands beside the core's
# single-command tools: skip unless the vcmtenant, enquiry and nopclearfail
# plugins are built; `enquiry` and `nopclearfail` on PATH as links to
# hsmadmin; vcm_setup; the working directory is $TEST_TMP.
vcm_tools_setup() {
	need_plugins vcmtenant enquiry nopclearfail
	for _t in enquiry nopclearfail; do ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/$_t"; done
	vcm_setup
	cd "$TEST_TMP" || exit 1
}

# vcm_clock_setup NAME: for the tests of the device clock's effect on
# requests: vcm_setup, HSM "h" (ESN $ESN) enrolled, the platform client
# keys exported for ssh, tenant A's VCM NAME created (its UUID in $U); the
# working directory is $TEST_TMP.  Then settime T sets the device clock.
vcm_clock_setup() {
	vcm_one_hsm 1A23-BC45-6789
	host_keys_for_ssh
	new_vcm A "$1"
	ok "a VCM" test -n "$UUID"
	U=$UUID
}

# settime T: the device clock of HSM h set to T (maintenance mode, then
# settime, which resets the HSM).
settime() {
	call h setup set_mode setup '{"mode":"maintenance"}'
	[ "$rc" = 0 ] || return 1
	call h setup settime setup "{\"time\":$1}"
	[ "$rc" = 0 ]
}
