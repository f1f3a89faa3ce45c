/* scan.c - "kvpscan scan": identify candidates, print them or store the run */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_source.h"
#include "cmd.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "outbox.h"
#include "scan.h"
#include "scan_output.h"
#include "sqlfiles.h"
#include "worklist.h"

char *
scan_pg_array(const kvp_strlist *list)
{
	strbuf sb;
	int i;

	sb_init(&sb);
	sb_putc(&sb, '{');
	for (i = 0; list && i < list->count; i++) {
		const char *p;

		if (i > 0)
			sb_putc(&sb, ',');
		sb_putc(&sb, '"');
		for (p = list->items[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				sb_putc(&sb, '\\');
			sb_putc(&sb, *p);
		}
		sb_putc(&sb, '"');
	}
	sb_putc(&sb, '}');
	return sb_steal(&sb);
}

int
scan_params_init(scan_params *sp, const kvp_config *cfg, const char *as_of,
		 enum scan_rows rows, const char *person_id)
{
	memset(sp, 0, sizeof(*sp));
	/* the ranges live in conf.c's key table (window_months 1..62: payments.sql's bigint mask) */
	/* cross-key rules (min_age <= max_age, ...) are conf.c's cross_checks() at load */
	if (conf_check_ranges(cfg) < 0)
		return -1;
	snprintf(sp->num[0], sizeof(sp->num[0]), "%d", cfg->id_window_months);
	snprintf(sp->num[1], sizeof(sp->num[1]), "%d", cfg->id_long_term_more_than);
	snprintf(sp->num[2], sizeof(sp->num[2]), "%d", cfg->id_min_age);
	snprintf(sp->num[3], sizeof(sp->num[3]), "%d", cfg->id_max_age);
	snprintf(sp->num[4], sizeof(sp->num[4]), "%d", cfg->id_informed_valid_days);
	snprintf(sp->num[5], sizeof(sp->num[5]), "%d", cfg->id_assessed_valid_days);
	snprintf(sp->num[6], sizeof(sp->num[6]), "%d", (int) rows);
	sp->arrays[0] = scan_pg_array(&cfg->id_payment_kinds);
	sp->arrays[1] = scan_pg_array(&cfg->id_special_needs_groups);
	sp->arrays[2] = scan_pg_array(&cfg->id_excluded_benefits);

	sp->values[0] = as_of;
	sp->values[1] = sp->num[0];
	sp->values[2] = sp->num[1];
	sp->values[3] = cfg->id_consecutive ? "true" : "false";
	sp->values[4] = sp->num[2];
	sp->values[5] = sp->num[3];
	sp->values[6] = sp->arrays[1];
	sp->values[7] = sp->arrays[2];
	sp->values[8] = cfg->id_exclude_previous_participation ? "true" : "false";
	sp->values[9] = sp->num[6];
	sp->values[10] = person_id;

	sp->pay_values[0] = as_of;
	sp->pay_values[1] = sp->num[0];
	sp->pay_values[2] = sp->arrays[0];
	sp->pay_values[3] = person_id;
	sp->pay_values[4] = "true";    /* scan_payments() sets it */
	return 0;
}

/* Run one expanded statement that returns no rows; 0 or -1 logged. */
static int
run_command(PGconn *conn, const kvp_config *cfg, const char *what, const char *tmpl,
	    int n, const char *const *params)
{
	char *sql = db_expand(conn, cfg, tmpl);
	int rc = db_command(conn, what, sql, n, params);

	free(sql);
	return rc;
}

/* Create the transaction's temporary table name AS body (n params); 0 or -1 logged. */
static int
temp_table(PGconn *conn, const kvp_config *cfg, const char *what, const char *name,
	   const char *body, int n, const char *const *params)
{
	char *sql = xasprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS %s", name, body);
	int rc = run_command(conn, cfg, what, sql, n, params);

	free(sql);
	return rc;
}

/*
 * A temporary view name AS body, its n params written in as literals: read
 * where it is used, planned with the statement that reads it, never stored.
 * It outlives the transaction when that commits, so a later run of the same
 * session replaces it.  0 or -1 logged.
 */
static int
temp_view(PGconn *conn, const kvp_config *cfg, const char *what, const char *name,
	  const char *body, int n, const char *const *params)
{
	char *sql = xasprintf("CREATE OR REPLACE TEMP VIEW %s AS %s", name, body);
	char *inlined = db_inline_params(conn, sql, n, params);
	int rc = inlined ? run_command(conn, cfg, what, inlined, 0, NULL) : -1;

	free(inlined);
	free(sql);
	return rc;
}

int
scan_payments(PGconn *conn, const kvp_config *cfg, const scan_params *sp, unsigned int pass)
{
	const char *p[SCAN_PAY_NPARAMS], *ig[2], *doc[4];
	bool duplicates = (pass & SCAN_PASS_DUPLICATES) != 0;
	/* read many times by a stored scan (tables), once by a dry run (views) */
	int (*make)(PGconn *, const kvp_config *, const char *, const char *, const char *, int,
		    const char *const *) = (pass & SCAN_PASS_VIEWS) ? temp_view : temp_table;

	memcpy(p, sp->pay_values, sizeof(p));
	p[4] = duplicates ? "true" : "false";
	ig[0] = sp->pay_values[0];
	ig[1] = sp->pay_values[3];
	doc[0] = sp->values[0];
	doc[1] = sp->num[4];
	doc[2] = sp->num[5];
	doc[3] = sp->pay_values[3];
	if (make(conn, cfg, "payments pass", "kvp_pay", sql_get("payments.sql"), SCAN_PAY_NPARAMS, p) < 0
	    /* identical rows, for the persons the pass found at risk of them */
	    || (duplicates && run_command(conn, cfg, "duplicate payments", sql_get("duplicates.sql"),
					  2, p) < 0)
	    /* the current innsatsgruppe, once: identify, data quality and explain read kvp_ig */
	    || make(conn, cfg, "innsatsgruppe pass", "kvp_ig", sql_get("innsatsgruppe.sql"), 2, ig) < 0
	    /* the participations active on D, once: identify, the checks, the office counts, explain */
	    || temp_table(conn, cfg, "active participations", "kvp_active",
			  sql_get("participation_active.sql"), 2, ig) < 0
	    /* what documents each flag's duty on D (the validity spans): identify, resolving, explain */
	    || temp_view(conn, cfg, "documented duties", "kvp_documented", sql_get("documented.sql"),
			 4, doc) < 0)
		return -1;
	return 0;
}

void
scan_params_free(scan_params *sp)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sp->arrays); i++) {
		free(sp->arrays[i]);
		sp->arrays[i] = NULL;
	}
}

