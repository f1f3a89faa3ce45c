#!/bin/sh
# webhook.sh - the webhook channel end to end: "kvpscan test-delivery --channel webhook"
# against a real HTTPS receiver (tests/peers/https_receiver.py) with a test CA.
# No database is needed: test-delivery only sends.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
RECEIVER=$top_srcdir/tests/peers/https_receiver.py
if [ ! -x "$PY" ] || ! command -v openssl >/dev/null 2>&1; then
	echo "webhook.sh: needs /usr/bin/python3 and openssl; skipped"
	exit 77
fi

scratch_dir
cd "$T_SCRATCH" || exit 1
RPIDS=
t_cleanup_hook() {
	for p in $RPIDS; do kill "$p" 2>/dev/null; done
	for p in $RPIDS; do wait "$p" 2>/dev/null; done
}

# ---------------------------------------------------------------- certificates
# ca: the receiver's CA; other-ca: unrelated; server: 127.0.0.1/localhost;
# wrongname: signed by ca but for another host name.
. "$top_srcdir/tests/lib/tls.sh"
tls_ca ca && tls_ca other-ca &&
	tls_cert server ca "IP:127.0.0.1,DNS:localhost" &&
	tls_cert wrongname ca "DNS:wrong.example.invalid"
assert_eq 0 $? "test CAs and certificates created"

# ---------------------------------------------------------------- secrets
umask 077
printf 'whsec_%s\n' "$(openssl rand -base64 24)" >secret-a
printf 'whsec_%s\n' "$(openssl rand -base64 32)" >secret-b
chmod 600 secret-a secret-b
umask 022

