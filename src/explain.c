/* explain.c - "kvpscan explain CASE_REF": why one person is or is not flagged */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "scan.h"
#include "sqlfiles.h"

static void
explain_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan explain CASE_REF [--as-of YYYY-MM-DD]\n\n"
		"Show, for one case, each identification rule with the facts behind it:\n"
		"age, the months of assistance and the payments ignored, the current\n"
		"innsatsgruppe, benefits, KVP events, participations, exclusions, the\n"
		"flags and where the worklist item goes.  Prints to stdout only.\n\n"
		"Options:\n"
		"  --as-of DATE  explain as of this date (default today in Europe/Oslo)\n");
}

/* The text of "-- @query name" in explain.sql, expanded; caller frees, NULL if missing. */
static char *
explain_query(PGconn *conn, const kvp_config *cfg, const char *name)
{
	const char *all = sql_get("explain.sql");
	char marker[64];
	const char *start, *end;
	char *piece, *sql;

	snprintf(marker, sizeof(marker), "-- @query %s\n", name);
	start = all ? strstr(all, marker) : NULL;
	if (start == NULL)
		return NULL;
	start += strlen(marker);
	end = strstr(start, "-- @query ");
	if (end == NULL)
		end = start + strlen(start);
	piece = xmalloc((size_t) (end - start) + 1);
	memcpy(piece, start, (size_t) (end - start));
	piece[end - start] = '\0';
	sql = db_expand(conn, cfg, piece);
	free(piece);
	return sql;
}

static PGresult *
explain_exec(PGconn *conn, const kvp_config *cfg, const char *name, int n, const char *const *params)
{
	char *sql = explain_query(conn, cfg, name);
	PGresult *res;

	if (sql == NULL) {
		log_error("explain query \"%s\" is missing", name);
		return NULL;
	}
	res = db_exec(conn, "explain query", sql, n, params);
	free(sql);
	return res;
}

static const char *
list_or(const kvp_strlist *l, strbuf *sb, const char *none)
{
	int i;

	sb_reset(sb);
	for (i = 0; i < l->count; i++) {
		if (i)
			sb_puts(sb, ", ");
		sb_puts(sb, l->items[i]);
	}
	return l->count ? sb_str(sb) : none;
}

/* What every section of one explanation reads. */
struct ex {
	PGconn *conn;
	const kvp_config *cfg;
	PGresult *who;          /* the person query's row */
	const char *as_of;
	const char *person_id;
	scan_params sp;
	strbuf sb;              /* scratch for lists */
	int64_t agev;           /* age on D, -1 when the birth date is missing */
};

static void
ex_age(struct ex *e)
{
	const kvp_config *c = e->cfg;
	const char *age = PQgetvalue(e->who, 0, 3);

	printf("\nWorking age (%d to %d inclusive)\n", c->id_min_age, c->id_max_age);
	if (age[0] == '\0') {
		printf("  birth date missing: not in working age\n");
		return;
	}
	parse_int64(age, INT64_MIN, INT64_MAX, &e->agev);
	printf("  born %s, age %s on %s: %s\n", PQgetvalue(e->who, 0, 2), age, e->as_of,
	       e->agev >= c->id_min_age && e->agev <= c->id_max_age ? "in working age" : "NOT in working age");
}

static int
ex_payments(struct ex *e)
{
	const kvp_config *c = e->cfg;
	const char *p[4] = {e->person_id, e->as_of, e->sp.num[0], e->sp.arrays[0]};
	PGresult *res = explain_exec(e->conn, e->cfg, "payments", 4, p);
	strbuf months;
	int i, counted = 0;

	if (res == NULL)
		return -1;
	sb_init(&months);
	printf("\nLONG_TERM: more than %d months with assistance among the %d months ending %.7s%s\n",
	       c->id_long_term_more_than, c->id_window_months, e->as_of,
	       c->id_consecutive ? " (the longest run of consecutive months must exceed it too)" : "");
	printf("  payment kinds counted: %s\n", list_or(&c->id_payment_kinds, &e->sb, "all"));
	for (i = 0; i < PQntuples(res); i++) {
		const char *m = PQgetvalue(res, i, 0);
		size_t l = strlen(m);

		if (strcmp(PQgetvalue(res, i, 3), "counted") != 0)
			continue;
		if (months.len < l || strcmp(sb_str(&months) + months.len - l, m) != 0) {
			if (months.len)
				sb_putc(&months, ' ');
			sb_puts(&months, m);
			counted++;
		}
	}
	printf("  months counted (%d): %s\n", counted, counted ? sb_str(&months) : "none");
	for (i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 3), "counted") != 0)
			printf("  ignored: %s %s kr %s: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
	sb_free(&months);
	PQclear(res);
	return 0;
}

