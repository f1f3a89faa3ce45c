#!/bin/bash
# report_deliver.sh - "kvpscan report --deliver": the målekort of a real scan by email
# (one per office leader plus the municipality), through the outbox to a loopback SMTP
# relay; idempotent; no protected case_ref and no person_id; a 550 relay makes them dead
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"
PY=/usr/bin/python3
if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	echo "python3-aiosmtpd not found: skipped"; exit 77
fi
pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
cd "$T_SCRATCH" || exit 1
RELAY= HOOK=
t_cleanup_hook() { for p in $RELAY $HOOK; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }

start_relay() {	# start_relay DIR [FAULT]: sets RELAY and PORT
	mkdir -p "$1"
	$PY "$top_srcdir/tests/peers/smtp_receiver.py" --port-file "$1/port" --dir "$1" --lifetime 120 \
		${2:+--fault "$2"} >"$1.out" 2>&1 &
	RELAY=$!
	local i=0
	while [ ! -s "$1/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	PORT=$(cat "$1/port" 2>/dev/null)
	[ -n "$PORT" ] && ok "the SMTP relay started ($1)" || { not_ok "the SMTP relay started ($1)" "$(cat "$1.out")"; finish; }
}
stop_relay() { kill "$RELAY" 2>/dev/null; wait "$RELAY" 2>/dev/null; RELAY=; }
write_conf() {	# write_conf FILE PORT: worklists go to the spool, reports still by email (+ webhook)
	cat >"$1" <<CONF
webhook = { url = "http://127.0.0.1:$HOOK_PORT/ok"; allow_insecure_http = true;
            secret_file = "$T_SCRATCH/secret"; connect_timeout = 2; timeout = 5; };
log = { destination = "stderr"; };
delivery = { channel = "spool"; max_attempts = 3; };
spool = { directory = "$T_SCRATCH/spool"; };
email = { smtp_url = "smtp://127.0.0.1:$2"; from = "kvpscan@kommune.example.no"; starttls = "off"; timeout = 10; };
report = { municipality_email = "radmann@kommune.example"; escalate_after_days = 30; webhook = true; };
CONF
}
mkdir spool hook
(umask 077; printf 'whsec_%s\n' "$(openssl rand -base64 24)" >secret)
$PY "$top_srcdir/tests/peers/https_receiver.py" --port-file hook/port --dir hook --time-limit 150 \
	--secret-file secret 2>hook.err &
HOOK=$!
i=0; while [ ! -s hook/port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
HOOK_PORT=$(cat hook/port 2>/dev/null)
[ -n "$HOOK_PORT" ] && ok "the webhook receiver started" || { not_ok "the webhook receiver started" "$(cat hook.err)"; finish; }

start_relay m
write_conf k.conf "$PORT"
k() { "$KVPSCAN" -c k.conf "$@"; }
assert_status 0 "migrate" -- k migrate
assert_status 0 "demo data" -- k demo-data --persons 300 --seed 11 --as-of 2024-10-01
# an office name with æøå, to see it survive subject and bodies
psql_q "UPDATE kvp_src.office SET name = 'Nav Grünerløkka Ærøy Åsen' WHERE office_id = (SELECT min(office_id) FROM kvp_src.office)" >/dev/null
assert_status 0 "scan" -- k scan --as-of 2024-10-01
# make five of the flagged persons protected (kode 7) and scan again
psql_q "UPDATE kvp_src.person SET protection = 'FORTROLIG' WHERE person_id IN
          (SELECT person_id FROM kvpscan.item WHERE state IN ('NEW','OPEN') ORDER BY case_ref LIMIT 5)" >/dev/null
assert_status 0 "scan again" -- k scan --as-of 2024-10-02
assert_status 0 "target set 0315 2024 10" -- k target set 0315 2024 10
# age the open items so the report lists escalations (and must leave the protected ones out)
psql_q "UPDATE kvpscan.item SET first_seen = first_seen - 90" >/dev/null
PROT=$(psql_q "SELECT count(*) FROM kvpscan.item WHERE protected AND state IN ('NEW','OPEN')")
[ "$PROT" -gt 0 ] && ok "the run has open items of protected persons ($PROT)" \
	|| not_ok "the run has open items of protected persons" "$PROT"

OFFICES=$(psql_q "SELECT count(DISTINCT o.office_id) FROM kvp_src.office o
                   JOIN kvpscan.run_office ro ON ro.office_id = o.office_id
                   JOIN kvpscan.run r ON r.run_id = ro.run_id AND r.status = 'succeeded'
                  WHERE coalesce(o.leader_email, '') <> ''")
[ "$OFFICES" -gt 0 ] && ok "offices with a leader in the run: $OFFICES" || not_ok "offices with a leader in the run" "$OFFICES"
WANT=$((OFFICES + 1))

assert_status 0 "report --deliver" -- timeout 120 "$KVPSCAN" -c k.conf report --deliver
assert_contains "$OUT" "queued $((WANT + 1)) reports" "one report per office leader, the municipality and the webhook queued"
assert_eq "$WANT" "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'report' AND channel = 'email' AND state = 'sent'")" \
	"every report sent by email although delivery.channel is spool"
assert_eq "$WANT" "$(find m -name 'msg-*.eml' | wc -l | tr -d ' ')" "the relay received one email per report"
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'report' AND delivery_id !~ '^rp-[0-9]+-[0-9a-f]{16}\$'")" \
	"report delivery ids are rp-<run>-<16 hex>"
# the id is md5 of (office, kind): the same as before kvpscan computed it in C,
# so an upgrade between two enqueues of a run never queues a report twice
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'report'
	AND delivery_id NOT IN ('rp-' || run_id || '-' || left(md5(coalesce(office_id, '') || '/leader'), 16),
	                        'rp-' || run_id || '-' || left(md5('/municipality'), 16),
	                        'rp-' || run_id || '-' || left(md5('/webhook'), 16))")" \
	"report delivery ids are the md5 of office and kind"

# forbidden: the case_ref of every protected person and every person_id
psql_q "SELECT case_ref FROM kvpscan.item WHERE protected AND case_ref IS NOT NULL
        UNION SELECT person_id FROM kvp_src.person" >forbidden.txt
[ "$(wc -l <forbidden.txt)" -gt 300 ] && ok "forbidden identifiers listed: $(wc -l <forbidden.txt)" \
	|| not_ok "forbidden identifiers listed" "$(wc -l <forbidden.txt)"
ESC=$(psql_q "SELECT case_ref FROM kvpscan.item WHERE NOT protected AND state IN ('NEW','OPEN') AND case_ref IS NOT NULL ORDER BY case_ref LIMIT 1")
psql_q "SELECT delivery_id || ' ' || recipient FROM kvpscan.delivery WHERE kind = 'report' AND channel = 'email'" >ids.txt

cat >check.py <<'PY'
import email, email.policy, glob, re, sys
forbidden = [l.strip() for l in open("forbidden.txt", encoding="utf-8") if l.strip()]
ids = dict(l.split(" ", 1) for l in open("ids.txt", encoding="utf-8").read().split("\n") if l)
esc, name = sys.argv[1], sys.argv[2]
seen_ids, bad, found_esc, found_name = set(), [], False, False
for path in sorted(glob.glob("m/msg-*.eml")):
    raw = open(path, "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    subj = str(msg["Subject"])
    if not subj.startswith("Målekort KVP "):
        bad.append(path + ": subject " + subj)
    if name in subj:
        found_name = True
    mid = str(msg["Message-ID"])
    hit = [i for i in ids if i in mid]
    if len(hit) != 1:
        bad.append(path + ": Message-ID " + mid)
    else:
        seen_ids.add(hit[0])
        if ids[hit[0]].strip() not in str(msg["To"]):
            bad.append(path + ": To " + str(msg["To"]))
    if msg.get_content_type() != "multipart/alternative" and not msg.is_multipart():
        bad.append(path + ": not multipart")
    types = {}
    for part in msg.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            types[part.get_content_type()] = part.get_content()
    if set(types) != {"text/plain", "text/html"}:
        bad.append(path + ": parts " + ",".join(types))
        continue
    text, html = types["text/plain"], types["text/html"]
    if "Målekort" not in html or "Målekort" not in text and "målekort" not in text.lower():
        bad.append(path + ": no Målekort title")
    if "<html" not in html.lower():
        bad.append(path + ": html part is not HTML")
    if name in text and name in html:
        found_name = True
    if esc and esc in text:
        found_esc = True
    for f in forbidden:
        if f.encode() in raw or f in text or f in html or f in subj:
            bad.append(path + ": contains a forbidden identifier")
            break
if seen_ids != set(ids):
    bad.append("message ids: %d of %d deliveries seen" % (len(seen_ids), len(ids)))
print("ok" if not bad else "\n".join(bad[:10]))
print("esc" if found_esc else "no-esc")
print("name" if found_name else "no-name")
PY
NAME="Nav Grünerløkka Ærøy Åsen"
RES=$($PY check.py "$ESC" "$NAME" 2>&1)
assert_eq ok "$(echo "$RES" | sed -n 1p)" "each email: Målekort subject, multipart text+html, Message-ID has its delivery id, sent to its recipient, no protected case_ref or person_id"
assert_eq esc "$(echo "$RES" | sed -n 2p)" "the reports list the escalated (non-protected) items"
assert_eq name "$(echo "$RES" | sed -n 3p)" "æøå intact in subject and bodies"
assert_contains "$(psql_q "SELECT recipient FROM kvpscan.delivery WHERE kind = 'report' AND office_id IS NULL")" "radmann@kommune.example" \
	"the municipality report goes to report.municipality_email"

HOOK_ID=$(psql_q "SELECT delivery_id FROM kvpscan.delivery WHERE kind = 'report' AND channel = 'webhook' AND state = 'sent'")
assert_contains "$HOOK_ID" "rp-" "the webhook delivery is sent"
assert_eq 1 "$($PY -c '
import json, sys
print(sum(1 for l in open("hook/events.jsonl") if json.loads(l).get("id") == sys.argv[1] and json.loads(l).get("verified")))
' "$HOOK_ID" 2>&1)" "the receiver got the report JSON once, signed, webhook-id = the delivery id"
assert_contains "$(cat hook/raw.log)" '"type":"kvpscan.report"' "the webhook body is the report JSON"
assert_eq 0 "$(grep -cFf forbidden.txt hook/raw.log)" "no protected case_ref or person_id in the webhook body"

# idempotent: a second call queues nothing new and sends nothing
assert_status 0 "report --deliver again" -- timeout 120 "$KVPSCAN" -c k.conf report --deliver
assert_contains "$OUT" "queued 0 reports" "a second call queues nothing"
assert_eq "$((WANT + 1))" "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'report'")" "still one delivery per report"
assert_eq "$WANT" "$(find m -name 'msg-*.eml' | wc -l | tr -d ' ')" "no email sent twice"

# the daemon at its report slot (a few seconds from now) queues the reports of the latest run and sends them
psql_q "DELETE FROM kvpscan.delivery WHERE kind = 'report'" >/dev/null
REPORT_AT=$(wall_in 4)
cp k.conf d.conf
printf 'daemon = { scan_at = "02:30"; report_day = "daily"; report_at = "%s"; catch_up = false;\n timezone = "%s"; retry_interval = 2; };\n' \
	"$REPORT_AT" "$SLOT_ZONE" >>d.conf
"$KVPSCAN" -c d.conf daemon --pidfile "$T_SCRATCH/d.pid" 2>daemon.log &
DPID=$!
i=0
while [ "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'report' AND state = 'sent'")" != "$((WANT + 1))" ] \
	&& [ $i -lt 150 ] && kill -0 "$DPID" 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
kill -TERM "$DPID" 2>/dev/null
i=0; while kill -0 "$DPID" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
kill -KILL "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null
assert_eq "$((WANT + 1))" "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'report' AND state = 'sent'")" \
	"the daemon sent every report at its report slot"
assert_eq "$((2 * WANT))" "$(find m -name 'msg-*.eml' | wc -l | tr -d ' ')" "the relay received the daemon's emails"
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.run WHERE as_of > '2024-10-02'")" "the daemon ran no scan for it"
stop_relay

# a relay that refuses every message: the deliveries die and the command fails
psql_q "DELETE FROM kvpscan.delivery WHERE kind = 'report'" >/dev/null
start_relay bad data550
write_conf k.conf "$PORT"
assert_status 1 "report --deliver against a 550 relay" -- timeout 120 "$KVPSCAN" -c k.conf report --deliver
assert_contains "$OUT" "dead $WANT" "every report delivery died"
assert_eq "$WANT" "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'report' AND state = 'dead'")" "the outbox records them dead"
assert_eq 0 "$(find bad -name 'msg-*.eml' | wc -l | tr -d ' ')" "the refusing relay stored nothing"
stop_relay

# no email configured: the reports go to the spool, named after their delivery ids
psql_q "DELETE FROM kvpscan.delivery WHERE kind = 'report'" >/dev/null
sed -i 's|^email = .*$||' k.conf
assert_status 0 "report --deliver without email" -- timeout 60 "$KVPSCAN" -c k.conf report --deliver
assert_eq "$WANT" "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'report' AND channel = 'spool' AND state = 'sent'")" \
	"without email.smtp_url the reports are spooled"
assert_eq "$WANT" "$(ls spool | grep -c '^rp-')" "one spool file per report"
assert_status 2 "report --deliver --as-of bad" -- k report --deliver --as-of 2024-13-01
finish
