#!/bin/sh
# audit.sh - kvpscan audit over two real scans and deliveries: runs, offices,
# deliveries and resolved items equal to the tables, CSV and JSON, usage errors,
# an empty range, no protected case_ref, address or person_id anywhere, valgrind
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
mkdir -p "$T_SCRATCH/spool"
CONF=$T_SCRATCH/kvpscan.conf
cat >"$CONF" <<EOC
log = { destination = "stderr"; };
delivery = { channel = "spool"; };
spool = { directory = "$T_SCRATCH/spool"; };
EOC
k() { "$KVPSCAN" -c "$CONF" "$@"; }

assert_status 0 "audit --help" -- k audit --help
assert_contains "$OUT" "Usage" "audit --help prints a usage line"
assert_status 2 "--from is required" -- k audit --to 2024-03-31
assert_contains "$OUT" "HINT" "with a hint"
assert_status 2 "--to is required" -- k audit --from 2024-03-01
assert_status 2 "--from after --to is a usage error" -- k audit --from 2024-04-01 --to 2024-03-31
assert_contains "$OUT" "HINT" "with a hint"
assert_status 2 "a malformed date is a usage error" -- k audit --from 2024-02-30 --to 2024-03-31
assert_status 2 "a bad format is a usage error" -- k audit --from 2024-03-01 --to 2024-03-31 --format xml
assert_status 1 "no schema yet: exit 1" -- k audit --from 2024-03-01 --to 2024-03-31

assert_status 0 "migrate" -- k migrate
assert_status 0 "demo data" -- k demo-data --persons 300 --seed 7 --as-of 2024-03-01
assert_status 0 "scan as of 2024-03-01" -- k scan --as-of 2024-03-01
assert_status 0 "deliver run 1" -- k deliver
run1=$(psql_q "SELECT max(run_id) FROM kvpscan.run")

# resolve NOT_INFORMED for 20 unprotected and every protected person flagged so
psql_q "INSERT INTO kvp_src.kvp_event (person_id, event_date, event)
        SELECT person_id, date '2024-03-10', 'INFORMED' FROM (
          (SELECT person_id FROM kvpscan.item WHERE flag = 'NOT_INFORMED' AND state <> 'RESOLVED'
             AND NOT protected ORDER BY item_id LIMIT 20)
          UNION
          (SELECT person_id FROM kvpscan.item WHERE flag = 'NOT_INFORMED' AND state <> 'RESOLVED'
             AND protected)) p"
assert_status 0 "scan as of 2024-03-15" -- k scan --as-of 2024-03-15
assert_status 0 "deliver run 2" -- k deliver
run2=$(psql_q "SELECT max(run_id) FROM kvpscan.run")

res2=$(psql_q "SELECT count(*) FROM kvpscan.item WHERE resolved_run_id = $run2")
prot2=$(psql_q "SELECT count(*) FROM kvpscan.item WHERE resolved_run_id = $run2 AND protected")
[ "$res2" -ge 20 ] && ok "run 2 resolved items ($res2)" || not_ok "run 2 resolved items" "$res2"
[ "$prot2" -gt 0 ] && ok "protected items among them ($prot2)" || not_ok "protected items resolved" "$prot2"

# --- CSV
assert_status 0 "audit csv" -- sh -c "'$KVPSCAN' -c '$CONF' audit --from 2024-03-01 --to 2024-03-31 --format csv >'$T_SCRATCH/a.csv'"
assert_contains "$OUT" "2 runs" "the log line counts the runs"
CSV=$T_SCRATCH/a.csv
csvq() {	# csvq PYTHON-EXPRESSION over rows (list of dicts); prints the result
	$PY -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
def rec(t, run=None): return [r for r in rows if r["record"] == t and (run is None or r["run_id"] == str(run))]
print(eval(sys.argv[2]))' "$CSV" "$1"
}
assert_eq "$run1 $run2" "$(csvq '" ".join(r["run_id"] for r in rec("run"))')" "two run records, in order"
# items_open is the items open from before; with items_new they are the report's open items (docs/audit.md)
for d in 2024-03-01 2024-03-15; do
	"$KVPSCAN" -c "$CONF" report --as-of $d --format json 2>/dev/null >"$T_SCRATCH/rep-$d.json"
	rid=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_id"])' "$T_SCRATCH/rep-$d.json")
	assert_eq "$(csvq 'int(rec("run", '$rid')[0]["items_new"]) + int(rec("run", '$rid')[0]["items_open"])')" \
		"$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"]["items"]["open"])' "$T_SCRATCH/rep-$d.json")" \
		"run $rid: audit's items_new + items_open = the report's open items"