static int
ex_assessments(struct ex *e)
{
	const char *p[2] = {e->person_id, e->as_of};
	PGresult *res = explain_exec(e->conn, e->cfg, "assessments", 2, p);
	bool conflict = false;
	int i;

	if (res == NULL)
		return -1;
	printf("\nSPECIAL_NEEDS: the current innsatsgruppe is one of %s\n",
	       list_or(&e->cfg->id_special_needs_groups, &e->sb, "(none configured)"));
	if (PQntuples(res) == 0)
		printf("  no assessments\n");
	for (i = 0; i < PQntuples(res); i++) {
		printf("  %s %-10s %-34s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
		if (strstr(PQgetvalue(res, i, 3), "ASSESSMENT_CONFLICT") != NULL)
			conflict = true;
	}
	if (conflict)
		printf("  ASSESSMENT_CONFLICT: the latest day's rows disagree; SPECIAL_NEEDS if any of them\n"
		       "  says a special-needs group (the doubt falls on the side of the right);\n"
		       "  a data-quality problem: correct the assessment in the case system\n");
	PQclear(res);
	return 0;
}

static int
ex_benefits(struct ex *e)
{
	const char *p[3] = {e->person_id, e->as_of, e->sp.arrays[2]};
	PGresult *res = explain_exec(e->conn, e->cfg, "benefits", 3, p);
	int i;

	if (res == NULL)
		return -1;
	printf("\nBenefits (excluding when running on D: %s)\n",
	       list_or(&e->cfg->id_excluded_benefits, &e->sb, "none"));
	if (PQntuples(res) == 0)
		printf("  none\n");
	for (i = 0; i < PQntuples(res); i++)
		printf("  %-16s %s to %s: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
	PQclear(res);
	return 0;
}

static int
ex_events(struct ex *e)
{
	const kvp_config *c = e->cfg;
	char num[2][24];
	const char *p[4] = {e->person_id, e->as_of, num[0], num[1]};
	PGresult *res;
	int i;

	snprintf(num[0], sizeof(num[0]), "%d", c->id_informed_valid_days);
	snprintf(num[1], sizeof(num[1]), "%d", c->id_assessed_valid_days);
	res = explain_exec(e->conn, e->cfg, "events", 4, p);
	if (res == NULL)
		return -1;
	printf("\nKVP events (informed counts for %d days, assessed for %d)\n",
	       c->id_informed_valid_days, c->id_assessed_valid_days);
	if (PQntuples(res) == 0)
		printf("  none\n");
	for (i = 0; i < PQntuples(res); i++)
		printf("  %s %-10s %-13s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
	PQclear(res);
	return 0;
}

static int
ex_participations(struct ex *e)
{
	const char *p[2] = {e->person_id, e->as_of};
	PGresult *res = explain_exec(e->conn, e->cfg, "participations", 2, p);
	int i;

	if (res == NULL)
		return -1;
	printf("\nKVP participations%s\n",
	       e->cfg->id_exclude_previous_participation ? " (an ended one excludes: RIGHT_USED)" : "");
	if (PQntuples(res) == 0)
		printf("  none\n");
	for (i = 0; i < PQntuples(res); i++)
		printf("  %s to %s: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	PQclear(res);
	return 0;
}

/* The participation checks (participation_checks.sql, in kvp_part) for this person; NULL logged. */
static PGresult *
ex_part_checks_query(struct ex *e)
{
	bool has_sa = false;
	const char *pc[3] = {e->person_id, e->as_of, NULL};

	if (scan_participation_checks(e->conn, e->cfg, e->as_of, &has_sa) < 0)
		return NULL;
	pc[2] = has_sa ? "true" : "false";
	return explain_exec(e->conn, e->cfg, "participation_checks", 3, pc);
}

static int
ex_part_checks(struct ex *e)
{
	const kvp_config *c = e->cfg;
	char num[2][24];
	PGresult *res;
	bool failed = false;
	int i;

	snprintf(num[0], sizeof(num[0]), "%.17g", c->part_min_hours);
	snprintf(num[1], sizeof(num[1]), "%d", c->part_max_duration_months);
	res = ex_part_checks_query(e);
	if (res == NULL)
		return -1;
	printf("\nKVP participation checks (on the worklist with reason IN_PROGRAMME when one fails)\n");
	if (PQntuples(res) == 0) {
		printf("  no participation active on %s: no checks\n", e->as_of);
		PQclear(res);
		return 0;
	}
	printf("  participation %s to %s (the active one with the latest start)\n",
	       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	printf("  planned hours per week  %-10s at least %s: %s\n", PQgetvalue(res, 0, 2),
	       num[0], PQgetvalue(res, 0, 3));
	printf("  written plan            %-10s must be true: %s\n", PQgetvalue(res, 0, 4),
	       PQgetvalue(res, 0, 5));
	printf("  next evaluation date    %-10s on or after %s: %s\n", PQgetvalue(res, 0, 6),
	       e->as_of, PQgetvalue(res, 0, 7));
	printf("  months since start      %-10s at most %s months: %s\n", PQgetvalue(res, 0, 8),
	       num[1], PQgetvalue(res, 0, 9));
	printf("  decision                %-10s %s\n", PQgetvalue(res, 0, 10), PQgetvalue(res, 0, 11));
	printf("  latest AEV by then      %-10s on or before the decision: %s\n",
	       PQgetvalue(res, 0, 12), PQgetvalue(res, 0, 13));
	printf("  its self-assessment     %s: %s\n", PQgetvalue(res, 0, 14), PQgetvalue(res, 0, 15));
	for (i = 3; i <= 9; i += 2)
		if (strcmp(PQgetvalue(res, 0, i), "ok") != 0)
			failed = true;
	if (strcmp(PQgetvalue(res, 0, 13), "ok") != 0
	    || strcmp(PQgetvalue(res, 0, 15), "NO_SELF_ASSESSMENT") == 0)
		failed = true;
	printf("  %s\n", failed ? "a check failed: on the worklist (reasons IN_PROGRAMME)"
	       : "every check passed: not on any worklist for it");
	PQclear(res);
	return 0;
}

/* The verdict, from the scan's own query; the transaction holds kvp_pay and kvp_ig. */
static int
ex_verdict(struct ex *e)
{
	const kvp_config *c = e->cfg;
	char *sql = db_expand(e->conn, c, sql_get("identify.sql"));
	PGresult *res = db_exec(e->conn, "identification query", sql, SCAN_NPARAMS, e->sp.values);
	const char *excluded, *flags;

	free(sql);
	if (res == NULL)
		return -1;
	printf("\nResult\n");
	if (PQntuples(res) == 0) {
		printf("  not in scope: %s\n",
		       e->agev < c->id_min_age || e->agev > c->id_max_age ? "not in working age"
		       : "neither LONG_TERM nor SPECIAL_NEEDS");
		printf("  not on any worklist\n");
		PQclear(res);
		return 0;
	}
	excluded = PQgetvalue(res, 0, SC_EXCLUDED);
	flags = PQgetvalue(res, 0, SC_FLAGS);
	printf("  reasons:    %s (%s months)\n", PQgetvalue(res, 0, SC_REASONS), PQgetvalue(res, 0, SC_MONTHS));
	printf("  exclusions: %s\n", excluded[0] ? excluded : "none");
	printf("  flags:      %s\n", flags[0] ? flags : "none");
	if (excluded[0])
		printf("  excluded: not a candidate, not on any worklist\n");
	else if (flags[0] == '\0')
		printf("  a candidate with nothing missing: not on any worklist\n");
	else if (strcmp(PQgetvalue(res, 0, SC_FALLBACK), "t") == 0) {
		const char *v = PQgetvalue(e->who, 0, 6);

		printf("  worklist:   office %s fallback (%s)\n", PQgetvalue(res, 0, SC_OFFICE_ID),
		       v[0] == '\0' ? "no veileder assigned"
		       : strcmp(PQgetvalue(e->who, 0, 7), "t") != 0 ? "the veileder is not in the veileder table"
		       : "the veileder is not active");
	} else
		printf("  worklist:   veileder %s at office %s\n", PQgetvalue(res, 0, SC_VEILEDER_ID),
		       PQgetvalue(res, 0, SC_OFFICE_ID));
	PQclear(res);
	return 0;
}

/* Print the facts, section by section, in one transaction; 0 or -1 logged. */
static int
explain_person(PGconn *conn, const kvp_config *cfg, PGresult *who, const char *as_of)
{
	struct ex e;
	bool in_tx = false;
	int rc = -1;

	memset(&e, 0, sizeof(e));
	e.conn = conn;
	e.cfg = cfg;
	e.who = who;
	e.as_of = as_of;
	e.person_id = PQgetvalue(who, 0, 0);
	e.agev = -1;
	sb_init(&e.sb);
	if (scan_params_init(&e.sp, cfg, as_of, SCAN_ROWS_ALL, e.person_id) < 0)
		goto done;
	/* one transaction: the facts and the verdict see one snapshot and share kvp_pay, kvp_ig */
	if (db_begin(conn) < 0)
		goto done;
	in_tx = true;
	if (scan_payments(conn, cfg, &e.sp, 0) < 0)
		goto done;

	printf("Case %s, as of %s\n", PQgetvalue(who, 0, 1), as_of);
	if (PQgetvalue(who, 0, 9)[0])
		printf("  protection: %s (scanned like anyone; deliveries carry nothing identifying)\n",
		       PQgetvalue(who, 0, 9));
	ex_age(&e);
	if (ex_payments(&e) < 0 || ex_assessments(&e) < 0 || ex_benefits(&e) < 0 || ex_events(&e) < 0
	    || ex_participations(&e) < 0 || ex_part_checks(&e) < 0 || ex_verdict(&e) < 0)
		goto done;
	rc = 0;
done:
	if (in_tx && db_rollback(conn) < 0)
		rc = -1;
	sb_free(&e.sb);
	scan_params_free(&e.sp);
	return rc;
}

int
cmd_explain(int argc, char **argv, kvp_ctx *ctx)
{
	const char *as_of_arg = NULL, *case_ref;
	const cmd_option opts[] = {
		{"as-of", .value = &as_of_arg},
		{NULL}
	};
	char as_of[11];
	PGconn *conn = NULL;
	PGresult *who = NULL;
	const char *p[2];
	int first, rc;

	rc = cmd_options(argc, argv, opts, explain_usage, &first);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (first != argc - 1) {
		log_error("explain needs exactly one CASE_REF");
		explain_usage(stderr);
		return KVP_EXIT_USAGE;
	}
	case_ref = argv[first];
	if (!as_of_arg_valid(as_of_arg))
		return KVP_EXIT_USAGE;
	conn = cmd_connect_as_of(&ctx->cfg, as_of_arg, as_of);
	if (conn == NULL)
		goto done;
	p[0] = case_ref;
	p[1] = as_of;
	who = explain_exec(conn, &ctx->cfg, "person", 2, p);
	if (who == NULL)
		goto done;
	if (PQntuples(who) == 0) {
		/* stderr of an interactive command, never the log: it may identify a person */
		fprintf(stderr, "kvpscan: no person with case_ref \"%s\" in the source schema\n", case_ref);
		goto done;
	}
	if (explain_person(conn, &ctx->cfg, who, as_of) == 0 && fflush(stdout) == 0)
		rc = KVP_EXIT_OK;
done:
	PQclear(who);
	PQfinish(conn);
	return rc;
}
