#!/bin/sh
# daemon.sh - "kvpscan daemon": one run per scheduled slot, SIGHUP with a bad
# and a good configuration, a PostgreSQL restart, SIGTERM during a scan,
# catch-up once and never twice, and the systemd notify protocol
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

PY=/usr/bin/python3
pg_start || { echo "cannot start PostgreSQL"; exit 1; }
scratch_dir
SPOOL=$T_SCRATCH/spool
CONF=$T_SCRATCH/k.conf
mkdir -p "$SPOOL"
DPID=
LPID=
t_cleanup_hook() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
}

at_in() {	# at_in SECONDS: the slot zone's wall-clock time SECONDS from now, HH:MM:SS
	wall_in "$1"
}
day_in() {	# day_in SECONDS: the slot zone's date SECONDS from now, YYYY-MM-DD
	wall_in "$1" %F
}
shown() {	# shown HH:MM:SS: the slot as the daemon prints it (no ":00" seconds)
	case $1 in *:*:00) echo "${1%:00}" ;; *) echo "$1" ;; esac
}
write_conf() {	# write_conf SCAN_AT CATCH_UP [MIN_AGE [REPORT_AT]]
	rep=
	[ -n "${4:-}" ] && rep="report_day = \"daily\"; report_at = \"$4\";"
	cat > "$CONF" <<EOC
log = { destination = "stderr"; level = "debug"; };
identification = { min_age = ${3:-18}; };
delivery = { channel = "spool"; send = "all_open"; };
spool = { directory = "$SPOOL"; };
daemon = { scan_at = "$1"; catch_up = $2; timezone = "$SLOT_ZONE"; retry_interval = 2;
           metrics_file = "$T_SCRATCH/kvpscan.prom"; $rep };
EOC
}
wait_for() {	# wait_for SECONDS SHELL-CONDITION: true once it holds, false at the timeout
	local i=0 n=$(($1 * 5))
	while [ "$i" -lt "$n" ]; do
		if eval "$2"; then return 0; fi
		sleep 0.2; i=$((i + 1))
	done
	return 1
}
start_daemon() {	# start_daemon LOG
	$KVPSCAN -c "$CONF" daemon --pidfile "$T_SCRATCH/kvpscan.pid" 2> "$1" &
	DPID=$!
	wait_for 20 "grep -q 'next scan at' '$1'" || not_ok "daemon started" "$(cat "$1")"
}
stop_daemon() {	# stop_daemon: SIGTERM, wait (bounded), exit status in $DSTATUS
	kill -TERM "$DPID"
	wait_for 60 "! kill -0 $DPID 2>/dev/null" || kill -KILL "$DPID"
	wait "$DPID"; DSTATUS=$?
	DPID=
}
slots() { psql_q "SELECT count(*) FROM kvpscan.run_slot"; }
slot_at() { psql_q "SELECT count(*) FROM kvpscan.run_slot WHERE to_char(slot AT TIME ZONE '$SLOT_ZONE', 'HH24:MI:SS') = '$1'"; }
runs() { psql_q "SELECT count(*) FROM kvpscan.run WHERE status = 'succeeded'"; }

TODAY=$(day_in 0)
write_conf 02:30 false
assert_status 0 "daemon --help" -- $KVPSCAN -c "$CONF" daemon --help
assert_contains "$OUT" "Usage: kvpscan daemon" "daemon --help prints the usage"
assert_status 0 "migrate" -- $KVPSCAN -c "$CONF" migrate
assert_status 0 "demo data" -- $KVPSCAN -c "$CONF" demo-data --persons 200 --seed 7 --as-of "$TODAY"

# --- the notify listener: every datagram, one per line
SOCK=$T_SCRATCH/notify.sock
NOTES=$T_SCRATCH/notify.txt
: > "$NOTES"
$PY "$top_srcdir/tests/peers/dgram_receiver.py" "$SOCK" "$NOTES" --idle 300 &
LPID=$!
wait_for 10 "[ -S '$SOCK' ]" || not_ok "notify listener ready"

