#!/bin/sh
# output_full.sh - every command that writes to standard output fails (exit 1,
# an error on stderr) when its output cannot be written: > /dev/full
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

if [ ! -w /dev/full ]; then echo "output_full.sh: no /dev/full; skipped"; exit 77; fi
pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
CONF=$T_SCRATCH/k.conf
printf 'log = { destination = "stderr"; };\ndelivery = { channel = "spool"; };\nspool = { directory = "%s"; };\n' \
	"$T_SCRATCH/spool" >"$CONF"
mkdir -p "$T_SCRATCH/spool"
k() { "$KVPSCAN" -c "$CONF" "$@"; }
assert_status 0 "migrate" -- k migrate
assert_status 0 "demo data" -- k demo-data --persons 200 --seed 3 --as-of 2025-06-15
assert_status 0 "a stored scan" -- k scan --as-of 2025-06-15
assert_status 0 "a target" -- k target set 0315 2025 12
CASE=$(psql_q "SELECT case_ref FROM kvp_src.person ORDER BY case_ref LIMIT 1")

# full CMD...: run CMD with stdout on /dev/full; expect exit 1 and the error
full() {
	OUT=$("$@" 2>&1 >/dev/full)
	rc=$?
	if [ "$rc" = 1 ]; then ok "> /dev/full fails: $*"; else
		not_ok "> /dev/full fails: $*" "exit status $rc, expected 1; stderr:
$OUT"
	fi
	assert_contains "$OUT" "could not write to standard output" "the error says so: $*"
}
full "$KVPSCAN" --version
full "$KVPSCAN" --help
full k check-config
full k check-config --dump
full k check-config --keys
full k scan --help
full k scan --dry-run --as-of 2025-06-15
full k scan --dry-run --as-of 2025-06-15 --format json
full k scan --dry-run --as-of 2025-06-15 --format table
full k explain --as-of 2025-06-15 "$CASE"
full k data-quality --as-of 2025-06-15
full k data-quality --as-of 2025-06-15 --format table
full k migrate --status
full k outbox
full k target list
for f in table csv json html; do full k report --format $f; done
full k status
full k audit --from 2025-06-01 --to 2025-06-30
full k audit --from 2025-06-01 --to 2025-06-30 --format json
# and each of them writes normally to a file
assert_status 0 "check-config --dump to a file succeeds" -- sh -c "'$KVPSCAN' -c '$CONF' check-config --dump >'$T_SCRATCH/dump'"
[ -s "$T_SCRATCH/dump" ] && ok "the dump was written" || not_ok "the dump was written"
finish
