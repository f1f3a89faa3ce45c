#!/bin/sh
# deliver_e2e.sh - real demo data, a real scan, then delivery end to end through the outbox:
# (a) signed webhooks to the HTTPS receiver with a test CA, (b) email through a STARTTLS relay
# with AUTH. Every queued delivery arrives exactly once; emails parse; no personal data in any
# byte the peers received or any log line; the fault paths (500, 410, SMTP 451, 550) lose nothing.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
if [ ! -x "$PY" ] || ! $PY -c 'import aiosmtpd' 2>/dev/null || ! command -v openssl >/dev/null 2>&1; then
	echo "SKIP: needs /usr/bin/python3 with aiosmtpd (python3-aiosmtpd) and openssl"
	exit 77
fi
unset CREDENTIALS_DIRECTORY
scratch_dir
cd "$T_SCRATCH" || exit 1
pg_start || { echo "cannot start PostgreSQL"; exit 1; }

PIDS=
# shellcheck disable=SC2317 # called by common.sh's exit trap
t_cleanup_hook() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
}
q() { psql_q "$1"; }
ASOF=2024-03-01

# ---------------------------------------------------------------- certificates, secret, password
. "$top_srcdir/tests/lib/tls.sh"
tls_ca ca && tls_cert server ca "IP:127.0.0.1"
assert_eq 0 $? "test CA and server certificate made"
umask 077
printf 'whsec_%s\n' "$(openssl rand -base64 32)" >whsec
printf 'e2e-pw-%s\n' "$(openssl rand -hex 8)" >smtp_pw
umask 022

