#!/bin/sh
# check_source.sh - "kvpscan check-source": each way a mapping breaks the
# contract gives its exit status and message, in text and JSON, and a stored
# scan (scan, run) refuses a broken contract with the same message.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
conf() {	# conf SCHEMA: $T_SCRATCH/SCHEMA.conf reads SCHEMA
	printf 'log = { destination = "stderr"; };\ndatabase = { source_schema = "%s"; };\n' "$1" >"$T_SCRATCH/$1.conf"
}
views() {	# views SCHEMA: the eight contract relations as views over kvp_contract's tables
	local r
	psql_q "CREATE SCHEMA $1" >/dev/null
	for r in office veileder person payment assessment benefit kvp_event participation; do
		psql_q "CREATE VIEW $1.$r AS SELECT * FROM kvp_contract.$r" >/dev/null
	done
	conf "$1"
}
check() {	# check SCHEMA [OPTIONS]: check-source in text; output in $OUT, status in $RC
	local s=$1
	shift
	OUT=$("$KVPSCAN" -c "$T_SCRATCH/$s.conf" check-source "$@" 2>&1)
	RC=$?
}
jget() {	# jget SCHEMA PYTHON-EXPRESSION-OF-d: a value of check-source's JSON
	"$KVPSCAN" -c "$T_SCRATCH/$1.conf" check-source --format json 2>/dev/null \
		| python3 -c "import json, sys; d = json.load(sys.stdin); print($2)"
}
problem() {	# problem SCHEMA CODE: "severity|relation|column|count" of the first problem with CODE
	jget "$1" "next(('%s|%s|%s|%s' % (p['severity'], p['relation'], p['column'], p['count'])) for p in d['problems'] if p['code'] == '$2')"
}

conf kvp_contract
assert_status 0 "demo data" -- "$KVPSCAN" -c "$T_SCRATCH/kvp_contract.conf" demo-data --as-of 2025-06-15 --persons 300 --seed 3
assert_status 0 "migrate" -- "$KVPSCAN" -c "$T_SCRATCH/kvp_contract.conf" migrate

# the contract tables themselves: clean, volumes and date ranges shown
check kvp_contract
assert_eq 0 "$RC" "check-source on the demo tables exits 0"
assert_contains "$OUT" "contract ok: 0 errors" "no error on the demo tables"
assert_contains "$OUT" "$(printf '%-15s %-18s %12s' person table 300)" "the table shows the rows of person"
assert_contains "$OUT" "period_month 20" "the table shows the payments' date range"
assert_eq "ok-or-warnings 0 300 True" "$(jget kvp_contract "('ok-or-warnings' if d['status'] in ('ok', 'warnings') else d['status']), d['errors'], [r['rows'] for r in d['relations'] if r['relation'] == 'person'][0], all(r['kind'] == 'table' and r['readable'] for r in d['relations'])")" \
	"JSON: status, errors, rows, every relation a readable table"
assert_eq "$(psql_q "SELECT min(period_month) || ' ' || max(period_month) FROM kvp_contract.payment")" \
	"$(jget kvp_contract "' '.join([(r['from'] + ' ' + r['to']) for r in d['relations'] if r['relation'] == 'payment'])")" \
	"JSON: the payments' date range is the table's"

# no such schema
conf nosuch
check nosuch
assert_eq 1 "$RC" "a missing source schema exits 1"
assert_contains "$OUT" 'ERROR:  source schema "nosuch" does not exist' "a missing source schema is named"

# 1. a missing relation
views m_rel
psql_q "DROP VIEW m_rel.participation" >/dev/null
check m_rel
assert_eq 1 "$RC" "a missing relation exits 1"
MSG='relation "m_rel.participation" does not exist'
assert_contains "$OUT" "ERROR:  $MSG" "a missing relation is named"
assert_contains "$OUT" "DETAIL:  the source contract needs participation with the columns person_id text, start_date date" \
	"the detail lists the columns the relation needs"
assert_eq "broken|error|participation|None" "$(jget m_rel "d['status']")|$(problem m_rel MISSING_RELATION | cut -d'|' -f1-3)" \
	"JSON: broken, MISSING_RELATION of participation"
assert_eq "$MSG" "$(jget m_rel "[p['message'] for p in d['problems'] if p['code'] == 'MISSING_RELATION'][0]")" \
	"JSON carries the same message"
