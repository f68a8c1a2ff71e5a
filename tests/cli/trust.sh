#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The trust rules (hsmadmin/trust.h) on the host tools' configuration:
# $HSMADMIN_CONF, hsmadmin.conf, plugins.d and modules.d are refused when
# they are symlinks, owned by another user or writable by group or others,
# each refusal naming the path and the reason.  Input files: a request
# given as a symlink (to /etc/shadow, say) is refused without being read,
# and nothing of it is quoted.
. "$top_srcdir/tests/lib/common.sh"
[ -f "$PLUGIN_DIR/vcm.so" ] || skip_all "vcm plugin not built"
[ -f "$PLUGIN_DIR/platform.so" ] || skip_all "platform plugin not built"
C=$HSMADMIN_CONF
chmod 0755 "$C" "$C/plugins.d"

run hsmadmin vcm --help
is "$rc" 0 "a trusted configuration: the vcm commands are there"

chmod 0777 "$C"
run hsmadmin vcm --help
like "$err" "$C: refused: writable by others" "a world-writable HSMADMIN_CONF is refused, saying why"
ok "... and no plugin is loaded from it" test "$rc" != 0
chmod 0755 "$C"

chmod 0757 "$C/plugins.d"
run hsmadmin vcm --help
like "$err" "plugins.d: refused: writable by others" "a world-writable plugins.d is refused"
ok "... and no plugin is configured from it" test "$rc" != 0
chmod 0755 "$C/plugins.d"

mv "$C/hsmadmin.conf" "$TEST_TMP/hsmadmin.conf"
ln -s "$TEST_TMP/hsmadmin.conf" "$C/hsmadmin.conf"
run hsmadmin vcm --help
like "$err" "hsmadmin.conf: refused: a symbolic link" "hsmadmin.conf as a symlink is refused"
rm "$C/hsmadmin.conf"
mkfifo "$C/hsmadmin.conf"
run hsmadmin vcm --help
like "$err" "hsmadmin.conf: refused: not a regular file" "hsmadmin.conf as a FIFO is refused at once"
ok "... without hanging" test "$rc" != 124
rm "$C/hsmadmin.conf"
mv "$TEST_TMP/hsmadmin.conf" "$C/hsmadmin.conf"

# modules.d: which hosts and keys are the HSMs
mkdir -p "$C/modules.d"
printf '[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.1\n' >"$C/modules.d/h.conf"
chmod 0666 "$C/modules.d/h.conf"
run hsmadmin status --esn 1A23-BC45-6789
like "$err" "h.conf: refused: writable by others" "a world-writable modules.d file is refused, naming it"
chmod 0644 "$C/modules.d/h.conf"
chmod 0777 "$C/modules.d"
run hsmadmin status --esn 1A23-BC45-6789
like "$err" "modules.d: refused: writable by others" "a world-writable modules.d is refused"
chmod 0755 "$C/modules.d"
rm "$C/modules.d/h.conf"
mkfifo "$C/modules.d/h.conf"
run hsmadmin status --esn 1A23-BC45-6789
like "$err" "h.conf: refused: not a regular file" "a FIFO in modules.d is refused at once"
ok "... without hanging" test "$rc" != 124
rm "$C/modules.d/h.conf"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$C/plugins.d"
	run hsmadmin vcm --help
	like "$err" "plugins.d: refused: owned by uid $(id -u nobody)" "plugins.d owned by another user is refused"
	chown 0 "$C/plugins.d"
	chown nobody "$C/hsmadmin.conf"
	run hsmadmin vcm --help
	like "$err" "hsmadmin.conf: refused: owned by uid" "hsmadmin.conf owned by another user is refused"
	chown 0 "$C/hsmadmin.conf"
else
	skip 2 "not root: files owned by another user"
fi

# --- input files: a request as a symlink -----------------------------------------
SECRET='root:$6$Zq1fakeSaltFAKE$averysecrethashthatmustneverbeprinted:19000:0:99999:7:::'
printf '%s\n' "$SECRET" >"$TEST_TMP/shadow"
chmod 0600 "$TEST_TMP/shadow"
ln -s "$TEST_TMP/shadow" "$TEST_TMP/request.req"
run hsmadmin vcm inspect-request "$TEST_TMP/request.req"
is "$rc" 2 "a request given as a symlink is refused (exit 2)"
like "$err" "request.req: refused: a symbolic link" "... saying so"
unlike "$err$out" "verysecret|root:" "... and nothing of the file it points to is shown"
run vcmadmin create --request "$TEST_TMP/request.req" --outdir "$TEST_TMP" x
ok "vcmadmin create refuses it too" test "$rc" != 0
like "$err" "refused: a symbolic link" "... saying so"
unlike "$err$out" "verysecret|root:" "... quoting nothing"
if [ -r /etc/shadow ]; then
	ln -s /etc/shadow "$TEST_TMP/shadow.req"
	run hsmadmin vcm inspect-request "$TEST_TMP/shadow.req"
	like "$err" "refused: a symbolic link" "a symlink to /etc/shadow is refused"
	unlike "$err$out" 'root:' "... without quoting it"
else
	skip 2 "/etc/shadow is not readable here"
fi
# the file itself, not a symlink: a parse error quotes a short printable excerpt only
cp "$TEST_TMP/shadow" "$TEST_TMP/notjson.req"
run hsmadmin vcm inspect-request "$TEST_TMP/notjson.req"
is "$rc" 2 "a file that is no request is refused (exit 2)"
unlike "$err" "verysecrethash" "... quoting at most a short excerpt of it"
done_testing
