#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsmadmin keys end to end against real hsmd: show, the protection options
# and their environment overrides as the CLI applies them, group and
# permission rules, damaged key files, backup and restore (on this machine
# and on "another machine"), remote-set / remote-remove, a legacy
# unprotected key, and no private key in any output or log.
. "$top_srcdir/tests/lib/keys-lib.sh"
. "$top_srcdir/tests/lib/tty-lib.sh"
platform_setup
E1=1A23-BC45-6789
ok "enrolled" hsm_enrolled h "$E1"
keys=$HSMADMIN_HOME/keys/client
collect_seeds

# --- show -----------------------------------------------------------------------
ha keys show --json
is "$rc" 0 "keys show --json"
for s in sshadmin setup ncoreapi; do
	is "$(printf '%s' "$out" | jq -r ".client_keys.$s.protection")" KFSG "default protection of $s is KFSG"
done
for s in updater launcher monitor orchestrator; do
	is "$(printf '%s' "$out" | jq -r ".client_keys.$s.protection")" KF "default protection of $s is KF"
done
is "$(printf '%s' "$out" | jq -r '.client_keys.setup.public_key')" "$(hsm_key h setup)" \
	"the setup public key shown is the one the HSM accepts"
is "$(printf '%s' "$out" | jq -r '.client_keys.setup.modified')" "$(stat -c %Y "$keys/setup")" \
	"... with the key file's time stamp"
is "$(printf '%s' "$out" | jq -r '.modules[0].client_keys.monitor.owner')" "this host" \
	"the HSM's monitor key is this host's"
is "$(printf '%s' "$out" | jq -r '.modules[0].server_keys.setup')" "$(jq -r '.host_keys.setup' "$HSMADMIN_HOME/pins/$E1.json")" \
	"pinned server keys shown"
is "$(printf '%s' "$out" | jq -c '.modules[0].recovery')" false \
	"enrolled in primary mode: recovery false"
ha keys show
like "$out" "sshadmin +ssh-ed25519 AAAA" "text: public key lines"
like "$out" "enrolled in: +primary mode" "text: the HSM was enrolled in primary mode"
like "$out" "protection KFSG, mode 0600" "text: protection and mode"
like "$out" "HSM $E1 .*" "text: a block per HSM"
ok "key files start with the protected-file magic" sh -c '[ "$(head -c 6 "$1")" = HSMKEY ]' _ "$keys/setup"
is "$(stat -c %a "$keys/sshadmin")" 600 "no group configured: keys are 0600"

# --- protection options and overrides through roll ----------------------------
NFAST_KEYPROT=KF NFAST_SETUP_KEYPROT=KFSBG ha keys roll
is "$rc" 0 "roll with NFAST_KEYPROT=KF NFAST_SETUP_KEYPROT=KFSBG"
collect_seeds
ha keys show --json
is "$(printf '%s' "$out" | jq -r '.client_keys.sshadmin.protection')" KF "NFAST_KEYPROT applies to sshadmin"
is "$(printf '%s' "$out" | jq -r '.client_keys.setup.protection')" KFSBG "the per-service variable wins for setup"
is "$(printf '%s' "$out" | jq -r '.client_keys.monitor.protection')" KF "... and not for monitor"
ha status
is "$rc" 0 "status works with the new keys"

NFAST_KEYPROT=KFQ ha keys roll
is "$rc" 1 "an invalid NFAST_KEYPROT: exit 1"
like "$err" "NFAST_KEYPROT" "... naming the variable"
ha status
is "$rc" 0 "... and nothing changed"
HSMADMIN_BOARD_UUID_FILE=$TEST_TMP/no-such-file NFAST_KEYPROT=KFB ha keys roll
is "$rc" 1 "B where the machine has no board serial: exit 1"
like "$err" "protection option B" "... naming option B"
NFAST_MONITOR_KEYPROT=KFGP NFAST_KEYPROT_PASS='monitor pass' ha keys roll
is "$rc" 0 "roll with a passphrase on the monitor key"
NFAST_KEYPROT_PASS='monitor pass' collect_seeds
ha keys show --json
is "$(printf '%s' "$out" | jq -r '.client_keys.monitor.protection')" KFGP "monitor is KFGP"
ha keys show
is "$rc" 1 "without NFAST_KEYPROT_PASS and no terminal the monitor key cannot open: exit 1"
like "$out" "monitor .*cannot open" "... and show says so"
NFAST_KEYPROT_PASS='wrong' ha keys show
like "$out" "cannot decrypt the key: wrong passphrase" "a wrong passphrase: cannot decrypt"
NFAST_KEYPROT_PASS='monitor pass' ha keys show
is "$rc" 0 "the right passphrase opens it"
ha keys roll
is "$rc" 0 "roll without the passphrase: the monitor key is replaced anyway"
like "$err" "warning: current monitor key not usable" "... with a warning that the current one does not open"
ha keys show --json
is "$(printf '%s' "$out" | jq -r '[.client_keys[].protection] | join(" ")')" "KF KF KFSG KF KFSG KFSG KF" \
	"defaults again (launcher monitor ncoreapi orchestrator setup sshadmin updater)"

