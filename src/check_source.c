/* check_source.c - "kvpscan check-source": the source schema against the source contract */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_source.h"
#include "cmd.h"
#include "db.h"
#include "log.h"
#include "scan.h"
#include "sqlfiles.h"
#include "util.h"

/* ------------------------------------------------------------------ the contract */

enum ctype { CT_TEXT, CT_DATE, CT_NUMERIC, CT_BOOL };

static const char *const ctype_name[] = {"text", "date", "numeric", "boolean"};

struct ccol {
	const char *name;
	enum ctype type;
	bool optional;          /* a view may leave it out */
};

#define CS_MAXCOLS 8

struct crel {
	const char *name;
	struct ccol cols[CS_MAXCOLS];   /* ended by a NULL name */
	const char *date_col;           /* whose range is shown, or NULL */
};

/* The relations and columns of /work/shared/source-contract.md, in its order. */
static const struct crel contract[] = {
	{"office", {{"office_id", CT_TEXT, false}, {"name", CT_TEXT, false},
		    {"kommune_nr", CT_TEXT, false}, {"leader_email", CT_TEXT, false},
		    {"fallback_email", CT_TEXT, false}, {NULL, CT_TEXT, false}}, NULL},
	{"veileder", {{"veileder_id", CT_TEXT, false}, {"office_id", CT_TEXT, false},
		      {"display_name", CT_TEXT, false}, {"email", CT_TEXT, false},
		      {"active", CT_BOOL, false}, {NULL, CT_TEXT, false}}, NULL},
	{"person", {{"person_id", CT_TEXT, false}, {"case_ref", CT_TEXT, false},
		    {"birth_date", CT_DATE, false}, {"office_id", CT_TEXT, false},
		    {"veileder_id", CT_TEXT, false}, {"protection", CT_TEXT, false},
		    {NULL, CT_TEXT, false}}, NULL},
	{"payment", {{"person_id", CT_TEXT, false}, {"period_month", CT_DATE, false},
		     {"amount", CT_NUMERIC, false}, {"kind", CT_TEXT, false},
		     {NULL, CT_TEXT, false}}, "period_month"},
	{"assessment", {{"person_id", CT_TEXT, false}, {"assessed_on", CT_DATE, false},
			{"kind", CT_TEXT, false}, {"innsatsgruppe", CT_TEXT, false},
			{"self_assessment", CT_BOOL, true}, {NULL, CT_TEXT, false}}, "assessed_on"},
	{"benefit", {{"person_id", CT_TEXT, false}, {"benefit", CT_TEXT, false},
		     {"from_date", CT_DATE, false}, {"to_date", CT_DATE, false},
		     {NULL, CT_TEXT, false}}, NULL},
	{"kvp_event", {{"person_id", CT_TEXT, false}, {"event_date", CT_DATE, false},
		       {"event", CT_TEXT, false}, {"outcome", CT_TEXT, false},
		       {"veileder_id", CT_TEXT, false}, {NULL, CT_TEXT, false}}, "event_date"},
	{"participation", {{"person_id", CT_TEXT, false}, {"start_date", CT_DATE, false},
			   {"end_date", CT_DATE, false}, {"planned_hours_per_week", CT_NUMERIC, false},
			   {"next_evaluation_date", CT_DATE, false}, {"has_written_plan", CT_BOOL, false},
			   {NULL, CT_TEXT, false}}, NULL},
};

#define NRELS ((int) ARRAY_SIZE(contract))
enum { R_OFFICE, R_VEILEDER, R_PERSON, R_PAYMENT, R_ASSESSMENT, R_BENEFIT, R_EVENT, R_PARTICIPATION };

