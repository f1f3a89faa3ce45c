#!/bin/sh
# generate.sh - "kvpscan demo-data": deterministic, realistic proportions,
# messy rows, refuses a non-empty source without --replace, never fills views
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

scratch_dir
pg_start || { echo "generate.sh: could not start PostgreSQL"; exit 1; }

CONF=$T_SCRATCH/kvpscan.conf
cat >"$CONF" <<'EOF'
log = { destination = "stderr"; };
EOF
kvp() { "$KVPSCAN" -c "$CONF" "$@"; }
TABLES="office veileder person payment assessment benefit kvp_event participation"
AS_OF=2025-06-15
N=2000

dump_md5() {	# dump_md5 [SCHEMA]: one md5 per table of its rows in a fixed order
	for t in $TABLES; do
		printf '%s=%s ' "$t" "$(psql_q "SELECT md5(coalesce(string_agg(r::text, E'\n' ORDER BY r::text), ''))
			FROM ${1:-kvp_src}.$t AS r")"
	done
}
num() {	# num SQL: a number from the database
	psql_q "$1"
}
between() {	# between VALUE LOW HIGH DESCRIPTION (decimal compare in the database)
	if [ "$(psql_q "SELECT $1 BETWEEN $2 AND $3")" = t ]; then ok "$4 ($1)"; else
		not_ok "$4" "$1 is not between $2 and $3"
	fi
}

# ---------------------------------------------------------------- usage
assert_status 2 "--persons 0 is a usage error" -- kvp demo-data --persons 0
assert_status 2 "--months abc is a usage error" -- kvp demo-data --months abc
assert_status 2 "an impossible --as-of is a usage error" -- kvp demo-data --as-of 2025-02-30
assert_status 2 "--offices 0 is a usage error" -- kvp demo-data --offices 0
assert_eq "" "$(psql_q "SELECT to_regnamespace('kvp_src')")" "usage errors create nothing"

after_as_of() {	# after_as_of SCHEMA DATE: "table=count" of rows dated after DATE, for every table with any
	psql_q "SELECT coalesce(string_agg(t || '=' || n, ' ' ORDER BY t), '') FROM (
		SELECT 'payment' AS t, count(*) AS n FROM $1.payment WHERE period_month > date '$2'
		UNION ALL SELECT 'assessment', count(*) FROM $1.assessment WHERE assessed_on > date '$2'
		UNION ALL SELECT 'benefit', count(*) FROM $1.benefit WHERE from_date > date '$2'
		UNION ALL SELECT 'kvp_event', count(*) FROM $1.kvp_event WHERE event_date > date '$2'
		UNION ALL SELECT 'participation', count(*) FROM $1.participation WHERE start_date > date '$2'
		UNION ALL SELECT 'birth_date', count(*) FROM $1.person WHERE birth_date > date '$2') AS c
		WHERE n > 0"
}

# ---------------------------------------------------------------- first run
assert_status 0 "demo-data with seed 7" -- kvp demo-data --persons $N --months 24 --seed 7 --as-of $AS_OF
assert_contains "$OUT" "$N persons" "the persons count is printed"
for t in payment assessment kvp_event; do
	assert_contains "$OUT" "$(num "SELECT count(*) FROM kvp_src.$t") ${t}s" "the printed $t count matches the table"
done
assert_contains "$OUT" " s" "the elapsed time is printed"
FIRST=$(dump_md5)

# ---------------------------------------------------------------- refuse, replace, seeds
assert_status 1 "a non-empty source without --replace is refused" -- kvp demo-data --persons 10 --seed 7
assert_contains "$OUT" "already holds data" "the refusal says why"
assert_contains "$OUT" "--replace" "the refusal hints at --replace"
assert_eq "$FIRST" "$(dump_md5)" "the refused run changed nothing"

assert_status 0 "the same seed again with --replace" -- \
	kvp demo-data --persons $N --months 24 --seed 7 --as-of $AS_OF --replace
assert_eq "$FIRST" "$(dump_md5)" "the same seed gives identical rows in every table"

assert_status 0 "another seed with --replace" -- \
	kvp demo-data --persons $N --months 24 --seed 8 --as-of $AS_OF --replace
SECOND=$(dump_md5)
for t in person payment assessment kvp_event; do
	a=$(printf '%s\n' $FIRST | grep "^$t=")
	b=$(printf '%s\n' $SECOND | grep "^$t=")
	if [ "$a" != "$b" ]; then ok "another seed gives other $t rows"; else not_ok "another seed gives other $t rows"; fi
done

assert_status 0 "back to seed 7" -- kvp demo-data --persons $N --months 24 --seed 7 --as-of $AS_OF --replace

# ---------------------------------------------------------------- shape
P="kvp_src.person"
long=$(num "SELECT round(count(*)::numeric / $N, 3) FROM (
	SELECT person_id FROM kvp_src.payment
	WHERE amount > 0 AND period_month >= date_trunc('month', date '$AS_OF') - interval '11 months'
	  AND period_month <= date '$AS_OF'
	GROUP BY person_id HAVING count(DISTINCT date_trunc('month', period_month)) > 4) AS l")