# --- groups and permissions -------------------------------------------------------
NFAST_SETUP_GROUP=daemon ha keys roll
is "$rc" 0 "roll with NFAST_SETUP_GROUP=daemon"
is "$(stat -c '%a %G' "$keys/setup")" "640 daemon" "the setup key is 0640 group daemon"
is "$(stat -c '%a' "$keys/monitor")" 600 "... the others stay 0600"
NFAST_SETUP_GROUP=daemon ha status
is "$rc" 0 "loading with the group configured works"
ha status
is "$rc" 4 "a group-readable key with NFAST_SETUP_GROUP set empty (no group): refused, exit 4"
like "$err" "lets group .* read the key, but no group is configured" "... says why"
run env -u NFAST_SETUP_GROUP hsmadmin status
is "$rc" 0 "guide 4.8.4: with NFAST_SETUP_GROUP unset, a key keeps the group it was saved with"
NFAST_SETUP_GROUP=daemon ha keys roll
grp=hsmt$RANDOM$RANDOM
if [ "$(id -u)" = 0 ] && [ -x /usr/sbin/groupadd ] && [ -x /usr/sbin/groupdel ]; then
	NFAST_SETUP_GROUP=$grp ha keys roll
	is "$rc" 0 "guide 4.8.4: NFAST_SETUP_GROUP names a group that does not exist: created"
	is "$(stat -c '%a %G' "$keys/setup")" "640 $grp" "... and the setup key given to it"
	run env -u NFAST_SETUP_GROUP hsmadmin status
	is "$rc" 0 "... usable later without the variable"
	NFAST_SETUP_GROUP=$grp ha keys roll
	/usr/sbin/groupdel "$grp"
else
	NFAST_SETUP_GROUP=$grp ha keys roll
	is "$rc" 1 "guide 4.8.4: a group that does not exist, not root: exit 1"
	like "$err" "only root can create it" "... naming why"
	ok "# SKIP group creation needs root" true
	ok "# SKIP group creation needs root" true
fi
NFAST_SETUP_GROUP="No Such Group" ha keys roll
is "$rc" 1 "a group that cannot exist: exit 1"
like "$err" "No Such Group" "... naming it"
ha keys roll
is "$rc" 0 "roll back to owner-only"
is "$(stat -c '%a' "$keys/setup")" 600 "setup is 0600 again"
chmod 0604 "$keys/setup"
ha status
is "$rc" 4 "a key readable by others: refused"
like "$err" "lets others access the key" "... says why"
chmod 0600 "$keys/setup"

# --- damaged key files ---------------------------------------------------------------
cp -p "$keys/setup" "$TEST_TMP/setup.good"
printf '\001' | dd of="$keys/setup" bs=1 seek=100 conv=notrunc status=none
ha status
is "$rc" 4 "a tampered key file: exit 4"
like "$err" "setup client key: .*cannot decrypt the key" "... cannot decrypt"
head -c 100 "$TEST_TMP/setup.good" >"$keys/setup"
ha status
is "$rc" 4 "a truncated key file: exit 4"
like "$err" "truncated" "... says truncated"
cp -p "$TEST_TMP/setup.good" "$keys/setup"
ha status
is "$rc" 0 "the good file back: works"