int
scan_self_assessment_column(PGconn *conn, const kvp_config *cfg, bool *has)
{
	const char *p[1] = {cfg->db_source_schema};
	PGresult *res = db_exec(conn, "looking for assessment.self_assessment",
				"SELECT EXISTS (SELECT 1 FROM information_schema.columns"
				" WHERE table_schema = $1 AND table_name = 'assessment'"
				" AND column_name = 'self_assessment')", 1, p);

	if (res == NULL)
		return -1;
	*has = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

char *
scan_sql_self_assessment(const char *tmpl, bool has)
{
	static const char token[] = "@self_assessment@";
	const char *p = tmpl, *q;
	strbuf sb;

	sb_init(&sb);
	while ((q = strstr(p, token)) != NULL) {
		sb_append(&sb, p, (size_t) (q - p));
		sb_puts(&sb, has ? "s.self_assessment" : "NULL::boolean");
		p = q + strlen(token);
	}
	sb_puts(&sb, p);
	return sb_steal(&sb);
}

int
scan_participation_checks(PGconn *conn, const kvp_config *cfg, const char *as_of, bool *has_sa)
{
	char num[2][32], *body;
	const char *p[3] = {as_of, num[0], num[1]};
	int rc;

	/* assessment.self_assessment is optional: looked up once, the SQL chosen by it */
	if (scan_self_assessment_column(conn, cfg, has_sa) < 0)
		return -1;
	snprintf(num[0], sizeof(num[0]), "%.17g", cfg->part_min_hours);
	snprintf(num[1], sizeof(num[1]), "%d", cfg->part_max_duration_months);
	body = scan_sql_self_assessment(sql_get("participation_checks.sql"), *has_sa);
	rc = temp_table(conn, cfg, "participation checks", "kvp_part", body, 3, p);
	free(body);
	return rc;
}

static void
scan_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan scan [--as-of YYYY-MM-DD] [--dry-run] [--format csv|json|table]\n"
		"                    [--include-excluded]\n\n"
		"Identify long-term social-assistance recipients and persons with special needs\n"
		"who should be informed about or assessed for KVP (docs/identification.md).\n\n"
		"Options:\n"
		"  --as-of DATE        scan as of this date (default today in Europe/Oslo)\n"
		"  --dry-run           print the flagged candidates and store nothing\n"
		"  --format FORMAT     csv (default), json or table, with --dry-run\n"
		"  --include-excluded  with --dry-run, also list excluded persons and why\n\n"
		"Without --dry-run the run is stored (kvpscan migrate first): the run, its flagged\n"
		"candidates and the worklist items, in one transaction; a summary of counts is\n"
		"printed.  A second run for the same date and settings stores nothing.\n");
}

