#!/bin/sh
# paths.sh - the paths no other test ran: syslog (the destination under
# systemd) against a syslog peer on /dev/log, database.password_file against a
# server that asks for a password, an unwritable spool directory for a sender
# that is not root, and libcurl set-up failures (a preload shim makes one
# libcurl call fail, as it would when out of memory)
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
cd "$T_SCRATCH" || exit 1
SPOOL=$T_SCRATCH/spool
mkdir -p "$SPOOL"
base_conf() {	# base_conf FILE [MORE SETTINGS [CHANNEL]]: the spool channel by default, short backoff
	printf 'delivery = { channel = "%s"; backoff_initial = 1; backoff_max = 5; };\nspool = { directory = "%s"; };\n%s\n' \
		"${3:-spool}" "$SPOOL" "${2:-}" >"$1"
}
base_conf k.conf 'log = { destination = "stderr"; };'
k() { "$KVPSCAN" -c "$T_SCRATCH/k.conf" "$@"; }
q() { psql_q "$1"; }
assert_status 0 "migrate" -- k migrate
assert_status 0 "demo data" -- k demo-data --persons 300 --seed 5 --as-of 2025-06-15
q "SELECT person_id FROM kvp_src.person UNION ALL SELECT case_ref FROM kvp_src.person
   UNION ALL SELECT display_name FROM kvp_src.veileder" | sort -u >secrets

# ---------------------------------------------------------------- syslog
# glibc's syslog(3) always writes to /dev/log: in a mount namespace of its own
# the test puts a fresh /dev there (null, zero, urandom... bound from the real
# one) and a syslog peer on /dev/log, and runs kvpscan in it.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	base_conf syslog.conf 'log = { destination = "syslog"; facility = "local3"; ident = "kvpscan-test"; };'
	base_conf auto.conf 'log = { facility = "local3"; ident = "kvpscan-auto"; };'
	cat >ns.sh <<'EOF'
set -u
mount --make-rprivate /
mkdir -p olddev
mount --bind /dev olddev
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom tty; do
	[ -e "olddev/$n" ] || continue
	touch "/dev/$n"; mount --bind "olddev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
