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

# ASSESSMENT_CONFLICT: the latest day's decisions disagree (source contract, assessment section)
psql_q "INSERT INTO kvp_src.person VALUES ('P-DQC', 'DQ-CONFLICT', '1980-01-01', '0301', 'Z1', NULL);
	INSERT INTO kvp_src.assessment VALUES ('P-DQC', '2022-09-01', 'VEDTAK_14A', 'SITUASJONSBESTEMT_INNSATS'),
		('P-DQC', '2022-09-01', 'VEDTAK_14A', 'SPESIELT_TILPASSET_INNSATS'),
		('P-DQC', '2022-09-01', 'AEV', 'STANDARD_INNSATS'),
		('P-DQC', '2021-09-01', 'VEDTAK_14A', 'VARIG_TILPASSET_INNSATS');
	INSERT INTO kvp_src.person VALUES ('P-DQT', 'DQ-TIE-ONLY', '1980-01-01', '0301', 'Z1', NULL);
	INSERT INTO kvp_src.assessment VALUES ('P-DQT', '2022-09-01', 'VEDTAK_14A', 'STANDARD_INNSATS'),
		('P-DQT', '2022-09-01', 'AEV', 'SPESIELT_TILPASSET_INNSATS')" >/dev/null
OUT=$("$KVPSCAN" -c "$CONF" data-quality --as-of 2023-03-01 2>/dev/null)
assert_contains "$OUT" "ASSESSMENT_CONFLICT,DQ-CONFLICT,2" "data-quality lists the conflict with its two rows"
assert_not_contains "$OUT" "DQ-TIE-ONLY" "a decision beside an AEV on one day is the tie rule, not a conflict"
OUT=$("$KVPSCAN" -c "$CONF" data-quality --as-of 2022-08-31 2>/dev/null)
assert_not_contains "$OUT" "ASSESSMENT_CONFLICT" "as of the day before, there is no conflict"
OUT=$("$KVPSCAN" -c "$CONF" scan --dry-run --as-of 2023-03-01 2>/dev/null)
assert_contains "$OUT" "DQ-CONFLICT,0301,Z1,SPECIAL_NEEDS," "the conflict with SPESIELT among it makes the person SPECIAL_NEEDS"
assert_status 0 "explain the conflict" -- "$KVPSCAN" -c "$CONF" explain --as-of 2023-03-01 DQ-CONFLICT
assert_contains "$OUT" "SPESIELT_TILPASSET_INNSATS         current innsatsgruppe, in conflict (ASSESSMENT_CONFLICT)" \
	"explain marks the conflicting rows"
assert_contains "$OUT" "ASSESSMENT_CONFLICT: the latest day's rows disagree" "explain explains the conflict"
assert_contains "$OUT" "STANDARD_INNSATS                   replaced" "explain: the losing AEV of that day is replaced"
assert_status 0 "migrate" -- "$KVPSCAN" -c "$CONF" migrate
assert_status 0 "a stored scan" -- "$KVPSCAN" -c "$CONF" scan --as-of 2023-03-01
assert_eq "2|1" "$(psql_q "SELECT rows || '|' || persons FROM kvpscan.run_data_quality WHERE code = 'ASSESSMENT_CONFLICT'")" \
	"the run counts the conflict (rows and persons)"

# DUPLICATE_PAYMENT: payments.sql only marks who may have identical rows (a month
# and class of kind shared by two rows, or a row 16 months or more after the
# window's first month) and duplicates.sql groups only those by whole rows; the
# counts must equal a plain grouping of every row in the window, person by person
psql_q "INSERT INTO kvp_src.person VALUES
		('P-DUP1', 'DUP-FAR', '1980-01-01', '0301', 'Z1', NULL),
		('P-DUP2', 'DUP-NEAR', '1980-01-01', '0301', 'Z1', NULL),
		('', 'DUP-EMPTY-ID', '1980-01-01', '0301', 'Z1', NULL);
	INSERT INTO kvp_src.payment VALUES
		-- identical rows two years after D: beyond the pre-check's 16 months
		('P-DUP1', '2025-03-01', 100, 'LIVSOPPHOLD'), ('P-DUP1', '2025-03-01', 100, 'LIVSOPPHOLD'),
		('P-DUP1', '2023-01-01', 100, 'LIVSOPPHOLD'),
		-- one month and kind, different amounts or days: not identical
		('P-DUP2', '2023-01-01', 100, 'BOUTGIFTER'), ('P-DUP2', '2023-01-01', 200, 'BOUTGIFTER'),
		('P-DUP2', '2023-01-15', 100, 'BOUTGIFTER'),
		-- an unknown kind as long as LIVSOPPHOLD (one class), NULL kind, NULL amount
		('P-DUP2', '2023-02-01', 100, 'LIVSOPPHOLD'), ('P-DUP2', '2023-02-01', 100, 'LOTTERIXXXX'),
		('P-DUP2', '2023-02-01', 50, NULL), ('P-DUP2', '2023-02-01', 50, NULL),
		('P-DUP2', '2023-02-01', NULL, 'ANNET'), ('P-DUP2', '2023-02-01', NULL, 'ANNET'),
		('P-DUP2', '2023-02-01', NULL, 'ANNET'),
		-- the rows of nobody and a person_id '' share the pre-check's key, not the count
		(NULL, '2023-01-01', 70, 'ANNET'), (NULL, '2023-01-01', 70, 'ANNET'),
		('', '2023-01-01', 70, 'ANNET'), ('', '2023-01-01', 80, 'ANNET')" >/dev/null
expected_dups() {	# expected_dups DATE: "case_ref rows" per person with identical payment rows in the window
	# (the rows of nobody are ORPHAN_PAYMENT only)
	psql_q "SELECT p.case_ref || ' ' || sum(d.n - 1)
		  FROM (SELECT person_id, count(*) AS n FROM kvp_src.payment
			 WHERE period_month >= date_trunc('month', date '$1') - interval '11 months'
			 GROUP BY person_id, period_month, amount, kind HAVING count(*) > 1) d
		  JOIN kvp_src.person p ON p.person_id = d.person_id
		 GROUP BY p.case_ref ORDER BY 1"
}
stored_dups() {	# stored_dups DATE: the same from a stored run as of DATE
	"$KVPSCAN" -c "$CONF" scan --as-of "$1" >/dev/null 2>&1 || echo "scan failed"
	psql_q "SELECT rows FROM kvpscan.run_data_quality q JOIN kvpscan.run r USING (run_id)
		 WHERE r.as_of = '$1' AND q.code = 'DUPLICATE_PAYMENT'"
}
for d in 2023-03-02 2023-09-30 2024-02-29; do	# dates no run was stored for
	OUT=$("$KVPSCAN" -c "$CONF" data-quality --as-of "$d" 2>/dev/null | awk -F, '$1 == "DUPLICATE_PAYMENT" { print $2 " " $3 }' | sort)
	assert_eq "$(expected_dups "$d")" "$OUT" "as of $d: duplicate payment rows per person equal a grouping of every row"
	assert_eq "$(expected_dups "$d" | awk '{ n += $NF } END { print n + 0 }')" "$(stored_dups "$d")" \
		"as of $d: the stored run counts the same duplicate rows"
done

assert_status 2 "a bad format exits 2" -- "$KVPSCAN" -c "$CONF" data-quality --format json
assert_status 2 "a bad date exits 2" -- "$KVPSCAN" -c "$CONF" data-quality --as-of tomorrow
assert_status 0 "data-quality --help" -- "$KVPSCAN" data-quality --help
finish