/* Base types (below domains) a column of each contract type may have. */
static bool
type_usable(enum ctype t, const char *base)
{
	static const char *const text_types[] = {"text", "varchar", "bpchar", NULL};
	static const char *const num_types[] = {"numeric", "int2", "int4", "int8", "float4", "float8", NULL};
	const char *const *list = NULL;
	int i;

	if (base == NULL)
		return false;
	switch (t) {
	case CT_TEXT: list = text_types; break;
	case CT_NUMERIC: list = num_types; break;
	case CT_DATE: return strcmp(base, "date") == 0;
	case CT_BOOL: return strcmp(base, "bool") == 0;
	}
	for (i = 0; list[i]; i++)
		if (strcmp(base, list[i]) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ the report */

typedef struct cs_problem {
	bool error;
	const char *code;
	const char *relation;       /* a contract name, or NULL for the schema */
	const char *column;         /* a contract name, or NULL */
	char *type_found;           /* UNUSABLE_TYPE */
	const char *type_expected;
	long long count;            /* rows or values concerned; -1: none */
	char *value;                /* UNKNOWN_CODE: the value (NULL with value_null) */
	bool value_null;
	char **examples;            /* DUPLICATE_KEY: case_refs or key values */
	int nexamples;
	char *message, *detail, *hint;
} cs_problem;

typedef struct cs_rel {
	bool exists, readable, failed;
	char kind;
	bool col_present[CS_MAXCOLS], col_ok[CS_MAXCOLS];
	long long rows;             /* -1: not counted */
	char *from, *to;
} cs_rel;

typedef struct cs_report {
	const char *schema;
	char *role;
	bool schema_exists;
	cs_rel rels[ARRAY_SIZE(contract)];
	cs_problem *p;
	int np, cap;
	int errors, warnings;
} cs_report;

static void
cs_init(cs_report *r, const kvp_config *cfg)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->schema = cfg->db_source_schema;
	for (i = 0; i < NRELS; i++)
		r->rels[i].rows = -1;
}

static void
cs_free(cs_report *r)
{
	int i, j;

	for (i = 0; i < r->np; i++) {
		cs_problem *p = &r->p[i];

		free(p->type_found);
		free(p->value);
		for (j = 0; j < p->nexamples; j++)
			free(p->examples[j]);
		free(p->examples);
		free(p->message);
		free(p->detail);
		free(p->hint);
	}
	free(r->p);
	for (i = 0; i < NRELS; i++) {
		free(r->rels[i].from);
		free(r->rels[i].to);
	}
	free(r->role);
}

/* A new problem in r (the report owns it); the message is printf-formatted. */
static cs_problem *
cs_add(cs_report *r, bool error, const char *code, const char *rel, const char *col,
       const char *fmt, ...) KVP_PRINTF(6, 7);

static cs_problem *
cs_add(cs_report *r, bool error, const char *code, const char *rel, const char *col,
       const char *fmt, ...)
{
	cs_problem *p;
	strbuf sb;
	va_list ap;

	if (r->np == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->p = xrealloc(r->p, (size_t) r->cap * sizeof(*r->p));
	}
	p = &r->p[r->np++];
	memset(p, 0, sizeof(*p));
	p->error = error;
	p->code = code;
	p->relation = rel;
	p->column = col;
	p->count = -1;
	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	p->message = sb_steal(&sb);
	if (error)
		r->errors++;
	else
		r->warnings++;
	return p;
}

static const char *
plural(long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static const char *
kind_name(char k)
{
	switch (k) {
	case 'r': return "table";
	case 'v': return "view";
	case 'm': return "materialized view";
	case 'f': return "foreign table";
	case 'p': return "partitioned table";
	default: return "missing";
	}
}

/* ------------------------------------------------------------------ structure */

static int
rel_index(const char *name)
{
	int i;

	for (i = 0; i < NRELS; i++)
		if (strcmp(contract[i].name, name) == 0)
			return i;
	return -1;
}

static int
col_index(int rel, const char *name)
{
	int i;

	for (i = 0; contract[rel].cols[i].name; i++)
		if (strcmp(contract[rel].cols[i].name, name) == 0)
			return i;
	return -1;
}

/* What to write in the view instead, for a column of the wrong type. */
static char *
type_hint(const struct ccol *c, const char *base)
{
	switch (c->type) {
	case CT_DATE:
		if (base && strcmp(base, "timestamptz") == 0)
			return xasprintf("cast it in the view after choosing the day's time zone:"
					 " (x AT TIME ZONE 'Europe/Oslo')::date AS %s", c->name);
		if (base && strcmp(base, "timestamp") == 0)
			return xasprintf("cast it in the view: x::date AS %s", c->name);
		return xasprintf("convert it in the view, e.g. to_date(x, 'DD.MM.YYYY') AS %s", c->name);
	case CT_NUMERIC:
		return xasprintf("cast it in the view: x::numeric AS %s", c->name);
	case CT_BOOL:
		return xasprintf("translate it in the view, e.g. (x = 'J') AS %s", c->name);
	case CT_TEXT:
		break;
	}
	return xasprintf("cast it in the view: x::text AS %s (a number loses leading zeros:"
			 " to_char(x, 'FM0000') keeps them)", c->name);
}

static char *
column_list(int rel)
{
	strbuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; contract[rel].cols[i].name; i++)
		sb_printf(&sb, "%s%s %s%s", i ? ", " : "", contract[rel].cols[i].name,
			  ctype_name[contract[rel].cols[i].type],
			  contract[rel].cols[i].optional ? " (optional)" : "");
	return sb_steal(&sb);
}

/* The catalog part: fills r->rels and adds the structural problems; 0 or -1 (query failed, logged). */
static int
cs_structure(PGconn *conn, cs_report *r)
{
	PGresult *res = NULL;
	char *names = NULL, *qschema = NULL, *qrole = NULL;
	const char *params[2];
	strbuf sb;
	int i, j, rc = -1;

	params[0] = r->schema;
	res = db_exec(conn, "checking the source schema",
		      "SELECT current_user::text, (SELECT has_schema_privilege(n.oid, 'USAGE')::text"
		      " FROM pg_catalog.pg_namespace n WHERE n.nspname = $1)", 1, params);
	if (res == NULL)
		goto done;
	r->role = xstrdup(PQgetvalue(res, 0, 0));
	qschema = PQescapeIdentifier(conn, r->schema, strlen(r->schema));
	qrole = PQescapeIdentifier(conn, r->role, strlen(r->role));
	if (qschema == NULL || qrole == NULL) {
		db_log_error(conn, NULL, "quoting the source schema's name");
		goto done;
	}
	if (PQgetisnull(res, 0, 1)) {
		cs_problem *p = cs_add(r, true, "NO_SCHEMA", NULL, NULL,
				       "source schema \"%s\" does not exist", r->schema);
		p->hint = xstrdup("create it with the contract's relations (docs/mapping/README.md),"
				  " or set database.source_schema to the schema that has them");
		rc = 0;
		goto done;
	}
	r->schema_exists = true;
	if (strcmp(PQgetvalue(res, 0, 1), "true") != 0) {
		cs_problem *p = cs_add(r, true, "NO_PRIVILEGE", NULL, NULL,
				       "permission denied for source schema \"%s\"", r->schema);
		p->detail = xasprintf("role \"%s\" has no USAGE privilege on the schema", r->role);
		p->hint = xasprintf("GRANT USAGE ON SCHEMA %s TO %s; sql/roles.sql grants it to kvpscan_reader",
				    qschema, qrole);
	}
	PQclear(res);

	sb_init(&sb);
	sb_putc(&sb, '{');
	for (i = 0; i < NRELS; i++)
		sb_printf(&sb, "%s%s", i ? "," : "", contract[i].name);
	sb_putc(&sb, '}');
	names = sb_steal(&sb);
	params[1] = names;
	res = db_exec(conn, "reading the source schema's catalog", sql_get("check_source.sql"), 2, params);
	if (res == NULL)
		goto done;
	{
		bool can_select[ARRAY_SIZE(contract)] = {false};
		bool col_select[ARRAY_SIZE(contract)][CS_MAXCOLS];
		char *found[ARRAY_SIZE(contract)][CS_MAXCOLS];
		const char *base[ARRAY_SIZE(contract)][CS_MAXCOLS];

		memset(col_select, 0, sizeof(col_select));
		memset(found, 0, sizeof(found));
		memset(base, 0, sizeof(base));
		for (i = 0; i < PQntuples(res); i++) {
			int ri = rel_index(PQgetvalue(res, i, 0)), ci;

			if (ri < 0)
				continue;
			r->rels[ri].exists = true;
			r->rels[ri].kind = PQgetvalue(res, i, 1)[0];
			can_select[ri] = strcmp(PQgetvalue(res, i, 2), "t") == 0;
			if (PQgetisnull(res, i, 3))
				continue;
			ci = col_index(ri, PQgetvalue(res, i, 3));
			if (ci < 0)
				continue;
			r->rels[ri].col_present[ci] = true;
			found[ri][ci] = PQgetvalue(res, i, 4);
			base[ri][ci] = PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5);
			col_select[ri][ci] = strcmp(PQgetvalue(res, i, 6), "t") == 0;
		}
		for (i = 0; i < NRELS; i++) {
			cs_rel *rel = &r->rels[i];
			const char *rn = contract[i].name;
			bool cols_readable = true;

			if (!rel->exists) {
				cs_problem *p = cs_add(r, true, "MISSING_RELATION", rn, NULL,
						       "relation \"%s.%s\" does not exist", r->schema, rn);
				char *cols = column_list(i);

				p->detail = xasprintf("the source contract needs %s with the columns %s", rn, cols);
				p->hint = xasprintf("create it as a view over the case system:"
						    " CREATE VIEW %s.%s AS SELECT ... (docs/mapping/README.md)",
						    qschema, rn);
				free(cols);
				continue;
			}
			for (j = 0; contract[i].cols[j].name; j++) {
				const struct ccol *c = &contract[i].cols[j];

				if (!rel->col_present[j]) {
					cs_problem *p;

					if (c->optional)
						continue;
					p = cs_add(r, true, "MISSING_COLUMN", rn, c->name,
						   "column \"%s.%s.%s\" does not exist", r->schema, rn, c->name);
					p->type_expected = ctype_name[c->type];
					p->detail = xasprintf("the source contract's %s needs %s of type %s",
							      rn, c->name, ctype_name[c->type]);
					p->hint = xasprintf("name the case system's column so in the view: ... AS %s",
							    c->name);
					continue;
				}
				if (!col_select[i][j])
					cols_readable = false;
				if (!type_usable(c->type, base[i][j])) {
					cs_problem *p = cs_add(r, true, "UNUSABLE_TYPE", rn, c->name,
							       "column \"%s.%s.%s\" has type %s, expected %s",
							       r->schema, rn, c->name, found[i][j],
							       ctype_name[c->type]);

					p->type_found = xstrdup(found[i][j]);
					p->type_expected = ctype_name[c->type];
					if (c->type == CT_DATE && base[i][j] && strncmp(base[i][j], "timestamp", 9) == 0)
						p->detail = xstrdup("a timestamp is not used as a date silently:"
								    " the day a time falls on depends on the time zone");
					else if (c->type == CT_TEXT)
						p->detail = xstrdup("kvpscan compares this column with text values");
					p->hint = type_hint(c, base[i][j]);
					continue;
				}
				rel->col_ok[j] = true;
			}
			rel->readable = can_select[i] || cols_readable;
			if (!rel->readable) {
				cs_problem *p = cs_add(r, true, "NO_PRIVILEGE", rn, NULL,
						       "permission denied for relation \"%s.%s\"", r->schema, rn);

				p->detail = xasprintf("role \"%s\" has no SELECT privilege on it", r->role);
				p->hint = xasprintf("GRANT SELECT ON %s.%s TO %s; sql/roles.sql grants every"
						    " relation of the schema to kvpscan_reader", qschema, rn, qrole);
			}
		}
	}
	rc = 0;
done:
	PQclear(res);
	PQfreemem(qschema);
	PQfreemem(qrole);
	free(names);
	return rc;
}