# --- backup ---------------------------------------------------------------------------
ha keys backup "$TEST_TMP/bk-local"
is "$rc" 0 "verbatim backup"
like "$err" "warning: .*tied to this machine" "... warns that it is tied to this machine"
is "$(stat -c %a "$TEST_TMP/bk-local")" 600 "... written 0600"
is "$(md5sum <"$TEST_TMP/bk-local")" "$(md5sum <"$keys/sshadmin")" "... a verbatim copy"
ha keys backup --local "$TEST_TMP/bk-local2"
is "$rc" 0 "--local"
is "$err" "" "... no warning"
ha keys backup "$TEST_TMP/bk-local"
is "$rc" 2 "an existing backup file is not replaced: exit 2"
ha keys backup -p --local "$TEST_TMP/bk-x"
is "$rc" 2 "--passphrase with --local: usage error"
NFAST_KEYPROT_PASS='backup pass' ha keys backup -p "$TEST_TMP/bk-pass"
is "$rc" 0 "passphrase backup"
is "$err" "" "... no warning"
is "$(stat -c %a "$TEST_TMP/bk-pass")" 600 "... written 0600"
if [ "$(id -u)" = 0 ]; then
	mkdir "$TEST_TMP/usb" && chown daemon:daemon "$TEST_TMP/usb"
	NFAST_KEYPROT_PASS='backup pass' ha keys backup -p "$TEST_TMP/usb/sshadmin.key"
	is "$rc" 0 "backup to a directory of another user"
	is "$(stat -c '%a %U %G' "$TEST_TMP/usb/sshadmin.key")" "600 daemon daemon" \
		"... as root: owner and group of the directory, readable by the owner only"
fi
# On a terminal (script(1)); each answer is typed once its prompt is on
# the screen, as the prompt discards typeahead (it flushes, then prints).
prompts_shown() { [ "$(grep -o 'Passphrase for' "$TEST_TMP/.out" 2>/dev/null | wc -l)" -ge "$1" ]; }
tty_typed() { # ANSWER1 ANSWER2 ARGS...
	_a1=$1 _a2=$2; shift 2
	rm -f "$TEST_TMP/.tty-in" "$TEST_TMP/.out"; mkfifo "$TEST_TMP/.tty-in"
	timeout -k 5 30 script -qec "hsmadmin $*" /dev/null <"$TEST_TMP/.tty-in" >"$TEST_TMP/.out" 2>&1 &
	_sp=$!
	exec {_typist}>"$TEST_TMP/.tty-in"
	wait_until 25 prompts_shown 1 && printf '%s\n' "$_a1" >&"$_typist"
	wait_until 25 prompts_shown 2 && printf '%s\n' "$_a2" >&"$_typist"
	wait "$_sp"
	rc=$?
	exec {_typist}>&-
	out=$(tr -d '\r' <"$TEST_TMP/.out")
	printf '%s\n' "$out" >>"$TRANSCRIPT"
}
tty_typed 'tty pass 1' 'tty pass 1' keys backup -p "$TEST_TMP/bk-tty"
is "$rc" 0 "passphrase asked twice on the terminal"
like "$out" "Passphrase" "... with a prompt"
unlike "$out" "tty pass 1" "... not echoed"
tty_typed 'tty pass 1' 'another' keys backup -p "$TEST_TMP/bk-tty2"
is "$rc" 1 "two different passphrases on the terminal: exit 1"
ok "... no file" test ! -e "$TEST_TMP/bk-tty2"
# A signal at the prompt (Ctrl-C, a hang-up, kill) ends the command with the
# terminal's echo restored.
for sig in INT TERM HUP QUIT; do
	signal_at_prompt "$sig" "hsmadmin keys backup --passphrase $TEST_TMP/bk-sig"
	like "$out" "ECHO-OFF-AT-PROMPT" "SIG$sig at the passphrase prompt (pty): the prompt had turned echo off"
	like "$out" "ECHO-RESTORED" "... and after SIG$sig the terminal echoes again"
	like "$out" "EXIT=(129|13[01]|143)" "... the command ended by the signal"
	ok "... no backup file" test ! -e "$TEST_TMP/bk-sig"
done
ha keys backup --passphrase "$TEST_TMP/bk-nopass"
is "$rc" 1 "--passphrase without a terminal or NFAST_KEYPROT_PASS: exit 1"
ok "... and no file written" test ! -e "$TEST_TMP/bk-nopass"