# --- one run per slot
S1=$(at_in 4); D1=$(day_in 4)
write_conf "$S1" false
LOG1=$T_SCRATCH/d1.log
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=2000000 start_daemon "$LOG1"
wait_for 10 "grep -q '^READY=1' '$NOTES'" && ok "notify: READY=1" || not_ok "notify: READY=1" "$(cat "$NOTES")"
assert_contains "$(cat "$NOTES")" "STATUS=next scan at $D1 $(shown "$S1")" "notify: STATUS names the next scan"
[ -f "$T_SCRATCH/kvpscan.pid" ] && assert_eq "$DPID" "$(cat "$T_SCRATCH/kvpscan.pid")" "the pid file holds the daemon's pid" \
	|| not_ok "the pid file exists"
wait_for 30 "[ \"\$(slots)\" -ge 1 ]" && ok "the slot at $S1 ran" || not_ok "the slot at $S1 ran" "$(cat "$LOG1")"
sleep 3
assert_eq 1 "$(slots)" "exactly one run recorded for the slot"
assert_eq 1 "$(slot_at "$S1")" "the recorded slot is $S1"
assert_eq 1 "$(runs)" "exactly one run stored"
wait_for 10 "[ -n \"\$(find '$SPOOL' -name '*.json')\" ]" && ok "the run delivered into the spool" || not_ok "the run delivered into the spool"
assert_contains "$(cat "$T_SCRATCH/kvpscan.prom" 2>/dev/null)" "kvpscan_last_run_success 1" "the daemon wrote the metrics file"
wait_for 10 "grep -q '^WATCHDOG=1' '$NOTES'" && ok "notify: WATCHDOG=1 keep-alives" || not_ok "notify: WATCHDOG=1"

# --- SIGHUP with a bad file: logged with file and line, the old config stays
cp "$CONF" "$T_SCRATCH/good.conf"
printf 'daemon = { scan_at = "25:99"; };\n' > "$CONF"
kill -HUP "$DPID"
wait_for 10 "grep -q 'configuration not reloaded' '$LOG1'" && ok "a bad reload is refused" || not_ok "a bad reload is refused" "$(cat "$LOG1")"
assert_contains "$(cat "$LOG1")" "$CONF:1:" "the bad reload names the file and line"
kill -0 "$DPID" 2>/dev/null && ok "the daemon lives on after a bad reload" || not_ok "the daemon lives on after a bad reload"

# --- SIGHUP with a good file that moves scan_at: the new time is used
S2=$(at_in 5); D2=$(day_in 5)
write_conf "$S2" false
kill -HUP "$DPID"
wait_for 10 "grep -q 'next scan at $D2 $(shown "$S2")' '$LOG1'" && ok "the reload moves the next scan to $S2" \
	|| not_ok "the reload moves the next scan to $S2" "$(cat "$LOG1")"
wait_for 30 "[ \"\$(slot_at $S2)\" -ge 1 ]" && ok "the slot at $S2 ran" || not_ok "the slot at $S2 ran" "$(cat "$LOG1")"
sleep 2
assert_eq 2 "$(slots)" "two slots, two recorded runs"

# --- PostgreSQL goes away over a slot and comes back: the daemon survives and runs it
pg_restart_stop
S3=$(at_in 3)
R3=$(at_in 4)
write_conf "$S3" false 18 "$R3"
kill -HUP "$DPID"
sleep 6
kill -0 "$DPID" 2>/dev/null && ok "the daemon survives the database outage" || not_ok "the daemon survives the database outage"
pg_restart_start
wait_for 90 "[ \"\$(slot_at $S3)\" -ge 1 ]" 2>/dev/null && ok "the slot missed in the outage runs when the database is back" \
	|| not_ok "the slot missed in the outage runs when the database is back" "$(tail -n 30 "$LOG1")"
assert_eq 3 "$(slots)" "three slots recorded"
# the report slot at R3 fell in the outage too: the reports of the run just made go out
wait_for 30 "[ \"\$(psql_q \"SELECT count(*) FROM kvpscan.delivery WHERE kind = 'report'\")\" -ge 1 ]" \
	&& ok "the report slot missed in the outage is sent when the database is back" \
	|| not_ok "the report slot missed in the outage is sent when the database is back" "$(tail -n 30 "$LOG1")"