# ---------------------------------------------------------------- peers
wait_port() {	# wait_port FILE: bounded wait until a peer wrote its port
	i=0
	while [ ! -s "$1" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	cat "$1" 2>/dev/null
}
start_receiver() {	# start_receiver NAME [CERT]: HTTPS receiver in ./NAME (its own record of ids seen); port in $PORT
	mkdir -p "$1"
	$PY "$top_srcdir/tests/peers/https_receiver.py" --cert "${2:-server}.crt" --key "${2:-server}.key" \
		--secret-file whsec --port-file "$1/port" --dir "$1" --time-limit 300 2>"$1/stderr" &
	PIDS="$PIDS $!"
	PORT=$(wait_port "$1/port")
}
start_receiver wh
WH_PORT=$PORT
start_relay() {	# start_relay NAME [ARGS]: STARTTLS + AUTH relay in ./NAME; port in $PORT
	name=$1
	shift
	mkdir -p "$name"
	$PY "$top_srcdir/tests/peers/smtp_receiver.py" --port-file "$name/port" --dir "$name" \
		--cert server.crt --key server.key --user kvpmail --password "$(cat smtp_pw)" \
		--lifetime 300 "$@" >"$name.out" 2>&1 &
	PIDS="$PIDS $!"
	PORT=$(wait_port "$name/port")
}
start_relay mail
MAIL_PORT=$PORT
[ -n "$WH_PORT" ] && [ -n "$MAIL_PORT" ] && ok "the HTTPS receiver and the SMTP relay listen" ||
	{ not_ok "the peers did not start" "$(cat wh/stderr mail.out)"; finish; }

# ---------------------------------------------------------------- configurations
whconf() {	# whconf FILE SCHEMA ROUTE [PORT]
	cat >"$1" <<EOF
log = { destination = "stderr"; };
database = { state_schema = "$2"; };
delivery = { channel = "webhook"; max_attempts = 5; backoff_initial = 1; backoff_max = 60; };
webhook = {
  url = "https://127.0.0.1:${4:-$WH_PORT}/$3";
  ca_file = "$T_SCRATCH/ca.crt";
  secret_file = "$T_SCRATCH/whsec";
  connect_timeout = 5;
  timeout = 10;
};
EOF
}
mailconf() {	# mailconf FILE SCHEMA PORT
	cat >"$1" <<EOF
log = { destination = "stderr"; };
database = { state_schema = "$2"; };
delivery = { channel = "email"; max_attempts = 5; backoff_initial = 1; backoff_max = 60; };
email = {
  smtp_url = "smtp://127.0.0.1:$3";
  from = "kvpscan@kommune.example.no";
  starttls = "required";
  ca_file = "$T_SCRATCH/ca.crt";
  username = "kvpmail";
  password_file = "$T_SCRATCH/smtp_pw";
  timeout = 10;
};
EOF
}
whconf wh.conf kvp_wh ok
mailconf mail.conf kvp_mail "$MAIL_PORT"

LOGS=$T_SCRATCH/logs
mkdir -p "$LOGS"
NRUN=0
kv() {	# kv CONF ARGS...: kvpscan -v (bounded); stdout in $OUT, stderr kept for the privacy grep; status $RC
	conf=$1
	shift
	NRUN=$((NRUN + 1))
	OUT=$(timeout 120 "$KVPSCAN" -c "$conf" -v "$@" 2>"$LOGS/$NRUN.err")
	RC=$?
	cat "$LOGS/$NRUN.err" >>"$LOGS/all.log"
}

# ---------------------------------------------------------------- data and scans
kv wh.conf demo-data --persons 300 --seed 11 --as-of $ASOF
assert_eq 0 "$RC" "demo data: 300 persons"
NPROT=$(q "SELECT count(*) FROM kvp_src.person WHERE protection IS NOT NULL")
[ "$NPROT" -gt 0 ] && ok "$NPROT persons are protected" || not_ok "some persons are protected" "$NPROT"

scan_into() {	# scan_into CONF SCHEMA: migrate, scan; sets N (deliveries queued for run 1)
	kv "$1" migrate
	assert_eq 0 "$RC" "migrate $2"
	kv "$1" scan --as-of $ASOF
	assert_eq 0 "$RC" "scan into $2"
	N=$(q "SELECT count(*) FROM $2.delivery WHERE run_id = 1")
	assert_eq "$N" "$(q "SELECT count(*) FROM $2.delivery WHERE run_id = 1 AND state = 'pending'")" \
		"$2: the scan queued $N deliveries, all pending"
}
ids_of() {	# ids_of SCHEMA [STATE]: delivery ids, sorted, space separated
	q "SELECT coalesce(string_agg(delivery_id, ' ' ORDER BY delivery_id COLLATE \"C\"), '')
	     FROM $1.delivery WHERE run_id = 1 ${2:+AND state = '$2'}"
}
states() {	# states SCHEMA: sent|dead|pending|queued
	q "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state = 'dead'),
	          count(*) FILTER (WHERE state = 'pending'), count(*) FROM $1.delivery WHERE run_id = 1"
}
none_lost() {	# none_lost SCHEMA WHAT: sent + dead + pending = queued, nothing in flight
	s=$(states "$1")
	echo "$s" | awk -F'|' '{ exit !($1 + $2 + $3 == $4 && $4 > 0) }' &&
		ok "$2: none lost (sent|dead|pending|queued = $s)" || not_ok "$2: none lost" "$s"
	assert_eq 0 "$(q "SELECT count(*) FROM $1.delivery_attempt WHERE result IS NULL")" "$2: no attempt left in flight"
}

# webhook events of one route: "id count verified-all" per id, sorted
wh_seen() {	# wh_seen DIR: ids that receiver saw, sorted, space separated, with repeats
	$PY - "$1" <<'EOF'
import json, sys
ids = [e["id"] for e in map(json.loads, open(sys.argv[1] + "/events.jsonl"))
       if e.get("event") == "request"]
print(" ".join(sorted(ids)))
EOF
}
wh_unverified() {	# wh_unverified DIR: requests whose signature did not verify
	$PY - "$1" <<'EOF'
import json, sys
print(sum(1 for e in map(json.loads, open(sys.argv[1] + "/events.jsonl"))
          if e.get("event") == "request" and not e["verified"]))
EOF
}
twice() {	# twice "IDS": each id twice
	for i in $1; do echo "$i"; echo "$i"; done | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}

# ---------------------------------------------------------------- (a) webhook, HTTPS, signed
scan_into wh.conf kvp_wh
NWH=$N
[ "$NWH" -ge 5 ] && ok "several worklists queued ($NWH)" || not_ok "several worklists queued" "$NWH"
kv wh.conf deliver
assert_eq 0 "$RC" "webhook deliver exits 0"
assert_contains "$OUT" "sent $NWH, retry later 0, dead 0" "webhook: every worklist sent"
assert_eq "$(ids_of kvp_wh)" "$(wh_seen wh)" "webhook: every queued delivery arrived exactly once, by webhook-id"
assert_eq 0 "$(wh_unverified wh)" "webhook: every signature verifies (and the timestamp is fresh)"
assert_eq "$(ids_of kvp_wh)" "$(ids_of kvp_wh sent)" "webhook: every delivery recorded as sent"
none_lost kvp_wh "webhook"
kv wh.conf deliver
assert_contains "$OUT" "sent 0, retry later 0, dead 0" "webhook: a second deliver sends nothing again"
assert_eq "$(ids_of kvp_wh)" "$(wh_seen wh)" "webhook: still exactly once after a second deliver"

# the receiver got the stored worklist JSON documents byte for byte (each body is one read,
# so it is contiguous in raw.log even when concurrent requests interleave their headers)
bodies_ok=$($PY - <<'EOF'
import json, subprocess
raw = open("wh/raw.log", "rb").read()
out = subprocess.run(["psql", "-X", "-At", "-R", "\x1e", "-c",
    "SELECT json_body FROM kvp_wh.delivery WHERE run_id = 1"], check=True, capture_output=True).stdout
n = 0
for body in out[:-1].split(b"\x1e"):	# psql ends the output with one newline
    if body.strip():
        doc = json.loads(body)
        n += body in raw and doc["type"] == "kvpscan.worklist" and doc["version"] == 1
print(n)
EOF
)
assert_eq "$NWH" "$bodies_ok" "webhook: every body is a worklist document (JSON v1)"

# ---------------------------------------------------------------- (b) email, STARTTLS + AUTH
scan_into mail.conf kvp_mail
NM=$N
assert_eq "$NWH" "$NM" "email: as many worklists as for the webhook"
kv mail.conf deliver
assert_eq 0 "$RC" "email deliver exits 0"
assert_contains "$OUT" "sent $NM, retry later 0, dead 0" "email: every worklist sent"
assert_eq 1 "$(grep -c '^connection ' mail/session.log)" "email: one SMTP connection for the batch"
assert_eq "$NM" "$(grep -c 'tls=yes auth=yes rcpts=1' mail/session.log)" "email: every message over TLS, authenticated"
none_lost kvp_mail "email"

cat >check_mail.py <<'EOF'
# check_mail.py DIR SCHEMA: parse every saved message; compare with the outbox rows
import email, email.policy, glob, subprocess, sys, re
d, schema = sys.argv[1], sys.argv[2]
rows = subprocess.run(["psql", "-X", "-At", "-F", "\x1f", "-R", "\x1e", "-c",
    "SELECT delivery_id, recipient, subject, text_body, html_body FROM %s.delivery WHERE run_id = 1" % schema],
    check=True, capture_output=True).stdout.decode()
db = {}
for r in rows.split("\x1e"):
    if r.strip():
        f = r.split("\x1f")
        db[f[0]] = f[1:]
seen, bad = [], []
decoded = open(d + "/decoded.txt", "w", encoding="utf-8")
for path in sorted(glob.glob(d + "/msg-*.eml")):
    m = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.default)
    mid = re.match(r"<(wl-[^@>]+)@", str(m["message-id"]))
    if not mid:
        bad.append(path + ": message-id"); continue
    i = mid.group(1)
    seen.append(i)
    parts = [p.get_content_type() for p in m.iter_parts()]
    if m.get_content_type() != "multipart/alternative" or parts != ["text/plain", "text/html"]:
        bad.append(i + ": structure " + m.get_content_type() + " " + ",".join(parts)); continue
    text, html = [p.get_content() for p in m.iter_parts()]
    decoded.write(str(m["subject"]) + "\n" + str(m["to"]) + "\n" + text + "\n" + html + "\n")
    if i not in db:
        bad.append(i + ": not in the outbox"); continue
    rcpt, subject, tbody, hbody = db[i]
    if str(m["subject"]) != subject: bad.append(i + ": subject " + str(m["subject"]))
    if m["to"].addresses[0].addr_spec != rcpt: bad.append(i + ": to")
    if text.replace("\r\n", "\n").rstrip("\n") != tbody.replace("\r\n", "\n").rstrip("\n"): bad.append(i + ": text part")
    if html.replace("\r\n", "\n").rstrip("\n") != hbody.replace("\r\n", "\n").rstrip("\n"): bad.append(i + ": html part")
    for p in m.iter_parts():
        if p.get_content_charset() != "utf-8": bad.append(i + ": charset")
    if "Første gang" not in text or "Første gang" not in html: bad.append(i + ": æøå in the parts")
