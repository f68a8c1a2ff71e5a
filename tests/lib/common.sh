# SPDX-License-Identifier: Apache-2.0
# tests/lib/common.sh - shared set-up for shell tests (TAP producers).
#
#   . "$top_srcdir/tests/lib/common.sh"
#
# gives every test its own world in a temporary directory:
#   HSMADMIN_HOME=$TEST_TMP/home   HSMADMIN_CONF=$TEST_TMP/conf
#   $TEST_TMP/bin first on PATH with hsmadmin, vcmadmin (the built binary)
#   $TEST_TMP/plugins holding a copy of every built plugin, and
#   conf/plugins.d holding their shipped .conf files, exactly as installed.
# Everything is removed, and every process registered with cleanup_pid is
# killed, when the test exits.

set -u
: "${top_builddir:?run through make check (top_builddir unset)}"
: "${top_srcdir:?run through make check (top_srcdir unset)}"

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hsmtest.XXXXXX")
chmod 0755 "$TEST_TMP"
# Processes to stop at exit, each kept as PID:START-TIME.  A PID alone is
# not enough: with pid_max at 32768 a busy machine reuses the PID of a
# process that ended long ago, and the cleanup then killed whatever had it
# (a compiler of another build was seen killed so).
_cleanup_pids=""
_pid_start() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
cleanup_pid() { _cleanup_pids="$_cleanup_pids $1:$(_pid_start "$1")"; }
_still_ours() { [ -n "${1#*:}" ] && [ "$(_pid_start "${1%%:*}")" = "${1#*:}" ]; }
_test_cleanup() {
	for p in $_cleanup_pids; do _still_ours "$p" && kill -TERM "${p%%:*}" 2>/dev/null; done
	for p in $_cleanup_pids; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do _still_ours "$p" || break; sleep 0.1; done
		_still_ours "$p" && kill -KILL "${p%%:*}" 2>/dev/null
	done
	rm -rf "$TEST_TMP"
}
trap _test_cleanup EXIT
trap 'exit 129' HUP INT TERM

# --- TAP -----------------------------------------------------------------
# Every failed assertion also prints the last command run with `run` (or
# a helper that records one with _last_command): its exit status, stdout
# and stderr, so that a failure seen once is never a mystery.
_tap_n=0
_tap_failed=0
_last_cmd=
_last_command() { _last_cmd=$*; }
_tap_diag() {
	[ -n "$_last_cmd" ] || return 0
	printf '#   last command: %s
#   exit status: %s
' "$_last_cmd" "${rc-}" | head -c 2000
	printf '%s\n' "${out-}" | head -40 | sed 's/^/#   stdout: /'
	printf '%s\n' "${err-}" | head -40 | sed 's/^/#   stderr: /'
}
ok() { # ok NAME CMD... : passes when CMD succeeds
	_name=$1; shift
	_tap_n=$((_tap_n + 1))
	if "$@"; then echo "ok $_tap_n - $_name"
	else echo "not ok $_tap_n - $_name"; _tap_failed=$((_tap_failed + 1)); _tap_diag; fi
}
is() { # is GOT WANT NAME
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"; _tap_failed=$((_tap_failed + 1))
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
		_tap_diag
	fi
}
rc_is() { # rc_is WANT NAME: is for an exit status ($rc); on failure it shows the output
	is "${rc-}" "$1" "$2"
	[ "${rc-}" = "$1" ] || printf '#   stdout: %s\n#   stderr: %s\n' "${out-}" "${err-}" | head -20
}
like() { # like TEXT EXTENDED-REGEX NAME
	_tap_n=$((_tap_n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"; _tap_failed=$((_tap_failed + 1))
		printf '#   text: %s\n#   want match: %s\n' "$1" "$2" | head -20
		_tap_diag
	fi
}
unlike() { # unlike TEXT EXTENDED-REGEX NAME
	_tap_n=$((_tap_n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		echo "not ok $_tap_n - $3"; _tap_failed=$((_tap_failed + 1))
		printf '#   text: %s\n#   must not match: %s\n' "$1" "$2" | head -20
		_tap_diag
	else echo "ok $_tap_n - $3"; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
skip() { # skip COUNT REASON: COUNT test points that cannot run here
	_k=$1; shift
	while [ "$_k" -gt 0 ]; do
		_tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $*"; _k=$((_k - 1))
	done
}
# need_plugins NAME...: skip the whole test unless configure built them
# (every test is registered in tests/Makefile.inc whatever is enabled).
need_plugins() {
	for _n in "$@"; do
		case " ${BUILT_PLUGINS:-} " in *" $_n "*) ;; *) skip_all "$_n plugin not built" ;; esac
	done
}
# need_services NAME...: the same for hsmd's service modules.
need_services() {
	for _n in "$@"; do
		case " ${BUILT_SERVICES:-} " in *" $_n "*) ;; *) skip_all "$_n service not built" ;; esac
	done
}
done_testing() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; }
# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds; fails
# when SECONDS pass first.  For waiting on a condition, never for luck.
wait_until() {
	_wu_end=$(($(date +%s) + $1)); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$_wu_end" ] || return 1
		sleep 0.1
	done
}