assert_eq "$(psql_q "SELECT max(run_id) FROM kvpscan.run WHERE status = 'succeeded'")" \
	"$(psql_q "SELECT max(run_id) FROM kvpscan.delivery WHERE kind = 'report'")" "the reports are of the run made after the outage"

# --- SIGTERM: exit 0, STOPPING=1, the pid file removed
stop_daemon
assert_eq 0 "$DSTATUS" "the daemon exits 0 on SIGTERM"
wait_for 10 "grep -q '^STOPPING=1' '$NOTES'" && ok "notify: STOPPING=1" || not_ok "notify: STOPPING=1" "$(cat "$NOTES")"
[ ! -e "$T_SCRATCH/kvpscan.pid" ] && ok "the pid file is removed at exit" || not_ok "the pid file is removed at exit"

# --- SIGTERM during a slow scan: exit 0, and the run is whole or absent
psql_q "CREATE FUNCTION public.slow_scan() RETURNS trigger LANGUAGE plpgsql AS
        \$\$BEGIN PERFORM pg_sleep(3); RETURN NULL; END\$\$;
        CREATE TRIGGER slow_scan AFTER INSERT ON kvpscan.candidate
        FOR EACH STATEMENT EXECUTE FUNCTION public.slow_scan()" >/dev/null
before=$(runs)
write_conf "$(at_in 3)" false 19        # other settings: a new run for the same date
LOG2=$T_SCRATCH/d2.log
start_daemon "$LOG2"
wait_for 30 "[ \"\$(psql_q \"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%candidate%' AND state = 'active' AND pid <> pg_backend_pid()\")\" -ge 1 ]" \
	&& ok "the scan is under way" || not_ok "the scan is under way" "$(cat "$LOG2")"
stop_daemon
assert_eq 0 "$DSTATUS" "SIGTERM during a scan: exit 0"
after=$(runs)
case $((after - before)) in
0|1) ok "SIGTERM during a scan: the run was stored whole or not at all ($((after - before)))" ;;
*) not_ok "SIGTERM during a scan: at most one run" "$before -> $after" ;;
esac
half=$(psql_q "SELECT count(*) FROM kvpscan.run r WHERE (status = 'succeeded' AND flagged <>
        (SELECT count(*) FROM kvpscan.candidate c WHERE c.run_id <= r.run_id
          AND (c.until_run_id IS NULL OR c.until_run_id > r.run_id)))
     OR (status = 'failed' AND EXISTS (SELECT 1 FROM kvpscan.candidate c WHERE c.run_id = r.run_id))")
assert_eq 0 "$half" "no half-written run"
psql_q "DROP TRIGGER slow_scan ON kvpscan.candidate" >/dev/null

# --- catch-up: a past slot with no run runs once at start, and not again after a restart
SP=$(at_in -5)
write_conf "$SP" true 20
LOG3=$T_SCRATCH/d3.log
start_daemon "$LOG3"
wait_for 30 "[ \"\$(slot_at $SP)\" -ge 1 ]" && ok "catch-up: the missed slot at $SP runs at start" \
	|| not_ok "catch-up: the missed slot at $SP runs at start" "$(cat "$LOG3")"
assert_eq t "$(psql_q "SELECT late FROM kvpscan.run_slot WHERE to_char(slot AT TIME ZONE '$SLOT_ZONE', 'HH24:MI:SS') = '$SP'")" \
	"catch-up: the slot is recorded as late"
stop_daemon
n=$(runs)
LOG4=$T_SCRATCH/d4.log
start_daemon "$LOG4"
sleep 4
assert_eq 1 "$(slot_at "$SP")" "catch-up: a restart does not run the slot again"
assert_eq "$n" "$(runs)" "catch-up: no new run after the restart"
assert_not_contains "$(cat "$LOG4")" "catching up" "catch-up: the restart does not catch up"
stop_daemon
assert_eq 0 "$DSTATUS" "the last daemon exits 0"
finish
