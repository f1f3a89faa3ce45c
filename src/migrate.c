/* migrate.c - create and upgrade kvpscan's own schema from embedded migrations */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "sqlfiles.h"
#include "util.h"

#define MIGRATION_PREFIX "migrations/"

/* Advisory lock keys: "KVPM" and a hash of the state schema's name ($1). */
#define MIGRATE_LOCK_ARGS "1263947853, hashtext($1)"

struct migration {
	int version;
	const char *name;       /* file name, e.g. "001_base.sql"; static */
	const char *text;       /* the SQL template; static */
};

static int
migration_cmp(const void *a, const void *b)
{
	const struct migration *ma = a, *mb = b;

	return (ma->version > mb->version) - (ma->version < mb->version);
}

/*
 * Collect the embedded migrations, sorted by number, into a new array
 * (caller frees *out).  Their numbers must run 1, 2, ... without gaps.
 * Returns the count, or -1 with the error logged.
 */
static int
load_migrations(struct migration **out)
{
	struct migration *list = xcalloc(sql_files_count + 1, sizeof(*list));
	size_t plen = strlen(MIGRATION_PREFIX);
	int n = 0, i;

	for (size_t f = 0; f < sql_files_count; f++) {
		const char *name = sql_files[f].name;
		const char *base;
		char digits[16];
		size_t nd;
		int64_t v;

		if (strncmp(name, MIGRATION_PREFIX, plen) != 0)
			continue;
		base = name + plen;
		nd = strspn(base, "0123456789");
		if (nd > 0 && nd < sizeof(digits))
			snprintf(digits, sizeof(digits), "%.*s", (int) nd, base);
		else
			digits[0] = '\0';
		if (base[nd] != '_' || parse_int64(digits, 1, 9999, &v) < 0) {
			log_error("embedded migration \"%s\" is not named NNN_name.sql", name);
			goto fail;
		}
		list[n].version = (int) v;
		list[n].name = base;
		list[n].text = sql_files[f].text;
		n++;
	}
	qsort(list, (size_t) n, sizeof(*list), migration_cmp);
	for (i = 0; i < n; i++) {
		if (list[i].version != i + 1) {
			log_error("embedded migrations are not numbered 1 to %d without gaps or duplicates", n);
			log_detail("found version %d in position %d", list[i].version, i + 1);
			goto fail;
		}
	}
	if (n == 0) {
		log_error("no migrations are embedded in this program");
		goto fail;
	}
	*out = list;
	return n;

fail:
	free(list);
	*out = NULL;
	return -1;
}

int
migrate_latest_version(void)
{
	struct migration *list = NULL;
	int n = load_migrations(&list);

	free(list);
	return n < 0 ? -1 : n;
}

int
migrate_current_version(PGconn *conn, const kvp_config *cfg, int *version)
{
	const char *params[1] = {cfg->db_state_schema};
	PGresult *res = NULL;
	char *sql = NULL;
	int64_t v = 0;
	int rc = -1;

	res = db_exec(conn, "looking up the schema version table",
		      "SELECT to_regclass(format('%I.schema_version', $1::text)) IS NOT NULL",
		      1, params);
	if (res == NULL)
		goto cleanup;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		*version = 0;
		rc = 0;
		goto cleanup;
	}
	PQclear(res);
	sql = db_expand(conn, cfg, "SELECT coalesce(max(version), 0) FROM @state@.schema_version");
	res = db_exec(conn, "reading the schema version", sql, 0, NULL);
	if (res == NULL)
		goto cleanup;
	if (parse_int64(PQgetvalue(res, 0, 0), 0, 1000000000, &v) < 0) {
		log_error("schema version \"%s\" is not a number", PQgetvalue(res, 0, 0));
		goto cleanup;
	}
	*version = (int) v;
	rc = 0;

cleanup:
	PQclear(res);
	free(sql);
	return rc;
}

static void
log_too_new(const kvp_config *cfg, int current, int latest)
{
	log_error("schema \"%s\" is at version %d, newer than this program knows (%d)",
		  cfg->db_state_schema, current, latest);
	log_hint("upgrade kvpscan to a release that knows version %d", current);
}

int
migrate_check(PGconn *conn, const kvp_config *cfg)
{
	int latest = migrate_latest_version();
	int current = 0;

	if (latest < 0 || migrate_current_version(conn, cfg, &current) < 0)
		return -1;
	if (current == latest)
		return 0;
	if (current > latest) {
		log_too_new(cfg, current, latest);
		return -1;
	}
	log_error("schema is at version %d, the program needs %d", current, latest);
	log_detail("the state schema is \"%s\"", cfg->db_state_schema);
	log_hint("run kvpscan migrate");
	return -1;
}

/* Take the transaction-level lock that serialises migrations of one state schema. */
static int
take_lock(PGconn *conn, const kvp_config *cfg)
{
	const char *params[1] = {cfg->db_state_schema};
	PGresult *res;
	bool got;

	res = db_exec(conn, "trying the migration lock",
		      "SELECT pg_try_advisory_xact_lock(" MIGRATE_LOCK_ARGS ")",
		      1, params);
	if (res == NULL)
		return -1;
	got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (got)
		return 0;
	log_info("waiting for another kvpscan migrate to finish");
	if (db_command(conn, "setting the lock timeout", "SET LOCAL lock_timeout = '300s'", 0, NULL) < 0)
		return -1;
	return db_command(conn, "waiting for the migration lock",
			  "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_ARGS ")",
			  1, params);
}

