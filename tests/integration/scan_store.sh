#!/bin/sh
# scan_store.sh - stored runs: idempotence, the item lifecycle, failed runs, data-quality counts
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
sed 's/@src@/kvp_src/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql -X -q -v ON_ERROR_STOP=1 -f "$top_srcdir/tests/fixtures/scan_store.sql" >/dev/null
CONF=$T_SCRATCH/kvpscan.conf
printf 'log = { destination = "stderr"; };\n' >"$CONF"
k() { "$KVPSCAN" -c "$CONF" "$@"; }
# last_seen: a live item's is NULL, the latest stored run (migration 011)
items() {	# items CASE_REF: flag:state:first_seen:last_seen:resolved_on, one per line, sorted
	psql_q "SELECT flag || ':' || state || ':' || first_seen || ':'
	          || coalesce(last_seen, (SELECT max(as_of) FROM kvpscan.run WHERE status = 'succeeded'))
	          || ':' || coalesce(resolved_on::text, '')
	          FROM kvpscan.item WHERE case_ref = '$1' ORDER BY flag, item_id"
}

assert_status 1 "a real scan needs the migrated schema" -- k scan --as-of 2023-03-01
assert_contains "$OUT" "migrate" "the message points at kvpscan migrate"
assert_status 0 "migrate" -- k migrate

# run 1
assert_status 0 "scan as of 2023-03-01" -- k scan --as-of 2023-03-01
assert_contains "$OUT" "flagged                2" "summary: 2 flagged"
assert_not_contains "$OUT" "LIFE-" "the summary holds no case_ref"
assert_eq "succeeded|2023-03-01|4|2|2|0" \
	"$(psql_q "SELECT status, as_of, recipients, candidates, flagged, items_resolved FROM kvpscan.run")" \
	"the run and its counts are stored"
