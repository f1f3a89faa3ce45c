/* db.c - PostgreSQL connections and small query helpers over libpq */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

static void
notice_processor(void *arg, const char *message)
{
	(void) arg;
	log_debug("server: %.*s", (int) strcspn(message, "\n"), message);
}

PGconn *
db_connect(const kvp_config *cfg)
{
	const char *keys[8];
	const char *vals[8];
	char timeout[32];
	char options[160];
	char wm[32] = "";
	char *password = NULL;
	bool failed = false;
	PGconn *conn = NULL;
	int n = 0;

	password = secret_read(cfg->db_password_file, "db_password", &failed);
	if (failed)
		return NULL;
	snprintf(timeout, sizeof(timeout), "%d", cfg->db_connect_timeout);
	/*
	 * jit off: kvpscan's statements take well under a second each, less than
	 * compiling them would cost.  work_mem: the scan hashes every payment of
	 * the window at once; spilled to disk it takes twice the time.
	 */
	if (cfg->db_work_mem_mb > 0)
		snprintf(wm, sizeof(wm), " -c work_mem=%dMB", cfg->db_work_mem_mb);
	snprintf(options, sizeof(options), "-c statement_timeout=%ds -c TimeZone=%s -c jit=off%s",
		 cfg->db_statement_timeout, cfg->dmn_timezone, wm);

	keys[n] = "dbname"; vals[n++] = cfg->db_conninfo;
	keys[n] = "application_name"; vals[n++] = "kvpscan";
	keys[n] = "connect_timeout"; vals[n++] = timeout;
	keys[n] = "options"; vals[n++] = options;
	if (password) {
		keys[n] = "password";
		vals[n++] = password;
	}
	keys[n] = NULL; vals[n] = NULL;

	/* expand_dbname = 1 lets "dbname" carry a whole conninfo string or URI */
	conn = PQconnectdbParams(keys, vals, 1);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		const char *msg = conn ? PQerrorMessage(conn) : "out of memory";

		log_error("could not connect to the database: %.*s",
			  (int) strcspn(msg, "\n"), msg);
		log_hint("check database.conninfo in the config file, or PGHOST and PGDATABASE, and that the server is running");
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, notice_processor, NULL);
	return conn;
}

void
db_log_error(PGconn *conn, const PGresult *res, const char *what)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (msg == NULL) {
		msg = PQerrorMessage(conn);
		log_error("%s failed: %.*s", what, (int) strcspn(msg, "\n"), msg);
		return;
	}
	/*
	 * Data exceptions (22) and integrity violations (23) quote the values
	 * involved, which may be a person's id: log only what failed where.
	 */
	if (state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)) {
		const char *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
		const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);

		log_error("%s failed: SQLSTATE %s", what, state);
		log_detail("table %s, constraint %s, column %s; the server's message is not logged because it may quote personal data",
			   table ? table : "-", constraint ? constraint : "-", column ? column : "-");
		log_hint("the PostgreSQL server log has the full message");
		return;
	}
	log_error("%s failed: %s", what, msg);
	if (detail)
		log_detail("%s", detail);
	if (hint)
		log_hint("%s", hint);
	else if (state && strcmp(state, "42501") == 0)
		log_hint("sql/roles.sql grants the kvpscan role what it needs; run it as the database owner");
}

PGresult *
db_exec(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	db_log_error(conn, res, what);
	PQclear(res);
	return NULL;
}

