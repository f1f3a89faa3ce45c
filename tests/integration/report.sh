#!/bin/bash
# report.sh - kvpscan report from stored runs: figures per office checked against
# a hand computation over tests/fixtures/report.sql, every format, privacy
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
sed 's/@src@/kvp_src/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql -X -q -v ON_ERROR_STOP=1 -f "$top_srcdir/tests/fixtures/report.sql" >/dev/null
CONF=$T_SCRATCH/kvpscan.conf
printf 'log = { destination = "stderr"; };\n' >"$CONF"
k() { "$KVPSCAN" -c "$CONF" "$@"; }
ro() {	# ro RUN OFFICE COLUMNS
	psql_q "SELECT $3 FROM kvpscan.run_office WHERE run_id = (SELECT run_id FROM kvpscan.run WHERE as_of = '$1') AND office_id = '$2'"
}

assert_status 0 "report --help" -- k report --help
assert_status 2 "a bad format is a usage error" -- k report --format pdf
assert_status 0 "migrate" -- k migrate
assert_status 1 "no run yet: exit 1" -- k report
assert_contains "$OUT" "no succeeded scan" "and says so"
for d in 2024-01-15 2024-02-15 2024-03-15; do
	assert_status 0 "scan as of $d" -- k scan --as-of $d
done
assert_status 0 "target 0301 2024" -- k target set 0301 2024 10
assert_status 0 "target 0302 2024" -- k target set 0302 2024 4
assert_status 0 "tertial target 0301 2024-T1" -- k target set 0301 --tertial 2024-T1 3
psql_q "INSERT INTO kvpscan.delivery (delivery_id, kind, channel, office_id, state)
        VALUES ('d-dead-1', 'worklist', 'spool', '0302', 'dead')"

# run_office as stored by the scan of 2024-03-15 (window 2023-04..2024-03)
# 0301: recipients A1-A7 = 7; long-term A1 A2 A3 A4 A5 A7 = 6; special needs A6 = 1;
#   excluded: A4 in programme, A5 pending (applied 03-01); candidates A1 A2 A3 A6 A7 = 5;
#   flagged A1 (3 flags), A2 (NOT_ASSESSED), A3 (3 flags) = 3: not informed 2, not assessed 3, AEV 2;
#   informed (no NOT_INFORMED among candidates) A2 A6 A7 = 3; assessed relevant A6, not relevant A7;
#   applied A5, granted A4 (2023-12-20, within 12 months); active A4 = 1
assert_eq "7|6|1|5|1|1|0|0|3|2|3|2|3|1|1|1|1|1" \
	"$(ro 2024-03-15 0301 "recipients, long_term, special_needs, candidates, excluded_in_programme, excluded_pending,
	   excluded_benefit, excluded_right_used, flagged, flag_not_informed, flag_not_assessed, flag_aev_missing,
	   informed, assessed_relevant, assessed_not_relevant, applied, granted, active_participants")" \
	"0301's funnel as hand-computed"
# 0302: recipients B1 B2 B3 = 3, all long-term (B2: Nov-Mar = 5 months); B3 AAP excluded;
#   candidates B1 B2 = 2, both flagged: not informed 2, not assessed 2, AEV B2 = 1; active B4 = 1
#   (B3's programme ended 2024-02-29)
assert_eq "3|3|0|2|0|0|1|0|2|2|2|1|0|0|0|0|0|1" \
	"$(ro 2024-03-15 0302 "recipients, long_term, special_needs, candidates, excluded_in_programme, excluded_pending,
	   excluded_benefit, excluded_right_used, flagged, flag_not_informed, flag_not_assessed, flag_aev_missing,
	   informed, assessed_relevant, assessed_not_relevant, applied, granted, active_participants")" \
	"0302's funnel as hand-computed"
# 2024-01-15: A4 (from 01-01), B3 (until 02-29) and B4 are active = 1 + 2
assert_eq "1|2" "$(ro 2024-01-15 0301 active_participants)|$(ro 2024-01-15 0302 active_participants)" \
	"active participants of the first run"
assert_eq "$(psql_q "SELECT flagged FROM kvpscan.run WHERE as_of = '2024-03-15'")" \
	"$(psql_q "SELECT sum(flagged) FROM kvpscan.run_office WHERE run_id = (SELECT run_id FROM kvpscan.run WHERE as_of = '2024-03-15')")" \
	"the offices' flagged add up to the run's"

