#!/bin/sh
# email.sh - the email channel against a loopback SMTP relay (tests/peers/smtp_receiver.py):
# STARTTLS + AUTH, one connection per batch, MIME structure, UTF-8, and every failure mapping.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"
. "$top_srcdir/tests/lib/tls.sh"

PY=/usr/bin/python3
if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
	echo "SKIP: $PY lacks aiosmtpd (apt-get install python3-aiosmtpd)"
	exit 77
fi
if ! command -v openssl >/dev/null 2>&1; then
	echo "SKIP: openssl not found"
	exit 77
fi
unset CREDENTIALS_DIRECTORY
scratch_dir
cd "$T_SCRATCH" || exit 1
# the house rule: a real server for every integration test (test-delivery itself needs none)
pg_start || exit 1

RELAY_PIDS=
# shellcheck disable=SC2317 # called by common.sh's exit trap
t_cleanup_hook() {
	for p in $RELAY_PIDS; do kill "$p" 2>/dev/null; done
	for p in $RELAY_PIDS; do wait "$p" 2>/dev/null; done
}

# ---------------------------------------------------------------- certificates
# the shared test CA (tests/lib/tls.sh); "other" is a CA that signed nothing here
if tls_ca ca && tls_ca other && tls_cert server ca "IP:127.0.0.1,DNS:localhost" &&
	tls_cert elsewhere ca "DNS:relay.elsewhere.example.org"; then
	ok "test CA and server certificate made"
else
	not_ok "openssl could not make certificates"
fi

printf 's3cret-pw\n' > pw
chmod 600 pw
printf 'wrong-pw\n' > badpw
chmod 600 badpw

