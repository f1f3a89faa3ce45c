#!/usr/bin/env bash
# deb.sh - the Debian package, as an operator gets it: built from a clean
# export of HEAD (git archive, so no uncommitted file leaks in) with
# dpkg-buildpackage -us -uc -b, which runs the unit tests; lintian with no
# error and no warning; installed with apt-get install ./kvpscan_*.deb; the
# installed program, conffile (root:kvpscan 0640), SQL, man pages, spool
# directory and units (systemd-analyze verify, security exposure <= 1.5,
# neither enabled nor started) checked; an edited conffile kept over a
# reinstall; then purged, leaving nothing of it but the system user.
#
# Run by scripts/test (phase deb) as root: it installs and purges the package
# kvpscan on this machine, so it refuses to start when kvpscan is already
# installed (KVP_DEB_REPLACE=1 to allow it).  Prints ok/not ok lines and
# "deb: N passed, M failed".
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
export DEBIAN_FRONTEND=noninteractive
MAX_EXPOSURE=1.5
UNITS="kvpscan.service kvpscan-run.service kvpscan.timer"
UNITDIR=/lib/systemd/system

if [ "$(id -u)" != 0 ]; then
	not_ok "deb.sh runs as root" "it installs and purges the package; run scripts/test as root"
	finish
fi
missing=""
for t in git dpkg-buildpackage dh lintian apt-get systemd-analyze runuser; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	not_ok "the tools to build and test a package are here" "missing:$missing
HINT: apt-get install debhelper dpkg-dev fakeroot lintian systemd (scripts/deps.sh KVP_TEST_DEPS)"
	finish
fi
if dpkg-query -W -f='${Status}' kvpscan 2>/dev/null | grep -q ' installed$' && [ -z "${KVP_DEB_REPLACE:-}" ]; then
	not_ok "kvpscan is not installed before the test" "this test would replace and purge it
HINT: apt-get purge kvpscan first, or set KVP_DEB_REPLACE=1"
	finish
fi

scratch_dir
we_installed=no
t_cleanup_hook() {	# never leave the package behind, even when a check failed
	if [ "$we_installed" = yes ] && dpkg-query -W -f='${Status}' kvpscan 2>/dev/null | grep -q 'installed'; then
		apt-get purge -y -qq kvpscan >/dev/null 2>&1
	fi
}

