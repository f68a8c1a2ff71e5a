#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/dispatch.sh - how cheap is the core's dispatch?
#
# Medians of N runs (default 300) of
#   (a) hsmadmin --help                     (reads configuration only)
#   (b) hsmadmin vcm inspect-request --help (loads exactly one plugin)
# with every built plugin plus ten extra fixture plugins installed, as
# ratios against exec of /bin/true and of `openssl version` (a peer CLI that
# links libcrypto), all measured by one helper in this run.
# Targets: (a) < 2x /bin/true; (b) <= 1x openssl version.
set -eu
. "$(dirname "$0")/lib.sh"
N=${N:-300}
bench_build
bench_runtimes

export HSMADMIN_CONF=$b/inst/etc/hsmadmin HSMADMIN_HOME=$b/home
plugindir=$b/inst/lib/hsmadmin/plugins
for i in $(seq 1 10); do
	PKG_CONFIG_PATH=$b/core cc -O2 -fPIC -shared -fvisibility=hidden -DFIXTURE_GOOD \
		-DFIXTURE_NAME="\"extra$i\"" $(PKG_CONFIG_PATH=$b/core pkg-config --cflags hsmadmin-plugin) \
		-o "$plugindir/extra$i.so" tests/fixtures/fixture-plugin.c \
		$(PKG_CONFIG_PATH=$b/core pkg-config --libs hsmadmin-plugin) -Wl,-rpath,"$b/inst/lib"
	printf '[plugin]\nname = extra%s\nfile = extra%s.so\ndescription = bench fixture\n[commands]\nhsmadmin = extra%s\nvcmadmin = extra%s\n' \
		$i $i $i $i >"$HSMADMIN_CONF/plugins.d/extra$i.conf"
done
hsm=$b/inst/bin/hsmadmin
"$hsm" extra3 show --name x f >/dev/null   # the extra plugins really load
ls "$HSMADMIN_CONF/plugins.d" | sed 's/^/# installed: /'
ldd "$hsm" | grep -E 'libcrypto|libssh' && { echo "hsmadmin links libcrypto or libssh"; exit 1; }

t_true=$("$b/runtimes" "$N" /bin/true)
t_openssl=$("$b/runtimes" "$N" "$(command -v openssl)" version)
t_help=$("$b/runtimes" "$N" "$hsm" --help)
t_cmd=$("$b/runtimes" "$N" "$hsm" vcm inspect-request --help)
echo "median of $N runs, microseconds: /bin/true $t_true, openssl version $t_openssl,"
echo "  hsmadmin --help $t_help, hsmadmin vcm inspect-request --help $t_cmd"
echo "(a) hsmadmin --help / true                      = $(ratio "$t_help" "$t_true")  (target < 2)"
echo "(a) hsmadmin --help / openssl version           = $(ratio "$t_help" "$t_openssl")"
echo "(b) vcm inspect-request --help / true           = $(ratio "$t_cmd" "$t_true")"
echo "(b) vcm inspect-request --help / openssl version = $(ratio "$t_cmd" "$t_openssl")  (target <= 1)"
