#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages, as a distribution would ship them: build them from
# a copy of the tree (dpkg-buildpackage), lint them (no lintian error),
# install them, run a smoke flow from the installed binaries (provision and
# run an emulated HSM, enroll, status, a VCM), remove one plugin package
# and check its commands are gone from help and completion, then purge.
# TAP on stdout.  Run as root by scripts/test.sh (it installs packages).
#
#   bash tests/packaging/debian.sh [WORKDIR]      (default _build/deb)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$top/_build/deb}
n=0 failed=0
ok() { # ok NAME CMD... : output shown on failure
	n=$((n + 1))
	if out=$("${@:2}" 2>&1); then echo "ok $n - $1"
	else
		echo "not ok $n - $1"; failed=$((failed + 1))
		printf '%s\n' "$out" | tail -n 25 | sed 's/^/#   /'
	fi
}
not() { ! "$@"; }
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit; }
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP installing packages needs root"; exit 0; }

pkgs="hsmadmin hsmadmin-vcm hsmadmin-tenant hsmd libhsmadmin-dev libhsmadmin0"
purge_all() {
	dpkg --purge $pkgs >/dev/null 2>&1
	rm -f /etc/hsmadmin/modules.d/pkgtest.conf /etc/hsmadmin/vendor.d/pkgtest.pem
	rmdir /etc/hsmadmin/modules.d /etc/hsmadmin/vendor.d /etc/hsmadmin 2>/dev/null
	true
}
hsmd_pid=
cleanup() { [ -n "$hsmd_pid" ] && kill "$hsmd_pid" 2>/dev/null; purge_all; }
trap cleanup EXIT
trap 'exit 129' HUP INT TERM

# --- build from a copy, so the tree stays clean --------------------------------------
rm -rf "$work"; mkdir -p "$work/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard | (cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$work/src"
else
	(cd "$top" && tar --exclude=./_build -cf - .) | tar -xf - -C "$work/src"
fi
ok "dpkg-buildpackage -us -uc -b builds the packages" \
	sh -c "cd '$work/src' && dpkg-buildpackage -us -uc -b >'$work/build.log' 2>&1 || { tail -n 40 '$work/build.log'; exit 1; }"
ls "$work"/*.changes >/dev/null 2>&1 || finish
ok "lintian reports no error" lintian --fail-on error "$work"/*.changes
debs=$(ls "$work"/*.deb | grep -v -- -dbgsym)
for p in $pkgs; do
	ok "package $p was built" sh -c "ls '$work'/${p}_*.deb"
done
ok "no .la file is shipped" not sh -c "for d in $work/*.deb; do dpkg-deb -c \$d; done | grep '\\.la\$'"
# Private libraries (docs/architecture.md): only in /usr/lib/<triplet>/hsmadmin,
# one file each, no dev symlink; the public ones in the libdir.
shipped() { for d in "$work"/*.deb; do dpkg-deb -c "$d"; done | awk '{ print $6 }' | grep -E "$1"; }
private_only() {
	_p=$(shipped '/(libhsmadmin-(crypto|net)|libhsmfw)\.so'); printf '%s\n' "$_p"
	[ "$(printf '%s\n' "$_p" | grep -c .)" = 3 ] && ! printf '%s\n' "$_p" | grep -v '^\./usr/lib/[^/]*/hsmadmin/lib'
}
ok "the private libraries are shipped, in /usr/lib/<triplet>/hsmadmin/ only" private_only
ok "the public libhsmadmin has a soname and a dev symlink" \
	test "$(shipped '/libhsmadmin\.so(\.0)?$' | wc -l)" = 2

# --- install and use ------------------------------------------------------------------
purge_all
ok "dpkg -i installs them all" dpkg -i $debs
ok "hsmadmin runs from /usr/bin" /usr/bin/hsmadmin --version
ok "hsmd runs from /usr/sbin (its private libraries by run path)" env -u LD_LIBRARY_PATH /usr/sbin/hsmd --version
ok "hsm-vendor runs from /usr/bin" env -u LD_LIBRARY_PATH /usr/bin/hsm-vendor --help
ok "/etc/hsmadmin holds the shipped configuration as conffiles" \
	sh -c "dpkg-query -W -f='\${Conffiles}\n' hsmadmin | grep -q /etc/hsmadmin/plugins.d/platform.conf"

