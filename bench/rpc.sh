#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/rpc.sh - what a call to an emulated HSM costs, measured in one run.
#
#  (a) `hsmadmin info` (one HSM) against a bare OpenSSH round trip
#      `ssh -p PORT ADDRESS true` to an sshd this script starts on
#      loopback with the same key types (ed25519, curve25519).
#      Target: hsmadmin at most 0.1x OpenSSH.
#  (b) `hsmadmin status` against 16 emulated HSMs vs against one.
#      Target: at most 2x.
#  (c) hsmd's resident memory with 16 idle authenticated client sessions.
#
# Needs root for sshd (privilege separation).  N runs per median (default 50).
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-50}
bench_build
bench_runtimes
bench_scratch
sshd_addr=$net.200

# --- (a) the reference: a bare OpenSSH round trip -------------------------
port=$((20000 + RANDOM % 20000))
ssh-keygen -q -t ed25519 -N '' -f "$w/sshd_host"
ssh-keygen -q -t ed25519 -N '' -f "$w/client"
cp "$w/client.pub" "$w/authorized_keys"
chmod 0600 "$w/authorized_keys"
mkdir -p /run/sshd
cat >"$w/sshd_config" <<EOF
ListenAddress $sshd_addr:$port
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
printf '[%s]:%s %s\n' "$sshd_addr" "$port" "$(cut -d' ' -f1,2 "$w/sshd_host.pub")" >"$w/known_hosts"
ssh_true() {
	ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -i "$w/client" \
		-o UserKnownHostsFile="$w/known_hosts" -o StrictHostKeyChecking=yes \
		-o KexAlgorithms=curve25519-sha256 -o HostKeyAlgorithms=ssh-ed25519 \
		-p "$port" "$(id -un)@$sshd_addr" true
}
for _ in $(seq 1 50); do ssh_true 2>/dev/null && break; sleep 0.1; done
ssh_true
printf '#!/bin/sh\nexec ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o KexAlgorithms=curve25519-sha256 -o HostKeyAlgorithms=ssh-ed25519 -p %s %s@%s true\n' \
	"$w/client" "$w/known_hosts" "$port" "$(id -un)" "$sshd_addr" >"$w/ssh-true"
chmod +x "$w/ssh-true"

# --- 16 emulated HSMs ---------------------------------------------------------
start_hsm() { # I
	bench_provision "hsm$1" "$(printf 'BE0C-0000-%04d' "$1")" "$net.$1"
	bench_run "hsm$1" "$b/inst/etc/hsmadmin"
	eval "hsm_pid_$1=$bench_pid"
}
for i in $(seq 1 16); do start_hsm "$i"; done
for i in $(seq 1 16); do bench_wait_port "$net.$i" 2201; done
bench_enroll
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
bench_wait_port "$net.17" 2201
p17=$hsm_pid_17
before=$(rss "$p17")
for i in $(seq 1 16); do
	ssh -F /dev/null -N -o BatchMode=yes -o IdentitiesOnly=yes -i "$w/client" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-p 2201 "hsm@$net.17" &
	pids="$pids $!"
done
sleep 2
after=$(rss "$p17")
sessions=$(ss -tn state established "( sport = :2201 )" 2>/dev/null | grep -cF "$net.17:" || true)

echo "medians of $N runs (microseconds): ssh true $t_ssh, hsmadmin info $t_info,"
echo "  hsmadmin status (1 HSM) $t_status1, hsmadmin status (16 HSMs) $t_status16"
echo "(a) hsmadmin info / OpenSSH ssh true     = $(ratio "$t_info" "$t_ssh" 3)   (target <= 0.1)"
echo "(b) status 16 HSMs / status 1 HSM        = $(ratio "$t_status16" "$t_status1" 3)   (target <= 2)"
echo "(c) hsmd RSS: $before KiB idle, $after KiB with $sessions open sessions ($(( (after - before) / 16 )) KiB per session)"