/* Stream the identify query to out in single-row mode; 0 or -1 logged. */
static int
scan_print(PGconn *conn, const kvp_config *cfg, const char *as_of, enum scan_format fmt,
	   bool include_excluded)
{
	scan_params sp;
	scan_writer w;
	PGresult *res = NULL;
	char *sql = NULL, *ordered = NULL;
	bool failed = false, started = false, in_tx = false;
	int rc = -1;

	if (scan_params_init(&sp, cfg, as_of,
			     include_excluded ? SCAN_ROWS_WITH_EXCLUDED : SCAN_ROWS_FLAGGED, NULL) < 0)
		goto done;
	/* a transaction only for the payments pass's temporary table; rolled back */
	if (db_begin(conn) < 0)
		goto done;
	in_tx = true;
	if (scan_payments(conn, cfg, &sp, SCAN_PASS_VIEWS) < 0)
		goto done;
	ordered = xasprintf("SELECT * FROM (%s) r ORDER BY office_id COLLATE \"C\","
			    " veileder_id COLLATE \"C\" NULLS LAST, case_ref COLLATE \"C\","
			    " person_id COLLATE \"C\"", sql_get("identify.sql"));
	sql = db_expand(conn, cfg, ordered);
	if (!PQsendQueryParams(conn, sql, SCAN_NPARAMS, NULL, sp.values, NULL, NULL, 0)
	    || !PQsetSingleRowMode(conn)) {
		db_log_error(conn, NULL, "identification query");
		goto done;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE && !failed) {
			scan_row row;

			if (!started) {
				scan_writer_begin(&w, stdout, fmt, include_excluded);
				started = true;
			}
			row.case_ref = PQgetvalue(res, 0, SC_CASE_REF);
			row.office_id = PQgetvalue(res, 0, SC_OFFICE_ID);
			row.veileder_id = PQgetvalue(res, 0, SC_VEILEDER_ID);
			row.reasons = PQgetvalue(res, 0, SC_REASONS);
			row.flags = PQgetvalue(res, 0, SC_FLAGS);
			row.months = PQgetvalue(res, 0, SC_MONTHS);
			row.excluded = PQgetvalue(res, 0, SC_EXCLUDED);
			scan_writer_row(&w, &row);
		} else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE && !failed) {
			db_log_error(conn, res, "identification query");
			failed = true;
		}
		PQclear(res);
	}
	if (failed)
		goto done;
	if (!started)
		scan_writer_begin(&w, stdout, fmt, include_excluded);
	if (scan_writer_end(&w) < 0) {
		log_error("could not write the scan's output");
		goto done;
	}
	log_info("scan as of %s (dry run): %lld flagged candidates", as_of, w.rows);
	rc = 0;
done:
	if (in_tx && db_rollback(conn) < 0)
		rc = -1;
	free(sql);
	free(ordered);
	scan_params_free(&sp);
	return rc;
}

/* Run one expanded statement; returns the result (caller clears) or NULL logged. */
static PGresult *
run_sql(PGconn *conn, const kvp_config *cfg, const char *what, const char *tmpl,
	int n, const char *const *params)
{
	char *sql = db_expand(conn, cfg, tmpl);
	PGresult *res = db_exec(conn, what, sql, n, params);

	free(sql);
	return res;
}

static long long
ll_value(const PGresult *res, int row, int col)
{
	int64_t v = 0;

	if (PQgetisnull(res, row, col) || parse_int64(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &v) < 0)
		return 0;
	return (long long) v;
}

/* Result columns of the tmp table, as identify.sql returns them. */
static const char result_table[] =
	"CREATE TEMP TABLE kvp_scan_result ("
	" person_id text, case_ref text, office_id text, veileder_id text,"
	" routed_to_fallback boolean, reasons text, flags text, months int, excluded text,"
	" protection text, long_term boolean, special_needs boolean"
	") ON COMMIT DROP";

static const char dq_table[] =
	"CREATE TEMP TABLE kvp_scan_dq (code text, case_ref text, person_id text, rows int)"
	" ON COMMIT DROP";

/*
 * The run's candidates, before they are stored: the item statements and
 * the counts read this small table rather than the candidate table, which
 * grows by a run's worth every night (and whose statistics never know the
 * new run).
 */
static const char cand_table[] =
	"CREATE TEMP TABLE kvp_cand (person_id text, case_ref text, office_id text,"
	" veileder_id text, routed_to_fallback boolean, reasons text[], flags text[],"
	" months int, protected boolean) ON COMMIT DROP";

static const char flagged_candidates[] =
	"INSERT INTO kvp_cand"
	" SELECT person_id, case_ref, office_id, veileder_id, routed_to_fallback,"
	" string_to_array(reasons, '+'), string_to_array(flags, '+'), months, protection IS NOT NULL"
	" FROM kvp_scan_result WHERE excluded = '' AND flags <> ''";

/* The participation checks' rows (participation_checks.sql in kvp_part): the failing ones are candidates. */
static const char participation_candidates[] =
	"INSERT INTO kvp_cand (person_id, case_ref, office_id, veileder_id, routed_to_fallback,"
	" reasons, flags, months, protected)"
	" SELECT person_id, case_ref, office_id, veileder_id, routed_to_fallback,"
	" '{IN_PROGRAMME}'::text[], flags, 0, protected FROM kvp_part WHERE cardinality(flags) > 0";

/*
 * The run's candidates against the current candidate rows (migration 011:
 * a row holds until a run sees the candidate otherwise): changed is a
 * candidate that is new, gone, or not the same in any column.
 */
static const char candidate_diff_table[] =
	"CREATE TEMP TABLE kvp_cdiff ON COMMIT DROP AS"
	" SELECT s.run_id AS span_run_id, s.person_id AS span_person_id, c.*,"
	"  c.person_id IS NULL OR s.person_id IS NULL"
	"   OR (c.case_ref, c.office_id, c.veileder_id, c.routed_to_fallback, c.reasons, c.flags,"
	"       c.months, c.protected) IS DISTINCT FROM (s.case_ref, s.office_id, s.veileder_id,"
	"       s.routed_to_fallback, s.reasons, s.flags, s.months, s.protected) AS changed"
	" FROM kvp_cand c FULL JOIN (SELECT * FROM @state@.candidate WHERE until_run_id IS NULL) s"
	"  ON s.person_id = c.person_id";

/* The current rows of candidates that changed or are gone end with this run. */
static const char close_candidates[] =
	"UPDATE @state@.candidate s SET until_run_id = $1::bigint"
	" FROM kvp_cdiff d"
	" WHERE s.until_run_id IS NULL AND s.person_id = d.span_person_id AND s.run_id = d.span_run_id"
	"  AND d.changed";

