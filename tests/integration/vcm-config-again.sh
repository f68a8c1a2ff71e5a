#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `vcmadmin show UUID --config DIR` issues a VCM's tenant configuration
# file again at any time: the same content as the file create wrote, and
# the tenant enrolls with it.  What a lost file, or a create whose file
# could not be written, needs: the create request cannot be used twice.
. "$top_srcdir/tests/lib/vcm-lib.sh"
vcm_one_hsm 4D56-EF78-9012
new_vcm A "again"
ok "a VCM" test -n "$UUID"
U=$UUID
first=$TEST_TMP/configs/vcm-$U.json
ok "create wrote its configuration file" test -f "$first"
show() { echo "# out: $out"; echo "# err: $err"; }

va show "$U" --config "$TEST_TMP/again"
is "$rc" 0 "vcmadmin show --config DIR" || show
again=$TEST_TMP/again/vcm-$U.json
like "$out" "Configuration file for the tenant: $again" "... names the file it wrote"
like "$out" "$U" "... and shows the VCM"
is "$(jq -S . "$again")" "$(jq -S . "$first")" "the file issued again equals the one create wrote"
va start "$U"
is "$rc" 0 "the VCM started" || show
va show "$U" --config "$TEST_TMP/running" --json
is "$rc" 0 "issued again while the VCM runs, with --json" || show
is "$(jq -r .config_file <<<"$out")" "$TEST_TMP/running/vcm-$U.json" "--json names the file"
is "$(jq -r .uuid <<<"$out")" "$U" "... and the VCM"
is "$(jq -S . "$TEST_TMP/running/vcm-$U.json")" "$(jq -S . "$first")" "... with the same content"

: >notadir
va show "$U" --config notadir
is "$rc" 2 "--config naming a file: usage error" || show
like "$err" "notadir is not a directory; no file was written" "... saying so"
va show 00000000-0000-4000-8000-000000000000 --config "$TEST_TMP/none"
ok "an unknown VCM: refused" test "$rc" != 0
ok "... and no file written" test ! -e "$TEST_TMP/none/vcm-00000000-0000-4000-8000-000000000000.json"

rm -f "$first"
tenant A vcm enroll --config "$again" --esn "$ESN"
is "$rc" 0 "the tenant enrolls with the file issued again" || show
like "$out" "Enrolled VCM $U" "... the VCM"
done_testing
