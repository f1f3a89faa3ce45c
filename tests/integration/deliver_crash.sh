#!/bin/sh
# deliver_crash.sh - a real kill -9 of "kvpscan deliver" in the middle of a webhook batch.
# The HTTPS receiver answers slowly (1 s, concurrency 2); once the first ids have arrived the
# sender is killed. The claimed rows stay "sending" under a lease that fits the batch; the
# killed sender's session is gone with it, so the next deliver sees its sender lock is gone,
# takes the rows over at once (no waiting for the lease), records the abandoned attempts as
# "lost" and sends every delivery again with the same id: at least once, never lost. The rows of
# a sender that is alive are left alone. The round pings the systemd watchdog while it waits.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
if [ ! -x "$PY" ] || ! command -v openssl >/dev/null 2>&1; then
	echo "SKIP: needs /usr/bin/python3 and openssl"
	exit 77
fi
unset CREDENTIALS_DIRECTORY
scratch_dir
cd "$T_SCRATCH" || exit 1
pg_start || { echo "cannot start PostgreSQL"; exit 1; }

PIDS=
KPID=
LPID=
# shellcheck disable=SC2317 # called by common.sh's exit trap
t_cleanup_hook() {
	[ -n "$KPID" ] && kill -9 "$KPID" 2>/dev/null
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
}
q() { psql_q "$1"; }
ASOF=2024-03-01

# ---------------------------------------------------------------- certificates, secret, receiver
. "$top_srcdir/tests/lib/tls.sh"
tls_ca ca && tls_cert server ca "IP:127.0.0.1"
assert_eq 0 $? "test CA and server certificate made"
umask 077
printf 'whsec_%s\n' "$(openssl rand -base64 32)" >whsec
umask 022

mkdir -p r
$PY "$top_srcdir/tests/peers/https_receiver.py" --cert server.crt --key server.key --secret-file whsec \
	--port-file r/port --dir r --slow-seconds 1 --time-limit 180 2>r/stderr &
PIDS="$PIDS $!"
i=0
while [ ! -s r/port ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat r/port 2>/dev/null)
[ -n "$PORT" ] || { not_ok "the receiver did not start" "$(cat r/stderr)"; finish; }

cat >c.conf <<EOF
log = { destination = "stderr"; };
delivery = { channel = "webhook"; concurrency = 2; max_attempts = 5; };
webhook = {
  url = "https://127.0.0.1:$PORT/slow";
  ca_file = "$T_SCRATCH/ca.crt";
  secret_file = "$T_SCRATCH/whsec";
  connect_timeout = 5;
  timeout = 10;
};
EOF
K="$KVPSCAN -c c.conf"

# received MODE: "ids" (sorted, with repeats), "arrived" (requests so far), "unverified"
received() {
	$PY - "$1" <<'EOF' 2>/dev/null
import json, sys
try:
    ev = [e for e in map(json.loads, open("r/events.jsonl")) if e.get("event") == "request"]
except OSError:
    ev = []
if sys.argv[1] == "ids":
    print(" ".join(sorted(e["id"] for e in ev)))
elif sys.argv[1] == "arrived":
    print(len(ev))
else:
    print(sum(1 for e in ev if not e["verified"]))
EOF
}
ids_of() {	# ids_of [WHERE]: delivery ids, sorted
	q "SELECT coalesce(string_agg(delivery_id, ' ' ORDER BY delivery_id COLLATE \"C\"), '')
	     FROM kvpscan.delivery ${1:+WHERE $1}"
}

# ---------------------------------------------------------------- many worklists
assert_status 0 "demo data: 1000 persons in 20 offices" -- \
	$K demo-data --persons 1000 --offices 20 --seed 5 --as-of $ASOF
