#!/bin/sh
# deliver_spool.sh - worklists of a real scan through the outbox to the spool channel:
# one valid JSON file per recipient, items matching the item table, no personal data,
# protected persons only as a count, idempotent delivery, delivery.send = "new"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
pg_start || { echo "cannot start PostgreSQL"; exit 1; }
scratch_dir
SPOOL=$T_SCRATCH/spool
mkdir -p "$SPOOL"

write_conf() {	# write_conf FILE SEND
	cat > "$1" <<EOC
delivery = { channel = "spool"; send = "$2"; };
spool = { directory = "$SPOOL"; };
EOC
}
write_conf "$T_SCRATCH/all.conf" all_open
write_conf "$T_SCRATCH/new.conf" new
K="$KVPSCAN -c $T_SCRATCH/all.conf"

assert_status 0 "migrate" -- $K migrate
assert_status 0 "demo data" -- $K demo-data --persons 5000 --seed 3 --as-of 2024-03-01
assert_status 0 "scan as of 2024-03-01" -- $K scan --as-of 2024-03-01
run1=$(psql_q "SELECT max(run_id) FROM kvpscan.run WHERE status = 'succeeded'")

# the scan queued one worklist per recipient, in the scan's transaction
queued=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id = $run1 AND state = 'pending'")
recipients=$(psql_q "SELECT count(*) FROM (SELECT DISTINCT office_id,
    CASE WHEN protected THEN NULL ELSE veileder_id END FROM kvpscan.item
    WHERE state <> 'RESOLVED') r")
assert_eq "$recipients" "$queued" "one pending worklist per recipient after the scan"
# more than 64: the worklists are queued 64 to an INSERT (worklist.c), so a batch boundary is crossed
[ "$queued" -gt 64 ] && ok "more than 64 recipients ($queued)" || not_ok "more than 64 recipients" "$queued"

assert_status 0 "deliver" -- $K deliver
assert_contains "$OUT" "sent $queued," "deliver reports every worklist sent"
files=$(ls "$SPOOL" | grep -c '\.json$')
assert_eq "$queued" "$files" "one spool file per recipient"
sent=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'sent' AND run_id = $run1")
assert_eq "$queued" "$sent" "every delivery is sent"
ids_db=$(psql_q "SELECT delivery_id || '.json' FROM kvpscan.delivery WHERE run_id = $run1 ORDER BY 1")
ids_fs=$(ls "$SPOOL" | LC_ALL=C sort)
assert_eq "$ids_db" "$ids_fs" "the spool files are named by delivery id"

