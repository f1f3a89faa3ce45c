/* demo.c - kvpscan demo-data: fill the source schema with deterministic generated data */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "sqlfiles.h"
#include "util.h"

#define STEP_MARKER "-- step:"

/* The contract's relations, in load order; demo-data fills only plain tables. */
static const char *const source_tables[] = {
	"office", "veileder", "person", "payment", "assessment", "benefit",
	"kvp_event", "participation"
};

struct demo_opts {
	int64_t persons;
	int64_t months;
	int64_t seed;
	int64_t offices;
	char as_of[11];
	bool replace;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan demo-data [--persons N] [--months M] [--seed S] [--as-of DATE]\n"
		"                         [--offices K] [--replace]\n\n"
		"Create the source schema (database.source_schema) as tables and fill it with\n"
		"generated, realistic-looking but synthetic data.  The same options always give\n"
		"the same rows.  For demos, tests and benchmarks: never run it against a\n"
		"municipality's real source.\n\n"
		"Options:\n"
		"  --persons N   persons with a social-assistance case (default 100)\n"
		"  --months M    months of payment history before the as-of date (default 12)\n"
		"  --seed S      seed of the generator (default 1)\n"
		"  --as-of DATE  the date the data is anchored at, YYYY-MM-DD (default today)\n"
		"  --offices K   NAV offices (default 5)\n"
		"  --replace     empty the source tables first; without it a schema that holds\n"
		"                data is refused\n"
		"  -h, --help    print this help\n\n"
		"Exit status: 0 success, 1 database error or refused, 2 usage error.\n");
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Run a multi-statement SQL text (no parameters) with PQexec; 0 or -1 logged. */
static int
exec_script(PGconn *conn, const char *what, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		db_log_error(conn, res, what);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/*
 * Refuse to touch a source schema whose contract relations are not plain
 * tables: a municipality's views may be updatable and write through to its
 * case system.  0 when safe, -1 logged.
 */
static int
check_plain_tables(PGconn *conn, const kvp_config *cfg)
{
	const char *params[1] = {cfg->db_source_schema};
	PGresult *res;
	int rc = 0;

	res = db_exec(conn, "checking the source schema's relations",
		      "SELECT c.relname, c.relkind FROM pg_catalog.pg_class c "
		      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		      "WHERE n.nspname = $1 AND c.relkind <> 'r' AND c.relname = ANY (ARRAY["
		      "'office', 'veileder', 'person', 'payment', 'assessment', 'benefit', "
		      "'kvp_event', 'participation']) ORDER BY 1",
		      1, params);
	if (res == NULL)
		return -1;
	if (PQntuples(res) > 0) {
		log_error("source schema \"%s\" holds %d contract relation%s that %s not plain tables",
			  cfg->db_source_schema, PQntuples(res), PQntuples(res) == 1 ? "" : "s",
			  PQntuples(res) == 1 ? "is" : "are");
		log_detail("\"%s\" has relkind '%s'", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		log_hint("demo-data only fills its own tables; point database.source_schema at a scratch schema");
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* Count the rows of every source table into counts[]; 0 or -1 logged. */
static int
count_rows(PGconn *conn, const kvp_config *cfg, int64_t counts[ARRAY_SIZE(source_tables)])
{
	strbuf sb;
	char *sql = NULL;
	PGresult *res = NULL;
	size_t t;
	int rc = -1;

	sb_init(&sb);
	sb_puts(&sb, "SELECT ");
	for (t = 0; t < ARRAY_SIZE(source_tables); t++)
		sb_printf(&sb, "%s(SELECT count(*) FROM @src@.%s)", t ? ", " : "", source_tables[t]);
	sql = db_expand(conn, cfg, sb_str(&sb));
	res = db_exec(conn, "counting the source rows", sql, 0, NULL);
	if (res == NULL)
		goto cleanup;
	for (t = 0; t < ARRAY_SIZE(source_tables); t++)
		if (parse_int64(PQgetvalue(res, 0, (int) t), 0, INT64_MAX, &counts[t]) < 0)
			goto cleanup;
	rc = 0;

cleanup:
	PQclear(res);
	free(sql);
	sb_free(&sb);
	return rc;
}

/* Empty every source table (--replace); 0 or -1 logged. */
static int
truncate_source(PGconn *conn, const kvp_config *cfg)
{
	strbuf sb;
	char *sql;
	size_t t;
	int rc;

	sb_init(&sb);
	sb_puts(&sb, "TRUNCATE ");
	for (t = 0; t < ARRAY_SIZE(source_tables); t++)
		sb_printf(&sb, "%s@src@.%s", t ? ", " : "", source_tables[t]);
	sql = db_expand(conn, cfg, sb_str(&sb));
	rc = db_command(conn, "emptying the source tables", sql, 0, NULL);
	free(sql);
	sb_free(&sb);
	return rc;
}

/*
 * Run generate.sql section by section ("-- step: what" starts each), each
 * one statement with the five parameters.  0 or -1 logged.
 */
static int
run_generator(PGconn *conn, const kvp_config *cfg, const struct demo_opts *o)
{
	static const Oid types[5] = {20 /* int8 */, 23 /* int4 */, 23, 1082 /* date */, 23};
	char p_seed[24], p_persons[24], p_months[24], p_offices[24];
	const char *params[5] = {p_seed, p_persons, p_months, o->as_of, p_offices};
	const char *tmpl = sql_get("generate.sql");
	char *text = NULL;
	const char *p;
	strbuf step, what;
	int rc = -1, nsteps = 0;

	sb_init(&step);
	sb_init(&what);
	if (tmpl == NULL) {
		log_error("generate.sql is not embedded in this program");
		goto cleanup;
	}
	snprintf(p_seed, sizeof(p_seed), "%" PRId64, o->seed);
	snprintf(p_persons, sizeof(p_persons), "%" PRId64, o->persons);
	snprintf(p_months, sizeof(p_months), "%" PRId64, o->months);
	snprintf(p_offices, sizeof(p_offices), "%" PRId64, o->offices);
	text = db_expand(conn, cfg, tmpl);

	/* markers count only at the start of a line */
	p = strncmp(text, STEP_MARKER, strlen(STEP_MARKER)) == 0 ? text : strstr(text, "\n" STEP_MARKER);
	if (p != NULL && *p == '\n')
		p++;
	while (p != NULL) {
		const char *eol = strchr(p, '\n');
		const char *next;
		PGresult *res;
		double t0;

		if (eol == NULL)
			break;
		sb_reset(&what);
		sb_append(&what, p + strlen(STEP_MARKER), (size_t) (eol - p - (ptrdiff_t) strlen(STEP_MARKER)));
		next = strstr(eol, "\n" STEP_MARKER);
		sb_reset(&step);
		sb_append(&step, eol + 1, next ? (size_t) (next - eol) : strlen(eol + 1));
		t0 = now_seconds();
		res = PQexecParams(conn, sb_str(&step), 5, types, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
			char label[160];

			snprintf(label, sizeof(label), "demo data step \"%s\"", sb_str(&what) + 1);
			db_log_error(conn, res, label);
			PQclear(res);
			goto cleanup;
		}
		log_debug("demo data step%s: %s rows in %.2f s", sb_str(&what),
			  PQcmdTuples(res)[0] ? PQcmdTuples(res) : "no", now_seconds() - t0);
		PQclear(res);
		nsteps++;
		p = next ? next + 1 : NULL;
	}
	if (nsteps == 0) {
		log_error("generate.sql holds no steps");
		goto cleanup;
	}
	rc = 0;

cleanup:
	free(text);
	sb_free(&step);
	sb_free(&what);
	return rc;
}

/* Check a whole-number option's argument (NULL: not given) into *out; prints why not. */
static bool
int_option(const char *arg, int64_t min, int64_t max, int64_t *out, const char *rule)
{
	if (arg == NULL || parse_int64(arg, min, max, out) == 0)
		return true;
	fprintf(stderr, "kvpscan demo-data: %s, not \"%s\"\n", rule, arg);
	return false;
}

/* Parse the options into o; CMD_PROCEED, or a KVP_EXIT_* code to return (help, usage error). */
static int
parse_options(int argc, char **argv, struct demo_opts *o)
{
	const char *persons = NULL, *months = NULL, *seed = NULL, *as_of = NULL, *offices = NULL;
	const cmd_option opts[] = {
		{"persons", .value = &persons},
		{"months", .value = &months},
		{"seed", .value = &seed},
		{"as-of", .value = &as_of},
		{"offices", .value = &offices},
		{"replace", .flag = &o->replace},
		{NULL}
	};
	int rc;

	rc = cmd_options(argc, argv, opts, usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	if (!int_option(persons, 1, 5000000, &o->persons, "--persons must be a whole number from 1 to 5000000")
	    || !int_option(months, 1, 120, &o->months, "--months must be a whole number from 1 to 120")
	    || !int_option(seed, -1000000000000LL, 1000000000000LL, &o->seed,
			   "--seed must be a whole number (at most 12 digits)")
	    || !int_option(offices, 1, 999, &o->offices, "--offices must be a whole number from 1 to 999"))
		return KVP_EXIT_USAGE;
	if (as_of != NULL) {
		if (!valid_iso_date(as_of)) {
			fprintf(stderr, "kvpscan demo-data: --as-of must be a date as YYYY-MM-DD, not \"%s\"\n", as_of);
			return KVP_EXIT_USAGE;
		}
		snprintf(o->as_of, sizeof(o->as_of), "%s", as_of);
	}
	return CMD_PROCEED;
}

int
cmd_demo_data(int argc, char **argv, kvp_ctx *ctx)
{
	const kvp_config *cfg = &ctx->cfg;
	struct demo_opts o = {.persons = 100, .months = 12, .seed = 1, .offices = 5, .as_of = "",
			      .replace = false};
	int64_t counts[ARRAY_SIZE(source_tables)];
	PGconn *conn = NULL;
	char *schema_sql = NULL;
	double t0 = now_seconds();
	bool in_tx = false;
	int rc;
	size_t t;

	rc = parse_options(argc, argv, &o);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (strcmp(cfg->db_source_schema, cfg->db_state_schema) == 0) {
		log_error("the source schema and the state schema are both \"%s\"", cfg->db_source_schema);
		log_hint("set database.source_schema and database.state_schema to different schemas");
		return KVP_EXIT_USAGE;
	}
	if (sql_get("source_schema.sql") == NULL) {
		log_error("source_schema.sql is not embedded in this program");
		return KVP_EXIT_FAILURE;
	}

	conn = db_connect(cfg);
	if (conn == NULL)
		goto cleanup;
	if (o.as_of[0] == '\0' && db_today(conn, cfg, o.as_of) < 0)
		goto cleanup;
	/* one transaction: a failure leaves the source schema as it was */
	if (db_begin(conn) < 0)
		goto cleanup;
	in_tx = true;
	/* a big load is not a scan: no statement timeout; memory for sorts and indexes */
	if (db_command(conn, "setting up the session",
		       "SELECT set_config('statement_timeout', '0', true), "
		       "set_config('temp_buffers', '64MB', true), "
		       "set_config('work_mem', '64MB', true), "
		       "set_config('maintenance_work_mem', '256MB', true)", 0, NULL) < 0)
		goto cleanup;
	if (check_plain_tables(conn, cfg) < 0)
		goto cleanup;
	schema_sql = db_expand(conn, cfg, sql_get("source_schema.sql"));
	if (exec_script(conn, "creating the source schema", schema_sql) < 0)
		goto cleanup;
	if (count_rows(conn, cfg, counts) < 0)
		goto cleanup;
	for (t = 0; t < ARRAY_SIZE(source_tables); t++) {
		if (counts[t] > 0 && !o.replace) {
			log_error("source schema \"%s\" already holds data", cfg->db_source_schema);
			log_detail("table \"%s\" has %" PRId64 " rows", source_tables[t], counts[t]);
			log_hint("use --replace to empty the source tables first");
			goto cleanup;
		}
	}
	if (o.replace && truncate_source(conn, cfg) < 0)
		goto cleanup;
	if (run_generator(conn, cfg, &o) < 0)
		goto cleanup;
	/* the generator dropped the secondary indexes; this builds them again */
	if (exec_script(conn, "creating the source indexes", schema_sql) < 0)
		goto cleanup;
	for (t = 0; t < ARRAY_SIZE(source_tables); t++) {
		char *sql = xasprintf("ANALYZE @src@.%s", source_tables[t]);
		char *exp = db_expand(conn, cfg, sql);
		int r = db_command(conn, "analyzing the source tables", exp, 0, NULL);

		free(exp);
		free(sql);
		if (r < 0)
			goto cleanup;
	}
	if (count_rows(conn, cfg, counts) < 0)
		goto cleanup;
	in_tx = false;
	if (db_commit(conn) < 0)
		goto cleanup;

	printf("demo data in \"%s\" (seed %" PRId64 ", as of %s, %" PRId64 " months): "
	       "%" PRId64 " offices, %" PRId64 " veiledere, %" PRId64 " persons, %" PRId64 " payments, "
	       "%" PRId64 " assessments, %" PRId64 " benefits, %" PRId64 " kvp_events, "
	       "%" PRId64 " participations in %.1f s\n",
	       cfg->db_source_schema, o.seed, o.as_of, o.months,
	       counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], counts[7],
	       now_seconds() - t0);
	rc = KVP_EXIT_OK;

cleanup:
	if (in_tx)
		(void) db_rollback(conn);
	free(schema_sql);
	PQfinish(conn);
	return rc;
}
