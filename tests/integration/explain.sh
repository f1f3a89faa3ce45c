#!/bin/sh
# explain.sh - "kvpscan explain": the facts behind one case
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
sed 's/@src@/kvp_src/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql -X -q -v ON_ERROR_STOP=1 -f "$top_srcdir/tests/fixtures/scan_rules.sql" >/dev/null
CONF=$T_SCRATCH/kvpscan.conf
printf 'log = { destination = "stderr"; };\n' >"$CONF"
ex() { "$KVPSCAN" -c "$CONF" explain "$@" --as-of 2023-03-01; }

assert_status 0 "explain a flagged case" -- ex WINDOW-FIRST-MONTH
assert_contains "$OUT" "age 39 on 2023-03-01: in working age" "age and working age"
assert_contains "$OUT" "months counted (5): 2022-04 2022-11 2022-12 2023-01 2023-02" "the months that counted"
assert_contains "$OUT" "flags:      NOT_INFORMED+NOT_ASSESSED+AEV_MISSING" "the flags"
assert_contains "$OUT" "worklist:   veileder Z1 at office 0301" "routing to the veileder"

assert_status 0 "explain a case outside the window" -- ex WINDOW-13-MONTHS-AGO
assert_contains "$OUT" "ignored: 2022-03 1000 kr LIVSOPPHOLD: outside the window" "a payment outside the window"
assert_contains "$OUT" "not in scope: neither LONG_TERM nor SPECIAL_NEEDS" "why it is not in scope"

assert_status 0 "explain ignored payments" -- ex NEGATIVE-AMOUNT
assert_contains "$OUT" "-1000 kr LIVSOPPHOLD: zero or negative" "a negative amount"
assert_status 0 "explain a payment after D's month" -- ex WINDOW-NEXT-MONTH
assert_contains "$OUT" "2023-04 1000 kr LIVSOPPHOLD: after D" "a payment after D"

assert_status 0 "explain the tie rule" -- ex SN-TIE-VEDTAK-WINS
assert_contains "$OUT" "VEDTAK_14A SPESIELT_TILPASSET_INNSATS         current innsatsgruppe" "the current innsatsgruppe with date and kind"
assert_contains "$OUT" "AEV        STANDARD_INNSATS                   replaced" "the losing AEV"
assert_contains "$OUT" "reasons:    SPECIAL_NEEDS" "the reason"

assert_status 0 "explain events" -- ex INFORMED-366-DAYS
assert_contains "$OUT" "2022-02-28 INFORMED" "the event is listed"
assert_contains "$OUT" "older than 365 days" "and why it does not count"
assert_status 0 "explain an event after D" -- ex INFORMED-AFTER-D
assert_contains "$OUT" "after D, ignored" "an event after D is ignored"

# kvp_documented is a view with explain's person_id written in as a literal
# (db_inline_params): an id with a quote, a "$1" and a "--" in it stays one literal
psql_q "INSERT INTO kvp_src.person VALUES ('P-O''Hara \$1 -- x', 'QUOTED-ID', '1983-05-05', '0301', 'Z1', NULL);
	INSERT INTO kvp_src.payment SELECT 'P-O''Hara \$1 -- x', (date '2023-02-01' - make_interval(months => i))::date,
		1000, 'LIVSOPPHOLD' FROM generate_series(0, 4) i;
	INSERT INTO kvp_src.kvp_event VALUES ('P-O''Hara \$1 -- x', '2023-01-10', 'INFORMED', NULL, 'Z1')" >/dev/null
assert_status 0 "explain a person_id with a quote, \$1 and --" -- ex QUOTED-ID
assert_contains "$OUT" "2023-01-10 INFORMED" "its event is listed"
assert_contains "$OUT" "flags:      NOT_ASSESSED+AEV_MISSING" "and documents its duty: NOT_INFORMED is not flagged"
OUT=$("$KVPSCAN" -c "$CONF" scan --dry-run --as-of 2023-03-01 2>/dev/null)
assert_contains "$OUT" "QUOTED-ID,0301,Z1,LONG_TERM,NOT_ASSESSED+AEV_MISSING,5" "the dry run agrees"

assert_status 0 "explain a benefit" -- ex AAP-ENDS-ON-D
assert_contains "$OUT" "AAP              2020-01-01 to 2023-03-01: running on D, excluding" "the benefit running on D"
assert_contains "$OUT" "exclusions: EXCLUDED_BENEFIT" "the exclusion code"
assert_contains "$OUT" "excluded: not a candidate" "and its consequence"

assert_status 0 "explain a participation" -- ex PART-ENDS-ON-D
assert_contains "$OUT" "2021-03-02 to 2023-03-01: active on D" "the participation"
assert_contains "$OUT" "exclusions: IN_PROGRAMME" "IN_PROGRAMME"

assert_status 0 "explain fallback routing" -- ex VEIL-UNKNOWN
assert_contains "$OUT" "office 0301 fallback (the veileder is not in the veileder table)" "unknown veileder: fallback"
assert_status 0 "explain an inactive veileder" -- ex VEIL-INACTIVE
assert_contains "$OUT" "fallback (the veileder is not active)" "inactive veileder: fallback"
assert_status 0 "explain age" -- ex AGE-67-TODAY
assert_contains "$OUT" "age 67 on 2023-03-01: NOT in working age" "67 is out of working age"
assert_contains "$OUT" "not in scope: not in working age" "and therefore not in scope"
assert_status 0 "explain a missing birth date" -- ex AGE-NO-BIRTH-DATE
assert_contains "$OUT" "birth date missing" "a missing birth date"

assert_status 1 "an unknown case_ref exits 1" -- ex NO-SUCH-CASE
assert_contains "$OUT" "no person with case_ref" "with a clear message"
assert_status 2 "explain needs a case_ref" -- "$KVPSCAN" -c "$CONF" explain
assert_status 2 "explain rejects a bad date" -- "$KVPSCAN" -c "$CONF" explain MONTHS-5 --as-of 2023-13-01
assert_status 0 "explain --help" -- "$KVPSCAN" explain --help
assert_contains "$OUT" "CASE_REF" "help shows the argument"
finish
