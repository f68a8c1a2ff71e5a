#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every command of every tool, from the same tables the loader builds:
# --help exits 0 and lists each option the command accepts exactly once
# (in the usage line and in the options list) and no option it does not
# accept; an unknown option is a usage error (exit 2) that names the word.
. "$top_srcdir/tests/lib/common.sh"
[ -n "${BUILT_PLUGINS:-}" ] || skip_all "no plugin built"

run hsmadmin completion bash
ok "completion bash lists the command tables" test "$rc" = 0
# Each table line is 'TOOL|COMMAND PATH|OPTIONS|...
tables=$(printf '%s\n' "$out" | grep -o "'[a-z]*|[^|']*|[^|']*|" | tr -d "'")
ok "more than a handful of commands are configured" test "$(printf '%s\n' "$tables" | wc -l)" -gt 20

sorted() { tr ' ' '\n' | grep -v '^$' | sort | tr '\n' ' '; }
while IFS='|' read -r tool path opts _; do
	[ -n "$tool" ] || continue
	# A tool of its own (enquiry) is its one command: no command word.
	if [ "$tool" = "$path" ]; then
		ln -sf "$HSMADMIN_BIN" "$TEST_TMP/bin/$tool"
		path=
	fi
	name="$tool${path:+ $path}"
	# shellcheck disable=SC2086 # the path is words
	run "$tool" $path --help
	if [ "$rc" != 0 ]; then
		rc_is 0 "$name --help exits 0"
		continue
	fi
	want=$(printf '%s' "$opts" | sorted)
	listed=$(printf '%s\n' "$out" | sed -n 's/^  \(-[A-Za-z], \)\{0,1\}\(--[a-z0-9-]*\).*/\2/p' | sorted)
	usage=$(printf '%s\n' "$out" | head -1 | grep -o -- '--[a-z0-9-]*' | sorted)
	is "$listed" "$want" "$name --help lists each option it accepts once"
	is "$usage" "$(printf '%s' "$want" | tr ' ' '\n' | grep -vx -- --help | sorted)" \
		"$name: the usage line names the same options"
	is "$(printf '%s\n' "$out" | grep -c '^  -h, --help')" 1 "$name --help lists -h once"
	# shellcheck disable=SC2086
	run "$tool" $path --no-such-option
	rc_is 2 "$name --no-such-option is a usage error"
	like "$err" "--no-such-option" "$name: the usage error names the word"
done <<<"$tables"
done_testing