/* New and changed candidates: a row from this run on. */
static const char store_candidates[] =
	"INSERT INTO @state@.candidate (run_id, person_id, case_ref, office_id, veileder_id,"
	" routed_to_fallback, reasons, flags, months, protected)"
	" SELECT $1::bigint, person_id, case_ref, office_id, veileder_id, routed_to_fallback,"
	" reasons, flags, months, protected FROM kvp_cdiff WHERE changed AND person_id IS NOT NULL";

/*
 * The night's difference between the run's (person, flag) pairs and the
 * live items, in one hash full join (migration 011: a night writes what
 * changed): item_id NULL is a new item; seen false, an item to resolve;
 * changed, a live item whose state (NEW becomes OPEN) or routing is to be
 * rewritten.  Every other live item is left as it is.
 */
static const char diff_table[] =
	"CREATE TEMP TABLE kvp_diff ON COMMIT DROP AS"
	" SELECT l.item_id, coalesce(c.person_id, l.person_id) AS person_id,"
	"  coalesce(c.flag, l.flag) AS flag, c.person_id IS NOT NULL AS seen,"
	"  c.person_id IS NOT NULL AND l.item_id IS NOT NULL"
	"   AND (l.state = 'NEW' OR (l.case_ref, l.office_id, l.veileder_id, l.routed_to_fallback, l.protected)"
	"        IS DISTINCT FROM (c.case_ref, c.office_id, c.veileder_id, c.routed_to_fallback, c.protected))"
	"   AS changed,"
	"  c.case_ref, c.office_id, c.veileder_id, c.routed_to_fallback, c.protected"
	" FROM (SELECT c.person_id, f.flag, c.case_ref, c.office_id, c.veileder_id,"
	"        c.routed_to_fallback, c.protected"
	"         FROM kvp_cand c CROSS JOIN LATERAL unnest(c.flags) AS f(flag)) c"
	" FULL JOIN (SELECT i.item_id, i.person_id, i.flag, i.state, i.case_ref, i.office_id,"
	"        i.veileder_id, i.routed_to_fallback, i.protected"
	"         FROM @state@.item i WHERE i.state <> 'RESOLVED') l"
	"   ON l.person_id = c.person_id AND l.flag = c.flag";

/*
 * An item no longer flagged is RESOLVED, with the source row that documents
 * it when there is one (migration 010): the latest of kvp_documented
 * (documented.sql, the validity spans' one definition) for its flag; and
 * with the last run that saw it (migration 011), the succeeded one before
 * this.  The items are found by their ids (an index scan, whatever the
 * statistics of the temporary table say).  The items to resolve are a few
 * a night: kept apart in kvp_gone and analyzed, so that the planner hashes
 * them and passes over kvp_documented once, instead of taking them for a
 * part of kvp_diff and sorting both.
 */
static const char gone_table[] =
	"CREATE TEMP TABLE kvp_gone ON COMMIT DROP AS"
	" SELECT item_id, person_id, flag FROM kvp_diff WHERE NOT seen";

static const char resolve_items[] =
	"WITH gone AS (SELECT item_id, person_id, flag FROM kvp_gone),"
	" ev AS (SELECT DISTINCT ON (g.item_id) g.item_id, k.event, k.event_date, k.veileder_id"
	"  FROM gone g JOIN kvp_documented k ON k.person_id = g.person_id AND k.flag = g.flag"
	"  ORDER BY g.item_id, k.event_date DESC, k.event),"
	" prev AS (SELECT r.as_of, r.run_id FROM @state@.run r"
	"  WHERE r.status = 'succeeded' AND r.run_id < $1::bigint ORDER BY r.run_id DESC LIMIT 1)"
	" UPDATE @state@.item i SET state = 'RESOLVED', resolved_on = $2::date, resolved_run_id = $1::bigint,"
	"  resolved_event = ev.event, resolved_event_date = ev.event_date,"
	"  resolved_event_veileder = ev.veileder_id, last_seen = prev.as_of, last_run_id = prev.run_id"
	" FROM gone g LEFT JOIN ev ON ev.item_id = g.item_id CROSS JOIN prev"
	" WHERE i.item_id = ANY (ARRAY(SELECT item_id FROM gone)) AND i.item_id = g.item_id";

/* A live item still seen whose state or routing changed: OPEN, the run's routing. */
static const char refresh_items[] =
	"UPDATE @state@.item i SET state = 'OPEN',"
	"  case_ref = d.case_ref, office_id = d.office_id, veileder_id = d.veileder_id,"
	"  routed_to_fallback = d.routed_to_fallback, protected = d.protected"
	" FROM kvp_diff d"
	" WHERE i.item_id = ANY (ARRAY(SELECT item_id FROM kvp_diff WHERE changed))"
	"  AND d.item_id = i.item_id";

/* Every (person, flag) of the run not live yet: a NEW item (item_live_idx guards it as well). */
static const char new_items[] =
	"INSERT INTO @state@.item (person_id, flag, state, case_ref, office_id, veileder_id,"
	"  routed_to_fallback, protected, first_seen, first_run_id)"
	" SELECT d.person_id, d.flag, 'NEW', d.case_ref, d.office_id, d.veileder_id,"
	"  d.routed_to_fallback, d.protected, $2::date, $1::bigint"
	" FROM kvp_diff d WHERE d.item_id IS NULL"
	" ON CONFLICT (person_id, flag) WHERE state <> 'RESOLVED' DO NOTHING";