print("ids=" + " ".join(sorted(seen)))
print("aeoa_subjects=%d" % sum(1 for r in db.values() if "Grünerløkka" in r[1]))
# no veileder's display name in any email, not even the one addressed to that veileder
vs = subprocess.run(["psql", "-X", "-At", "-F", "\x1f", "-c",
    "SELECT display_name, coalesce(email, '') FROM kvp_src.veileder"], check=True,
    capture_output=True).stdout.decode().splitlines()
own = elsewhere = 0
for path in sorted(glob.glob(d + "/msg-*.eml")):
    raw = open(path, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    text = raw.decode("utf-8", "replace") + "".join(p.get_content() for p in m.iter_parts()) + str(m["subject"])
    to = m["to"].addresses[0].addr_spec
    for v in vs:
        name, addr = v.split("\x1f")
        if name in text:
            if addr == to: own += 1
            else: elsewhere += 1
print("names_own=%d names_elsewhere=%d" % (own, elsewhere))
print("bad=[" + "; ".join(bad) + "]")
EOF
INFO=$($PY check_mail.py mail kvp_mail 2>&1)
assert_contains "$INFO" "ids=$(ids_of kvp_mail)
" "email: every queued delivery arrived exactly once, by Message-ID"
assert_contains "$INFO" "bad=[]" "email: multipart/alternative, text then html, UTF-8, parts and subject equal to the outbox, æøå intact"
assert_contains "$INFO" "names_own=0 names_elsewhere=0" "privacy: no veileder's name in any email (the addressee is named by ident)"
case $INFO in
*"aeoa_subjects=0"*) not_ok "email: a subject with ø and ü (Nav Grünerløkka) was checked" "$INFO" ;;
*) ok "email: a subject with ø and ü (Nav Grünerløkka) was checked" ;;
esac

