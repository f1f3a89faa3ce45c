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
PGHOST=$T_SCRATCH PGPORT=1 PGCONNECT_TIMEOUT=2 \
	assert_status 1 "an unreachable database is a runtime failure" -- "$KVPSCAN" migrate
assert_contains "$OUT" "could not connect" "the connection failure is reported"

finish
