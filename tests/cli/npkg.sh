#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/npkg.sh - firmware packages offline: hsm-vendor npkg builds
# primary, recovery and bootloader packages under the guide's file names;
# hsmadmin npkginfo shows them and verifies them against vendor.d, and
# refuses with its documented exit codes a package that is tampered (a
# payload byte, a manifest byte: 4), signed by an unknown vendor (4),
# truncated anywhere (2), padded (2), not a package (2), or unreadable (1).
# Also checks with sha256sum that the manifest's digests are the files'.
. "$top_srcdir/tests/lib/common.sh"

VENDOR=$(_find_built "$top_builddir/tools/hsm-vendor" hsm-vendor) || { echo "Bail out! hsm-vendor not built"; exit 1; }
case " ${BUILT_PLUGINS:-} " in *" upgrade "*) ;; *) skip_all "upgrade plugin not built" ;; esac
cd "$TEST_TMP" || exit 1

mkdir -p mods/services.d pkgs "$HSMADMIN_CONF/vendor.d"
for s in setup sshadmin monitor; do
	so=$(_find_built "$top_builddir/firmware/services/$s" "$s.so") || { echo "Bail out! $s not built"; exit 1; }
	cp "$so" "mods/$s.so"
	cp "$top_srcdir/conf.d/services.d/$s.conf" mods/services.d/
done
"$VENDOR" keygen --out vendor.key --pub "$HSMADMIN_CONF/vendor.d/vendor.pem" >/dev/null
"$VENDOR" keygen --out rogue.key --pub rogue.pub >/dev/null

# --- building ---------------------------------------------------------------------
run "$VENDOR" npkg --key vendor.key --component primary --version 13.7.1 --vsn 8 --modules mods --out pkgs
is "$rc" 0 "hsm-vendor npkg builds a primary package"
like "$out" "primary image 13.7.1 VSN 8 \(6 files\) written to pkgs/nShield5s-primary-13.7.1-vsn8.npkg" \
	"into a directory, under the guide's name (-vsnNN)"
P=pkgs/nShield5s-primary-13.7.1-vsn8.npkg
[ -f "$P" ] || { echo "Bail out! no package: $err"; exit 1; }
like "$(head -1 "$P")" "^hsmadmin-npkg 1 [0-9]+$" "the header line"
run "$VENDOR" npkg --key vendor.key --component recovery --version 13.6.3 --vsn 7 --modules mods \
	--services mods/services.d --out pkgs
is "$rc" 0 "a recovery package"
run "$VENDOR" npkg --key vendor.key --component bootloader --version 2.1.0 --revokes-older --out pkgs
is "$rc" 0 "a bootloader package"
[ -f pkgs/nShield5s-bootloader-2.1.0.npkg ]; ok "the bootloader's name has no VSN" [ -f pkgs/nShield5s-bootloader-2.1.0.npkg ]
run "$VENDOR" npkg --key vendor.key --component primary --version 13.7.1 --vsn 8 --modules mods --out pkgs
is "$rc" 1 "npkg refuses to replace a package"
like "$err" "exists \(use --force" "... and says how"
# A writer killed half-way left its temporary file: the next one removes it.
echo partial >"$P.tmp.Ab12Cd"
run "$VENDOR" npkg --key vendor.key --component primary --version 13.7.1 --vsn 8 --modules mods --out pkgs --force
is "$rc" 0 "--force replaces a package"
is "$(stat -c %a "$P")" 644 "... written with mode 0644"
is "$(find pkgs -name '*.tmp.*' | wc -l)" 0 "... a killed writer's temporary file is removed, none is left"
run "$VENDOR" npkg --key vendor.key --component primary --version 13.7 --modules mods --out x.npkg
is "$rc" 2 "a primary package needs a VSN"
run "$VENDOR" npkg --key vendor.key --component primary --version 13.x --vsn 1 --modules mods --out x.npkg
is "$rc" 2 "a bad version"
run "$VENDOR" npkg --key vendor.key --component bootloader --version 1.0 --vsn 3 --out x.npkg
is "$rc" 2 "a bootloader has no VSN"
run "$VENDOR" npkg --key vendor.key --component firmware --version 1.0 --vsn 3 --modules mods --out x.npkg
is "$rc" 2 "an unknown component"
mkdir -p empty
run "$VENDOR" npkg --key vendor.key --component primary --version 1.0 --vsn 3 --modules empty --out x.npkg
is "$rc" 2 "no modules"
like "$err" "holds no service modules" "... says so"
[ ! -e x.npkg ]; ok "no file left behind by refusals" [ ! -e x.npkg ]