# ---------------------------------------------------------------- fault path: 500, then 200
start_receiver flaky
whconf flaky.conf kvp_flaky flaky "$PORT"
scan_into flaky.conf kvp_flaky
kv flaky.conf deliver
assert_eq 0 "$RC" "500: deliver exits 0"
assert_contains "$OUT" "sent 0, retry later $N, dead 0" "500: every delivery left for a retry"
assert_eq "$N" "$(q "SELECT count(*) FROM kvp_flaky.delivery WHERE state = 'pending' AND last_status = 500
                      AND attempts = 1 AND next_attempt_at > now()")" "500: pending, status recorded, due later"
none_lost kvp_flaky "500"
q "UPDATE kvp_flaky.delivery SET next_attempt_at = now()" >/dev/null
kv flaky.conf deliver
assert_eq 0 "$RC" "500: the second deliver exits 0"
assert_contains "$OUT" "sent $N, retry later 0, dead 0" "500: sent on the second deliver"
assert_eq "$(twice "$(ids_of kvp_flaky)")" "$(wh_seen flaky)" "500: each id posted twice, with the same webhook-id"
assert_eq 0 "$(wh_unverified flaky)" "500: every attempt signed"
assert_eq "$(ids_of kvp_flaky)" "$(ids_of kvp_flaky sent)" "500: all sent"
none_lost kvp_flaky "500 then 200"

# ---------------------------------------------------------------- fault path: 410 gone
start_receiver gone
whconf gone.conf kvp_gone gone "$PORT"
scan_into gone.conf kvp_gone
kv gone.conf deliver
assert_eq 1 "$RC" "410: deliver exits 1"
assert_contains "$OUT" "sent 0, retry later 0, dead $N" "410: every delivery dead"
assert_eq "$(ids_of kvp_gone)" "$(wh_seen gone)" "410: each id tried once"
assert_eq "$N" "$(q "SELECT count(*) FROM kvp_gone.delivery WHERE state = 'dead' AND last_status = 410")" "410: dead, status recorded"
kv gone.conf outbox
assert_eq 0 "$RC" "410: outbox exits 0"
assert_eq "$(ids_of kvp_gone)" "$(printf '%s\n' "$OUT" | awk '/^wl-/ && / dead / {print $1}' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" \
	"410: outbox lists every dead delivery"
