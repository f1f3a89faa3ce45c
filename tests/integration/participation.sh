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
assert_contains "$OUT" "participation checks   12 (not full time 5, no written plan 6, no evaluation date 2," "the summary counts the checks"
assert_not_contains "$OUT" "PA-" "the summary holds no case_ref"
assert_eq "PA-ALL||f|{IN_PROGRAMME}|{NOT_FULL_TIME,NO_WRITTEN_PLAN,NO_EVALUATION_DATE,OVER_DURATION}|0
PA-ALL2||f|{IN_PROGRAMME}|{NOT_FULL_TIME,NO_WRITTEN_PLAN,EVALUATION_OVERDUE,OVER_DURATION}|0
PA-DUR24P1||f|{IN_PROGRAMME}|{OVER_DURATION}|0
PA-ENDSD||f|{IN_PROGRAMME}|{NO_WRITTEN_PLAN}|0
PA-EVNULL||f|{IN_PROGRAMME}|{NO_EVALUATION_DATE}|0
PA-EVOVER||f|{IN_PROGRAMME}|{EVALUATION_OVERDUE}|0
PA-FALLBACK||t|{IN_PROGRAMME}|{NO_WRITTEN_PLAN}|0
PA-H374||f|{IN_PROGRAMME}|{NOT_FULL_TIME}|0
PA-HNULL||f|{IN_PROGRAMME}|{NOT_FULL_TIME}|0
PA-MULTI||f|{IN_PROGRAMME}|{NOT_FULL_TIME}|0
PA-PLANF||f|{IN_PROGRAMME}|{NO_WRITTEN_PLAN}|0
PA-PLANN||f|{IN_PROGRAMME}|{NO_WRITTEN_PLAN}|0" \
	"$(psql_q "SELECT case_ref, CASE WHEN veileder_id = 'Z1' THEN '' ELSE coalesce(veileder_id, '') END,
	                  routed_to_fallback, reasons, flags, months
	             FROM kvpscan.candidate WHERE reasons = '{IN_PROGRAMME}' ORDER BY case_ref COLLATE \"C\"")" \
	"one candidate row per failing participation, flags exact (37.5 h, evaluation on D, 24 months to the day and ended ones pass)"
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
assert_eq "['PA-FALLBACK']" "$(jf "$FB" '[i["case_ref"] for i in d["items"]]')" "the fallback list holds the participant with an inactive veileder"

# the report
assert_status 0 "report json" -- k report --format json
k report --format json 2>/dev/null >"$T_SCRATCH/report.json"
assert_eq "5 6 2 2 3" "$(jf "$T_SCRATCH/report.json" '" ".join(str(d["total"]["participation"][k]) for k in ("not_full_time", "no_written_plan", "no_evaluation_date", "evaluation_overdue", "over_duration"))')" \
	"report JSON: the total's participation counts"
assert_eq "5 6 2 2 3" "$(jf "$T_SCRATCH/report.json" '" ".join(str(d["offices"][0]["participation"][k]) for k in ("not_full_time", "no_written_plan", "no_evaluation_date", "evaluation_overdue", "over_duration"))')" \
	"report JSON: 0301's participation counts"
assert_status 0 "report csv" -- k report --format csv
assert_contains "$OUT" "evaluation_overdue,over_duration" "report CSV: the columns"
assert_status 0 "report table" -- k report
assert_contains "$OUT" "Deltakelse: under 37,5 timer" "report table: the participation lines"
assert_status 0 "report html" -- k report --format html
assert_contains "$OUT" "Deltakelse: under 37,5 timer" "report HTML: the rows"
assert_contains "$OUT" "Deltakelse: over 2 år" "report HTML: the duration row"
# the words follow the settings (labels.c)
sed 's/^log = .*/&\nparticipation = { min_hours = 30; max_duration_months = 18; };/' "$CONF" >"$T_SCRATCH/other.conf"
assert_status 0 "report html with other participation settings" -- "$KVPSCAN" -c "$T_SCRATCH/other.conf" report --format html
assert_contains "$OUT" "Deltakelse: under 30 timer" "report HTML: the hours from participation.min_hours"
assert_contains "$OUT" "Deltakelse: over 18 måneder" "report HTML: the duration from participation.max_duration_months"
assert_contains "$(psql_q "SELECT text_body FROM kvpscan.delivery WHERE veileder_id = 'Z1'")" \
	"KVP-deltaker, under 37,5 timer: 5" "worklist text: the participation summary in words"

# explain
assert_status 0 "explain PA-ALL2" -- k explain PA-ALL2 --as-of $D
assert_contains "$OUT" "KVP participation checks" "explain: the section"
assert_contains "$OUT" "planned hours per week  10" "explain: the hours"
assert_contains "$OUT" "NOT_FULL_TIME" "explain: the failed hours check"
assert_contains "$OUT" "EVALUATION_OVERDUE" "explain: the overdue evaluation"
assert_contains "$OUT" "months since start      38" "explain: months since start"
assert_status 0 "explain PA-H375" -- k explain PA-H375 --as-of $D
assert_contains "$OUT" "every check passed" "explain: 37.5 hours passes"
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
