# SPDX-License-Identifier: Apache-2.0
# tests/lib/tty-lib.sh - driving a command's passphrase prompt on a
# pseudo-terminal (script(1)).  Source it after common.sh (or an area's
# lib).
#
#   signal_at_prompt SIG CMDLINE    CMDLINE on a pty, SIG sent once its
#                                   prompt turned echo off: $out

# signal_at_prompt SIG CMDLINE: run the shell command line CMDLINE (in this
# environment; prefix the call with VAR=value to add to it) on a pty whose
# input stays open and silent, wait until its prompt has turned the
# terminal's echo off, send it SIG, then ask the same terminal for its
# settings.  $out is what the terminal showed, CRs removed, with
# ECHO-OFF-AT-PROMPT when echo was off at the prompt, EXIT=N (the
# command's status) and ECHO-RESTORED when the terminal echoes again.
signal_at_prompt() {
	_sig=$1 _cmd=$2
	cat >"$TEST_TMP/.sig-at-prompt.sh" <<'EOS'
sig=$1; shift
ulimit -c 0 # SIGQUIT: no core file
# The command runs in the foreground (its signals at their defaults); a
# helper started just before the exec signals it once echo is off.
sh -c 'sig=$1; shift
	( for _ in $(seq 1 100); do stty -a </dev/tty | grep -q -- "-echo " && break; sleep 0.1; done
	  stty -a </dev/tty | grep -q -- "-echo " && echo "ECHO-OFF-AT-PROMPT"
	  kill -"$sig" $$ ) &
	exec "$@"' _ "$sig" "$@"
echo "EXIT=$?"
stty -a | grep -q -- ' echo ' && echo "ECHO-RESTORED"
EOS
	# script's input stays open and silent: at end of input (</dev/null)
	# the prompt would read an empty passphrase at once, often before the
	# signal comes (seen under load).
	exec {_quiet}< <(exec sleep 60)
	_quiet_pid=$!
	timeout -k 5 30 script -qec "sh $TEST_TMP/.sig-at-prompt.sh $_sig $_cmd" /dev/null \
		<&"$_quiet" >"$TEST_TMP/.out" 2>&1
	kill "$_quiet_pid" 2>/dev/null
	exec {_quiet}<&-
	out=$(tr -d '\r' <"$TEST_TMP/.out")
}
