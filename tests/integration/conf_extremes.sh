#!/bin/sh
# conf_extremes.sh - what check-config accepts, the program runs: every numeric
# key of the key table (read from "check-config --keys", so a new key cannot be
# forgotten) at its declared minimum and maximum passes check-config and then
# runs the command that uses it without a configuration or range error; one
# past each end is refused with FILE:LINE.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

ASOF=2025-06-15
pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
SPOOL=$T_SCRATCH/spool
mkdir -p "$SPOOL"
printf 'whsec_%s\n' "$(printf 'conf-extremes-secret-32-bytes!!!' | base64)" > "$T_SCRATCH/whsec"
chmod 600 "$T_SCRATCH/whsec"
: > "$T_SCRATCH/not-a-dir"     # a spool directory below it cannot be made

# conf FILE < SETTINGS: a config of the baseline (spool channel, stderr) and
# the "group.key = value" lines on stdin, later ones winning, written as groups
conf() {
	{
		printf 'log.destination = "stderr"\n'
		printf 'spool.directory = "%s"\n' "$SPOOL"
		cat
	} | awk -F' = ' '
		{ split($1, p, "."); g = p[1]; k = p[2]
		  if (!(g in seen)) { seen[g] = 1; order[++n] = g }
		  val[g "." k] = $2; if (!((g "." k) in have)) { have[g "." k] = 1; keys[g] = keys[g] " " k } }
		END { for (i = 1; i <= n; i++) { g = order[i]; printf "%s = {\n", g
			m = split(keys[g], ks, " "); for (j = 1; j <= m; j++) printf "  %s = %s;\n", ks[j], val[g "." ks[j]]
			print "};" } }' > "$1"
}

# partners KEY VALUE: the settings another key needs so that KEY = VALUE
# passes the rules between keys (conf.c cross_checks)
partners() {
	case $1 in
	identification.window_months) echo "identification.long_term_more_than = $(($2 - 1))" ;;
	identification.long_term_more_than) echo "identification.window_months = $(($2 + 1))" ;;
	identification.min_age) [ "$2" -gt 66 ] && echo "identification.max_age = $2" ;;
	identification.max_age) [ "$2" -lt 18 ] && echo "identification.min_age = $2" ;;
	delivery.backoff_initial) [ "$2" -gt 21600 ] && echo "delivery.backoff_max = $2" ;;
	delivery.backoff_max) [ "$2" -lt 60 ] && echo "delivery.backoff_initial = $2" ;;
	esac
	return 0
}

K0="$KVPSCAN -c $T_SCRATCH/base.conf"
conf "$T_SCRATCH/base.conf" < /dev/null
assert_status 0 "migrate" -- $K0 migrate
assert_status 0 "demo data" -- $K0 demo-data --persons 150 --offices 3 --seed 11 --as-of $ASOF
assert_status 0 "a stored scan queues worklists" -- $K0 scan --as-of $ASOF
RUN=$(psql_q "SELECT max(run_id) FROM kvpscan.run WHERE status = 'succeeded'")
NDEL=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id = $RUN")
[ "$NDEL" -gt 0 ] && ok "the scan queued $NDEL worklists" || not_ok "the scan queued worklists" "$NDEL"
assert_status 0 "deliver the first round" -- $K0 deliver

