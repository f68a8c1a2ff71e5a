#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# scripts/demo.sh - the main job: build and install hsmadmin into a
# project-local prefix (.hsm/), then drive it as a user would.
#
#   sudo bash scripts/demo.sh          (installs its build dependencies)
#
# Everything lives under .hsm/ in the checkout: the installed tools
# (.hsm/inst), the host's configuration (HSMADMIN_CONF) and home
# (HSMADMIN_HOME).  Remove .hsm/ to start again.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
. scripts/deps.sh
hsm_install_deps $HSM_BUILD_DEPS

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }
as_tenant() { say "HSMADMIN_HOME=$tenant_home $*"; HSMADMIN_HOME=$tenant_home "$@"; }

echo "== building hsmadmin into $top/.hsm/inst"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p _build/demo
( cd _build/demo && [ -f Makefile ] || "$top/configure" --prefix="$top/.hsm/inst" --quiet )
make -C _build/demo -j"$(hsm_jobs)" --quiet >/dev/null
make -C _build/demo install --quiet >/dev/null

export PATH="$top/.hsm/inst/bin:$top/.hsm/inst/sbin:$PATH"
export HSMADMIN_CONF="$top/.hsm/inst/etc/hsmadmin"
export HSMADMIN_HOME="$top/.hsm/home"
tenant_home="$top/.hsm/tenant-home"
work="$top/.hsm/work"
# Client keys are protected with the system UUID by default (guide 4.8);
# containers often have none: say so and use the documented override.
if ! head -c1 /sys/class/dmi/id/product_uuid >/dev/null 2>&1 && [ -z "${NFAST_KEYPROT:-}" ]; then
	echo "note: no readable system UUID on this machine: protecting client keys with K F G (NFAST_KEYPROT=KFG)"
	export NFAST_KEYPROT=KFG
fi
mkdir -p "$work"

# --- the emulated HSM ------------------------------------------------------
esn=${HSM_ESN:-1A23-BC45-6789}
addr=${HSM_ADDRESS:-127.0.0.2}
hsm=$top/.hsm/hsm1
vendor=$top/.hsm/vendor

# A previous demo's hsmd is stopped first: one state directory, one daemon.
if [ -f "$hsm.pid" ] && kill -0 "$(cat "$hsm.pid")" 2>/dev/null; then
	kill "$(cat "$hsm.pid")"; sleep 0.5
fi
rm -rf "$hsm" "$HSMADMIN_HOME" "$tenant_home" "$HSMADMIN_CONF/modules.d"
mkdir -p "$vendor" "$HSMADMIN_CONF/vendor.d" "$HSMADMIN_CONF/modules.d"
mkdir -m 0700 -p "$tenant_home"

echo "== the vendor: a signing key (the emulated HSM's warrant is signed with it)"
if [ ! -f "$vendor/vendor.key" ]; then
	run hsm-vendor keygen --out "$vendor/vendor.key" --pub "$vendor/vendor.pub"
fi
cp "$vendor/vendor.pub" "$HSMADMIN_CONF/vendor.d/demo-vendor.pem"

echo "== the HSM: provision an emulated HSM on $addr and start it"
run hsmd provision --state "$hsm" --esn "$esn" --address "$addr" \
	--vendor-key "$vendor/vendor.key" --module-conf "$HSMADMIN_CONF/modules.d/hsm1.conf"
say "hsmd run --state $hsm &"
hsmd run --state "$hsm" >"$hsm.log" 2>&1 &
echo $! >"$hsm.pid"
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/$addr/2201") 2>/dev/null && break
	kill -0 "$(cat "$hsm.pid")" 2>/dev/null || { echo "hsmd did not start:"; cat "$hsm.log"; exit 1; }
	sleep 0.1
done

echo "== the service provider: enroll the HSM (with the one-time secret it printed) and ask it about itself"
run hsmadmin enroll --secret-file "$hsm/enrollment-secret"
run hsmadmin enroll
run hsmadmin status
run hsmadmin info
run hsmadmin getenvstats
run hsmadmin gettime --json
run hsmadmin logs get --log system

echo "== the service provider: licence the HSM for several VCMs and set the VCM network"
rm -f "$work/hsm1.lic"
run hsm-vendor licence --key "$vendor/vendor.key" --esn "$esn" --max-active-vcms 4 \
	--features "ForeignTokenOpen|RemoteShare" --out "$work/hsm1.lic"
run hsmadmin fet "$work/hsm1.lic"
run hsmadmin setnetwork ipv4static --address 127.10.0.1/24 --gateway 127.10.0.254
run hsmadmin reset
run hsmadmin info

echo "== the tenant (a host of its own: HSMADMIN_HOME=$tenant_home): a signed request to create a VCM"
rm -f "$work/create.req"
as_tenant hsmadmin vcm create --request-file "$work/create.req" --name demo-tenant \
	--features "ForeignTokenOpen|RemoteShare" --request-validity 86400
as_tenant hsmadmin vcm inspect-request --verify "$work/create.req"
run hsmadmin vcm inspect-request --json "$work/create.req"

echo "== the service provider: create the VCM from the request and start it"
rm -f "$work"/vcm-*.json
say "vcmadmin create --request $work/create.req --outdir $work demo-tenant"
created=$(vcmadmin create --request "$work/create.req" --outdir "$work" demo-tenant)
printf '%s\n' "$created"
uuid=$(printf '%s\n' "$created" | sed -n 's/^Created VCM //p')
run vcmadmin start "$uuid"
run vcmadmin list

echo "== the tenant: enroll the VCM with the configuration file from the provider"
as_tenant hsmadmin vcm enroll --config "$work/vcm-$uuid.json"
as_tenant enquiry
as_tenant hsmadmin vcm getenvstats --uuid "$uuid"

echo "== the tenant: a key in the VCM signs; the signature verifies with openssl"
printf 'signed in the VCM by the tenant\n' >"$work/message.txt"
say "HSMADMIN_HOME=$tenant_home hsmadmin vcm key generate --uuid $uuid --name demo-signing"
HSMADMIN_HOME=$tenant_home hsmadmin vcm key generate --uuid "$uuid" --name demo-signing |
	tee "$work/generate.out"
sed -n '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/p' "$work/generate.out" >"$work/demo-signing.pub.pem"
as_tenant hsmadmin vcm key sign --uuid "$uuid" --name demo-signing --in "$work/message.txt" \
	--out "$work/message.sig"
run openssl pkeyutl -verify -pubin -inkey "$work/demo-signing.pub.pem" -rawin \
	-in "$work/message.txt" -sigfile "$work/message.sig"
as_tenant hsmadmin vcm logs getkey --uuid "$uuid"

cat <<EOT

== done.  The emulated HSM $esn is still running on $addr (pid $(cat "$hsm.pid")),
   with the tenant's VCM $uuid (module 1 of HSMADMIN_HOME=$tenant_home).
   To use the tools yourself:
     export PATH=$top/.hsm/inst/bin:$top/.hsm/inst/sbin:\$PATH
     export HSMADMIN_CONF=$HSMADMIN_CONF HSMADMIN_HOME=$HSMADMIN_HOME
     hsmadmin --help
   To stop it:  kill \$(cat $hsm.pid)
   Several HSMs side by side: provision each with its own --state, --esn and
   --address (any 127.x.y.z) and its own modules.d file; see docs/man/hsmd.8.
EOT