# --- restore on this machine, after losing the whole home ------------------------------
setup_before=$(hsm_key h setup)
mv "$HSMADMIN_HOME" "$TEST_TMP/home.lost"
ha status
is "$rc" 3 "home lost: no keys, exit 3"
ha keys restore "$TEST_TMP/bk-local"
is "$rc" 2 "restoring a verbatim backup without the global nonce of this installation fails"
like "$err" "global.nonce" "... naming the missing global nonce"
rm -rf "$HSMADMIN_HOME"
mkdir -p "$HSMADMIN_HOME/keys" && cp -p "$TEST_TMP/home.lost/keys/global.nonce" "$HSMADMIN_HOME/keys/"
ha keys restore "$TEST_TMP/bk-local"
is "$rc" 0 "verbatim backup restored on the same installation"
collect_seeds
like "$out" "$E1: new client keys for .*setup" "... the other services got new keys"
ha status
is "$rc" 0 "status works again, without factory state"
ok "the setup key on the HSM changed" test "$(hsm_key h setup)" != "$setup_before"
is "$(hsm_key h setup)" "$(host_key setup)" "... to this host's new one"
ok "pins recreated" test -f "$HSMADMIN_HOME/pins/$E1.json"

# --- a different machine: other system UUID, other global nonce ------------------------
rm -rf "$HSMADMIN_HOME"
printf '%s\n' "$(cat /proc/sys/kernel/random/uuid)" >"$TEST_TMP/other-uuid"
export HSMADMIN_SYSTEM_UUID_FILE=$TEST_TMP/other-uuid
mkdir -p "$HSMADMIN_HOME/keys" && head -c 32 /dev/urandom >"$HSMADMIN_HOME/keys/global.nonce"
chmod 600 "$HSMADMIN_HOME/keys/global.nonce"
ha keys restore "$TEST_TMP/bk-local"
is "$rc" 2 "verbatim backup on another machine: refused (exit 2)"
like "$err" "cannot decrypt the key: made on another machine or installation" "... says why"
NFAST_KEYPROT_PASS='not it' ha keys restore "$TEST_TMP/bk-pass"
is "$rc" 2 "passphrase backup with a wrong passphrase: refused"
like "$err" "wrong passphrase" "... says so"
ok "... nothing installed" test ! -e "$HSMADMIN_HOME/keys/client/sshadmin"
NFAST_KEYPROT_PASS='backup pass' ha keys restore "$TEST_TMP/bk-pass"
is "$rc" 0 "passphrase backup restored on another machine"
collect_seeds
ha status
is "$rc" 0 "... and the HSM works from it without factory state"
ha keys show --json
is "$(printf '%s' "$out" | jq -r '.client_keys.sshadmin.protection')" KFSG "the restored key is protected for this machine (KFSG)"
other=$(printf '%s' "$out" | jq -r '.client_keys.sshadmin.public_key')
NFAST_KEYPROT_PASS='backup pass' ha keys restore "$TEST_TMP/bk-pass"
is "$rc" 0 "restoring the same key again is fine"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/alien"
ha keys restore "$TEST_TMP/alien"
is "$rc" 1 "restore over a different installed sshadmin key: refused"
like "$err" "another sshadmin key is installed" "... says so"

# --- remote-set / remote-remove -----------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/keys/remote"
rk=$(cut -d' ' -f2 "$TEST_TMP/keys/remote.pub")
ha keys remote-set monitor ssh-ed25519 "$rk"
is "$rc" 0 "remote-set monitor"
is "$(hsm_key h monitor)" "ssh-ed25519 $rk" "... the HSM accepts the remote key"
call h monitor logs_get remote '{"log":"system"}'
is "$rc" 0 "... and the remote client logs in to monitor with stock ssh"
ha keys show --json
is "$(printf '%s' "$out" | jq -r '.modules[0].client_keys.monitor.owner')" remote "show marks it remote"
ha keys roll
is "$rc" 0 "roll with a remote key set"
like "$out" "kept the remote key of monitor" "... keeps the remote key"
is "$(hsm_key h monitor)" "ssh-ed25519 $rk" "... which still is on the HSM"
ha enroll --secret-file "$(secrets)"
is "$(hsm_key h monitor)" "ssh-ed25519 $rk" "enroll again leaves the remote key too"
ha keys remote-remove monitor
is "$rc" 0 "remote-remove monitor"
is "$(hsm_key h monitor)" "$(host_key monitor)" "... this host's key is back"
ha keys remote-set sshadmin ssh-ed25519 "$rk"
is "$rc" 2 "remote-set sshadmin: usage error"
like "$err" "keys migrate" "... pointing at keys migrate"
ha keys remote-set monitor ssh-rsa "$rk"
is "$rc" 2 "remote-set with an RSA key type: usage error"
ha keys remote-set monitor ssh-ed25519 'AAAA!!'
is "$rc" 2 "remote-set with garbage key data: usage error"
ha keys remote-set nosuch ssh-ed25519 "$rk"
is "$rc" 2 "remote-set of an unknown service: usage error"