/* The live items this run saw that an earlier run made. */
static const char count_open_items[] = "SELECT count(*) FROM kvp_diff WHERE seen AND item_id IS NOT NULL";

static const char insert_dq[] =
	"INSERT INTO @state@.run_data_quality (run_id, code, rows, persons)"
	" SELECT $1::bigint, code, sum(rows), count(person_id) FROM kvp_scan_dq GROUP BY code";

/* Persons with a month of assistance in the window (the payments pass). */
static const char count_recipients[] = "SELECT count(*) FROM kvp_pay WHERE mask <> 0";

static const char update_run[] =
	"UPDATE @state@.run r SET finished_at = clock_timestamp(),"
	" recipients = $2::int,"
	" long_term = s.long_term, special_needs = s.special_needs, candidates = s.candidates,"
	" flagged = s.flagged, excluded_in_programme = s.ex_ip, excluded_pending = s.ex_p,"
	" excluded_benefit = s.ex_b, excluded_right_used = s.ex_r,"
	" flag_not_informed = s.f_ni, flag_not_assessed = s.f_na, flag_aev_missing = s.f_aev,"
	" items_new = $3::int, items_open = $4::int, items_resolved = $5::int"
	" FROM (SELECT count(*) FILTER (WHERE long_term) AS long_term,"
	"  count(*) FILTER (WHERE special_needs) AS special_needs,"
	"  count(*) FILTER (WHERE excluded = '') AS candidates,"
	"  count(*) FILTER (WHERE excluded = '' AND flags <> '') AS flagged,"
	"  count(*) FILTER (WHERE 'IN_PROGRAMME' = ANY (string_to_array(excluded, '+'))) AS ex_ip,"
	"  count(*) FILTER (WHERE 'PENDING' = ANY (string_to_array(excluded, '+'))) AS ex_p,"
	"  count(*) FILTER (WHERE 'EXCLUDED_BENEFIT' = ANY (string_to_array(excluded, '+'))) AS ex_b,"
	"  count(*) FILTER (WHERE 'RIGHT_USED' = ANY (string_to_array(excluded, '+'))) AS ex_r,"
	"  count(*) FILTER (WHERE excluded = '' AND 'NOT_INFORMED' = ANY (string_to_array(flags, '+'))) AS f_ni,"
	"  count(*) FILTER (WHERE excluded = '' AND 'NOT_ASSESSED' = ANY (string_to_array(flags, '+'))) AS f_na,"
	"  count(*) FILTER (WHERE excluded = '' AND 'AEV_MISSING' = ANY (string_to_array(flags, '+'))) AS f_aev"
	"  FROM kvp_scan_result) s"
	" WHERE r.run_id = $1::bigint"
	" RETURNING r.recipients, r.long_term, r.special_needs, r.candidates, r.flagged,"
	"  r.excluded_in_programme, r.excluded_pending, r.excluded_benefit, r.excluded_right_used,"
	"  r.flag_not_informed, r.flag_not_assessed, r.flag_aev_missing,"
	"  (SELECT coalesce(sum(rows), 0) FROM kvp_scan_dq)";

/* The participation checks' counts into the run and its offices. */
#define PART_COUNTS \
	"  count(*) FILTER (WHERE 'NOT_FULL_TIME' = ANY (flags)) AS f1," \
	"  count(*) FILTER (WHERE 'NO_WRITTEN_PLAN' = ANY (flags)) AS f2," \
	"  count(*) FILTER (WHERE 'NO_EVALUATION_DATE' = ANY (flags)) AS f3," \
	"  count(*) FILTER (WHERE 'EVALUATION_OVERDUE' = ANY (flags)) AS f4," \
	"  count(*) FILTER (WHERE 'OVER_DURATION' = ANY (flags)) AS f5," \
	"  count(*) FILTER (WHERE 'AEV_AFTER_DECISION' = ANY (flags)) AS f6," \
	"  count(*) FILTER (WHERE 'NO_SELF_ASSESSMENT' = ANY (flags)) AS f7," \
	"  count(*) FILTER (WHERE sa_unknown) AS u"
#define PART_SET \
	" flag_not_full_time = s.f1, flag_no_written_plan = s.f2, flag_no_evaluation_date = s.f3," \
	" flag_evaluation_overdue = s.f4, flag_over_duration = s.f5, flag_aev_after_decision = s.f6," \
	" flag_no_self_assessment = s.f7, self_assessment_unknown = s.u"

/* The participation checks' counts into the run and its offices (kvp_part: every active participation). */
static const char count_participation_office[] =
	"UPDATE @state@.run_office ro SET" PART_SET
	" FROM (SELECT ro2.office_id," PART_COUNTS
	"  FROM @state@.run_office ro2 LEFT JOIN kvp_part k ON coalesce(k.office_id, '') = ro2.office_id"
	"  WHERE ro2.run_id = $1::bigint GROUP BY 1) s"
	" WHERE ro.run_id = $1::bigint AND ro.office_id = s.office_id";

