#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Guide conformance, keys family: every synopsis line of guide 4.10.1.7
# (hsmadmin keys [--timeout <TIMEOUT>] <subcommand>: show, migrate, roll,
# backup, restore, remote-set, remote-remove) run as written against an
# emulated HSM, each checked for its documented meaning; the common
# options before or after the command words; usage errors that name the
# word and exit 2.  Each description names the guide section.
. "$top_srcdir/tests/lib/keys-lib.sh"
platform_setup
ESN=1A23-BC45-6789
keys=$HSMADMIN_HOME/keys/client

ok "HSM $ESN provisioned and started" hsm_new h "$ESN"
ha enroll --secret-file "$(secrets)"
rc_is 0 "enrolled"
collect_seeds

# --- 4.10.1.7: hsmadmin keys [--timeout <TIMEOUT>] <subcommand> ---------------------------
ha keys --timeout 10 show
rc_is 0 "4.10.1.7: hsmadmin keys --timeout 10 show (option before the subcommand)"
ha keys show --timeout 10
rc_is 0 "4.10.1.7: hsmadmin keys show --timeout 10 (option after it)"
ha --timeout 10 keys show
rc_is 0 "4.10.1.7: hsmadmin --timeout 10 keys show (option before the command)"
for t in 3 120; do
	ha keys --timeout "$t" show
	rc_is 0 "4.10.1.7: --timeout $t is within 3..120 s"
done
for t in 2 121; do
	ha keys --timeout "$t" show
	rc_is 2 "4.10.1.7: --timeout $t is outside 3..120 s: usage (exit 2)"
	like "$err" "--timeout" "4.10.1.7: ... naming --timeout"
done
ha keys
rc_is 2 "4.10.1.7: hsmadmin keys without a subcommand: usage (exit 2)"
ha keys --help
rc_is 0 "4.10.1.7: hsmadmin keys --help"
for s in show migrate roll backup restore remote-set remote-remove; do
	like "$out" "(^|[^a-z-])$s([^a-z-]|$)" "4.10.1.7: keys --help lists $s"
done
ha keys bogus
rc_is 2 "4.10.1.7: an unknown keys subcommand: usage (exit 2)"
like "$err" "bogus" "4.10.1.7: ... naming the word"

# --- 4.10.1.7.1: hsmadmin keys show [--json] [--verbose] ----------------------------------
ha keys show --json --verbose
rc_is 0 "4.10.1.7.1: hsmadmin keys show --json --verbose"
is "$(jqr '.client_keys.sshadmin.public_key')" "$(hsm_key h sshadmin)" \
	"4.10.1.7.1: the public client key shown is the one the HSM holds"
is "$(jqr '.client_keys.sshadmin.modified')" "$(stat -c %Y "$keys/sshadmin")" \
	"4.10.1.7.1: ... with the time stamp of its key file"
is "$(jqr '.modules[0].server_keys.sshadmin')" "$(jq -r '.host_keys.sshadmin' "$HSMADMIN_HOME/pins/$ESN.json")" \
	"4.10.1.7.1: the server keys of the HSM are shown"
ha keys show
rc_is 0 "4.10.1.7.1: hsmadmin keys show"
like "$out" "sshadmin +ssh-ed25519 AAAA" "4.10.1.7.1: text output: the client key lines"
like "$out" "HSM $ESN" "4.10.1.7.1: ... and the HSM's server keys"

# --- 4.10.1.7.3: hsmadmin keys roll [--json] [--verbose] ----------------------------------
before=$(hsm_key h setup)
ha keys roll --json --verbose
rc_is 0 "4.10.1.7.3: hsmadmin keys roll --json --verbose"
collect_seeds
ok "4.10.1.7.3: --json gives JSON" sh -c 'printf "%s" "$1" | jq -e . >/dev/null' _ "$out"
ok "4.10.1.7.3: the client keys changed (setup)" test "$(hsm_key h setup)" != "$before"
ha keys show --json
is "$(hsm_key h setup)" "$(jqr '.client_keys.setup.public_key')" "4.10.1.7.3: ... to this host's new keys"
ha status
rc_is 0 "4.10.1.7.3: the HSM works with the new keys"
ha keys roll
rc_is 0 "4.10.1.7.3: hsmadmin keys roll"
collect_seeds