assert_status 1 "scan refuses a missing relation" -- "$KVPSCAN" -c "$T_SCRATCH/m_rel.conf" scan --as-of 2025-06-15
assert_contains "$OUT" "kvpscan: error: $MSG" "scan says the same message"
assert_contains "$OUT" 'the source schema "m_rel" breaks the source contract: 1 problem; nothing is scanned' \
	"scan says it scanned nothing"
assert_eq "0|1" "$(psql_q "SELECT count(*) FILTER (WHERE status = 'succeeded') || '|' || count(*) FILTER (WHERE status = 'failed') FROM kvpscan.run")" \
	"nothing stored, the failed run recorded"
assert_status 1 "run refuses a missing relation" -- "$KVPSCAN" -c "$T_SCRATCH/m_rel.conf" run --as-of 2025-06-15
assert_contains "$OUT" "kvpscan: error: $MSG" "run says the same message"

# 2. a missing column
views m_col
psql_q "CREATE OR REPLACE VIEW m_col.person AS SELECT person_id, case_ref FROM kvp_contract.person" >/dev/null 2>&1 \
	|| psql_q "DROP VIEW m_col.person; CREATE VIEW m_col.person AS SELECT person_id, case_ref, office_id, veileder_id, protection FROM kvp_contract.person" >/dev/null
check m_col
assert_eq 1 "$RC" "a missing column exits 1"
assert_contains "$OUT" 'ERROR:  column "m_col.person.birth_date" does not exist' "a missing column is named"
assert_eq "error|person|birth_date|None" "$(problem m_col MISSING_COLUMN)" "JSON: MISSING_COLUMN person.birth_date"
assert_eq "date" "$(jget m_col "[p['type_expected'] for p in d['problems'] if p['code'] == 'MISSING_COLUMN'][0]")" \
	"JSON: the type expected"

# 3. a date as a timestamp
views m_ts
psql_q "DROP VIEW m_ts.payment; CREATE VIEW m_ts.payment AS SELECT person_id, period_month::timestamp AS period_month, amount, kind FROM kvp_contract.payment" >/dev/null
check m_ts
MSG='column "m_ts.payment.period_month" has type timestamp without time zone, expected date'
assert_eq 1 "$RC" "a timestamp where the contract has a date exits 1"
assert_contains "$OUT" "ERROR:  $MSG" "relation, column, type found and type expected"
assert_contains "$OUT" "HINT:  cast it in the view: x::date AS period_month" "the hint says how to cast"
assert_eq "timestamp without time zone|date" "$(jget m_ts "[p['type_found'] + '|' + p['type_expected'] for p in d['problems'] if p['code'] == 'UNUSABLE_TYPE'][0]")" \
	"JSON: type found and expected"
assert_status 1 "scan refuses a timestamp column" -- "$KVPSCAN" -c "$T_SCRATCH/m_ts.conf" scan --as-of 2025-06-15
assert_contains "$OUT" "kvpscan: error: $MSG" "scan says the same message"
psql_q "DROP VIEW m_ts.payment; CREATE VIEW m_ts.payment AS SELECT person_id, period_month, amount::int AS amount, kind::varchar(20) AS kind FROM kvp_contract.payment" >/dev/null
check m_ts
assert_eq 0 "$RC" "an integer amount and a varchar kind are usable"
psql_q "DROP VIEW m_ts.payment; CREATE VIEW m_ts.payment AS SELECT person_id, period_month, amount::text AS amount, kind FROM kvp_contract.payment" >/dev/null
check m_ts
assert_contains "$OUT" 'column "m_ts.payment.amount" has type text, expected numeric' "a text amount is not usable"

# 4. codes in the vendor's spelling: a warning with a count, exit 0
views m_code
psql_q "DROP VIEW m_code.assessment; CREATE VIEW m_code.assessment AS SELECT person_id, assessed_on, kind,
	CASE innsatsgruppe WHEN 'SPESIELT_TILPASSET_INNSATS' THEN 'SPES_TILP' ELSE innsatsgruppe END AS innsatsgruppe
	FROM kvp_contract.assessment" >/dev/null
N=$(psql_q "SELECT count(*) FROM kvp_contract.assessment WHERE innsatsgruppe = 'SPESIELT_TILPASSET_INNSATS'")
check m_code
assert_eq 0 "$RC" "codes outside the contract are warnings (exit 0)"
assert_contains "$OUT" "WARNING:  assessment.innsatsgruppe: $N rows say 'SPES_TILP', not a contract code" \
	"the rows of each unknown code are counted"