# run CMD...: sets $out (stdout), $err (stderr) and $rc, bounded to 60 s;
# returns $rc, so `ok NAME helper` fails when the helper's command does.
run() {
	_last_command "$@"
	_o=$TEST_TMP/.out; _e=$TEST_TMP/.err
	timeout -k 5 "${RUN_TIMEOUT:-60}" "$@" >"$_o" 2>"$_e" </dev/null
	rc=$?
	out=$(cat "$_o"); err=$(cat "$_e")
	return "$rc"
}

# --- a command's output as it comes ------------------------------------------
# stream_while_stopped PID N REGEX CMD...: for a command that must report
# what it has while a peer (process PID) is silent: stop PID (SIGSTOP),
# start CMD with its stdout on a FIFO and read its lines as they come until
# N of them match REGEX (60 s at the most), note whether CMD still runs,
# then let PID go on (SIGCONT) and read the rest.  Sets $early (the lines
# read while PID was stopped, each with its newline), $running (yes when
# CMD had not ended by then: those lines came while it still waited),
# $late (the rest of stdout), $rc (bounded: CMD is killed after 90 s more),
# and $out (all of stdout) and $err (its stderr), which a failed assertion
# then prints.
stream_while_stopped() {
	_st_peer=$1 _st_n=$2 _st_re=$3
	shift 3
	_last_command "$@"
	rm -f "$TEST_TMP/.stream"
	mkfifo "$TEST_TMP/.stream"
	kill -STOP "$_st_peer"
	"$@" >"$TEST_TMP/.stream" 2>"$TEST_TMP/.stream.err" </dev/null &
	_st_pid=$!
	cleanup_pid "$_st_pid"
	exec {_st_fd}<"$TEST_TMP/.stream"
	early= _st_m=0 _st_end=$((SECONDS + 60))
	while [ "$_st_m" -lt "$_st_n" ] && [ "$SECONDS" -lt "$_st_end" ] &&
		IFS= read -r -t "$((_st_end - SECONDS))" _st_l <&"$_st_fd"; do
		early="$early$_st_l
"
		printf '%s\n' "$_st_l" | grep -Eq -- "$_st_re" && _st_m=$((_st_m + 1))
	done
	kill -0 "$_st_pid" 2>/dev/null && running=yes || running=no
	kill -CONT "$_st_peer"
	late=$(timeout -k 5 90 cat <&"$_st_fd") || kill -KILL "$_st_pid" 2>/dev/null
	exec {_st_fd}<&-
	wait "$_st_pid"
	rc=$?
	out=$early$late
	err=$(cat "$TEST_TMP/.stream.err")
}