int
check_source_structure(PGconn *conn, const kvp_config *cfg)
{
	cs_report r;
	int i, rc = -1;

	cs_init(&r, cfg);
	if (cs_structure(conn, &r) < 0)
		goto done;
	for (i = 0; i < r.np; i++) {
		const cs_problem *p = &r.p[i];

		if (!p->error)
			continue;
		log_error("%s", p->message);
		if (p->detail)
			log_detail("%s", p->detail);
		if (p->hint)
			log_hint("%s", p->hint);
	}
	if (r.errors > 0) {
		log_error("the source schema \"%s\" breaks the source contract: %d %s; nothing is scanned",
			  r.schema, r.errors, plural(r.errors, "problem", "problems"));
		log_hint("\"kvpscan check-source\" shows every problem of the source");
		goto done;
	}
	rc = 0;
done:
	cs_free(&r);
	return rc;
}

/* ------------------------------------------------------------------ data */

/*
 * Run one data query in its own savepoint of the check's read-only
 * transaction.  A failure becomes the problem UNREADABLE of relation rel
 * (once; the relation's other checks are then skipped) and gives NULL.
 * Caller PQclear()s.
 */
static PGresult *
cs_query(PGconn *conn, const kvp_config *cfg, cs_report *r, int rel, const char *tmpl,
	 int n, const char *const *params)
{
	char *sql = db_expand(conn, cfg, tmpl);
	PGresult *res = NULL;

	if (db_command(conn, "setting a savepoint", "SAVEPOINT kvp_check", 0, NULL) < 0)
		goto done;
	res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		(void) db_command(conn, "releasing a savepoint", "RELEASE SAVEPOINT kvp_check", 0, NULL);
		goto done;
	}
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		cs_problem *p = cs_add(r, true, "UNREADABLE", contract[rel].name, NULL,
				       "could not read relation \"%s.%s\"", r->schema, contract[rel].name);

		/* data exceptions quote the values involved, which may be a person's id */
		if (state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
			p->detail = xasprintf("SQLSTATE %s; the server's message is not shown because it"
					      " may quote personal data", state);
		else {
			const char *sdetail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
			int len = sdetail ? (int) strcspn(sdetail, "\n") : 0;

			p->detail = xasprintf("%s%s%.*s (SQLSTATE %s)", msg ? msg : PQerrorMessage(conn),
					      sdetail ? ": " : "", len, sdetail ? sdetail : "",
					      state ? state : "-");
		}
		p->hint = xstrdup("a view's owner needs SELECT on what the view reads, a foreign table"
				  " a user mapping and a reachable server; run SELECT * FROM the"
				  " relation LIMIT 1 in psql as kvpscan's role to see the whole error");
		r->rels[rel].failed = true;
	}
	PQclear(res);
	res = NULL;
	(void) db_command(conn, "rolling back to a savepoint", "ROLLBACK TO SAVEPOINT kvp_check", 0, NULL);
