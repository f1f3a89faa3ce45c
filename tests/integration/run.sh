#!/bin/sh
# run.sh - "kvpscan run": scan and deliver once under the run lock; a second
# run while the lock is held does nothing and exits 0; exit 1 on a failed scan
# or a dead delivery; the Prometheus textfile after the run
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "cannot start PostgreSQL"; exit 1; }
scratch_dir
SPOOL=$T_SCRATCH/spool
PROM=$T_SCRATCH/kvpscan.prom
mkdir -p "$SPOOL"
cat > "$T_SCRATCH/k.conf" <<EOC
log = { destination = "stderr"; };
delivery = { channel = "spool"; send = "all_open"; };
spool = { directory = "$SPOOL"; };
daemon = { metrics_file = "$PROM"; };
EOC
K="$KVPSCAN -c $T_SCRATCH/k.conf"
runs() { psql_q "SELECT count(*) FROM kvpscan.run WHERE status = '${1:-succeeded}'"; }

assert_status 0 "run --help" -- $K run --help
assert_contains "$OUT" "Usage: kvpscan run" "run --help prints the usage"
assert_status 2 "run with a bad --as-of is a usage error" -- $K run --as-of 2024-13-01
assert_status 0 "migrate" -- $K migrate
assert_status 0 "demo data" -- $K demo-data --persons 300 --seed 3 --as-of 2024-03-01

# --- one run: scan, then every worklist into the spool
assert_status 0 "run as of 2024-03-01" -- $K run --as-of 2024-03-01
assert_contains "$OUT" "scan as of 2024-03-01: run" "run reports the stored scan"
assert_eq 1 "$(runs)" "one succeeded run row"
queued=$(psql_q "SELECT count(*) FROM kvpscan.delivery")
sent=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'sent'")
[ "$queued" -gt 0 ] && ok "the run queued worklists ($queued)" || not_ok "the run queued worklists" "$queued"
assert_eq "$queued" "$sent" "the run sent every worklist"
files=$(find "$SPOOL" -name '*.json' | wc -l)
assert_eq "$queued" "$files" "one spool file per worklist"
assert_contains "$OUT" "sent $queued, retry later 0, dead 0" "run prints the delivery counts"

# --- the metrics textfile
[ -f "$PROM" ] && ok "metrics file written" || not_ok "metrics file written"
prom=$(cat "$PROM" 2>/dev/null)
for m in kvpscan_last_run_timestamp_seconds kvpscan_last_run_duration_seconds kvpscan_last_run_success \
	 kvpscan_candidates kvpscan_flagged kvpscan_deliveries; do
	assert_contains "$prom" "# TYPE $m gauge" "metrics: $m has a TYPE line"
	assert_contains "$prom" "# HELP $m " "metrics: $m has a HELP line"
done
assert_contains "$prom" "kvpscan_last_run_success 1" "metrics: the run succeeded"
flagged=$(psql_q "SELECT flagged FROM kvpscan.run ORDER BY run_id DESC LIMIT 1")
assert_contains "$prom" "kvpscan_flagged $flagged
" "metrics: flagged equals the run's"
ni=$(psql_q "SELECT flag_not_informed FROM kvpscan.run ORDER BY run_id DESC LIMIT 1")
assert_contains "$prom" "kvpscan_candidates{flag=\"NOT_INFORMED\"} $ni" "metrics: candidates by flag"
assert_contains "$prom" "kvpscan_deliveries{state=\"sent\"} $sent" "metrics: sent deliveries"
assert_contains "$prom" "kvpscan_deliveries{state=\"dead\"} 0" "metrics: no dead deliveries"
# the states as "kvpscan outbox" and "kvpscan status" name them
for st in pending failed sending sent dead; do
	assert_contains "$prom" "kvpscan_deliveries{state=\"$st\"} " "metrics: the state $st"
done
assert_contains "$prom" "kvpscan_channel_faults 0" "metrics: every channel can send"
started=$(sed -n 's/^kvpscan_last_run_timestamp_seconds //p' "$PROM")
now=$(date +%s)
if [ -n "$started" ] && [ $((now - started)) -ge 0 ] && [ $((now - started)) -lt 120 ]; then
	ok "metrics: the run's timestamp is now"
