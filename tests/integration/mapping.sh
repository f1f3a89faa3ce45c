#!/bin/sh
# mapping.sh - the worked mapping (examples/mapping/, docs/mapping/README.md):
# generated data as contract tables, the same facts in the made-up case
# system, the contract views over it, locally and through postgres_fdw from a
# second database; every scan must give the same bytes.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
EX=$top_srcdir/examples/mapping
P="psql -X -q -v ON_ERROR_STOP=1"
conf() {	# conf NAME SCHEMA: a config reading SCHEMA
	printf 'log = { destination = "stderr"; };\ndatabase = { source_schema = "%s"; };\n' "$2" >"$T_SCRATCH/$1.conf"
}
conf contract kvp_contract
conf views kvp_src
conf fdw kvp_fdw
DEMO="demo-data --as-of 2025-06-15 --persons 3000 --seed 7"

# the contract tables, and the vendor schema filled from them
assert_status 0 "demo data as contract tables" -- "$KVPSCAN" -c "$T_SCRATCH/contract.conf" $DEMO
$P -f "$EX/fagsystem.sql" && $P -v contract=kvp_contract -f "$EX/demo_load.sql" >/dev/null \
	&& $P -f "$EX/views.sql"
assert_eq 0 $? "fagsystem.sql, demo_load.sql and views.sql load"
assert_eq "v v v v v v v v" "$(psql_q "SELECT string_agg(relkind::text, ' ') FROM pg_class
	WHERE relnamespace = 'kvp_src'::regnamespace AND relkind IN ('r', 'v')")" "kvp_src holds eight views"
assert_eq "3000|3000|9" "$(psql_q "SELECT (SELECT count(*) FROM fagsystem.klient),
	(SELECT count(DISTINCT klient_id) FROM fagsystem.sak), (SELECT count(*) FROM fagsystem.sak) > 3000
	AND (SELECT count(*) FROM fagsystem.hr_tilsetting) > (SELECT count(*) FROM fagsystem.hr_ansatt)
	AND (SELECT count(*) FROM navuttrekk.ytelse WHERE tom = '9999-12-31') > 0
	AND (SELECT count(*) FROM fagsystem.utbetaling WHERE stonadstype = 'LIVSOPPH') > 0
	AND (SELECT count(*) FROM navuttrekk.vedtak_14a WHERE innsatsgruppe = 'BATT') > 0" | sed 's/|t$/|9/')" \
	"the vendor schema has what the views must choose from: old cases and employments, 9999-12-31, vendor codes"

"$KVPSCAN" -c "$T_SCRATCH/contract.conf" scan --dry-run --as-of 2025-06-15 --format csv >"$T_SCRATCH/tables.csv" 2>/dev/null
"$KVPSCAN" -c "$T_SCRATCH/views.conf" scan --dry-run --as-of 2025-06-15 --format csv >"$T_SCRATCH/views.csv" 2>/dev/null
N=$(wc -l <"$T_SCRATCH/tables.csv")
if [ "$N" -gt 500 ]; then ok "the contract tables' scan flags $((N - 1)) candidates"; else
	not_ok "the contract tables' scan flags enough candidates" "$N lines"; fi
if cmp -s "$T_SCRATCH/tables.csv" "$T_SCRATCH/views.csv"; then ok "the scan through the views is byte-identical"; else
	not_ok "the scan through the views is byte-identical" "$(diff "$T_SCRATCH/tables.csv" "$T_SCRATCH/views.csv" | head -20)"; fi
assert_contains "$(cat "$T_SCRATCH/views.csv")" "SPECIAL_NEEDS" "innsatsgruppe BATT arrives as SPESIELT_TILPASSET_INNSATS"
"$KVPSCAN" -c "$T_SCRATCH/contract.conf" scan --dry-run --include-excluded --as-of 2025-06-15 --format csv \
	>"$T_SCRATCH/tables-x.csv" 2>/dev/null
"$KVPSCAN" -c "$T_SCRATCH/views.conf" scan --dry-run --include-excluded --as-of 2025-06-15 --format csv \
	>"$T_SCRATCH/views-x.csv" 2>/dev/null
if cmp -s "$T_SCRATCH/tables-x.csv" "$T_SCRATCH/views-x.csv" && grep -q EXCLUDED_BENEFIT "$T_SCRATCH/views-x.csv"
then ok "with the excluded too (benefits, programmes, pending) the views give the same bytes"; else
	not_ok "with the excluded too the views give the same bytes" \
		"$(diff "$T_SCRATCH/tables-x.csv" "$T_SCRATCH/views-x.csv" | head -20)"; fi