done:
	free(sql);
	return res;
}

static bool
rel_ok(const cs_report *r, int rel)
{
	return r->rels[rel].exists && r->rels[rel].readable && !r->rels[rel].failed;
}

static bool
col_ok(const cs_report *r, int rel, const char *col)
{
	int ci = col_index(rel, col);

	return rel_ok(r, rel) && ci >= 0 && r->rels[rel].col_ok[ci];
}

static long long
ll_at(const PGresult *res, int row, int col)
{
	int64_t v = 0;

	if (PQgetisnull(res, row, col) || parse_int64(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &v) < 0)
		return 0;
	return (long long) v;
}

static void
cs_volumes(PGconn *conn, const kvp_config *cfg, cs_report *r)
{
	int i;

	for (i = 0; i < NRELS; i++) {
		cs_rel *rel = &r->rels[i];
		PGresult *res;
		char *sql;
		bool dated = contract[i].date_col && col_ok(r, i, contract[i].date_col);

		if (!rel_ok(r, i))
			continue;
		if (dated)
			sql = xasprintf("SELECT count(*), min(%s)::text, max(%s)::text FROM @src@.%s",
					contract[i].date_col, contract[i].date_col, contract[i].name);
		else
			sql = xasprintf("SELECT count(*), NULL, NULL FROM @src@.%s", contract[i].name);
		res = cs_query(conn, cfg, r, i, sql, 0, NULL);
		free(sql);
		if (res == NULL)
			continue;
		rel->rows = ll_at(res, 0, 0);
		if (!PQgetisnull(res, 0, 1))
			rel->from = xstrdup(PQgetvalue(res, 0, 1));
		if (!PQgetisnull(res, 0, 2))
			rel->to = xstrdup(PQgetvalue(res, 0, 2));
		PQclear(res);
		if (rel->rows == 0 && i != R_BENEFIT && i != R_PARTICIPATION) {
			cs_problem *p = cs_add(r, false, "EMPTY_RELATION", contract[i].name, NULL,
					       "relation \"%s.%s\" has no rows", r->schema, contract[i].name);

			p->count = 0;
			p->hint = i == R_EVENT
				? xstrdup("without documented KVP work every candidate is flagged NOT_INFORMED;"
					  " map the case system's record of it (docs/source-contract.md)")
				: xstrdup("check the view's joins and filters: a scan finds nothing it does not return");
		}
	}
}

