#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Isolation of VCMs: each VCM process runs as a user of
# its own (hsmd.conf [vcm] uid_base + the VCM's number) so that the OS
# keeps it out of another VCM's state directory and out of the platform's;
# and no key gets into a service it was not made for: tenant A's keys
# into tenant B's VCM, the provider's platform keys into any VCM service,
# a tenant's keys into the platform's services.
. "$top_srcdir/tests/lib/vcm-lib.sh"
vcm_two_tenants 1A23-BC45-6790

# --- keys: each service takes only the keys made for it ------------------------------
ka=$(tenant_ssh_key A)
kb=$(tenant_ssh_key B)
tcall "$UB" sshadmin hostkeys "$kb"
is "$rc" 0 "control: tenant B's key gets into B's VCM sshadmin"
for svc in sshadmin ncoreapi monitor; do
	tcall "$UB" "$svc" hostkeys "$ka"
	is "$rc" 255 "tenant A's key is refused by B's VCM $svc"
	like "$err" "Permission denied" "... an authentication failure"
done
host_keys_for_ssh
for k in sshadmin setup monitor; do
	for svc in sshadmin ncoreapi monitor; do
		tcall "$UA" "$svc" hostkeys "$TEST_TMP/keys/$k"
		is "$rc" 255 "the provider's platform $k key is refused by the VCM's $svc"
	done
done
call h sshadmin hostkeys sshadmin
is "$rc" 0 "control: the provider's sshadmin key gets into the platform's sshadmin"
cp "$ka" "$TEST_TMP/keys/tenantA"
for svc in sshadmin setup monitor orchestrator; do
	call h "$svc" hostkeys tenantA
	is "$rc" 255 "tenant A's VCM key is refused by the platform's $svc"
	like "$err" "Permission denied" "... an authentication failure"
done
# A VCM's host key cannot pass for the platform's: pinned platform keys
# refuse a VCM address that answers with its own.
sed "s/^[^ ]* /[$(jq -r .address "configs/vcm-$UA.json")]:$(port_of h sshadmin) /" h.known_hosts \
	>"$TEST_TMP/swapped.known_hosts" 2>/dev/null
timeout -k 2 20 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
	-o UserKnownHostsFile="$TEST_TMP/swapped.known_hosts" -o GlobalKnownHostsFile=/dev/null \
	-o IdentitiesOnly=yes -o ConnectTimeout=5 -o LogLevel=ERROR -i "$TEST_TMP/keys/sshadmin" \
	-p "$(port_of h sshadmin)" "hsm@$(jq -r .address "configs/vcm-$UA.json")" hostkeys \
	</dev/null >/dev/null 2>"$TEST_TMP/.err"
rc=$?
is "$rc" 255 "the platform's pinned host key does not accept a VCM's sshadmin"
like "$(cat "$TEST_TMP/.err")" "Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED" \
	"... a trust failure"

# --- the OS: one user per VCM -------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	echo "# not root: VCM processes share hsmd's uid (hsmd(8)); the OS-level checks are skipped"
	done_testing
	exit
