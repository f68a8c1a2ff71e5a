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
mkdir -p "$work"

echo "== the tenant: a signed request to create a VCM"
rm -f "$work/create.req"
run hsmadmin vcm create --request-file "$work/create.req" --name demo-tenant \
	--features "ForeignTokenOpen|RemoteShare" --request-validity 86400
run hsmadmin vcm inspect-request --verify "$work/create.req"
run hsmadmin vcm inspect-request --json "$work/create.req"

echo
echo "== done: the tools are in .hsm/inst/bin; try 'hsmadmin --help'"