# --- the built tree ---------------------------------------------------------
_find_built() { # _find_built DIR NAME: the real ELF file libtool made
	for c in "$1/.libs/$2" "$1/.libs/lt-$2" "$1/$2"; do
		if [ -f "$c" ] && head -c 4 "$c" | grep -q ELF; then echo "$c"; return 0; fi
	done
	return 1
}
HSMADMIN_BIN=$(_find_built "$top_builddir/core/cli" hsmadmin) || { echo "Bail out! hsmadmin not built"; exit 1; }
# The built ELF files (not libtool's wrappers) are run: they find the
# uninstalled libraries here (their run path names only the install place).
export LD_LIBRARY_PATH="$top_builddir/core/.libs:$top_builddir/firmware/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Sanitizer runtimes must not abort on the leaks of dlopen'ed code we do not own.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

export HSMADMIN_HOME="$TEST_TMP/home"
export HSMADMIN_CONF="$TEST_TMP/conf"
PLUGIN_DIR="$TEST_TMP/plugins"
mkdir -p "$TEST_TMP/bin" "$HSMADMIN_CONF/plugins.d" "$PLUGIN_DIR"
for t in hsmadmin vcmadmin; do ln -s "$HSMADMIN_BIN" "$TEST_TMP/bin/$t"; done
export PATH="$TEST_TMP/bin:$PATH"
printf '[paths]\nplugindir = %s\n' "$PLUGIN_DIR" >"$HSMADMIN_CONF/hsmadmin.conf"

# Client key protection (docs/formats/keys.md) reads the machine's system
# UUID and board serial, which a container may lack and only root may read:
# each test gets its own "machine".  Key files get no group (owner-only)
# whoever runs the tests; tests of the group rules set NFAST_<SVC>_GROUP.
printf '%s\n' "$(cat /proc/sys/kernel/random/uuid)" >"$TEST_TMP/system-uuid"
printf 'BOARD%s\n' "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" >"$TEST_TMP/board-serial"
export HSMADMIN_SYSTEM_UUID_FILE="$TEST_TMP/system-uuid" HSMADMIN_BOARD_UUID_FILE="$TEST_TMP/board-serial"
for _s in SSHADMIN NCOREAPI SETUP UPDATER MONITOR LAUNCHER ORCHESTRATOR TENANTREQ; do
	export "NFAST_${_s}_GROUP="
	unset "NFAST_${_s}_KEYPROT"
done
unset NFAST_KEYPROT NFAST_KEYPROT_PASS HSMADMIN_GLOBAL_NONCE_FILE

# install_plugin NAME: copy a built plugin and its shipped conf into place.
install_plugin() {
	_so=$(_find_built "$top_builddir/plugins/$1" "$1.so") || { echo "# plugin $1 not built"; return 1; }
	cp "$_so" "$PLUGIN_DIR/$1.so"
	cp "$top_srcdir/conf.d/plugins.d/$1.conf" "$HSMADMIN_CONF/plugins.d/$1.conf"
}
for _p in ${BUILT_PLUGINS:-}; do install_plugin "$_p"; done

# A loopback address of our own, so parallel tests and several emulated
# HSMs never share a port.
test_address() {
	echo "127.$(( (RANDOM % 200) + 20 )).$(( (RANDOM % 250) + 1 )).$(( (RANDOM % 250) + 2 ))"
}

# install_fixture NAME [CONFNAME]: a loader fixture (tests/fixtures) with a
# conf claiming the command prefix NAME for hsmadmin and vcmadmin.
install_fixture() {
	_so=$(_find_built "$top_builddir/tests/fixtures" "$1.so") || { echo "# fixture $1 not built"; return 1; }
	cp "$_so" "$PLUGIN_DIR/$1.so"
	chmod 0755 "$PLUGIN_DIR/$1.so"
	printf '[plugin]\nname = %s\nfile = %s.so\ndescription = fixture %s\n[commands]\nhsmadmin = %s\nvcmadmin = %s\n' \
		"$1" "$1" "$1" "$1" "$1" >"$HSMADMIN_CONF/plugins.d/${2:-$1}.conf"
}