# ---------------------------------------------------------------- build
version=$(sed -n 's/^AC_INIT(\[kvpscan\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
src=$T_SCRATCH/kvpscan-$version
mkdir -p "$src"
if ! git -C "$top_srcdir" archive HEAD | tar -x -C "$src"; then
	not_ok "git archive HEAD exports the tree" "is $top_srcdir a git checkout?"
	finish
fi
[ -d "$src/debian" ] && ok "the export of HEAD has debian/" || not_ok "the export of HEAD has debian/" "commit debian/ first"
deb_version=$(cd "$src" && dpkg-parsechangelog -S Version 2>/dev/null)
assert_eq "$version" "${deb_version%-*}" "debian/changelog's upstream version is configure.ac's AC_INIT version"

start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" timeout 900 dpkg-buildpackage -us -uc -b) >"$T_SCRATCH/build.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "dpkg-buildpackage -us -uc -b builds from a clean export ($(($(date +%s) - start)) s)"
else
	not_ok "dpkg-buildpackage -us -uc -b builds from a clean export" "exit status $rc; last lines:
$(tail -n 40 "$T_SCRATCH/build.log")"
	finish
fi
unit_pass=$(sed -n 's/^# PASS: *//p' "$T_SCRATCH/build.log" | head -n 1)
unit_fail=$(sed -n 's/^# FAIL: *//p' "$T_SCRATCH/build.log" | head -n 1)
[ "${unit_pass:-0}" -gt 0 ] && [ "${unit_fail:-1}" -eq 0 ] &&
	ok "the package build ran the unit tests ($unit_pass passed)" ||
	not_ok "the package build ran the unit tests" "PASS: ${unit_pass:-none}, FAIL: ${unit_fail:-none}"
grep -q '^PASS: tests/integration/' "$T_SCRATCH/build.log" &&
	not_ok "the package build runs no integration test (no PostgreSQL there)" ||
	ok "the package build runs no integration test (no PostgreSQL there)"

deb=$(ls "$T_SCRATCH"/kvpscan_"$deb_version"_*.deb 2>/dev/null | head -n 1)
changes=$(ls "$T_SCRATCH"/kvpscan_"$deb_version"_*.changes 2>/dev/null | head -n 1)
if [ -z "$deb" ] || [ -z "$changes" ]; then
	not_ok "the build made a .deb and a .changes" "$(ls "$T_SCRATCH")"
	finish
fi
ok "the build made $(basename "$deb")"

# ---------------------------------------------------------------- lintian
lint=$(lintian --fail-on error,warning "$changes" 2>&1)
rc=$?
tags=$(printf '%s\n' "$lint" | grep -E '^[EW]: ')
[ "$rc" -eq 0 ] && [ -z "$tags" ] && ok "lintian: no error, no warning" ||
	not_ok "lintian: no error, no warning" "exit status $rc
$lint"

# ---------------------------------------------------------------- install
cd "$T_SCRATCH" || exit 1
we_installed=yes
assert_status 0 "apt-get install ./$(basename "$deb")" -- apt-get install -y "./$(basename "$deb")"
status=$(dpkg-query -W -f='${Status}' kvpscan 2>/dev/null)
assert_eq "install ok installed" "$status" "dpkg says kvpscan is installed"

assert_eq /usr/bin/kvpscan "$(command -v kvpscan)" "kvpscan is /usr/bin/kvpscan"
assert_status 0 "the installed kvpscan --version" -- /usr/bin/kvpscan --version
assert_eq "kvpscan $version" "$OUT" "kvpscan --version says $version"

getent passwd kvpscan >/dev/null && ok "the system user kvpscan exists" || not_ok "the system user kvpscan exists"
uid=$(id -u kvpscan 2>/dev/null)
[ -n "$uid" ] && [ "$uid" -lt 1000 ] && ok "kvpscan is a system uid ($uid)" || not_ok "kvpscan is a system uid" "uid ${uid:-none}"
assert_eq /usr/sbin/nologin "$(getent passwd kvpscan | cut -d: -f7)" "kvpscan has no login shell"

conf=/etc/kvpscan/kvpscan.conf
dpkg-query -W -f='${Conffiles}\n' kvpscan | grep -q "^ $conf " &&
	ok "$conf is a conffile" || not_ok "$conf is a conffile" "$(dpkg-query -W -f='${Conffiles}\n' kvpscan)"
assert_eq "root:kvpscan 640" "$(stat -c '%U:%G %a' "$conf" 2>&1)" "$conf is root:kvpscan 0640"
assert_status 0 "kvpscan check-config on the installed conffile, as root" -- kvpscan check-config
assert_contains "$OUT" "$conf" "check-config read $conf (the default path)"
assert_status 0 "kvpscan check-config as the user kvpscan (runuser)" -- runuser -u kvpscan -- kvpscan check-config
assert_status 2 "kvpscan check-config as nobody cannot read the conffile" -- runuser -u nobody -- kvpscan check-config
assert_contains "$OUT" "Permission denied" "nobody is refused by the file mode"

for f in roles.sql source_schema.sql generate.sql; do
	[ -s "/usr/share/kvpscan/$f" ] && ok "/usr/share/kvpscan/$f" || not_ok "/usr/share/kvpscan/$f is installed"
done
grep -q '@src@' /usr/share/kvpscan/source_schema.sql &&
	not_ok "the installed source_schema.sql is the psql copy (no @src@)" ||
	ok "the installed source_schema.sql is the psql copy (no @src@)"
for m in man8/kvpscan.8.gz man5/kvpscan.conf.5.gz; do
	[ -f "/usr/share/man/$m" ] && ok "man page /usr/share/man/$m" || not_ok "man page /usr/share/man/$m"
done
[ -f /usr/share/doc/kvpscan/README.Debian.gz ] && ok "README.Debian is installed" || not_ok "README.Debian is installed"
[ -f /usr/share/doc/kvpscan/copyright ] && ok "the copyright file is installed" || not_ok "the copyright file is installed"

spool=/var/spool/kvpscan
assert_eq "kvpscan:kvpscan 2750" "$(stat -c '%U:%G %a' "$spool" 2>&1)" "$spool is kvpscan:kvpscan 2750"
assert_status 0 "the user kvpscan sends a test message through the spool channel (the default)" -- \
	runuser -u kvpscan -- kvpscan test-delivery --channel spool --id deb-test
[ -f "$spool/deb-test.json" ] && ok "the test message is in $spool" || not_ok "the test message is in $spool" "$(ls -la "$spool")"

# ---------------------------------------------------------------- units
paths=""
for u in $UNITS; do
	[ -f "$UNITDIR/$u" ] && ok "$UNITDIR/$u is installed" || not_ok "$UNITDIR/$u is installed"
	paths="$paths $UNITDIR/$u"
done
# shellcheck disable=SC2086
assert_status 0 "systemd-analyze verify accepts the installed units" -- systemd-analyze verify --man=no $paths
enabled=$(find /etc/systemd/system -name 'kvpscan*' 2>/dev/null)
assert_eq "" "$enabled" "no unit is enabled (no symlink below /etc/systemd/system)"
if [ -d /run/systemd/system ]; then
	for u in $UNITS; do
		assert_eq inactive "$(systemctl is-active "$u" 2>/dev/null)" "$u is not started"
	done
fi
for u in kvpscan.service kvpscan-run.service; do
	score=$(systemd-analyze security --offline=true "$UNITDIR/$u" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	low=$(awk -v s="${score:-99}" -v m="$MAX_EXPOSURE" 'BEGIN { print (s + 0 <= m + 0) ? "yes" : "no" }')
	assert_eq yes "$low" "installed $u exposure ${score:-unknown} is $MAX_EXPOSURE or lower"
done

# ---------------------------------------------------------------- upgrade
echo '# edited by deb.sh' >>"$conf"
assert_status 0 "apt-get install --reinstall over an edited conffile" -- \
	apt-get install -y --reinstall -o Dpkg::Options::=--force-confold "./$(basename "$deb")"
grep -q '^# edited by deb.sh$' "$conf" && ok "the operator's edit of $conf is kept" || not_ok "the operator's edit of $conf is kept"
assert_eq "root:kvpscan 640" "$(stat -c '%U:%G %a' "$conf" 2>&1)" "$conf is still root:kvpscan 0640"

# ---------------------------------------------------------------- purge
dpkg -L kvpscan >"$T_SCRATCH/files" 2>/dev/null
assert_status 0 "apt-get purge -y kvpscan" -- apt-get purge -y kvpscan
status=$(dpkg-query -W -f='${Status}' kvpscan 2>/dev/null)
case $status in "" | *not-installed) ok "dpkg knows nothing of kvpscan after the purge" ;;
*) not_ok "dpkg knows nothing of kvpscan after the purge" "status: $status" ;;
esac
left=""
while IFS= read -r f; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	# a directory stays when another package owns it too (/usr/bin,
	# /lib/systemd/system) or it holds others' files ("/.", /lib on a merged
	# /usr); the package's own directories are checked by name below
	if [ -d "$f" ]; then
		dpkg-query -S "$f" >/dev/null 2>&1 && continue
		[ -n "$(ls -A "$f" 2>/dev/null)" ] && continue
	fi
	left="$left $f"
done <"$T_SCRATCH/files"
assert_eq "" "$left" "no file or directory of the package is left"
for d in /etc/kvpscan /var/spool/kvpscan /var/lib/kvpscan /var/log/kvpscan /usr/share/kvpscan \
	/usr/share/doc/kvpscan /usr/lib/sysusers.d/kvpscan.conf; do
	[ -e "$d" ] && not_ok "$d is gone after the purge" "$(ls -la "$d")" || ok "$d is gone after the purge"
done
state=$(ls /var/lib/systemd/deb-systemd-helper-enabled/ /var/lib/systemd/deb-systemd-helper-masked/ 2>/dev/null | grep kvpscan)
assert_eq "" "$state" "no deb-systemd-helper state of the units is left"
# Debian keeps system users after a purge (their uid may still own files)
getent passwd kvpscan >/dev/null && ok "the system user kvpscan stays, as Debian policy allows" ||
	ok "the system user kvpscan was removed"
we_installed=no
finish
