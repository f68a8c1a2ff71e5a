# SPDX-License-Identifier: Apache-2.0
# scripts/deps.sh - sourced by demo.sh and test.sh: install what building
# and testing hsmadmin needs on Debian 12, only when something is missing.
HSM_BUILD_DEPS="build-essential autoconf automake libtool pkg-config libssh-dev libjansson-dev libinih-dev libssl-dev openssl"
HSM_PKG_DEPS="debhelper dpkg-dev fakeroot lintian"
HSM_TEST_DEPS="clang libclang-rt-14-dev openssh-client openssh-server python3 jq bsdutils procps iproute2 zsh fish clang-format"

hsm_install_deps() { # hsm_install_deps PACKAGE...
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing; run this script as root (or apt-get install them)" >&2
		exit 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null
}

hsm_jobs() { nproc 2>/dev/null || echo 2; }
