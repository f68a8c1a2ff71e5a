#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/rpc.sh - what a call to an emulated HSM costs, measured in one run.
#
#  (a) `hsmadmin info` (one HSM) against a bare OpenSSH round trip
#      `ssh -p PORT 127.0.0.1 true` to an sshd this script starts on
#      loopback with the same key types (ed25519, curve25519).
#      Target: hsmadmin at most 0.1x OpenSSH.
#  (b) `hsmadmin status` against 16 emulated HSMs vs against one.
#      Target: at most 2x.
#  (c) hsmd's resident memory with 16 idle authenticated client sessions.
#
# Needs root for sshd (privilege separation).  N runs per median (default 50).
set -eu
cd "$(dirname "$0")/.."
top=$PWD
N=${N:-50}
b=$top/_build/bench
mkdir -p "$b"
[ -x configure ] || autoreconf -fi >/dev/null
( cd "$b" && [ -f Makefile ] || "$top/configure" --quiet --prefix="$b/inst" CFLAGS="-O2 -g" )
make -C "$b" -j"$(nproc)" --quiet >/dev/null
make -C "$b" install --quiet >/dev/null
cc -O2 -o "$b/runtimes" bench/runtimes.c

w=$(mktemp -d /tmp/hsmbench.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; sleep 0.2; rm -rf "$w"; }
trap cleanup EXIT
export PATH="$b/inst/bin:$b/inst/sbin:$PATH"
export HSMADMIN_CONF=$w/conf HSMADMIN_HOME=$w/home
# This machine may have no DMI system UUID: give key protection one.
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$w/system-uuid"
export HSMADMIN_SYSTEM_UUID_FILE=$w/system-uuid
cp -r "$b/inst/etc/hsmadmin" "$HSMADMIN_CONF"
mkdir -p "$HSMADMIN_CONF/modules.d" "$HSMADMIN_CONF/vendor.d"
hsm-vendor keygen --out "$w/vendor.key" --pub "$HSMADMIN_CONF/vendor.d/bench.pem" >/dev/null

# --- (a) the reference: a bare OpenSSH round trip -------------------------
port=$((20000 + RANDOM % 20000))
ssh-keygen -q -t ed25519 -N '' -f "$w/sshd_host"
ssh-keygen -q -t ed25519 -N '' -f "$w/client"
cp "$w/client.pub" "$w/authorized_keys"
chmod 0600 "$w/authorized_keys"
mkdir -p /run/sshd
cat >"$w/sshd_config" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $w/sshd_host
AuthorizedKeysFile $w/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
KexAlgorithms curve25519-sha256
HostKeyAlgorithms ssh-ed25519
PubkeyAcceptedAlgorithms ssh-ed25519
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com
PidFile $w/sshd.pid
EOF
"$(command -v sshd || echo /usr/sbin/sshd)" -f "$w/sshd_config" -D -e 2>"$w/sshd.log" &
pids="$pids $!"
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$w/sshd_host.pub")" >"$w/known_hosts"
ssh_true() {
	ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -i "$w/client" \
		-o UserKnownHostsFile="$w/known_hosts" -o StrictHostKeyChecking=yes \
		-o KexAlgorithms=curve25519-sha256 -o HostKeyAlgorithms=ssh-ed25519 \
		-p "$port" "$(id -un)@127.0.0.1" true
}
for _ in $(seq 1 50); do ssh_true 2>/dev/null && break; sleep 0.1; done
ssh_true
printf '#!/bin/sh\nexec ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o KexAlgorithms=curve25519-sha256 -o HostKeyAlgorithms=ssh-ed25519 -p %s %s@127.0.0.1 true\n' \
	"$w/client" "$w/known_hosts" "$port" "$(id -un)" >"$w/ssh-true"
chmod +x "$w/ssh-true"

# --- 16 emulated HSMs ---------------------------------------------------------
start_hsm() { # I
	esn=$(printf 'BE0C-0000-%04d' "$1")
	addr=127.77.0.$1
	hsmd provision --state "$w/hsm$1" --esn "$esn" --address "$addr" --vendor-key "$w/vendor.key" \
		--module-conf "$HSMADMIN_CONF/modules.d/hsm$1.conf" >/dev/null
	hsmd run --state "$w/hsm$1" --conf "$b/inst/etc/hsmadmin" >"$w/hsm$1.log" 2>&1 &
	pids="$pids $!"
	eval "hsm_pid_$1=$!"
}
for i in $(seq 1 16); do start_hsm "$i"; done
for i in $(seq 1 16); do
	for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.77.0.$i/2201") 2>/dev/null && break; sleep 0.05; done
done
cat "$w"/hsm*/enrollment-secret >"$w/secrets"
hsmadmin enroll --secret-file "$w/secrets" >/dev/null
one=BE0C-0000-0001

t_ssh=$("$b/runtimes" "$N" "$w/ssh-true")
t_info=$("$b/runtimes" "$N" "$b/inst/bin/hsmadmin" info --esn "$one")
t_status1=$("$b/runtimes" "$N" "$b/inst/bin/hsmadmin" status --esn "$one")
t_status16=$("$b/runtimes" "$N" "$b/inst/bin/hsmadmin" status)
[ "$("$b/inst/bin/hsmadmin" status --json | jq '.modules | length')" = 16 ] || { echo "status did not reach 16 HSMs"; exit 1; }

# --- (c) memory with 16 idle sessions -----------------------------------------
# A 17th HSM left in factory state, whose sshadmin accepts any ed25519 key:
# 16 stock `ssh -N` sessions authenticate and then sit idle.
start_hsm 17
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.77.0.17/2201") 2>/dev/null && break; sleep 0.05; done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
p17=$hsm_pid_17
before=$(rss "$p17")
for i in $(seq 1 16); do
	ssh -F /dev/null -N -o BatchMode=yes -o IdentitiesOnly=yes -i "$w/client" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-p 2201 hsm@127.77.0.17 &
	pids="$pids $!"
done
sleep 2
after=$(rss "$p17")
sessions=$(ss -tn state established "( sport = :2201 )" 2>/dev/null | grep -c 127.77.0.17 || true)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "medians of $N runs (microseconds): ssh true $t_ssh, hsmadmin info $t_info,"
echo "  hsmadmin status (1 HSM) $t_status1, hsmadmin status (16 HSMs) $t_status16"
echo "(a) hsmadmin info / OpenSSH ssh true     = $(ratio "$t_info" "$t_ssh")   (target <= 0.1)"
echo "(b) status 16 HSMs / status 1 HSM        = $(ratio "$t_status16" "$t_status1")   (target <= 2)"
echo "(c) hsmd RSS: $before KiB idle, $after KiB with $sessions open sessions ($(( (after - before) / 16 )) KiB per session)"