static const char count_participation_run[] =
	"UPDATE @state@.run r SET" PART_SET
	" FROM (SELECT count(*) FILTER (WHERE cardinality(flags) > 0) AS n," PART_COUNTS
	"  FROM kvp_part) s"
	" WHERE r.run_id = $1::bigint"
	" RETURNING s.n, s.f1, s.f2, s.f3, s.f4, s.f5, s.f6, s.f7, s.u";

/* Run a statement and return how many rows it touched, or -1 logged. */
static long long
run_count(PGconn *conn, const kvp_config *cfg, const char *what, const char *tmpl,
	  int n, const char *const *params)
{
	PGresult *res = run_sql(conn, cfg, what, tmpl, n, params);
	int64_t v = 0;

	if (res == NULL)
		return -1;
	if (parse_int64(PQcmdTuples(res), 0, INT64_MAX, &v) < 0)
		v = 0;
	PQclear(res);
	return (long long) v;
}

/*
 * Store the run's per-office funnel into run_office (sql/office_stats.sql),
 * inside scan_store_tx while kvp_scan_result and kvp_pay exist; 0 or -1 logged.
 * The report reads what this stores.
 */
static int
store_office_stats(PGconn *conn, const kvp_config *cfg, const char *run_id, const char *as_of)
{
	const char *p[2] = {run_id, as_of};
	char *sql = db_expand(conn, cfg, sql_get("office_stats.sql"));
	int rc = db_command(conn, "storing the per-office counts", sql, 2, p);

	free(sql);
	return rc;
}

