#!/bin/bash
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

echo "== building hsmadmin into $top/.hsm/inst"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p _build/demo
( cd _build/demo && [ -f Makefile ] || "$top/configure" --prefix="$top/.hsm/inst" --quiet )
make -C _build/demo -j"$(hsm_jobs)" --quiet >/dev/null
make -C _build/demo install --quiet >/dev/null

export PATH="$top/.hsm/inst/bin:$top/.hsm/inst/sbin:$PATH"
export HSMADMIN_CONF="$top/.hsm/inst/etc/hsmadmin"
export HSMADMIN_HOME="$top/.hsm/home"
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
rm -rf "$hsm" "$HSMADMIN_HOME" "$HSMADMIN_CONF/modules.d"
mkdir -p "$vendor" "$HSMADMIN_CONF/vendor.d" "$HSMADMIN_CONF/modules.d"

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

echo "== the service provider: enroll the HSM and ask it about itself"
run hsmadmin enroll
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

echo "== the tenant: a signed request to create a VCM"
rm -f "$work/create.req"
run hsmadmin vcm create --request-file "$work/create.req" --name demo-tenant \
	--features "ForeignTokenOpen|RemoteShare" --request-validity 86400
run hsmadmin vcm inspect-request --verify "$work/create.req"
run hsmadmin vcm inspect-request --json "$work/create.req"

cat <<EOT

== done.  The emulated HSM $esn is still running on $addr (pid $(cat "$hsm.pid")).
   To use the tools yourself:
     export PATH=$top/.hsm/inst/bin:$top/.hsm/inst/sbin:\$PATH
     export HSMADMIN_CONF=$HSMADMIN_CONF HSMADMIN_HOME=$HSMADMIN_HOME
     hsmadmin --help
   To stop it:  kill \$(cat $hsm.pid)
   Several HSMs side by side: provision each with its own --state, --esn and
   --address (any 127.x.y.z) and its own modules.d file; see docs/man/hsmd.8.
EOT
