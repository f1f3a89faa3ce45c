#!/bin/sh
# scan_rules.sh - every identification boundary, as the exact dry-run CSV line
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/lib/pg.sh"

pg_start || { echo "not ok - could not start PostgreSQL"; exit 1; }
scratch_dir
sed 's/@src@/kvp_src/g' "$top_srcdir/sql/source_schema.sql" | psql -X -q -v ON_ERROR_STOP=1
psql -X -q -v ON_ERROR_STOP=1 -f "$top_srcdir/tests/fixtures/scan_rules.sql" >/dev/null

conf() {	# conf NAME IDENTIFICATION-SETTINGS: a config file in the scratch dir
	printf 'log = { destination = "stderr"; };\nidentification = {\n%s\n};\n' "$2" >"$T_SCRATCH/$1.conf"
}
conf default ''
scan() {	# scan CONF [ARGS...]: dry-run CSV into $CSV
	c=$1; shift
	CSV=$("$KVPSCAN" -c "$T_SCRATCH/$c.conf" scan --dry-run "$@" 2>"$T_SCRATCH/stderr")
	RC=$?
}
line() {	# line CASE_REF: the CSV line of that case, or nothing
	printf '%s\n' "$CSV" | grep "^$1," || true
}
FULL=NOT_INFORMED+NOT_ASSESSED+AEV_MISSING
present() {	# present CASE_REF EXPECTED-REST-OF-LINE DESCRIPTION
	assert_eq "$1,$2" "$(line "$1")" "$3"
}
absent() {	# absent CASE_REF DESCRIPTION
	assert_eq "" "$(line "$1")" "$2"
}

scan default --as-of 2023-03-01
assert_eq 0 "$RC" "dry run exits 0"
assert_eq "case_ref,office_id,veileder_id,reasons,flags,months" "$(printf '%s\n' "$CSV" | head -n 1)" "the header is the contract's"

# working age
present AGE-18-TODAY "0301,Z1,LONG_TERM,$FULL,5" "turning 18 on D is in working age"
absent AGE-18-TOMORROW "turning 18 on D+1 is not"
present AGE-66-LAST-DAY "0301,Z1,LONG_TERM,$FULL,5" "66, turning 67 tomorrow, is in working age"
absent AGE-67-TODAY "turning 67 on D is not"
absent AGE-29FEB "born 29 February: 67 on 1 March of a common year"
absent AGE-NO-BIRTH-DATE "no birth date: never a candidate"

# months and the window
absent MONTHS-4 "exactly 4 months is not LONG_TERM"
present MONTHS-5 "0301,Z1,LONG_TERM,$FULL,5" "5 months is LONG_TERM"
present WINDOW-FIRST-MONTH "0301,Z1,LONG_TERM,$FULL,5" "the month 11 months before D's month is in the window"
absent WINDOW-13-MONTHS-AGO "the month 12 months before D's month is not"
present WINDOW-LAST-MONTH "0301,Z1,LONG_TERM,$FULL,5" "D's month counts whatever the day (dated after D)"
absent WINDOW-NEXT-MONTH "the month after D's month is ignored"
absent SEVERAL-PER-MONTH "several payments in one month count once"
absent ZERO-AMOUNT "a zero amount is not a month of assistance"
absent NEGATIVE-AMOUNT "a negative amount is not a month of assistance"
present KIND-BOUTGIFTER "0301,Z1,LONG_TERM,$FULL,5" "every payment kind counts by default"
present CONSECUTIVE-RUN-3 "0301,Z1,LONG_TERM,$FULL,7" "months need not be consecutive by default"
present CONSECUTIVE-RUN-5 "0301,Z1,LONG_TERM,$FULL,5" "a run of 5 months"

# innsatsgruppe
present SN-ONLY "0301,Z1,SPECIAL_NEEDS,$FULL,0" "spesielt tilpasset innsats without payments is SPECIAL_NEEDS"
present SN-TIE-VEDTAK-WINS "0301,Z1,SPECIAL_NEEDS,NOT_INFORMED+NOT_ASSESSED,0" "VEDTAK_14A wins a same-day tie (and the AEV counts)"
absent SN-TIE-AEV-LOSES "an AEV loses a same-day tie with VEDTAK_14A"
present SN-CONFLICT-SPES-SIT "0301,Z1,SPECIAL_NEEDS,NOT_INFORMED+NOT_ASSESSED+AEV_MISSING,0" \
	"a same-day conflict of decisions with SPESIELT among them is SPECIAL_NEEDS (not byte order)"