/* The body of scan_store() inside the transaction; 0, 1 already done, -1 failed. */
static int
scan_store_tx(PGconn *conn, const kvp_config *cfg, const char *as_of, const char *fingerprint,
	      scan_summary *sum)
{
	scan_params sp;
	PGresult *res = NULL;
	char *ident = NULL, *dq = NULL;
	bool has_sa = false;
	char run_id[32], num[3][24], recip[24] = "0";
	const char *p[6];
	int i, rc = -1;

	memset(&sp, 0, sizeof(sp));
	if (db_command(conn, "taking the scan lock",
		       "SELECT pg_advisory_xact_lock(hashtext('kvpscan.scan'))", 0, NULL) < 0)
		goto done;

	/* the same date, settings and rules already stored: nothing to do */
	p[0] = as_of; p[1] = fingerprint; p[2] = SCAN_RULE_VERSION;
	res = run_sql(conn, cfg, "looking for an earlier run",
		      "SELECT run_id FROM @state@.run WHERE status = 'succeeded' AND as_of = $1::date"
		      " AND config_fingerprint IS NOT DISTINCT FROM $2 AND rule_version = $3"
		      " ORDER BY run_id DESC LIMIT 1", 3, p);
	if (res == NULL)
		goto done;
	if (PQntuples(res) > 0) {
		sum->run_id = ll_value(res, 0, 0);
		sum->already_done = true;
		rc = 1;
		goto done;
	}
	PQclear(res);
	res = run_sql(conn, cfg, "looking for a later run",
		      "SELECT 1 FROM @state@.run WHERE status = 'succeeded' AND as_of > $1::date",
		      1, p);
	if (res == NULL)
		goto done;
	if (PQntuples(res) > 0) {
		log_error("a later scan is already stored, so a run as of %s would undo its worklist", as_of);
		log_hint("use --dry-run to see a past date's result");
		goto done;
	}
	PQclear(res);

	res = run_sql(conn, cfg, "storing the run",
		      "INSERT INTO @state@.run (as_of, started_at, status, config_fingerprint, rule_version)"
		      " VALUES ($1::date, clock_timestamp(), 'succeeded', $2, $3) RETURNING run_id", 3, p);
	if (res == NULL)
		goto done;
	sum->run_id = ll_value(res, 0, 0);
	snprintf(run_id, sizeof(run_id), "%lld", sum->run_id);
	PQclear(res);
	res = NULL;

	/* identification, into a temporary table, in one statement */
	if (scan_params_init(&sp, cfg, as_of, SCAN_ROWS_ALL, NULL) < 0)
		goto done;
	if (db_command(conn, "creating the result table", result_table, 0, NULL) < 0
	    || db_command(conn, "creating the data-quality table", dq_table, 0, NULL) < 0)
		goto done;
	if (scan_payments(conn, cfg, &sp, SCAN_PASS_DUPLICATES) < 0)
		goto done;
	ident = xasprintf("INSERT INTO kvp_scan_result %s", sql_get("identify.sql"));
	if (run_count(conn, cfg, "identification query", ident, SCAN_NPARAMS, sp.values) < 0)
		goto done;
	dq = xasprintf("INSERT INTO kvp_scan_dq %s", sql_get("dataquality.sql"));
	p[0] = as_of;
	if (run_count(conn, cfg, "data-quality query", dq, 1, p) < 0)
		goto done;

	/* flagged candidates (identification, then participation checks) */
	if (db_command(conn, "creating the candidate table", cand_table, 0, NULL) < 0
	    || db_command(conn, "collecting the flagged candidates", flagged_candidates, 0, NULL) < 0)
		goto done;
	if (scan_participation_checks(conn, cfg, as_of, &has_sa) < 0)
		goto done;
	sum->self_assessment_column = has_sa;
	if (run_count(conn, cfg, "collecting the participation candidates",
			 participation_candidates, 0, NULL) < 0)
		goto done;
	/* a temporary table, never analyzed by autovacuum: the joins below need its size */
	if (db_command(conn, "analyzing the candidates", "ANALYZE kvp_cand (person_id)", 0, NULL) < 0)
		goto done;
	p[0] = run_id; p[1] = as_of;
	if (run_count(conn, cfg, "comparing the candidates with the stored ones", candidate_diff_table,
		      0, NULL) < 0
	    || run_count(conn, cfg, "closing changed candidates", close_candidates, 1, p) < 0
	    || run_count(conn, cfg, "storing new and changed candidates", store_candidates, 1, p) < 0)
		goto done;

	/* the worklist items' lifecycle: what changed since the last run */
	if (run_count(conn, cfg, "comparing the candidates with the live items", diff_table, 0, NULL) < 0)
		goto done;
	if (run_count(conn, cfg, "finding the items to resolve", gone_table, 0, NULL) < 0
	    || db_command(conn, "analyzing the items to resolve", "ANALYZE kvp_gone", 0, NULL) < 0)
		goto done;
	if ((sum->items_resolved = run_count(conn, cfg, "resolving items", resolve_items, 2, p)) < 0
	    || run_count(conn, cfg, "refreshing changed items", refresh_items, 0, NULL) < 0
	    || (sum->items_new = run_count(conn, cfg, "storing new items", new_items, 2, p)) < 0)
		goto done;
	res = db_exec(conn, "counting open items", count_open_items, 0, NULL);
	if (res == NULL)
		goto done;
	sum->items_open = ll_value(res, 0, 0);
	PQclear(res);
	res = NULL;
	/*
	 * The worklists read the live items: without statistics that know the
	 * run's new ones, the planner takes them for none.  Two columns of a
	 * sample: tens of milliseconds.
	 */
	if (run_count(conn, cfg, "analyzing the items", "ANALYZE @state@.item (state, first_run_id)", 0, NULL) < 0)
		goto done;
	if (run_count(conn, cfg, "storing data-quality counts", insert_dq, 1, p) < 0)
		goto done;
	if (store_office_stats(conn, cfg, run_id, as_of) < 0)
		goto done;

	res = db_exec(conn, "counting recipients", count_recipients, 0, NULL);
	if (res == NULL)
		goto done;
	snprintf(recip, sizeof(recip), "%lld", ll_value(res, 0, 0));
	PQclear(res);
	snprintf(num[0], sizeof(num[0]), "%lld", sum->items_new);
	snprintf(num[1], sizeof(num[1]), "%lld", sum->items_open);
	snprintf(num[2], sizeof(num[2]), "%lld", sum->items_resolved);
	p[0] = run_id; p[1] = recip; p[2] = num[0]; p[3] = num[1]; p[4] = num[2];
	res = run_sql(conn, cfg, "storing the run's counts", update_run, 5, p);
	if (res == NULL)
		goto done;
	sum->recipients = ll_value(res, 0, 0);
	sum->long_term = ll_value(res, 0, 1);
	sum->special_needs = ll_value(res, 0, 2);
	sum->candidates = ll_value(res, 0, 3);
	sum->flagged = ll_value(res, 0, 4);
	sum->ex_in_programme = ll_value(res, 0, 5);
	sum->ex_pending = ll_value(res, 0, 6);
	sum->ex_benefit = ll_value(res, 0, 7);
	sum->ex_right_used = ll_value(res, 0, 8);
	sum->flag_not_informed = ll_value(res, 0, 9);
	sum->flag_not_assessed = ll_value(res, 0, 10);
	sum->flag_aev_missing = ll_value(res, 0, 11);
	sum->dq_rows = ll_value(res, 0, 12);
	PQclear(res);
	p[0] = run_id;
	res = NULL;
	if (run_count(conn, cfg, "counting participation checks per office",
		      count_participation_office, 1, p) < 0)
		goto done;
	res = run_sql(conn, cfg, "counting participation checks", count_participation_run, 1, p);
	if (res == NULL)
		goto done;
	sum->part_checked = ll_value(res, 0, 0);
	for (i = 0; i < SCAN_PART_FLAGS; i++)
		sum->part_flags[i] = ll_value(res, 0, i + 1);
	sum->self_assessment_unknown = ll_value(res, 0, SCAN_PART_FLAGS + 1);
	rc = 0;
done:
	PQclear(res);
	free(ident);
	free(dq);
	scan_params_free(&sp);
	return rc;
}

int
scan_store(PGconn *conn, const kvp_config *cfg, const char *as_of, scan_summary *sum)
{
	char *fingerprint = conf_fingerprint(cfg);
	int rc = -1, r;

	memset(sum, 0, sizeof(*sum));
	if (db_begin(conn) < 0)
		goto done;
	/* a broken source contract is refused before anything is read (check_source.c) */
	r = check_source_structure(conn, cfg) < 0 ? -1 : scan_store_tx(conn, cfg, as_of, fingerprint, sum);
	if (r == 1) {
		rc = db_rollback(conn) < 0 ? -1 : 0;
		goto done;
	}
	/* the night's worklists into the outbox; the bodies of old sent ones blanked (keep_sent_days) */
	if (r == 0 && worklist_enqueue(conn, cfg, sum->run_id) >= 0
	    && (sum->bodies_pruned = outbox_prune(conn, cfg)) >= 0 && db_commit(conn) == 0) {
		rc = 0;
		goto done;
	}
	/* nothing of the run is kept; record that it failed, in its own transaction */
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		db_rollback(conn);
	{
		const char *p[3] = {as_of, fingerprint, SCAN_RULE_VERSION};
		PGresult *res = run_sql(conn, cfg, "recording the failed run",
					"INSERT INTO @state@.run (as_of, started_at, finished_at, status,"
					" config_fingerprint, rule_version) VALUES ($1::date, now(),"
					" clock_timestamp(), 'failed', $2, $3)", 3, p);
		PQclear(res);
	}
	memset(sum, 0, sizeof(*sum));
done:
	free(fingerprint);
	return rc;
}

