/* explain.c - "kvpscan explain CASE_REF": why one person is or is not flagged */
#include "config.h"

#include <getopt.h>
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

/* Print the facts; 0 or -1 logged. */
static int
explain_person(PGconn *conn, const kvp_config *cfg, PGresult *who, const char *as_of)
{
	const char *person_id = PQgetvalue(who, 0, 0);
	const kvp_config *c = cfg;
	PGresult *res = NULL;
	scan_params sp;
	strbuf sb, months;
	char num[2][24];
	const char *p[4];
	int i, counted = 0, rc = -1;
	bool in_tx = false, conflict = false;
	const char *age = PQgetvalue(who, 0, 3);
	int64_t agev = -1;

	sb_init(&sb);
	sb_init(&months);
	memset(&sp, 0, sizeof(sp));
	if (scan_params_init(&sp, cfg, as_of, SCAN_ROWS_ALL, person_id) < 0)
		goto done;
	/* one transaction: the facts and the verdict see one snapshot and share kvp_pay, kvp_ig */
	if (db_begin(conn) < 0)
		goto done;
	in_tx = true;
	if (scan_payments(conn, cfg, &sp, false) < 0)
		goto done;

	printf("Case %s, as of %s\n", PQgetvalue(who, 0, 1), as_of);
	if (PQgetvalue(who, 0, 9)[0])
		printf("  protection: %s (scanned like anyone; deliveries carry nothing identifying)\n",
		       PQgetvalue(who, 0, 9));

	/* working age */
	printf("\nWorking age (%d to %d inclusive)\n", c->id_min_age, c->id_max_age);
	if (age[0] == '\0')
		printf("  birth date missing: not in working age\n");
	else {
		parse_int64(age, INT64_MIN, INT64_MAX, &agev);
		printf("  born %s, age %s on %s: %s\n", PQgetvalue(who, 0, 2), age, as_of,
		       agev >= c->id_min_age && agev <= c->id_max_age ? "in working age" : "NOT in working age");
	}

	/* payments */
	p[0] = person_id; p[1] = as_of; p[2] = sp.num[0]; p[3] = sp.arrays[0];
	res = explain_exec(conn, cfg, "payments", 4, p);
	if (res == NULL)
		goto done;
	printf("\nLONG_TERM: more than %d months with assistance among the %d months ending %.7s%s\n",
	       c->id_long_term_more_than, c->id_window_months, as_of,
	       c->id_consecutive ? " (the longest run of consecutive months must exceed it too)" : "");
	printf("  payment kinds counted: %s\n", list_or(&c->id_payment_kinds, &sb, "all"));
	for (i = 0; i < PQntuples(res); i++) {
		const char *m = PQgetvalue(res, i, 0);

		if (strcmp(PQgetvalue(res, i, 3), "counted") == 0) {
			size_t l = strlen(m);

			if (months.len < l || strcmp(sb_str(&months) + months.len - l, m) != 0) {
				if (months.len)
					sb_putc(&months, ' ');
				sb_puts(&months, m);
				counted++;
			}
		}
	}
	printf("  months counted (%d): %s\n", counted, counted ? sb_str(&months) : "none");
	for (i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 3), "counted") != 0)
			printf("  ignored: %s %s kr %s: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
	PQclear(res);

	/* assessments */
	res = explain_exec(conn, cfg, "assessments", 2, p);
	if (res == NULL)
		goto done;
	printf("\nSPECIAL_NEEDS: the current innsatsgruppe is one of %s\n",
	       list_or(&c->id_special_needs_groups, &sb, "(none configured)"));
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

	/* benefits */
	p[2] = sp.arrays[2];
	res = explain_exec(conn, cfg, "benefits", 3, p);
	if (res == NULL)
		goto done;
	printf("\nBenefits (excluding when running on D: %s)\n",
	       list_or(&c->id_excluded_benefits, &sb, "none"));
	if (PQntuples(res) == 0)
		printf("  none\n");
	for (i = 0; i < PQntuples(res); i++)
		printf("  %-16s %s to %s: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
	PQclear(res);

	/* events */
	snprintf(num[0], sizeof(num[0]), "%d", c->id_informed_valid_days);
	snprintf(num[1], sizeof(num[1]), "%d", c->id_assessed_valid_days);
	p[2] = num[0]; p[3] = num[1];
	res = explain_exec(conn, cfg, "events", 4, p);
	if (res == NULL)
		goto done;
	printf("\nKVP events (informed counts for %d days, assessed for %d)\n",
	       c->id_informed_valid_days, c->id_assessed_valid_days);
	if (PQntuples(res) == 0)
		printf("  none\n");
	for (i = 0; i < PQntuples(res); i++)
		printf("  %s %-10s %-13s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
	PQclear(res);

	/* participations */
	res = explain_exec(conn, cfg, "participations", 2, p);
	if (res == NULL)
		goto done;
	printf("\nKVP participations%s\n",
	       c->id_exclude_previous_participation ? " (an ended one excludes: RIGHT_USED)" : "");
	if (PQntuples(res) == 0)
		printf("  none\n");
	for (i = 0; i < PQntuples(res); i++)
		printf("  %s to %s: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	PQclear(res);
	res = NULL;     /* the next lookup may fail before res is set again */

	/* checks on the active participation (sql/participation_checks.sql) */
	snprintf(num[0], sizeof(num[0]), "%.17g", c->part_min_hours);
	snprintf(num[1], sizeof(num[1]), "%d", c->part_max_duration_months);
	p[2] = num[0]; p[3] = num[1];
	{
		bool has_sa = false;
		char *q = NULL, *sql = NULL;
		const char *pc[5] = {p[0], p[1], p[2], p[3], NULL};

		if (scan_self_assessment_column(conn, cfg, &has_sa) < 0)
			goto done;
		pc[4] = has_sa ? "true" : "false";
		q = explain_query(conn, cfg, "participation_checks");
		if (q == NULL)
			log_error("explain query \"%s\" is missing", "participation_checks");
		sql = q ? scan_sql_self_assessment(q, has_sa) : NULL;
		res = sql ? db_exec(conn, "explain query", sql, 5, pc) : NULL;
		free(sql);
		free(q);
	}
	if (res == NULL)
		goto done;
	printf("\nKVP participation checks (on the worklist with reason IN_PROGRAMME when one fails)\n");
	if (PQntuples(res) == 0)
		printf("  no participation active on %s: no checks\n", as_of);
	else {
		bool failed = false;

		printf("  participation %s to %s (the active one with the latest start)\n",
		       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		printf("  planned hours per week  %-10s at least %s: %s\n", PQgetvalue(res, 0, 2),
		       num[0], PQgetvalue(res, 0, 3));
		printf("  written plan            %-10s must be true: %s\n", PQgetvalue(res, 0, 4),
		       PQgetvalue(res, 0, 5));
		printf("  next evaluation date    %-10s on or after %s: %s\n", PQgetvalue(res, 0, 6),
		       as_of, PQgetvalue(res, 0, 7));
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
	}
	PQclear(res);

	/* the verdict, from the scan's own queries; the transaction holds kvp_pay and kvp_ig */
	{
		char *sql = db_expand(conn, cfg, sql_get("identify.sql"));

		res = db_exec(conn, "identification query", sql, SCAN_NPARAMS, sp.values);
		free(sql);
	}
	if (res == NULL)
		goto done;
	printf("\nResult\n");
	if (PQntuples(res) == 0) {
		printf("  not in scope: %s\n",
		       agev < c->id_min_age || agev > c->id_max_age ? "not in working age"
		       : "neither LONG_TERM nor SPECIAL_NEEDS");
		printf("  not on any worklist\n");
	} else {
		const char *excluded = PQgetvalue(res, 0, SC_EXCLUDED);
		const char *flags = PQgetvalue(res, 0, SC_FLAGS);

		printf("  reasons:    %s (%s months)\n", PQgetvalue(res, 0, SC_REASONS),
		       PQgetvalue(res, 0, SC_MONTHS));
		printf("  exclusions: %s\n", excluded[0] ? excluded : "none");
		printf("  flags:      %s\n", flags[0] ? flags : "none");
		if (excluded[0])
			printf("  excluded: not a candidate, not on any worklist\n");
		else if (flags[0] == '\0')
			printf("  a candidate with nothing missing: not on any worklist\n");
		else if (strcmp(PQgetvalue(res, 0, SC_FALLBACK), "t") == 0) {
			const char *v = PQgetvalue(who, 0, 6);

			printf("  worklist:   office %s fallback (%s)\n", PQgetvalue(res, 0, SC_OFFICE_ID),
			       v[0] == '\0' ? "no veileder assigned"
			       : strcmp(PQgetvalue(who, 0, 7), "t") != 0 ? "the veileder is not in the veileder table"
			       : "the veileder is not active");
		} else
			printf("  worklist:   veileder %s at office %s\n", PQgetvalue(res, 0, SC_VEILEDER_ID),
			       PQgetvalue(res, 0, SC_OFFICE_ID));
	}
	rc = 0;
done:
	PQclear(res);
	if (in_tx && db_rollback(conn) < 0)
		rc = -1;
	sb_free(&sb);
	sb_free(&months);
	scan_params_free(&sp);
	return rc;
}

int
cmd_explain(int argc, char **argv, kvp_ctx *ctx)
{
	static const struct option opts[] = {
		{"as-of", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *as_of_arg = NULL, *case_ref;
	char as_of[11];
	PGconn *conn = NULL;
	PGresult *who = NULL;
	const char *p[2];
	int c, rc = KVP_EXIT_FAILURE;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': as_of_arg = optarg; break;
		case 'h': explain_usage(stdout); return KVP_EXIT_OK;
		default: explain_usage(stderr); return KVP_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		log_error("explain needs exactly one CASE_REF");
		explain_usage(stderr);
		return KVP_EXIT_USAGE;
	}
	case_ref = argv[optind];
	if (!as_of_arg_valid(as_of_arg))
		return KVP_EXIT_USAGE;
	conn = db_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;
	if (db_as_of(conn, &ctx->cfg, as_of_arg, as_of) < 0)
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
