#!/bin/bash
# email_session.sh - one delivery round keeps one SMTP connection across outbox
# batches: 250 worklists (3 batches of at most 100) arrive over a single session
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"
PY=/usr/bin/python3
if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	echo "python3-aiosmtpd not found: skipped"; exit 77
fi
pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
cd "$T_SCRATCH" || exit 1
RELAY=
t_cleanup_hook() { [ -n "$RELAY" ] && kill "$RELAY" 2>/dev/null; wait 2>/dev/null; }
mkdir m
$PY "$top_srcdir/tests/peers/smtp_receiver.py" --port-file m/port --dir m --lifetime 120 >m.out 2>&1 &
RELAY=$!
i=0; while [ ! -s m/port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat m/port 2>/dev/null)
[ -n "$PORT" ] && ok "the SMTP relay started" || { not_ok "the SMTP relay started" "$(cat m.out)"; finish; }
cat >k.conf <<CONF
log = { destination = "stderr"; };
delivery = { channel = "email"; };
email = { smtp_url = "smtp://127.0.0.1:$PORT"; from = "kvpscan@kommune.example.no"; starttls = "off"; timeout = 20; };
CONF
k() { "$KVPSCAN" -c k.conf "$@"; }
assert_status 0 "migrate" -- k migrate
assert_status 0 "demo data" -- k demo-data --persons 300 --seed 5 --as-of 2024-03-01
assert_status 0 "scan" -- k scan --as-of 2024-03-01
# singular and plural (a list of one case says "1 sak", never "1 saker"; 1 ny, 1 åpen)
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.delivery
        WHERE text_body ~ '(^|[^0-9])1 (saker|nye|åpne)' OR html_body ~ '(^|[^0-9])1 (saker|nye|åpne)'
           OR subject ~ '(^|[^0-9])1 saker'")" "no worklist says \"1 saker\", \"1 nye\" or \"1 åpne\""
ONE=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'worklist' AND item_count = 1")
[ "$ONE" -gt 0 ] && ok "the demo data has $ONE worklists of one case" || not_ok "a worklist of one case" "none"
assert_eq "$ONE" "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'worklist' AND item_count = 1
        AND text_body LIKE '%Oppsummering: 1 sak,%' AND html_body LIKE '%<strong>1 sak</strong>%'
        AND subject LIKE '%: 1 sak' AND (text_body LIKE '%Saken under gjelder en person%'
             OR text_body LIKE '%1 sak gjelder en person med adressesperre%')")" \
	"a worklist of one case: \"1 sak\" in the subject, the text and the html body"
assert_eq 0 "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE kind = 'worklist' AND item_count > 1
        AND text_body NOT LIKE '%Oppsummering: ' || item_count || ' saker,%'")" \
	"a worklist of several cases: \"N saker\""
# 250 copies of one queued worklist, each its own delivery id
psql_q "INSERT INTO kvpscan.delivery (delivery_id, run_id, kind, channel, recipient, office_id, veileder_id,
               subject, text_body, html_body, json_body, item_count)
        SELECT 'wl-session-' || g, d.run_id, d.kind, 'email', 'team@kommune.example.no', d.office_id,
               d.veileder_id, d.subject, d.text_body, d.html_body, d.json_body, d.item_count
          FROM (SELECT * FROM kvpscan.delivery ORDER BY delivery_id LIMIT 1) d, generate_series(1, 250) g;
        DELETE FROM kvpscan.delivery WHERE delivery_id NOT LIKE 'wl-session-%'" >/dev/null
assert_eq 250 "$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'pending'")" "250 deliveries queued"
assert_status 0 "deliver" -- k deliver
assert_contains "$OUT" "sent 250, retry later 0, dead 0" "all 250 sent in one round"
assert_eq 250 "$(find m -name 'msg-*.eml' | wc -l | tr -d ' ')" "the relay stored 250 messages"
assert_eq 1 "$(grep -c '^connection ' m/session.log)" "over one SMTP connection, across three outbox batches"
finish
