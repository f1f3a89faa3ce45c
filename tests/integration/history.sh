#!/bin/sh
# history.sh - kvpscan history CASE_REF: one case's trail from three stored scans as of
# explicit dates, with source events added between them and worklists delivered through
# the spool: runs, items with the events that resolved them, deliveries, escalations to
# the leader and the supervisor's questions, text and JSON field by field; a protected
# person's deliveries as counts; an unknown case_ref exits 1; the log never names the case
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
sed 's/@src@/kvp_src/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql -X -q -v ON_ERROR_STOP=1 <<'EOSQL'
SET search_path = kvp_src;
INSERT INTO office VALUES ('0301', 'Nav Test A', '0301', 'leder@example.org', 'team-a@example.org');
INSERT INTO veileder VALUES ('Z990001', '0301', 'Veileder En', 'z1@example.org', true);
-- HI-A: a long-term recipient; HI-P: the same, protected; HI-K: a participant with no written plan
INSERT INTO person VALUES
  ('P-HA', 'HI-A', '1980-01-01', '0301', 'Z990001', NULL),
  ('P-HP', 'HI-P', '1981-01-01', '0301', 'Z990001', 'FORTROLIG'),
  ('P-HK', 'HI-K', '1982-01-01', '0301', 'Z990001', NULL);
INSERT INTO payment SELECT p, (date '2025-03-01' + make_interval(months => i))::date, 1000, 'LIVSOPPHOLD'
  FROM generate_series(0, 11) i, (VALUES ('P-HA'), ('P-HP')) AS t(p);
INSERT INTO kvp_event VALUES ('P-HK', '2025-05-20', 'GRANTED', NULL, 'Z990001');
INSERT INTO assessment VALUES ('P-HK', '2025-05-01', 'AEV', NULL, true);
INSERT INTO participation VALUES ('P-HK', '2025-06-01', NULL, 37.5, '2026-06-01', false);
EOSQL
SPOOL=$T_SCRATCH/spool
mkdir -p "$SPOOL"
CONF=$T_SCRATCH/kvpscan.conf
cat >"$CONF" <<EOC
log = { destination = "stderr"; level = "info"; };
delivery = { channel = "spool"; send = "all_open"; };
spool = { directory = "$SPOOL"; };
EOC
k() { "$KVPSCAN" -c "$CONF" "$@"; }
jf() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

assert_status 0 "migrate" -- k migrate
# run 1, 2026-01-15: HI-A and HI-P flagged for all three, HI-K for its plan
assert_status 0 "scan as of 2026-01-15" -- k scan --as-of 2026-01-15
assert_status 0 "deliver run 1" -- k deliver
# informed on 2026-02-10 by Z990001: run 2 resolves NOT_INFORMED with that event
psql_q "INSERT INTO kvp_src.kvp_event VALUES ('P-HA', '2026-02-10', 'INFORMED', NULL, 'Z990001')" >/dev/null
assert_status 0 "scan as of 2026-02-20" -- k scan --as-of 2026-02-20
assert_status 0 "deliver run 2" -- k deliver
assert_status 0 "the målekort of run 2 queued" -- k report --deliver --as-of 2026-02-20
assert_status 0 "deliver the målekort" -- k deliver
# an AEV on 2026-03-02: run 3 resolves AEV_MISSING with it
psql_q "INSERT INTO kvp_src.assessment VALUES ('P-HA', '2026-03-02', 'AEV', NULL, NULL)" >/dev/null
assert_status 0 "scan as of 2026-03-05" -- k scan --as-of 2026-03-05
run1=$(psql_q "SELECT run_id FROM kvpscan.run WHERE as_of = '2026-01-15'")
run2=$(psql_q "SELECT run_id FROM kvpscan.run WHERE as_of = '2026-02-20'")
run3=$(psql_q "SELECT run_id FROM kvpscan.run WHERE as_of = '2026-03-05'")