present SN-CONFLICT-AEV "0301,Z1,SPECIAL_NEEDS,NOT_INFORMED+NOT_ASSESSED,0" "a same-day conflict of AEVs with SPESIELT among them"
absent SN-CONFLICT-NO-SPES "a conflict with no special group is not SPECIAL_NEEDS"
absent SN-CONFLICT-LOSING-KIND "disagreeing AEVs lose to the same day's decision"
absent SN-CONFLICT-OLDER "an older day's conflict is replaced by a later decision"
present SN-SAME-TWICE "0301,Z1,SPECIAL_NEEDS,NOT_INFORMED+NOT_ASSESSED+AEV_MISSING,0" "the same group twice"
present SN-CONFLICT-NULL "0301,Z1,SPECIAL_NEEDS,NOT_INFORMED+NOT_ASSESSED+AEV_MISSING,0" "an inconclusive row beside a conclusion"
present SN-LATER-NULL "0301,Z1,SPECIAL_NEEDS,NOT_INFORMED+NOT_ASSESSED,0" "a later inconclusive AEV keeps the group"
absent SN-REPLACED "a later standard decision replaces the group"
absent SN-AFTER-D "a decision after D is ignored"
present SN-AND-LONG-TERM "0301,Z1,LONG_TERM+SPECIAL_NEEDS,$FULL,5" "both reasons"

# events and flags
present INFORMED-ON-D "0301,Z1,LONG_TERM,NOT_ASSESSED+AEV_MISSING,5" "INFORMED on D counts"
present INFORMED-AFTER-D "0301,Z1,LONG_TERM,$FULL,5" "INFORMED after D is ignored"
present INFORMED-365-DAYS "0301,Z1,LONG_TERM,NOT_ASSESSED+AEV_MISSING,5" "INFORMED 365 days before D counts"
present INFORMED-366-DAYS "0301,Z1,LONG_TERM,$FULL,5" "INFORMED 366 days before D is too old"
present ASSESSED-365-DAYS "0301,Z1,LONG_TERM,NOT_INFORMED+AEV_MISSING,5" "ASSESSED 365 days before D counts"
present ASSESSED-366-DAYS "0301,Z1,LONG_TERM,$FULL,5" "ASSESSED 366 days before D is too old"
present REJECTED-IS-ASSESSED "0301,Z1,LONG_TERM,NOT_INFORMED+AEV_MISSING,5" "a REJECTED event counts as assessed"
present AEV-ON-D "0301,Z1,LONG_TERM,NOT_INFORMED+NOT_ASSESSED,5" "an AEV on D counts, even without a group"
present AEV-AFTER-D "0301,Z1,LONG_TERM,$FULL,5" "an AEV after D is ignored"
present AEV-OLD "0301,Z1,LONG_TERM,NOT_INFORMED+NOT_ASSESSED,5" "an AEV of any age counts"
absent ALL-DONE "a candidate with no flag is not on the worklist"

# benefits
present AAP-ENDED-DAY-BEFORE "0301,Z1,LONG_TERM,$FULL,5" "AAP that ended the day before D does not exclude"
absent AAP-ENDS-ON-D "AAP ending on D excludes"
present AAP-STARTS-AFTER-D "0301,Z1,LONG_TERM,$FULL,5" "AAP starting after D does not exclude"
absent UFORETRYGD-OPEN "open-ended UFORETRYGD excludes"
present DAGPENGER-RUNNING "0301,Z1,LONG_TERM,$FULL,5" "other benefits do not exclude"