# --- a legacy unprotected key (a host upgraded from before key protection) ------------
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/legacy"
ha keys remote-set setup ssh-ed25519 "$(cut -d' ' -f2 "$TEST_TMP/legacy.pub")"
cp "$TEST_TMP/legacy" "$keys/setup" && chmod 600 "$keys/setup"
ha keys remote-remove setup
is "$rc" 0 "the legacy key is this host's setup key again"
ha status
is "$rc" 0 "a legacy unprotected key still works"
ha keys show
like "$out" "protection NONE \(unprotected key of an earlier version" "show flags it"
chmod 640 "$keys/setup"
ha status
is "$rc" 4 "a group-readable legacy key is refused"
chmod 600 "$keys/setup"
ha keys roll
is "$rc" 0 "roll replaces it"
collect_seeds
ha keys show --json
is "$(printf '%s' "$out" | jq -r '.client_keys.setup.protection')" KFSG "... with a protected key"

# --- sshadmin set_key and authorized_keys with the stock OpenSSH client ------------------
host_keys_for_ssh
mon=$(hsm_key h monitor)
call h sshadmin set_key sshadmin '{"service":"nosuch","key":"'"$mon"'"}'
is "$rc" 2 "set_key of an unknown service: bad_request (2)"
like "$out" "not a service of this HSM" "... says so"
call h sshadmin set_key sshadmin '{"service":"setup","key":"ssh-ed25519 AAAA"}'
is "$rc" 2 "set_key with a malformed key: bad_request"
call h sshadmin set_key sshadmin '{"service":"setup","key":"'"$mon"'"}'
is "$rc" 2 "set_key with another service's key: bad_request"
like "$out" "already the key of service monitor" "... names the service"
call h sshadmin set_key sshadmin '{"service":"setup","key":"'"$mon"'","x":1}'
is "$rc" 2 "set_key with an unknown member: bad_request"
call h sshadmin set_key sshadmin '{"service":"setup","key":"ssh-ed25519 '"$rk"'","remote":"yes"}'
is "$rc" 2 "set_key with a non-boolean remote: bad_request"
old_setup=$(hsm_key h setup)
call h sshadmin set_key sshadmin '{"service":"setup","key":"ssh-ed25519 '"$rk"' comment","remote":true}'
is "$rc" 0 "set_key (remote) with the stock client"
is "$(printf '%s' "$out" | jq -c .)" '{"key":"ssh-ed25519 '"$rk"'","remote":true,"service":"setup"}' "... answers the canonical key"
call h sshadmin authorized_keys sshadmin ''
is "$(printf '%s' "$out" | jq -c .remote)" '["setup"]' "authorized_keys lists setup as remote"
call h sshadmin set_key sshadmin '{"service":"setup","key":"'"$old_setup"'"}'
call h sshadmin authorized_keys sshadmin ''
is "$(printf '%s' "$out" | jq -c .remote)" '[]' "a set_key without remote clears the mark"
ha status
is "$rc" 0 "setup works with this host's key again"

# --- show after an enrollment in recovery mode -----------------------------------------
enter_recovery h
ha keys show --json
is "$rc" 0 "keys show --json of an HSM enrolled in recovery mode"
is "$(printf '%s' "$out" | jq -c '.modules[0].recovery')" true \
	"... recovery true, as its pins say"
ha keys show
like "$out" "enrolled in: +recovery mode \\(log keys without certificates accepted\\)" \
	"text: ... recovery mode"
jq -c 'del(.recovery)' "$HSMADMIN_HOME/pins/$E1.json" >"$TEST_TMP/pins-old"
cp "$TEST_TMP/pins-old" "$HSMADMIN_HOME/pins/$E1.json"
ha keys show --json
is "$(printf '%s' "$out" | jq -c '.modules[0].recovery')" false \
	"pins of an earlier version (no recovery member): recovery false"
mv "$HSMADMIN_HOME/pins/$E1.json" "$TEST_TMP/pins-saved"
ha keys show --json
is "$(printf '%s' "$out" | jq -c '.modules[0].recovery')" false \
	"no pins: recovery false, still present"
mv "$TEST_TMP/pins-saved" "$HSMADMIN_HOME/pins/$E1.json"

# --- no private key anywhere in what was printed or logged -----------------------------
no_key_leaked 30

done_testing