struct keydef {
	int rel;
	const char *key;
	const char *example;    /* what the examples show: never person_id */
	const char *hint;
};

static const struct keydef keys[] = {
	{R_PERSON, "person_id", "case_ref",
	 "a person is one row: pick one case per person in the view (DISTINCT ON (person_id) ... ORDER BY"
	 " the latest case first)"},
	{R_PERSON, "case_ref", "case_ref",
	 "a worklist shows case_ref alone: use a reference that is unique per person"},
	{R_OFFICE, "office_id", "office_id",
	 "an office is one row: pick one name and address per unit number in the view"},
	{R_VEILEDER, "veileder_id", "veileder_id",
	 "a veileder is one row: an HR table with one row per employment needs the current one"
	 " (DISTINCT ON (veileder_id) ... ORDER BY the latest start first)"},
};

static void
cs_keys(PGconn *conn, const kvp_config *cfg, cs_report *r, int nexamples)
{
	char nbuf[16];
	const char *params[1] = {nbuf};
	size_t k;

	snprintf(nbuf, sizeof(nbuf), "%d", nexamples);
	for (k = 0; k < ARRAY_SIZE(keys); k++) {
		const struct keydef *kd = &keys[k];
		const char *rn = contract[kd->rel].name;
		PGresult *res;
		char *sql;
		long long values, rows, nulls;
		int i;

		if (!col_ok(r, kd->rel, kd->key) || !col_ok(r, kd->rel, kd->example))
			continue;
		sql = xasprintf(
			"WITH d AS (SELECT %s AS k, count(*) AS n FROM @src@.%s WHERE %s IS NOT NULL"
			" GROUP BY %s HAVING count(*) > 1)"
			" SELECT (SELECT count(*) FROM d), (SELECT coalesce(sum(n), 0) FROM d),"
			" (SELECT count(*) FROM @src@.%s WHERE %s IS NULL), e.ex"
			" FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT ex FROM (SELECT DISTINCT"
			" x.%s::text COLLATE \"C\" AS ex FROM @src@.%s x JOIN d ON d.k = x.%s"
			" WHERE x.%s IS NOT NULL) s ORDER BY ex LIMIT $1::int) e ON true",
			kd->key, rn, kd->key, kd->key, rn, kd->key, kd->example, rn, kd->key, kd->example);
		res = cs_query(conn, cfg, r, kd->rel, sql, 1, params);
		free(sql);
		if (res == NULL)
			continue;
		values = ll_at(res, 0, 0);
		rows = ll_at(res, 0, 1);
		nulls = ll_at(res, 0, 2);
		if (values > 0) {
			cs_problem *p = cs_add(r, true, "DUPLICATE_KEY", rn, kd->key,
					       "%s.%s is not unique: %lld %s in more than one row (%lld rows)",
					       rn, kd->key, values, plural(values, "value occurs", "values occur"),
					       rows);
			strbuf sb;

			p->count = values;
			p->examples = xcalloc((size_t) PQntuples(res) + 1, sizeof(char *));
			sb_init(&sb);
			for (i = 0; i < PQntuples(res); i++) {
				if (PQgetisnull(res, i, 3))
					continue;
				p->examples[p->nexamples++] = xstrdup(PQgetvalue(res, i, 3));
				sb_printf(&sb, "%s%s", i ? ", " : "", PQgetvalue(res, i, 3));
			}
			if (p->nexamples > 0)
				p->detail = strcmp(kd->key, kd->example) == 0
					? xasprintf("repeated %ss: %s", kd->example, sb_str(&sb))
					: xasprintf("%ss of rows with a repeated %s: %s", kd->example, kd->key, sb_str(&sb));
			sb_free(&sb);
			p->hint = xstrdup(kd->hint);
		}
		if (nulls > 0) {
			cs_problem *p = cs_add(r, false, "NULL_KEY", rn, kd->key, "%s.%s: %lld %s null",
					       rn, kd->key, nulls, plural(nulls, "row is", "rows are"));

			p->count = nulls;
			p->hint = xasprintf("the rules cannot %s such a row; leave it out of the view or give it a key",
					    kd->rel == R_PERSON ? "identify or report" : "address");
		}
		PQclear(res);
	}
}

struct codedef {
	int rel;
	const char *col;
	const char *codes;      /* the contract's codes, comma-separated; NULL: any upper-case code */
	bool nullable;
	const char *hint;
};