# applications and participations
absent PENDING-APPLIED "an APPLIED application is pending"
absent PENDING-GRANTED "a GRANTED one with no participation yet is pending"
present APPLIED-THEN-REJECTED "0301,Z1,LONG_TERM,NOT_INFORMED+AEV_MISSING,5" "REJECTED after APPLIED ends pending"
present APPLIED-THEN-WITHDRAWN "0301,Z1,LONG_TERM,$FULL,5" "WITHDRAWN after APPLIED ends pending"
absent APPLIED-REJECTED-SAME-DAY "a REJECTED dated the same day is not after the application: still pending"
absent APPLIED-REJECTED-AFTER-D "a REJECTED after D is ignored: still pending"
absent REJECTED-THEN-APPLIED "a REJECTED before the application does not end it"
present APPLIED-AFTER-D "0301,Z1,LONG_TERM,$FULL,5" "an application after D is ignored"
present GRANTED-THEN-PARTICIPATED "0301,Z1,LONG_TERM,$FULL,5" "a participation after the grant ends pending; ended, it does not exclude"
absent PART-ACTIVE "an active participation excludes"
absent PART-ENDS-ON-D "a participation ending on D is active"
present PART-ENDED-DAY-BEFORE "0301,Z1,LONG_TERM,$FULL,5" "a participation that ended the day before D does not exclude by default"
present PART-STARTS-AFTER-D "0301,Z1,LONG_TERM,$FULL,5" "a participation starting after D is ignored"

# routing and order
present VEIL-OTHER "0301,Z2,LONG_TERM,$FULL,5" "routed to the person's active veileder"
present VEIL-INACTIVE "0301,,LONG_TERM,$FULL,5" "an inactive veileder: the office fallback"
present VEIL-NONE "0301,,LONG_TERM,$FULL,5" "no veileder: the office fallback"
present VEIL-UNKNOWN "0301,,LONG_TERM,$FULL,5" "a veileder not in the table: the office fallback"
present OFFICE-B "0402,Z5,LONG_TERM,$FULL,5" "another office"
present PROTECTED "0301,Z1,LONG_TERM,$FULL,5" "a protected person is scanned like anyone"
absent NO-PAYMENTS "no payments and no special needs: not a recipient"
body=$(printf '%s\n' "$CSV" | tail -n +2)
sorted=$(printf '%s\n' "$body" | awk -F, '{ print $2 "\t" ($3 == "" ? "~" : "!" $3) "\t" $1 "\t" $0 }' \
	| LC_ALL=C sort | cut -f 4)
assert_eq "$sorted" "$body" "sorted by office_id, veileder_id (empty last), case_ref"
assert_eq "VEIL-INACTIVE VEIL-NONE VEIL-UNKNOWN OFFICE-B OFFICE-B-NONE" \
	"$(printf '%s\n' "$body" | tail -n 5 | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')" \
	"fallback lines close each office"
assert_eq 42 "$(printf '%s\n' "$body" | wc -l | tr -d ' ')" "42 flagged candidates in all (every present line above)"

# 29 February, the day before: still 66
scan default --as-of 2023-02-28
present AGE-29FEB "0301,Z1,LONG_TERM,$FULL,5" "born 29 February: still 66 on 28 February"

# formats
scan default --as-of 2023-03-01 --include-excluded
assert_eq "case_ref,office_id,veileder_id,reasons,flags,months,excluded" "$(printf '%s\n' "$CSV" | head -n 1)" "--include-excluded adds a column"
assert_eq "AAP-ENDS-ON-D,0301,Z1,LONG_TERM,$FULL,5,EXCLUDED_BENEFIT" "$(line AAP-ENDS-ON-D)" "an excluded person with its code"
assert_eq "PART-ACTIVE,0301,Z1,LONG_TERM,$FULL,5,IN_PROGRAMME" "$(line PART-ACTIVE)" "IN_PROGRAMME"
assert_eq "PENDING-APPLIED,0301,Z1,LONG_TERM,$FULL,5,PENDING" "$(line PENDING-APPLIED)" "PENDING"
assert_eq "MONTHS-5,0301,Z1,LONG_TERM,$FULL,5," "$(line MONTHS-5)" "a candidate has an empty excluded column"
scan default --as-of 2023-03-01 --format json
assert_contains "$CSV" '{"case_ref":"VEIL-NONE","office_id":"0301","veileder_id":null,"reasons":["LONG_TERM"],"flags":["NOT_INFORMED","NOT_ASSESSED","AEV_MISSING"],"months":5}' "json: null veileder, arrays"
assert_contains "$CSV" '"reasons":["LONG_TERM","SPECIAL_NEEDS"]' "json: both reasons"
assert_eq 42 "$(printf '%s\n' "$CSV" | grep -c '"case_ref"')" "json carries the same rows"
if command -v jq >/dev/null 2>&1; then
	assert_eq 42 "$(printf '%s\n' "$CSV" | jq length)" "json parses"