# check-source: clean on the views, with the same data warnings as the tables
assert_status 0 "check-source on the views exits 0" -- "$KVPSCAN" -c "$T_SCRATCH/views.conf" check-source
assert_contains "$OUT" "contract ok: 0 errors" "check-source on the views: no error"
"$KVPSCAN" -c "$T_SCRATCH/contract.conf" check-source --format json >"$T_SCRATCH/tables.json" 2>/dev/null
"$KVPSCAN" -c "$T_SCRATCH/views.conf" check-source --format json >"$T_SCRATCH/views.json" 2>/dev/null
SUMMARY='import json, sys
d = json.load(open(sys.argv[1]))
print(d["errors"], [(r["relation"], r["rows"]) for r in d["relations"]])
print(sorted((p["code"], p["relation"], p["column"], p["count"], p.get("value")) for p in d["problems"]))'
assert_eq "$(python3 -c "$SUMMARY" "$T_SCRATCH/tables.json")" "$(python3 -c "$SUMMARY" "$T_SCRATCH/views.json")" \
	"check-source: the same rows per relation and the same data warnings through the views"
assert_eq "view view view view view view view view" \
	"$(python3 -c 'import json,sys; print(" ".join(r["kind"] for r in json.load(open(sys.argv[1]))["relations"]))' "$T_SCRATCH/views.json")" \
	"check-source sees views"

# a stored scan through the views passes the contract check
assert_status 0 "migrate" -- "$KVPSCAN" -c "$T_SCRATCH/views.conf" migrate
assert_status 0 "a stored scan through the views" -- "$KVPSCAN" -c "$T_SCRATCH/views.conf" scan --as-of 2025-06-15
assert_eq "$((N - 1))" "$(psql_q "SELECT flagged FROM kvpscan.run WHERE status = 'succeeded' AND as_of = '2025-06-15'")" \
	"the stored run flags as many as the dry run"

# the same case system in a second database, read through postgres_fdw
"$PG_BINDIR/createdb" kvp_case || not_ok "createdb kvp_case"
PGDATABASE=kvp_case "$KVPSCAN" -c "$T_SCRATCH/contract.conf" $DEMO >/dev/null 2>&1
PGDATABASE=kvp_case $P -f "$EX/fagsystem.sql" \
	&& PGDATABASE=kvp_case $P -v contract=kvp_contract -f "$EX/demo_load.sql" >/dev/null \
	&& PGDATABASE=kvp_case $P -c 'DROP SCHEMA kvp_contract CASCADE' 2>/dev/null
assert_eq 0 $? "the case system loaded in database kvp_case, without the contract tables"
$P -v host="$PGHOST" -v port="$PGPORT" -v dbname=kvp_case -v user=postgres -f "$EX/fdw.sql" \
	&& $P -v src=kvp_fdw -v fag=fdw_fagsystem -v nav=fdw_navuttrekk -f "$EX/views.sql"
assert_eq 0 $? "fdw.sql and views.sql over the foreign tables load"
assert_eq "11" "$(psql_q "SELECT count(*) FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
	WHERE c.relnamespace IN ('fdw_fagsystem'::regnamespace, 'fdw_navuttrekk'::regnamespace)")" \
	"eleven foreign tables imported"
"$KVPSCAN" -c "$T_SCRATCH/fdw.conf" scan --dry-run --as-of 2025-06-15 --format csv >"$T_SCRATCH/fdw.csv" 2>"$T_SCRATCH/fdw.err"
if cmp -s "$T_SCRATCH/tables.csv" "$T_SCRATCH/fdw.csv"; then ok "the scan through postgres_fdw is byte-identical"; else
	not_ok "the scan through postgres_fdw is byte-identical" "$(head -5 "$T_SCRATCH/fdw.err"; diff "$T_SCRATCH/tables.csv" "$T_SCRATCH/fdw.csv" | head -20)"; fi
assert_status 0 "check-source through postgres_fdw exits 0" -- "$KVPSCAN" -c "$T_SCRATCH/fdw.conf" check-source --format json
printf '%s\n' "$OUT" | grep '^{' >"$T_SCRATCH/fdw.json"
assert_eq "$(python3 -c "$SUMMARY" "$T_SCRATCH/tables.json")" "$(python3 -c "$SUMMARY" "$T_SCRATCH/fdw.json")" \
	"check-source through postgres_fdw: the same rows and warnings"
assert_status 0 "a stored scan through postgres_fdw" -- "$KVPSCAN" -c "$T_SCRATCH/fdw.conf" scan --as-of 2025-06-16
assert_eq "$("$KVPSCAN" -c "$T_SCRATCH/contract.conf" scan --dry-run --as-of 2025-06-16 2>/dev/null | tail -n +2 | wc -l)" \
	"$(psql_q "SELECT flagged FROM kvpscan.run WHERE status = 'succeeded' AND as_of = '2025-06-16'")" \
	"the stored run through postgres_fdw flags as many as the dry run of the tables"

# a remote server that is gone: check-source says which relation it could not read
$P -c "ALTER SERVER casesys OPTIONS (SET dbname 'no_such_db')"
assert_status 1 "check-source exits 1 when the remote database is gone" -- "$KVPSCAN" -c "$T_SCRATCH/fdw.conf" check-source
assert_contains "$OUT" 'ERROR:  could not read relation "kvp_fdw.office"' "check-source names the relation it could not read"
assert_contains "$OUT" "no_such_db" "and the server's reason"
finish
