#!/bin/sh
# systemd.sh - the units pass systemd-analyze verify and score 2.0 or lower
# ("OK") in systemd-analyze security --offline=true.
. "$top_srcdir/tests/lib/common.sh"
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "systemd-analyze not found: skipped (apt-get install systemd)"
	exit 77
fi
scratch_dir
for u in kvpscan kvpscan-run; do
	sed -e "s,@bindir@,$(dirname "$KVPSCAN"),g" -e "s,@sysconfdir@,/etc,g" \
		"$top_srcdir/systemd/$u.service.in" > "$T_SCRATCH/$u.service"
done
cp "$top_srcdir/systemd/kvpscan.timer" "$T_SCRATCH/"
assert_status 0 "systemd-analyze verify accepts the units" -- \
	systemd-analyze verify --man=no "$T_SCRATCH/kvpscan.service" "$T_SCRATCH/kvpscan-run.service" "$T_SCRATCH/kvpscan.timer"
for u in kvpscan kvpscan-run; do
	score=$(systemd-analyze security --offline=true "$T_SCRATCH/$u.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	ok_score=$(awk -v s="${score:-99}" 'BEGIN { print (s <= 2.0) ? "yes" : "no" }')
	assert_eq yes "$ok_score" "$u.service exposure $score is 2.0 or lower"
done
grep -q '^Type=notify' "$top_srcdir/systemd/kvpscan.service.in" && ok "kvpscan.service is Type=notify" || not_ok "kvpscan.service is Type=notify"
grep -q '^LoadCredential=\|^# LoadCredential=' "$top_srcdir/systemd/kvpscan.service.in" && ok "secrets by LoadCredential are documented" || not_ok "LoadCredential documented"
finish