# --- 4.10.1.7.4: hsmadmin keys backup [--passphrase] <FILE> -------------------------------
ha keys backup "$TEST_TMP/bk-verbatim"
rc_is 0 "4.10.1.7.4: hsmadmin keys backup <FILE>"
cmp -s "$TEST_TMP/bk-verbatim" "$keys/sshadmin"
is "$?" 0 "4.10.1.7.4: ... copies the sshadmin key file verbatim"
like "$err" "warning: .*tied to this machine" "4.10.1.7.4: ... with the warning that it is tied to this machine"
is "$(stat -c %a "$TEST_TMP/bk-verbatim")" 600 "4.10.1.7.4: ... readable by owner only"
ha keys backup --local "$TEST_TMP/bk-local"
rc_is 0 "4.10.1.7.4: hsmadmin keys backup --local <FILE>"
is "$err" "" "4.10.1.7.4: --local: the explicit choice, no warning"
NFAST_KEYPROT_PASS='guide pass' ha keys backup --passphrase "$TEST_TMP/bk-pass"
rc_is 0 "4.10.1.7.4: hsmadmin keys backup --passphrase <FILE>"
is "$err" "" "4.10.1.7.4: ... no warning (not tied to this machine)"
is "$(stat -c %a "$TEST_TMP/bk-pass")" 600 "4.10.1.7.4: ... readable by owner only"
ok "4.10.1.7.4: ... not a verbatim copy (re-encrypted)" sh -c '! cmp -s "$1" "$2"' _ "$TEST_TMP/bk-pass" "$keys/sshadmin"
NFAST_KEYPROT_PASS='guide pass' ha keys backup -p "$TEST_TMP/bk-p"
rc_is 0 "4.10.1.7.4: hsmadmin keys backup -p <FILE> (the short form)"
ha keys backup
rc_is 2 "4.10.1.7.4: keys backup without <FILE>: usage (exit 2)"

# --- 4.10.1.7.5: hsmadmin keys restore <FILE> ---------------------------------------------
NFAST_KEYPROT_PASS='guide pass' ha keys restore "$TEST_TMP/bk-pass"
rc_is 0 "4.10.1.7.5: hsmadmin keys restore <FILE> (a --passphrase backup)"
ha keys restore "$TEST_TMP/bk-verbatim"
rc_is 0 "4.10.1.7.5: hsmadmin keys restore <FILE> (a verbatim backup, this machine)"
ha status
rc_is 0 "4.10.1.7.5: ... the HSM still answers with the restored key"
ha keys restore
rc_is 2 "4.10.1.7.5: keys restore without <FILE>: usage (exit 2)"
ha keys restore "$TEST_TMP/no-such-backup"
rc_is 2 "4.10.1.7.5: keys restore of a missing file: exit 2"
like "$err" "no-such-backup" "4.10.1.7.5: ... naming the file"

# --- 4.10.1.7.6: hsmadmin keys remote-set <SERVICE> <KEYTYPE> <KEYDATA> --------------------
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/keys/remote"
rk=$(cut -d' ' -f2 "$TEST_TMP/keys/remote.pub")
ha keys remote-set monitor ssh-ed25519 "$rk"
rc_is 0 "4.10.1.7.6: hsmadmin keys remote-set monitor ssh-ed25519 <KEYDATA>"
is "$(hsm_key h monitor)" "ssh-ed25519 $rk" "4.10.1.7.6: ... the HSM's monitor service accepts that key"
call h monitor logs_get remote '{"log":"system"}'
is "$rc" 0 "4.10.1.7.6: ... and a remote client logs in with it"
ha keys remote-set monitor ssh-ed25519
rc_is 2 "4.10.1.7.6: remote-set without <KEYDATA>: usage (exit 2)"

# --- 4.10.1.7.7: hsmadmin keys remote-remove <SERVICE> ------------------------------------
ha keys remote-remove monitor
rc_is 0 "4.10.1.7.7: hsmadmin keys remote-remove monitor"
is "$(hsm_key h monitor)" "$(host_key monitor)" "4.10.1.7.7: ... this host's client key is restored"
ha keys remote-remove
rc_is 2 "4.10.1.7.7: remote-remove without <SERVICE>: usage (exit 2)"

# --- 4.10.1.7.2: hsmadmin keys migrate --privkeyfile <PRIVKEYFILE> [--json] [--verbose] ------
# (last: afterwards this host no longer holds the HSM's sshadmin key)
ha keys migrate
rc_is 2 "4.10.1.7.2: keys migrate without --privkeyfile: usage (exit 2)"
like "$err" "privkeyfile" "4.10.1.7.2: ... naming --privkeyfile"
ssh-keygen -q -t ed25519 -N '' -C '' -f "$TEST_TMP/destination.key"
ha keys migrate --privkeyfile "$TEST_TMP/destination.key" --json --verbose
rc_is 0 "4.10.1.7.2: hsmadmin keys migrate --privkeyfile <PRIVKEYFILE> --json --verbose"
ok "4.10.1.7.2: --json gives JSON" sh -c 'printf "%s" "$1" | jq -e . >/dev/null' _ "$out"
is "$(hsm_key h sshadmin)" "$(cut -d' ' -f1,2 "$TEST_TMP/destination.key.pub")" \
	"4.10.1.7.2: the HSM's sshadmin client key is now the one derived from <PRIVKEYFILE>"

no_key_leaked 10
done_testing