none_lost kvp_gone "410"

# ---------------------------------------------------------------- fault path: SMTP 451, then a working relay
start_relay m451 --fault rcpt451
mailconf m451.conf kvp_m451 "$PORT"
scan_into m451.conf kvp_m451
kv m451.conf deliver
assert_eq 0 "$RC" "451: deliver exits 0"
assert_contains "$OUT" "sent 0, retry later $N, dead 0" "451: every email left for a retry"
assert_eq "$N" "$(q "SELECT count(*) FROM kvp_m451.delivery WHERE state = 'pending' AND last_status = 451")" "451: pending, status recorded"
assert_eq 0 "$(find m451 -name 'msg-*' | wc -l | tr -d ' ')" "451: the relay stored nothing"
none_lost kvp_m451 "451"
start_relay m451b
mailconf m451b.conf kvp_m451 "$PORT"
q "UPDATE kvp_m451.delivery SET next_attempt_at = now()" >/dev/null
kv m451b.conf deliver
assert_eq 0 "$RC" "451: the retry through a working relay exits 0"
assert_contains "$OUT" "sent $N, retry later 0, dead 0" "451: sent on the retry"
INFO=$($PY check_mail.py m451b kvp_m451 2>&1)
assert_contains "$INFO" "ids=$(ids_of kvp_m451)
" "451: the relay got every id once, by Message-ID"
none_lost kvp_m451 "451 then 250"

# ---------------------------------------------------------------- fault path: SMTP 550
start_relay m550 --fault rcpt550
mailconf m550.conf kvp_m550 "$PORT"
scan_into m550.conf kvp_m550
kv m550.conf deliver
assert_eq 1 "$RC" "550: deliver exits 1"
assert_contains "$OUT" "sent 0, retry later 0, dead $N" "550: every email dead"
assert_eq "$N" "$(q "SELECT count(*) FROM kvp_m550.delivery WHERE state = 'dead' AND last_status = 550")" "550: dead, status recorded"
kv m550.conf outbox
assert_eq "$N" "$(printf '%s\n' "$OUT" | grep -c '^wl-.* dead ')" "550: outbox lists every dead email"
none_lost kvp_m550 "550"

# ---------------------------------------------------------------- fixing webhook.url reaches the deliveries already queued
# A receiver whose certificate names only "localhost": the url with 127.0.0.1 fails the host-name
# check. docs/webhook.md: fix webhook.url, then "kvpscan redeliver" (or wait): delivered. The channel
# sends to the url in force when it sends, and each attempt records the url it went to.
tls_cert named ca "DNS:localhost"
start_receiver named named
NAMED_PORT=$PORT
WRONG_URL="https://127.0.0.1:$NAMED_PORT/ok"
FIXED_URL="https://localhost:$NAMED_PORT/ok"
whconf fix.conf kvp_fix ok "$NAMED_PORT"
scan_into fix.conf kvp_fix
assert_eq "$N" "$(q "SELECT count(*) FROM kvp_fix.delivery WHERE recipient = '$WRONG_URL'")" "url fix: queued with the wrong url"
kv fix.conf deliver
assert_eq 0 "$RC" "host-name mismatch: deliver exits 0 (kept for a retry)"
assert_contains "$OUT" "sent 0, retry later $N, dead 0" "host-name mismatch: every worklist left for a retry"
ERR=$(cat "$LOGS/$NRUN.err")
assert_contains "$ERR" "HINT:  the certificate is for another host name: check the host in webhook.url" \
	"host-name mismatch: the hint says the host name is the problem"
assert_not_contains "$ERR" "check webhook.ca_file" "host-name mismatch: the hint does not blame the CA file"
assert_eq "$N" "$(q "SELECT count(*) FROM kvp_fix.delivery_attempt WHERE result = 'retry'
                      AND recipient = '$WRONG_URL' AND error LIKE '%for another host name%'")" \
	"host-name mismatch: each attempt records the url it went to and the host-name error"