# --- CSV: one row per office and the total
assert_status 0 "report --format csv" -- k report --format csv
CSV=$OUT
col() {	# col OFFICE NAME: the named column of the office's row
	printf '%s\n' "$CSV" | /usr/bin/python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
print(next(r[sys.argv[2]] for r in rows if r["office_id"] == sys.argv[1]))' "$1" "$2"
}
# target 10, actual 1, gap 9, 10.0 %; 0302: 4, 1, 3, 25.0 %; total 14, 2, 12, 2/14 = 14.3 %
assert_eq "10 1 9 10.0" "$(col 0301 target) $(col 0301 actual) $(col 0301 gap) $(col 0301 percent_of_target)" "0301: target, actual, gap, percent"
assert_eq "4 1 3 25.0" "$(col 0302 target) $(col 0302 actual) $(col 0302 gap) $(col 0302 percent_of_target)" "0302: target, actual, gap, percent"
assert_eq "14 2 12 14.3" "$(col TOTAL target) $(col TOTAL actual) $(col TOTAL gap) $(col TOTAL percent_of_target)" "total: target, actual, gap, percent"
assert_eq "10 9 1 7 5 3 1 1 1 1 2" "$(for c in recipients long_term special_needs candidates flagged informed assessed_relevant assessed_not_relevant applied granted active_participants; do printf '%s ' "$(col TOTAL $c)"; done | sed 's/ $//')" \
	"the total funnel is the sum of the offices"
# items at run 3, compared with run 2 (2024-02-15, the latest 7+ days before):
#   new since: B2's 3 items (0302); resolved since: A5's 3 (pending) + A7's 2 (informed, assessed) = 5 (0301)
#   open: 0301 A1 3 + A2 1 + A3 3 = 7, all since 01-15 (60 days > 30: escalated 7, 3 of them protected A3)
#         0302 B1 2 (60 days, escalated) + B2 3 (0 days) = 5
#   median days open: 0301 all 60 -> 60.0; 0302 {0,0,0,60,60} -> 0.0; total 3 x 0, 9 x 60 -> 60.0
#   median days to resolve: the 5 resolved items, 01-15 -> 03-15 = 60.0; 0302 none
assert_eq "0 5 7 7 3 60.0 60.0 0" "$(for c in items_new items_resolved items_open escalated escalated_protected median_days_open median_days_to_resolve dead_deliveries; do printf '%s ' "$(col 0301 $c)"; done | sed 's/ $//')" "0301's items"
assert_eq "3 0 5 2 0 0.0  1" "$(for c in items_new items_resolved items_open escalated escalated_protected median_days_open median_days_to_resolve dead_deliveries; do printf '%s ' "$(col 0302 $c)"; done | sed 's/ $//')" "0302's items and its dead delivery"
assert_eq "3 5 12 9 3 60.0 60.0 1" "$(for c in items_new items_resolved items_open escalated escalated_protected median_days_open median_days_to_resolve dead_deliveries; do printf '%s ' "$(col TOTAL $c)"; done | sed 's/ $//')" "the total's items"
assert_not_contains "$CSV" "SECRET-A3" "csv: no protected case_ref"

# --- table with the escalation list by veileder
assert_status 0 "report (table)" -- k report
TABLE=$OUT
assert_contains "$TABLE" "TOTAL        14      2     12    14.3" "table: the total's target line"
# non-protected escalations: A1 x3 and A2 (Z1), B1 x2 (Z2), 60 days each
assert_eq 6 "$(printf '%s\n' "$TABLE" | grep -c 'since 2024-01-15, 60 days')" "table: 6 escalated items listed"
assert_contains "$TABLE" "Z1         Åse Ødegård" "table: by veileder, with the name"
# the name column is padded by characters: "since" starts in the same column on every line
assert_eq 1 "$(printf '%s\n' "$TABLE" | /usr/bin/python3 -c '
import sys
print(len({l.index("since") for l in sys.stdin.read().splitlines() if "since 2024-01-15" in l}))')" \
	"table: the escalation lines line up with æøå in a name"
assert_not_contains "$TABLE" "SECRET-A3" "table: no protected case_ref"