# start_relay NAME ARGS...: start a receiver in ./NAME, its port in $PORT
start_relay() {
	name=$1
	shift
	$PY "$top_srcdir/tests/peers/smtp_receiver.py" --port-file "$name.port" --dir "$name" \
		--lifetime 120 "$@" >"$name.out" 2>&1 &
	RELAY_PIDS="$RELAY_PIDS $!"
	i=0
	while [ ! -s "$name.port" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	PORT=$(cat "$name.port" 2>/dev/null)
	[ -n "$PORT" ] || { not_ok "relay $name did not start" "$(cat "$name.out")"; finish; }
}

# write_conf FILE URL STARTTLS [EXTRA-LINE...]
write_conf() {
	f=$1 url=$2 st=$3
	shift 3
	{
		echo 'log = { destination = "stderr"; };'
		echo 'email = {'
		echo "  smtp_url = \"$url\";"
		echo '  from = "kvpscan@kommune.example.no";'
		echo "  starttls = \"$st\";"
		echo '  timeout = 10;'
		for l in "$@"; do echo "  $l"; done
		echo '};'
	} > "$f"
}

# count_files DIR: delivered messages in a relay's directory
count_files() {
	ls "$1"/msg-*.eml 2>/dev/null | wc -l | tr -d ' '
}

RCPT=veileder.test@kommune.example.no

# ---------------------------------------------------------------- STARTTLS + AUTH, one connection
start_relay tls --cert server.crt --key server.key --user kvpuser --password s3cret-pw
TLS_PORT=$PORT
write_conf tls.conf "smtp://127.0.0.1:$TLS_PORT" required "ca_file = \"$T_SCRATCH/ca.crt\";" \
	'username = "kvpuser";' "password_file = \"$T_SCRATCH/pw\";"
assert_status 0 "3 messages through a STARTTLS relay with AUTH" -- \
	"$KVPSCAN" -c tls.conf test-delivery --channel email --to "$RCPT" --count 3 --id wl-batch
assert_eq 3 "$(printf '%s\n' "$OUT" | grep -c '^wl-batch-[123] ok 250 -$')" "each message reported ok 250"
assert_not_contains "$OUT" "$RCPT" "the recipient address is not logged"
assert_eq 3 "$(count_files tls)" "3 messages arrived"
assert_eq 1 "$(grep -c '^connection ' tls/session.log)" "one SMTP connection for the whole batch"
assert_eq 3 "$(grep -c 'tls=yes auth=yes rcpts=1' tls/session.log)" "every message went over TLS, authenticated"

cat > check_eml.py <<'EOF'
import email, email.policy, email.utils, sys, datetime
path, want_id = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    raw = f.read()
m = email.message_from_bytes(raw, policy=email.policy.default)
parts = [p.get_content_type() for p in m.iter_parts()]
print("type=" + m.get_content_type())
print("parts=" + ",".join(parts))
for p in m.iter_parts():
    body = p.get_content()
    print("%s charset=%s cte=%s aeoa=%s" % (p.get_content_type(), p.get_content_charset(),
          p["Content-Transfer-Encoding"], "yes" if "æøå ÆØÅ" in body else "no"))
print("subject=" + str(m["subject"]))
print("msgid_has_id=" + ("yes" if ("<" + want_id + "@") in str(m["message-id"]) else "no"))
d = email.utils.parsedate_to_datetime(str(m["date"]))
now = datetime.datetime.now(datetime.timezone.utc)
print("date_recent=" + ("yes" if abs((now - d).total_seconds()) < 600 else "no"))
print("mime_version=" + str(m["mime-version"]))
print("to=" + str(m["to"]))
print("long_lines=" + str(sum(1 for l in raw.split(b"\r\n") if len(l) > 78)))
print("bare_lf=" + str(raw.replace(b"\r\n", b"").count(b"\n")))
EOF
for n in 1 2 3; do
	INFO=$($PY check_eml.py "tls/msg-$n.eml" "wl-batch-$n" 2>&1)
	assert_contains "$INFO" "type=multipart/alternative" "message $n is multipart/alternative"
	assert_contains "$INFO" "parts=text/plain,text/html
" "message $n: text/plain first, text/html last"
	assert_contains "$INFO" "text/plain charset=utf-8 cte=quoted-printable aeoa=yes" "message $n: æøå decoded in the text part"
	assert_contains "$INFO" "text/html charset=utf-8 cte=quoted-printable aeoa=yes" "message $n: æøå decoded in the html part"
	assert_contains "$INFO" "subject=kvpscan: testmelding / test message (æøå)" "message $n: subject, æøå decoded"
	assert_contains "$INFO" "msgid_has_id=yes" "message $n: Message-ID holds the delivery id"
	assert_contains "$INFO" "date_recent=yes" "message $n: Date present and current"
	assert_contains "$INFO" "mime_version=1.0" "message $n: MIME-Version"
	assert_contains "$INFO" "to=$RCPT" "message $n: To"
	assert_contains "$INFO" "long_lines=0" "message $n: no line over 78 characters"
	assert_contains "$INFO" "bare_lf=0" "message $n: CRLF line ends only"
done

# ---------------------------------------------------------------- wrong password
write_conf badpw.conf "smtp://127.0.0.1:$TLS_PORT" required "ca_file = \"$T_SCRATCH/ca.crt\";" \
	'username = "kvpuser";' "password_file = \"$T_SCRATCH/badpw\";"
assert_status 1 "a wrong password fails" -- \
	"$KVPSCAN" -c badpw.conf test-delivery --channel email --to "$RCPT" --count 2 --id badpw
assert_contains "$OUT" "badpw-1 retry 535 smtp authentication failed" "wrong password: retry (a configuration error, not the message's)"
assert_contains "$OUT" "badpw-2 retry 535 smtp authentication failed" "the rest of the batch is kept for a retry, with the same status"
assert_contains "$OUT" "HINT:  check email.username" "wrong password: hint"
assert_eq 3 "$(count_files tls)" "wrong password: nothing more delivered"

# ---------------------------------------------------------------- wrong CA
write_conf badca.conf "smtp://127.0.0.1:$TLS_PORT" required "ca_file = \"$T_SCRATCH/other.crt\";" \
	'username = "kvpuser";' "password_file = \"$T_SCRATCH/pw\";"
assert_status 1 "a relay certificate from another CA fails" -- \
	"$KVPSCAN" -c badca.conf test-delivery --channel email --to "$RCPT" --id badca
assert_contains "$OUT" "badca retry -" "wrong CA: retry"
assert_contains "$OUT" "HINT:  check email.ca_file" "wrong CA: hint"
assert_eq 3 "$(count_files tls)" "wrong CA: nothing delivered"

assert_not_contains "$OUT" "another host name" "wrong CA: not called a host-name problem"

# ---------------------------------------------------------------- a certificate for another host name
start_relay elsewhere --cert elsewhere.crt --key elsewhere.key
write_conf elsewhere.conf "smtp://127.0.0.1:$PORT" required "ca_file = \"$T_SCRATCH/ca.crt\";"
assert_status 1 "a relay certificate issued for another host name fails" -- \
	"$KVPSCAN" -c elsewhere.conf test-delivery --channel email --to "$RCPT" --count 2 --id elsewhere
assert_contains "$OUT" "elsewhere-1 retry -" "host-name mismatch: retry"
assert_contains "$OUT" "HINT:  the certificate is for another host name: check the host in email.smtp_url" \
	"host-name mismatch: the hint names the host name"
assert_not_contains "$OUT" "check email.ca_file" "host-name mismatch: not sent to email.ca_file (the CA is right)"
assert_eq 0 "$(count_files elsewhere)" "host-name mismatch: nothing delivered"

# verify_tls = false accepts it, with a warning
write_conf noverify.conf "smtp://127.0.0.1:$TLS_PORT" required "ca_file = \"$T_SCRATCH/other.crt\";" \
	'verify_tls = false;' 'username = "kvpuser";' "password_file = \"$T_SCRATCH/pw\";"
assert_status 0 "verify_tls = false delivers despite the wrong CA" -- \
	"$KVPSCAN" -c noverify.conf test-delivery --channel email --to "$RCPT" --id noverify
assert_contains "$OUT" "warning: email.verify_tls is false" "verify_tls = false: warned"
assert_eq 4 "$(count_files tls)" "verify_tls = false: delivered"

# ---------------------------------------------------------------- a relay without STARTTLS
start_relay plain
PLAIN_PORT=$PORT
write_conf req.conf "smtp://127.0.0.1:$PLAIN_PORT" required
assert_status 1 "starttls = required with a relay that lacks STARTTLS fails" -- \
	"$KVPSCAN" -c req.conf test-delivery --channel email --to "$RCPT" --count 2 --id nostarttls
assert_contains "$OUT" "nostarttls-1 retry" "no STARTTLS: retry"
assert_contains "$OUT" "does not offer STARTTLS" "no STARTTLS: a clear error"
assert_eq 0 "$(count_files plain)" "no STARTTLS: nothing delivered"

write_conf off.conf "smtp://127.0.0.1:$PLAIN_PORT" off
assert_status 0 "starttls = off delivers to the plain relay" -- \
	"$KVPSCAN" -c off.conf test-delivery --channel email --to "$RCPT" --id plainok
assert_contains "$OUT" "plainok ok 250" "starttls = off: ok"
assert_contains "$OUT" "warning: email.starttls is off" "starttls = off: warned"
assert_eq 1 "$(count_files plain)" "starttls = off: delivered"
assert_contains "$(cat plain/session.log)" "tls=no" "starttls = off: really without TLS"

# ---------------------------------------------------------------- implicit TLS (smtps)
start_relay smtps --cert server.crt --key server.key --implicit
write_conf smtps.conf "smtps://127.0.0.1:$PORT" required "ca_file = \"$T_SCRATCH/ca.crt\";"
assert_status 0 "smtps:// (implicit TLS) delivers" -- \
	"$KVPSCAN" -c smtps.conf test-delivery --channel email --to "$RCPT" --count 2 --id smtps
assert_eq 2 "$(count_files smtps)" "smtps: 2 delivered"

# ---------------------------------------------------------------- refusals
for fault in rcpt451 data451 rcpt550 data550; do
	start_relay "$fault" --fault "$fault"
	write_conf "$fault.conf" "smtp://127.0.0.1:$PORT" off
	assert_status 1 "$fault is not accepted" -- \
		"$KVPSCAN" -c "$fault.conf" test-delivery --channel email --to "$RCPT" --count 2 --id "$fault"
	case $fault in
	*451) want="retry 451 smtp server deferred the message: 451" ;;
	*550) want="failed 550 smtp server refused the message: 550" ;;
	esac
	assert_contains "$OUT" "$fault-1 $want" "$fault: mapped to ${want%% *}"
	assert_contains "$OUT" "$fault-2 $want" "$fault: every message of the batch tried"
	assert_eq 0 "$(count_files "$fault")" "$fault: nothing stored"
done

# ---------------------------------------------------------------- nothing listening
write_conf closed.conf "smtp://127.0.0.1:1" off
assert_status 1 "a closed port fails" -- \
	"$KVPSCAN" -c closed.conf test-delivery --channel email --to "$RCPT" --id closed
assert_contains "$OUT" "closed retry -" "closed port: retry"

# ---------------------------------------------------------------- a recipient that is not an address
assert_status 1 "a malformed recipient is refused" -- \
	"$KVPSCAN" -c off.conf test-delivery --channel email --to "not an address" --id badrcpt
assert_contains "$OUT" "badrcpt failed - recipient is not a valid email address" "malformed recipient: failed, not sent"
assert_eq 1 "$(count_files plain)" "malformed recipient: nothing delivered"

finish