between "$long" 0.20 0.50 "the long-term share is realistic"
between "$(num "SELECT round(count(*) FILTER (WHERE veileder_id IS NULL)::numeric / $N, 3) FROM $P")" \
	0.05 0.15 "about 10% of persons have no veileder"
between "$(num "SELECT count(*) FROM $P p WHERE veileder_id IS NOT NULL
	AND NOT EXISTS (SELECT 1 FROM kvp_src.veileder v WHERE v.veileder_id = p.veileder_id)")" \
	1 $((N / 20)) "a few persons have a veileder that is not in the veileder table"
between "$(num "SELECT count(*) FROM $P WHERE protection IS NOT NULL")" 1 $((N * 3 / 100)) \
	"about 1% of persons are protected"
assert_eq "0" "$(num "SELECT count(*) FROM $P WHERE protection NOT IN ('STRENGT_FORTROLIG', 'FORTROLIG', 'SKJERMET')")" \
	"only the contract's protection codes"
between "$(num "SELECT round(count(*)::numeric / $N, 3) FROM $P WHERE age(date '$AS_OF', birth_date) >= interval '18 years'
	AND age(date '$AS_OF', birth_date) < interval '67 years'")" 0.70 0.90 "most persons are of working age"
assert_eq "0" "$(num "SELECT count(*) FROM $P WHERE age(date '$AS_OF', birth_date) < interval '16 years'
	OR age(date '$AS_OF', birth_date) >= interval '77 years'")" "ages lie between 16 and 76"
assert_eq "0" "$(num "SELECT count(*) FROM $P WHERE person_id !~ '^9[0-9]{10}\$'")" \
	"person ids are 11 digits starting with 9"
assert_eq "0" "$(num "SELECT count(*) FROM $P WHERE case_ref !~ '^S-20[0-9]{2}-[0-9]{6,}\$'")" \
	"case refs look like S-2024-000123"
assert_eq "0" "$(num "SELECT count(*) FROM kvp_src.veileder WHERE email !~ '^[a-z]+\\.[a-z]+[0-9]*@nav\\.example\$'")" \
	"veileder emails are name.surname@nav.example"
between "$(num "SELECT round(count(*)::numeric / $N * 60, 2) FROM kvp_src.veileder")" 0.9 1.1 \
	"about one veileder per 60 persons"
between "$(num "SELECT count(*) FILTER (WHERE NOT active) FROM kvp_src.veileder")" 1 10 "some veiledere are inactive"
assert_eq "0" "$(num "SELECT count(*) FROM kvp_src.office WHERE leader_email !~ '^leder\\.[0-9]{4}@kommune\\.example\$'
	OR fallback_email !~ '^kvp\\.[0-9]{4}@kommune\\.example\$'")" "offices have leader and fallback addresses"
assert_eq "Nav Gamle Oslo|5" "$(num "SELECT max(name) FILTER (WHERE office_id = '0315') || '|' || count(*) FROM kvp_src.office")" \
	"the default is 5 offices with NAV office names"
assert_eq "ANNET BOUTGIFTER LIVSOPPHOLD NODHJELP" \
	"$(num "SELECT string_agg(DISTINCT kind, ' ' ORDER BY kind) FROM kvp_src.payment")" "all payment kinds occur"
between "$(num "SELECT count(*) FROM kvp_src.payment WHERE amount <= 0")" 1 $((N / 10)) "a few payments are zero or negative"
between "$(num "SELECT count(*) FROM (SELECT 1 FROM kvp_src.payment GROUP BY person_id, date_trunc('month', period_month)
	HAVING count(*) > 1) AS m")" 1 $((N * 10)) "some months have several payment rows"
between "$(num "SELECT round(count(*) FILTER (WHERE innsatsgruppe = 'SPESIELT_TILPASSET_INNSATS')::numeric / count(*), 3)
	FROM kvp_src.assessment")" 0.12 0.30 "about 20% of assessments say spesielt tilpasset innsats"
between "$(num "SELECT round(count(DISTINCT person_id)::numeric / $N, 3) FROM kvp_src.benefit WHERE benefit = 'AAP'")" \
	0.10 0.20 "about 15% have AAP"
between "$(num "SELECT count(*) FROM kvp_src.benefit WHERE benefit = 'AAP' AND to_date < date '$AS_OF'")" 1 $N \
	"some AAP periods have ended"
between "$(num "SELECT round(count(DISTINCT person_id)::numeric / $N, 3) FROM kvp_src.kvp_event WHERE event = 'INFORMED'")" \
	0.30 0.50 "about 40% were informed"
between "$(num "SELECT count(*) FROM kvp_src.kvp_event WHERE event = 'INFORMED' AND event_date < date '$AS_OF' - 365")" \
	1 $N "some were informed more than a year ago"
assert_eq "APPLIED ASSESSED GRANTED INFORMED REJECTED" "$(num "SELECT string_agg(DISTINCT event, ' ' ORDER BY event)
	FROM kvp_src.kvp_event WHERE event IN ('INFORMED', 'ASSESSED', 'APPLIED', 'GRANTED', 'REJECTED')")" \
	"the KVP events occur"