static const struct codedef codes[] = {
	{R_PERSON, "protection", "STRENGT_FORTROLIG,FORTROLIG,SKJERMET", true,
	 "a protection the rules do not know is no protection: the person's items would be delivered"
	 " with the case_ref; translate kode 6, kode 7 and egen ansatt in the view"},
	{R_PAYMENT, "kind", "LIVSOPPHOLD,BOUTGIFTER,NODHJELP,ANNET", false,
	 "translate the case system's payment types in the view, or list the kinds that count in"
	 " identification.payment_kinds"},
	{R_ASSESSMENT, "kind", "AEV,VEDTAK_14A", false,
	 "translate the case system's codes in the view; the rules ignore rows of other kinds"},
	{R_ASSESSMENT, "innsatsgruppe", "STANDARD_INNSATS,SITUASJONSBESTEMT_INNSATS,"
	 "SPESIELT_TILPASSET_INNSATS,GRADERT_VARIG_TILPASSET_INNSATS,VARIG_TILPASSET_INNSATS", true,
	 "translate the case system's codes in the view; a group the rules do not know is no group"
	 " (SPECIAL_NEEDS never fires on it)"},
	{R_BENEFIT, "benefit", NULL, false,
	 "the contract's benefit codes are upper case (AAP, UFORETRYGD, DAGPENGER, ...); translate them"
	 " in the view: only the codes in identification.excluded_benefits exclude a person"},
	{R_EVENT, "event", "INFORMED,ASSESSED,APPLIED,GRANTED,REJECTED,WITHDRAWN", false,
	 "translate the case system's codes in the view; the rules ignore other events"},
	{R_EVENT, "outcome", "RELEVANT,NOT_RELEVANT", true,
	 "translate the case system's codes in the view"},
};

#define CS_MAX_VALUES 10

static void
cs_codes(PGconn *conn, const kvp_config *cfg, cs_report *r)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(codes); k++) {
		const struct codedef *cd = &codes[k];
		const char *rn = contract[cd->rel].name;
		char *known = NULL, *sql = NULL;
		const char *params[1];
		PGresult *res;
		strbuf sb;
		long long other_rows = 0;
		int i, nparams = 0, other_values = 0;

		if (!col_ok(r, cd->rel, cd->col))
			continue;
		sb_init(&sb);
		if (cd->codes) {
			sb_printf(&sb, "{%s", cd->codes);
			if (cd->rel == R_PAYMENT)
				for (i = 0; i < cfg->id_payment_kinds.count; i++)
					sb_printf(&sb, ",\"%s\"", cfg->id_payment_kinds.items[i]);
			sb_putc(&sb, '}');
			known = sb_steal(&sb);
			params[0] = known;
			nparams = 1;
			/* a null is a code of its own where the contract has no null */
			sql = xasprintf("SELECT v, n FROM (SELECT %s::text AS v, count(*) AS n FROM @src@.%s WHERE %s%s%s::text <> ALL ($1::text[])"
					" GROUP BY 1) s ORDER BY n DESC, v COLLATE \"C\" NULLS FIRST",
					cd->col, rn, cd->nullable ? "" : cd->col,
					cd->nullable ? "" : " IS NULL OR ", cd->col);
		} else {
			sb_free(&sb);
			sql = xasprintf("SELECT v, n FROM (SELECT %s::text AS v, count(*) AS n FROM @src@.%s WHERE %s IS NULL"
					" OR %s::text !~ '^[A-Z0-9_]+$'"
					" GROUP BY 1) s ORDER BY n DESC, v COLLATE \"C\" NULLS FIRST",
					cd->col, rn, cd->col, cd->col);
		}
		res = cs_query(conn, cfg, r, cd->rel, sql, nparams, params);
		for (i = 0; res && i < PQntuples(res); i++) {
			long long n = ll_at(res, i, 1);
			bool isnull = PQgetisnull(res, i, 0);
			cs_problem *p;

			if (i >= CS_MAX_VALUES) {
				other_values++;
				other_rows += n;
				continue;
			}
			if (isnull)
				p = cs_add(r, false, "UNKNOWN_CODE", rn, cd->col, "%s.%s: %lld %s null, not a contract code",
					   rn, cd->col, n, plural(n, "row is", "rows are"));
			else
				p = cs_add(r, false, "UNKNOWN_CODE", rn, cd->col, "%s.%s: %lld %s '%s', not a%s contract code",
					   rn, cd->col, n, plural(n, "row says", "rows say"), PQgetvalue(res, i, 0),
					   cd->codes ? "" : "n upper-case");
			p->count = n;
			p->value_null = isnull;
			p->value = isnull ? NULL : xstrdup(PQgetvalue(res, i, 0));
			if (cd->codes) {
				char *list = xstrdup(cd->codes), *s;

				for (s = list; *s; s++)
					if (*s == ',')
						*s = ' ';
				p->detail = xasprintf("the contract's codes: %s", list);
				free(list);
			}
			p->hint = xstrdup(cd->hint);
		}
		if (other_values > 0) {
			cs_problem *p = cs_add(r, false, "UNKNOWN_CODE", rn, cd->col,
					       "%s.%s: %lld more %s say %d other values, not contract codes",
					       rn, cd->col, other_rows, plural(other_rows, "row", "rows"), other_values);

			p->count = other_rows;
			p->hint = xstrdup(cd->hint);
		}
		PQclear(res);
		free(sql);
		free(known);
	}
}

struct refdef {
	int rel;
	const char *col;
	int target;
	const char *tcol;
	const char *noun;
	bool null_counts;       /* a null is a problem of its own */
	const char *hint, *null_hint;
};

