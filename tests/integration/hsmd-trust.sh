#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The trust rules (hsmadmin/trust.h) on everything that configures hsmd, a
# process running as root: the configuration directory, hsmd.conf,
# vendor.d and its keys, services.d and its files, and the state
# directory.  Each must not be a symlink, must be owned by root or by the
# user hsmd runs as, and must not be writable by group or others; a FIFO
# is refused at once.  Each refusal names the path and the reason.
. "$top_srcdir/tests/integration/../lib/hsmd-common.sh"
hsmd_setup
ESN=2B34-CD56-7890
hsmd_provision h "$(test_address)" "$ESN"
ok "provisioned" test -f "$TEST_TMP/h/device.json"
mkdir -p "$HSMD_CONFDIR/vendor.d"
openssl pkey -in "$TEST_TMP/vendor.pem" -pubout -out "$HSMD_CONFDIR/vendor.d/vendor.pem" 2>/dev/null
chmod 0644 "$HSMD_CONFDIR/vendor.d/vendor.pem"
ok "hsmd starts with a trusted configuration" hsmd_start h
hsmd_stop h
ROOT=0
[ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && ROOT=1

# hsmd_refuses WHAT PATTERN: hsmd run exits 1 at once, naming the problem.
hsmd_refuses() {
	timeout -k 2 20 "$HSMD" run --state "$TEST_TMP/h" --conf "$HSMD_CONFDIR" \
		>"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err"
	rc=$?
	out=$(cat "$TEST_TMP/run.out")
	err=$(cat "$TEST_TMP/run.err")
	_last_command hsmd run "($1)"
	is "$rc" 1 "$1: hsmd refuses to start (not a hang, not a start)"
	like "$err" "$2" "... saying why"
}

C=$HSMD_CONFDIR
chmod 0777 "$C"
hsmd_refuses "a world-writable configuration directory" "$C: refused: writable by others"
chmod 0755 "$C"
chmod 0775 "$C"
hsmd_refuses "a group-writable configuration directory" "writable by its group"
chmod 0755 "$C"

chmod 0666 "$C/hsmd.conf"
hsmd_refuses "a world-writable hsmd.conf" "$C/hsmd.conf: refused: writable by others"
chmod 0644 "$C/hsmd.conf"
mv "$C/hsmd.conf" "$TEST_TMP/hsmd.conf.real"
ln -s "$TEST_TMP/hsmd.conf.real" "$C/hsmd.conf"
hsmd_refuses "hsmd.conf as a symlink" "hsmd.conf: refused: a symbolic link"
rm "$C/hsmd.conf"
mkfifo "$C/hsmd.conf"
hsmd_refuses "hsmd.conf as a FIFO" "hsmd.conf: refused: not a regular file"
rm "$C/hsmd.conf"
mv "$TEST_TMP/hsmd.conf.real" "$C/hsmd.conf"

chmod 0666 "$C/vendor.d/vendor.pem"
hsmd_refuses "a world-writable vendor key" "vendor.pem: refused: writable by others"
chmod 0644 "$C/vendor.d/vendor.pem"
chmod 0777 "$C/vendor.d"
hsmd_refuses "a world-writable vendor.d" "vendor.d: refused: writable by others"
chmod 0755 "$C/vendor.d"
ln -s "$C/vendor.d/vendor.pem" "$C/vendor.d/link.pem"
hsmd_refuses "a vendor key as a symlink" "link.pem: refused: a symbolic link"
rm "$C/vendor.d/link.pem"

chmod 0777 "$C/services.d"
hsmd_refuses "a world-writable services.d" "services.d: refused: writable by others"
chmod 0755 "$C/services.d"

chmod 0777 "$TEST_TMP/h"
hsmd_refuses "a world-writable state directory" "state directory $TEST_TMP/h: refused: writable by others"
chmod 0700 "$TEST_TMP/h"

if [ "$ROOT" = 1 ]; then
	chown nobody "$C/hsmd.conf"
	hsmd_refuses "hsmd.conf owned by another user" "hsmd.conf: refused: owned by uid $(id -u nobody)"
	chown 0 "$C/hsmd.conf"
	chown nobody "$C/vendor.d/vendor.pem"
	chmod 0666 "$C/vendor.d/vendor.pem"
	hsmd_refuses "a 0666 vendor key owned by nobody" "vendor.pem: refused: owned by uid"
	chown 0 "$C/vendor.d/vendor.pem"
	chmod 0644 "$C/vendor.d/vendor.pem"
	chown nobody "$C/services.d/monitor.conf"
	hsmd_start h
	like "$(cat "$TEST_TMP/h.log")" "monitor.conf: refused: owned by uid" \
		"a services.d file owned by another user: that service is not loaded, saying why"
	hsmd_stop h
	chown 0 "$C/services.d/monitor.conf"
else
	skip 5 "not root: files owned by another user"
fi

ln -s "$top_srcdir/conf.d/services.d/monitor.conf" "$C/services.d/zz-link.conf"
: >"$TEST_TMP/h.log"
hsmd_start h
like "$(cat "$TEST_TMP/h.log")" "zz-link.conf: refused: a symbolic link" \
	"a services.d file as a symlink is not loaded, saying why"
hsmd_stop h
rm "$C/services.d/zz-link.conf"
ok "with everything fixed, hsmd starts again" hsmd_start h
hsmd_stop h
done_testing
