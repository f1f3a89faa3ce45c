#!/bin/sh
# status.sh - "kvpscan status": content and exit codes (0 healthy; 1 after a
# failed run, with a dead delivery, or with the schema behind the program)
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
pg_start || { echo "cannot start PostgreSQL"; exit 1; }
scratch_dir
SPOOL=$T_SCRATCH/spool
mkdir -p "$SPOOL"
cat > "$T_SCRATCH/k.conf" <<EOC
log = { destination = "stderr"; };
delivery = { channel = "spool"; send = "all_open"; };
spool = { directory = "$SPOOL"; };
daemon = { scan_at = "02:30"; timezone = "Europe/Oslo"; };
EOC
K="$KVPSCAN -c $T_SCRATCH/k.conf"
json() {	# json EXPR: evaluate EXPR over the parsed status JSON (stdout only) as d
	$K status --format json 2>/dev/null | $PY -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

assert_status 0 "status --help" -- $K status --help
assert_status 2 "status --format xml is a usage error" -- $K status --format xml
assert_status 1 "status before migrate exits 1" -- $K status
assert_contains "$OUT" "schema version   0" "status shows the missing schema"

assert_status 0 "migrate" -- $K migrate
latest=$(psql_q "SELECT max(version) FROM kvpscan.schema_version")
assert_status 0 "demo data" -- $K demo-data --persons 200 --seed 5 --as-of 2024-03-01
assert_status 0 "run as of 2024-03-01" -- $K run --as-of 2024-03-01

# --- after a good run
assert_status 0 "status after a good run exits 0" -- $K status
assert_contains "$OUT" "schema version   $latest (program $latest)" "status shows the schema version"
assert_contains "$OUT" "2024-03-01" "status lists the run's as-of date"
assert_contains "$OUT" "succeeded" "status lists the run as succeeded"
# the next 02:30 in Oslo after now, computed independently with Python's zoneinfo: the first
# instant of a day whose wall clock reaches 02:30 (on the day the clocks spring forward over it,
# the jump at 03:00; on the day they fall back, the first 02:30 only), as docs/daemon.md says
next_0230() {
	"$PY" -c '
import datetime, sys, time, zoneinfo
oslo = zoneinfo.ZoneInfo("Europe/Oslo")
now = int(time.time())
t = now - now % 60 - 86400
seen = set()
while t < now + 3 * 86400:
    w = datetime.datetime.fromtimestamp(t, oslo)
    p = datetime.datetime.fromtimestamp(t - 60, oslo)
    if w.date() not in seen and (w.hour, w.minute) >= (2, 30) and (p.date() != w.date() or (p.hour, p.minute) < (2, 30)):
        seen.add(w.date())
        if t > now:
            print(w.strftime("%Y-%m-%d %H:%M:%S"))
            break
    t += 60'
}
want_before=$(next_0230)
assert_status 0 "status again" -- $K status
want_after=$(next_0230)
case $OUT in
*"next scan        $want_before"*|*"next scan        $want_after"*) ok "status shows the next scan from the configuration ($want_after)" ;;
*) not_ok "status shows the next scan from the configuration" "want $want_before or $want_after in:
$OUT" ;;
esac
sent=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'sent'")
assert_contains "$OUT" "0 pending, 0 failed (to be retried), 0 sending, 0 dead, $sent sent" "status counts the deliveries"
assert_status 0 "status --format json after a good run" -- $K status --format json
assert_eq "True" "$(json 'd["healthy"]')" "json: healthy"
assert_eq "succeeded|2024-03-01" "$(json 'd["runs"][0]["status"] + "|" + d["runs"][0]["as_of"]')" "json: the last run"
flagged=$(psql_q "SELECT flagged FROM kvpscan.run ORDER BY run_id DESC LIMIT 1")
assert_eq "$flagged" "$(json 'd["runs"][0]["flagged"]')" "json: the run's flagged count"
assert_eq "$sent" "$(json 'd["deliveries"]["sent"]')" "json: sent deliveries"
assert_eq "$latest|$latest" "$(json '"%d|%d" % (d["schema_version"], d["program_schema_version"])')" "json: schema versions"

# --- a pending delivery after a failed attempt counts as failed, not as unhealthy
one=$(psql_q "SELECT delivery_id FROM kvpscan.delivery ORDER BY delivery_id LIMIT 1")
psql_q "UPDATE kvpscan.delivery SET state = 'pending', attempts = 1, sent_at = NULL,
        next_attempt_at = now() + interval '1 hour' WHERE delivery_id = '$one'" >/dev/null