assert_contains "$OUT" "HINT:  translate the case system's codes in the view" "with a hint"
assert_eq "warning|assessment|innsatsgruppe|$N|SPES_TILP" \
	"$(problem m_code UNKNOWN_CODE)|$(jget m_code "[p['value'] for p in d['problems'] if p['code'] == 'UNKNOWN_CODE' and p['column'] == 'innsatsgruppe'][0]")" \
	"JSON: UNKNOWN_CODE with the value and its count"
assert_eq "warnings" "$(jget m_code "d['status']")" "JSON: status warnings"
assert_status 0 "scan runs with unknown codes" -- "$KVPSCAN" -c "$T_SCRATCH/m_code.conf" scan --as-of 2025-06-15

# 5. a duplicate case_ref: exit 1, the case_ref shown, never a person_id
views m_dup
psql_q "DROP VIEW m_dup.person; CREATE VIEW m_dup.person AS SELECT person_id,
	CASE WHEN person_id IN (SELECT person_id FROM kvp_contract.person ORDER BY person_id LIMIT 2)
	     THEN 'S-DUPLIKAT' ELSE case_ref END AS case_ref, birth_date, office_id, veileder_id, protection
	FROM kvp_contract.person" >/dev/null
check m_dup
assert_eq 1 "$RC" "a duplicate case_ref exits 1"
assert_contains "$OUT" "ERROR:  person.case_ref is not unique: 1 value occurs in more than one row (2 rows)" \
	"the duplicates are counted"
assert_contains "$OUT" "DETAIL:  repeated case_refs: S-DUPLIKAT" "the example case_ref is shown"
assert_eq "error|person|case_ref|1 ['S-DUPLIKAT']" "$(problem m_dup DUPLICATE_KEY) $(jget m_dup "[p['examples'] for p in d['problems'] if p['code'] == 'DUPLICATE_KEY'][0]")" \
	"JSON: DUPLICATE_KEY with its examples"
PIDS=$(psql_q "SELECT person_id FROM kvp_contract.person ORDER BY person_id LIMIT 2")
ALL="$OUT$("$KVPSCAN" -c "$T_SCRATCH/m_dup.conf" check-source --format json 2>&1)"
for pid in $PIDS; do assert_not_contains "$ALL" "$pid" "no person_id in text or JSON"; done
check m_dup --examples 0
assert_not_contains "$OUT" "S-DUPLIKAT" "--examples 0 shows no case_ref"
psql_q "DROP VIEW m_dup.person; CREATE VIEW m_dup.person AS SELECT * FROM kvp_contract.person
	UNION ALL SELECT * FROM kvp_contract.person WHERE case_ref IN (SELECT case_ref FROM kvp_contract.person ORDER BY case_ref LIMIT 3)" >/dev/null
check m_dup --examples 2
assert_contains "$OUT" "ERROR:  person.person_id is not unique: 3 values occur in more than one row (6 rows)" \
	"a person twice: person_id is not unique"
assert_contains "$OUT" "DETAIL:  case_refs of rows with a repeated person_id: $(psql_q "SELECT string_agg(case_ref, ', ' ORDER BY case_ref) FROM (SELECT case_ref FROM kvp_contract.person ORDER BY case_ref COLLATE \"C\" LIMIT 2) s")" \
	"its examples are case_refs, at most --examples of them"

# 6. a dangling office_id: a warning with the count
views m_ref
psql_q "DROP VIEW m_ref.person; CREATE VIEW m_ref.person AS SELECT person_id, case_ref, birth_date,
	CASE office_id WHEN '0312' THEN '9312' ELSE office_id END AS office_id, veileder_id, protection FROM kvp_contract.person" >/dev/null
N=$(psql_q "SELECT count(*) FROM kvp_contract.person WHERE office_id = '0312'")
check m_ref
assert_eq 0 "$RC" "a dangling office_id is a warning (exit 0)"
assert_contains "$OUT" "WARNING:  person.office_id: $N rows name an office not in office" "dangling office_ids are counted"
assert_eq "warning|person|office_id|$N" "$(problem m_ref DANGLING_REFERENCE)" "JSON: DANGLING_REFERENCE"
assert_contains "$OUT" "WARNING:  payment.person_id: $(psql_q "SELECT count(*) FROM kvp_contract.payment g WHERE NOT EXISTS (SELECT 1 FROM kvp_contract.person p WHERE p.person_id = g.person_id)") row" \
	"payments of unknown persons are counted"

