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
assert_contains "$OUT" "--period PERIOD" "report --help: --period"
assert_contains "$(sed -n '/^\.B report /p' "$top_srcdir/docs/kvpscan.8")" 'period year' "kvpscan(8): report --period"
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
# a dead worklist of run 3: counted by the report of run 3, not by one of an earlier date
psql_q "INSERT INTO kvpscan.delivery (delivery_id, run_id, kind, channel, office_id, state)
        SELECT 'd-dead-1', run_id, 'worklist', 'spool', '0302', 'dead' FROM kvpscan.run WHERE as_of = '2024-03-15'"

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
# the same in persons (a person with several flags once):
#   0301: new none; resolved A5 A7 (none open) = 2; open A1 A2 A3 = 3, all escalated, A3 protected;
#         median days open 60.0; days to resolve A5 and A7 60 each: 60.0
#   0302: new B2; open B1 B2, escalated B1; median days open {60, 0} = 30.0; nothing resolved
persons() { for c in persons_new persons_resolved persons_open persons_escalated persons_escalated_protected \
	persons_median_days_open persons_median_days_to_resolve; do printf '%s ' "$(col "$1" $c)"; done | sed 's/ $//'; }
assert_eq "0 2 3 3 1 60.0 60.0" "$(persons 0301)" "0301 in persons"
assert_eq "1 0 2 1 0 30.0 " "$(persons 0302)" "0302 in persons"
assert_eq "1 2 5 4 1 60.0 60.0" "$(persons TOTAL)" "the total in persons"
# audit's run.items_open are the items open from before; with the new ones they are the report's open items
assert_eq "$(col TOTAL items_open)" "$(psql_q "SELECT items_new + items_open FROM kvpscan.run WHERE as_of = '2024-03-15'")" \
	"the report's open items = the run's items_new + items_open (docs/audit.md)"
# the funnel's stages: in scope 0301 A1-A7 = 7 >= candidates 5 >= informed A2 A6 A7 = 3 >= informed and
# assessed A6 A7 = 2; 0302: B1 B2 B3 = 3 >= 2 >= 0 >= 0
assert_eq "7 5 3 2" "$(for c in in_scope candidates informed assessed; do printf '%s ' "$(col 0301 $c)"; done | sed 's/ $//')" "0301's funnel stages"
assert_eq "3 2 0 0" "$(for c in in_scope candidates informed assessed; do printf '%s ' "$(col 0302 $c)"; done | sed 's/ $//')" "0302's funnel stages"
assert_eq "far_below far_below far_below" "$(col 0301 target_status) $(col 0302 target_status) $(col TOTAL target_status)" \
	"target status: 10 % and 25 % are far below (under half)"

# --- table with the escalation list by veileder
assert_status 0 "report (table)" -- k report
TABLE=$OUT
assert_contains "$TABLE" "Hele kommunen                          14        2     12        14,3 %  langt under mål" \
	"table: the total's target line, in Norwegian"
for w in "office " "target period" "actual " "gap " "percent" "funnel" "(none)" "since "; do
	assert_not_contains "$TABLE" "$w" "table: no English \"$w\""
done
# non-protected escalations: one line per person, A1 (3 flags) and A2 (Z1), B1 (2 flags, Z2), 60 days each
assert_eq 3 "$(printf '%s\n' "$TABLE" | grep -c 'først sett 2024-01-15, 60 dager')" "table: 3 persons escalated, one line each"
assert_contains "$TABLE" "Åse Ødegård (Z1)               REP-A1         først sett 2024-01-15, 60 dager: Ikke informert om KVP, Ikke vurdert for KVP, Mangler arbeidsevnevurdering" \
	"table: a person's flags on one line, by veileder with the name"
# the name column is padded by characters: "først" starts in the same column on every line
assert_eq 1 "$(printf '%s\n' "$TABLE" | /usr/bin/python3 -c '
import sys
print(len({l.index("først sett") for l in sys.stdin.read().splitlines() if "først sett 2024-01-15" in l}))')" \
	"table: the escalation lines line up with æøå in a name"