assert_eq "NOT_RELEVANT RELEVANT" "$(num "SELECT string_agg(DISTINCT outcome, ' ' ORDER BY outcome)
	FROM kvp_src.kvp_event WHERE event = 'ASSESSED'")" "assessed events have both outcomes"
between "$(num "SELECT round(count(DISTINCT person_id)::numeric / $N, 3) FROM kvp_src.participation
	WHERE start_date <= date '$AS_OF' AND (end_date IS NULL OR end_date >= date '$AS_OF')")" \
	0.01 0.06 "about 3% are in the programme"
between "$(num "SELECT count(*) FROM kvp_src.participation WHERE end_date < date '$AS_OF'")" 1 $N "some participations ended"
between "$(num "SELECT count(*) FROM kvp_src.participation WHERE planned_hours_per_week < 37.5
	OR has_written_plan IS NOT TRUE OR next_evaluation_date < date '$AS_OF'")" 1 $N \
	"some participations fall short (hours, plan or evaluation)"

# ---------------------------------------------------------------- nothing after the as-of date
assert_eq "" "$(after_as_of kvp_src $AS_OF)" "no row of any table is dated after the as-of date"
for d in 2026-03-01 2026-03-19 2026-02-28 2028-02-29 2026-12-31 2027-01-01; do
	assert_status 0 "demo-data as of $d" -- kvp demo-data --persons 500 --months 13 --seed 3 --as-of $d --replace
	assert_eq "" "$(after_as_of kvp_src $d)" "as of $d no row is dated after it"
	assert_eq "t" "$(num "SELECT count(*) > 0 FROM kvp_src.payment WHERE period_month >= date_trunc('month', date '$d')")" \
		"as of $d the as-of month has payments"
done
assert_status 0 "back to seed 7" -- kvp demo-data --persons $N --months 24 --seed 7 --as-of $AS_OF --replace

# ---------------------------------------------------------------- messy rows
between "$(num "SELECT count(*) FROM $P WHERE birth_date IS NULL")" 1 $((N / 50)) "a few persons have no birth date"
between "$(num "SELECT count(*) FROM kvp_src.payment p WHERE NOT EXISTS
	(SELECT 1 FROM $P q WHERE q.person_id = p.person_id)")" 1 $((N / 50)) "a few payments are for unknown persons"
between "$(num "SELECT count(*) FROM kvp_src.kvp_event WHERE event NOT IN
	('INFORMED', 'ASSESSED', 'APPLIED', 'GRANTED', 'REJECTED', 'WITHDRAWN')")" 1 $((N / 50)) "a few events carry an unknown code"

# ---------------------------------------------------------------- indexes, defaults, views
assert_eq "6" "$(num "SELECT count(*) FROM pg_indexes WHERE schemaname = 'kvp_src' AND indexname LIKE '%\\_idx'")" \
	"the secondary indexes exist after loading"
assert_eq "t" "$(num "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE schemaname = 'kvp_src' AND relname = 'payment'")" \
	"the tables were analyzed"

OTHER=$T_SCRATCH/other.conf
cat >"$OTHER" <<'EOF'
log = { destination = "stderr"; };
database = { source_schema = "demo_today"; };
EOF
# today as kvpscan sees it (Europe/Oslo), asked of the database so that it holds at any hour and in any TZ;
# before and after, in case midnight passes in between
TODAY0=$(num "SELECT (now() AT TIME ZONE 'Europe/Oslo')::date")
assert_status 0 "demo-data with the defaults into another source schema" -- "$KVPSCAN" -c "$OTHER" demo-data
TODAY=$(num "SELECT (now() AT TIME ZONE 'Europe/Oslo')::date")
assert_contains "$OUT" "demo data in \"demo_today\"" "the output names the schema"
assert_eq "100" "$(num "SELECT count(*) FROM demo_today.person")" "the default is 100 persons"
assert_eq "t" "$(num "SELECT max(period_month) <= date '$TODAY' AND max(period_month) >= date_trunc('month', date '$TODAY0')
	FROM demo_today.payment")" "without --as-of the data is anchored at today ($TODAY)"
assert_eq "" "$(after_as_of demo_today "$TODAY")" "without --as-of no row is dated after today ($TODAY)"

psql_q "CREATE SCHEMA view_src; CREATE TABLE view_src.real_person (person_id text);
	CREATE VIEW view_src.person AS SELECT person_id, NULL::text AS case_ref FROM view_src.real_person"
VIEWS=$T_SCRATCH/views.conf
cat >"$VIEWS" <<'EOF'
log = { destination = "stderr"; };
database = { source_schema = "view_src"; };
EOF
assert_status 1 "demo-data refuses a source whose relations are views" -- "$KVPSCAN" -c "$VIEWS" demo-data --replace
assert_contains "$OUT" "not plain tables" "the refusal says why"
assert_eq "0" "$(num "SELECT count(*) FROM view_src.real_person")" "nothing was written through the view"
assert_eq "" "$(psql_q "SELECT to_regclass('view_src.payment')")" "the refused run created nothing"

finish
