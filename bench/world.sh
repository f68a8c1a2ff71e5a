#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/world.sh - what the Security World costs, in one run against one
# emulated HSM (an -O2 build installed under _build/bench, like
# bench/rpc.sh):
#
#  (a) per signature: `hsmadmin vcm key sign` with a key blob (a whole CLI
#      run: one SSH connection, the VCM unwraps the blob and signs) against
#      `openssl pkeyutl -sign` with a PEM Ed25519 key on the same data;
#      both as separate processes, median of N runs, and the ratio.  The
#      target of 3x is for a connected client signing many times; this
#      project's CLI opens one connection per signature, so the figure here
#      is the whole per-command cost;
#  (b) `hsmadmin vcm world load` with K = 3 cards (3 scrypt openings in the
#      VCM) against an `hsmadmin vcm info` round trip to the same VCM.
#  (c) per signature once connected: one `hsmadmin vcm key sign` with
#      BATCH inputs of 1 KiB (--in repeated: one call, one SSH connection,
#      the blob opened once), its time divided by BATCH, against one
#      `openssl pkeyutl -sign` (PEM key, same data) per signature as in
#      (a), and against `openssl pkeyutl -sign` of BATCH inputs in one
#      shell loop divided by BATCH.  Target: <= 3x openssl per signature.
#
# N runs per median (default 20); BATCH inputs for (c) (default 64).
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-20}
bench_build
bench_runtimes
bench_scratch

bench_one_hsm BE0C-0000-0043
bench_hsm_start
bench_enroll
bench_licence "$esn" 2

# The tenant: its own home, a VCM, a world, a key.
t=$w/tenant
mkdir -p "$t" && chmod 700 "$t"
HSMADMIN_HOME=$t hsmadmin vcm create --request-file "$w/create.req" --name bench >/dev/null
u=$(vcmadmin create --request "$w/create.req" --outdir "$w" --json bench | sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p')
vcmadmin start "$u" >/dev/null
HSMADMIN_HOME=$t hsmadmin vcm enroll --config "$w/vcm-$u.json" >/dev/null
for i in 1 2 3 4 5; do printf 'bench card %s\n' "$i" >"$w/pass$i"; done
HSMADMIN_HOME=$t hsmadmin vcm world create --uuid "$u" --quorum 3/5 --cards "$w/cards" \
	--passphrase-file "$w/pass1" --passphrase-file "$w/pass2" --passphrase-file "$w/pass3" \
	--passphrase-file "$w/pass4" --passphrase-file "$w/pass5" >/dev/null
HSMADMIN_HOME=$t hsmadmin vcm key generate --uuid "$u" --name bench >/dev/null
head -c 1024 /dev/urandom >"$w/data"
openssl genpkey -algorithm ed25519 -out "$w/ref.pem" 2>/dev/null

# --- (a) per signature -------------------------------------------------------------
t_sign=$(HSMADMIN_HOME=$t "$b/runtimes" "$N" "$b/inst/bin/hsmadmin" vcm key sign --uuid "$u" --name bench \
	--in "$w/data" --out "$w/data.sig")
t_ossl=$("$b/runtimes" "$N" "$(command -v openssl)" pkeyutl -sign -inkey "$w/ref.pem" -rawin -in "$w/data" -out "$w/ref.sig")
echo "(a) one signature, 1 KiB, Ed25519 (median of $N):"
echo "    hsmadmin vcm key sign (blob)   $t_sign us"
echo "    openssl pkeyutl -sign (PEM)    $t_ossl us"
awk -v a="$t_sign" -v b="$t_ossl" 'BEGIN { printf "    ratio                          %.1fx\n", a / b }'

# --- (b) world load with 3 cards ----------------------------------------------------
# Into fresh VCMs (a VCM that has the world answers at once): each of
# LOADS rounds makes a VCM for a second tenant home holding a copy of
# kmdata, loads the world into it (timed), and deletes it.
loads=${LOADS:-3}
total=0
for i in $(seq 1 "$loads"); do
	t2=$w/t2-$i
	mkdir -p "$t2/kmdata" && chmod 700 "$t2" && cp "$t/kmdata/world" "$t2/kmdata/"
	HSMADMIN_HOME=$t2 hsmadmin vcm create --request-file "$w/c$i.req" --name "load $i" >/dev/null
	u2=$(vcmadmin create --request "$w/c$i.req" --outdir "$w" --json "load $i" | sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p')
	vcmadmin start "$u2" >/dev/null
	HSMADMIN_HOME=$t2 hsmadmin vcm enroll --config "$w/vcm-$u2.json" >/dev/null
	t0=$(date +%s%N)
	HSMADMIN_HOME=$t2 hsmadmin vcm world load --uuid "$u2" --card "$w/cards/card-1.json" \
		--card "$w/cards/card-2.json" --card "$w/cards/card-3.json" --passphrase-file "$w/pass1" \
		--passphrase-file "$w/pass2" --passphrase-file "$w/pass3" >/dev/null
	total=$(( total + ($(date +%s%N) - t0) / 1000 ))
	vcmadmin stop --force "$u2" >/dev/null
	vcmadmin delete "$u2" >/dev/null
done
t_load=$(( total / loads ))
t_info=$(HSMADMIN_HOME=$t "$b/runtimes" "$N" "$b/inst/bin/hsmadmin" vcm info --uuid "$u")
echo "(b) world load into a fresh VCM, K = 3 cards (mean of $loads):"
echo "    hsmadmin vcm world load        $t_load us"
echo "    hsmadmin vcm info              $t_info us"
awk -v a="$t_load" -v b="$t_info" 'BEGIN { printf "    ratio                          %.1fx\n", a / b }'

# --- (c) many signatures over one connection ----------------------------------------
batch=${BATCH:-64}
mkdir -p "$w/batch"
bargs=()
for i in $(seq 1 "$batch"); do
	head -c 1024 /dev/urandom >"$w/batch/$i"
	bargs+=(--in "$w/batch/$i" --out "$w/batch/$i.sig")
done
t_batch=$(HSMADMIN_HOME=$t "$b/runtimes" "$N" "$b/inst/bin/hsmadmin" vcm key sign --uuid "$u" \
	--name bench "${bargs[@]}")
printf 'for i in $(seq 1 %s); do openssl pkeyutl -sign -inkey %s -rawin -in %s/batch/$i -out %s/batch/$i.ref; done\n' \
	"$batch" "$w/ref.pem" "$w" "$w" >"$w/ossl-loop.sh"
t_oloop=$("$b/runtimes" "$N" /bin/sh "$w/ossl-loop.sh")
echo "(c) $batch signatures of 1 KiB in one command (median of $N):"
awk -v a="$t_batch" -v n="$batch" 'BEGIN { printf "    hsmadmin vcm key sign, %d --in  %d us, %.0f us per signature\n", n, a, a / n }'
awk -v a="$t_oloop" -v n="$batch" 'BEGIN { printf "    openssl pkeyutl x %d (loop)     %d us, %.0f us per signature\n", n, a, a / n }'
awk -v a="$t_batch" -v b="$t_oloop" 'BEGIN { printf "    ratio per signature            %.2fx   (target <= 3)\n", a / b }'