# --- npkginfo on good packages ---------------------------------------------------------
run hsmadmin npkginfo "$P"
is "$rc" 0 "npkginfo accepts a good package"
like "$out" "component: primary" "shows the component"
like "$out" "version: 13.7.1" "shows the version"
like "$out" "vsn: 8" "shows the VSN"
like "$out" "signer: SHA256:[^ ]+ \(trusted vendor key\)" "shows the signer, trusted"
like "$out" "signature: good" "and the signature"
like "$out" "modules/setup.so +[0-9]+ +sha256:[0-9a-f]{16}\.\.\. +ok" "lists the files"
like "$out" "services.d/setup.conf" "with their configuration"
like "$out" "verified: yes" "verified"
run hsmadmin npkginfo --json "$P"
is "$rc" 0 "npkginfo --json"
is "$(printf '%s' "$out" | jq -r '"\(.component) \(.version) \(.vsn) \(.trusted) \(.verified) \(.files|length)"')" \
	"primary 13.7.1 8 true true 6" "--json gives the fields"
want=$(sha256sum mods/setup.so | cut -d' ' -f1)
is "$(printf '%s' "$out" | jq -r '.files[]|select(.name=="modules/setup.so").sha256')" "$want" \
	"the manifest's digest is sha256sum of the file"
run hsmadmin npkginfo --json pkgs/nShield5s-bootloader-2.1.0.npkg
is "$(printf '%s' "$out" | jq -r '"\(.component) \(.revokes_older) \(.vsn)"')" "bootloader true null" \
	"a bootloader shows revokes_older, no VSN"

# --- refusals ------------------------------------------------------------------------
size=$(stat -c %s "$P")
mlen=$(head -1 "$P" | cut -d' ' -f3)
hlen=$(head -1 "$P" | wc -c)
payload=$((hlen + mlen + 1))

flip() { # flip IN OUT OFFSET: copy with the byte at OFFSET changed
	cp "$1" "$2"
	b=$(od -An -tu1 -j "$3" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b + 1) % 256)))" | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
}

flip "$P" payload.npkg $((payload + 1000))
run hsmadmin npkginfo payload.npkg
is "$rc" 4 "a changed payload byte: exit 4"
like "$out" "modules/monitor.so .* MISMATCH" "the file that changed is shown"
like "$err" "modules/monitor.so.*does not match the manifest \(tampered\)" "one error line naming it"
is "$(printf '%s\n' "$err" | wc -l)" 1 "... one line"

flip "$P" last.npkg $((size - 1))
run hsmadmin npkginfo last.npkg
is "$rc" 4 "a changed last byte: exit 4"

# A manifest byte inside a digest: still valid JSON, the signature fails.
off=$(($(grep -abo '"sha256":"' "$P" | head -1 | cut -d: -f1) + 12))
cp "$P" manifest.npkg
c=$(dd if="$P" bs=1 skip="$off" count=1 status=none)
if [ "$c" = 0 ]; then c=1; else c=0; fi
printf '%s' "$c" | dd of=manifest.npkg bs=1 seek="$off" conv=notrunc status=none
run hsmadmin npkginfo --json manifest.npkg
is "$rc" 4 "a changed manifest byte: exit 4"
is "$(printf '%s' "$out" | jq -r '"\(.signature_ok) \(.problem)"')" "false bad signature" "... bad signature"

"$VENDOR" npkg --key rogue.key --component primary --version 99.0 --vsn 99 --modules mods --out rogue.npkg >/dev/null
run hsmadmin npkginfo rogue.npkg
is "$rc" 4 "an unknown vendor: exit 4"
like "$out" "NOT a trusted vendor key" "... shown"
like "$err" "not a trusted vendor key" "... and said"

for cut in 0 5 $((hlen + 10)) $((payload)) $((payload + 5000)) $((size - 1)); do
	head -c "$cut" "$P" >trunc.npkg
	run hsmadmin npkginfo trunc.npkg
	is "$rc" 2 "truncated to $cut bytes: exit 2"
	like "$err" "truncated" "... says truncated"
done
{ cat "$P"; printf 'x'; } >padded.npkg
run hsmadmin npkginfo padded.npkg
is "$rc" 2 "one byte appended: exit 2"
like "$err" "padded" "... says padded"
{ cat "$P"; cat "$P"; } >twice.npkg
run hsmadmin npkginfo twice.npkg
is "$rc" 2 "a package twice over: padded"
printf 'hsmadmin-npkg 2 10\n{}' >v2.npkg
run hsmadmin npkginfo v2.npkg
is "$rc" 2 "an unknown format version"
like "$err" "format version 2" "... named"
printf 'MZ\x90\x00 not a package' >junk.npkg
run hsmadmin npkginfo junk.npkg
is "$rc" 2 "not a package"
like "$err" "bad magic" "... says so"
printf 'hsmadmin-npkg 1 0999999999\n' >huge.npkg
run hsmadmin npkginfo huge.npkg
is "$rc" 2 "a hostile manifest length"
run hsmadmin npkginfo no-such-file.npkg
is "$rc" 2 "a missing file: usage error"
like "$err" "no-such-file.npkg" "... named"

# No vendor keys at all: nothing is trusted.
mv "$HSMADMIN_CONF/vendor.d" vendor.d.off
run hsmadmin npkginfo "$P"
is "$rc" 4 "without vendor keys a package is not trusted"
like "$err" "vendor.d holds no vendor keys" "... and the warning says why"
mv vendor.d.off "$HSMADMIN_CONF/vendor.d"

done_testing
