#!/bin/bash
# scan-bench.sh - time real scans and dry runs against the irreducible core query
#   bench/scan-bench.sh [BUILDDIR] [PERSONS...]   (default: . and 25000 200000: municipal, national)
#   KVP_BENCH_NIGHTS=N   nightly scans after the first (default 5)
#   KVP_BENCH_DRY=N      dry runs per load (default 3)
#   KVP_BENCH_SHAPE="S..." data shapes, any of demo, longopen, history
#                        (default "demo longopen"; "all" is all three)
#   KVP_BENCH_SEND=S     delivery.send for the stored scans: all_open (kvpscan's
#                        default: every open item in every night's worklists)
#                        or new (only items not delivered before)
#   KVP_BENCH_VS=DIR     also time another build's kvpscan (DIR/src/kvpscan, an
#                        earlier commit built elsewhere) on the same loads, in
#                        its own state schema kvpscan_vs: each of its dry runs,
#                        first scan and nights right after this build's, and
#                        the ratios this / that (the same minutes, the same data)
#   KVP_BENCH_PROFILE=1  per load, one more night (not counted) under the
#                        server's log_min_duration_statement = 0, and its
#                        longest statements (where a night's time goes)
#
# Data shapes (every one: a throwaway cluster, demo data as of 2024-06-15,
# seed 1, then VACUUM ANALYZE):
#   demo      kvpscan demo-data --persons N --months 36
#   longopen  the same, then for 9 persons in 10 (by a hash of person_id) the
#             INFORMED and ASSESSED events are deleted and the AEV assessments
#             become VEDTAK_14A (same day, same innsatsgruppe): the candidates
#             are the same persons (a REJECTED decision, which also ends a
#             pending application, stays), but nearly all of them are flagged,
#             mostly with all three duties, and nothing documents a duty later,
#             so their items stay open night after night (demo data already
#             flags about 9 candidates in 10, with fewer flags each)
#   history   demo-data --months 12 and --months 120 (the same persons, 12
#             and 120 months of payment history): the cost must not follow
#             the history (the generator spreads short spells over the whole
#             history, so the window holds fewer rows with 120 months; both
#             counts are printed)
#
# Per load, in turn: KVP_BENCH_DRY dry runs (`scan --dry-run`, the
# identification alone, CSV to a file), the first real scan (every item
# NEW), and N nightly scans (as of the following days; before each, VACUUM
# ANALYZE of item and candidate, as autovacuum would have run), each a whole
# kvpscan process (wall time by the clock around it, peak RSS by
# /usr/bin/time -v), each followed by the core query (distinct months with
# assistance per person in the window) under psql's \timing.  Prints the
# data shape (persons, payment rows, candidates, flagged, open items per
# night), the first scan, the medians of the nightly scans (all, and the
# steady nights 2 to N: night 1 moves every item from NEW to OPEN, once in
# an installation's life), the dry runs and the core query (all of this
# load's core queries), the ratios (dry run / core, nightly / core, steady
# nightly / core), the largest peak RSS, and the storage of the
# state schema (rows and MB per table, pg_total_relation_size) after the
# first run and after every night, its growth per night and the rows a night
# inserts, updates and deletes (pg_stat_user_tables), both over nights 2 to N
# (night 1 is not steady: every item goes from NEW to OPEN, item's pages make
# room for updated rows), and the projection to a year of nightly runs (365:
# the state after night 1 and 363 nights at that growth).  Last, one
# summary row per load, a Markdown table.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-.}; shift || true
KVPSCAN=$(cd "$builddir" && pwd)/src/kvpscan
VS=${KVP_BENCH_VS:-}
if [ -n "$VS" ]; then
	VS=$(cd "$VS" && pwd)/src/kvpscan
	[ -x "$VS" ] || { echo "scan-bench: KVP_BENCH_VS: no $VS" >&2; exit 2; }
fi
sizes=${*:-25000 200000}
nights=${KVP_BENCH_NIGHTS:-5}
drys=${KVP_BENCH_DRY:-3}
profile=${KVP_BENCH_PROFILE:-0}
send=${KVP_BENCH_SEND:-all_open}
case $send in all_open | new) ;; *) echo "scan-bench: KVP_BENCH_SEND is all_open or new" >&2; exit 2 ;; esac
shapes=${KVP_BENCH_SHAPE:-demo longopen}
[ "$shapes" = all ] && shapes="demo longopen history"
for s in $shapes; do
	case $s in demo | longopen | history) ;;
	*) echo "scan-bench: unknown shape $s (demo, longopen, history, all)" >&2; exit 2 ;;
	esac
