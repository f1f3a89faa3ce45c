# deps.sh - install what kvpscan needs to build, test and demo (sourced)
# Debian 12 package names.  Installs only what is missing; needs root for that.
KVP_DEPS="build-essential autoconf automake pkg-config libpq-dev libconfig-dev
libcurl4-openssl-dev libssl-dev check postgresql python3 python3-aiosmtpd
openssl valgrind ca-certificates"

# only the tests need these: a browser to render the HTML report, systemd-analyze,
# libfaketime to run the tests that read the clock at chosen instants
KVP_TEST_DEPS="chromium systemd faketime cppcheck clang-tools debhelper dpkg-dev fakeroot lintian"

# kvp_install_deps [EXTRA_PACKAGES...]
kvp_install_deps() {
	local missing="" p
	for p in $KVP_DEPS "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "kvpscan: missing Debian packages:$missing" >&2
		echo "HINT: run this script as root (sudo), or: sudo apt-get install$missing" >&2
		return 1
	fi
	echo "== installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
		echo "kvpscan: apt-get install failed for:$missing" >&2; return 1; }
	# the Debian postgresql package starts a system cluster; kvpscan's demo and tests use their own
	return 0
}

# kvp_build BUILDDIR [configure args...]: configure (once) and make in BUILDDIR
kvp_build() {
	local bdir=$1
	shift
	(cd "$KVP_TOP" && { [ -x configure ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi; }) || return 1
	mkdir -p "$bdir"
	(cd "$bdir" && { [ -f Makefile ] || "$KVP_TOP/configure" -q "$@"; } && make -j"$(nproc)" >/dev/null) || {
		echo "kvpscan: build failed in $bdir" >&2; return 1; }
}