assert_status 0 "migrate" -- $K migrate
assert_status 0 "scan" -- $K scan --as-of $ASOF
N=$(q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'pending'")
[ "$N" -ge 12 ] && [ "$N" -le 100 ] && ok "$N worklists queued (one batch)" ||
	not_ok "between 12 and 100 worklists queued (one batch)" "$N"

# ---------------------------------------------------------------- a notify listener for the watchdog pings
SOCK=$T_SCRATCH/notify.sock
: >notify.txt
$PY "$top_srcdir/tests/peers/dgram_receiver.py" "$SOCK" notify.txt --idle 120 --timestamps &
LPID=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

# ---------------------------------------------------------------- kill -9 in the middle of the batch
# as under systemd with WatchdogSec=1s: the round must ping while it waits for the slow receiver
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=1000000 $K -v deliver >d1.out 2>d1.err &
KPID=$!
i=0
while [ "$(received arrived)" -lt 4 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
assert_eq kvpscan "$(cat "/proc/$KPID/comm" 2>/dev/null)" "the background process is kvpscan itself"
kill -9 "$KPID"
wait "$KPID"
assert_eq 137 $? "kvpscan deliver was killed by SIGKILL"
KPID=
sleep 0.5	# a request whose bytes left before the kill is still recorded by the receiver
FIRST=$(received ids)
ARRIVED=$(received arrived)
[ "$ARRIVED" -ge 4 ] && [ "$ARRIVED" -lt "$N" ] && ok "killed after $ARRIVED of $N worklists arrived" ||
	not_ok "killed in the middle of the batch" "arrived $ARRIVED of $N"
assert_not_contains "$(cat d1.out)" "sent" "the killed sender printed no summary"

NWD=$(grep -c ' WATCHDOG=1$' notify.txt)
[ "$NWD" -ge 4 ] && ok "the delivery round pinged the watchdog while it waited ($NWD WATCHDOG=1)" ||
	not_ok "the delivery round pinged the watchdog while it waited" "$(cat notify.txt)"
GAP=$($PY -c '
import sys
t = [float(l.split()[0]) for l in open(sys.argv[1]) if l.rstrip().endswith("WATCHDOG=1")]
print("%.1f" % max(b - a for a, b in zip(t, t[1:])) if len(t) > 1 else "none")' notify.txt)
awk -v g="$GAP" 'BEGIN { exit !(g != "none" && g + 0 < 0.75) }' &&
	ok "the pings came well within WatchdogSec (longest gap $GAP s)" || not_ok "the pings came well within WatchdogSec" "$GAP"

assert_eq "$N|$N|0" "$(q "SELECT count(*) FILTER (WHERE state = 'sending' AND lease_until > now()),
                                 count(*) FILTER (WHERE attempts = 1), count(*) FILTER (WHERE state = 'sent')
                            FROM kvpscan.delivery")" "every claimed delivery is 'sending' under a live lease, none sent"
assert_eq "$N" "$(q "SELECT count(*) FROM kvpscan.delivery_attempt WHERE result IS NULL AND finished_at IS NULL")" \
	"one attempt per delivery left in flight"
# the lease fits the batch: 60 s + ceil(N / concurrency 2) x (timeout 10 + connect_timeout 5) s,
# not 120 + 100 x max(webhook.timeout, email.timeout) (1 h 42 min with the defaults)
WANT_LEASE=$((60 + (N + 1) / 2 * 15))
assert_eq 1 "$(q "SELECT count(DISTINCT claimed_by) FROM kvpscan.delivery WHERE state = 'sending'")" \
	"the claim names one sender's backend"
LEASE=$(q "SELECT round(extract(epoch FROM max(lease_until) - max(a.started_at)))
             FROM kvpscan.delivery d JOIN kvpscan.delivery_attempt a USING (delivery_id) WHERE d.state = 'sending'")
[ "$LEASE" -ge $((WANT_LEASE - 2)) ] && [ "$LEASE" -le $((WANT_LEASE + 2)) ] &&
	ok "the lease fits the batch ($LEASE s for $N webhooks)" || not_ok "the lease fits the batch" "$LEASE s, want $WANT_LEASE s"

# status says who holds the rows, and that the holder is gone
assert_status 0 "status after the kill" -- $K status
assert_contains "$OUT" "$N sending" "status counts the held deliveries as sending"
assert_contains "$OUT" "$N held by the sender in backend" "status says a sender's lease holds them"
assert_contains "$OUT" "(gone): the next deliver takes them over at once" "status says the sender is gone"

# ---------------------------------------------------------------- the next deliver takes over at once
# the operator points webhook.url at /ok (the receiver answers at once; same process, same record
# of ids): the channel sends to the url in force, not the one stored at queue time
sed -i 's|/slow";|/ok";|' c.conf
t0=$(date +%s)
assert_status 0 "deliver right after the kill, lease still running" -- timeout 60 $K -v deliver
t1=$(date +%s)
assert_contains "$OUT" "sent $N, retry later 0, dead 0" "every delivery is sent at once"
assert_contains "$OUT" "taken over from a stopped sender $N" "the rows of the dead sender were taken over before their lease ended"
assert_contains "$OUT" "lost attempt" "the lost attempts are reported"
[ $((t1 - t0)) -le 30 ] && ok "taken over without waiting for the lease ($((t1 - t0)) s)" ||
	not_ok "taken over without waiting for the lease" "$((t1 - t0)) s"

# ---------------------------------------------------------------- sent exactly once or twice with the same id, never lost
assert_eq "$(ids_of)" "$(ids_of "state = 'sent'")" "every delivery ends up sent"
assert_eq "$N|$N" "$(q "SELECT count(*) FILTER (WHERE result = 'lost'), count(*) FILTER (WHERE result = 'ok')
                        FROM kvpscan.delivery_attempt")" "each abandoned attempt is recorded as lost, each resend as ok"
assert_eq "$N" "$(q "SELECT count(*) FROM (SELECT delivery_id, string_agg(result, ',' ORDER BY attempt_no) r
                       FROM kvpscan.delivery_attempt GROUP BY 1) a WHERE r = 'lost,ok'")" \
	"every delivery's history is lost, then ok"
assert_eq 0 "$(q "SELECT count(*) FROM kvpscan.delivery_attempt WHERE result IS NULL")" "no attempt left in flight"
CHECK=$($PY - "$(ids_of)" "$FIRST" <<'EOF'
import collections, json, sys
queued = set(sys.argv[1].split())
first = collections.Counter(sys.argv[2].split())
seen = collections.Counter(e["id"] for e in map(json.loads, open("r/events.jsonl")) if e.get("event") == "request")
print("missing=%d" % len(queued - set(seen)))
print("unknown=%d" % len(set(seen) - queued))
print("over_twice=%d" % sum(1 for c in seen.values() if c > 2))
# a duplicate is only an id whose first request reached the receiver before the kill
print("dup_not_first=%d" % sum(1 for i, c in seen.items() if c == 2 and first[i] != 1))
print("twice=%d once=%d" % (sum(1 for c in seen.values() if c == 2), sum(1 for c in seen.values() if c == 1)))
EOF
)
assert_contains "$CHECK" "missing=0" "the receiver saw every queued id"
assert_contains "$CHECK" "unknown=0" "the receiver saw no id that was not queued"
assert_contains "$CHECK" "over_twice=0" "no id arrived more than twice"
assert_contains "$CHECK" "dup_not_first=0" "duplicates are exactly the ids that arrived before the kill"
assert_contains "$CHECK" "twice=$ARRIVED " "the $ARRIVED ids that arrived before the kill came again, with the same id"
assert_eq 0 "$(received unverified)" "every request, before and after the kill, is signed"

# a final deliver has nothing left
assert_status 0 "a final deliver" -- timeout 60 $K deliver
assert_contains "$OUT" "sent 0, retry later 0, dead 0" "nothing left to send"

# ---------------------------------------------------------------- a live sender's rows are left alone
# a session that holds the sender lock of its backend and has claimed one row (as a sender does
# between its claim and its record), for 8 s; then it ends, as a killed sender's session does
ONE=$(q "SELECT delivery_id FROM kvpscan.delivery ORDER BY delivery_id LIMIT 1")
timeout 30 psql -X -q -v ON_ERROR_STOP=1 >live.out 2>&1 <<EOF &
SELECT pg_advisory_lock(hashtext('kvpscan.sender:' || 'kvpscan') & 2147483647, pg_backend_pid());
UPDATE kvpscan.delivery SET state = 'sending', sent_at = NULL, attempts = attempts + 1,
       claimed_by = pg_backend_pid(), lease_until = now() + interval '10 minutes'
 WHERE delivery_id = '$ONE';
SELECT pg_sleep(8);
EOF
SPID=$!
i=0
while [ "$(q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'sending'")" != 1 ] && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
BEFORE=$(received arrived)
assert_status 0 "deliver while a live sender holds a row" -- timeout 60 $K deliver
assert_contains "$OUT" "sent 0, retry later 0, dead 0" "the live sender's row is left alone"
assert_status 0 "status while a live sender holds a row" -- $K status
assert_contains "$OUT" "(running), lease until" "status says the sender is running and until when it holds the row"
wait "$SPID"
assert_eq 0 $? "the live sender's session ended after its sleep"
assert_status 0 "deliver once the sender's session is gone" -- timeout 60 $K deliver
assert_contains "$OUT" "sent 1, retry later 0, dead 0" "its row is taken over at once"
assert_eq $((BEFORE + 1)) "$(received arrived)" "the receiver got the row once more, no other"

finish