# use KEY FILE VALUE: run the command that uses KEY (set to VALUE in FILE) and assert it ran
use() {
	key=$1; c=$2; v=$3; K="$KVPSCAN -c $c"
	case $key in
	database.*|identification.*|participation.*)
		assert_status 0 "$key: scan --dry-run" -- $K scan --dry-run --as-of $ASOF
		assert_contains "$OUT" "case_ref,office_id" "$key: the dry run prints its CSV" ;;
	delivery.*)
		assert_status 0 "$key: redeliver" -- $K redeliver --run "$RUN"
		assert_status 0 "$key: deliver" -- $K deliver
		assert_contains "$OUT" "sent $NDEL," "$key: every worklist is sent"
		# and a round that fails (the spool directory cannot be made): the
		# retry (backoff_*) or the death (max_attempts) is computed and stored
		sed "s|directory = .*|directory = \"$T_SCRATCH/not-a-dir/spool\";|" "$c" > "$c.fail"
		$K redeliver --run "$RUN" >/dev/null 2>&1
		OUT=$($KVPSCAN -c "$c.fail" deliver 2>&1)
		rc=$?
		[ "$rc" != 2 ] && ok "$key: a failing round is no configuration error ($rc)" \
			|| not_ok "$key: a failing round is no configuration error" "exit $rc: $OUT"
		if [ "$key" = delivery.max_attempts ] && [ "$v" = 1 ]; then
			assert_contains "$OUT" "sent 0, retry later 0, dead $NDEL" "$key = 1: the first failure is the last"
		else
			assert_contains "$OUT" "sent 0, retry later $NDEL, dead 0" "$key: every worklist waits for a retry"
			# the first retry waits backoff_initial (at most backoff_max), +-20 %
			bi=$($KVPSCAN -c "$c" check-config --dump | sed -n 's/^  backoff_initial = \(.*\);/\1/p')
			bm=$($KVPSCAN -c "$c" check-config --dump | sed -n 's/^  backoff_max = \(.*\);/\1/p')
			b=$((bi < bm ? bi : bm))
			n=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id = $RUN AND state = 'pending'
			    AND next_attempt_at BETWEEN now() + ($b * 0.8 - 10) * interval '1 second'
			                            AND now() + ($b * 1.2 + 1) * interval '1 second'")
			assert_eq "$NDEL" "$n" "$key = $v: the retry is due in $b s (+-20 %)"
		fi
		assert_not_contains "$OUT" "out of range" "$key: a failing round computes its retry"
		n=$(psql_q "SELECT count(*) FROM kvpscan.delivery WHERE run_id = $RUN AND state = 'sent'")
		assert_eq 0 "$n" "$key: no worklist of the failing round counts as sent" ;;
	webhook.*)
		assert_status 1 "$key: test-delivery --channel webhook" -- \
			$K test-delivery --channel webhook --to http://127.0.0.1:9/hook --id conf-extremes
		assert_contains "$OUT" "conf-extremes retry - Failed to connect" "$key: the message got as far as connecting"
		assert_not_contains "$OUT" "unusable" "$key: the webhook channel can send" ;;
	email.*)
		assert_status 1 "$key: test-delivery --channel email" -- \
			$K test-delivery --channel email --to kvp@example.invalid --id conf-extremes
		assert_contains "$OUT" "conf-extremes retry - Failed to connect" "$key: the message got as far as connecting"
		assert_not_contains "$OUT" "unusable" "$key: the email channel can send" ;;
	daemon.*)
		"$KVPSCAN" -c "$c" daemon > "$T_SCRATCH/daemon.log" 2>&1 &
		pid=$!
		i=0
		while [ $i -lt 300 ] && ! grep -q "daemon started" "$T_SCRATCH/daemon.log"; do
			sleep 0.1; i=$((i + 1))
		done
		kill -TERM $pid 2>/dev/null
		wait $pid
		rc=$?
		assert_contains "$(cat "$T_SCRATCH/daemon.log")" "daemon started" "$key = $v: the daemon starts (in $i tenths of a second)"
		assert_eq 0 "$rc" "$key = $v: the daemon stops cleanly" ;;
	report.*)
		assert_status 0 "$key: report" -- $K report --as-of $ASOF
		assert_contains "$OUT" "2025-06-15" "$key: the report is of the scan as of 2025-06-15" ;;
	*)
		not_ok "$key: no command in conf_extremes.sh uses it" "add its group to use()" ;;
	esac
}

# extra settings a group's command needs
needs() {
	case $1 in
	webhook.*) echo 'delivery.channel = "webhook"'
		echo 'webhook.url = "http://127.0.0.1:9/hook"'
		echo 'webhook.allow_insecure_http = true'
		echo "webhook.secret_file = \"$T_SCRATCH/whsec\"" ;;
	email.*) echo 'email.smtp_url = "smtp://127.0.0.1:9"'
		echo 'email.starttls = "off"' ;;
	daemon.*) echo 'daemon.catch_up = false' ;;
	esac
	return 0
}

assert_status 0 "check-config --keys" -- "$KVPSCAN" check-config --keys
printf '%s\n' "$OUT" | awk -F'\t' '$2 == "integer" || $2 == "number" { print $1, $2, $3, $4 }' > "$T_SCRATCH/keys"
nkeys=$(wc -l < "$T_SCRATCH/keys")
[ "$nkeys" -ge 20 ] && ok "the table has $nkeys numeric keys" || not_ok "the table has numeric keys" "$nkeys"
[ "$(printf '%s\n' "$OUT" | awk -F'\t' 'NF != 6' | wc -l)" = 0 ] && ok "every --keys line has 6 fields" \
	|| not_ok "every --keys line has 6 fields" "$OUT"

# lit VALUE TYPE: VALUE as a literal of TYPE (the table's number ranges are whole numbers)
lit() { if [ "$2" = number ]; then printf '%s.0' "$1"; else printf '%s' "$1"; fi; }

while read -r key type min max; do
	for v in "$min" "$max"; do
		c=$T_SCRATCH/$key.$v.conf
		{ needs "$key"; partners "$key" "$v"; echo "$key = $(lit "$v" "$type")"; } | conf "$c"
		assert_status 0 "$key = $v passes check-config" -- "$KVPSCAN" -c "$c" check-config
		use "$key" "$c" "$v"
	done
	for v in $((min - 1)) $((max + 1)); do
		c=$T_SCRATCH/$key.bad.conf
		echo "$key = $(lit "$v" "$type")" | conf "$c"
		line=$(grep -n "  ${key#*.} = " "$c" | cut -d: -f1)
		assert_status 2 "$key = $v is refused" -- "$KVPSCAN" -c "$c" check-config
		assert_contains "$OUT" "$c:$line: value $v for \"$key\" is out of range" "$key = $v: FILE:LINE and the range"
		assert_contains "$OUT" " $min to $max" "$key = $v: the hint gives the range"
	done
done < "$T_SCRATCH/keys"

finish
