#!/bin/sh
# dataquality.sh - "kvpscan data-quality": bad source rows by case_ref and code
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
sed 's/@src@/kvp_src/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql -X -q -v ON_ERROR_STOP=1 -f "$top_srcdir/tests/fixtures/scan_store.sql" >/dev/null
CONF=$T_SCRATCH/kvpscan.conf
printf 'log = { destination = "stderr"; };\n' >"$CONF"

assert_status 0 "data-quality exits 0" -- "$KVPSCAN" -c "$CONF" data-quality --as-of 2023-03-01
OUT=$("$KVPSCAN" -c "$CONF" data-quality --as-of 2023-03-01 2>/dev/null)
assert_eq "code,case_ref,rows
BIRTH_DATE_MISSING,DQ-NO-BIRTH,1
DUPLICATE_PAYMENT,DQ-PAYMENTS,1
FUTURE_EVENT,LIFE-A,1
FUTURE_EVENT,LIFE-B,2
FUTURE_PAYMENT,LIFE-A,2
FUTURE_PAYMENT,LIFE-B,2
NEGATIVE_AMOUNT,DQ-PAYMENTS,1
NO_OFFICE,DQ-NO-OFFICE,1
ORPHAN_PAYMENT,,2
UNKNOWN_EVENT,DQ-PAYMENTS,1
UNKNOWN_INNSATSGRUPPE,DQ-PAYMENTS,1
UNKNOWN_OFFICE,DQ-UNKNOWN-OFFICE,1
UNKNOWN_PAYMENT_KIND,DQ-PAYMENTS,1" "$OUT" "every problem by case_ref and code; orphan payments as a count"

OUT=$("$KVPSCAN" -c "$CONF" data-quality --as-of 2023-06-01 2>/dev/null)
assert_not_contains "$OUT" "FUTURE_" "nothing is in the future a month later"

OUT=$("$KVPSCAN" -c "$CONF" data-quality --as-of 2023-03-01 --format table 2>&1)
assert_contains "$OUT" "(no person)" "table: orphan payments have no person"
assert_contains "$OUT" "(13 lines, 17 source rows)" "table: totals"
assert_not_contains "$(printf '%s\n' "$OUT" | grep 'kvpscan: info')" "DQ-" "the log line holds counts, no case_ref"

printf 'log = { destination = "stderr"; };\nidentification = { payment_kinds = [ "LIVSOPPHOLD", "LOTTERI" ]; };\n' >"$T_SCRATCH/kinds.conf"
OUT=$("$KVPSCAN" -c "$T_SCRATCH/kinds.conf" data-quality --as-of 2023-03-01 2>/dev/null)
assert_not_contains "$OUT" "UNKNOWN_PAYMENT_KIND" "a configured payment kind is known"

assert_status 2 "a bad format exits 2" -- "$KVPSCAN" -c "$CONF" data-quality --format json
assert_status 2 "a bad date exits 2" -- "$KVPSCAN" -c "$CONF" data-quality --as-of tomorrow
assert_status 0 "data-quality --help" -- "$KVPSCAN" data-quality --help
finish