int
db_command(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_exec(conn, what, sql, nparams, params);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

char *
db_expand(PGconn *conn, const kvp_config *cfg, const char *tmpl)
{
	char *src = PQescapeIdentifier(conn, cfg->db_source_schema, strlen(cfg->db_source_schema));
	char *state = PQescapeIdentifier(conn, cfg->db_state_schema, strlen(cfg->db_state_schema));
	const char *p = tmpl;
	strbuf sb;

	sb_init(&sb);
	while (*p) {
		if (strncmp(p, "@src@", 5) == 0) {
			sb_puts(&sb, src ? src : "\"kvp_src\"");
			p += 5;
		} else if (strncmp(p, "@state@", 7) == 0) {
			sb_puts(&sb, state ? state : "\"kvpscan\"");
			p += 7;
		} else {
			sb_putc(&sb, *p++);
		}
	}
	PQfreemem(src);
	PQfreemem(state);
	return sb_steal(&sb);
}

/* Copy a quoted run ('...' or "...", the doubled quote inside it) from *pp into sb. */
static void
copy_quoted(strbuf *sb, const char **pp)
{
	const char *p = *pp;
	char q = *p;

	sb_putc(sb, *p++);
	while (*p) {
		if (*p == q && p[1] == q) {
			sb_putc(sb, *p++);
			sb_putc(sb, *p++);
		} else if (*p == q) {
			sb_putc(sb, *p++);
			break;
		} else {
			sb_putc(sb, *p++);
		}
	}
	*pp = p;
}

char *
db_inline_params(PGconn *conn, const char *sql, int n, const char *const *params)
{
	const char *p = sql;
	strbuf sb;
	bool ident = false;	/* the previous character continues an identifier */

	sb_init(&sb);
	while (*p) {
		if (*p == '\'' || *p == '"') {
			copy_quoted(&sb, &p);
			ident = false;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				sb_putc(&sb, *p++);
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");
			size_t len = end ? (size_t) (end + 2 - p) : strlen(p);

			sb_append(&sb, p, len);
			p += len;
		} else if (*p == '$' && !ident && p[1] >= '0' && p[1] <= '9') {
			long k = 0;
			char *lit;

			for (p++; *p >= '0' && *p <= '9' && k <= n; p++)
				k = k * 10 + (*p - '0');
			if (k < 1 || k > n) {
				log_error("statement parameter $%ld has no value (%d given)", k, n);
				sb_free(&sb);
				return NULL;
			}
			if (params[k - 1] == NULL) {
				sb_puts(&sb, "NULL");
				continue;
			}
			lit = PQescapeLiteral(conn, params[k - 1], strlen(params[k - 1]));
			if (lit == NULL) {
				db_log_error(conn, NULL, "quoting a statement parameter");
				sb_free(&sb);
				return NULL;
			}
			sb_puts(&sb, lit);
			PQfreemem(lit);
		} else {
			ident = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
				|| (*p >= '0' && *p <= '9') || *p == '_' || *p == '$'
				|| (unsigned char) *p >= 0x80;
			sb_putc(&sb, *p++);
		}
	}
	return sb_steal(&sb);
}

int
db_begin(PGconn *conn)
{
	return db_command(conn, "begin transaction", "BEGIN", 0, NULL);
}

int
db_commit(PGconn *conn)
{
	return db_command(conn, "commit", "COMMIT", 0, NULL);
}

int
db_rollback(PGconn *conn)
{
	return db_command(conn, "rollback", "ROLLBACK", 0, NULL);
}

int
db_today(PGconn *conn, const kvp_config *cfg, char out[11])
{
	const char *params[1] = {cfg->dmn_timezone};
	PGresult *res = db_exec(conn, "computing today's date",
				"SELECT to_char((now() AT TIME ZONE $1)::date, 'YYYY-MM-DD')",
				1, params);

	if (res == NULL)
		return -1;
	snprintf(out, 11, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

bool
as_of_arg_valid(const char *arg)
{
	if (arg == NULL || valid_iso_date(arg))
		return true;
	log_error("invalid value for --as-of: \"%s\"", arg);
	log_hint("give a date as YYYY-MM-DD, e.g. 2024-03-01");
	return false;
}

int
db_as_of(PGconn *conn, const kvp_config *cfg, const char *arg, char out[11])
{
	if (arg == NULL)
		return db_today(conn, cfg, out);
	snprintf(out, 11, "%s", arg);
	return 0;
}