# what the scan stored for it (migration 010)
assert_eq "AEV_MISSING|AEV|2026-03-02|
NOT_ASSESSED|||
NOT_INFORMED|INFORMED|2026-02-10|Z990001" \
	"$(psql_q "SELECT flag, coalesce(resolved_event, ''), coalesce(resolved_event_date::text, ''),
	                  coalesce(resolved_event_veileder, '') FROM kvpscan.item WHERE case_ref = 'HI-A' ORDER BY flag")" \
	"the resolving source event is stored with the item"
# which items a worklist carried follows from the run's candidates and the
# worklist's delivery.send (migration 011): nothing is linked per item and night
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.delivery_item")" "no delivery_item row per open item and night"
assert_eq "all_open" "$(psql_q "SELECT string_agg(DISTINCT worklist_send, ',') FROM kvpscan.delivery WHERE kind = 'worklist'")" \
	"every worklist records the delivery.send it was built with"

# text
assert_status 0 "history HI-A" -- k history HI-A
TXT=$OUT
printf '%s\n' "$TXT" | sed 's/^/# /'
assert_contains "$TXT" "Case HI-A: the documented trail from stored runs" "text: the heading"
assert_contains "$TXT" "first identified  2026-01-15" "text: first identified"
assert_contains "$TXT" "2026-01-15  run $run1  reasons LONG_TERM  flags NOT_INFORMED+NOT_ASSESSED+AEV_MISSING  office 0301, veileder Z990001" \
	"text: run 1 with its reasons and flags"
assert_contains "$TXT" "2026-02-20  run $run2  reasons LONG_TERM  flags NOT_ASSESSED+AEV_MISSING" "text: run 2's flags"
assert_contains "$TXT" "2026-03-05  run $run3  reasons LONG_TERM  flags NOT_ASSESSED  office" "text: run 3's flags"
assert_contains "$TXT" "NOT_INFORMED         first seen 2026-01-15  resolved 2026-02-20 after 36 days: INFORMED on 2026-02-10, documented by Z990001" \
	"text: NOT_INFORMED resolved by the INFORMED event"
assert_contains "$TXT" "AEV_MISSING          first seen 2026-01-15  resolved 2026-03-05 after 49 days: AEV on 2026-03-02" \
	"text: AEV_MISSING resolved by the AEV"
assert_contains "$TXT" "NOT_ASSESSED         first seen 2026-01-15  open (OPEN), last seen 2026-03-05, 49 days" "text: NOT_ASSESSED open"
wl1=$(psql_q "SELECT delivery_id FROM kvpscan.delivery WHERE run_id = $run1 AND veileder_id = 'Z990001'")
wl3=$(psql_q "SELECT delivery_id FROM kvpscan.delivery WHERE run_id = $run3 AND veileder_id = 'Z990001'")
assert_contains "$TXT" "$wl1  worklist by spool to veileder Z990001 (office 0301), run as of 2026-01-15: NOT_INFORMED+NOT_ASSESSED+AEV_MISSING; sent at " \
	"text: run 1's worklist that carried it"
assert_contains "$TXT" ", 1 attempt" "text: the attempts"
assert_contains "$TXT" "$wl3  worklist by spool to veileder Z990001 (office 0301), run as of 2026-03-05: NOT_ASSESSED; pending, 0 attempts" \
	"text: run 3's worklist, not yet sent"
rp=$(psql_q "SELECT delivery_id FROM kvpscan.delivery WHERE run_id = $run2 AND kind = 'report' AND office_id = '0301'")
assert_contains "$TXT" "2026-02-20  run $run2  NOT_ASSESSED+AEV_MISSING open 36 days" "text: escalated at run 2"
assert_contains "$TXT" "    målekort $rp by spool to 0301: sent at " "text: the målekort delivery of the escalation"
assert_contains "$TXT" "2026-03-05  run $run3  NOT_ASSESSED open 49 days
    no målekort delivery queued for that run" "text: escalated at run 3, no målekort queued"
assert_not_contains "$TXT" "2026-01-15  run $run1  NOT_" "text: not escalated at run 1"
assert_contains "$TXT" "informed about KVP:            yes: INFORMED on 2026-02-10, documented by Z990001, 26 days after first identified" \
	"text: informed, 26 days after first identified"
assert_contains "$TXT" "assessed for KVP:              no: NOT_ASSESSED open since 2026-01-15 (49 days as of 2026-03-05)" "text: not assessed"
assert_contains "$TXT" "AEV done:                      yes: AEV on 2026-03-02" "text: the AEV"
assert_contains "$TXT" "AEV before the KVP decision:   unknown: no stored run judged it (never a flagged participant)" \
	"text: AEV before the decision unknown for a non-participant"
assert_contains "$TXT" "history of one case shown: 3 runs, 3 items, 3 deliveries" "the log line says it was used"
assert_not_contains "$(k history HI-A 2>&1 >/dev/null)" "HI-A" "the log line has no case_ref"

# JSON, field by field
k history HI-A --format json 2>/dev/null >"$T_SCRATCH/a.json"
assert_eq "kvpscan.history 1 HI-A False 2026-01-15 30" \
	"$(jf "$T_SCRATCH/a.json" '" ".join(str(d[k]) for k in ("type", "version", "case_ref", "protected", "first_identified", "escalate_after_days"))')" \
	"json: the header"
assert_eq "[('2026-01-15', ['LONG_TERM'], ['NOT_INFORMED', 'NOT_ASSESSED', 'AEV_MISSING'], '0301', 'Z990001', False), ('2026-02-20', ['LONG_TERM'], ['NOT_ASSESSED', 'AEV_MISSING'], '0301', 'Z990001', False), ('2026-03-05', ['LONG_TERM'], ['NOT_ASSESSED'], '0301', 'Z990001', False)]" \
	"$(jf "$T_SCRATCH/a.json" '[(r["as_of"], r["reasons"], r["flags"], r["office_id"], r["veileder_id"], r["routed_to_fallback"]) for r in d["runs"]]')" \
	"json: the runs"
assert_eq "[('NOT_INFORMED', 'RESOLVED', '2026-01-15', '2026-02-20', 36, {'event': 'INFORMED', 'date': '2026-02-10', 'veileder_id': 'Z990001'}), ('NOT_ASSESSED', 'OPEN', '2026-01-15', None, 49, None), ('AEV_MISSING', 'RESOLVED', '2026-01-15', '2026-03-05', 49, {'event': 'AEV', 'date': '2026-03-02', 'veileder_id': None})]" \
	"$(jf "$T_SCRATCH/a.json" '[(i["flag"], i["state"], i["first_seen"], i["resolved_on"], i["days"], i["resolved_by"]) for i in d["items"]]')" \
	"json: the items with their resolving events"
assert_eq "[('$wl1', 'worklist', 'spool', '0301', 'Z990001', 'sent', 1, '2026-01-15', ['NOT_INFORMED', 'NOT_ASSESSED', 'AEV_MISSING'], True, True), ('$(psql_q "SELECT delivery_id FROM kvpscan.delivery WHERE run_id = $run2 AND veileder_id = 'Z990001'")', 'worklist', 'spool', '0301', 'Z990001', 'sent', 1, '2026-02-20', ['NOT_ASSESSED', 'AEV_MISSING'], True, True), ('$wl3', 'worklist', 'spool', '0301', 'Z990001', 'pending', 0, '2026-03-05', ['NOT_ASSESSED'], True, False)]" \
	"$(jf "$T_SCRATCH/a.json" '[(x["delivery_id"], x["kind"], x["channel"], x["office_id"], x["veileder_id"], x["state"], x["attempts"], x["run_as_of"], x["flags"], x["named"], x["sent_at"] is not None) for x in d["deliveries"]]')" \
	"json: every delivery that carried it"
# and those are exactly the worklists whose own body names HI-A: what was queued and sent
assert_eq "$(psql_q "SELECT string_agg(delivery_id, ' ' ORDER BY delivery_id) FROM kvpscan.delivery
                     WHERE kind = 'worklist' AND json_body LIKE '%\"HI-A\"%'")" \
	"$(jf "$T_SCRATCH/a.json" '" ".join(sorted(x["delivery_id"] for x in d["deliveries"]))')" \
	"json: the deliveries that carried it are the worklists whose body names it"
assert_eq "[('2026-02-20', ['NOT_ASSESSED', 'AEV_MISSING'], 36, False, [('$rp', 'spool', '0301', 'sent')]), ('2026-03-05', ['NOT_ASSESSED'], 49, False, [])]" \
	"$(jf "$T_SCRATCH/a.json" '[(e["as_of"], e["flags"], e["days_open"], e["protected"], [(r["delivery_id"], r["channel"], r["office_id"], r["state"]) for r in e["reports"]]) for e in d["escalations"]]')" \
	"json: the escalations with the målekort delivered to the leader"
assert_eq "yes INFORMED 2026-02-10 Z990001 26" \
	"$(jf "$T_SCRATCH/a.json" '" ".join(str(d["questions"]["informed"][k]) for k in ("answer", "event", "event_date", "veileder_id", "days_after_first_identified"))')" \
	"json: informed, and 26 days after first identified"
assert_eq "no 2026-01-15 2026-03-05" \
	"$(jf "$T_SCRATCH/a.json" '" ".join(str(d["questions"]["assessed"][k]) for k in ("answer", "since", "until"))')" \
	"json: not assessed, open since"
assert_eq "unknown unknown unknown unknown" \
	"$(jf "$T_SCRATCH/a.json" '" ".join(d["questions"][k]["answer"] for k in ("aev_before_decision", "written_plan", "full_time", "evaluation_dates"))')" \
	"json: the participation questions are unknown for a non-participant"

# the participant
assert_status 0 "history HI-K" -- k history HI-K --format json
k history HI-K --format json 2>/dev/null >"$T_SCRATCH/k.json"
assert_eq "None ['IN_PROGRAMME'] ['NO_WRITTEN_PLAN']" \
	"$(jf "$T_SCRATCH/k.json" 'str(d["first_identified"]) + " " + str(d["runs"][0]["reasons"]) + " " + str(d["runs"][0]["flags"])')" \
	"json: the participant's runs"
assert_eq "no yes 3 yes yes unknown" \
	"$(jf "$T_SCRATCH/k.json" '" ".join(str(x) for x in (d["questions"]["written_plan"]["answer"], d["questions"]["aev_before_decision"]["answer"], d["questions"]["aev_before_decision"]["runs_not_flagged"], d["questions"]["full_time"]["answer"], d["questions"]["evaluation_dates"]["answer"], d["questions"]["informed"]["answer"]))')" \
	"json: written plan no; AEV before the decision, full time and evaluation dates yes in its 3 runs; informed not judged"
assert_status 0 "history HI-K text" -- k history HI-K
assert_contains "$OUT" "AEV before the KVP decision:   yes: never flagged AEV_AFTER_DECISION in the 3 stored runs in which it was a flagged participant" \
	"text: AEV before the decision"
assert_contains "$OUT" "written plan:                  no: NO_WRITTEN_PLAN open since 2026-01-15 (49 days as of 2026-03-05)" "text: no written plan"

# the protected person: the trail shows here, the deliveries carried a count only
k history HI-P --format json 2>/dev/null >"$T_SCRATCH/p.json"
assert_eq "True [False, False, False]" "$(jf "$T_SCRATCH/p.json" 'str(d["protected"]) + " " + str([x["named"] for x in d["deliveries"]])')" \
	"json: a protected person's deliveries carried it only as a count"
assert_eq "[None, None, None]" "$(jf "$T_SCRATCH/p.json" '[x["veileder_id"] for x in d["deliveries"]]')" \
	"json: a protected person's worklists went to the office fallback"
assert_eq "[True, True]" "$(jf "$T_SCRATCH/p.json" '[e["protected"] for e in d["escalations"]]')" "json: its escalations say protected"
for f in "$SPOOL"/*.json; do
	grep -q "HI-P" "$f" && not_ok "no spool file names the protected case" "$f"
done
ok "checked the spool files for the protected case"
assert_status 0 "history HI-P text" -- k history HI-P
assert_contains "$OUT" "protected person: this trail is for local use" "text: the protected note"
assert_contains "$OUT" "(as a count only)" "text: deliveries as a count"

# it never scans: the run count is unchanged, nothing new stored
assert_eq 3 "$(psql_q "SELECT count(*) FROM kvpscan.run")" "history stored no run"

# unknown case_ref
assert_status 1 "an unknown case_ref exits 1" -- k history NO-SUCH-CASE
assert_contains "$OUT" "no stored run and no source person has that case reference" "unknown: the error"
assert_not_contains "$OUT" "NO-SUCH-CASE" "unknown: the message does not repeat the case_ref"
# known in the source only: an empty trail
psql_q "INSERT INTO kvp_src.person VALUES ('P-HN', 'HI-N', '1990-01-01', '0301', 'Z990001', NULL)" >/dev/null
assert_status 0 "a case never flagged" -- k history HI-N
assert_contains "$OUT" "Runs in which it was a candidate
  none" "never flagged: no runs"
# valgrind once (not under ASan)
if command -v valgrind >/dev/null 2>&1 && ! ldd "$KVPSCAN" 2>/dev/null | grep -q libasan; then
	assert_status 0 "history under valgrind: no leaks, no errors" -- valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		"$KVPSCAN" -c "$CONF" history HI-A --format json
	assert_status 0 "history text under valgrind" -- valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		"$KVPSCAN" -c "$CONF" history HI-P
else
	ok "# SKIP valgrind (not installed or a sanitizer build)"
fi
assert_status 2 "no case_ref is a usage error" -- k history
assert_status 2 "a bad format is a usage error" -- k history HI-A --format xml
finish
