#!/bin/sh
# privacy_log.sh - no person id, fødselsnummer or name reaches a log line, even
# when the database reports an error that quotes one, or under --verbose
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
CONF=$T_SCRATCH/kvpscan.conf
printf 'log = { destination = "stderr"; };\ndelivery = { channel = "spool"; };\nspool = { directory = "%s/spool"; };\n' \
	"$T_SCRATCH" >"$CONF"
mkdir -p "$T_SCRATCH/spool"
k() { "$KVPSCAN" -c "$CONF" "$@"; }
assert_status 0 "migrate" -- k migrate
assert_status 0 "demo data" -- k demo-data --persons 400 --seed 11 --as-of 2024-06-15

# the personal data a log line must never hold
psql_q "SELECT person_id FROM kvp_src.person UNION ALL SELECT case_ref FROM kvp_src.person
        UNION ALL SELECT to_char(birth_date, 'YYYY-MM-DD') FROM kvp_src.person WHERE birth_date IS NOT NULL
        UNION ALL SELECT display_name FROM kvp_src.veileder" | sort -u > "$T_SCRATCH/secrets"
assert_eq yes "$([ "$(wc -l < "$T_SCRATCH/secrets")" -gt 400 ] && echo yes)" "the personal data to look for was collected"

# a failing statement whose server message quotes a person id (SQLSTATE 23505)
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE FUNCTION public.dup_candidate() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN
  RAISE unique_violation USING MESSAGE = 'duplicate person ' || NEW.person_id,
        DETAIL = 'Key (person_id)=(' || NEW.person_id || ') already exists.';
END $$;
CREATE TRIGGER dup_candidate BEFORE INSERT ON kvpscan.candidate
  FOR EACH ROW EXECUTE FUNCTION public.dup_candidate();
SQL
assert_status 1 "a scan that hits an integrity error fails" -- k -v scan --as-of 2024-06-15
printf '%s\n' "$OUT" > "$T_SCRATCH/log1"
assert_contains "$OUT" "SQLSTATE 23505" "the error names the SQLSTATE"
assert_contains "$OUT" "not logged" "the error says why the message is withheld"
psql_q "DROP TRIGGER dup_candidate ON kvpscan.candidate" >/dev/null

# a normal run, with debugging output, and a delivery
assert_status 0 "scan with --verbose" -- k -v scan --as-of 2024-06-15
printf '%s\n' "$OUT" > "$T_SCRATCH/log2"
assert_status 0 "deliver with --verbose" -- k -v deliver
printf '%s\n' "$OUT" > "$T_SCRATCH/log3"

leaks=$(cat "$T_SCRATCH"/log1 "$T_SCRATCH"/log2 "$T_SCRATCH"/log3 | grep -F -f "$T_SCRATCH/secrets" | head -n 5)
assert_eq "" "$leaks" "no log line holds a person id, case_ref, birth date or veileder name"
finish