assert_status 0 "status with a delivery waiting for a retry exits 0" -- $K status
# one vocabulary with "kvpscan outbox": a failed delivery is not also pending (was "1 pending, 1 failed")
assert_contains "$OUT" "0 pending, 1 failed (to be retried), 0 sending, 0 dead" "status counts the failed delivery once, as failed"
assert_eq "0|1|0" "$(json '"%d|%d|%d" % (d["deliveries"]["pending"], d["deliveries"]["failed"], d["deliveries"]["sending"])')" \
	"json: the failed delivery is failed only"
assert_status 0 "outbox --failed" -- $K outbox --failed
assert_eq failed "$(printf '%s\n' "$OUT" | awk -v id="$one" '$1 == id {print $2}')" "outbox shows the same delivery as failed"
# never tried (redeliver resets the attempts): pending in both
psql_q "UPDATE kvpscan.delivery SET attempts = 0 WHERE delivery_id = '$one'" >/dev/null
assert_status 0 "status with a delivery not tried yet" -- $K status
assert_contains "$OUT" "1 pending, 0 failed (to be retried), 0 sending, 0 dead" "status counts the untried delivery as pending"
assert_status 0 "outbox" -- $K outbox
assert_eq pending "$(printf '%s\n' "$OUT" | awk -v id="$one" '$1 == id {print $2}')" "outbox shows it as pending"
# claimed by a sender: sending in both, with who holds the lease
psql_q "UPDATE kvpscan.delivery SET state = 'sending', attempts = 1, claimed_by = 999999,
        lease_until = now() + interval '10 minutes' WHERE delivery_id = '$one'" >/dev/null
assert_status 0 "status with a delivery held by a sender" -- $K status
assert_contains "$OUT" "0 pending, 0 failed (to be retried), 1 sending, 0 dead" "status counts it as sending"
assert_contains "$OUT" "1 held by the sender in backend 999999 (gone): the next deliver takes them over at once" \
	"status says who holds the lease and that it is gone"
assert_contains "$OUT" "deliveries are held by a sender that is gone" "status warns about it"
assert_eq "999999|False|1" "$(json '"%d|%s|%d" % (d["leases"][0]["backend_pid"], d["leases"][0]["sender_alive"], d["leases"][0]["deliveries"])')" \
	"json: the lease, its sender and its deliveries"
assert_status 0 "outbox" -- $K outbox
assert_eq sending "$(printf '%s\n' "$OUT" | awk -v id="$one" '$1 == id {print $2}')" "outbox shows it as sending"
psql_q "UPDATE kvpscan.delivery SET state = 'pending', claimed_by = NULL, lease_until = NULL
        WHERE delivery_id = '$one'" >/dev/null

# --- a dead delivery
psql_q "UPDATE kvpscan.delivery SET state = 'dead' WHERE delivery_id = '$one'" >/dev/null
assert_status 1 "status with a dead delivery exits 1" -- $K status
assert_contains "$OUT" "0 pending, 0 failed (to be retried), 0 sending, 1 dead" "status counts the dead delivery"
assert_contains "$OUT" "deliveries are dead" "status warns about the dead delivery"
assert_status 1 "status --format json with a dead delivery exits 1" -- $K status --format json
assert_eq "False|1" "$(json '"%s|%d" % (d["healthy"], d["deliveries"]["dead"])')" "json: unhealthy, one dead"
psql_q "UPDATE kvpscan.delivery SET state = 'sent', sent_at = now() WHERE delivery_id = '$one'" >/dev/null
assert_status 0 "status is healthy again once the delivery is sent" -- $K status

# --- after a failed run
assert_status 1 "a failing run (a later run exists)" -- $K run --as-of 2024-02-01
assert_status 1 "status after a failed run exits 1" -- $K status
assert_contains "$OUT" "the last run failed" "status says the last run failed"
assert_status 1 "status --format json after a failed run exits 1" -- $K status --format json
assert_eq "failed|False" "$(json 'd["runs"][0]["status"] + "|" + str(d["healthy"])')" "json: the failed run"
assert_status 0 "a good run after it" -- $K run --as-of 2024-03-02
assert_status 0 "status is healthy after the next good run" -- $K status
finish