void
scan_summary_print(const scan_summary *s, const char *as_of, FILE *out)
{
	if (s->already_done) {
		fprintf(out, "a scan as of %s with these settings is already stored (run %lld); nothing to do\n",
			as_of, s->run_id);
		log_info("scan as of %s already stored as run %lld, nothing stored", as_of, s->run_id);
		return;
	}
	fprintf(out,
		"scan as of %s stored as run %lld\n"
		"  recipients in window   %lld\n"
		"  long-term (in age)     %lld\n"
		"  special needs (in age) %lld\n"
		"  excluded               in programme %lld, pending %lld, benefit %lld, right used %lld\n"
		"  candidates             %lld\n"
		"  flagged                %lld (not informed %lld, not assessed %lld, AEV missing %lld)\n"
		"  participation checks   %lld (not full time %lld, no written plan %lld, no evaluation date %lld,\n"
		"                         evaluation overdue %lld, over duration %lld,\n"
		"                         AEV after decision %lld, no self-assessment %lld;\n"
		"                         self-assessment unknown %lld%s)\n"
		"  worklist items         %lld new, %lld still open, %lld resolved\n"
		"  data-quality problems  %lld source rows (kvpscan data-quality lists them)\n",
		as_of, s->run_id, s->recipients, s->long_term, s->special_needs,
		s->ex_in_programme, s->ex_pending, s->ex_benefit, s->ex_right_used,
		s->candidates, s->flagged, s->flag_not_informed, s->flag_not_assessed,
		s->flag_aev_missing, s->part_checked, s->part_flags[0], s->part_flags[1],
		s->part_flags[2], s->part_flags[3], s->part_flags[4], s->part_flags[5],
		s->part_flags[6], s->self_assessment_unknown,
		s->self_assessment_column ? "" : ", the source has no assessment.self_assessment",
		s->items_new, s->items_open, s->items_resolved, s->dq_rows);
	log_info("scan as of %s stored as run %lld: %lld recipients, %lld candidates, %lld flagged, "
		 "%lld new, %lld open, %lld resolved items",
		 as_of, s->run_id, s->recipients, s->candidates, s->flagged,
		 s->items_new, s->items_open, s->items_resolved);
	log_detail("excluded: %lld in programme, %lld pending, %lld benefit, %lld right used; "
		   "flags: %lld not informed, %lld not assessed, %lld AEV missing; %lld data-quality rows",
		   s->ex_in_programme, s->ex_pending, s->ex_benefit, s->ex_right_used,
		   s->flag_not_informed, s->flag_not_assessed, s->flag_aev_missing, s->dq_rows);
	if (s->bodies_pruned > 0)
		log_info("blanked the bodies of %lld deliveries sent more than delivery.keep_sent_days ago",
			 s->bodies_pruned);
	if (s->dq_rows > 0)
		log_warning("%lld source rows have data-quality problems", s->dq_rows);
}

int
cmd_scan(int argc, char **argv, kvp_ctx *ctx)
{
	const char *as_of_arg = NULL, *format = NULL;
	bool dry_run = false, include_excluded = false;
	const cmd_option opts[] = {
		{"as-of", .value = &as_of_arg},
		{"dry-run", .flag = &dry_run},
		{"format", .value = &format},
		{"include-excluded", .flag = &include_excluded},
		{NULL}
	};
	char as_of[11];
	bool format_given;
	enum scan_format fmt = SCAN_FMT_CSV;
	PGconn *conn = NULL;
	scan_summary sum;
	int rc;

	rc = cmd_options(argc, argv, opts, scan_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	format_given = format != NULL;
	if (format_given) {
		int f = cmd_choice("format", format, scan_format_names);

		if (f < 0)
			return KVP_EXIT_USAGE;
		fmt = (enum scan_format) f;
	}
	if (!as_of_arg_valid(as_of_arg))
		return KVP_EXIT_USAGE;
	if (!dry_run && (format_given || include_excluded)) {
		log_error("--format and --include-excluded need --dry-run");
		log_hint("a stored run prints a summary of counts only");
		return KVP_EXIT_USAGE;
	}

	conn = cmd_connect_as_of(&ctx->cfg, as_of_arg, as_of);
	if (conn == NULL)
		goto done;

	if (dry_run) {
		if (scan_print(conn, &ctx->cfg, as_of, fmt, include_excluded) == 0)
			rc = KVP_EXIT_OK;
		goto done;
	}
	if (migrate_check(conn, &ctx->cfg) < 0)
		goto done;
	if (scan_store(conn, &ctx->cfg, as_of, &sum) < 0) {
		log_error("scan as of %s failed; nothing of it was stored", as_of);
		goto done;
	}
	scan_summary_print(&sum, as_of, stdout);
	rc = KVP_EXIT_OK;
done:
	PQfinish(conn);
	return rc;
}