done
for run in $run1 $run2; do
	assert_eq "$(psql_q "SELECT concat_ws(' ', as_of, status, rule_version, config_fingerprint, recipients, candidates, flagged,
	          flag_not_informed, flag_not_assessed, flag_aev_missing, items_new, items_open, items_resolved)
	          FROM kvpscan.run WHERE run_id = $run")" \
		"$(csvq '" ".join(rec("run", '$run')[0][c] for c in "as_of status rule_version config_fingerprint recipients candidates flagged flag_not_informed flag_not_assessed flag_aev_missing items_new items_open items_resolved".split())')" \
		"run $run: the run's record equals the run table"
	assert_eq "$(psql_q "SELECT count(*) || ' ' || sum(flagged) || ' ' || sum(active_participants) FROM kvpscan.run_office WHERE run_id = $run")" \
		"$(csvq '" ".join(str(x) for x in (len(rec("office", '$run')), sum(int(r["flagged"]) for r in rec("office", '$run')), sum(int(r["active_participants"]) for r in rec("office", '$run'))))')" \
		"run $run: office records equal run_office (count, flagged, active)"
	assert_eq "$(psql_q "SELECT concat_ws(' ', flag_not_full_time, flag_no_written_plan, flag_no_evaluation_date,
	          flag_evaluation_overdue, flag_over_duration) FROM kvpscan.run WHERE run_id = $run")" \
		"$(csvq '" ".join(rec("run", '$run')[0][c] for c in "flag_not_full_time flag_no_written_plan flag_no_evaluation_date flag_evaluation_overdue flag_over_duration".split())')" \
		"run $run: the participation checks' counts are exported"
	assert_eq "$(psql_q "SELECT sum(flag_no_written_plan) FROM kvpscan.run_office WHERE run_id = $run")" \
		"$(csvq 'sum(int(r["flag_no_written_plan"]) for r in rec("office", '$run'))')" \
		"run $run: the offices' participation counts are exported"
	assert_eq "$(psql_q "SELECT string_agg(delivery_id, ' ' ORDER BY delivery_id COLLATE \"C\") FROM kvpscan.delivery WHERE run_id = $run")" \
		"$(csvq '" ".join(sorted(r["delivery_id"] for r in rec("delivery", '$run')))')" \
		"run $run: delivery records are the delivery table's ids"
done
ndel=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id IN ($run1, $run2)")
[ "$ndel" -gt 1 ] && ok "deliveries to check ($ndel)" || not_ok "deliveries to check" "$ndel"
assert_eq "$ndel" "$(csvq 'len(rec("delivery"))')" "as many delivery records as deliveries"
assert_eq "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id IN ($run1, $run2) AND veileder_id IS NULL AND kind = 'worklist'")" \
	"$(csvq 'sum(1 for r in rec("delivery") if r["veileder_id"] == "fallback")')" "fallback deliveries say fallback"
assert_eq "$(psql_q "SELECT count(*) FROM kvpscan.delivery_attempt a JOIN kvpscan.delivery d USING (delivery_id) WHERE d.run_id IN ($run1, $run2)")" \
	"$(csvq 'sum(int(r["attempts"]) for r in rec("delivery"))')" "attempts equal delivery_attempt"
assert_eq "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id IN ($run1, $run2) AND state = 'sent'")" \
	"$(csvq 'sum(1 for r in rec("delivery") if r["state"] == "sent" and r["sent_at"] and r["first_attempt_at"])')" \
	"sent deliveries have sent_at and a first attempt"
assert_eq "$res2" "$(csvq 'sum(int(r["count"]) for r in rec("resolved", '$run2'))')" "resolved counts equal the items resolved in run 2"
assert_eq "$prot2" "$(csvq 'sum(int(r["protected_count"]) for r in rec("resolved", '$run2'))')" "protected resolved counted"
assert_eq "$(psql_q "SELECT count(*) FROM kvpscan.item WHERE resolved_run_id = $run2 AND NOT protected")" \
	"$(csvq 'len(rec("resolved_item", '$run2'))')" "one resolved_item per unprotected resolved item"
