/* db.h - PostgreSQL connections and small query helpers over libpq */
#ifndef KVP_DB_H
#define KVP_DB_H

#include <stdbool.h>
#include <libpq-fe.h>
#include "conf.h"

/*
 * Connect as the config says (conninfo, password file, connect timeout,
 * statement timeout, application_name=kvpscan, TimeZone=Europe/Oslo).
 * Logs the failure with a hint and returns NULL.  Caller PQfinish()es.
 */
PGconn *db_connect(const kvp_config *cfg);

/*
 * Run a parameterised statement; returns the result when its status is
 * COMMAND_OK or TUPLES_OK, otherwise logs the server's message (what is the
 * statement's purpose given in `what`) and returns NULL.  Caller PQclear()s.
 */
PGresult *db_exec(PGconn *conn, const char *what, const char *sql,
		  int nparams, const char *const *params);

/* Like db_exec but discards the result: 0 on success, -1 logged. */
int db_command(PGconn *conn, const char *what, const char *sql,
	       int nparams, const char *const *params);

/*
 * Expand a SQL template: every "@src@" becomes the quoted source schema,
 * every "@state@" the quoted state schema.  Caller frees.
 */
char *db_expand(PGconn *conn, const kvp_config *cfg, const char *tmpl);

/*
 * The statement sql with each parameter $1..$n written in as a quoted
 * literal (NULL for a NULL value), outside quotes and comments: for a
 * statement that cannot take parameters, such as CREATE VIEW.  Returns NULL
 * logged when sql names a parameter beyond n.  Caller frees.
 */
char *db_inline_params(PGconn *conn, const char *sql, int n, const char *const *params);

/* Log a libpq error for `what` with the server's DETAIL and HINT. */
void db_log_error(PGconn *conn, const PGresult *res, const char *what);

/* BEGIN / COMMIT / ROLLBACK: 0 or -1 logged. */
int db_begin(PGconn *conn);
int db_commit(PGconn *conn);
int db_rollback(PGconn *conn);

/*
 * The run date in the configured time zone as YYYY-MM-DD, computed by the
 * server; writes into out[11].  0 or -1 logged.
 */
int db_today(PGconn *conn, const kvp_config *cfg, char out[11]);

/* Check an --as-of argument (NULL means none given); logs a usage error and returns false when malformed. */
bool as_of_arg_valid(const char *arg);

/* The run's as-of date into out[11]: arg when given, else db_today(); 0 or -1 logged. */
int db_as_of(PGconn *conn, const kvp_config *cfg, const char *arg, char out[11]);

#endif
