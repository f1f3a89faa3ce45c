#!/bin/sh
# participation.sh - checks on active KVP participations: each boundary, the stored
# candidate rows and items, the run's counts, the spool worklist, the report and explain
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
sed 's/@src@/kvp_src/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql -X -q -v ON_ERROR_STOP=1 -f "$top_srcdir/tests/fixtures/participation.sql" >/dev/null
SPOOL=$T_SCRATCH/spool
mkdir -p "$SPOOL"
CONF=$T_SCRATCH/kvpscan.conf
cat >"$CONF" <<EOC
log = { destination = "stderr"; };
delivery = { channel = "spool"; send = "all_open"; };
spool = { directory = "$SPOOL"; };
EOC
k() { "$KVPSCAN" -c "$CONF" "$@"; }
D=2024-03-15

assert_status 0 "migrate" -- k migrate

# the dry run stays identification only: the participants are IN_PROGRAMME, never candidates
assert_status 0 "dry run" -- k scan --as-of $D --dry-run
assert_contains "$OUT" "PA-IDENT" "dry run: the ordinary candidate"
assert_not_contains "$OUT" "PA-H374" "dry run: a participant is not listed"
assert_not_contains "$OUT" "NOT_FULL_TIME" "dry run: no participation flag"

assert_status 0 "scan as of $D" -- k scan --as-of $D
assert_contains "$OUT" "participation checks   16 (not full time 5, no written plan 6, no evaluation date 2," "the summary counts the checks"
assert_contains "$OUT" "AEV after decision 3, no self-assessment 1;" "the summary counts the two supervision checks"
assert_contains "$OUT" "self-assessment unknown 4)" "the summary counts the unknown self-assessments"
assert_not_contains "$OUT" "PA-" "the summary holds no case_ref"
assert_eq "PA-AEVNEXT||f|{IN_PROGRAMME}|{AEV_AFTER_DECISION}|0
PA-ALL||f|{IN_PROGRAMME}|{NOT_FULL_TIME,NO_WRITTEN_PLAN,NO_EVALUATION_DATE,OVER_DURATION}|0
PA-ALL2||f|{IN_PROGRAMME}|{NOT_FULL_TIME,NO_WRITTEN_PLAN,EVALUATION_OVERDUE,OVER_DURATION}|0
PA-DUR24P1||f|{IN_PROGRAMME}|{OVER_DURATION}|0
PA-ENDSD||f|{IN_PROGRAMME}|{NO_WRITTEN_PLAN}|0
PA-EVNULL||f|{IN_PROGRAMME}|{NO_EVALUATION_DATE}|0
PA-EVOVER||f|{IN_PROGRAMME}|{EVALUATION_OVERDUE}|0
PA-FALLBACK||t|{IN_PROGRAMME}|{NO_WRITTEN_PLAN}|0
PA-GOLD||f|{IN_PROGRAMME}|{AEV_AFTER_DECISION}|0
PA-H374||f|{IN_PROGRAMME}|{NOT_FULL_TIME}|0
PA-HNULL||f|{IN_PROGRAMME}|{NOT_FULL_TIME}|0
PA-MULTI||f|{IN_PROGRAMME}|{NOT_FULL_TIME}|0
PA-NOGRANT2||f|{IN_PROGRAMME}|{AEV_AFTER_DECISION}|0
PA-PLANF||f|{IN_PROGRAMME}|{NO_WRITTEN_PLAN}|0
PA-PLANN||f|{IN_PROGRAMME}|{NO_WRITTEN_PLAN}|0
PA-SAF||f|{IN_PROGRAMME}|{NO_SELF_ASSESSMENT}|0" \
	"$(psql_q "SELECT case_ref, CASE WHEN veileder_id = 'Z1' THEN '' ELSE coalesce(veileder_id, '') END,
	                  routed_to_fallback, reasons, flags, months
	             FROM kvpscan.candidate WHERE reasons = '{IN_PROGRAMME}' ORDER BY case_ref COLLATE \"C\"")" \
	"one candidate row per failing participation, flags exact (37.5 h, evaluation on D, 24 months to the day and ended ones pass; an AEV on the decision day, on start_date without a GRANTED, a later GRANTED's, a null or a tied true self-assessment and a false one after the decision pass)"
assert_eq "Z1" "$(psql_q "SELECT DISTINCT veileder_id FROM kvpscan.candidate WHERE case_ref <> 'PA-FALLBACK'")" \
	"an active veileder gets the participant"
assert_eq "" "$(psql_q "SELECT coalesce(veileder_id, '') FROM kvpscan.candidate WHERE case_ref = 'PA-FALLBACK'")" \
	"an inactive veileder: the office fallback, veileder_id NULL"
assert_eq "PA-IDENT|{LONG_TERM}" "$(psql_q "SELECT case_ref, reasons FROM kvpscan.candidate WHERE reasons <> '{IN_PROGRAMME}'")" \
	"the identification candidate is stored as before"
assert_eq "5|6|2|2|3|1" \
	"$(psql_q "SELECT flag_not_full_time, flag_no_written_plan, flag_no_evaluation_date, flag_evaluation_overdue, flag_over_duration, flagged FROM kvpscan.run")" \
	"the run's counts (flagged counts identification only)"
assert_eq "5|6|2|2|3" \
	"$(psql_q "SELECT flag_not_full_time, flag_no_written_plan, flag_no_evaluation_date, flag_evaluation_overdue, flag_over_duration FROM kvpscan.run_office WHERE office_id = '0301'")" \
	"the office's counts"
assert_eq "3|1|4" "$(psql_q "SELECT flag_aev_after_decision, flag_no_self_assessment, self_assessment_unknown FROM kvpscan.run")" \
	"the run's supervision counts: AEV after decision, no self-assessment, unknown (no AEV by the decision, or null)"
assert_eq "3|1|4" "$(psql_q "SELECT flag_aev_after_decision, flag_no_self_assessment, self_assessment_unknown FROM kvpscan.run_office WHERE office_id = '0301'")" \
	"the office's supervision counts"
assert_eq "AEV_AFTER_DECISION:NEW" "$(psql_q "SELECT flag || ':' || state FROM kvpscan.item WHERE case_ref = 'PA-AEVNEXT'")" \
	"the AEV the day after the decision is an item"
assert_eq "NOT_FULL_TIME:NEW" "$(psql_q "SELECT flag || ':' || state FROM kvpscan.item WHERE case_ref = 'PA-H374'")" \
	"the item is NEW"
assert_eq 18 "$(psql_q "SELECT count(*) FROM kvpscan.item WHERE state = 'NEW' AND flag IN ('NOT_FULL_TIME', 'NO_WRITTEN_PLAN', 'NO_EVALUATION_DATE', 'EVALUATION_OVERDUE', 'OVER_DURATION')")" \
	"one item per failed check"

# the worklist in the spool carries the flags
assert_status 0 "deliver" -- k deliver
Z1=$(grep -l '"veileder_id":"Z1"' "$SPOOL"/*.json | head -1)
FB=$(grep -l '"veileder_id":null' "$SPOOL"/*.json | head -1)
jf() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }
assert_eq "['NOT_FULL_TIME', 'NO_WRITTEN_PLAN', 'EVALUATION_OVERDUE', 'OVER_DURATION'] ['IN_PROGRAMME']" \
	"$(jf "$Z1" '[(i["flags"], i["reasons"]) for i in d["items"] if i["case_ref"] == "PA-ALL2"][0][0].__str__() + " " + str([i["reasons"] for i in d["items"] if i["case_ref"] == "PA-ALL2"][0])')" \
	"worklist JSON: the participant's flags in order and reason IN_PROGRAMME"
assert_eq "5 5 2 2 3" "$(jf "$Z1" '" ".join(str(d["summary"][k]) for k in ("not_full_time", "no_written_plan", "no_evaluation_date", "evaluation_overdue", "over_duration"))')" \
	"worklist JSON: per-flag summary counts for Z1"
assert_eq "3 1" "$(jf "$Z1" '" ".join(str(d["summary"][k]) for k in ("aev_after_decision", "no_self_assessment"))')" \
	"worklist JSON: the supervision checks' summary counts for Z1"
assert_eq "['NO_SELF_ASSESSMENT']" "$(jf "$Z1" '[i["flags"] for i in d["items"] if i["case_ref"] == "PA-SAF"][0]')" \
	"worklist JSON: the flag NO_SELF_ASSESSMENT"
assert_eq "['PA-FALLBACK']" "$(jf "$FB" '[i["case_ref"] for i in d["items"]]')" "the fallback list holds the participant with an inactive veileder"

# the report
assert_status 0 "report json" -- k report --format json
k report --format json 2>/dev/null >"$T_SCRATCH/report.json"
assert_eq "5 6 2 2 3" "$(jf "$T_SCRATCH/report.json" '" ".join(str(d["total"]["participation"][k]) for k in ("not_full_time", "no_written_plan", "no_evaluation_date", "evaluation_overdue", "over_duration"))')" \
	"report JSON: the total's participation counts"
assert_eq "5 6 2 2 3" "$(jf "$T_SCRATCH/report.json" '" ".join(str(d["offices"][0]["participation"][k]) for k in ("not_full_time", "no_written_plan", "no_evaluation_date", "evaluation_overdue", "over_duration"))')" \
	"report JSON: 0301's participation counts"
assert_eq "3 1 4" "$(jf "$T_SCRATCH/report.json" '" ".join(str(d["total"]["participation"][k]) for k in ("aev_after_decision", "no_self_assessment", "self_assessment_unknown"))')" \
	"report JSON: the total's supervision counts"
assert_eq "3 1 4" "$(jf "$T_SCRATCH/report.json" '" ".join(str(d["offices"][0]["participation"][k]) for k in ("aev_after_decision", "no_self_assessment", "self_assessment_unknown"))')" \
	"report JSON: 0301's supervision counts"
assert_status 0 "report csv" -- k report --format csv
assert_contains "$OUT" "evaluation_overdue,over_duration" "report CSV: the columns"
assert_eq "3,1,4 3,1,4" "$(k report --format csv 2>/dev/null | $PY -c 'import csv,sys; print(" ".join(",".join(r[k] for k in ("aev_after_decision", "no_self_assessment", "self_assessment_unknown")) for r in csv.DictReader(sys.stdin)))')" \
	"report CSV: the supervision columns for 0301 and the total"
assert_status 0 "report table" -- k report
assert_contains "$OUT" "Deltakelse: under 37,5 timer" "report table: the participation lines"
assert_contains "$OUT" "Deltakelse: ingen arbeidsevnevurdering før vedtaket" "report table: AEV after the decision"
assert_contains "$OUT" "Deltakelse: egenvurdering ikke dokumentert" "report table: no self-assessment"
assert_contains "$OUT" "Deltakelse: egenvurdering ukjent" "report table: the unknown self-assessments"
assert_status 0 "report html" -- k report --format html
assert_contains "$OUT" "Deltakelse: under 37,5 timer" "report HTML: the rows"
assert_contains "$OUT" "Deltakelse: over 2 år" "report HTML: the duration row"
assert_contains "$OUT" "Deltakelse: egenvurdering ikke dokumentert" "report HTML: the self-assessment row"
# the words follow the settings (labels.c)
sed 's/^log = .*/&\nparticipation = { min_hours = 30; max_duration_months = 18; };/' "$CONF" >"$T_SCRATCH/other.conf"
assert_status 0 "report html with other participation settings" -- "$KVPSCAN" -c "$T_SCRATCH/other.conf" report --format html
assert_contains "$OUT" "Deltakelse: under 30 timer" "report HTML: the hours from participation.min_hours"
assert_contains "$OUT" "Deltakelse: over 18 måneder" "report HTML: the duration from participation.max_duration_months"
assert_contains "$(psql_q "SELECT text_body FROM kvpscan.delivery WHERE veileder_id = 'Z1'")" \
	"KVP-deltaker, under 37,5 timer: 5" "worklist text: the participation summary in words"
assert_contains "$(psql_q "SELECT text_body FROM kvpscan.delivery WHERE veileder_id = 'Z1'")" \
	"KVP-deltaker, ingen arbeidsevnevurdering før vedtaket: 3" "worklist text: AEV after the decision in words"

# explain
assert_status 0 "explain PA-ALL2" -- k explain PA-ALL2 --as-of $D
assert_contains "$OUT" "KVP participation checks" "explain: the section"
assert_contains "$OUT" "planned hours per week  10" "explain: the hours"
assert_contains "$OUT" "NOT_FULL_TIME" "explain: the failed hours check"
assert_contains "$OUT" "EVALUATION_OVERDUE" "explain: the overdue evaluation"
assert_contains "$OUT" "months since start      38" "explain: months since start"
assert_status 0 "explain PA-H375" -- k explain PA-H375 --as-of $D
assert_contains "$OUT" "every check passed" "explain: 37.5 hours passes"
assert_contains "$OUT" "latest AEV by then      2020-01-01 on or before the decision: ok" "explain: the AEV check passes"
assert_status 0 "explain PA-AEVNEXT" -- k explain PA-AEVNEXT --as-of $D
assert_contains "$OUT" "decision                2023-05-10 the latest GRANTED event on or before the start" "explain: the decision is the GRANTED"
assert_contains "$OUT" "latest AEV by then      none       on or before the decision: AEV_AFTER_DECISION" "explain: AEV the day after"
assert_status 0 "explain PA-AEVDAY" -- k explain PA-AEVDAY --as-of $D
assert_contains "$OUT" "every check passed" "explain: an AEV on the decision day passes"
assert_status 0 "explain PA-NOGRANT" -- k explain PA-NOGRANT --as-of $D
assert_contains "$OUT" "decision                2023-06-01 no GRANTED event on or before the start: the start date" "explain: no GRANTED, the start date"
assert_status 0 "explain PA-GOLD" -- k explain PA-GOLD --as-of $D
assert_contains "$OUT" "decision                2020-12-01 the latest GRANTED" "explain: a GRANTED before an older participation is still the latest by the start"
assert_status 0 "explain PA-SAF" -- k explain PA-SAF --as-of $D
assert_contains "$OUT" "its self-assessment     false: NO_SELF_ASSESSMENT" "explain: the false self-assessment"
assert_status 0 "explain PA-SAN" -- k explain PA-SAN --as-of $D
assert_contains "$OUT" "its self-assessment     unknown: unknown, counted, never flagged" "explain: a null self-assessment"
assert_contains "$OUT" "every check passed" "explain: unknown is not a failed check"

# the audit export carries the counts
k audit --from $D --to $D --format json 2>/dev/null >"$T_SCRATCH/audit.json"
assert_eq "3 1 4" "$(jf "$T_SCRATCH/audit.json" '" ".join(str(d["runs"][0][k]) for k in ("flag_aev_after_decision", "flag_no_self_assessment", "self_assessment_unknown"))')" \
	"audit JSON: the run's supervision counts"
assert_eq "3 1 4" "$(jf "$T_SCRATCH/audit.json" '" ".join(str(d["runs"][0]["offices"][0][k]) for k in ("flag_aev_after_decision", "flag_no_self_assessment", "self_assessment_unknown"))')" \
	"audit JSON: the office's supervision counts"

# a source without assessment.self_assessment: the same data, the column left out
sed 's/@src@/kvp_nosa/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql -X -q -v ON_ERROR_STOP=1 <<'EOSQL'
ALTER TABLE kvp_nosa.assessment DROP COLUMN self_assessment;
INSERT INTO kvp_nosa.office SELECT * FROM kvp_src.office;
INSERT INTO kvp_nosa.veileder SELECT * FROM kvp_src.veileder;
INSERT INTO kvp_nosa.person SELECT * FROM kvp_src.person;
INSERT INTO kvp_nosa.payment SELECT * FROM kvp_src.payment;
INSERT INTO kvp_nosa.assessment SELECT person_id, assessed_on, kind, innsatsgruppe FROM kvp_src.assessment;
INSERT INTO kvp_nosa.kvp_event SELECT * FROM kvp_src.kvp_event;
INSERT INTO kvp_nosa.participation SELECT * FROM kvp_src.participation;
EOSQL
sed 's/^log = .*/&\ndatabase = { source_schema = "kvp_nosa"; state_schema = "kvpscan_nosa"; };/' "$CONF" >"$T_SCRATCH/nosa.conf"
kn() { "$KVPSCAN" -c "$T_SCRATCH/nosa.conf" "$@"; }
assert_status 0 "migrate (no self_assessment column)" -- kn migrate
assert_status 0 "scan as of $D without the column" -- kn scan --as-of $D
assert_contains "$OUT" "participation checks   15 (" "without the column: the false self-assessment is not flagged"
assert_contains "$OUT" "self-assessment unknown 25, the source has no assessment.self_assessment)" "without the column: the summary says so"
assert_eq "3|0|25" "$(psql_q "SELECT flag_aev_after_decision, flag_no_self_assessment, self_assessment_unknown FROM kvpscan_nosa.run")" \
	"without the column: nothing flagged NO_SELF_ASSESSMENT, every active participation unknown"
assert_eq "0" "$(psql_q "SELECT count(*) FROM kvpscan_nosa.item WHERE flag = 'NO_SELF_ASSESSMENT'")" \
	"without the column: no NO_SELF_ASSESSMENT item"
assert_eq "PA-AEVNEXT PA-GOLD PA-NOGRANT2" "$(psql_q "SELECT string_agg(case_ref, ' ' ORDER BY case_ref COLLATE \"C\") FROM kvpscan_nosa.item WHERE flag = 'AEV_AFTER_DECISION'")" \
	"without the column: AEV_AFTER_DECISION as before"
assert_status 0 "explain PA-SAF without the column" -- kn explain PA-SAF --as-of $D
assert_contains "$OUT" "unknown (the source has no assessment.self_assessment)" "explain without the column: unknown"
assert_contains "$OUT" "every check passed" "explain without the column: not flagged"

assert_status 0 "explain PA-ENDED" -- k explain PA-ENDED --as-of $D
assert_contains "$OUT" "no participation active on $D" "explain: an ended participation has no checks"

# fixed before the next scan: the item is RESOLVED
psql_q "UPDATE kvp_src.participation SET planned_hours_per_week = 37.5 WHERE person_id = 'P-H374'" >/dev/null
psql_q "UPDATE kvp_src.participation SET has_written_plan = true WHERE person_id = 'P-PLANF'" >/dev/null
assert_status 0 "scan as of 2024-03-16" -- k scan --as-of 2024-03-16
assert_eq "NOT_FULL_TIME:RESOLVED:2024-03-16" "$(psql_q "SELECT flag || ':' || state || ':' || resolved_on FROM kvpscan.item WHERE case_ref = 'PA-H374'")" \
	"fixed hours: the item is RESOLVED"
assert_eq "NO_WRITTEN_PLAN:RESOLVED" "$(psql_q "SELECT flag || ':' || state FROM kvpscan.item WHERE case_ref = 'PA-PLANF'")" \
	"a written plan: the item is RESOLVED"
assert_eq "NO_WRITTEN_PLAN:OPEN" "$(psql_q "SELECT flag || ':' || state FROM kvpscan.item WHERE case_ref = 'PA-PLANN'")" \
	"still no plan: the item stays OPEN"
assert_eq "EVALUATION_OVERDUE:NEW
OVER_DURATION:NEW" "$(psql_q "SELECT flag || ':' || state FROM kvpscan.item WHERE case_ref IN ('PA-EVEQ', 'PA-DUR24') ORDER BY flag")" \
	"a day later the evaluation on the 15th is overdue and the 24 months are past"
assert_eq "" "$(psql_q "SELECT case_ref FROM kvpscan.candidate c JOIN kvpscan.run r USING (run_id) WHERE r.as_of = '2024-03-16' AND case_ref = 'PA-ENDSD'")" \
	"a participation that ended on the previous as-of date has no checks"
finish