static const struct refdef refs[] = {
	{R_PERSON, "office_id", R_OFFICE, "office_id", "an office", true,
	 "their worklists have no fallback address and the report no office: is the office view complete?",
	 "every person needs a responsible office; kvpscan data-quality lists them (NO_OFFICE)"},
	{R_PERSON, "veileder_id", R_VEILEDER, "veileder_id", "a veileder", false,
	 "their items go to the office's fallback: does the HR view keep inactive and departed veiledere?",
	 NULL},
	{R_VEILEDER, "office_id", R_OFFICE, "office_id", "an office", false,
	 "is the office view complete?", NULL},
	{R_PAYMENT, "person_id", R_PERSON, "person_id", "a person", false,
	 "those payments are ignored: does the person view leave out cases the payment view keeps?",
	 NULL},
};

static void
cs_refs(PGconn *conn, const kvp_config *cfg, cs_report *r)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(refs); k++) {
		const struct refdef *rd = &refs[k];
		const char *rn = contract[rd->rel].name, *tn = contract[rd->target].name;
		PGresult *res;
		char *sql;
		long long dangling, nulls;

		if (!col_ok(r, rd->rel, rd->col) || !col_ok(r, rd->target, rd->tcol))
			continue;
		sql = xasprintf("SELECT (SELECT count(*) FROM @src@.%s x WHERE x.%s IS NOT NULL AND NOT EXISTS"
				" (SELECT 1 FROM @src@.%s y WHERE y.%s = x.%s)),"
				" (SELECT count(*) FROM @src@.%s x WHERE x.%s IS NULL)",
				rn, rd->col, tn, rd->tcol, rd->col, rn, rd->col);
		res = cs_query(conn, cfg, r, rd->rel, sql, 0, NULL);
		free(sql);
		if (res == NULL)
			continue;
		dangling = ll_at(res, 0, 0);
		nulls = ll_at(res, 0, 1);
		PQclear(res);
		if (dangling > 0) {
			cs_problem *p = cs_add(r, false, "DANGLING_REFERENCE", rn, rd->col,
					       "%s.%s: %lld %s %s not in %s", rn, rd->col, dangling,
					       plural(dangling, "row names", "rows name"), rd->noun, tn);

			p->count = dangling;
			p->hint = xstrdup(rd->hint);
		}
		if (rd->null_counts && nulls > 0) {
			cs_problem *p = cs_add(r, false, "NULL_REFERENCE", rn, rd->col, "%s.%s: %lld %s null",
					       rn, rd->col, nulls, plural(nulls, "row is", "rows are"));

			p->count = nulls;
			p->hint = xstrdup(rd->null_hint);
		}
	}
}

/* ------------------------------------------------------------------ output */

static void
print_text(const cs_report *r, FILE *out)
{
	int i;

	fprintf(out, "source schema \"%s\", role \"%s\"\n\n", r->schema, r->role ? r->role : "?");
	fprintf(out, "%-15s %-18s %12s  %s\n", "relation", "kind", "rows", "dates");
	for (i = 0; i < NRELS; i++) {
		const cs_rel *rel = &r->rels[i];
		char rows[32];

		if (rel->rows >= 0)
			snprintf(rows, sizeof(rows), "%lld", rel->rows);
		else
			snprintf(rows, sizeof(rows), "-");
		fprintf(out, "%-15s %-18s %12s", contract[i].name,
			rel->exists ? kind_name(rel->kind) : "missing", rows);
		if (rel->from && rel->to)
			fprintf(out, "  %s %s to %s", contract[i].date_col, rel->from, rel->to);
		fputc('\n', out);
	}
	for (i = 0; i < r->np; i++) {
		const cs_problem *p = &r->p[i];

		fprintf(out, "\n%s:  %s\n", p->error ? "ERROR" : "WARNING", p->message);
		if (p->detail)
			fprintf(out, "DETAIL:  %s\n", p->detail);
		if (p->hint)
			fprintf(out, "HINT:  %s\n", p->hint);
	}
	fprintf(out, "\ncontract %s: %d %s, %d %s\n", r->errors ? "broken" : "ok",
		r->errors, plural(r->errors, "error", "errors"),
		r->warnings, plural(r->warnings, "warning", "warnings"));
}