fi
uid_of() { awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$1/status"; }
pa=$(vcm_pid "$UA")
pb=$(vcm_pid "$UB")
# the VCM's user number in the machine-wide allocations (hsmd(8))
index_of() { hsmd_vcm_claims "$1" | jq -r .index; }
uida=$((200000 + $(index_of "$UA")))
uidb=$((200000 + $(index_of "$UB")))
is "$(uid_of "$pa")" "$uida $uida $uida $uida" "A's VCM process runs as uid 200000 + its user number (real, effective, saved, fs)"
is "$(uid_of "$pb")" "$uidb $uidb $uidb $uidb" "B's VCM process runs as a uid of its own"
is "$(awk '/^Gid:/ { print $2 }' "/proc/$pa/status")" "$uida" "... with a gid of its own"
is "$(awk '/^Groups:/ { print $2 }' "/proc/$pa/status")" "" "... and no supplementary groups"
is "$(stat -c '%u %g %a' "h/vcms/$UA")" "$uida $uida 700" "A's state directory belongs to A's user, 0700"
is "$(find "h/vcms/$UA" ! -user "$uida" | wc -l)" 0 "... every file in it"
is "$(stat -c '%u %a' h/identity.pem)" "0 600" "the platform's identity key stays root's, 0600"
# The checks run from inside the directory in question: a path relative to
# the working directory is not stopped by the test's own 0700 directories
# above it, so only that directory's (or the file's) owner and mode decide.
asuser() { # UID CMD...: as that user, with no groups, from the current directory
	_u=$1; shift
	setpriv --reuid="$_u" --regid="$_u" --clear-groups "$@"
}
(cd "h/vcms/$UA" && asuser "$uida" cat identity.pem >/dev/null 2>"$TEST_TMP/.err")
is "$?" 0 "control: A's user reads A's own identity key"
is "$(cat "$TEST_TMP/.err")" "" "... without a complaint"
(cd "h/vcms/$UB" && asuser "$uida" cat identity.pem >/dev/null 2>"$TEST_TMP/.err")
is "$?" 1 "A's user cannot read B's identity key"
like "$(cat "$TEST_TMP/.err")" "Permission denied" "... the OS says no"
(cd "h/vcms/$UB" && asuser "$uida" ls . >/dev/null 2>&1)
is "$?" 2 "A's user cannot list B's state directory"
(cd "h/vcms/$UA" && asuser "$uidb" cat device.json >/dev/null 2>&1)
is "$?" 1 "B's user cannot read A's device state"
(cd h/vcms && asuser "$uida" ls . >/dev/null 2>&1)
is "$?" 2 "A's user cannot list the platform's VCM directory"
for f in identity.pem device.json lifetime.json system.log; do
	(cd h && asuser "$uida" cat "$f" >/dev/null 2>&1)
	is "$?" 1 "A's user cannot read the platform's $f"
done
(cd h/vcms && asuser "$uida" touch x >/dev/null 2>&1)
is "$?" 1 "A's user cannot add to the platform's VCM directory"

# A stop and a start keep the user and the state; a file hsmd made as root
# in the directory is handed over at the next start.
va stop "$UA"
is "$rc" 0 "stop A's VCM"
# A second name of a platform file planted in the VCM's directory is not
# given to the VCM's user: the start is refused instead.
ln h/identity.pem "h/vcms/$UA/planted"
va start "$UA"
ok "a hard link to a platform file in a VCM directory: the start is refused" test "$rc" != 0
like "$err" "cannot give it to uid" "... saying why"
is "$(stat -c '%u %a' h/identity.pem)" "0 600" "... and the platform's key stays root's"
rm -f "h/vcms/$UA/planted"
touch "h/vcms/$UA/left-by-root"
chmod 0644 "h/vcms/$UA/left-by-root"
va start "$UA"
is "$rc" 0 "start it again"
pa=$(vcm_pid "$UA")
is "$(uid_of "$pa")" "$uida $uida $uida $uida" "... as the same user"
is "$(stat -c '%u %a' "h/vcms/$UA/left-by-root")" "$uida 600" "... root's file handed over, narrowed to 0600"
tcall "$UA" sshadmin hostkeys "$ka"
is "$rc" 0 "... and it serves its tenant"

# Killing hsmd kills the VCMs too, after the change of user (the death
# signal is armed again after it).
hpid=${HSMD_PIDS[h]}
disown -a 2>/dev/null
kill -9 "$hpid"
for _ in $(seq 50); do kill -0 "$pa" 2>/dev/null || break; sleep 0.1; done
ok "a VCM process running as its own user dies with hsmd" sh -c "! kill -0 $pa 2>/dev/null"

# hsmd.conf [vcm] uid_base: a system uid range is refused; 0 runs VCMs as
# hsmd itself (what happens anyway when hsmd is not root).
cp -r "$HSMD_CONFDIR" badconf
printf '[vcm]\nuid_base = 5\n' >>badconf/hsmd.conf
timeout 20 "$HSMD" run --state h --conf badconf >/dev/null 2>"$TEST_TMP/.err"
ok "uid_base 5 is refused at start-up" test $? -ne 0
like "$(cat "$TEST_TMP/.err")" "uid_base \(5\) must be 0 .* or at least 1000" "... naming the key"
printf '[vcm]\nuid_base = 0\n' >>"$HSMD_CONFDIR/hsmd.conf"
ok "hsmd restarts with uid_base = 0" hsmd_start h
va start "$UA"
is "$rc" 0 "A's VCM starts"
is "$(uid_of "$(vcm_pid "$UA")")" "0 0 0 0" "... as hsmd's user when uid_base is 0"
done_testing
