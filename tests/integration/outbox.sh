#!/bin/sh
# outbox.sh - the durable outbox: retries with growing backoff while the spool directory
# is missing, dead after max_attempts, redeliver, and a resend after a crashed sender
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "cannot start PostgreSQL"; exit 1; }
scratch_dir
SPOOL=$T_SCRATCH/spool

write_conf() {	# write_conf FILE MAX_ATTEMPTS
	cat > "$1" <<EOC
delivery = { channel = "spool"; max_attempts = $2; backoff_initial = 1; backoff_max = 60; };
spool = { directory = "$SPOOL"; };
EOC
}
write_conf "$T_SCRATCH/five.conf" 5
write_conf "$T_SCRATCH/one.conf" 1
K="$KVPSCAN -c $T_SCRATCH/five.conf"
K1="$KVPSCAN -c $T_SCRATCH/one.conf"
q() { psql_q "$1"; }

# commands check their arguments and the schema
assert_status 2 "redeliver without an argument is a usage error" -- $K redeliver
assert_status 2 "deliver --limit 0 is a usage error" -- $K deliver --limit 0
assert_status 2 "outbox --format xml is a usage error" -- $K outbox --format xml
assert_status 0 "deliver --help" -- $K deliver --help
assert_status 1 "deliver before migrate fails" -- $K deliver
assert_contains "$OUT" "version" "deliver says the schema is not at the right version"