assert_eq "" "$(wh_seen named)" "host-name mismatch: nothing was sent before the certificate was verified"
# the operator fixes the host in webhook.url; the queued deliveries still hold the old url
sed "s|$WRONG_URL|$FIXED_URL|" fix.conf >fixed.conf
assert_contains "$(cat fixed.conf)" "$FIXED_URL" "url fix: the fixed configuration names localhost"
kv fixed.conf redeliver --run 1
assert_contains "$OUT" "queued $N deliveries again" "url fix: redeliver --run queues them again"
kv fixed.conf deliver
assert_eq 0 "$RC" "url fix: deliver exits 0"
assert_contains "$OUT" "sent $N, retry later 0, dead 0" "url fix: every worklist queued before the fix is sent"
assert_eq "$(ids_of kvp_fix)" "$(wh_seen named)" "url fix: each arrived once, at the fixed url"
assert_eq 0 "$(wh_unverified named)" "url fix: every request signed"
assert_eq "$N" "$(q "SELECT count(*) FROM kvp_fix.delivery_attempt WHERE result = 'ok' AND recipient = '$FIXED_URL'")" \
	"url fix: each ok attempt records the fixed url"
assert_eq "$N" "$(q "SELECT count(*) FROM kvp_fix.delivery WHERE state = 'sent' AND recipient = '$FIXED_URL'")" \
	"url fix: each delivery names the url it was sent to"
none_lost kvp_fix "url fix"

# ---------------------------------------------------------------- a webhook channel that cannot send at all
# The deliveries were queued for the webhook; the operator moved the worklists to the spool and
# removed webhook.url. The queued webhook deliveries cannot go anywhere: an error of the round
# (deliver exits 1, status unwell), not a silent retry until max_attempts.
cat >nourl.conf <<EOF
log = { destination = "stderr"; };
database = { state_schema = "kvp_fix"; };
delivery = { channel = "spool"; max_attempts = 5; backoff_initial = 1; backoff_max = 60; };
spool = { directory = "$T_SCRATCH"; };
webhook = { secret_file = "$T_SCRATCH/whsec"; };
EOF
kv fixed.conf redeliver --run 1
kv nourl.conf deliver
assert_eq 1 "$RC" "no webhook.url: deliver exits 1"
assert_contains "$(cat "$LOGS/$NRUN.err")" "error: the webhook channel cannot send at all: no webhook url" \
	"no webhook.url: the error names the channel and the cause"
assert_contains "$OUT" "not sent because their channel cannot send" "no webhook.url: the summary counts them"
assert_eq "$N|0" "$(q "SELECT count(*) FILTER (WHERE state = 'pending' AND attempts = 1), count(*) FILTER (WHERE state = 'dead')
                        FROM kvp_fix.delivery")" "no webhook.url: kept pending for a retry, none dead"
kv nourl.conf status
assert_eq 1 "$RC" "no webhook.url: status is unwell"
assert_contains "$OUT" "channel webhook  cannot send at all" "no webhook.url: status names the channel"
kv fixed.conf redeliver --run 1
kv fixed.conf deliver
assert_eq 0 "$RC" "webhook.url back: deliver exits 0"
assert_contains "$OUT" "sent $N, retry later 0, dead 0" "webhook.url back: every worklist sent"
kv fixed.conf status
assert_eq 0 "$RC" "webhook.url back: status is healthy"
assert_not_contains "$OUT" "cannot send" "webhook.url back: no channel fault shown"

# ---------------------------------------------------------------- Retry-After is capped at backoff_max
# The receiver asks for a year (Retry-After: 31536000); kvpscan.conf(5) calls backoff_max (60 s
# here) the longest wait, so the next attempt is due within 60 s.
start_receiver long
whconf long.conf kvp_long busylong "$PORT"
scan_into long.conf kvp_long
kv long.conf deliver
assert_eq 0 "$RC" "Retry-After of a year: deliver exits 0"
assert_contains "$OUT" "sent 0, retry later $N, dead 0" "Retry-After of a year: every worklist left for a retry"
assert_eq "$N" "$(q "SELECT count(*) FROM kvp_long.delivery WHERE state = 'pending' AND last_status = 503
                       AND next_attempt_at BETWEEN now() + interval '45 seconds' AND now() + interval '61 seconds'")" \
	"Retry-After of a year: the next attempt is due after backoff_max (60 s), not in a year"