tmp=$(mktemp -d); chmod 0700 "$tmp"
export HSMADMIN_HOME=$tmp/home
unset HSMADMIN_CONF
# Client keys are protected with the machine's UUID by default; a VM may
# have none readable (as in hsmadmin-keys(1)).
if ! head -c1 /sys/class/dmi/id/product_uuid >/dev/null 2>&1; then export NFAST_KEYPROT=KFG NFAST_TENANTREQ_KEYPROT=KFG; fi
A="127.$(( (RANDOM % 200) + 20 )).$(( (RANDOM % 250) + 1 )).$(( (RANDOM % 250) + 2 ))"
E=1A23-BC45-0F01
mkdir -p /etc/hsmadmin/modules.d /etc/hsmadmin/vendor.d
ok "hsm-vendor makes a vendor key" hsm-vendor keygen --out "$tmp/vendor.key" --pub "$tmp/vendor.pub"
cp "$tmp/vendor.pub" /etc/hsmadmin/vendor.d/pkgtest.pem
ok "hsmd provision" hsmd provision --state "$tmp/hsm" --esn "$E" --address "$A" \
	--vendor-key "$tmp/vendor.key" --module-conf /etc/hsmadmin/modules.d/pkgtest.conf
hsmd run --state "$tmp/hsm" >"$tmp/hsmd.log" 2>&1 &
hsmd_pid=$!
for _ in $(seq 1 200); do grep -q serving "$tmp/hsmd.log" && break; kill -0 "$hsmd_pid" || break; sleep 0.05; done
ok "the installed hsmd serves (its services from the package)" grep -q serving "$tmp/hsmd.log"
ok "hsmadmin enroll" hsmadmin enroll --esn "$E" --secret-file "$tmp/hsm/enrollment-secret"
ok "hsmadmin status" hsmadmin status --esn "$E"
ok "hsmadmin setnetwork" hsmadmin setnetwork --esn "$E" ipv4static --address 127.10.0.1/24 --gateway 127.10.0.254
ok "hsmadmin reset" hsmadmin reset --esn "$E"
ok "the tenant's request (hsmadmin-tenant)" hsmadmin vcm create --request-file "$tmp/create.req" --name pkgtest
ok "vcmadmin create (hsmadmin-vcm)" vcmadmin create --esn "$E" --request "$tmp/create.req" --outdir "$tmp" pkgtest
ok "vcmadmin list shows it" sh -c "vcmadmin list --esn '$E' | grep -q pkgtest"

# --- remove one plugin package: its commands go with it ----------------------------------
ok "hsmadmin --help lists the tenant commands while installed" sh -c "hsmadmin --help | grep -Eq '^ *vcm( |$)'"
ok "dpkg -r hsmadmin-tenant" dpkg -r hsmadmin-tenant
ok "... its commands are gone from hsmadmin --help" not sh -c "hsmadmin --help 2>&1 | grep -Eq '^ *vcm( |$)'"
ok "... and from completion" not sh -c "hsmadmin completion bash | grep -q \"'hsmadmin|vcm \""
ok "... and the platform commands still work" hsmadmin status --esn "$E"
ok "dpkg -r hsmadmin-vcm" dpkg -r hsmadmin-vcm
ok "... vcmadmin is gone" not test -e /usr/bin/vcmadmin

kill "$hsmd_pid" 2>/dev/null; wait "$hsmd_pid" 2>/dev/null; hsmd_pid=
rm -rf "$tmp"
purge_all
ok "dpkg --purge removes everything" not sh -c "dpkg -l $pkgs 2>/dev/null | grep -q '^[ir]i'"
ok "... and /etc/hsmadmin" not test -e /etc/hsmadmin/plugins.d
finish