# every funnel line of the table: each stage <= the one above
assert_eq ok "$(printf '%s\n' "$TABLE" | /usr/bin/python3 -c '
import re, sys
t = sys.stdin.read(); n = 0; bad = []
for block in t.split("\n\n"):
    st = [int(m.group(1)) for l in block.splitlines() for m in [re.match(r"  (?:I målgruppen|Kandidater|Informert|Informert og vurdert) +(\d+)  ", l)] if m]
    if st:
        n += 1
        if len(st) != 4 or any(a < b for a, b in zip(st, st[1:])): bad.append(str(st))
print("ok" if n == 3 and not bad else "%d blocks %s" % (n, bad))')" "table: three funnels, each stage <= the one above"
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
assert_eq "3" "$(jq_ 'len(d["escalations"])')" "json: 3 escalated persons"
assert_eq "REP-A1 NOT_INFORMED NOT_INFORMED+NOT_ASSESSED+AEV_MISSING" \
	"$(jq_ 'd["escalations"][0]["case_ref"] + " " + d["escalations"][0]["flag"] + " " + "+".join(d["escalations"][0]["flags"])')" \
	"json: one escalation per person, its flags in order"
assert_eq "7 5 3 2 far_below" "$(jq_ '" ".join(str(d["offices"][0]["funnel"][k]) for k in ("in_scope","candidates","informed","assessed")) + " " + d["offices"][0]["target_status"]')" \
	"json: 0301's funnel stages and target status"
assert_eq "5 4 1" "$(jq_ '" ".join(str(d["total"]["persons"][k]) for k in ("open","escalated","escalated_protected"))')" "json: persons open, escalated, protected"
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
assert_eq "0 0" "$(col 0302 dead_deliveries) $(col TOTAL dead_deliveries)" "a past date: the dead delivery of a later run is not counted"
assert_status 0 "report --period tertial" -- k report --period tertial --format csv
CSV=$OUT
assert_eq "3 1 2 33.3" "$(col 0301 target) $(col 0301 actual) $(col 0301 gap) $(col 0301 percent_of_target)" "the tertial target (T1 = 3)"
assert_eq " no_target" "$(col 0302 target) $(col 0302 target_status)" "no tertial target for 0302: empty"
# the colour rule: reached >= 100 %, below 50-99 %, far below < 50 %; a target of 0 has no gap
assert_status 0 "tertial target 0302 2024-T1 2" -- k target set 0302 --tertial 2024-T1 2
assert_status 0 "month target 0301 2024-03 1" -- k target set 0301 --month 2024-03 1
assert_status 0 "month target 0302 2024-03 0" -- k target set 0302 --month 2024-03 0
assert_status 0 "report --period tertial" -- k report --period tertial --format csv
CSV=$OUT
assert_eq "2 1 1 50.0 below" "$(col 0302 target) $(col 0302 actual) $(col 0302 gap) $(col 0302 percent_of_target) $(col 0302 target_status)" \
	"1 of 2 (50 %): below the target, not far below"
assert_eq "33.3 far_below" "$(col 0301 percent_of_target) $(col 0301 target_status)" "1 of 3: far below"
assert_status 0 "report --period month --format csv" -- k report --period month --format csv
CSV=$OUT
assert_eq "1 1 0 100.0 reached" "$(col 0301 target) $(col 0301 actual) $(col 0301 gap) $(col 0301 percent_of_target) $(col 0301 target_status)" \
	"1 of 1: reached"
assert_eq "0 1   zero_target" "$(col 0302 target) $(col 0302 actual) $(col 0302 gap) $(col 0302 percent_of_target) $(col 0302 target_status)" \
	"a target of 0: no gap, no percentage, zero_target"
assert_status 0 "report --period month (table)" -- k report --period month
assert_contains "$OUT" "0302 Nav Bjørvika & Tøyen               0        1      –             –  ingen mål" \
	"table: a target of 0 reads \"ingen mål\", no gap of -1"