# ---------------------------------------------------------------- privacy: every byte and every log line
cat >privacy.py <<'EOF'
# privacy.py KIND PATTERNFILE FILE...: print "kind:file" for each pattern found (no value printed)
import re, sys
kind, pats = sys.argv[1], [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
data = {f: open(f, "rb").read().decode("utf-8", "replace") for f in sys.argv[3:]}
hits = 0
for p in pats:
    if kind == "ddmmyy":
        rx = re.compile(r"(?<![0-9])" + p + r"(?![0-9])")
        found = [f for f, t in data.items() if rx.search(t)]
    else:
        found = [f for f, t in data.items() if p in t]
    for f in found:
        hits += 1
        print("%s in %s" % (kind, f))
print("hits=%d patterns=%d files=%d" % (hits, len(pats), len(data)))
EOF
q "SELECT person_id FROM kvp_src.person" >p_person_id
q "SELECT to_char(birth_date, 'YYYY-MM-DD') FROM kvp_src.person" >p_birth_iso
q "SELECT to_char(birth_date, 'DDMMYY') FROM kvp_src.person" >p_birth_ddmmyy
q "SELECT display_name FROM kvp_src.veileder" >p_name
q "SELECT case_ref FROM kvp_src.person WHERE protection IS NOT NULL" >p_protected
q "SELECT case_ref FROM kvp_src.person" >p_case_ref
q "SELECT email FROM kvp_src.veileder WHERE email IS NOT NULL
   UNION SELECT fallback_email FROM kvp_src.office WHERE fallback_email IS NOT NULL" >p_address
assert_eq 300 "$(wc -l <p_person_id | tr -d ' ')" "privacy: 300 person ids to look for"
assert_eq "$NPROT" "$(wc -l <p_protected | tr -d ' ')" "privacy: $NPROT protected case_refs to look for"
# every byte the peers received: raw HTTP (headers and bodies), raw messages, their decoded parts
PEER_FILES="wh/raw.log flaky/raw.log gone/raw.log named/raw.log $(ls mail/*.eml m451b/*.eml) mail/decoded.txt m451b/decoded.txt"
LOG_FILES=$(ls "$LOGS"/*.err)
[ -s wh/raw.log ] && [ -s mail/decoded.txt ] && [ -s "$LOGS/all.log" ] && ok "privacy: there are bytes and logs to search" ||
	not_ok "privacy: there are bytes and logs to search"
[ "$(grep -c 'kvpscan: debug: ' "$LOGS/all.log")" -gt 0 ] && ok "privacy: the logs include debug lines (-v)" ||
	not_ok "privacy: the logs include debug lines (-v)" "$(head -n 5 "$LOGS/all.log")"
for kind in person_id birth_iso birth_ddmmyy name protected; do
	k=$kind files=$PEER_FILES
	[ $kind = birth_ddmmyy ] && k=ddmmyy
	# shellcheck disable=SC2086
	R=$($PY privacy.py $k p_$kind $files)
	assert_contains "$R" "hits=0 " "privacy: no $kind in the bytes the peers received"
	# shellcheck disable=SC2086
	R=$($PY privacy.py $k p_$kind $LOG_FILES)
	assert_contains "$R" "hits=0 " "privacy: no $kind in any log line"
done
# shellcheck disable=SC2086
R=$($PY privacy.py plain p_case_ref $LOG_FILES)
assert_contains "$R" "hits=0 " "privacy: no case_ref in any log line"
# shellcheck disable=SC2086
R=$($PY privacy.py plain p_address $LOG_FILES)
assert_contains "$R" "hits=0 " "privacy: no recipient address in any log line"
# the search finds what is there: unprotected case_refs are in the bodies
# shellcheck disable=SC2086
R=$($PY privacy.py plain p_case_ref $PEER_FILES)
case $R in
*"hits=0 "*) not_ok "privacy: the search finds case_refs in the bodies (it works)" "$R" ;;
*) ok "privacy: the search finds case_refs in the bodies (it works)" ;;
esac

finish
