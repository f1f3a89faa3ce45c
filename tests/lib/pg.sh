# pg.sh - a throwaway PostgreSQL cluster for tests and the demo (sourced)
# Source common.sh first in tests: its exit trap stops the cluster.
#
#   pg_start          initdb (from a cached template) in a temp dir, start on a
#                     unix socket only, create database kvp_test; exports
#                     PGHOST, PGPORT, PGUSER, PGDATABASE and PG_DIR
#   pg_stop           stop the server and remove its directory (also at exit)
#   pg_restart_stop / pg_restart_start   stop and start the same cluster
#   psql_q SQL        run SQL, print unaligned tuples only
#
# As root the server runs as the "postgres" user (initdb refuses root).

PG_BINDIR=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

pg__as() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg__owner() {
	if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$@"; fi
}

pg_start() {
	local cache tmpl
	if [ ! -x "$PG_BINDIR/initdb" ]; then
		echo "pg.sh: no PostgreSQL server binaries found (apt-get install postgresql)" >&2
		return 1
	fi
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		echo "pg.sh: running as root needs the postgres user (apt-get install postgresql)" >&2
		return 1
	fi
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kvpscan-pg.XXXXXX")
	chmod 755 "$PG_DIR"
	mkdir -p "$PG_DIR/sock"
	# initdb once per build tree and copy: it is the slow part
	cache=${KVP_PG_CACHE:-${TMPDIR:-/tmp}/kvpscan-pgcache-$(id -u)}
	tmpl=$cache/template-$(basename "$(dirname "$PG_BINDIR")")
	if [ ! -f "$tmpl/PG_VERSION" ]; then
		mkdir -p "$cache"
		local t=$tmpl.$$
		mkdir -p "$t" && chmod 755 "$cache" && pg__owner "$t"
		pg__as "$PG_BINDIR/initdb" -D "$t" -U postgres -A trust -E UTF8 \
			--locale=C.UTF-8 --no-sync >"$cache/initdb.log" 2>&1 || {
			cat "$cache/initdb.log" >&2; rm -rf "$t"; return 1; }
		mv "$t" "$tmpl" 2>/dev/null || rm -rf "$t"
	fi
	cp -a "$tmpl" "$PG_DIR/data"
	pg__owner "$PG_DIR"
	chmod 700 "$PG_DIR/data"
	export PGHOST="$PG_DIR/sock" PGPORT=5432 PGUSER=postgres PGDATABASE=kvp_test
	unset PGPASSWORD PGSERVICE PGHOSTADDR
	pg_restart_start || return 1
	"$PG_BINDIR/createdb" kvp_test || return 1
}

pg_restart_start() {
	pg__as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-k $PG_DIR/sock -c listen_addresses= -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c unix_socket_permissions=0777" \
		start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
}

pg_restart_stop() {
	pg__as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -w -t 60 -m fast stop >/dev/null
}

pg_stop() {
	if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
		pg__as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -w -t 30 -m immediate stop >/dev/null 2>&1
		rm -rf "$PG_DIR"
	fi
	PG_DIR=
}

psql_q() {
	psql -X -q -v ON_ERROR_STOP=1 -At -c "$1"
}