done
case $nights$drys in *[!0-9]*) echo "scan-bench: KVP_BENCH_NIGHTS and KVP_BENCH_DRY are counts" >&2; exit 2 ;; esac
if [ "$nights" -lt 1 ] || [ "$drys" -lt 1 ]; then echo "scan-bench: at least one night and one dry run" >&2; exit 2; fi
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_start || exit 1
scratch_dir
printf 'log = { destination = "stderr"; level = "warning"; };\ndelivery = { send = "%s"; };\n' "$send" >"$T_SCRATCH/b.conf"
# the other build's state lives beside this one's, in a schema of its own
printf 'log = { destination = "stderr"; level = "warning"; };\ndelivery = { send = "%s"; };\ndatabase = { state_schema = "kvpscan_vs"; };\n' \
	"$send" >"$T_SCRATCH/vs.conf"
ASOF=2024-06-15
YEAR=365	# nightly runs in a year: the first run and YEAR - 1 nights

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
timed() {	# timed OUT ARGS...: run kvpscan ARGS, stdout in OUT; wall time (ms) in $MS, peak RSS (kB) to $T_SCRATCH/rss
	timed_bin "$KVPSCAN" "$T_SCRATCH/b.conf" "$@"
}
timed_vs() {	# timed_vs OUT ARGS...: the same with the other build (KVP_BENCH_VS); its RSS is not counted
	timed_bin "$VS" "$T_SCRATCH/vs.conf" "$@"
	sed -i '$d' "$T_SCRATCH/rss"
}
timed_bin() {	# timed_bin BIN CONF OUT ARGS...
	local bin=$1 conf=$2 out=$3 t0 t1
	shift 3
	t0=$(date +%s%N)
	/usr/bin/time -v "$bin" -c "$conf" "$@" >"$out" 2>"$T_SCRATCH/time" || {
		grep -v '^	' "$T_SCRATCH/time" >&2
		echo "scan-bench: kvpscan $* failed" >&2
		exit 1
	}
	t1=$(date +%s%N)
	MS=$(((t1 - t0) / 1000000))
	sed -n 's/.*Maximum resident set size (kbytes): //p' "$T_SCRATCH/time" >>"$T_SCRATCH/rss"
}
median() {	# median NUMBERS...
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() {	# ratio A B: A / B to two decimals
	awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b > 0) printf "%.2f\n", a / b; else print "-" }'
}
storage() {	# storage: per table of the state schema "table rows bytes inserted updated deleted", by name
	psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 <<'SQL'
SELECT c.relname,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname),
                                             false, true, '')))[1]::text::bigint,
       pg_total_relation_size(c.oid),
       coalesce(s.n_tup_ins, 0), coalesce(s.n_tup_upd, 0), coalesce(s.n_tup_del, 0)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE n.nspname = 'kvpscan' AND c.relkind IN ('r', 'p')
 ORDER BY c.relname;
SQL
}
open_items() {	# open_items: the items not resolved (NEW or OPEN)
	psql_q "SELECT count(*) FROM kvpscan.item WHERE state <> 'RESOLVED'"
}
last_run() {	# last_run: "flagged new open resolved candidates" of the latest run
	psql_q "SELECT flagged, items_new, items_open, items_resolved, candidates FROM kvpscan.run ORDER BY run_id DESC LIMIT 1" | tr '|' ' '
}

load() {	# load SHAPE PERSONS MONTHS: a fresh source and state schema
	psql_q "DROP SCHEMA IF EXISTS kvp_src CASCADE; DROP SCHEMA IF EXISTS kvpscan CASCADE" >/dev/null 2>&1
	"$KVPSCAN" -c "$T_SCRATCH/b.conf" demo-data --persons "$2" --months "$3" --seed 1 --as-of "$ASOF" >/dev/null || exit 1
	if [ "$1" = longopen ]; then
		# 9 persons in 10: nothing documents that they were informed or assessed, and no
		# AEV; the AEV's row stays as a VEDTAK_14A of the same day and group, so the
		# current innsatsgruppe, hence the candidates, stay the same
		psql_q "DELETE FROM kvp_src.kvp_event WHERE event IN ('INFORMED', 'ASSESSED')
			   AND hashtext(person_id) % 10 <> 0;
			UPDATE kvp_src.assessment SET kind = 'VEDTAK_14A'
			 WHERE kind = 'AEV' AND hashtext(person_id) % 10 <> 0" >/dev/null || exit 1
	fi
	"$KVPSCAN" -c "$T_SCRATCH/b.conf" migrate >/dev/null || exit 1
	if [ -n "$VS" ]; then
		psql_q "DROP SCHEMA IF EXISTS kvpscan_vs CASCADE" >/dev/null 2>&1
		"$VS" -c "$T_SCRATCH/vs.conf" migrate >/dev/null || exit 1
	fi
	psql_q "VACUUM ANALYZE" >/dev/null
}