assert_status 0 "migrate" -- $K migrate
assert_status 0 "demo data" -- $K demo-data --persons 300 --seed 3 --as-of 2024-03-01
assert_status 0 "scan" -- $K scan --as-of 2024-03-01
n=$(q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'pending'")
[ "$n" -gt 1 ] && ok "the scan queued $n deliveries" || not_ok "the scan queued deliveries" "$n"
ids=$(q "SELECT delivery_id FROM kvpscan.delivery ORDER BY 1")

# 1. the spool directory is missing: the channel cannot send at all, an error of the round
# (docs/delivery.md "A channel that cannot send"); every delivery stays pending for a retry
assert_status 0 "status before any delivery is healthy" -- $K status
assert_status 1 "deliver with a missing spool directory exits 1 (the channel cannot send)" -- $K deliver
assert_contains "$OUT" "retry later $n" "every delivery is to be retried"
assert_contains "$OUT" "error: the spool channel cannot send at all" "deliver says the channel cannot send"
assert_contains "$OUT" "not sent because their channel cannot send $n" "the summary counts them"
assert_contains "$OUT" "cannot send at all: spool directory cannot be used: No such file or directory" \
	"the error says why the channel cannot send"
assert_eq "$n" "$(q "SELECT count(*) FROM kvpscan.delivery
                      WHERE last_error = 'spool directory cannot be used: No such file or directory'")" \
	"each delivery records why"
assert_eq "spool" "$(q "SELECT channel FROM kvpscan.channel_fault")" "the channel fault is recorded"
assert_status 1 "status is unwell while the channel cannot send" -- $K status
assert_contains "$OUT" "channel spool    cannot send at all since" "status names the channel"
assert_contains "$OUT" "$n deliveries wait" "status says how many deliveries wait for it"
assert_contains "$OUT" "$n failed (to be retried)" "status counts them as failed, as outbox does"
assert_status 1 "status --format json is unwell too" -- $K status --format json
assert_contains "$OUT" '"channel_faults": [{"channel": "spool"' "json: the channel fault"
assert_contains "$OUT" '"healthy": false' "json: unhealthy"
assert_eq "$n|1" "$(q "SELECT count(*), min(attempts) FROM kvpscan.delivery
                       WHERE state = 'pending' AND attempts = 1 AND next_attempt_at > now()
                       AND last_error IS NOT NULL")" "all pending after one attempt, due later, with an error"
assert_eq "$n" "$(q "SELECT count(*) FROM kvpscan.delivery_attempt WHERE result = 'retry'")" \
	"one retry attempt recorded per delivery"
assert_status 0 "outbox --failed" -- $K outbox --failed
assert_contains "$OUT" "($n deliveries)" "outbox --failed lists every failed delivery"
assert_contains "$OUT" "failed" "outbox shows the state failed"
listed=$(printf '%s\n' "$OUT" | awk 'NR > 1 && /^wl-/ {print $1}' | LC_ALL=C sort)
assert_eq "$ids" "$listed" "outbox --failed lists the delivery ids"
assert_status 0 "outbox --format csv" -- $K outbox --format csv
assert_contains "$OUT" "delivery_id,state,kind,channel,run_id,office_id,veileder_id" "csv header"
body=$(q "SELECT left(text_body, 30) FROM kvpscan.delivery LIMIT 1")
assert_not_contains "$OUT" "$body" "outbox never shows bodies"
assert_not_contains "$OUT" "@" "outbox never shows recipient addresses"

# 2. backoff: the delay grows from attempt to attempt
delay() {	# delay ATTEMPT_NO: seconds from the attempt's end to the next attempt, of one delivery
	q "SELECT extract(epoch FROM d.next_attempt_at - a.finished_at)
	     FROM kvpscan.delivery d JOIN kvpscan.delivery_attempt a USING (delivery_id)
	    WHERE a.attempt_no = $1 ORDER BY delivery_id LIMIT 1"
}
d1=$(delay 1)

# nothing is due yet: deliver sends nothing (the retry is pushed an hour out first:
# the 1-second backoff may have passed already on a busy machine)
q "UPDATE kvpscan.delivery SET next_attempt_at = now() + interval '1 hour'" >/dev/null
assert_status 0 "deliver before the retry is due" -- $K deliver
assert_contains "$OUT" "sent 0, retry later 0, dead 0" "nothing is due before its backoff"
q "UPDATE kvpscan.delivery SET next_attempt_at = now()" >/dev/null
assert_status 1 "second attempt (the channel still cannot send)" -- $K deliver
d2=$(delay 2)
q "UPDATE kvpscan.delivery SET next_attempt_at = now()" >/dev/null
assert_status 1 "third attempt" -- $K deliver
d3=$(delay 3)
awk -v a="$d1" -v b="$d2" -v c="$d3" 'BEGIN { exit !(a >= 0.8 && a <= 1.2 && b > a && c > b && c <= 4.8) }' \
	&& ok "backoff grows: $d1 s, $d2 s, $d3 s" || not_ok "backoff grows" "$d1 $d2 $d3"
assert_eq "$n" "$(q "SELECT count(*) FROM kvpscan.delivery WHERE attempts = 3 AND state = 'pending'")" \
	"three attempts counted"

# 3. fix the directory: the same deliveries are sent with the same ids
mkdir -p "$SPOOL"
q "UPDATE kvpscan.delivery SET next_attempt_at = now()" >/dev/null
assert_status 0 "deliver after the fix" -- $K -v deliver
assert_contains "$OUT" "sent $n," "everything is sent after the fix"
# the spool's lease is what a spool write takes: 60 s + 1 s a file (was 120 s + 100 x 60 s)
assert_contains "$OUT" "claimed $n deliveries, lease $((60 + n)) s" "the spool lease is short: $((60 + n)) s for $n files"
assert_eq "$ids" "$(ls "$SPOOL" | sed 's/\.json$//' | LC_ALL=C sort)" "the files carry the same delivery ids"
assert_status 0 "outbox after the fix" -- $K outbox --failed
assert_contains "$OUT" "(0 deliveries)" "no failed deliveries remain"
assert_eq 0 "$(q "SELECT count(*) FROM kvpscan.channel_fault")" "the channel fault is cleared once the channel sends"
assert_status 0 "status is healthy again after the fix" -- $K status
assert_not_contains "$OUT" "cannot send" "status no longer names the channel"

# 4. max_attempts = 1: dead at the first failure; deliver exits 1; redeliver --dead
mv "$SPOOL" "$SPOOL.off"
assert_status 0 "redeliver --run" -- $K redeliver --run 1
assert_contains "$OUT" "queued $n deliveries again" "redeliver --run queues the run's deliveries"
assert_status 1 "deliver exits 1 when deliveries die (and the channel cannot send)" -- $K1 deliver
assert_contains "$OUT" "dead $n" "every delivery is dead after one attempt"
assert_eq "$n" "$(q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'dead'")" "dead in the table"
assert_status 0 "outbox lists the dead" -- $K outbox
assert_eq "$n" "$(printf '%s\n' "$OUT" | grep -c ' dead ')" "outbox lists every dead delivery"
assert_status 0 "a later deliver has nothing new to kill" -- $K1 deliver
mv "$SPOOL.off" "$SPOOL"
rm -f "$SPOOL"/*.json
before=$(q "SELECT count(*) FROM kvpscan.delivery_attempt")
assert_status 0 "redeliver --dead" -- $K redeliver --dead
assert_contains "$OUT" "queued $n deliveries again" "redeliver --dead queues every dead delivery"
assert_eq "$n|0" "$(q "SELECT count(*), max(attempts) FROM kvpscan.delivery WHERE state = 'pending'")" \
	"queued again with attempts reset"
assert_eq "$before" "$(q "SELECT count(*) FROM kvpscan.delivery_attempt")" "the attempt history is kept"
assert_status 0 "deliver after redeliver" -- $K1 deliver
assert_contains "$OUT" "sent $n," "the redelivered ones are sent"
assert_eq "$ids" "$(ls "$SPOOL" | sed 's/\.json$//' | LC_ALL=C sort)" "again with the same delivery ids"
assert_status 1 "redeliver of an unknown id fails" -- $K redeliver wl-no-such-id

# 5. a crashed sender: claimed (sending, attempt in flight), lease expired, file never written
id=$(printf '%s\n' "$ids" | head -n 1)
rm -f "$SPOOL/$id.json"
q "UPDATE kvpscan.delivery SET state = 'sending', attempts = attempts + 1, sent_at = NULL,
          lease_until = now() - interval '1 minute' WHERE delivery_id = '$id';
   INSERT INTO kvpscan.delivery_attempt (delivery_id, attempt_no, started_at)
   SELECT '$id', max(attempt_no) + 1, now() - interval '11 minutes'
     FROM kvpscan.delivery_attempt WHERE delivery_id = '$id'" >/dev/null
assert_status 0 "deliver after a crash" -- $K deliver
assert_contains "$OUT" "sent 1," "the abandoned delivery is sent again"
assert_contains "$OUT" "lost attempt 1" "the lost attempt is reported"
[ -f "$SPOOL/$id.json" ] && ok "resent with the same id" || not_ok "resent with the same id"
assert_eq "sent" "$(q "SELECT state FROM kvpscan.delivery WHERE delivery_id = '$id'")" "the delivery is sent"
assert_eq "lost,ok" "$(q "SELECT string_agg(result, ',' ORDER BY attempt_no) FROM (
       SELECT * FROM kvpscan.delivery_attempt WHERE delivery_id = '$id'
        ORDER BY attempt_no DESC LIMIT 2) a")" "the lost attempt is recorded, then the resend"
assert_eq "0" "$(q "SELECT count(*) FROM kvpscan.delivery_attempt WHERE result IS NULL")" \
	"no attempt is left in flight"

# a sender whose lease has not expired yet is left alone
q "UPDATE kvpscan.delivery SET state = 'sending', lease_until = now() + interval '1 hour', sent_at = NULL
    WHERE delivery_id = '$id'" >/dev/null
assert_status 0 "deliver while another sender holds a lease" -- $K deliver
assert_contains "$OUT" "sent 0," "a delivery under a live lease is not sent twice"


# 6. email channel (own state schema): a recipient without an address is dead at once;
# after the address is set, deliver --run queues it again (the relay is a closed loopback port)
cat > "$T_SCRATCH/mail.conf" <<EOC
database = { state_schema = "kvp_mail"; };
delivery = { channel = "email"; max_attempts = 5; };
email = { smtp_url = "smtp://127.0.0.1:1"; timeout = 5; };
EOC
KM="$KVPSCAN -c $T_SCRATCH/mail.conf"
q "UPDATE kvp_src.office SET fallback_email = NULL WHERE office_id = '0315'" >/dev/null
assert_status 0 "migrate the mail schema" -- $KM migrate
assert_status 0 "scan into the mail schema" -- $KM scan --as-of 2024-03-01
assert_contains "$OUT" "no email address" "the scan warns about a worklist without address"
assert_eq "dead|no email address for recipient|0" \
	"$(q "SELECT state, last_error, attempts FROM kvp_mail.delivery WHERE office_id = '0315' AND veileder_id IS NULL")" \
	"the fallback list without address is dead at once"
assert_eq "0" "$(q "SELECT count(*) FROM kvp_mail.delivery WHERE recipient IS NOT NULL AND recipient NOT LIKE '%@%'")" \
	"email recipients are addresses"
q "UPDATE kvp_src.office SET fallback_email = 'kvp.0315@kommune.example' WHERE office_id = '0315'" >/dev/null
assert_status 0 "deliver --run after setting the address (relay down: retry)" -- $KM deliver --run 1
assert_eq "pending|kvp.0315@kommune.example" \
	"$(q "SELECT state, recipient FROM kvp_mail.delivery WHERE office_id = '0315' AND veileder_id IS NULL")" \
	"the list got its address and waits for a retry"
assert_eq "0" "$(q "SELECT count(*) FROM kvp_mail.delivery WHERE state <> 'pending'")" "no email delivery is dead"


# 7. webhook end to end through the outbox (plain http on loopback): 500 first, then 200,
# the same webhook-id both times, signed; a 429's Retry-After is honoured
if [ -x /usr/bin/python3 ]; then
	mkdir -p "$T_SCRATCH/r"
	/usr/bin/python3 -c 'import base64, os; print("whsec_" + base64.b64encode(os.urandom(24)).decode())' \
		> "$T_SCRATCH/whsec"
	chmod 600 "$T_SCRATCH/whsec"
	/usr/bin/python3 "$top_srcdir/tests/peers/https_receiver.py" --port-file "$T_SCRATCH/r/port" \
		--dir "$T_SCRATCH/r" --time-limit 60 --secret-file "$T_SCRATCH/whsec" 2>"$T_SCRATCH/r/stderr" &
	RPID=$!
	t_cleanup_hook() { kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; }
	i=0
	while [ ! -s "$T_SCRATCH/r/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	port=$(cat "$T_SCRATCH/r/port" 2>/dev/null)
	whconf() {	# whconf ROUTE
		cat > "$T_SCRATCH/wh.conf" <<EOC
database = { state_schema = "kvp_wh"; };
delivery = { channel = "webhook"; max_attempts = 5; backoff_initial = 1; backoff_max = 60; };
webhook = { url = "http://127.0.0.1:$port/$1"; allow_insecure_http = true; secret_file = "$T_SCRATCH/whsec"; };
EOC
	}
	whconf flaky
	KW="$KVPSCAN -c $T_SCRATCH/wh.conf"
	assert_status 0 "migrate the webhook schema" -- $KW migrate
	assert_status 0 "scan into the webhook schema" -- $KW scan --as-of 2024-03-01
	nw=$(q "SELECT count(*) FROM kvp_wh.delivery")
	assert_status 0 "webhook deliver: the receiver answers 500" -- $KW deliver
	assert_contains "$OUT" "retry later $nw" "a 500 is retried"
	assert_eq "$nw" "$(q "SELECT count(*) FROM kvp_wh.delivery WHERE last_status = 500 AND state = 'pending'")" \
		"the status 500 is recorded"
	q "UPDATE kvp_wh.delivery SET next_attempt_at = now()" >/dev/null
	assert_status 0 "webhook deliver again: 200" -- $KW deliver
	assert_contains "$OUT" "sent $nw," "every worklist is accepted the second time"
	seen=$(/usr/bin/python3 -c '
import json, sys, collections
ids = collections.Counter()
ok = True
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "request":
        ids[e["id"]] += 1
        ok = ok and e["verified"]
print(len(ids), sorted(set(ids.values())), ok)' "$T_SCRATCH/r/events.jsonl")
	assert_eq "$nw [2] True" "$seen" "each delivery id posted twice, signed"
	ids_db=$(q "SELECT string_agg(delivery_id, ' ' ORDER BY delivery_id) FROM kvp_wh.delivery")
	ids_rx=$(/usr/bin/python3 -c '
import json, sys
print(" ".join(sorted(set(json.loads(l)["id"] for l in open(sys.argv[1]) if "id" in json.loads(l)))))' \
		"$T_SCRATCH/r/events.jsonl")
	assert_eq "$ids_db" "$ids_rx" "the webhook-id is the delivery id"
	for ref in $(psql_q "SELECT case_ref FROM kvp_src.person WHERE protection IS NOT NULL"); do
		grep -qF -- "$ref" "$T_SCRATCH/r/raw.log" && not_ok "protected case_ref posted"
	done
	whconf busy
	assert_status 0 "redeliver for the busy receiver" -- $KW redeliver --run 1
	q "UPDATE kvp_wh.delivery SET recipient = 'http://127.0.0.1:$port/busy'" >/dev/null
	assert_status 0 "webhook deliver: 429 with Retry-After 7" -- $KW deliver
	assert_eq "$nw" "$(q "SELECT count(*) FROM kvp_wh.delivery d JOIN kvp_wh.delivery_attempt a
	     USING (delivery_id) WHERE a.attempt_no = 3 AND d.state = 'pending' AND d.last_status = 429
	       AND d.next_attempt_at - a.finished_at >= interval '7 seconds'")" "Retry-After is honoured"
else
	echo "# /usr/bin/python3 missing: webhook section skipped"
fi

finish
