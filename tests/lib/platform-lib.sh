# SPDX-License-Identifier: Apache-2.0
# tests/lib/platform-lib.sh - shared set-up for the platform-*.sh
# tests: real hsmd processes on loopback (tests/lib/hsmd-common.sh)
# driven by the real hsmadmin with the platform and logs plugins.
#
#   . "$top_srcdir/tests/lib/platform-lib.sh"
#   platform_setup                  hsmd services, a vendor key trusted by both sides
#   hsm_new NAME ESN [ADDR]         provision (modules.d entry written by hsmd) and start
#   hsm_enrolled NAME ESN [ADDR]    hsm_new, then this host enrolled with it
#   ha ARGS...                      run hsmadmin: $out $err $rc
#   secrets [NAME...]               the path of a file with the enrollment
#                                   secrets of HSMs NAME... (default: all)
#                                   while they are in factory state
#   enter_recovery NAME...          HSMs NAME... into recovery mode and enrolled there
#                                   (two test points: the reset and the enroll)
#   ha_tty ARGS...                  the same with stdin on a pseudo-terminal
#   host_keys_for_ssh               export this host's client keys to $TEST_TMP/keys
#                                   so that `call` (stock ssh) uses them

. "$top_srcdir/tests/lib/hsmd-common.sh"

case " ${BUILT_PLUGINS:-} " in
*" platform "*) ;;
*) skip_all "platform plugin not built" ;;
esac

platform_setup() {
	hsmd_setup
	mkdir -p "$HSMADMIN_CONF/vendor.d" "$HSMADMIN_CONF/modules.d"
	openssl pkey -in "$TEST_TMP/vendor.pem" -pubout -out "$HSMADMIN_CONF/vendor.d/test-vendor.pem" 2>/dev/null
}

hsm_new() { # NAME ESN [ADDR]
	_addr=${3:-$(test_address)}
	hsmd_provision "$1" "$_addr" "$2" --module-conf "$HSMADMIN_CONF/modules.d/$1.conf" &&
		hsmd_start "$1"
}

ha() { run hsmadmin "$@"; }

# hsm_enrolled NAME ESN [ADDR]: hsm_new, then `hsmadmin enroll` with that
# HSM's one-time secret; fails unless both succeed ($out $err $rc are the
# enroll's).
hsm_enrolled() {
	hsm_new "$@" || return 1
	ha enroll --secret-file "$(secrets "$1")"
	[ "$rc" = 0 ]
}

# The one-time enrollment secrets (hsmd(8)) of the HSMs of this test that
# are in factory state, concatenated as `hsmadmin enroll --secret-file`
# takes them.
secrets() {
	: >"$TEST_TMP/secrets"
	if [ $# = 0 ]; then set -- "$TEST_TMP"/*/enrollment-secret; else
		for _n in "$@"; do shift; set -- "$@" "$TEST_TMP/$_n/enrollment-secret"; done
	fi
	for _f in "$@"; do [ -f "$_f" ] && cat "$_f" >>"$TEST_TMP/secrets"; done
	echo "$TEST_TMP/secrets"
}

# enter_recovery NAME...: the HSMs NAME... (enrolled from this host) into
# recovery mode as the guide does it (4.5.4.2): the recovery button of each
# held (hsmd(8), button), one `hsmadmin reset` of them all (the recovery
# image boots, in factory state) and one `hsmadmin enroll` with their new
# enrollment secrets.  Two test points, the reset and the enroll; returns
# non-zero at the first step that fails ($out $err $rc are its).
enter_recovery() {
	_esns=()
	for _n in "$@"; do
		run "$HSMD" button --state "$TEST_TMP/$_n" --hold 120
		if [ "$rc" != 0 ]; then
			rc_is 0 "hold the recovery button of $_n"
			return 1
		fi
		_esns+=(--esn "$(jq -r .esn "$TEST_TMP/$_n/lifetime.json")")
	done
	ha reset "${_esns[@]}"
	rc_is 0 "reset $* with the recovery button held: recovery mode"
	[ "$rc" = 0 ] || return 1
	ha enroll "${_esns[@]}" --secret-file "$(secrets "$@")"
	rc_is 0 "enroll $* in recovery mode"
	[ "$rc" = 0 ]
}

# stdin on a pseudo-terminal (script(1)), answering with $TTY_ANSWER.
ha_tty() {
	_cmd="hsmadmin"
	for _a in "$@"; do _cmd="$_cmd '$_a'"; done
	printf '%s\n' "${TTY_ANSWER:-n}" >"$TEST_TMP/.answer"
	timeout -k 5 60 script -qec "$_cmd" /dev/null <"$TEST_TMP/.answer" >"$TEST_TMP/.out" 2>&1
	rc=$?
	out=$(tr -d '\r' <"$TEST_TMP/.out")
}

# The client keys are stored protected (docs/formats/keys.md): a test tool
# decrypts them for ssh.
KEYEXPORT="$top_builddir/tests/tools/keyexport"
host_keys_for_ssh() {
	mkdir -p "$TEST_TMP/keys"
	for _s in sshadmin setup monitor; do
		rm -f "$TEST_TMP/keys/$_s"
		"$KEYEXPORT" "$_s" "$HSMADMIN_HOME/keys/client/$_s" "$TEST_TMP/keys/$_s"
	done
}

# Seconds since the epoch with milliseconds, for bounded-time checks.
now_ms() { date +%s%3N; }
