#!/bin/bash
# scan-bench.sh - time real scans against the irreducible core query
#   bench/scan-bench.sh [BUILDDIR] [PERSONS...]   (default: . and 25000 150000)
#   KVP_BENCH_NIGHTS=N  nightly scans after the first (default 5)
#
# Per size: a throwaway cluster gets demo data (36 months, as of 2024-06-15).
# Then, in turn: the first real scan (every item NEW), and N nightly scans
# (as of the following days: items stay OPEN, a few come and go; before each,
# VACUUM ANALYZE of item and candidate, as autovacuum would have run), each timed
# as a whole kvpscan process under /usr/bin/time -v, each followed by the
# core query (distinct months with assistance per person in the window) under
# psql's \timing.  Prints the first scan, the medians of the nightly scans
# and of the core query, their ratio, the largest peak RSS, and a dry run.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-.}; shift || true
KVPSCAN=$(cd "$builddir" && pwd)/src/kvpscan
sizes=${*:-25000 150000}
nights=${KVP_BENCH_NIGHTS:-5}
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_start || exit 1
scratch_dir
printf 'log = { destination = "stderr"; level = "warning"; };\n' >"$T_SCRATCH/b.conf"
ASOF=2024-06-15

core_ms() {	# core_ms DATE: the core query's time in ms
	psql -X -q -At <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
\timing on
SELECT count(*) FROM (SELECT person_id, count(DISTINCT date_trunc('month', period_month))
  FROM kvp_src.payment
 WHERE period_month >= date '$1' - interval '11 months' - (extract(day FROM date '$1') - 1) * interval '1 day'
   AND period_month < date_trunc('month', date '$1') + interval '1 month' AND amount > 0
 GROUP BY person_id) x;
SQL
}
scan_ms() {	# scan_ms DATE: a real scan's wall time in ms; its peak RSS (kB) in $T_SCRATCH/rss
	/usr/bin/time -v "$KVPSCAN" -c "$T_SCRATCH/b.conf" scan --as-of "$1" >"$T_SCRATCH/out" 2>"$T_SCRATCH/time" ||
		{ cat "$T_SCRATCH/time" >&2; exit 1; }
	sed -n 's/.*Maximum resident set size (kbytes): //p' "$T_SCRATCH/time" >>"$T_SCRATCH/rss"
	sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$T_SCRATCH/time" |
		awk -F: '{ printf "%.0f\n", ($1 * 60 + $2) * 1000 }'
}
median() {	# median NUMBERS...
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

for n in $sizes; do
	psql_q "DROP SCHEMA IF EXISTS kvp_src CASCADE; DROP SCHEMA IF EXISTS kvpscan CASCADE" >/dev/null 2>&1
	"$KVPSCAN" -c "$T_SCRATCH/b.conf" demo-data --persons "$n" --months 36 --seed 1 --as-of "$ASOF" >/dev/null || exit 1
	"$KVPSCAN" -c "$T_SCRATCH/b.conf" migrate >/dev/null || exit 1
	psql_q "VACUUM ANALYZE" >/dev/null
	rows=$(psql_q "SELECT count(*) FROM kvp_src.payment")
	: >"$T_SCRATCH/rss"
	core_ms "$ASOF" >/dev/null		# warm the cache as the scan will find it
	first=$(scan_ms "$ASOF")
	cores=$(core_ms "$ASOF")
	scans=
	for i in $(seq 1 "$nights"); do
		d=$(date -d "$ASOF + $i days" +%F)
		# what autovacuum does by the next night: statistics that do not know the new run
		psql_q "VACUUM ANALYZE kvpscan.item, kvpscan.candidate" >/dev/null
		scans="$scans $(scan_ms "$d")"
		cores="$cores $(core_ms "$d")"
	done
	scan=$(median $scans)
	core=$(median $cores)
	rss=$(sort -n "$T_SCRATCH/rss" | tail -n 1)
	dry=$( { /usr/bin/time -f %e "$KVPSCAN" -c "$T_SCRATCH/b.conf" scan --dry-run --as-of "$ASOF" >/dev/null; } 2>&1 | tail -n 1)
	printf 'persons %s, payment rows %s: first scan %s ms, nightly scan %s ms (median of %s:%s), core %s ms (median of %s), ratio %.2f, peak RSS %s kB, dry run %s s\n' \
		"$n" "$rows" "$first" "$scan" "$nights" "$scans" "$core" "$((nights + 1))" \
		"$(awk -v a="$scan" -v b="$core" 'BEGIN { print a / b }')" "$rss" "$dry"
done