/* Run one migration's SQL and record it; inside the caller's transaction. 0 or -1 logged. */
static int
apply_migration(PGconn *conn, const kvp_config *cfg, const struct migration *m)
{
	char what[128];
	char vbuf[16];
	const char *params[2];
	PGresult *res = NULL;
	char *sql = db_expand(conn, cfg, m->text);
	char *ins = NULL;
	int rc = -1;

	snprintf(what, sizeof(what), "migration %s", m->name);
	/* PQexec: a migration holds several statements, which PQexecParams refuses */
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_log_error(conn, res, what);
		goto cleanup;
	}
	if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
		log_error("migration %s ended the transaction itself", m->name);
		log_hint("a migration must not contain BEGIN, COMMIT or ROLLBACK");
		goto cleanup;
	}
	PQclear(res);
	snprintf(vbuf, sizeof(vbuf), "%d", m->version);
	params[0] = vbuf;
	params[1] = m->name;
	ins = db_expand(conn, cfg, "INSERT INTO @state@.schema_version (version, name) VALUES ($1, $2)");
	res = db_exec(conn, "recording the schema version", ins, 2, params);
	if (res == NULL)
		goto cleanup;
	rc = 0;

cleanup:
	PQclear(res);
	free(sql);
	free(ins);
	return rc;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan migrate [--to N] [--status]\n\n"
		"Create kvpscan's own schema (database.state_schema) or upgrade it to the\n"
		"newest version this program knows.  Each migration runs in its own\n"
		"transaction; running it again does nothing.\n\n"
		"Options:\n"
		"  --to N      upgrade only up to version N\n"
		"  --status    print the schema's version and the newest known, change nothing\n"
		"  -h, --help  print this help\n\n"
		"Exit status: 0 success, 1 database error or a schema newer than this program,\n"
		"2 usage error.\n");
}

static int
print_status(PGconn *conn, const kvp_config *cfg, int latest)
{
	int current = 0;

	if (migrate_current_version(conn, cfg, &current) < 0)
		return KVP_EXIT_FAILURE;
	printf("schema \"%s\": current version %d, latest version %d\n",
	       cfg->db_state_schema, current, latest);
	if (current > latest) {
		log_too_new(cfg, current, latest);
		return KVP_EXIT_FAILURE;
	}
	if (current == latest)
		printf("up to date\n");
	else
		printf("%d migration%s pending: run kvpscan migrate\n",
		       latest - current, latest - current == 1 ? "" : "s");
	return KVP_EXIT_OK;
}

/*
 * Apply migrations up to target, one transaction each.  The version is
 * re-read under the lock in every transaction, so a concurrent migrate
 * never applies the same migration twice.
 */
static int
run_migrations(PGconn *conn, const kvp_config *cfg, const struct migration *list, int n, int target)
{
	int applied = 0, current = 0, iter;

	for (iter = 0; iter <= n; iter++) {
		const struct migration *m;

		if (db_begin(conn) < 0)
			return KVP_EXIT_FAILURE;
		if (take_lock(conn, cfg) < 0 || migrate_current_version(conn, cfg, &current) < 0)
			goto abort;
		if (current > n) {
			log_too_new(cfg, current, n);
			goto abort;
		}
		if (current >= target) {
			if (db_commit(conn) < 0)
				return KVP_EXIT_FAILURE;
			break;
		}
		m = &list[current];     /* version current + 1 */
		log_debug("applying migration %s", m->name);
		if (apply_migration(conn, cfg, m) < 0)
			goto abort;
		if (db_commit(conn) < 0)
			return KVP_EXIT_FAILURE;
		printf("applied migration %s (version %d)\n", m->name, m->version);
		applied++;
	}
	if (current > target) {
		log_error("schema \"%s\" is at version %d, past the requested version %d",
			  cfg->db_state_schema, current, target);
		log_hint("kvpscan does not downgrade; restore a backup taken before the upgrade");
		return KVP_EXIT_FAILURE;
	}
	if (applied == 0 && target == n)
		printf("schema \"%s\" is up to date at version %d\n", cfg->db_state_schema, current);
	else if (applied == 0)
		printf("schema \"%s\" is at version %d\n", cfg->db_state_schema, current);
	else
		printf("schema \"%s\" is now at version %d\n", cfg->db_state_schema, current);
	return KVP_EXIT_OK;

abort:
	(void) db_rollback(conn);
	log_detail("schema \"%s\" stays at the version before this migration", cfg->db_state_schema);
	return KVP_EXIT_FAILURE;
}

int
cmd_migrate(int argc, char **argv, kvp_ctx *ctx)
{
	struct migration *list = NULL;
	PGconn *conn = NULL;
	bool status = false;
	const char *to_arg = NULL;
	const cmd_option opts[] = {
		{"to", .value = &to_arg},
		{"status", .flag = &status},
		{NULL}
	};
	int64_t to = 0;
	int n, rc;

	rc = cmd_options(argc, argv, opts, usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	n = load_migrations(&list);
	if (n < 0)
		goto cleanup;
	if (to_arg && status) {
		fprintf(stderr, "kvpscan migrate: --to and --status cannot be combined\n");
		rc = KVP_EXIT_USAGE;
		goto cleanup;
	}
	if (to_arg && parse_int64(to_arg, 1, n, &to) < 0) {
		fprintf(stderr, "kvpscan migrate: --to must be a version from 1 to %d, not \"%s\"\n", n, to_arg);
		rc = KVP_EXIT_USAGE;
		goto cleanup;
	}
	conn = db_connect(&ctx->cfg);
	if (conn == NULL)
		goto cleanup;
	if (status)
		rc = print_status(conn, &ctx->cfg, n);
	else
		rc = run_migrations(conn, &ctx->cfg, list, n, to_arg ? (int) to : n);

cleanup:
	PQfinish(conn);
	free(list);
	return rc;
}
