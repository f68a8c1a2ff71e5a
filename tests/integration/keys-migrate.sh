#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Moving an HSM to another host without factory state (guide 4.7.9), with
# two host homes (and two "machines": other system UUIDs):
#   destination: keys backup --passphrase FILE
#   source:      keys migrate --privkeyfile FILE
#   source:      enroll (refreshes its list)   destination: enroll
. "$top_srcdir/tests/lib/keys-lib.sh"
platform_setup
E=1A23-BC45-6789
ED=5D56-EF78-9012

SRC_HOME=$TEST_TMP/src-home SRC_CONF=$HSMADMIN_CONF SRC_UUID=$TEST_TMP/system-uuid
DST_HOME=$TEST_TMP/dst-home DST_CONF=$TEST_TMP/dst-conf DST_UUID=$TEST_TMP/dst-uuid
printf '%s\n' "$(cat /proc/sys/kernel/random/uuid)" >"$DST_UUID"
cp -r "$SRC_CONF" "$DST_CONF" # plugins and vendor keys, as installed there
as_source() { export HSMADMIN_HOME=$SRC_HOME HSMADMIN_CONF=$SRC_CONF HSMADMIN_SYSTEM_UUID_FILE=$SRC_UUID; }
as_dest() { export HSMADMIN_HOME=$DST_HOME HSMADMIN_CONF=$DST_CONF HSMADMIN_SYSTEM_UUID_FILE=$DST_UUID; }

as_source
hsm_new h "$E"
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "source host enrolls HSM h"
collect_seeds
as_dest
hsmd_provision d "$(test_address)" "$ED" --module-conf "$DST_CONF/modules.d/d.conf" && hsmd_start d
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "destination host enrolls its own HSM d"
collect_seeds
dst_admin=$(host_key sshadmin)

# 1. destination: a passphrase backup of its sshadmin key
NFAST_KEYPROT_PASS='move it' ha keys backup --passphrase "$TEST_TMP/usb-stick.key"
is "$rc" 0 "destination: keys backup --passphrase"

# 2. source: migrate
as_source
ha keys migrate --privkeyfile "$TEST_TMP/usb-stick.key"
is "$rc" 2 "source: migrate without the passphrase: usage error"
NFAST_KEYPROT_PASS='wrong' ha keys migrate --privkeyfile "$TEST_TMP/usb-stick.key"
is "$rc" 2 "source: migrate with a wrong passphrase: refused"
is "$(hsm_key h sshadmin)" "$(host_key sshadmin)" "... h still has the source's sshadmin key"
NFAST_KEYPROT_PASS='move it' ha keys migrate --privkeyfile "$TEST_TMP/usb-stick.key"
is "$rc" 0 "source: keys migrate --privkeyfile"
like "$out" "$E: sshadmin now accepts only the key of the destination host" "... says what happened"
is "$(hsm_key h sshadmin)" "$dst_admin" "h now accepts the destination's sshadmin key"
ha keys show --json
is "$(printf '%s' "$out" | jq -r '.modules[0].error.exit')" 4 \
	"source: keys show: h refuses the source's sshadmin key (exit 4 for it)"
NFAST_KEYPROT_PASS='move it' ha keys migrate --privkeyfile "$TEST_TMP/usb-stick.key"
is "$rc" 4 "source: a second migrate cannot log in any more: exit 4"
cp "$SRC_HOME/keys/client/sshadmin" "$TEST_TMP/own.key"
ha keys migrate --privkeyfile "$TEST_TMP/own.key"
is "$rc" 2 "migrate to this host's own key: usage error"

# 3. the HSM moves: the source forgets it, the destination learns it
mv "$SRC_CONF/modules.d/h.conf" "$DST_CONF/modules.d/h.conf"
# 4. source: enroll refreshes its list (h is gone from it)
ha enroll --secret-file "$(secrets)"
is "$rc" 1 "source: enroll with no HSM left: exit 1 (nothing to enroll)"
# 5. destination: enroll
as_dest
ha enroll --secret-file "$(secrets)"
is "$rc" 0 "destination: enroll"
like "$out" "$E: enrolled; pinned host keys" "... h takes the destination's service keys and gets pinned"
for s in setup monitor; do
	is "$(hsm_key h $s)" "$(host_key $s)" "... and now accepts the destination's $s key"
done
ha status
is "$rc" 0 "destination: status on both HSMs, no factory state"
ha enroll --secret-file "$(secrets)"
is "$(printf '%s\n' "$out" | grep -c 'nothing changed')" 2 "enroll again changes nothing"
ha keys show --json
is "$(printf '%s' "$out" | jq -r '[.modules[].client_keys[].owner] | unique | join(",")')" "this host" \
	"destination: every key of both HSMs is this host's"
collect_seeds

no_key_leaked 21
done_testing
