#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every configuration-file error names the file, the field and what was
# wrong, never a parser library's own words: the host's hsmadmin.conf,
# plugins.d, modules.d and vendor.d, the pins of an enrolled HSM, and the
# device's hsmd.conf, services.d and its JSON state (device.json,
# lifetime.json).
. "$top_srcdir/tests/lib/platform-lib.sh"
platform_setup
ESN=1A23-BC45-6789
ok "HSM $ESN provisioned and started" hsm_new h "$ESN"
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "enrolled"
raw='item not found|left unpacked|Expected [a-z]+, got'
said() { # what the last command printed
	printf '%s\n%s\n' "$out" "$err"
}

# --- host: hsmadmin.conf ---------------------------------------------------------------------
cp "$HSMADMIN_CONF/hsmadmin.conf" "$TEST_TMP/hsmadmin.conf.good"
printf 'colour = blue\n' >>"$HSMADMIN_CONF/hsmadmin.conf"
ha status
like "$err" "hsmadmin\.conf:( line)? ?3: unknown key 'colour' in section \[paths\]" \
	"hsmadmin.conf: an unknown key names the file, the line and the key"
cp "$TEST_TMP/hsmadmin.conf.good" "$HSMADMIN_CONF/hsmadmin.conf"
printf '[bogus]\n' >>"$HSMADMIN_CONF/hsmadmin.conf"
ha status
like "$err" "hsmadmin\.conf:( line)? ?3: unknown section \[bogus\]" \
	"hsmadmin.conf: an unknown section without keys is refused too, naming the file, the line and the section"
cp "$TEST_TMP/hsmadmin.conf.good" "$HSMADMIN_CONF/hsmadmin.conf"

# --- host: plugins.d ---------------------------------------------------------------------------
cp "$HSMADMIN_CONF/plugins.d/keys.conf" "$TEST_TMP/keys.conf.good"
sed 's/^\[plugin\]$/[plugin]\ncolour = blue/' "$TEST_TMP/keys.conf.good" >"$HSMADMIN_CONF/plugins.d/keys.conf"
ha keys show
is "$rc" 2 "plugins.d: a plugin whose file is bad is not configured (keys: unknown command, exit 2)"
like "$err" "plugins\.d/keys\.conf:[0-9]+: unknown key 'colour'" "plugins.d: names the file, the line and the key"
{ cat "$TEST_TMP/keys.conf.good"; printf '[bogus]\n'; } >"$HSMADMIN_CONF/plugins.d/keys.conf"
ha keys show
is "$rc" 2 "plugins.d: an empty unknown section: the file is refused (keys: unknown command, exit 2)"
like "$err" "plugins\.d/keys\.conf:[0-9]+: unknown section \[bogus\]" "plugins.d: names the file, the line and the section"
sed 's/^file = .*/file = ..\/keys.so/' "$TEST_TMP/keys.conf.good" >"$HSMADMIN_CONF/plugins.d/keys.conf"
ha keys show
like "$err" "plugins\.d/keys\.conf:[0-9]+: file must be a plain file name" "plugins.d: a bad value names the field and why"
grep -v '^file' "$TEST_TMP/keys.conf.good" >"$HSMADMIN_CONF/plugins.d/keys.conf"
ha keys show
like "$err" "plugins\.d/keys\.conf: needs 'name' and 'file'" "plugins.d: a missing field is named"
cp "$TEST_TMP/keys.conf.good" "$HSMADMIN_CONF/plugins.d/keys.conf"

# --- host: modules.d ---------------------------------------------------------------------------
cp "$HSMADMIN_CONF/modules.d/h.conf" "$TEST_TMP/h.conf.good"
sed 's/^esn = .*/esn = 1A23_BC45/' "$TEST_TMP/h.conf.good" >"$HSMADMIN_CONF/modules.d/h.conf"
ha status
like "$err" "modules\.d/h\.conf: .*esn: '1A23_BC45' is not an ESN" "modules.d: a malformed value names the file, the field and the value"
sed 's/^address = .*/address = 300.1.1.1/' "$TEST_TMP/h.conf.good" >"$HSMADMIN_CONF/modules.d/h.conf"
ha status
like "$err" "modules\.d/h\.conf: .*address: '300\.1\.1\.1' is not an IPv4 or IPv6 address" "modules.d: a bad address is named"
{ cat "$TEST_TMP/h.conf.good"; printf '[bogus]\n'; } >"$HSMADMIN_CONF/modules.d/h.conf"
ha status
like "$err" "modules\.d/h\.conf: .*line $(( $(wc -l <"$TEST_TMP/h.conf.good") + 1 )): unknown section \[bogus\]" \
	"modules.d: an unknown section without keys is refused, naming the file, the line and the section"
cp "$TEST_TMP/h.conf.good" "$HSMADMIN_CONF/modules.d/h.conf"

# --- host: vendor.d ----------------------------------------------------------------------------
printf 'not a key\n' >"$HSMADMIN_CONF/vendor.d/zz-broken.pem"
ha enroll
ok "vendor.d: a broken vendor key refuses enroll" test "$rc" != 0
like "$err" "vendor\.d/zz-broken\.pem: not an Ed25519 public key" "vendor.d: names the file and what is wrong"
rm -f "$HSMADMIN_CONF/vendor.d/zz-broken.pem"

