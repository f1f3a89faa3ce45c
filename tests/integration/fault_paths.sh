#!/bin/sh
# fault_paths.sh - every error path of the database-facing commands: the Nth
# statement each sends fails with a real server error (tests/peers/pq_fault.c,
# preloaded), for every N the command reaches.  Each such run must fail
# (exit 1, an error logged), never crash, never report success, and free what
# it allocated: under ASan's leak checker in the sanitizer build (and with
# KVP_FAULT_VALGRIND=1 under valgrind, for every 10th point, in the plain
# build).  The run past the last statement must succeed.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

command -v cc >/dev/null || { echo "fault_paths.sh: no C compiler; skipped"; exit 77; }
pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
cd "$T_SCRATCH" || exit 1
PQINC=$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
if ! cc -shared -fPIC -I"$PQINC" -o pq_fault.so "$top_srcdir/tests/peers/pq_fault.c" -ldl 2>cc.err; then
	not_ok "the libpq fault shim compiles" "$(cat cc.err)"; finish
fi
mkdir spool
printf 'log = { destination = "stderr"; };\ndelivery = { channel = "spool"; backoff_initial = 1; };\nspool = { directory = "%s/spool"; };\n' \
	"$T_SCRATCH" >k.conf
K="$KVPSCAN -c $T_SCRATCH/k.conf"
assert_status 0 "migrate" -- $K migrate
assert_status 0 "demo data" -- $K demo-data --persons 120 --offices 2 --seed 4 --as-of 2025-06-15
assert_status 0 "target" -- $K target set 0315 2025 10
CASE=$(psql_q "SELECT case_ref FROM kvp_src.person ORDER BY case_ref LIMIT 1")

if ldd "$KVPSCAN" 2>/dev/null | grep -q libasan; then
	MODE=asan	# LeakSanitizer reports at exit, with exit code 23
	export ASAN_OPTIONS="detect_leaks=1:exitcode=23:verify_asan_link_order=0"
	SAMPLE=1
elif [ "${KVP_FAULT_VALGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
	MODE=valgrind
	SAMPLE=10	# every 10th point, and the first, under valgrind
else	# the plain build checks exit codes and messages; the sanitizer build, leaks too
	MODE=plain; SAMPLE=0
fi

# sweep NAME CMD...: fail statement 1, 2, ... until a run gets past the last one
sweep() {
	local name=$1 n=1 rc bad=0 leaks=0 crashes=0 ok0=0 checked=0
	shift
	while [ "$n" -le 600 ]; do
		rm -f hit
		chk=
		if [ "$MODE" = valgrind ] && [ $((n % SAMPLE)) -eq 1 -o "$n" = 1 ]; then
			chk="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=23"
			checked=$((checked + 1))
		fi
		KVP_PQ_FAULT_AT=$n KVP_PQ_FAULT_HIT=$T_SCRATCH/hit LD_PRELOAD=$T_SCRATCH/pq_fault.so \
			timeout 120 $chk "$@" >out.$n 2>&1
		rc=$?
		[ -e hit ] || break
		case $rc in
		1) ;;
		23) leaks=$((leaks + 1)); echo "# $name: statement $n: leak or memory error"; tail -n 30 out.$n | sed 's/^/#   /' ;;
		0) ok0=$((ok0 + 1)); echo "# $name: statement $n failed, yet exit 0"; tail -n 5 out.$n | sed 's/^/#   /' ;;
		*) crashes=$((crashes + 1)); echo "# $name: statement $n: exit $rc"; tail -n 10 out.$n | sed 's/^/#   /' ;;
		esac
		grep -q "error:" out.$n || { bad=$((bad + 1)); echo "# $name: statement $n: no error logged"; }
		n=$((n + 1))
	done
	if [ -e hit ]; then not_ok "$name: the sweep ended (over 600 statements?)"; return; fi
	assert_eq 0 "$rc" "$name: the run past its $((n - 1)) statements succeeds"
	assert_eq "0|0|0|0" "$ok0|$crashes|$leaks|$bad" \
		"$name: each of its $((n - 1)) failing statements fails the command with an error, no crash, no leak ($MODE, $checked checked)"
}
# the read-only commands first, over one clean stored run (each failed scan
# leaves a failed run row, which the audit would then read too)
assert_status 0 "a stored scan" -- $K scan --as-of 2025-06-15
sweep "audit" $K audit --from 2025-06-01 --to 2025-06-30 --format json
sweep "explain" $K explain --as-of 2025-06-15 "$CASE"
sweep "data-quality" $K data-quality --as-of 2025-06-15
sweep "scan --dry-run" $K scan --dry-run --as-of 2025-06-15
sweep "report --format html" $K report --format html
sweep "report --format json" $K report --format json
sweep "status" $K status
sweep "outbox" $K outbox
sweep "target set" $K target set 0312 2025 7
sweep "report --deliver" $K report --deliver
sweep "scan" $K scan --as-of 2025-06-16
sweep "deliver" $K deliver
sweep "run" $K run --as-of 2025-06-17
finish