bad=0
for f in "$SPOOL"/*.json; do
	$PY -m json.tool "$f" >/dev/null 2>&1 || bad=$((bad + 1))
done
assert_eq 0 "$bad" "every spool file is valid JSON"

# per recipient: the items listed equal the live, unprotected persons in the item table
summary() {	# summary RUN: office|veileder|items|protected|statuses, one line per file of RUN
	$PY - "$SPOOL" "$1" <<'EOP'
import json, os, sys
d, run = sys.argv[1], int(sys.argv[2])
rows = []
for name in os.listdir(d):
    doc = json.load(open(os.path.join(d, name), encoding="utf-8"))
    if doc["run_id"] != run:
        continue
    assert doc["type"] == "kvpscan.worklist" and doc["version"] == 1
    assert doc["summary"]["cases"] == len(doc["items"])
    st = sorted(set(i["status"] for i in doc["items"]))
    rows.append("%s|%s|%d|%d|%s" % (doc["office_id"] or "", doc["veileder_id"] or "",
                                    len(doc["items"]), doc["protected_count"], "+".join(st)))
print("\n".join(sorted(rows)))
EOP
}
got=$(summary "$run1")
want=$(psql_q "SELECT coalesce(office_id, '') || '|' || coalesce(v, '') || '|'
        || count(DISTINCT person_id) FILTER (WHERE NOT protected) || '|'
        || count(DISTINCT person_id) FILTER (WHERE protected) || '|'
        || array_to_string(array_agg(DISTINCT st ORDER BY st) FILTER (WHERE NOT protected), '+')
      FROM (SELECT office_id, person_id, protected,
                   CASE WHEN protected THEN NULL ELSE veileder_id END AS v,
                   CASE WHEN bool_or(state = 'NEW') OVER (PARTITION BY person_id) THEN 'NEW' ELSE 'OPEN' END AS st
              FROM kvpscan.item WHERE state <> 'RESOLVED') i
     GROUP BY office_id, v ORDER BY 1" | LC_ALL=C sort)
got=$(printf '%s\n' "$got" | LC_ALL=C sort)
assert_eq "$want" "$got" "items and protected counts per recipient match the item table"

# privacy: no protected case_ref, person_id, birth date or veileder name anywhere in the spool
nprot=$(psql_q "SELECT count(DISTINCT person_id) FROM kvpscan.item WHERE protected AND state <> 'RESOLVED'")
[ "$nprot" -gt 0 ] && ok "the data has protected persons on the worklists ($nprot)" \
	|| not_ok "the data has protected persons on the worklists"
leaks=0
for ref in $(psql_q "SELECT case_ref FROM kvp_src.person WHERE protection IS NOT NULL"); do
	grep -rqF -- "$ref" "$SPOOL" && leaks=$((leaks + 1))
done
assert_eq 0 "$leaks" "no protected case_ref in the spool"
leaks=0
for v in $(psql_q "SELECT person_id FROM kvp_src.person") \
	 $(psql_q "SELECT DISTINCT p.birth_date FROM kvp_src.person p JOIN kvpscan.item i USING (person_id)"); do
	grep -rqF -- "$v" "$SPOOL" && leaks=$((leaks + 1))
done
assert_eq 0 "$leaks" "no person_id or birth date in the spool"
leaks=0
psql_q "SELECT display_name FROM kvp_src.veileder" > "$T_SCRATCH/names"
while IFS= read -r name; do
	grep -rqF -- "$name" "$SPOOL" && leaks=$((leaks + 1))
done < "$T_SCRATCH/names"
assert_eq 0 "$leaks" "no display name in the spool"
hint=$(cat "$SPOOL"/*.json | grep -c 'kvpscan explain')
[ "$hint" -gt 0 ] && ok "the fallback list carries the hint to run kvpscan explain" \
	|| not_ok "the fallback list carries the hint to run kvpscan explain"

# a second deliver sends nothing new
assert_status 0 "second deliver" -- $K deliver
assert_contains "$OUT" "sent 0," "the second deliver sends nothing"
assert_eq "$files" "$(ls "$SPOOL" | grep -c '\.json$')" "no new spool files"
assert_status 0 "scan of the same day again" -- $K scan --as-of 2024-03-01
assert_eq "$queued" "$(psql_q "SELECT count(*) FROM kvpscan.delivery")" "a repeated scan queues nothing again"

# the next day with delivery.send = "new": a new candidate (and a new protected one) appear
psql_q "INSERT INTO kvp_src.person VALUES
          ('99999999901', 'S-TEST-NEW1', '1980-05-05', '0315', NULL, NULL),
          ('99999999902', 'S-TEST-PROT2', '1981-06-06', '0315', 'Z990001', 'FORTROLIG');
        INSERT INTO kvp_src.assessment VALUES
          ('99999999901', '2024-03-02', 'VEDTAK_14A', 'SPESIELT_TILPASSET_INNSATS'),
          ('99999999902', '2024-03-02', 'VEDTAK_14A', 'SPESIELT_TILPASSET_INNSATS')"
K2="$KVPSCAN -c $T_SCRATCH/new.conf"
assert_status 0 "scan as of 2024-03-02 with send = new" -- $K2 scan --as-of 2024-03-02
run2=$(psql_q "SELECT max(run_id) FROM kvpscan.run WHERE status = 'succeeded'")
assert_status 0 "deliver the second run" -- $K2 deliver
got=$(summary "$run2" | LC_ALL=C sort)
want=$(psql_q "SELECT coalesce(office_id, '') || '|' || coalesce(v, '') || '|'
        || count(DISTINCT person_id) FILTER (WHERE NOT protected) || '|'
        || count(DISTINCT person_id) FILTER (WHERE protected) || '|'
        || CASE WHEN bool_or(NOT protected) THEN 'NEW' ELSE '' END
      FROM (SELECT office_id, person_id, protected,
                   CASE WHEN protected THEN NULL ELSE veileder_id END AS v
              FROM kvpscan.item WHERE first_run_id = $run2 AND state = 'NEW') i
     GROUP BY office_id, v ORDER BY 1" | LC_ALL=C sort)
assert_eq "$want" "$got" "with send = new the second run's lists hold exactly the NEW items"
assert_contains "$got" "|NEW" "the second run has NEW items on a list"
assert_not_contains "$got" "OPEN" "no OPEN item on a send = new list"
grep -lqF 'S-TEST-NEW1' "$SPOOL"/wl-"$run2"-*.json 2>/dev/null && ok "the new case is on a list" \
	|| not_ok "the new case is on a list"
grep -rqF 'S-TEST-PROT2' "$SPOOL" && not_ok "the new protected case is not in the spool" \
	|| ok "the new protected case is not in the spool"

# delivery.keep_sent_days: a stored scan blanks the bodies of deliveries sent
# longer ago than that and keeps their rows; those cannot be queued again
cat > "$T_SCRATCH/keep.conf" <<EOC
delivery = { channel = "spool"; send = "all_open"; keep_sent_days = 30; };
spool = { directory = "$SPOOL"; };
EOC
n1=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id = $run1 AND state = 'sent'")
psql_q "UPDATE kvpscan.delivery SET sent_at = now() - interval '31 days' WHERE run_id = $run1" >/dev/null
psql_q "UPDATE kvpscan.delivery SET sent_at = now() - interval '29 days' WHERE run_id = $run2" >/dev/null
assert_status 0 "scan as of 2024-03-03 with keep_sent_days = 30" -- $KVPSCAN -c "$T_SCRATCH/keep.conf" -v scan --as-of 2024-03-03
assert_contains "$OUT" "blanked the bodies of $n1 deliveries" "the scan says how many bodies it blanked"
assert_eq "$n1|0" "$(psql_q "SELECT count(*), count(*) FILTER (WHERE coalesce(text_body, html_body, json_body) IS NOT NULL)
	FROM kvpscan.delivery WHERE run_id = $run1")" "run 1's deliveries, sent 31 days ago: rows kept, bodies blank"
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id = $run2 AND json_body IS NULL")" \
	"run 2's, sent 29 days ago, keep theirs"
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.delivery d JOIN kvpscan.run r USING (run_id)
	WHERE r.as_of = '2024-03-03' AND d.json_body IS NULL")" "the night's new worklists keep theirs"
old_id=$(psql_q "SELECT delivery_id FROM kvpscan.delivery WHERE run_id = $run1 ORDER BY delivery_id LIMIT 1")
assert_status 1 "a blanked delivery cannot be queued again" -- $KVPSCAN -c "$T_SCRATCH/keep.conf" redeliver "$old_id"
assert_contains "$OUT" "keep_sent_days" "and the message says why"
assert_eq sent "$(psql_q "SELECT state FROM kvpscan.delivery WHERE delivery_id = '$old_id'")" "it stays sent"
printf 'delivery = { keep_sent_days = 0; };\n' > "$T_SCRATCH/forever.conf"
psql_q "UPDATE kvpscan.delivery SET sent_at = now() - interval '3650 days' WHERE run_id = $run2" >/dev/null
assert_status 0 "scan as of 2024-03-04 with keep_sent_days = 0" -- $KVPSCAN -c "$T_SCRATCH/forever.conf" scan --as-of 2024-03-04
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id = $run2 AND json_body IS NULL")" \
	"keep_sent_days = 0 keeps the bodies for ever"

finish