# --- host: the pins of an enrolled HSM ----------------------------------------------------------
pins=$HSMADMIN_HOME/pins/$ESN.json
cp "$pins" "$TEST_TMP/pins.good"
jq 'del(.pinned)' "$TEST_TMP/pins.good" >"$pins"
ha status
like "$err" "pins/$ESN\.json: missing field 'pinned'" "pins: a missing field is named with the file"
jq '.pinned = "yesterday"' "$TEST_TMP/pins.good" >"$pins"
ha status
like "$err" "pins/$ESN\.json: field 'pinned': expected integer, got string" "pins: a field of the wrong type is named"
jq '.colour = 1' "$TEST_TMP/pins.good" >"$pins"
ha status
like "$err" "pins/$ESN\.json: unknown field 'colour'" "pins: an unknown field is named"
unlike "$(said)" "$raw" "pins: never the JSON library's own words"
cp "$TEST_TMP/pins.good" "$pins"
ha status
is "$rc" 0 "pins restored: status works again"

# --- device: hsmd.conf, services.d, state ------------------------------------------------------
hsmd_stop h
hsmd_fails() { # the start-up error of hsmd on state h (it exits at once)
	run timeout -k 5 20 "$HSMD" run --state "$TEST_TMP/h" --conf "$HSMD_CONFDIR"
}
cp "$HSMD_CONFDIR/hsmd.conf" "$TEST_TMP/hsmd.conf.good"
printf '[server]\nidle_timeout = soon\n' >>"$HSMD_CONFDIR/hsmd.conf"
hsmd_fails
ok "hsmd.conf: a malformed value stops hsmd" test "$rc" != 0
like "$err" "hsmd\.conf: line [0-9]+: idle_timeout: 'soon' is not a number from 1 to 86400" \
	"hsmd.conf: names the file, the line, the field and the range"
printf '[server]\ncolour = blue\n' >"$TEST_TMP/extra" && cat "$TEST_TMP/hsmd.conf.good" "$TEST_TMP/extra" >"$HSMD_CONFDIR/hsmd.conf"
hsmd_fails
like "$err" "hsmd\.conf: line [0-9]+: unknown key 'colour' in section \[server\]" "hsmd.conf: an unknown key is named"
printf '[bogus]\n' >"$TEST_TMP/extra" && cat "$TEST_TMP/hsmd.conf.good" "$TEST_TMP/extra" >"$HSMD_CONFDIR/hsmd.conf"
hsmd_fails
ok "hsmd.conf: an unknown section without keys stops hsmd" test "$rc" != 0
like "$err" "hsmd\.conf: line $(( $(wc -l <"$TEST_TMP/hsmd.conf.good") + 1 )): unknown section \[bogus\]" \
	"hsmd.conf: ... naming the file, the line and the section"
cp "$TEST_TMP/hsmd.conf.good" "$HSMD_CONFDIR/hsmd.conf"

cp "$TEST_TMP/h/device.json" "$TEST_TMP/device.good"
jq 'del(.mode)' "$TEST_TMP/device.good" >"$TEST_TMP/h/device.json"
hsmd_fails
ok "device.json: a missing field stops hsmd" test "$rc" != 0
like "$err" "device\.json: missing field 'mode'" "device.json: names the file and the missing field"
jq '.state = 5' "$TEST_TMP/device.good" >"$TEST_TMP/h/device.json"
hsmd_fails
like "$err" "device\.json: field 'state': expected string, got integer" "device.json: a field of the wrong type is named"
jq '.colour = 5' "$TEST_TMP/device.good" >"$TEST_TMP/h/device.json"
hsmd_fails
like "$err" "device\.json: unknown field 'colour'" "device.json: an unknown field is named"
jq '.clock.colour = 5' "$TEST_TMP/device.good" >"$TEST_TMP/h/device.json"
hsmd_fails
like "$err" "device\.json: clock: unknown field 'colour'" "device.json: an unknown field of a member is named with the member"
unlike "$(said)" "$raw" "device.json: never the JSON library's own words"
cp "$TEST_TMP/device.good" "$TEST_TMP/h/device.json"
cp "$TEST_TMP/h/lifetime.json" "$TEST_TMP/lifetime.good"
jq 'del(.esn)' "$TEST_TMP/lifetime.good" >"$TEST_TMP/h/lifetime.json"
hsmd_fails
like "$err" "lifetime\.json: missing field 'esn'" "lifetime.json: names the file and the missing field"
jq '.psn = 5' "$TEST_TMP/lifetime.good" >"$TEST_TMP/h/lifetime.json"
hsmd_fails
like "$err" "lifetime\.json: field 'psn': expected string, got integer" "lifetime.json: a field of the wrong type is named"
unlike "$(said)" "$raw" "lifetime.json: never the JSON library's own words"
cp "$TEST_TMP/lifetime.good" "$TEST_TMP/h/lifetime.json"

printf '[service]\nname = monitor\nmodule = monitor.so\nport = 22\n' >"$HSMD_CONFDIR/services.d/monitor.conf"
ok "hsmd starts with a bad services.d file" hsmd_start h
like "$(cat "$TEST_TMP/h.log")" "services\.d/monitor\.conf: line 4: unknown key 'port' \(name, module\); service skipped" \
	"services.d: names the file, the line and the key"
hsmd_stop h
printf '[service]\nname = monitor\nmodule = monitor.so\n\n[bogus]\n' >"$HSMD_CONFDIR/services.d/monitor.conf"
ok "hsmd starts with a services.d file that has an empty unknown section" hsmd_start h
like "$(cat "$TEST_TMP/h.log")" "services\.d/monitor\.conf: line 5: unknown section \[bogus\] \(only \[service\]\); service skipped" \
	"services.d: an unknown section without keys is refused like one with keys (file, line, section)"
hsmd_stop h

done_testing