assert_contains "$OUT" "0301 Nav Gamle Oslo                     1        1      0       100,0 %  nådd" "table: reached"
assert_status 0 "report --period month --format html" -- k report --period month --format html
HM=$OUT
assert_contains "$HM" '<td style="color:#2e7d32;font-weight:bold">nådd</td>' "html: reached is green, in words too"
assert_contains "$HM" '<td style="color:#555;font-weight:bold">ingen mål</td>' "html: a target of 0 is grey \"ingen mål\""
assert_contains "$HM" '<tr><td>0302 Nav Bjørvika &amp; Tøyen</td><td class="n" style="text-align:right">0</td><td class="n" style="text-align:right">1</td><td class="n" style="text-align:right">–</td><td class="n" style="text-align:right">–</td>' \
	"html: a target of 0 has no gap (not -1) and no percentage"
assert_status 0 "report --period tertial --format html" -- k report --period tertial --format html
assert_contains "$OUT" '<td style="color:#b26a00;font-weight:bold">under mål</td>' "html: 50 % is amber"
assert_contains "$OUT" '<td style="color:#c0392b;font-weight:bold">langt under mål</td>' "html: 33 % is red"
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
assert_not_contains "$HTML" "Tallene gjelder personer i arbeidsfør alder" "html: the footnote does not say every figure is of working age"
assert_contains "$HTML" "Målgruppen og trakten gjelder personer i arbeidsfør alder; mottakere av stønad og deltakere telles uansett alder." \
	"html: the footnote says which figures are of working age"
assert_not_contains "$HTML" "Per <Berg>" "html: names are escaped"
assert_not_contains "$HTML" "SECRET-A3" "html: no protected case_ref"
assert_not_contains "$HTML" "src=" "html: no external images"
assert_not_contains "$HTML" "http://www.w3.org/1999" "html: no other namespace fetches"
# every style that carries meaning is inline: the same bars with the <style> block removed
for w in 'width:360px;background:#e9edf2' 'background:#2e8b57' 'background:#9aa9bb' 'background:#c0392b'; do
	assert_contains "$HTML" "$w" "html: inline style $w"
done
assert_not_contains "$HTML" 'class="bar"' "html: no bar that needs the <style> block"
/usr/bin/python3 -c 'import re, sys; s = open(sys.argv[1], encoding="utf-8").read()
open(sys.argv[2], "w", encoding="utf-8").write(re.sub(r"<style>.*?</style>", "", s, flags=re.S))' \
	"$T_SCRATCH/report.html" "$T_SCRATCH/nostyle.html"
assert_not_contains "$(cat "$T_SCRATCH/nostyle.html")" "<style" "html without its <style> block (as some webmail shows it)"
# count_colours PNG RRGGBB...: pixels of each colour in a screenshot (8-bit RGB/RGBA, non-interlaced)
cat >"$T_SCRATCH/pixels.py" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a png"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported png"
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
want = {bytes.fromhex(c): 0 for c in sys.argv[2:]}
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        if px in want: want[px] += 1
    prev = line
print(" ".join(str(want[bytes.fromhex(c)]) for c in sys.argv[2:]))
PY
if command -v chromium >/dev/null 2>&1; then
	for page in report nostyle; do
		prof=$(mktemp -d "$T_SCRATCH/chromium.XXXXXX")
		timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
			--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof" \
			--hide-scrollbars --force-device-scale-factor=1 \
			--screenshot="$T_SCRATCH/$page.png" --window-size=1200,3000 "file://$T_SCRATCH/$page.html" >/dev/null 2>&1
		size=$(stat -c %s "$T_SCRATCH/$page.png" 2>/dev/null || echo 0)
		if [ "$size" -gt 20000 ]; then ok "$page.html renders in chromium ($size bytes)"; else not_ok "$page.html renders in chromium" "png size $size"; fi
	done
	# bar colours: track, goal, red (far below) actual, funnel green; a 14 px bar is thousands of pixels
	PIX=$(/usr/bin/python3 "$T_SCRATCH/pixels.py" "$T_SCRATCH/nostyle.png" e9edf2 9aa9bb c0392b 2e8b57 2>&1)
	assert_eq ok "$(echo "$PIX" | awk '{ print ($1 > 5000 && $2 > 2000 && $3 > 200 && $4 > 2000) ? "ok" : $0 }')" \
		"without <style> the bars still have their length and colour (pixels of track, goal, actual, funnel: $PIX)"
	assert_eq "$(echo "$PIX" | cut -d' ' -f1,2,4)" \
		"$(/usr/bin/python3 "$T_SCRATCH/pixels.py" "$T_SCRATCH/report.png" e9edf2 9aa9bb 2e8b57 2>&1)" \
		"the bars are the same with and without the <style> block"
