#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The card passphrases asked on /dev/tty (hsmadmin vcm world create and
# load without --passphrase-file), on a pseudo-terminal (script(1)): each
# asked without echo (twice on create), the typed passphrases open the
# cards, two different entries are refused, and a
# signal at the prompt (Ctrl-C, a hang-up, kill) ends the command with the
# terminal's echo restored and no card or world file written.
. "$top_srcdir/tests/lib/vcm-lib.sh"
. "$top_srcdir/tests/lib/tty-lib.sh"
need_plugins vcmtenant vcmkeys
command -v script >/dev/null 2>&1 || skip_all "script(1) not installed"
vcm_setup
cd "$TEST_TMP" || exit 1
E=1A23-BC45-6821
ok "an HSM provisioned, started and enrolled" vcm_hsm h "$E"
ok "licences" licence h "$E" 1
new_vcm A a1 --esn "$E" && va start "$UUID" && tenant A vcm enroll --config "configs/vcm-$UUID.json"
is "$rc" 0 "tenant A: a VCM, started and enrolled"
U=$UUID
TA=$TEST_TMP/tenants/A

# tty_typed N ANSWER... -- ARGS...: hsmadmin ARGS as tenant A on a pty,
# typing ANSWER i once the i-th prompt is on the screen (the prompt
# flushes typeahead).
prompts_shown() { [ "$(grep -Eo 'Passphrase for|Again:' .out 2>/dev/null | wc -l)" -ge "$1" ]; }
tty_typed() {
	answers=()
	while [ "$1" != -- ]; do answers+=("$1"); shift; done
	shift
	rm -f .tty-in .out; mkfifo .tty-in
	HSMADMIN_HOME=$TA timeout -k 5 60 script -qec "hsmadmin $*" /dev/null <.tty-in >.out 2>&1 &
	sp=$!
	exec {typist}>.tty-in
	i=0
	for a in "${answers[@]}"; do
		i=$((i + 1))
		wait_until 40 prompts_shown "$i" && printf '%s\n' "$a" >&"$typist"
	done
	wait "$sp"
	rc=$?
	exec {typist}>&-
	out=$(tr -d '\r' <.out)
}

# --- create: two entries per card, never echoed ---------------------------------------------
tty_typed 'first card' 'first card' 'second card' 'not the same' -- \
	vcm world create --uuid "$U" --quorum 2/2 --cards cards0
rc_is 2 "two different entries for a card: refused (exit 2)"
like "$out" "passphrase: the two entries differ" "... saying so"
ok "... no card and no world written" test ! -e cards0/card-1.json -a ! -e "$TA/kmdata/world"
tty_typed 'first card' 'first card' 'second card' 'second card' -- \
	vcm world create --uuid "$U" --quorum 2/2 --cards cards
rc_is 0 "world create with the passphrases typed on the terminal"
like "$out" "Passphrase for administrator card 1 of 2: " "... asking for card 1"
like "$out" "Passphrase for administrator card 2 of 2: " "... and card 2"
is "$(grep -o 'Again:' .out | wc -l)" 2 "... each twice"
unlike "$out" "first card|second card" "... never echoed"
ok "... the cards and the world file written" test -f cards/card-2.json -a -f "$TA/kmdata/world"
tenant A vcm world info --json
is "$(printf '%s' "$out" | jq -r --arg u "$U" '.vcms[] | select(.uuid == $u) | .state')" loaded \
	"... and loaded (the typed passphrases opened the cards)"

# --- load: one prompt per card ---------------------------------------------------------------
# (This HSM has one VCM of the tenant, which has the world: the load is
# then a no-op; vcm-world.sh loads into others and refuses wrong
# passphrases.)
tty_typed 'first card' 'second card' -- vcm world load --uuid "$U" --card cards/card-1.json --card cards/card-2.json
rc_is 0 "load with both passphrases typed"
like "$out" "Passphrase for cards/card-1.json: " "... asking for each card by its file"
like "$out" "World $(jq -r .world "$TA/kmdata/world") was already loaded|Loaded Security World" "... loaded"

# --- a signal at the prompt restores the terminal ---------------------------------------------
# A kmdata of its own (empty), so that create gets to the prompts.
mkdir -p -m 0700 km2
for sig in INT HUP TERM; do
	HSMADMIN_HOME=$TA NFAST_KMDATA=$TEST_TMP/km2 signal_at_prompt "$sig" \
		"hsmadmin vcm world create --uuid $U --quorum 1/1 --cards sigcards"
	like "$out" "ECHO-OFF-AT-PROMPT" "SIG$sig at a card's passphrase prompt: the prompt had turned echo off"
	like "$out" "ECHO-RESTORED" "... and after SIG$sig the terminal echoes again"
	like "$out" "EXIT=(129|130|143)" "... the command ended by the signal"
	ok "... no card and no world written" test ! -e sigcards/card-1.json -a ! -e km2/world
done
tenant A vcm world info --json
is "$(printf '%s' "$out" | jq -r --arg u "$U" '.vcms[] | select(.uuid == $u) | .state')" loaded \
	"the VCM's world is untouched by the interrupted commands"
done_testing