"$PY" "$top_srcdir/tests/peers/dgram_receiver.py" /dev/log syslog.out --time-limit 60 --ready-file ready &
rpid=$!
i=0; while [ ! -e ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
"$KVPSCAN" -c syslog.conf scan --as-of 2025-06-15 >scan.stdout 2>scan.stderr; echo $? >scan.rc
"$KVPSCAN" -c syslog.conf scan --as-of 2025-06-01 >old.stdout 2>old.stderr; echo $? >old.rc
INVOCATION_ID=0123456789abcdef "$KVPSCAN" -c auto.conf deliver >auto.stdout 2>auto.stderr; echo $? >auto.rc
"$KVPSCAN" -c auto.conf status >hand.stdout 2>hand.stderr; echo $? >hand.rc
sleep 0.5
kill $rpid; wait $rpid 2>/dev/null
EOF
	PY=$PY timeout 120 unshare -m bash ns.sh
	assert_eq 0 "$(cat scan.rc 2>/dev/null)" "a scan logging to syslog succeeds"
	assert_eq "" "$(cat scan.stderr)" "with log.destination = syslog nothing goes to stderr"
	log=$(cat syslog.out 2>/dev/null)
	# local3 = 19: info 19*8+6 = 158, warning 156, error 155
	assert_contains "$log" "<158>" "the scan's summary arrives at facility local3, priority info"
	assert_contains "$(grep '^<158>' syslog.out)" "kvpscan-test[" "with the configured ident and the pid"
	assert_contains "$(grep '^<158>' syslog.out)" "scan as of 2025-06-15" "the summary names the as-of date"
	assert_eq 1 "$(cat old.rc 2>/dev/null)" "a scan dated before the latest run fails"
	assert_contains "$(grep '^<155>' syslog.out)" "kvpscan-test[" "its error arrives at priority err"
	assert_eq 0 "$(cat auto.rc 2>/dev/null)" "deliver under systemd (INVOCATION_ID set, destination auto)"
	assert_contains "$(grep 'kvpscan-auto\[' syslog.out)" "deliver" "under systemd, auto logs to syslog"
	assert_eq "" "$(cat auto.stderr)" "and not to stderr"
	assert_not_contains "$(cat hand.stderr hand.stdout)" "kvpscan-auto[" "by hand, auto logs to stderr"
	assert_eq 0 "$(grep -c 'kvpscan-auto\[.*status' syslog.out)" "the command run by hand sent nothing to syslog"
	assert_eq 0 "$(grep -cFf secrets syslog.out)" "no person id, case_ref or name in any syslog message"
else
	ok "# SKIP syslog: needs root and a mount namespace"
fi

# ---------------------------------------------------------------- database.password_file
PW=$(openssl rand -hex 16)
q "CREATE ROLE kvp_pw LOGIN SUPERUSER PASSWORD '$PW'" >/dev/null
pg__as sh -c "{ echo 'local all kvp_pw scram-sha-256'; cat '$PG_DIR/data/pg_hba.conf'; } >'$PG_DIR/data/hba.new' \
	&& mv '$PG_DIR/data/hba.new' '$PG_DIR/data/pg_hba.conf'"
q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
umask 077
printf '%s\n' "$PW" >pw.good
printf 'not-%s\n' "$PW" >pw.bad
umask 022
cp pw.good pw.open; chmod 644 pw.open
pwconf() {	# pwconf FILE PASSWORD_FILE
	base_conf "$1" "log = { destination = \"stderr\"; };
database = { conninfo = \"user=kvp_pw\"; password_file = \"$T_SCRATCH/$2\"; };"
}
pwconf pw-good.conf pw.good
pwconf pw-bad.conf pw.bad
pwconf pw-open.conf pw.open
PGUSER=kvp_pw assert_status 2 "psql without the password is refused (the server asks for one)" -- \
	psql -X -w -At -c "SELECT 1"
PGUSER= assert_status 0 "with database.password_file the dry run connects" -- \
	"$KVPSCAN" -c pw-good.conf scan --dry-run --as-of 2025-06-15
PGUSER= assert_status 0 "and migrate --status works" -- "$KVPSCAN" -c pw-good.conf migrate --status
PGUSER= assert_status 1 "a wrong password is a runtime failure" -- "$KVPSCAN" -c pw-bad.conf migrate --status
assert_contains "$OUT" "password authentication failed" "it says the password was refused"
assert_not_contains "$OUT" "$PW" "the password is not shown"
PGUSER= assert_status 2 "a password file readable by others is refused" -- "$KVPSCAN" -c pw-open.conf migrate --status
assert_contains "$OUT" "accessible by group or others" "it says why"
assert_contains "$OUT" "chmod 600" "and how to fix it"
mkdir -p creds; printf '%s\n' "$PW" >creds/db_password; chmod 600 creds/db_password
PGUSER= CREDENTIALS_DIRECTORY=$T_SCRATCH/creds assert_status 0 "a systemd credential db_password wins over the file" -- \
	"$KVPSCAN" -c pw-bad.conf migrate --status

# ---------------------------------------------------------------- an unwritable spool directory
# the tests run as root, who may write anywhere: the sender runs as "nobody"
# (libpq's environment points it at the cluster's socket as user postgres)
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	assert_status 0 "a scan queues worklists" -- k scan --as-of 2025-06-16
	n=$(q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'pending'")
	sent0=$(q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'sent'")
	files0=$(find "$SPOOL" -type f | wc -l | tr -d ' ')
	[ "$n" -gt 0 ] && ok "$n deliveries are pending" || not_ok "deliveries are pending" "$n"
	chmod 755 "$SPOOL"; chmod 644 k.conf
	assert_status 1 "deliver as nobody into a spool directory it cannot write fails" -- \
		runuser -u nobody -- "$KVPSCAN" -c "$T_SCRATCH/k.conf" deliver
	assert_contains "$OUT" "Permission denied" "the error says permission was denied"
	assert_contains "$OUT" "$SPOOL" "and names the directory"
	assert_eq "$sent0|0" "$(q "SELECT count(*) FILTER (WHERE state = 'sent') || '|' || count(*) FILTER (WHERE state = 'dead')
		FROM kvpscan.delivery")" "nothing was sent and nothing died"
	assert_eq "$n" "$(q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'pending' AND attempts = 1")" \
		"every delivery waits for a retry"
	assert_eq "$files0" "$(find "$SPOOL" -type f | wc -l | tr -d ' ')" "no file was left in the spool"
	chown nobody "$SPOOL"
	q "UPDATE kvpscan.delivery SET next_attempt_at = now()" >/dev/null
	assert_status 0 "once the directory is writable, deliver as nobody succeeds" -- \
		runuser -u nobody -- "$KVPSCAN" -c "$T_SCRATCH/k.conf" deliver
	assert_eq "$((sent0 + n))" "$(q "SELECT count(*) FROM kvpscan.delivery WHERE state = 'sent'")" "every delivery was sent"
	assert_eq "$((files0 + n))" "$(find "$SPOOL" -name '*.json' | wc -l | tr -d ' ')" "one file per delivery"
else
	ok "# SKIP unwritable spool: needs root and the user nobody"
fi

# ---------------------------------------------------------------- libcurl set-up failures
# tests/peers/curl_fail.c, preloaded, makes the libcurl function named in
# KVP_CURL_FAIL fail; the sanitizer build tolerates a preload before its runtime
if command -v cc >/dev/null && cc -shared -fPIC -o curl_fail.so "$top_srcdir/tests/peers/curl_fail.c" -ldl 2>cc.err; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	umask 077; printf 'whsec_%s\n' "$(openssl rand -base64 24)" >wh.secret; umask 022
	base_conf wh.conf 'log = { destination = "stderr"; };
webhook = { url = "https://127.0.0.1:9/hook"; secret_file = "'"$T_SCRATCH"'/wh.secret"; connect_timeout = 1; timeout = 1; };' webhook
	base_conf mail.conf 'log = { destination = "stderr"; };
email = { smtp_url = "smtp://127.0.0.1:9"; from = "kvpscan@kommune.example"; starttls = "off"; timeout = 1; };'
	for f in curl_global_init curl_multi_init curl_easy_init; do
		KVP_CURL_FAIL=$f LD_PRELOAD=$T_SCRATCH/curl_fail.so assert_status 1 "webhook test-delivery when $f fails" -- \
			"$KVPSCAN" -c wh.conf test-delivery --channel webhook
		assert_contains "$OUT" "could not initialise libcurl" "$f: the error says libcurl could not start"
	done
	for f in curl_easy_init curl_slist_append; do
		KVP_CURL_FAIL=$f LD_PRELOAD=$T_SCRATCH/curl_fail.so assert_status 1 "email test-delivery when $f fails" -- \
			"$KVPSCAN" -c mail.conf test-delivery --channel email --to leder@kommune.example
		case $OUT in
		*"could not initialise libcurl"*|*"ut of memory"*) ok "$f: the error says why" ;;
		*) not_ok "$f: the error says why" "$OUT" ;;
		esac
	done
	# in a real round the queued worklists wait: nothing sent, nothing dead, nothing lost
	q "UPDATE kvpscan.delivery SET state = 'pending', attempts = 0, sent_at = NULL, next_attempt_at = now(),
	   channel = 'webhook'" >/dev/null
	n=$(q "SELECT count(*) FROM kvpscan.delivery")
	KVP_CURL_FAIL=curl_multi_init LD_PRELOAD=$T_SCRATCH/curl_fail.so assert_status 1 \
		"deliver when libcurl cannot start fails" -- timeout 60 "$KVPSCAN" -c wh.conf deliver
	assert_eq "$n|0|0" "$(q "SELECT count(*) FILTER (WHERE state = 'pending') || '|' ||
		count(*) FILTER (WHERE state = 'sent') || '|' || count(*) FILTER (WHERE state = 'dead') FROM kvpscan.delivery")" \
		"every delivery stays pending for a retry"
else
	not_ok "the libcurl shim compiles" "$(cat cc.err 2>/dev/null)"
fi
finish
