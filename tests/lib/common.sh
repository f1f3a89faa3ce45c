# common.sh - assertions for kvpscan's shell tests (sourced, POSIX sh + bash)
# Each test script: . "$top_srcdir/tests/lib/common.sh"; checks; then `finish`.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${KVPSCAN:=$top_builddir/src/kvpscan}"
T_PASS=0
T_FAIL=0
T_NAME=$(basename "$0" .sh)

ok() {	# ok DESCRIPTION
	T_PASS=$((T_PASS + 1))
	echo "ok - $1"
}

not_ok() {	# not_ok DESCRIPTION [DETAIL]
	T_FAIL=$((T_FAIL + 1))
	echo "not ok - $1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'
	return 0
}

assert_eq() {	# assert_eq EXPECTED ACTUAL DESCRIPTION
	if [ "$1" = "$2" ]; then ok "$3"; else
		not_ok "$3" "expected: [$1]
actual:   [$2]"
	fi
}

assert_contains() {	# assert_contains HAYSTACK NEEDLE DESCRIPTION
	case "$1" in
	*"$2"*) ok "$3" ;;
	*) not_ok "$3" "expected to find [$2] in:
$1" ;;
	esac
}

assert_not_contains() {	# assert_not_contains HAYSTACK NEEDLE DESCRIPTION
	case "$1" in
	*"$2"*) not_ok "$3" "did not expect [$2] in:
$1" ;;
	*) ok "$3" ;;
	esac
}

assert_status() {	# assert_status EXPECTED DESCRIPTION -- COMMAND...; output in $OUT
	local want=$1 desc=$2 got
	shift 2
	[ "$1" = "--" ] && shift
	OUT=$("$@" 2>&1)
	got=$?
	if [ "$got" = "$want" ]; then ok "$desc"; else
		not_ok "$desc" "exit status $got, expected $want; output:
$OUT"
	fi
}

finish() {	# print the summary and exit with the test's result
	echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ] && [ "$T_PASS" -gt 0 ]
	exit $?
}

# A fresh scratch directory for this test in $T_SCRATCH, removed at exit.
# Call it plainly (not in $(...)): scratch_dir; cd "$T_SCRATCH"
T_SCRATCH=
scratch_dir() {
	T_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/kvpscan-$T_NAME.XXXXXX")
	chmod 755 "$T_SCRATCH"
}

# Cleanup at exit: the test's own hook, the PostgreSQL cluster, the scratch dir.
t_cleanup() {
	if command -v t_cleanup_hook >/dev/null 2>&1; then t_cleanup_hook; fi
	if command -v pg_stop >/dev/null 2>&1; then pg_stop; fi
	if [ -n "$T_SCRATCH" ]; then rm -rf "$T_SCRATCH"; fi
}
trap t_cleanup EXIT

# Daemon slots a few seconds from now, in tests that start a daemon.
# They are picked in Europe/Oslo, except from an hour before to an hour after a
# change of its UTC offset: in the hour the clocks fall back a wall-clock slot
# runs only at its first occurrence (docs/daemon.md), so a slot picked "in 4
# seconds" in the repeated hour would run tomorrow.  There the slots are picked
# in UTC.  The daylight-saving rules themselves are tested with fixed instants
# in tests/unit/test_schedule.c.
slot_zone() {	# slot_zone: the zone name to put in daemon.timezone
	local now
	now=$(date +%s)
	if [ "$(TZ=Europe/Oslo date -d "@$((now - 3700))" +%z)" = "$(TZ=Europe/Oslo date -d "@$((now + 3700))" +%z)" ]
	then echo Europe/Oslo; else echo UTC; fi
}
SLOT_ZONE=$(slot_zone)
wall_in() {	# wall_in SECONDS [DATE-FORMAT]: SLOT_ZONE's wall clock SECONDS from now (default HH:MM:SS)
	TZ=$SLOT_ZONE date -d "@$(( $(date +%s) + $1 ))" "+${2:-%H:%M:%S}"
}