else
	not_ok "metrics: the run's timestamp is now" "$started vs $now"
fi
leftover=$(find "$T_SCRATCH" -maxdepth 1 -name 'kvpscan.prom?*' | wc -l)
assert_eq 0 "$leftover" "no temporary metrics file left behind"

# --- the lock held by another session: nothing done, exit 0
psql -X -q -At -c "SELECT pg_advisory_lock(hashtext('kvpscan.run:kvpscan')::bigint)" \
	-c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
HOLDER=$!
t_cleanup_hook() { kill "$HOLDER" 2>/dev/null; }
i=0
while [ "$i" -lt 100 ] && [ "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" != 1 ]; do
	sleep 0.1; i=$((i + 1))
done
assert_status 0 "run while another session holds the lock exits 0" -- $K run --as-of 2024-03-02
assert_contains "$OUT" "another kvpscan run holds the lock" "the lock message is logged"
assert_eq 1 "$(runs)" "no run stored while the lock is held"
psql_q "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'" >/dev/null
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null

# --- two runs at once: exactly one stores the scan, both exit 0
$K run --as-of 2024-03-02 > "$T_SCRATCH/a.out" 2>&1 &
A=$!
$K run --as-of 2024-03-02 > "$T_SCRATCH/b.out" 2>&1 &
B=$!
wait "$A"; sa=$?
wait "$B"; sb=$?
assert_eq "0 0" "$sa $sb" "two concurrent runs both exit 0"
assert_eq 1 "$(psql_q "SELECT count(*) FROM kvpscan.run WHERE as_of = '2024-03-02'")" \
	"exactly one run row for the date after two concurrent runs"
assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" "the lock is released"

# --- a failed scan: exit 1, metrics say so
assert_status 1 "a run that cannot scan (a later run exists) exits 1" -- $K run --as-of 2024-02-01
assert_contains "$(cat "$PROM")" "kvpscan_last_run_success 0" "metrics: the failed run"

# --- a channel that cannot send at all: exit 1 though nothing died, status unwell, metrics say so
cat > "$T_SCRATCH/nodir.conf" <<EOC
log = { destination = "stderr"; };
delivery = { channel = "spool"; send = "all_open"; max_attempts = 5; };
spool = { directory = "$T_SCRATCH/no-such-dir"; };
daemon = { metrics_file = "$PROM"; };
EOC
assert_status 1 "a run whose channel cannot send exits 1" -- $KVPSCAN -c "$T_SCRATCH/nodir.conf" run --as-of 2024-03-03
assert_contains "$OUT" "error: the spool channel cannot send at all" "the run says the channel cannot send"
assert_contains "$OUT" "dead 0" "nothing died"
assert_eq 1 "$(psql_q "SELECT count(*) FROM kvpscan.run WHERE as_of = '2024-03-03' AND status = 'succeeded'")" \
	"the scan itself was stored"
assert_contains "$(cat "$PROM")" "kvpscan_last_run_success 0" "metrics: the run did not succeed"
assert_contains "$(cat "$PROM")" "kvpscan_channel_faults 1" "metrics: one channel cannot send"
assert_status 1 "status is unwell" -- $KVPSCAN -c "$T_SCRATCH/nodir.conf" status
assert_contains "$OUT" "channel spool    cannot send at all" "status names the channel"

# --- a delivery that dies in this run: exit 1
cat > "$T_SCRATCH/dead.conf" <<EOC
log = { destination = "stderr"; };
delivery = { channel = "spool"; send = "all_open"; max_attempts = 1; };
spool = { directory = "$T_SCRATCH/no-such-dir"; };
EOC
assert_status 1 "a run whose delivery dies exits 1" -- $KVPSCAN -c "$T_SCRATCH/dead.conf" run --as-of 2024-03-04
assert_contains "$OUT" "deliveries are dead" "the dead deliveries are logged"
assert_eq 1 "$(psql_q "SELECT count(*) FROM kvpscan.run WHERE as_of = '2024-03-04' AND status = 'succeeded'")" \
	"the scan itself was stored"
finish
