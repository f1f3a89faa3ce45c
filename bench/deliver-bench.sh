#!/bin/bash
# deliver-bench.sh - throughput of "kvpscan deliver" through the outbox
#   bench/deliver-bench.sh [BUILDDIR] [COUNT]   (default: . and 2000)
# (a) COUNT worklists to the HTTPS test receiver (tests/peers/https_receiver.py), which answers
#     each after 50 ms; delivery.concurrency 8 (the default). Prints the wall time of
#     "kvpscan deliver", the limit COUNT x 0.05 s / 8 and the ratio wall/limit (goal < 1.3).
# (b) COUNT emails to the loopback aiosmtpd relay (tests/peers/smtp_receiver.py) with STARTTLS
#     and AUTH. Prints the wall time, messages/s and the SMTP connections the relay saw.
# The deliveries are made by copying one real worklist (demo data, a real scan) COUNT times
# into the outbox with psql (ids wl-bench-N), so every message has a real body (a worklist of
# about 30 cases). Needs /usr/bin/python3 with python3-aiosmtpd, and openssl.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-.}
COUNT=${2:-2000}
KVPSCAN=$(cd "$builddir" && pwd)/src/kvpscan
PY=/usr/bin/python3
DELAY=0.05
CONC=8
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_start || exit 1
scratch_dir
cd "$T_SCRATCH" || exit 1
PIDS=
# shellcheck disable=SC2317 # called by common.sh's exit trap
t_cleanup_hook() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
}
die() { echo "deliver-bench: $*" >&2; exit 1; }

. "$top_srcdir/tests/lib/tls.sh"
tls_ca ca && tls_cert server ca "IP:127.0.0.1" || die "openssl could not make certificates"
umask 077
printf 'whsec_%s\n' "$(openssl rand -base64 32)" >whsec
printf 'bench-pw\n' >pw
umask 022