assert_eq "kvp-2019.1" "$(psql_q "SELECT rule_version FROM kvpscan.run")" "the rule version is stored"
assert_eq 64 "$(psql_q "SELECT length(config_fingerprint) FROM kvpscan.run")" "the config fingerprint is stored"
assert_eq "LIFE-A|0301|Z1|f|{LONG_TERM}|{NOT_INFORMED,NOT_ASSESSED,AEV_MISSING}|10|f
LIFE-B|0301||t|{LONG_TERM}|{NOT_INFORMED,NOT_ASSESSED,AEV_MISSING}|10|t" \
	"$(psql_q "SELECT case_ref, office_id, veileder_id, routed_to_fallback, reasons, flags, months, protected
	             FROM kvpscan.candidate ORDER BY case_ref")" "candidates with routing and protection"
assert_eq "AEV_MISSING:NEW:2023-03-01:2023-03-01:
NOT_ASSESSED:NEW:2023-03-01:2023-03-01:
NOT_INFORMED:NEW:2023-03-01:2023-03-01:" "$(items LIFE-A)" "run 1: LIFE-A's items are NEW"
assert_eq 6 "$(psql_q "SELECT count(*) FROM kvpscan.item WHERE state = 'NEW'")" "6 new items"

# data-quality counts of run 1
assert_eq "BIRTH_DATE_MISSING:1:1
DUPLICATE_PAYMENT:1:1
FUTURE_EVENT:3:2
FUTURE_PAYMENT:4:2
NEGATIVE_AMOUNT:1:1
NO_OFFICE:1:1
ORPHAN_PAYMENT:2:0
UNKNOWN_EVENT:1:1
UNKNOWN_INNSATSGRUPPE:1:1
UNKNOWN_OFFICE:1:1
UNKNOWN_PAYMENT_KIND:1:1" \
	"$(psql_q "SELECT code || ':' || rows || ':' || persons FROM kvpscan.run_data_quality ORDER BY code")" \
	"every kind of bad source row is counted in the run"
assert_contains "$OUT" "data-quality problems  17 source rows" "the summary counts them"

# idempotent
before=$(psql_q "SELECT (SELECT count(*) FROM kvpscan.run) || '/' || (SELECT count(*) FROM kvpscan.candidate) || '/' || (SELECT count(*) FROM kvpscan.item)")
assert_status 0 "the same scan again exits 0" -- k scan --as-of 2023-03-01
assert_contains "$OUT" "already stored" "and says it was already done"
assert_eq "$before" "$(psql_q "SELECT (SELECT count(*) FROM kvpscan.run) || '/' || (SELECT count(*) FROM kvpscan.candidate) || '/' || (SELECT count(*) FROM kvpscan.item)")" \
	"a second run for the same date stores nothing"

# run 2: LIFE-A stays (OPEN), LIFE-B is pending (RESOLVED)
assert_status 0 "scan as of 2023-04-01" -- k scan --as-of 2023-04-01
assert_eq "AEV_MISSING:OPEN:2023-03-01:2023-04-01:
NOT_ASSESSED:OPEN:2023-03-01:2023-04-01:
NOT_INFORMED:OPEN:2023-03-01:2023-04-01:" "$(items LIFE-A)" "run 2: LIFE-A's items are OPEN, first_seen kept"
assert_eq "AEV_MISSING:RESOLVED:2023-03-01:2023-03-01:2023-04-01
NOT_ASSESSED:RESOLVED:2023-03-01:2023-03-01:2023-04-01
NOT_INFORMED:RESOLVED:2023-03-01:2023-03-01:2023-04-01" "$(items LIFE-B)" "run 2: LIFE-B's items are RESOLVED"
assert_eq "0|3|3|1" "$(psql_q "SELECT items_new, items_open, items_resolved, excluded_pending FROM kvpscan.run WHERE as_of = '2023-04-01'")" "run 2's item counts"

# run 3: LIFE-A informed; LIFE-B rejected, so back with new items
assert_status 0 "scan as of 2023-05-01" -- k scan --as-of 2023-05-01
assert_eq "AEV_MISSING:OPEN:2023-03-01:2023-05-01:
NOT_ASSESSED:OPEN:2023-03-01:2023-05-01:
NOT_INFORMED:RESOLVED:2023-03-01:2023-04-01:2023-05-01" "$(items LIFE-A)" "run 3: NOT_INFORMED resolved, the rest stays OPEN"
assert_eq "AEV_MISSING:RESOLVED:2023-03-01:2023-03-01:2023-04-01
AEV_MISSING:NEW:2023-05-01:2023-05-01:
NOT_ASSESSED:RESOLVED:2023-03-01:2023-03-01:2023-04-01
NOT_INFORMED:RESOLVED:2023-03-01:2023-03-01:2023-04-01
NOT_INFORMED:NEW:2023-05-01:2023-05-01:" "$(items LIFE-B)" "run 3: reappearing flags are new items (REJECTED counts as assessed)"

# a night rewrites what changed only (migration 011): LIFE-A's two OPEN items
# stay the row versions they are, LIFE-B's NEW ones become OPEN
xmins() { psql_q "SELECT string_agg(flag || '=' || xmin::text, ' ' ORDER BY flag) FROM kvpscan.item
                    WHERE case_ref = '$1' AND state <> 'RESOLVED'"; }
a_before=$(xmins LIFE-A)
b_before=$(xmins LIFE-B)
cands() {	# cands RUN_AS_OF: that run's candidates (the rows that hold at it), one per line
	psql_q "SELECT c.case_ref || ':' || array_to_string(c.flags, '+') || ':' || c.months
	          FROM kvpscan.candidate c JOIN kvpscan.run r ON r.as_of = '$1' AND r.status = 'succeeded'
	         WHERE c.run_id <= r.run_id AND (c.until_run_id IS NULL OR c.until_run_id > r.run_id)
	         ORDER BY 1"
}
c_rows=$(psql_q "SELECT count(*) FROM kvpscan.candidate")
assert_status 0 "scan as of 2023-05-02, nothing changed in the source" -- k scan --as-of 2023-05-02
assert_eq "$c_rows" "$(psql_q "SELECT count(*) FROM kvpscan.candidate")" "unchanged candidates are not stored again"
assert_eq "$(cands 2023-05-01)" "$(cands 2023-05-02)" "the quiet night's candidates are the night before's"
assert_contains "$(cands 2023-05-02)" "LIFE-A:NOT_ASSESSED+AEV_MISSING:" "LIFE-A is a candidate of the quiet night"
assert_eq "2023-05-01" "$(psql_q "SELECT string_agg(r.as_of::text, ',' ORDER BY r.run_id) FROM kvpscan.candidate c
	JOIN kvpscan.run r ON r.run_id = c.run_id WHERE c.case_ref = 'LIFE-A' AND c.until_run_id IS NULL")" \
	"LIFE-A's current row holds from the run that last changed it (NOT_INFORMED resolved)"
assert_eq "$a_before" "$(xmins LIFE-A)" "unchanged open items are not rewritten"
[ "$b_before" != "$(xmins LIFE-B)" ] && ok "NEW items are rewritten as OPEN" || not_ok "NEW items are rewritten as OPEN"
assert_eq "0|4|0" "$(psql_q "SELECT items_new, items_open, items_resolved FROM kvpscan.run WHERE as_of = '2023-05-02'")" \
	"the quiet night's item counts"
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.item WHERE state <> 'RESOLVED' AND (last_seen IS NOT NULL OR last_run_id IS NOT NULL)")" \
	"a live item has no last_seen of its own"
assert_eq "AEV_MISSING:OPEN:2023-05-01:2023-05-02:
NOT_INFORMED:OPEN:2023-05-01:2023-05-02:" "$(items LIFE-B | grep -v RESOLVED)" "LIFE-B's items are OPEN"

# order and replays
assert_status 1 "a real scan before the latest stored date is refused" -- k scan --as-of 2023-04-15
assert_contains "$OUT" "--dry-run" "with a hint to use --dry-run"
assert_status 0 "an old date already stored is a no-op" -- k scan --as-of 2023-04-01
assert_contains "$OUT" "already stored" "and says so"

# a failed run leaves nothing but its failed run row
snapshot() { psql_q "SELECT md5(string_agg(i::text, ',' ORDER BY item_id)) FROM kvpscan.item i"; }
items_before=$(snapshot)
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE FUNCTION public.fail_candidate() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'candidate insert refused by the test'; END $$;
CREATE TRIGGER fail_candidate BEFORE INSERT ON kvpscan.candidate
  FOR EACH ROW EXECUTE FUNCTION public.fail_candidate();
SQL
assert_status 1 "a scan whose candidate insert fails exits 1" -- k scan --as-of 2023-06-01
assert_contains "$OUT" "refused by the test" "the server's message is shown"
assert_eq "failed|0" "$(psql_q "SELECT status, candidates FROM kvpscan.run WHERE as_of = '2023-06-01'")" "only a failed run row is kept"
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.candidate c JOIN kvpscan.run r USING (run_id) WHERE r.as_of = '2023-06-01'")" "no candidate rows of the failed run"
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.run_data_quality d JOIN kvpscan.run r USING (run_id) WHERE r.as_of = '2023-06-01'")" "no data-quality rows of the failed run"
assert_eq "$items_before" "$(snapshot)" "the items are untouched"
psql_q "DROP TRIGGER fail_candidate ON kvpscan.candidate" >/dev/null
assert_status 0 "the same date succeeds once fixed" -- k scan --as-of 2023-06-01
assert_eq "failed succeeded" "$(psql_q "SELECT status FROM kvpscan.run WHERE as_of = '2023-06-01' ORDER BY run_id" | tr '\n' ' ' | sed 's/ $//')" "the failed attempt stays on record"

# a changed configuration is a new run for the same date
printf 'log = { destination = "stderr"; };\nidentification = { long_term_more_than = 11; };\n' >"$T_SCRATCH/strict.conf"
assert_status 0 "scan with other settings" -- "$KVPSCAN" -c "$T_SCRATCH/strict.conf" scan --as-of 2023-06-01
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.item WHERE state <> 'RESOLVED'")" "nobody has more than 11 months: every item resolved"
assert_contains "$OUT" "recipients in window   4" "recipients are counted even with no candidate"

# candidate and item carry no foreign keys (migration 007): every run id must still name a run
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.candidate c WHERE NOT EXISTS (SELECT 1 FROM kvpscan.run r WHERE r.run_id = c.run_id AND r.status = 'succeeded')")" \
	"every candidate belongs to a succeeded run"
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.item i WHERE NOT EXISTS (SELECT 1 FROM kvpscan.run r WHERE r.run_id = i.first_run_id AND r.status = 'succeeded') OR (i.last_run_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kvpscan.run r WHERE r.run_id = i.last_run_id AND r.status = 'succeeded')) OR (i.resolved_run_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM kvpscan.run r WHERE r.run_id = i.resolved_run_id AND r.status = 'succeeded'))")" \
	"every item's first, last and resolving run is a succeeded run"
assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN ('kvpscan.candidate'::regclass, 'kvpscan.item'::regclass)")" \
	"no foreign keys on candidate and item"

finish