assert_eq "$(psql_q "SELECT string_agg(case_ref || '/' || flag || '/' || first_seen || '/' || resolved_on, ' '
                     ORDER BY case_ref || '/' || flag COLLATE \"C\")
                     FROM (SELECT * FROM kvpscan.item WHERE resolved_run_id = $run2 AND NOT protected) i")" \
	"$(csvq '" ".join(sorted(r["case_ref"] + "/" + r["flag"] + "/" + r["first_seen"] + "/" + r["resolved_on"] for r in rec("resolved_item", '$run2')))')" \
	"resolved items: case_ref, flag, first_seen, resolved_on as stored"
assert_eq 0 "$(csvq 'len(rec("resolved", '$run1'))')" "run 1 resolved nothing"
assert_eq 1 "$(csvq 'len(set(len(r) for r in rows))')" "every CSV line has the header's width"

# --- JSON
assert_status 0 "audit json" -- sh -c "'$KVPSCAN' -c '$CONF' audit --from 2024-03-01 --to 2024-03-31 --format json >'$T_SCRATCH/a.json'"
JSON=$T_SCRATCH/a.json
assert_status 0 "the JSON parses" -- $PY -m json.tool "$JSON"
jq_() { $PY -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$JSON" "$1"; }
assert_eq "kvpscan.audit 1 2024-03-01 2024-03-31" "$(jq_ '" ".join(str(d[k]) for k in ("type", "version", "from", "to"))')" "JSON header"
assert_eq "$run1 $run2" "$(jq_ '" ".join(str(r["run_id"]) for r in d["runs"])')" "JSON: two runs"
assert_eq "$(psql_q "SELECT string_agg(flagged::text, ' ' ORDER BY run_id) FROM kvpscan.run WHERE run_id IN ($run1, $run2)")" \
	"$(jq_ '" ".join(str(r["flagged"]) for r in d["runs"])')" "JSON: flagged per run as numbers"
assert_eq "$(psql_q "SELECT string_agg(delivery_id, ' ' ORDER BY delivery_id COLLATE \"C\") FROM kvpscan.delivery WHERE run_id IN ($run1, $run2)")" \
	"$(jq_ '" ".join(sorted(x["delivery_id"] for r in d["runs"] for x in r["deliveries"]))')" "JSON: the deliveries' ids"
assert_eq "$res2 $prot2" "$(jq_ '"%d %d" % (sum(g["count"] for g in d["runs"][1]["resolved"]), sum(g["protected_count"] for g in d["runs"][1]["resolved"]))')" \
	"JSON: resolved and protected counts of run 2"
assert_eq "$((res2 - prot2))" "$(jq_ 'sum(len(g["items"]) for g in d["runs"][1]["resolved"])')" "JSON: unprotected items listed"
assert_eq "$(psql_q "SELECT count(*) FROM kvpscan.run_office WHERE run_id = $run2")" "$(jq_ 'len(d["runs"][1]["offices"])')" "JSON: offices of run 2"

# --- privacy: no protected case_ref, address or person_id in either output
for f in "$CSV" "$JSON"; do
	leaks=0
	for ref in $(psql_q "SELECT DISTINCT case_ref FROM kvpscan.item WHERE protected AND case_ref IS NOT NULL
	                     UNION SELECT case_ref FROM kvp_src.person WHERE protection IS NOT NULL AND case_ref IS NOT NULL"); do
		grep -qwF -- "$ref" "$f" && leaks=$((leaks + 1))
	done
	assert_eq 0 "$leaks" "no protected case_ref in $(basename "$f")"
	leaks=0
	for v in $(psql_q "SELECT person_id FROM kvp_src.person"); do
		grep -qwF -- "$v" "$f" && leaks=$((leaks + 1))
	done
	assert_eq 0 "$leaks" "no person_id in $(basename "$f")"
	assert_not_contains "$(cat "$f")" "@" "no email address in $(basename "$f")"
	leaks=0
	# (the spool channel's recipient is the delivery id itself; the addresses are the source's)
	for v in $(psql_q "SELECT DISTINCT recipient FROM kvpscan.delivery WHERE recipient <> delivery_id
	                   UNION SELECT email FROM kvp_src.veileder UNION SELECT leader_email FROM kvp_src.office
	                   UNION SELECT fallback_email FROM kvp_src.office"); do
		grep -qF -- "$v" "$f" && leaks=$((leaks + 1))
	done
	assert_eq 0 "$leaks" "no recipient or source address in $(basename "$f")"
	assert_eq "$(psql_q "SELECT count(*) FROM kvp_src.veileder WHERE email LIKE '%@%'")" "$(psql_q "SELECT count(*) FROM kvp_src.veileder")" \
		"every veileder has an address to leak"
done

# --- one office, an empty range
office=$(psql_q "SELECT office_id FROM kvpscan.delivery WHERE run_id = $run2 AND office_id IS NOT NULL ORDER BY office_id LIMIT 1")
assert_status 0 "audit --office" -- sh -c "'$KVPSCAN' -c '$CONF' audit --from 2024-03-01 --to 2024-03-31 --office '$office' --format json >'$T_SCRATCH/o.json'"
JSON=$T_SCRATCH/o.json
assert_eq "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id IN ($run1, $run2) AND office_id = '$office'")" \
	"$(jq_ 'sum(1 for r in d["runs"] for x in r["deliveries"] if x["office_id"] == "'$office'")')" "--office: the office's deliveries"
assert_eq 0 "$(jq_ 'sum(1 for r in d["runs"] for x in r["deliveries"] + r["offices"] + r["resolved"] if x["office_id"] != "'$office'")')" \
	"--office: nothing of other offices"
assert_status 0 "audit of a range with no runs" -- k audit --from 2023-01-01 --to 2023-12-31 --format json
printf '%s\n' "$OUT" | grep -v '^kvpscan:' >"$T_SCRATCH/e.json"
JSON=$T_SCRATCH/e.json
assert_eq "[]" "$(jq_ 'd["runs"]')" "no runs: an empty list"
assert_status 0 "csv of a range with no runs" -- sh -c "'$KVPSCAN' -c '$CONF' audit --from 2023-01-01 --to 2023-12-31 >'$T_SCRATCH/e.csv'"
assert_eq 1 "$(wc -l <"$T_SCRATCH/e.csv" | tr -d ' ')" "no runs: the CSV header only"

# --- the supervisor's questions as counts per office (a source and state schema of their own)
sed 's/@src@/kvp_q/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql -X -q -v ON_ERROR_STOP=1 <<'EOSQL'
SET search_path = kvp_q;
INSERT INTO office VALUES ('0301', 'Nav Test A', '0301', NULL, 'team-a@example.org');
INSERT INTO veileder VALUES ('Z1', '0301', 'Veileder En', 'z1@example.org', true);
-- QA informed and assessed 10 days after first identified (2026-01-15), QB informed after 40,
-- QC never, QD protected and informed after 5, QE informed before it was identified
INSERT INTO person SELECT 'P-' || c, c, '1980-01-01', '0301', 'Z1', CASE WHEN c = 'QD' THEN 'FORTROLIG' END
  FROM (VALUES ('QA'), ('QB'), ('QC'), ('QD'), ('QE'), ('QK1'), ('QK2')) AS t(c);
INSERT INTO payment SELECT 'P-' || c, (date '2025-03-01' + make_interval(months => i))::date, 1000, 'LIVSOPPHOLD'
  FROM generate_series(0, 11) i, (VALUES ('QA'), ('QB'), ('QC'), ('QD'), ('QE')) AS t(c);
INSERT INTO kvp_event VALUES ('P-QE', '2025-12-01', 'INFORMED', NULL, 'Z1'),
  ('P-QK1', '2025-05-20', 'GRANTED', NULL, 'Z1'), ('P-QK2', '2025-05-20', 'GRANTED', NULL, 'Z1');
-- QK1 has no written plan; QK2 passes every check
INSERT INTO assessment VALUES ('P-QK1', '2025-05-01', 'AEV', NULL, true), ('P-QK2', '2025-05-01', 'AEV', NULL, true);
INSERT INTO participation VALUES ('P-QK1', '2025-06-01', NULL, 37.5, '2026-06-01', false),
  ('P-QK2', '2025-06-01', NULL, 37.5, '2026-06-01', true);
EOSQL
sed 's/^log = .*/&\ndatabase = { source_schema = "kvp_q"; state_schema = "kvpscan_q"; };/' "$CONF" >"$T_SCRATCH/q.conf"
kq() { "$KVPSCAN" -c "$T_SCRATCH/q.conf" "$@"; }
assert_status 0 "questions: migrate" -- kq migrate
assert_status 0 "questions: scan as of 2026-01-15" -- kq scan --as-of 2026-01-15
psql_q "INSERT INTO kvp_q.kvp_event VALUES ('P-QA', '2026-01-25', 'INFORMED', NULL, 'Z1'),
        ('P-QA', '2026-01-25', 'ASSESSED', 'NOT_RELEVANT', 'Z1'), ('P-QD', '2026-01-20', 'INFORMED', NULL, 'Z1')" >/dev/null
assert_status 0 "questions: scan as of 2026-02-20" -- kq scan --as-of 2026-02-20
psql_q "INSERT INTO kvp_q.kvp_event VALUES ('P-QB', '2026-02-24', 'INFORMED', NULL, 'Z1')" >/dev/null
assert_status 0 "questions: scan as of 2026-03-05" -- kq scan --as-of 2026-03-05
kq audit --from 2026-01-01 --to 2026-03-31 --format json 2>/dev/null >"$T_SCRATCH/q.json"
JSON=$T_SCRATCH/q.json
assert_eq "0301 2026-03-05 5 1 4 3 1 1 30" \
	"$(jq_ '" ".join(str(d["questions"][0][k]) for k in ("office_id", "as_of", "identified", "identified_protected", "informed_by_end", "informed_within_days", "assessed_by_end", "assessed_within_days", "within_days"))')" \
	"questions: informed by the end 4 of 5, within 30 days of first identification 3 (40 days is not), assessed 1, the protected one only counted"
assert_eq "2 2 2 1 2 2" \
	"$(jq_ '" ".join(str(d["questions"][0][k]) for k in ("participants", "aev_before_decision", "self_assessment_documented", "written_plan", "full_time", "evaluation_dates"))')" \
	"questions: of 2 active participants, AEV before the decision 2, self-assessment 2, written plan 1, full time 2, evaluation dates 2"
kq audit --from 2026-01-01 --to 2026-02-20 --format json 2>/dev/null >"$T_SCRATCH/q.json"
assert_eq "2026-02-20 5 3 3" "$(jq_ '" ".join(str(d["questions"][0][k]) for k in ("as_of", "identified", "informed_by_end", "informed_within_days"))')" \
	"questions: a period ending on 2026-02-20 counts what was documented by then (QB's INFORMED came later)"
kq audit --from 2026-03-01 --to 2026-03-31 --format json 2>/dev/null >"$T_SCRATCH/q.json"
assert_eq "0 2" "$(jq_ '" ".join(str(d["questions"][0][k]) for k in ("identified", "participants"))')" \
	"questions: nobody first identified in a period after the first identification"
kq audit --from 2026-01-01 --to 2026-03-31 --format csv 2>/dev/null >"$T_SCRATCH/q.csv"
assert_eq "questions,0301,5,4,3" "$($PY -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["record"] == "questions": print(",".join((r["record"], r["office_id"], r["identified"], r["informed_by_end"], r["informed_within_days"])))' "$T_SCRATCH/q.csv")" \
	"questions: the CSV record"
assert_not_contains "$(cat "$T_SCRATCH/q.json" "$T_SCRATCH/q.csv")" "QD" "questions: the protected case is never named"

# --- valgrind once (not under ASan)
if command -v valgrind >/dev/null 2>&1 && ! ldd "$KVPSCAN" 2>/dev/null | grep -q libasan; then
	assert_status 0 "audit under valgrind: no leaks, no errors" -- valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		"$KVPSCAN" -c "$CONF" audit --from 2024-03-01 --to 2024-03-31 --format json --office "$office"
else
	ok "# SKIP valgrind (not installed or a sanitizer build)"
fi

finish