wait_port() {
	local i=0
	while [ ! -s "$1" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	cat "$1" 2>/dev/null
}
mkdir -p r m
$PY "$top_srcdir/tests/peers/https_receiver.py" --cert server.crt --key server.key --secret-file whsec \
	--port-file r/port --dir r --mode batch --batch-delay $DELAY --time-limit 600 2>r/stderr &
PIDS="$PIDS $!"
$PY "$top_srcdir/tests/peers/smtp_receiver.py" --cert server.crt --key server.key --user bench \
	--password bench-pw --port-file m/port --dir m --lifetime 600 >m.out 2>&1 &
PIDS="$PIDS $!"
WPORT=$(wait_port r/port)
MPORT=$(wait_port m/port)
[ -n "$WPORT" ] && [ -n "$MPORT" ] || die "the peers did not start"

cat >b.conf <<EOF
log = { destination = "stderr"; level = "warning"; };
delivery = { channel = "webhook"; concurrency = $CONC; };
webhook = { url = "https://127.0.0.1:$WPORT/batch"; ca_file = "$T_SCRATCH/ca.crt";
            secret_file = "$T_SCRATCH/whsec"; timeout = 30; };
email = { smtp_url = "smtp://127.0.0.1:$MPORT"; from = "kvpscan@kommune.example.no";
          starttls = "required"; ca_file = "$T_SCRATCH/ca.crt"; username = "bench";
          password_file = "$T_SCRATCH/pw"; timeout = 30; };
EOF
K="$KVPSCAN -c b.conf"
$K demo-data --persons 1000 --seed 1 --as-of 2024-03-01 >/dev/null || die "demo-data failed"
$K migrate >/dev/null || die "migrate failed"
$K scan --as-of 2024-03-01 >/dev/null || die "scan failed"

# the largest real worklist is the template; the scan's own deliveries leave the outbox
psql_q "CREATE TABLE public.bench_template AS SELECT * FROM kvpscan.delivery ORDER BY item_count DESC, delivery_id LIMIT 1;
        DELETE FROM kvpscan.delivery" >/dev/null || die "template failed"
# fill CHANNEL RECIPIENT: the outbox holds COUNT copies of the template, pending
fill() {
	psql_q "DELETE FROM kvpscan.delivery_attempt; DELETE FROM kvpscan.delivery;
	INSERT INTO kvpscan.delivery (delivery_id, run_id, kind, channel, recipient, office_id, veileder_id,
	       subject, text_body, html_body, json_body, item_count)
	SELECT 'wl-bench-' || g, d.run_id, d.kind, '$1', '$2', d.office_id, d.veileder_id, d.subject,
	       d.text_body, d.html_body, replace(d.json_body, d.delivery_id, 'wl-bench-' || g), d.item_count
	  FROM public.bench_template d, generate_series(1, $COUNT) g;
	ANALYZE kvpscan.delivery; ANALYZE kvpscan.delivery_attempt" >/dev/null || die "fill failed"
	psql_q "SELECT count(*), max(item_count), max(length(json_body)) FROM kvpscan.delivery WHERE state = 'pending'"
}
now() { date +%s.%N; }

# ---------------------------------------------------------------- (a) webhook
info=$(fill webhook "https://127.0.0.1:$WPORT/batch")
IFS='|' read -r n items jsonlen <<<"$info"
[ "$n" = "$COUNT" ] || die "expected $COUNT pending deliveries, found $n"
t0=$(now)
$K deliver >wh.out 2>wh.err || { cat wh.out wh.err >&2; die "webhook deliver failed"; }
t1=$(now)
sent=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'sent' AND delivery_id LIKE 'wl-bench-%'")
seen=$($PY -c 'import json,sys; print(len({e["id"] for e in map(json.loads, open("r/events.jsonl")) if e.get("event") == "request" and e["verified"]}))')
maxin=$(cat r/max_inflight)
awk -v a="$t0" -v b="$t1" -v n="$COUNT" -v d=$DELAY -v c=$CONC -v s="$sent" -v v="$seen" -v m="$maxin" \
	-v it="$items" -v jl="$jsonlen" 'BEGIN {
	wall = b - a; lim = n * d / c
	printf "webhook: %d worklists (%d cases, %d bytes of JSON each), receiver delay %.0f ms, concurrency %d\n", n, it, jl, d * 1000, c
	printf "webhook: wall %.2f s, limit %d x %.2f s / %d = %.2f s, ratio %.2f (goal < 1.3)\n", wall, n, d, c, lim, wall / lim
	printf "webhook: %d sent, %d distinct signed ids at the receiver, at most %d in flight\n", s, v, m }'

# ---------------------------------------------------------------- (b) email
info=$(fill email "veileder.bench@kommune.example.no")
IFS='|' read -r n items jsonlen <<<"$info"
[ "$n" = "$COUNT" ] || die "expected $COUNT pending deliveries, found $n"
t0=$(now)
$K deliver >mail.out 2>mail.err || { cat mail.out mail.err >&2; die "email deliver failed"; }
t1=$(now)
sent=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'sent' AND channel = 'email'")
msgs=$(find m -name 'msg-*.eml' | wc -l)
conns=$(grep -c '^connection ' m/session.log)
tls=$(grep -c 'tls=yes auth=yes' m/session.log)
# messages per connection, from "message N conn=C ..." lines: min and max
per=$(sed -n 's/^message [0-9]* conn=\([0-9]*\) .*/\1/p' m/session.log | sort -n | uniq -c |
	awk 'NR == 1 { lo = hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 } END { print lo "-" hi }')
awk -v a="$t0" -v b="$t1" -v n="$COUNT" -v s="$sent" -v g="$msgs" -v c="$conns" -v t="$tls" -v p="$per" 'BEGIN {
	wall = b - a
	printf "email: %d messages, wall %.2f s, %.0f messages/s\n", n, wall, n / wall
	printf "email: %d sent, %d stored by the relay (%d over STARTTLS with AUTH), %d SMTP connections (%s messages each)\n", s, g, t, c, p }'