static void
print_json(const cs_report *r, FILE *out)
{
	strbuf sb;
	int i, j;

	sb_init(&sb);
	sb_puts(&sb, "{\"schema\":");
	json_escape(&sb, r->schema);
	sb_puts(&sb, ",\"role\":");
	json_escape_or_null(&sb, r->role);
	sb_printf(&sb, ",\"status\":\"%s\",\"errors\":%d,\"warnings\":%d,\"relations\":[",
		  r->errors ? "broken" : r->warnings ? "warnings" : "ok", r->errors, r->warnings);
	for (i = 0; i < NRELS; i++) {
		const cs_rel *rel = &r->rels[i];

		sb_printf(&sb, "%s{\"relation\":\"%s\",\"kind\":", i ? "," : "", contract[i].name);
		json_escape_or_null(&sb, rel->exists ? kind_name(rel->kind) : NULL);
		sb_printf(&sb, ",\"readable\":%s,\"rows\":", rel->readable && !rel->failed ? "true" : "false");
		if (rel->rows >= 0)
			sb_printf(&sb, "%lld", rel->rows);
		else
			sb_puts(&sb, "null");
		sb_puts(&sb, ",\"date_column\":");
		json_escape_or_null(&sb, contract[i].date_col);
		sb_puts(&sb, ",\"from\":");
		json_escape_or_null(&sb, rel->from);
		sb_puts(&sb, ",\"to\":");
		json_escape_or_null(&sb, rel->to);
		sb_putc(&sb, '}');
	}
	sb_puts(&sb, "],\"problems\":[");
	for (i = 0; i < r->np; i++) {
		const cs_problem *p = &r->p[i];

		sb_printf(&sb, "%s{\"severity\":\"%s\",\"code\":\"%s\",\"relation\":", i ? "," : "",
			  p->error ? "error" : "warning", p->code);
		json_escape_or_null(&sb, p->relation);
		sb_puts(&sb, ",\"column\":");
		json_escape_or_null(&sb, p->column);
		sb_puts(&sb, ",\"type_found\":");
		json_escape_or_null(&sb, p->type_found);
		sb_puts(&sb, ",\"type_expected\":");
		json_escape_or_null(&sb, p->type_expected);
		sb_puts(&sb, ",\"count\":");
		if (p->count >= 0)
			sb_printf(&sb, "%lld", p->count);
		else
			sb_puts(&sb, "null");
		if (p->code && strcmp(p->code, "UNKNOWN_CODE") == 0 && (p->value || p->value_null)) {
			sb_puts(&sb, ",\"value\":");
			json_escape_or_null(&sb, p->value);
		}
		if (p->examples) {
			sb_puts(&sb, ",\"examples\":[");
			for (j = 0; j < p->nexamples; j++) {
				if (j)
					sb_putc(&sb, ',');
				json_escape(&sb, p->examples[j]);
			}
			sb_putc(&sb, ']');
		}
		sb_puts(&sb, ",\"message\":");
		json_escape(&sb, p->message);
		sb_puts(&sb, ",\"detail\":");
		json_escape_or_null(&sb, p->detail);
		sb_puts(&sb, ",\"hint\":");
		json_escape_or_null(&sb, p->hint);
		sb_putc(&sb, '}');
	}
	sb_puts(&sb, "]}\n");
	fputs(sb_str(&sb), out);
	sb_free(&sb);
}

/* ------------------------------------------------------------------ the command */

static void
cs_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan check-source [--format text|json] [--examples N]\n\n"
		"Check the source schema (database.source_schema) against the source contract\n"
		"before any scan: every relation exists and this role can read it, every column\n"
		"exists with a usable type, keys are unique, codes are the contract's, references\n"
		"point somewhere; the rows of each relation and the dates of payments, assessments\n"
		"and events.  Reads the source in one read-only transaction and writes nothing.\n"
		"Output goes to stdout only; examples are case_refs, never person_ids.\n\n"
		"Options:\n"
		"  --format FORMAT  text (default) or json\n"
		"  --examples N     case_refs shown for each duplicate key, 0 to 100 (default 5)\n\n"
		"Exit status: 0 the contract holds (warnings are data problems a scan works\n"
		"around), 1 it is broken (a scan would fail or be wrong) or the check failed,\n"
		"2 usage.\n");
}

int
cmd_check_source(int argc, char **argv, kvp_ctx *ctx)
{
	const char *format = "text", *examples = NULL;
	const cmd_option opts[] = {
		{"format", .value = &format},
		{"examples", .value = &examples},
		{NULL}
	};
	bool json, in_tx = false;
	int64_t nexamples = 5;
	PGconn *conn = NULL;
	cs_report r;
	int rc;

	cs_init(&r, &ctx->cfg);
	rc = cmd_options(argc, argv, opts, cs_usage, NULL);
	if (rc != CMD_PROCEED)
		goto done;
	rc = KVP_EXIT_USAGE;
	if (cmd_choice("format", format, (const char *const[]) {"text", "json", NULL}) < 0)
		goto done;
	json = strcmp(format, "json") == 0;
	if (examples != NULL && parse_int64(examples, 0, 100, &nexamples) < 0) {
		log_error("invalid value for --examples: \"%s\"", examples);
		log_hint("use a whole number from 0 to 100");
		goto done;
	}
	rc = KVP_EXIT_FAILURE;
	conn = db_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;
	/* one snapshot for every count, and nothing written whatever the views do */
	if (db_command(conn, "begin transaction", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL) < 0)
		goto done;
	in_tx = true;
	if (cs_structure(conn, &r) < 0)
		goto done;
	cs_volumes(conn, &ctx->cfg, &r);
	cs_keys(conn, &ctx->cfg, &r, (int) nexamples);
	cs_codes(conn, &ctx->cfg, &r);
	cs_refs(conn, &ctx->cfg, &r);
	in_tx = false;
	if (db_rollback(conn) < 0)
		goto done;
	if (json)
		print_json(&r, stdout);
	else
		print_text(&r, stdout);
	if (fflush(stdout) != 0) {
		log_error("could not write the check of the source");
		goto done;
	}
	log_info("check-source of schema \"%s\": %d %s, %d %s", r.schema, r.errors,
		 plural(r.errors, "error", "errors"), r.warnings, plural(r.warnings, "warning", "warnings"));
	rc = r.errors ? KVP_EXIT_FAILURE : KVP_EXIT_OK;
done:
	if (in_tx)
		(void) db_rollback(conn);
	cs_free(&r);
	PQfinish(conn);
	return rc;
}
