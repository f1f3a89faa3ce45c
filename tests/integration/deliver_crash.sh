#!/bin/sh
# deliver_crash.sh - a real kill -9 of "kvpscan deliver" in the middle of a webhook batch.
# The HTTPS receiver answers slowly (1 s, concurrency 2); once the first ids have arrived the
# sender is killed. The claimed rows stay "sending" under a lease; a deliver while the lease
# holds sends nothing; after the lease expires, a new deliver records the abandoned attempts as
# "lost" and sends every delivery again with the same id: at least once, never lost.
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
# shellcheck disable=SC2317 # called by common.sh's exit trap
t_cleanup_hook() {
	[ -n "$KPID" ] && kill -9 "$KPID" 2>/dev/null
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

# ---------------------------------------------------------------- kill -9 in the middle of the batch
$K -v deliver >d1.out 2>d1.err &
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

assert_eq "$N|$N|0" "$(q "SELECT count(*) FILTER (WHERE state = 'sending' AND lease_until > now()),
                                 count(*) FILTER (WHERE attempts = 1), count(*) FILTER (WHERE state = 'sent')
                            FROM kvpscan.delivery")" "every claimed delivery is 'sending' under a live lease, none sent"
assert_eq "$N" "$(q "SELECT count(*) FROM kvpscan.delivery_attempt WHERE result IS NULL AND finished_at IS NULL")" \
	"one attempt per delivery left in flight"

# while the lease holds, another sender leaves the rows alone
assert_status 0 "deliver while the dead sender's lease holds" -- timeout 60 $K deliver
assert_contains "$OUT" "sent 0, retry later 0, dead 0" "nothing is sent twice under a live lease"
assert_eq "$FIRST" "$(received ids)" "the receiver saw no new request"

# ---------------------------------------------------------------- the lease expires; the receiver is fast now
q "UPDATE kvpscan.delivery SET lease_until = now() - interval '1 second' WHERE state = 'sending'" >/dev/null
# the receiver answers at once on /ok (same process, same record of ids): the rows' recipient is the URL
q "UPDATE kvpscan.delivery SET recipient = replace(recipient, '/slow', '/ok')" >/dev/null
assert_status 0 "deliver after the lease expired" -- timeout 60 $K -v deliver
assert_contains "$OUT" "sent $N, retry later 0, dead 0" "every delivery is sent"
assert_contains "$OUT" "lost attempt" "the lost attempts are reported"

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

finish