fi
scan default --as-of 2023-03-01 --format table
assert_contains "$CSV" "(fallback)" "table marks the fallback"
assert_contains "$CSV" "(42 rows)" "table counts its rows"

# usage errors
assert_status 2 "invalid --as-of exits 2" -- "$KVPSCAN" -c "$T_SCRATCH/default.conf" scan --dry-run --as-of 2023-02-30
assert_contains "$OUT" "YYYY-MM-DD" "the message shows the expected format"
assert_status 2 "invalid --format exits 2" -- "$KVPSCAN" -c "$T_SCRATCH/default.conf" scan --dry-run --format xml
assert_status 0 "scan --help" -- "$KVPSCAN" scan --help
assert_contains "$OUT" "--dry-run" "help lists the options"

# configuration-driven rules
conf kinds 'payment_kinds = [ "LIVSOPPHOLD" ];'
scan kinds --as-of 2023-03-01
assert_eq 0 "$RC" "scan with payment_kinds"
absent KIND-BOUTGIFTER "payment_kinds = [LIVSOPPHOLD]: BOUTGIFTER does not count"
present MONTHS-5 "0301,Z1,LONG_TERM,$FULL,5" "payment_kinds: LIVSOPPHOLD still counts"
conf consec 'consecutive = true;'
scan consec --as-of 2023-03-01
absent CONSECUTIVE-RUN-3 "consecutive: a longest run of 3 is not LONG_TERM"
present CONSECUTIVE-RUN-5 "0301,Z1,LONG_TERM,$FULL,5" "consecutive: a run of 5 is"
conf prev 'exclude_previous_participation = true;'
scan prev --as-of 2023-03-01 --include-excluded
assert_eq "PART-ENDED-DAY-BEFORE,0301,Z1,LONG_TERM,$FULL,5,RIGHT_USED" "$(line PART-ENDED-DAY-BEFORE)" "exclude_previous_participation: RIGHT_USED"
assert_eq "GRANTED-THEN-PARTICIPATED,0301,Z1,LONG_TERM,$FULL,5,RIGHT_USED" "$(line GRANTED-THEN-PARTICIPATED)" "RIGHT_USED after a granted participation"
present PART-STARTS-AFTER-D "0301,Z1,LONG_TERM,$FULL,5,"  "a future participation is no used right"
conf thresholds 'long_term_more_than = 3; min_age = 19; informed_valid_days = 366;'
scan thresholds --as-of 2023-03-01
present MONTHS-4 "0301,Z1,LONG_TERM,$FULL,4" "long_term_more_than = 3: 4 months are LONG_TERM"
absent AGE-18-TODAY "min_age = 19: 18 is too young"
present INFORMED-366-DAYS "0301,Z1,LONG_TERM,NOT_ASSESSED+AEV_MISSING,5" "informed_valid_days = 366"
conf groups 'special_needs_groups = [ "VARIG_TILPASSET_INNSATS", "STANDARD_INNSATS" ]; excluded_benefits = [ "DAGPENGER" ];'
scan groups --as-of 2023-03-01
absent SN-ONLY "special_needs_groups replaces the default group"
present SN-TIE-AEV-LOSES "0301,Z1,SPECIAL_NEEDS,NOT_INFORMED+NOT_ASSESSED,0" "special_needs_groups: the winning VEDTAK_14A's group counts"
absent DAGPENGER-RUNNING "excluded_benefits = [DAGPENGER]"
present UFORETRYGD-OPEN "0301,Z1,LONG_TERM,$FULL,5" "excluded_benefits replaces the defaults"

# the scan wrote nothing
assert_eq "" "$(psql_q "SELECT nspname FROM pg_namespace WHERE nspname = 'kvpscan'")" "a dry run creates nothing"

finish
