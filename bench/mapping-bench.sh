#!/bin/bash
# mapping-bench.sh - a scan through the worked mapping's views and through
# postgres_fdw, against the same data as plain contract tables, in one run
#   bench/mapping-bench.sh [BUILDDIR] [PERSONS]   (default: . and 150000)
#   KVP_BENCH_RUNS=N  timed dry runs per source (default 5; the median is shown)
#
# One throwaway cluster.  Database kvp_test: demo data as contract tables
# (kvp_contract, 36 months as of 2024-06-15), the same facts in the made-up
# case system (examples/mapping/fagsystem.sql filled by demo_load.sql) and the
# views over it (kvp_src).  Database kvp_case: the case system alone, read
# from kvp_test through postgres_fdw (examples/mapping/fdw.sql) by a second
# set of the same views (kvp_fdw).  And the views materialized (kvp_mat: one
# materialized view per relation over kvp_src, with the contract tables'
# indexes, refreshed and analyzed as a loading job before the nightly run
# would; the refresh is timed apart).  Each source gets a warm-up and N timed
# "scan --dry-run --format csv" (the read side of a scan: the payments pass and
# the identification), whose outputs must be byte-identical; prints the
# medians and the ratios to the tables.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-.}; shift || true
KVPSCAN=$(cd "$builddir" && pwd)/src/kvpscan
persons=${1:-150000}
runs=${KVP_BENCH_RUNS:-5}
EX=$top_srcdir/examples/mapping
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_start || exit 1
scratch_dir
ASOF=2024-06-15
P="psql -X -q -v ON_ERROR_STOP=1"
for s in kvp_contract kvp_src kvp_fdw kvp_mat; do
	printf 'log = { destination = "stderr"; level = "warning"; };\ndatabase = { source_schema = "%s"; };\n' "$s" \
		>"$T_SCRATCH/$s.conf"
done
DEMO="demo-data --persons $persons --months 36 --seed 1 --as-of $ASOF"

"$KVPSCAN" -c "$T_SCRATCH/kvp_contract.conf" $DEMO >/dev/null || exit 1
$P -f "$EX/fagsystem.sql" && $P -v contract=kvp_contract -f "$EX/demo_load.sql" >/dev/null \
	&& $P -f "$EX/views.sql" || exit 1
"$PG_BINDIR/createdb" kvp_case || exit 1
PGDATABASE=kvp_case "$KVPSCAN" -c "$T_SCRATCH/kvp_contract.conf" $DEMO >/dev/null || exit 1
PGDATABASE=kvp_case $P -f "$EX/fagsystem.sql" \
	&& PGDATABASE=kvp_case $P -v contract=kvp_contract -f "$EX/demo_load.sql" >/dev/null \
	&& PGDATABASE=kvp_case $P -c 'DROP SCHEMA kvp_contract CASCADE' 2>/dev/null || exit 1
$P -v host="$PGHOST" -v port="$PGPORT" -v dbname=kvp_case -v user=postgres -f "$EX/fdw.sql" \
	&& $P -v src=kvp_fdw -v fag=fdw_fagsystem -v nav=fdw_navuttrekk -f "$EX/views.sql" || exit 1
# the materialized variant: the contract tables' indexes (sql/source_schema.sql) on materialized views
{
	echo "CREATE SCHEMA kvp_mat;"
	for r in office veileder person payment assessment benefit kvp_event participation; do
		echo "CREATE MATERIALIZED VIEW kvp_mat.$r AS SELECT * FROM kvp_src.$r WITH NO DATA;"
	done
	echo "CREATE UNIQUE INDEX ON kvp_mat.office (office_id); CREATE UNIQUE INDEX ON kvp_mat.veileder (veileder_id);
	CREATE UNIQUE INDEX ON kvp_mat.person (person_id); CREATE INDEX ON kvp_mat.person (case_ref);
	CREATE INDEX ON kvp_mat.payment (person_id, period_month); CREATE INDEX ON kvp_mat.payment (period_month);
	CREATE INDEX ON kvp_mat.assessment (person_id, assessed_on); CREATE INDEX ON kvp_mat.benefit (person_id);
	CREATE INDEX ON kvp_mat.kvp_event (person_id, event_date); CREATE INDEX ON kvp_mat.participation (person_id);"
} | $P || exit 1
psql_q "VACUUM ANALYZE" >/dev/null
PGDATABASE=kvp_case psql_q "VACUUM ANALYZE" >/dev/null
refresh_ms() {	# refresh_ms: refreshing and analyzing the eight materialized views, in ms
	local t0 t1 r
	t0=$(date +%s%N)
	for r in office veileder person payment assessment benefit kvp_event participation; do
		echo "REFRESH MATERIALIZED VIEW kvp_mat.$r; ANALYZE kvp_mat.$r;"
	done | $P || exit 1
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}
refresh_ms >/dev/null
refreshes=
for i in $(seq 1 "$runs"); do refreshes="$refreshes $(refresh_ms)"; done
rows=$(psql_q "SELECT count(*) FROM kvp_contract.payment")

scan_ms() {	# scan_ms SCHEMA: one dry run's wall time in ms; its output in $T_SCRATCH/SCHEMA.csv
	local t0 t1
	t0=$(date +%s%N)
	"$KVPSCAN" -c "$T_SCRATCH/$1.conf" scan --dry-run --as-of "$ASOF" --format csv >"$T_SCRATCH/$1.csv" || exit 1
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}
median() {	# median NUMBERS...
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
declare -A med all
for s in kvp_contract kvp_src kvp_fdw kvp_mat; do
	scan_ms "$s" >/dev/null		# warm the caches
	all[$s]=
	for i in $(seq 1 "$runs"); do all[$s]="${all[$s]} $(scan_ms "$s")"; done
	med[$s]=$(median ${all[$s]})
done
for s in kvp_src kvp_fdw kvp_mat; do
	cmp -s "$T_SCRATCH/kvp_contract.csv" "$T_SCRATCH/$s.csv" || { echo "mapping-bench: $s's output differs from the tables'" >&2; exit 1; }
done
flagged=$(($(wc -l <"$T_SCRATCH/kvp_contract.csv") - 1))
printf 'persons %s, payment rows %s, %s flagged (identical through views, fdw and materialized views); dry run, median of %s:\n' \
	"$persons" "$rows" "$flagged" "$runs"
printf '  tables         %6s ms (%s)\n' "${med[kvp_contract]}" "${all[kvp_contract]# }"
printf '  views          %6s ms (%s)  ratio %.2f\n' "${med[kvp_src]}" "${all[kvp_src]# }" \
	"$(awk -v a="${med[kvp_src]}" -v b="${med[kvp_contract]}" 'BEGIN { print a / b }')"
printf '  postgres_fdw   %6s ms (%s)  ratio %.2f\n' "${med[kvp_fdw]}" "${all[kvp_fdw]# }" \
	"$(awk -v a="${med[kvp_fdw]}" -v b="${med[kvp_contract]}" 'BEGIN { print a / b }')"
printf '  materialized   %6s ms (%s)  ratio %.2f; the refresh before it %s ms (%s)\n' "${med[kvp_mat]}" \
	"${all[kvp_mat]# }" "$(awk -v a="${med[kvp_mat]}" -v b="${med[kvp_contract]}" 'BEGIN { print a / b }')" \
	"$(median $refreshes)" "${refreshes# }"
