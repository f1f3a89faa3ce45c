#!/bin/sh
# cli.sh - the command line: help, version, exit codes, logging destination
. "$top_srcdir/tests/lib/common.sh"

assert_status 0 "--version exits 0" -- "$KVPSCAN" --version
assert_contains "$OUT" "kvpscan " "--version prints the name and version"

assert_status 0 "--help exits 0" -- "$KVPSCAN" --help
for c in check-config migrate demo-data scan explain data-quality deliver outbox redeliver test-delivery audit; do
	assert_contains "$OUT" "$c" "--help lists $c"
done

assert_status 2 "no command is a usage error" -- "$KVPSCAN"
assert_status 2 "an unknown command is a usage error" -- "$KVPSCAN" frobnicate
assert_contains "$OUT" 'unknown command "frobnicate"' "unknown command is named"
assert_contains "$OUT" "HINT" "unknown command gives a hint"

for c in check-config migrate demo-data scan explain data-quality deliver outbox redeliver test-delivery audit; do
	assert_status 0 "$c --help exits 0" -- "$KVPSCAN" "$c" --help
	assert_contains "$OUT" "Usage" "$c --help prints a usage line"
done

assert_status 2 "-c without a file is a usage error" -- "$KVPSCAN" check-config -c
assert_status 2 "a missing config file refuses to start" -- "$KVPSCAN" -c /nonexistent/kvpscan.conf check-config
assert_contains "$OUT" "/nonexistent/kvpscan.conf" "the error names the file"

# global options may stand after the command
assert_status 0 "-V after the command" -- "$KVPSCAN" scan -V

# with no database reachable a command fails at run time (1), not as usage (2)
scratch_dir
# one check of --format for every command that has it (cmd_choice): exit 2 before
# any connection, the value named, the choices in the hint
while IFS='|' read -r cmd hint; do
	# shellcheck disable=SC2086
	assert_status 2 "$cmd --format bogus is a usage error" -- "$KVPSCAN" $cmd --format bogus
	assert_contains "$OUT" 'invalid value for --format: "bogus"' "$cmd: the bad value is named"
	assert_contains "$OUT" "HINT:  use $hint" "$cmd: the hint lists $hint"
done <<'EOF2'
scan --dry-run|csv, json or table
audit --from 2024-01-01 --to 2024-01-31|csv or json
check-source|text or json
report|table, csv, json or html
data-quality|csv or table
history X|text or json
status|table or json
target list|table or csv
EOF2

PGHOST=$T_SCRATCH PGPORT=1 PGCONNECT_TIMEOUT=2 \
	assert_status 1 "an unreachable database is a runtime failure" -- "$KVPSCAN" migrate
assert_contains "$OUT" "could not connect" "the connection failure is reported"

finish
