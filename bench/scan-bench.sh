#!/bin/bash
# scan-bench.sh - time a real scan against the irreducible core query
#   bench/scan-bench.sh [BUILDDIR] [PERSONS...]   (default: . and 25000 150000)
# Starts a throwaway cluster, generates demo data (36 months), runs a real
# scan under /usr/bin/time -v and the core query (distinct months per person
# in the window) under psql \timing; prints wall times, ratio and peak RSS.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-.}; shift || true
KVPSCAN=$(cd "$builddir" && pwd)/src/kvpscan
sizes=${*:-25000 150000}
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_start || exit 1
scratch_dir
printf 'log = { destination = "stderr"; level = "warning"; };\n' >"$T_SCRATCH/b.conf"
ASOF=2024-06-15
for n in $sizes; do
	psql_q "DROP SCHEMA IF EXISTS kvp_src CASCADE; DROP SCHEMA IF EXISTS kvpscan CASCADE" >/dev/null 2>&1
	"$KVPSCAN" -c "$T_SCRATCH/b.conf" demo-data --persons "$n" --months 36 --seed 1 --as-of "$ASOF" >/dev/null || exit 1
	"$KVPSCAN" -c "$T_SCRATCH/b.conf" migrate >/dev/null || exit 1
	psql_q "VACUUM ANALYZE" >/dev/null
	rows=$(psql_q "SELECT count(*) FROM kvp_src.payment")
	core=$(psql -X -q -At <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
\timing on
SELECT count(*) FROM (SELECT person_id, count(DISTINCT date_trunc('month', period_month))
  FROM kvp_src.payment
 WHERE period_month >= date '$ASOF' - interval '11 months' - (extract(day FROM date '$ASOF') - 1) * interval '1 day'
   AND period_month < date_trunc('month', date '$ASOF') + interval '1 month' AND amount > 0
 GROUP BY person_id) x;
SQL
)
	/usr/bin/time -v "$KVPSCAN" -c "$T_SCRATCH/b.conf" scan --as-of "$ASOF" >"$T_SCRATCH/out" 2>"$T_SCRATCH/time" || { cat "$T_SCRATCH/time"; exit 1; }
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$T_SCRATCH/time" | awk -F: '{ print ($1 * 60 + $2) * 1000 }')
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T_SCRATCH/time")
	dry=$( { /usr/bin/time -f %e "$KVPSCAN" -c "$T_SCRATCH/b.conf" scan --dry-run --as-of "$ASOF" >/dev/null; } 2>&1 | tail -n 1)
	printf 'persons %s, payment rows %s: scan %.0f ms, core %.0f ms, ratio %.2f, peak RSS %s kB, dry-run %s s\n' \
		"$n" "$rows" "$wall" "$core" "$(awk -v a="$wall" -v b="$core" 'BEGIN { print a / b }')" "$rss" "$dry"
done