# 7. no SELECT privilege for kvpscan's role
views m_priv
psql_q "CREATE ROLE kvp_ro LOGIN; GRANT USAGE ON SCHEMA m_priv TO kvp_ro; GRANT SELECT ON ALL TABLES IN SCHEMA m_priv TO kvp_ro;
	REVOKE SELECT ON m_priv.person FROM kvp_ro; GRANT USAGE ON SCHEMA kvpscan TO kvp_ro;
	GRANT ALL ON ALL TABLES IN SCHEMA kvpscan TO kvp_ro; GRANT ALL ON ALL SEQUENCES IN SCHEMA kvpscan TO kvp_ro" >/dev/null
MSG='permission denied for relation "m_priv.person"'
OUT=$(PGUSER=kvp_ro "$KVPSCAN" -c "$T_SCRATCH/m_priv.conf" check-source 2>&1); RC=$?
assert_eq 1 "$RC" "no SELECT privilege exits 1"
assert_contains "$OUT" "ERROR:  $MSG" "the relation is named"
assert_contains "$OUT" 'DETAIL:  role "kvp_ro" has no SELECT privilege on it' "the role is named"
assert_contains "$OUT" 'HINT:  GRANT SELECT ON "m_priv".person TO "kvp_ro"' "the hint has the GRANT"
assert_eq "error|person|None|None" "$(PGUSER=kvp_ro "$KVPSCAN" -c "$T_SCRATCH/m_priv.conf" check-source --format json 2>/dev/null \
	| python3 -c "import json, sys; d = json.load(sys.stdin); print(next('%s|%s|%s|%s' % (p['severity'], p['relation'], p['column'], p['count']) for p in d['problems'] if p['code'] == 'NO_PRIVILEGE'))")" \
	"JSON: NO_PRIVILEGE on person"
OUT=$(PGUSER=kvp_ro "$KVPSCAN" -c "$T_SCRATCH/m_priv.conf" scan --as-of 2025-06-15 2>&1); RC=$?
assert_eq 1 "$RC" "scan refuses without the privilege"
assert_contains "$OUT" "kvpscan: error: $MSG" "scan says the same message"
psql_q "REVOKE USAGE ON SCHEMA m_priv FROM kvp_ro" >/dev/null
OUT=$(PGUSER=kvp_ro "$KVPSCAN" -c "$T_SCRATCH/m_priv.conf" check-source 2>&1)
assert_contains "$OUT" 'ERROR:  permission denied for source schema "m_priv"' "no USAGE on the schema is said"
# a view whose owner cannot read its table: the catalog is fine, reading is not
psql_q "CREATE ROLE kvp_owner; GRANT USAGE, CREATE ON SCHEMA m_priv TO kvp_owner; GRANT USAGE ON SCHEMA kvp_contract TO kvp_owner;
	DROP VIEW m_priv.benefit; SET ROLE kvp_owner; CREATE VIEW m_priv.benefit AS SELECT * FROM kvp_contract.benefit; RESET ROLE" >/dev/null
check m_priv
assert_eq 1 "$RC" "a view that cannot read its table exits 1"
assert_contains "$OUT" 'ERROR:  could not read relation "m_priv.benefit"' "the view that cannot be read is named"
assert_contains "$OUT" "permission denied for table benefit (SQLSTATE 42501)" "with the server's reason"

# usage
assert_status 2 "an unknown format exits 2" -- "$KVPSCAN" -c "$T_SCRATCH/kvp_contract.conf" check-source --format xml
assert_status 2 "--examples out of range exits 2" -- "$KVPSCAN" -c "$T_SCRATCH/kvp_contract.conf" check-source --examples 101
assert_status 2 "an extra argument exits 2" -- "$KVPSCAN" -c "$T_SCRATCH/kvp_contract.conf" check-source extra
assert_status 0 "check-source --help" -- "$KVPSCAN" check-source --help
assert_contains "$OUT" "Usage: kvpscan check-source" "the help has the usage"
assert_status 0 "kvpscan --help lists check-source" -- "$KVPSCAN" --help
assert_contains "$OUT" "check-source" "the command list has check-source"
finish