# ---------------------------------------------------------------- receivers
start_receiver() {	# start_receiver NAME [ARGS...]: sets PORT_<NAME>
	local name=$1 i=0
	shift
	mkdir -p "r-$name"
	"$PY" "$RECEIVER" --port-file "r-$name/port" --dir "r-$name" --time-limit 60 \
		--secret-file secret-a --secret-file secret-b "$@" 2>"r-$name/stderr" &
	RPIDS="$RPIDS $!"
	while [ ! -s "r-$name/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	eval "PORT_$name=\$(cat r-$name/port 2>/dev/null)"
}
start_receiver main --cert server.crt --key server.key --slow-seconds 6
start_receiver wrong --cert wrongname.crt --key wrongname.key
start_receiver plain
start_receiver batch --cert server.crt --key server.key --batch-delay 0.3
[ -n "$PORT_main" ] && [ -n "$PORT_wrong" ] && [ -n "$PORT_plain" ] && [ -n "$PORT_batch" ]
assert_eq 0 $? "four receivers listen on loopback"
BASE=https://127.0.0.1:$PORT_main

# events ID KEY: KEY's value in each receiver event for ID, one per line
events() {	# events DIR ID KEY
	"$PY" -c '
import json, sys
for line in open(sys.argv[1] + "/events.jsonl"):
    e = json.loads(line)
    if e.get("id") == sys.argv[2]:
        print(json.dumps(e.get(sys.argv[3])))
' "$1" "$2" "$3" 2>/dev/null
}
count() {	# count DIR ID: requests the receiver saw for ID
	events "$1" "$2" id | wc -l | tr -d ' '
}

mkconf() {	# mkconf FILE CA_FILE [EXTRA WEBHOOK SETTINGS]
	cat >"$1" <<EOF
log = { destination = "stderr"; };
webhook = {
  url = "$BASE/ok";
  ca_file = "$2";
  secret_file = "$T_SCRATCH/secret-a";
  connect_timeout = 2;
  timeout = 2;
  ${3:-}
};
delivery = { concurrency = 4; };
EOF
}
mkconf good.conf "$T_SCRATCH/ca.crt"
mkconf rotate.conf "$T_SCRATCH/ca.crt" "secret_previous_file = \"$T_SCRATCH/secret-b\";"
mkconf rotated.conf "$T_SCRATCH/ca.crt"
sed -i 's/secret-a"/secret-b"/' rotated.conf
mkconf otherca.conf "$T_SCRATCH/other-ca.crt"
mkconf insecure.conf "$T_SCRATCH/ca.crt" "allow_insecure_http = true;"

td() {	# td CONFIG ID URL [MORE]: run test-delivery (bounded); output in $OUT, status in $RC
	local conf=$1 id=$2 url=$3
	shift 3
	OUT=$(timeout 30 "$KVPSCAN" -c "$conf" -v test-delivery --channel webhook --id "$id" --to "$url" "$@" 2>&1)
	RC=$?
}

# ---------------------------------------------------------------- 200
td good.conf wh-ok "$BASE/ok"
assert_eq 0 "$RC" "200: exit status 0"
assert_contains "$OUT" "wh-ok ok 200 -" "200: result ok"
assert_eq 1 "$(count r-main wh-ok)" "200: the receiver got the id once (webhook-id = the message id)"
assert_eq true "$(events r-main wh-ok verified)" "200: the receiver verified the signature"
assert_eq "[true, false]" "$(events r-main wh-ok matched)" "200: signed with the current secret only"
assert_eq '"application/json"' "$(events r-main wh-ok content_type)" "200: Content-Type application/json"
assert_contains "$(events r-main wh-ok user_agent)" "kvpscan/" "200: User-Agent kvpscan/VERSION"
assert_contains "$OUT" "webhook batch of 1: 1 delivered" "200: the batch is logged as counts"
assert_not_contains "$OUT" "kvpscan.test" "200: the body is never logged"

# webhook.url is used when --to is not given
OUT=$(timeout 30 "$KVPSCAN" -c good.conf test-delivery --channel webhook --id wh-default 2>&1)
assert_eq 0 $? "webhook.url is the default recipient"
assert_eq 1 "$(count r-main wh-default)" "webhook.url: the receiver got it"

# ---------------------------------------------------------------- rotation
td rotate.conf wh-rot "$BASE/ok"
assert_contains "$OUT" "wh-rot ok 200" "rotation: delivered"
assert_eq 2 "$(events r-main wh-rot signatures)" "rotation: two signatures sent"
assert_eq "[true, true]" "$(events r-main wh-rot matched)" "rotation: the receiver verifies with either secret"
td rotated.conf wh-new "$BASE/ok"
assert_eq "[false, true]" "$(events r-main wh-new matched)" "after rotation: signed with the new secret only"

# ---------------------------------------------------------------- 500 then 200
td good.conf wh-flaky "$BASE/flaky"
assert_eq 1 "$RC" "500: exit status 1"
assert_contains "$OUT" "wh-flaky retry 500" "500: retry"
td good.conf wh-flaky "$BASE/flaky"
assert_contains "$OUT" "wh-flaky ok 200" "500 then 200: the retry is accepted"
assert_eq "$(printf '0\n1')" "$(events r-main wh-flaky seen_before)" "retry: the same webhook-id both times"

# ---------------------------------------------------------------- 429
td good.conf wh-busy "$BASE/busy"
assert_contains "$OUT" "wh-busy retry 429" "429: retry"
assert_contains "$OUT" "retry after 7 s" "429: Retry-After 7 is parsed"
td good.conf wh-busydate "$BASE/busydate"
assert_contains "$OUT" "wh-busydate retry 503" "503: retry"
case "$OUT" in
*"retry after 5 s"* | *"retry after 6 s"* | *"retry after 7 s"*) ok "503: Retry-After as an HTTP-date is parsed" ;;
*) not_ok "503: Retry-After as an HTTP-date is parsed" "$OUT" ;;
esac

# ---------------------------------------------------------------- permanent
td good.conf wh-gone "$BASE/gone"
assert_eq 1 "$RC" "410: exit status 1"
assert_contains "$OUT" "wh-gone failed 410" "410: failed permanently"
td good.conf wh-bad "$BASE/bad"
assert_contains "$OUT" "wh-bad failed 400" "400: failed permanently"
td good.conf wh-moved "$BASE/moved"
assert_contains "$OUT" "wh-moved failed 301" "301: failed permanently"
assert_contains "$OUT" "redirects are not followed" "301: the error says why"
sleep 0.3
assert_eq 1 "$(count r-main wh-moved)" "301: the redirect was not followed (one request)"