profile() {	# profile DATE: a scan as of DATE with every statement logged; its longest statements
	local log=$PG_DIR/server.log from
	psql_q "ALTER SYSTEM SET log_min_duration_statement = 0" >/dev/null && psql_q "SELECT pg_reload_conf()" >/dev/null
	from=$(($(stat -c %s "$log") + 1))
	timed "$T_SCRATCH/out" scan --as-of "$1"
	psql_q "ALTER SYSTEM RESET log_min_duration_statement" >/dev/null && psql_q "SELECT pg_reload_conf()" >/dev/null
	printf '   profiled night as of %s (not counted): %s ms; its statements by the server log (%s), longest first:\n' \
		"$1" "$MS" "log_min_duration_statement = 0"
	# one line per statement phase: "duration: N ms  statement|parse|bind|execute <name>: first line",
	# summed over the phases that begin alike (a FETCH, a batch INSERT run many times)
	tail -c +"$from" "$log" | sed -n 's/.*duration: \([0-9.]*\) ms  \(.*\)$/\1 \2/p' |
		awk '{ ms = $1; $1 = ""; k = substr($0, 2, 140); t[k] += ms; c[k]++; all += ms }
		     END { for (k in t) printf "%.1f %d %s\n", t[k], c[k], k; printf "%.1f 0 (all the logged statements)\n", all }' |
		sort -rn | head -n 16 | awk '{ ms = $1; n = $2; $1 = $2 = ""
			printf "   %9.1f ms %s %s\n", ms, n ? "(" n "x)" : "", substr($0, 3) }'
}

