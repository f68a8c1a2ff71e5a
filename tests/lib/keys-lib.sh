# SPDX-License-Identifier: Apache-2.0
# tests/lib/keys-lib.sh - shared set-up for the keys-*.sh tests:
# platform-lib.sh plus the keys plugin, a transcript of every hsmadmin
# output (for the test that no private key ever leaks) and helpers.
. "$top_srcdir/tests/lib/platform-lib.sh"

case " ${BUILT_PLUGINS:-} " in
*" keys "*) ;;
*) skip_all "keys plugin not built" ;;
esac

TRANSCRIPT=$TEST_TMP/transcript
: >"$TRANSCRIPT"
# ha, recording what it printed.
ha() {
	run hsmadmin "$@"
	printf '%s\n%s\n' "$out" "$err" >>"$TRANSCRIPT"
}

# export_key SERVICE FILE OUT: the stock-ssh form of a protected key file.
export_key() { rm -f "$3"; "$KEYEXPORT" "$1" "$2" "$3" 2>>"$TRANSCRIPT"; }

# The 32-byte Ed25519 seed of an exported OpenSSH key, in hex (its place in
# an unencrypted "openssh-key-v1" file with an empty comment).
seed_hex() {
	grep -v -- '-----' "$1" | tr -d '\n' | base64 -d | tail -c +162 | head -c 32 | od -An -tx1 | tr -d ' \n'
}

# Can the sshadmin service of HSM NAME be reached with the stock-ssh key
# file $TEST_TMP/keys/KEYNAME?
admin_works() { # NAME KEYNAME
	call "$1" sshadmin authorized_keys "$2" ''
	[ "$rc" -eq 0 ]
}

# The public key line an HSM accepts for a service (from its state file).
hsm_key() { # NAME SERVICE
	jq -r --arg s "$2" '.client_keys[$s]' "$TEST_TMP/$1/device.json"
}
# The public key line of this host's key for a service (keys show --json).
host_key() { # SERVICE
	run hsmadmin keys show --json
	printf '%s' "$out" | jq -r --arg s "$1" '.client_keys[$s].public_key'
}

hex2bin() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

# Remember the seeds of this host's client keys (opened with the current
# environment) for no_key_leaked.
SEEDS=$TEST_TMP/seeds
: >"$SEEDS"
collect_seeds() {
	for _f in "$HSMADMIN_HOME"/keys/client/*; do
		[ -f "$_f" ] || continue
		export_key "$(basename "$_f")" "$_f" "$TEST_TMP/.x.key" && seed_hex "$TEST_TMP/.x.key" >>"$SEEDS" && echo >>"$SEEDS"
		rm -f "$TEST_TMP/.x.key"
	done
}

# No seed collected so far appears, as hex, base64 or the base64 of its
# PKCS#8 encoding, in any hsmadmin output, hsmd output or HSM state file
# (system logs included) of the test.
no_key_leaked() {
	_n=$(grep -c . "$SEEDS")
	ok "collected the seeds of the keys ($_n)" test "$_n" -ge "${1:-7}"
	# hsmd's output, every file of every HSM's state (system log included),
	# and every hsmadmin output
	{
		cat "$TEST_TMP"/*.log "$TRANSCRIPT"
		for _d in "$TEST_TMP"/*/device.json; do
			find "$(dirname "$_d")" -type f -exec cat {} +
		done
	} >"$TEST_TMP/.everything" 2>/dev/null
	_leak=0
	while read -r _hex; do
		[ -n "$_hex" ] || continue
		_b64=$(hex2bin "$_hex" | base64 | head -c 40)
		_p8=$(hex2bin "302e020100300506032b657004220420$_hex" | base64 | tr -d '\n' | head -c 60)
		grep -qiF -e "$_hex" -e "$_b64" -e "$_p8" "$TEST_TMP/.everything" && _leak=1
	done <"$SEEDS"
	is "$_leak" 0 "no private key (hex, base64 or PKCS#8) in any output or hsmd log"
	ok "... of a non-empty transcript" test "$(wc -l <"$TEST_TMP/.everything")" -gt 20
}