# --- JSON, checked against docs/report-schema.json
assert_status 0 "report --format json" -- k report --format json
JSON=$OUT
printf '%s\n' "$JSON" | sed '/^kvpscan: /d' >"$T_SCRATCH/report.json"
k report --format json 2>/dev/null >"$T_SCRATCH/report.json"
SCHEMA_CHECK=$(/usr/bin/python3 - "$top_srcdir/docs/report-schema.json" "$T_SCRATCH/report.json" <<'PY'
# a small structural validator for the subset of JSON Schema the schema uses
import json, re, sys
schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
types = {"object": dict, "array": list, "string": str, "null": type(None), "boolean": bool}
errors = []
def is_type(v, t):
    if t == "integer": return isinstance(v, int) and not isinstance(v, bool)
    if t == "number": return isinstance(v, (int, float)) and not isinstance(v, bool)
    return isinstance(v, types[t])
def check(s, v, path):
    if "$ref" in s:
        s = schema["$defs"][s["$ref"].split("/")[-1]]
    if "type" in s:
        ts = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(is_type(v, t) for t in ts):
            errors.append(f"{path}: {v!r} is not {ts}"); return
    if "const" in s and v != s["const"]: errors.append(f"{path}: not {s['const']!r}")
    if "enum" in s and v not in s["enum"]: errors.append(f"{path}: {v!r} not in enum")
    if "pattern" in s and isinstance(v, str) and not re.search(s["pattern"], v): errors.append(f"{path}: pattern")
    if "minimum" in s and is_type(v, "number") and v < s["minimum"]: errors.append(f"{path}: below minimum")
    if isinstance(v, dict):
        for r in s.get("required", []):
            if r not in v: errors.append(f"{path}: missing {r}")
        for key, val in v.items():
            if key in s.get("properties", {}): check(s["properties"][key], val, f"{path}.{key}")
            elif s.get("additionalProperties") is False: errors.append(f"{path}: unexpected {key}")
    if isinstance(v, list):
        if len(v) < s.get("minItems", 0) or len(v) > s.get("maxItems", 1 << 30): errors.append(f"{path}: item count")
        for i, item in enumerate(v):
            if "items" in s: check(s["items"], item, f"{path}[{i}]")
check(schema, doc, "$")
print("\n".join(errors) if errors else "valid")
PY
)
assert_eq "valid" "$SCHEMA_CHECK" "json: valid against docs/report-schema.json"
jq_() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$T_SCRATCH/report.json" "$1"; }
assert_eq "kvpscan.report 1" "$(jq_ 'd["type"] + " " + str(d["version"])')" "json: type and version"
assert_eq "10 1 9 10.0" "$(jq_ '" ".join(str(d["offices"][0][k]) for k in ("target","actual","gap","percent_of_target"))')" "json: 0301's målekort"
assert_eq "2 60.0" "$(jq_ 'str(d["compared_with"]["run_id"]) + " " + str(d["total"]["items"]["median_days_open"])')" "json: compared with run 2, median 60"
assert_eq "6" "$(jq_ 'len(d["escalations"])')" "json: 6 escalations"
assert_eq "None 6 3" "$(jq_ 'str(d["trend"][0]["flagged"]) + " " + str(d["trend"][10]["flagged"]) + " " + str(d["trend"][10]["active_participants"])')" \
	"json: trend: no run in 2023-04; 2024-02: 6 flagged, 3 active"
assert_not_contains "$JSON" "SECRET-A3" "json: no protected case_ref"

# --- one office, an earlier date, another period
assert_status 0 "report --office 0302 --format json" -- k report --office 0302 --format json
assert_contains "$OUT" '"offices":[{"office_id":"0302"' "one office only"
assert_not_contains "$OUT" "REP-A1" "no other office's items"
assert_status 0 "report --as-of 2024-02-20" -- k report --as-of 2024-02-20 --format csv
# run 2: compared with run 1 (01-15); nothing new or resolved; 0301's open items A1 3 + A2 1 + A3 3
# + A5 3 + A7 2 = 12, all 31 days old (> 30)
CSV=$OUT
assert_eq "2024-02-15 0 0 12 12" "$(col 0301 as_of) $(col 0301 items_new) $(col 0301 items_resolved) $(col 0301 items_open) $(col 0301 escalated)" \
	"the run on or before --as-of, its items as they stood then"
assert_status 0 "report --period tertial" -- k report --period tertial --format csv
CSV=$OUT
assert_eq "3 1 2 33.3" "$(col 0301 target) $(col 0301 actual) $(col 0301 gap) $(col 0301 percent_of_target)" "the tertial target (T1 = 3)"
assert_eq "" "$(col 0302 target)" "no tertial target for 0302: empty"
assert_status 1 "an unknown office" -- k report --office 9999

# --- HTML: self-contained, escaped, Norwegian labels
assert_status 0 "report --format html" -- k report --format html
k report --format html 2>/dev/null >"$T_SCRATCH/report.html"
HTML=$(cat "$T_SCRATCH/report.html")
assert_contains "$HTML" '<meta charset="utf-8">' "html: utf-8"
for w in Målekort Mål Faktisk Deltakere Kandidater "Ikke informert" "Nav Bjørvika &amp; Tøyen" "Per &lt;Berg&gt;" "Åse Ødegård" "<svg"; do
	assert_contains "$HTML" "$w" "html: $w"
done
assert_not_contains "$HTML" "<script" "html: no script"
assert_not_contains "$HTML" "Per <Berg>" "html: names are escaped"
assert_not_contains "$HTML" "SECRET-A3" "html: no protected case_ref"
assert_not_contains "$HTML" "src=" "html: no external images"
assert_not_contains "$HTML" "http://www.w3.org/1999" "html: no other namespace fetches"
if command -v chromium >/dev/null 2>&1; then
	prof=$(mktemp -d "$T_SCRATCH/chromium.XXXXXX")
	timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
		--screenshot="$T_SCRATCH/report.png" --window-size=1200,1600 "file://$T_SCRATCH/report.html" >/dev/null 2>&1
	size=$(stat -c %s "$T_SCRATCH/report.png" 2>/dev/null || echo 0)
	if [ "$size" -gt 20000 ]; then ok "html renders in chromium ($size bytes)"; else not_ok "html renders in chromium" "png size $size"; fi
else
	echo "# chromium is not installed: skipping the HTML rendering check"
fi
finish