# ---------------------------------------------------------------- timeouts, drops
t0=$(date +%s)
td good.conf wh-slow "$BASE/slow"
t1=$(date +%s)
assert_contains "$OUT" "wh-slow retry -" "slow receiver: retry"
assert_contains "$OUT" "timed out" "slow receiver: the error says timed out"
[ $((t1 - t0)) -le 5 ]
assert_eq 0 $? "slow receiver: gave up within the 2 s timeout (took $((t1 - t0)) s)"

td good.conf wh-drop "$BASE/drop"
assert_contains "$OUT" "wh-drop retry -" "dropped connection: retry"
assert_eq 1 "$(count r-main wh-drop)" "dropped connection: the request did arrive"

# ---------------------------------------------------------------- TLS
td otherca.conf wh-ca "$BASE/ok"
assert_contains "$OUT" "wh-ca retry -" "wrong CA: retry (the operator must fix it)"
assert_contains "$OUT" "certificate" "wrong CA: a certificate error"
assert_contains "$OUT" "failed TLS certificate verification" "wrong CA: a warning for the batch"
assert_contains "$OUT" "HINT:  check webhook.ca_file" "wrong CA: the hint names the CA file"
assert_not_contains "$OUT" "another host name" "wrong CA: not blamed on the host name"
assert_eq 0 "$(count r-main wh-ca)" "wrong CA: nothing was sent"

td good.conf wh-name "https://127.0.0.1:$PORT_wrong/ok"
assert_contains "$OUT" "wh-name retry -" "hostname mismatch: retry"
assert_contains "$OUT" "tls certificate verification failed" "hostname mismatch: a verification error"
assert_contains "$OUT" "the certificate is for another host name" "hostname mismatch: the error says the host name is the problem"
assert_contains "$OUT" "HINT:  the certificate is for another host name: check the host in webhook.url" \
	"hostname mismatch: the hint points at the host in webhook.url"
assert_not_contains "$OUT" "check webhook.ca_file" "hostname mismatch: the hint does not blame the CA file"
assert_eq 0 "$(count r-wrong wh-name)" "hostname mismatch: nothing was sent"

# ---------------------------------------------------------------- plain http
td good.conf wh-http "http://127.0.0.1:$PORT_plain/ok"
assert_contains "$OUT" "wh-http failed -" "http:// refused without allow_insecure_http"
assert_contains "$OUT" "allow_insecure_http" "http://: the error names the setting"
assert_eq 0 "$(count r-plain wh-http)" "http://: no connection was made"
td insecure.conf wh-http2 "http://127.0.0.1:$PORT_plain/ok"
assert_contains "$OUT" "wh-http2 ok 200" "http:// allowed with allow_insecure_http = true"

# ---------------------------------------------------------------- batch
t0=$(date +%s)
td good.conf wh-batch "https://127.0.0.1:$PORT_batch/batch" --count 20
t1=$(date +%s)
assert_eq 0 "$RC" "batch of 20: exit status 0"
assert_eq 20 "$(printf '%s\n' "$OUT" | grep -c '^wh-batch-[0-9]* ok 200 -$')" "batch of 20: all ok"
missing=
for i in $(seq 1 20); do
	[ "$(count r-batch "wh-batch-$i")" = 1 ] || missing="$missing $i"
done
assert_eq "" "$missing" "batch of 20: each id arrived exactly once"
maxin=$(cat r-batch/max_inflight 2>/dev/null)
[ -n "$maxin" ] && [ "$maxin" -le 4 ] && [ "$maxin" -ge 2 ]
assert_eq 0 $? "batch of 20: at most 4 at once, and in parallel (max $maxin)"
[ $((t1 - t0)) -le 10 ]
assert_eq 0 $? "batch of 20: bounded time ($((t1 - t0)) s)"

# ---------------------------------------------------------------- what was received
raw=$(cat r-main/raw.log)
assert_contains "$raw" "webhook-id: wh-ok" "the receiver logged the raw bytes"
assert_contains "$raw" "webhook-signature: v1," "the raw request carries a v1 signature"
assert_not_contains "$raw" "whsec_" "the secret itself never goes over the wire"

finish