else
	echo "# chromium is not installed: skipping the HTML rendering check"
fi

# --- the leader's email: both parts Norwegian, the same content (the text part is the table format)
ECONF=$T_SCRATCH/email.conf
printf 'log = { destination = "stderr"; };\nemail = { smtp_url = "smtp://127.0.0.1:1"; from = "kvpscan@kommune.example.no"; starttls = "off"; timeout = 2; };\n' >"$ECONF"
"$KVPSCAN" -c "$ECONF" report --deliver >/dev/null 2>&1
psql_q "SELECT text_body FROM kvpscan.delivery WHERE kind = 'report' AND office_id = '0301'" >"$T_SCRATCH/mail.txt"
psql_q "SELECT html_body FROM kvpscan.delivery WHERE kind = 'report' AND office_id = '0301'" >"$T_SCRATCH/mail.html"
assert_contains "$(cat "$T_SCRATCH/mail.txt")" "Målekort: kvalifiseringsprogrammet (KVP)" "the leader's report is queued with a text part"
assert_eq ok "$(/usr/bin/python3 - "$T_SCRATCH/mail.txt" "$T_SCRATCH/mail.html" <<'PY'
import html, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
page = open(sys.argv[2], encoding="utf-8").read()
bad = []
for w in ("office", "target", "actual", "gap", "percent", "funnel", "since", "(none)"):
    if re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", text.replace("kvpscan target set", "")):
        bad.append("English in the text part: " + w)
heads = [html.unescape(re.sub("<[^>]+>", "", h)) for h in re.findall(r"<h2>(.*?)</h2>", page)]
if len(heads) < 5:
    bad.append("html headings: %r" % heads)
for h in heads:
    if h not in text:
        bad.append("heading not in the text part: " + h)
# the figures of the målekort line and every funnel stage are in both parts
for label in ("I målgruppen", "Kandidater", "Informert og vurdert", "Deltakere (aktive)", "Flagget"):
    t = re.findall(re.escape(label) + r" +(\d+)  ", text)
    hv = re.findall(re.escape(label) + r'</td><td class="n" style="text-align:right">(\d+)<', page)
    if not t or t != hv:
        bad.append("%s: text %r, html %r" % (label, t, hv))
for w in ("langt under mål", "10,0 %", "Laget av kvpscan fra lagrede kjøringer"):
    if w not in text or w not in html.unescape(page):
        bad.append("not in both parts: " + w)
print("ok" if not bad else "; ".join(bad))
PY
)" "the email's text part: Norwegian, the same sections and figures as the HTML part"

# --- persons without an office: one wording in every format
psql_q "INSERT INTO kvp_src.person (person_id, case_ref, birth_date, office_id, veileder_id) VALUES
          ('P-N1', 'REP-N1', '1980-01-01', NULL, NULL);
        INSERT INTO kvp_src.participation (person_id, start_date, end_date, planned_hours_per_week,
                                           next_evaluation_date, has_written_plan)
          VALUES ('P-N1', '2024-01-01', NULL, 37.5, '2024-06-01', true)" >/dev/null