bench() {	# bench SHAPE PERSONS MONTHS: one load, its dry runs, first scan and nights
	local shape=$1 n=$2 months=$3 rows wrows i d t c o first dry scan steady core rss csv rd rn rs year writes b gn
	local flagged inew iopen ires cands nflag ncand cores=() drys_ms=() scans=() opens=()
	local vdrys=() vscans=() vfirst=- vdry vsteady
	load "$shape" "$n" "$months"
	rows=$(psql_q "SELECT count(*) FROM kvp_src.payment")
	wrows=$(psql_q "SELECT count(*) FROM kvp_src.payment
		 WHERE period_month >= date '$ASOF' - interval '11 months' - (extract(day FROM date '$ASOF') - 1) * interval '1 day'
		   AND period_month < date_trunc('month', date '$ASOF') + interval '1 month'")
	: >"$T_SCRATCH/rss"
	core_ms "$ASOF" >/dev/null		# warm the cache as the scans will find it
	for i in $(seq 1 "$drys"); do
		timed "$T_SCRATCH/dry.csv" scan --dry-run --as-of "$ASOF"
		drys_ms+=("$MS")
		if [ -n "$VS" ]; then
			timed_vs "$T_SCRATCH/vsdry.csv" scan --dry-run --as-of "$ASOF"
			vdrys+=("$MS")
			cmp -s "$T_SCRATCH/dry.csv" "$T_SCRATCH/vsdry.csv" ||
				echo "   note: the two builds' dry runs differ (KVP_BENCH_VS)"
		fi
		cores+=("$(core_ms "$ASOF")")
	done
	csv=$(($(wc -l <"$T_SCRATCH/dry.csv") - 1))
	timed "$T_SCRATCH/out" scan --as-of "$ASOF"
	first=$MS
	if [ -n "$VS" ]; then timed_vs "$T_SCRATCH/out" scan --as-of "$ASOF"; vfirst=$MS; fi
	cores+=("$(core_ms "$ASOF")")
	storage >"$T_SCRATCH/st0"
	read -r flagged inew iopen ires cands <<<"$(last_run)"
	o=$(open_items)
	printf '\n== shape %s: persons %s, months of history %s, payment rows %s (%s in the window)\n' \
		"$shape" "$n" "$months" "$rows" "$wrows"
	printf '   candidates %s, flagged %s (%s%%; dry run CSV: %s rows), open items after the first run %s\n' \
		"$cands" "$flagged" "$(awk -v a="$flagged" -v b="$cands" 'BEGIN { printf "%.0f", b ? 100 * a / b : 0 }')" "$csv" "$o"
	printf '   dry runs as of %s: %s ms\n' "$ASOF" "${drys_ms[*]}"
	printf '   first scan as of %s: %s ms, items new %s; open items %s\n' "$ASOF" "$first" "$inew" "$o"
	for i in $(seq 1 "$nights"); do
		d=$(date -d "$ASOF + $i days" +%F)
		# what autovacuum does by the next night: statistics that do not know the new run
		psql_q "VACUUM ANALYZE kvpscan.item, kvpscan.candidate" >/dev/null
		timed "$T_SCRATCH/out" scan --as-of "$d"
		t=$MS
		if [ -n "$VS" ]; then
			psql_q "VACUUM ANALYZE kvpscan_vs.item, kvpscan_vs.candidate" >/dev/null
			timed_vs "$T_SCRATCH/vsout" scan --as-of "$d"
			vscans+=("$MS")
		fi
		c=$(core_ms "$d")
		scans+=("$t")
		cores+=("$c")
		read -r nflag inew iopen ires ncand <<<"$(last_run)"
		o=$(open_items)
		opens+=("$o")
		storage >"$T_SCRATCH/st$i"
		printf '   night %s as of %s: %s ms (core %s ms), candidates %s, flagged %s, items new %s, open %s, resolved %s; open items %s; state schema %s MB (item %s MB)\n' \
			"$i" "$d" "$t" "$c" "$ncand" "$nflag" "$inew" "$iopen" "$ires" "$o" \
			"$(awk '{ b += $3 } END { printf "%.2f", b / 1048576 }' "$T_SCRATCH/st$i")" \
			"$(awk '$1 == "item" { printf "%.2f", $3 / 1048576 }' "$T_SCRATCH/st$i")"
	done
	dry=$(median "${drys_ms[@]}")
	scan=$(median "${scans[@]}")
	# steady: nights 2 to N (night 1 moves every item from NEW to OPEN, once in an installation's life)
	if [ "$nights" -ge 2 ]; then steady=$(median "${scans[@]:1}"); else steady=-; fi
	core=$(median "${cores[@]}")
	rss=$(sort -n "$T_SCRATCH/rss" | tail -n 1)
	rd=$(ratio "$dry" "$core")
	rn=$(ratio "$scan" "$core")
	rs=$(ratio "$steady" "$core")
	printf '   open items per night: %s\n' "${opens[*]}"
	printf '   persons %s, payment rows %s: first scan %s ms, nightly scan %s ms (median of %s: %s), core %s ms (median of %s: %s), peak RSS %s kB, dry run %s ms (median of %s: %s)\n' \
		"$n" "$rows" "$first" "$scan" "$nights" "${scans[*]}" "$core" "${#cores[@]}" "${cores[*]}" "$rss" "$dry" "$drys" "${drys_ms[*]}"
	if [ "$nights" -ge 2 ]; then printf '   steady nightly scan (nights 2 to %s, median): %s ms\n' "$nights" "$steady"; fi
	printf '   ratios: dry run / core %s (goal <= 2), nightly scan / core %s, steady nightly scan / core %s (goal <= 5)\n' \
		"$rd" "$rn" "$rs"
	if [ -n "$VS" ]; then
		vdry=$(median "${vdrys[@]}")
		if [ "$nights" -ge 2 ]; then vsteady=$(median "${vscans[@]:1}"); else vsteady=$(median "${vscans[@]}"); fi
		printf '   the other build (KVP_BENCH_VS), right after each of these: dry runs %s ms, first scan %s ms, nights %s ms\n' \
			"${vdrys[*]}" "$vfirst" "${vscans[*]}"
		printf '   this build / the other: dry run %s / %s = %s, first scan %s / %s = %s, steady nightly %s / %s = %s\n' \
			"$dry" "$vdry" "$(ratio "$dry" "$vdry")" "$first" "$vfirst" "$(ratio "$first" "$vfirst")" \
			"$([ "$nights" -ge 2 ] && echo "$steady" || echo "$scan")" "$vsteady" \
			"$(ratio "$([ "$nights" -ge 2 ] && echo "$steady" || echo "$scan")" "$vsteady")"
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$shape" "$n" "$dry" "$vdry" "$(ratio "$dry" "$vdry")" \
			"$([ "$nights" -ge 2 ] && echo "$steady" || echo "$scan")" "$vsteady" \
			"$(ratio "$([ "$nights" -ge 2 ] && echo "$steady" || echo "$scan")" "$vsteady")" "$core" \
			"$(ratio "$vsteady" "$core")" >>"$T_SCRATCH/vs_summary"
	fi
	# storage: after the first run; the growth per night and the rows a night
	# writes (inserted, updated, deleted: pg_stat_user_tables) over nights 2 to
	# N, from the state after night 1 (night 1 is not steady: every item goes
	# from NEW to OPEN, and item's pages make room for updated rows), or over
	# night 1 when it is the only one; a year: the base + the other nights
	if [ "$nights" -ge 2 ]; then b=1 gn="nights 2 to $nights"; else b=0 gn="night 1 (not steady: KVP_BENCH_NIGHTS >= 2)"; fi
	printf '   storage of the state schema (MB = pg_total_relation_size / 2^20, with indexes and TOAST):\n'
	printf '   after the first run; growth and rows written (inserted, updated, deleted) per night, mean over %s;\n' "$gn"
	printf '   a year: %s runs (after %s, %s nights more at that growth)\n' \
		"$YEAR" "$([ "$b" = 1 ] && echo night 1 || echo the first run)" "$((YEAR - 1 - b))"
	paste -d ' ' "$T_SCRATCH/st0" "$T_SCRATCH/st$b" "$T_SCRATCH/st$nights" |
	awk -v n="$((nights - b))" -v y="$((YEAR - 1 - b))" -v out="$T_SCRATCH/year" '
		# fields per snapshot: table rows bytes inserted updated deleted (6); snapshots: first run, base, last night
		function row(name) {
			printf "   %-18s %10d %9.2f %10.0f %9.3f %9.0f %9.0f %9.0f %12.0f %10.1f\n", name, v[2], v[3] / m,
				(v[14] - v[8]) / n, (v[15] - v[9]) / n / m,
				(v[16] - v[10]) / n, (v[17] - v[11]) / n, (v[18] - v[12]) / n,
				v[8] + y * (v[14] - v[8]) / n, (v[9] + y * (v[15] - v[9]) / n) / m
		}
		BEGIN { m = 1048576
			printf "   %-18s %10s %9s %10s %9s %9s %9s %9s %12s %10s\n", "table", "rows", "MB", "rows/night", "MB/night",
				"ins/night", "upd/night", "del/night", "rows/year", "MB/year" }
		{ for (i = 2; i <= 18; i++) { v[i] = $i; t[i] += $i }; row($1) }
		END { for (i = 2; i <= 18; i++) v[i] = t[i]; row("total")
			printf "%.1f %.0f\n", (v[9] + y * (v[15] - v[9]) / n) / m, (v[16] + v[17] + v[18] - v[10] - v[11] - v[12]) / n >out }'
	read -r year writes <"$T_SCRATCH/year"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$shape" "$n" "$months" "$rows" "$cands" "$flagged" "$o" "$first" "$scan" "$steady" "$dry" "$core" "$rd" "$rn" "$rs" \
		"$writes" "$year" >>"$T_SCRATCH/summary"
	if [ "$profile" = 1 ]; then profile "$(date -d "$ASOF + $((nights + 1)) days" +%F)"; fi
}

: >"$T_SCRATCH/summary"
: >"$T_SCRATCH/vs_summary"
for n in $sizes; do
	for shape in $shapes; do
		case $shape in
		history) bench history "$n" 12; bench history "$n" 120 ;;
		*) bench "$shape" "$n" 36 ;;
		esac
	done
done
printf '\nsummary, one row per load (nights %s, dry runs %s, delivery.send %s): candidates and flagged of the first run, open items\n' "$nights" "$drys" "$send"
printf 'after the last night, times in ms (steady nightly: nights 2 to N), rows/night the state schema'"'"'s rows inserted, updated and deleted per night,\n'
printf 'MB/year the state schema after a year of nightly runs\n'
printf '| shape | persons | months | payment rows | candidates | flagged | open items | first scan | nightly scan | steady nightly | dry run | core | dry/core | nightly/core | steady/core | rows/night | MB/year |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
cat "$T_SCRATCH/summary"
if [ -n "$VS" ]; then
	printf '\nagainst the other build (KVP_BENCH_VS=%s), same loads, each run right after this build'"'"'s; times in ms\n' "$KVP_BENCH_VS"
	printf '| shape | persons | dry run | other dry run | ratio | steady nightly | other steady nightly | ratio | core | other steady/core |\n'
	printf '|---|---|---|---|---|---|---|---|---|---|\n'
	cat "$T_SCRATCH/vs_summary"
fi
