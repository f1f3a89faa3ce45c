#!/bin/sh
# target.sh - kvpscan target set / list / import
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
sed 's/@src@/kvp_src/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql_q "INSERT INTO kvp_src.office (office_id, name, kommune_nr) VALUES ('0301', 'Nav A', '0301'), ('0302', 'Nav B', '0301')"
CONF=$T_SCRATCH/kvpscan.conf
printf 'log = { destination = "stderr"; };\n' >"$CONF"
k() { "$KVPSCAN" -c "$CONF" "$@"; }
tgt() { psql_q "SELECT office_id || ':' || period_start || ':' || period_end || ':' || target FROM kvpscan.target ORDER BY 1"; }

assert_status 0 "target --help" -- k target --help
assert_contains "$OUT" "office_id,year,target" "the help names the import header"
assert_status 0 "migrate" -- k migrate

assert_status 0 "set a year's target" -- k target set 0301 2024 32
assert_status 0 "set a month's target" -- k target set 0301 --month 2024-02 5 --note "vinterferie"
assert_status 0 "set a tertial's target" -- k target set 0302 --tertial 2024-T2 7
assert_eq "0301:2024-01-01:2024-12-31:32
0301:2024-02-01:2024-02-29:5
0302:2024-05-01:2024-08-31:7" "$(tgt)" "year, leap-year month and tertial T2 (May-August) bounds"
assert_status 0 "set the year's target again" -- k target set 0301 2024 30
assert_eq 30 "$(psql_q "SELECT target FROM kvpscan.target WHERE office_id = '0301' AND period_start = '2024-01-01' AND period_end = '2024-12-31'")" "a second set replaces the target"
assert_eq "vinterferie" "$(psql_q "SELECT note FROM kvpscan.target WHERE period_start = '2024-02-01'")" "the note is stored"

assert_status 2 "a negative target is a usage error" -- k target set 0301 2024 -3
assert_status 2 "a bad year is a usage error" -- k target set 0301 24 3
assert_status 2 "a bad tertial is a usage error" -- k target set 0301 --tertial 2024-T4 3
assert_status 2 "a bad month is a usage error" -- k target set 0301 --month 2024-13 3
assert_status 2 "an unknown office is refused" -- k target set 9999 2024 3
assert_contains "$OUT" "not in the source" "and says why"
assert_status 2 "missing arguments" -- k target set 0301 2024

assert_status 0 "list as a table" -- k target list
assert_contains "$OUT" "0302     2024-05-01 2024-08-31      7" "the table lists the tertial"
assert_status 0 "list as csv" -- k target list --format csv
assert_eq "office_id,period_start,period_end,target,note,updated_at" "$(printf '%s\n' "$OUT" | head -n 1)" "csv header"
assert_eq "0301,2024-02-01,2024-02-29,5,vinterferie" "$(printf '%s\n' "$OUT" | sed -n 3p | cut -d, -f1-5)" "csv row with its note"

# a bad file: every bad row named by its line; nothing imported
cat >"$T_SCRATCH/bad.csv" <<'CSV'
office_id,year,target
0301,2025,40
0302,25,4
0302,2025,-1
9999,2025,3

0301,2025,41
0302,2025
CSV
before=$(tgt)
assert_status 2 "a file with bad rows exits 2" -- k target import "$T_SCRATCH/bad.csv"
assert_contains "$OUT" "line 3: invalid year" "line 3: the year"
assert_contains "$OUT" "line 4: invalid target" "line 4: the negative target"
assert_contains "$OUT" "line 5: office \"9999\" is not in the source" "line 5: the unknown office"
assert_contains "$OUT" "line 7: office 0301, year 2025 is given twice" "line 7: the duplicate"
assert_contains "$OUT" "line 8: expected 3 fields" "line 8: the short row"
assert_contains "$OUT" "5 bad rows; nothing was imported" "the count of bad rows"
assert_not_contains "$OUT" "line 2:" "the good row is not reported"
assert_eq "$before" "$(tgt)" "nothing of a bad file is imported"

printf 'office_id,year\n0301,2025\n' >"$T_SCRATCH/header.csv"
assert_status 2 "a wrong header exits 2" -- k target import "$T_SCRATCH/header.csv"
assert_contains "$OUT" "line 1: the header must be office_id,year,target" "the header is named"
assert_status 2 "a missing file exits 2" -- k target import "$T_SCRATCH/none.csv"

printf 'office_id,year,target\r\n0301,2025,40\r\n"0302",2025,4\r\n0301,2024,33\r\n' >"$T_SCRATCH/good.csv"
assert_status 0 "a good file (CRLF, a quoted field) imports" -- k target import "$T_SCRATCH/good.csv"
assert_contains "$OUT" "imported 3 targets" "it says how many"
assert_eq "0301:2024-01-01:2024-12-31:33
0301:2024-02-01:2024-02-29:5
0301:2025-01-01:2025-12-31:40
0302:2024-05-01:2024-08-31:7
0302:2025-01-01:2025-12-31:4" "$(tgt)" "the file's years are stored, an existing year replaced"
finish