assert_status 0 "scan as of 2024-03-16 with a participant without an office" -- k scan --as-of 2024-03-16
assert_status 0 "report (table)" -- k report
assert_contains "$OUT" "(uten kontor)" "table: (uten kontor)"
assert_not_contains "$OUT" "(none)" "table: not (none)"
assert_status 0 "report --format html" -- k report --format html
assert_contains "$OUT" "<td>(uten kontor)</td>" "html: (uten kontor)"
assert_status 0 "report --format csv" -- k report --format csv
CSV=$OUT
assert_eq "(uten kontor) 1" "$(col '' name) $(col '' actual)" "csv: the name (uten kontor), not empty"
k report --format json 2>/dev/null >"$T_SCRATCH/report.json"
assert_eq "(uten kontor)" "$(jq_ 'next(o["name"] for o in d["offices"] if o["office_id"] == "")')" "json: the name (uten kontor), not empty"

# --- generated data: every stage of the funnel <= the one above, for every office and the total
sed 's/@src@/kvp_demo/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
DCONF=$T_SCRATCH/demo.conf
printf 'log = { destination = "stderr"; };\ndatabase = { source_schema = "kvp_demo"; state_schema = "kvpscan_demo"; };\n' >"$DCONF"
kd() { "$KVPSCAN" -c "$DCONF" "$@"; }
assert_status 0 "migrate (demo)" -- kd migrate
assert_status 0 "demo data, 3000 persons" -- kd demo-data --persons 3000 --seed 16 --as-of 2025-06-15
assert_status 0 "scan the demo data as of 2025-06-15" -- kd scan --as-of 2025-06-15
kd report --format json 2>/dev/null >"$T_SCRATCH/demo.json"
assert_eq ok "$(/usr/bin/python3 - "$T_SCRATCH/demo.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad, n = [], 0
for o in d["offices"] + [d["total"]]:
    f, p, who = o["funnel"], o["persons"], o["office_id"]
    chain = [f["in_scope"], f["candidates"], f["informed"], f["assessed"]]
    if None in chain or any(a < b for a, b in zip(chain, chain[1:])):
        bad.append("%s funnel %r" % (who, chain))
    if f["flagged"] > f["candidates"] or max(f["flags"].values()) > f["flagged"]:
        bad.append("%s flagged %r of %r" % (who, f["flags"], f["flagged"]))
    if f["long_term"] > f["in_scope"] or f["special_needs"] > f["in_scope"]:
        bad.append("%s in scope %r" % (who, f["in_scope"]))
    if not (p["escalated_protected"] <= p["escalated"] <= p["open"] <= o["items"]["open"]):
        bad.append("%s persons %r" % (who, p))
    n += 1
if d["total"]["funnel"]["in_scope"] < 500:
    bad.append("too few in scope: %r" % d["total"]["funnel"]["in_scope"])
print("ok" if not bad and n > 2 else "%d offices; %s" % (n, "; ".join(bad[:8])))
PY
)" "demo data as of 2025-06-15: in scope >= candidates >= informed >= informed and assessed, everywhere"

# what comes from the stored run and what from the source today (docs/report.md, "Stored figures, current
# names"): renaming an office and removing a veileder after the run changes the names, never a figure
figures() {	# figures FILE: the report JSON without the names
	/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in ("name", "veileder_name", "generated_at")}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
print(json.dumps(strip(d), sort_keys=True))' "$1"
}
gone=$(psql_q "SELECT veileder_id FROM kvpscan_demo.item WHERE state <> 'resolved' AND veileder_id IS NOT NULL
	ORDER BY veileder_id LIMIT 1")
psql_q "UPDATE kvp_demo.office SET name = 'Nav Gamle Oslo (nytt navn)' WHERE office_id = '0315';
	DELETE FROM kvp_demo.veileder WHERE veileder_id = '$gone'" >/dev/null
kd report --format json 2>/dev/null >"$T_SCRATCH/demo2.json"
assert_eq "$(figures "$T_SCRATCH/demo.json")" "$(figures "$T_SCRATCH/demo2.json")" \
	"after the run, a renamed office and a removed veileder change no figure of the stored run's report"
assert_contains "$(cat "$T_SCRATCH/demo2.json")" '"Nav Gamle Oslo (nytt navn)"' "the office's name is today's"
finish
