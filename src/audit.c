/* audit.c - "kvpscan audit": the supervisor's evidence export over stored runs (docs/audit.md) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "util.h"
#include "state_sql.h"

/* Timestamps as ISO 8601 in the session's time zone (Europe/Oslo). */
#define TS(x) "to_json(" x ")#>>'{}'"

/* The participation checks' counts (migrations 006 and 010), in run and run_office. */
#define PART_COLUMNS " flag_not_full_time, flag_no_written_plan, flag_no_evaluation_date," \
	" flag_evaluation_overdue, flag_over_duration, flag_aev_after_decision," \
	" flag_no_self_assessment, self_assessment_unknown"

/* $1 from, $2 to: every run (succeeded or failed) with as_of in [from, to] */
static const char runs_sql[] =
	"SELECT run_id, as_of::text AS as_of, " TS("started_at") " AS started_at,"
	" " TS("finished_at") " AS finished_at, status, config_fingerprint, rule_version,"
	" recipients, long_term, special_needs, candidates,"
	" excluded_in_programme, excluded_pending, excluded_benefit, excluded_right_used,"
	" flagged, flag_not_informed, flag_not_assessed, flag_aev_missing,"
	" items_new, items_open, items_resolved," PART_COLUMNS
	" FROM @state@.run WHERE as_of BETWEEN $1::date AND $2::date"
	" ORDER BY as_of, run_id";

/* $1 run, $2 office filter */
static const char offices_sql[] =
	"SELECT office_id, recipients, long_term, special_needs, candidates,"
	" excluded_in_programme, excluded_pending, excluded_benefit, excluded_right_used,"
	" flagged, flag_not_informed, flag_not_assessed, flag_aev_missing,"
	" informed, assessed_relevant, assessed_not_relevant, applied, granted, active_participants,"
	PART_COLUMNS
	" FROM @state@.run_office"
	" WHERE run_id = $1::bigint AND ($2::text IS NULL OR office_id = $2::text)"
	" ORDER BY office_id COLLATE \"C\"";

/* $1 run, $2 office filter; never the recipient, a body or an error text (it may name the address) */
static const char deliveries_sql[] =
	"SELECT d.delivery_id, d.kind, d.channel, coalesce(d.office_id, '') AS office_id,"
	" CASE WHEN d.kind = 'worklist' THEN coalesce(d.veileder_id, 'fallback')"
	"  ELSE d.veileder_id END AS veileder_id,"
	" d.item_count, d.state, " TS("d.created_at") " AS created_at,"
	" " TS("a.first_attempt_at") " AS first_attempt_at, " TS("d.sent_at") " AS sent_at,"
	" coalesce(a.attempts, 0)::int AS attempts"
	" FROM @state@.delivery d"
	" LEFT JOIN LATERAL (SELECT min(started_at) AS first_attempt_at, count(*) AS attempts"
	"  FROM @state@.delivery_attempt x WHERE x.delivery_id = d.delivery_id) a ON true"
	" WHERE d.run_id = $1::bigint AND ($2::text IS NULL OR d.office_id = $2::text)"
	" ORDER BY coalesce(d.office_id, '') COLLATE \"C\", d.kind, d.veileder_id COLLATE \"C\" NULLS LAST,"
	"  d.delivery_id COLLATE \"C\"";

/* $1 run, $2 office filter: items resolved in the run, counted per office and flag */
static const char resolved_sql[] =
	"SELECT coalesce(office_id, '') AS office_id, flag, count(*)::int AS count,"
	" (count(*) FILTER (WHERE protected))::int AS protected_count"
	" FROM @state@.item"
	" WHERE resolved_run_id = $1::bigint AND ($2::text IS NULL OR office_id = $2::text)"
	" GROUP BY 1, 2 ORDER BY coalesce(office_id, '') COLLATE \"C\", flag";

/*
 * $1 run, $2 office filter: the resolved items themselves, never a protected
 * person's (nor any item of a person who was protected in any episode).
 */
static const char resolved_items_sql[] =
	"SELECT coalesce(i.office_id, '') AS office_id, i.flag, i.case_ref,"
	" i.first_seen::text AS first_seen, i.resolved_on::text AS resolved_on,"
	" i.resolved_on - i.first_seen AS days_open"
	" FROM @state@.item i"
	" WHERE i.resolved_run_id = $1::bigint AND ($2::text IS NULL OR i.office_id = $2::text)"
	"  AND NOT i.protected"
	"  AND NOT EXISTS (SELECT 1 FROM @state@.item p WHERE p.person_id = i.person_id AND p.protected)"
	" ORDER BY coalesce(i.office_id, '') COLLATE \"C\", i.flag, i.case_ref COLLATE \"C\", i.first_seen";

/*
 * The supervisor's questions as counts per office for the period (docs/audit.md
 * "The supervisor's questions"): $1 from, $2 to, $3 office filter, $4 days
 * (report.escalate_after_days).  Identification: the persons first identified
 * (their first candidate row with reasons other than IN_PROGRAMME) by a run with
 * its as-of date in the period, by the office of that row; informed by the
 * period's end when the NOT_INFORMED item of that first run was resolved by
 * then with an INFORMED event (or there was none: informed already), within
 * $4 days when that event is dated at most $4 days after; assessed alike
 * (ASSESSED or REJECTED).  Participation: the last run in the period's active
 * participants less those failing each check.  Counts only.
 */
static const char questions_sql[] =
	"WITH lr AS (SELECT run_id, as_of FROM @state@.run WHERE status = 'succeeded'"
	"  AND as_of BETWEEN $1::date AND $2::date ORDER BY as_of DESC, run_id DESC LIMIT 1),"
	" firsts AS (SELECT DISTINCT ON (c.person_id) c.person_id, coalesce(c.office_id, '') AS office_id,"
	"  c.protected, r.as_of AS first_as_of"
	"  FROM @state@.candidate c JOIN @state@.run r ON r.run_id = c.run_id AND r.status = 'succeeded'"
	"  WHERE NOT ('IN_PROGRAMME' = ANY (c.reasons)) AND r.as_of <= $2::date"
	"  ORDER BY c.person_id, r.as_of, r.run_id),"
	" q AS (SELECT f.office_id, f.protected,"
	"  (SELECT CASE WHEN i.item_id IS NULL THEN 0"
	"    WHEN i.resolved_event = 'INFORMED' AND i.resolved_on <= $2::date"
	"    THEN greatest(i.resolved_event_date - f.first_as_of, 0) END"
	"   FROM (SELECT 1) one LEFT JOIN @state@.item i ON i.person_id = f.person_id"
	"    AND i.flag = 'NOT_INFORMED' AND i.first_seen = f.first_as_of"
	"   ORDER BY i.item_id LIMIT 1) AS informed_days,"
	"  (SELECT CASE WHEN i.item_id IS NULL THEN 0"
	"    WHEN i.resolved_event IN ('ASSESSED', 'REJECTED') AND i.resolved_on <= $2::date"
	"    THEN greatest(i.resolved_event_date - f.first_as_of, 0) END"
	"   FROM (SELECT 1) one LEFT JOIN @state@.item i ON i.person_id = f.person_id"
	"    AND i.flag = 'NOT_ASSESSED' AND i.first_seen = f.first_as_of"
	"   ORDER BY i.item_id LIMIT 1) AS assessed_days"
	"  FROM firsts f WHERE f.first_as_of >= $1::date AND ($3::text IS NULL OR f.office_id = $3::text)),"
	" qi AS (SELECT office_id, count(*)::int AS identified,"
	"  (count(*) FILTER (WHERE protected))::int AS identified_protected,"
	"  count(informed_days)::int AS informed_by_end,"
	"  (count(*) FILTER (WHERE informed_days <= $4::int))::int AS informed_within_days,"
	"  count(assessed_days)::int AS assessed_by_end,"
	"  (count(*) FILTER (WHERE assessed_days <= $4::int))::int AS assessed_within_days"
	"  FROM q GROUP BY office_id),"
	" qp AS (SELECT ro.office_id, ro.active_participants AS participants,"
	"  ro.active_participants - ro.flag_aev_after_decision AS aev_before_decision,"
	"  CASE WHEN ro.self_assessment_unknown IS NOT NULL THEN ro.active_participants"
	"   - ro.flag_no_self_assessment - ro.self_assessment_unknown END AS self_assessment_documented,"
	"  ro.active_participants - ro.flag_no_written_plan AS written_plan,"
	"  ro.active_participants - ro.flag_not_full_time AS full_time,"
	"  ro.active_participants - (SELECT count(*) FROM @state@.candidate c WHERE " CANDIDATE_AT("c", "ro.run_id")
	"   AND coalesce(c.office_id, '') = ro.office_id AND c.reasons = '{IN_PROGRAMME}'"
	"   AND c.flags && '{NO_EVALUATION_DATE,EVALUATION_OVERDUE}')::int AS evaluation_dates"
	"  FROM @state@.run_office ro JOIN lr ON lr.run_id = ro.run_id"
	"  WHERE ($3::text IS NULL OR ro.office_id = $3::text))"
	" SELECT coalesce(qi.office_id, qp.office_id) AS office_id, lr.run_id, lr.as_of::text AS as_of,"
	"  coalesce(qi.identified, 0) AS identified, coalesce(qi.identified_protected, 0) AS identified_protected,"
	"  coalesce(qi.informed_by_end, 0) AS informed_by_end,"
	"  coalesce(qi.informed_within_days, 0) AS informed_within_days,"
	"  coalesce(qi.assessed_by_end, 0) AS assessed_by_end,"
	"  coalesce(qi.assessed_within_days, 0) AS assessed_within_days, $4::int AS within_days,"
	"  qp.participants, qp.aev_before_decision, qp.self_assessment_documented, qp.written_plan,"
	"  qp.full_time, qp.evaluation_dates"
	" FROM qi FULL JOIN qp ON qp.office_id = qi.office_id CROSS JOIN lr"
	" ORDER BY coalesce(qi.office_id, qp.office_id) COLLATE \"C\"";

/* The CSV header: the union of every record type's columns. */
static const char *const csv_columns[] = {
	"record", "run_id", "as_of", "started_at", "finished_at", "status",
	"config_fingerprint", "rule_version", "office_id",
	"recipients", "long_term", "special_needs", "candidates",
	"excluded_in_programme", "excluded_pending", "excluded_benefit", "excluded_right_used",
	"flagged", "flag_not_informed", "flag_not_assessed", "flag_aev_missing",
	"items_new", "items_open", "items_resolved",
	"informed", "assessed_relevant", "assessed_not_relevant", "applied", "granted",
	"active_participants",
	"delivery_id", "kind", "channel", "veileder_id", "item_count", "state",
	"created_at", "first_attempt_at", "sent_at", "attempts",
	"flag", "count", "protected_count", "case_ref", "first_seen", "resolved_on", "days_open",
	/* added after the first release: at the end, so a reader by position keeps working */
	"flag_not_full_time", "flag_no_written_plan", "flag_no_evaluation_date",
	"flag_evaluation_overdue", "flag_over_duration",
	"flag_aev_after_decision", "flag_no_self_assessment", "self_assessment_unknown",
	/* the supervisor's questions (record "questions") */
	"identified", "identified_protected", "informed_by_end", "informed_within_days",
	"assessed_by_end", "assessed_within_days", "within_days", "participants",
	"aev_before_decision", "self_assessment_documented", "written_plan", "full_time",
	"evaluation_dates",
};

/* Type oids of int2, int4, int8 and numeric: written as JSON numbers. */
static bool
is_number_type(Oid t)
{
	return t == 20 || t == 21 || t == 23 || t == 1700;
}

/* One CSV line: record type, then each header column the result has (run_id given for the children). */
static void
csv_row(strbuf *sb, const char *record, const char *run_id, const PGresult *res, int row)
{
	size_t i;

	csv_escape(sb, record);
	for (i = 1; i < ARRAY_SIZE(csv_columns); i++) {
		int f = PQfnumber(res, csv_columns[i]);

		sb_putc(sb, ',');
		if (f >= 0 && !PQgetisnull(res, row, f))
			csv_escape(sb, PQgetvalue(res, row, f));
		else if (f < 0 && strcmp(csv_columns[i], "run_id") == 0)
			csv_escape(sb, run_id);
	}
	sb_puts(sb, "\r\n");
}

/* The fields of a row as JSON members ("name": value, ...), without braces. */
static void
json_fields(strbuf *sb, const PGresult *res, int row)
{
	int f, nf = PQnfields(res);

	for (f = 0; f < nf; f++) {
		if (f > 0)
			sb_puts(sb, ", ");
		json_escape(sb, PQfname(res, f));
		sb_puts(sb, ": ");
		if (PQgetisnull(res, row, f))
			sb_puts(sb, "null");
		else if (is_number_type(PQftype(res, f)))
			sb_puts(sb, PQgetvalue(res, row, f));
		else
			json_escape(sb, PQgetvalue(res, row, f));
	}
}

/* A JSON array of the result's rows as objects. */
static void
json_rows(strbuf *sb, const PGresult *res)
{
	int r;

	sb_putc(sb, '[');
	for (r = 0; r < PQntuples(res); r++) {
		sb_puts(sb, r > 0 ? ",\n      {" : "\n      {");
		json_fields(sb, res, r);
		sb_putc(sb, '}');
	}
	sb_puts(sb, PQntuples(res) > 0 ? "\n    ]" : "]");
}

/* The resolved groups (office, flag) with their items nested, both results ordered alike. */
static void
json_resolved(strbuf *sb, const PGresult *groups, const PGresult *items)
{
	int g, it = 0, n_items = PQntuples(items);

	sb_putc(sb, '[');
	for (g = 0; g < PQntuples(groups); g++) {
		const char *office = PQgetvalue(groups, g, 0), *flag = PQgetvalue(groups, g, 1);
		bool first = true;

		sb_puts(sb, g > 0 ? ",\n      {" : "\n      {");
		json_fields(sb, groups, g);
		sb_puts(sb, ", \"items\": [");
		while (it < n_items && strcmp(PQgetvalue(items, it, 0), office) == 0
		       && strcmp(PQgetvalue(items, it, 1), flag) == 0) {
			sb_puts(sb, first ? "\n        {" : ",\n        {");
			first = false;
			json_escape(sb, "case_ref");
			sb_puts(sb, ": ");
			if (PQgetisnull(items, it, 2))
				sb_puts(sb, "null");
			else
				json_escape(sb, PQgetvalue(items, it, 2));
			sb_printf(sb, ", \"first_seen\": \"%s\", \"resolved_on\": \"%s\", \"days_open\": %s}",
				  PQgetvalue(items, it, 3), PQgetvalue(items, it, 4), PQgetvalue(items, it, 5));
			it++;
		}
		sb_puts(sb, first ? "]}" : "\n      ]}");
	}
	sb_puts(sb, PQntuples(groups) > 0 ? "\n    ]" : "]");
}

static PGresult *
audit_query(PGconn *conn, const kvp_config *cfg, const char *what, const char *tmpl,
	    int n, const char *const *params)
{
	char *sql = db_expand(conn, cfg, tmpl);
	PGresult *res = db_exec(conn, what, sql, n, params);

	free(sql);
	return res;
}

/* Write sb to stdout and empty it; 0 or -1. */
static int
flush_out(strbuf *sb)
{
	if (sb->len > 0 && fwrite(sb->data, 1, sb->len, stdout) != sb->len)
		return -1;
	sb_reset(sb);
	return 0;
}

static void
audit_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan audit --from YYYY-MM-DD --to YYYY-MM-DD [--office ID]\n"
		"                     [--format csv|json]\n\n"
		"Export the evidence for the supervisor (Statsforvalteren) that identification is\n"
		"systematic: every stored run with its as-of date in [from, to] with its outcome,\n"
		"configuration fingerprint, rule version and counts, per office; every delivery of\n"
		"the run (to which veileder or the office fallback, when, how many attempts; never\n"
		"an address or a message body); the items each run resolved (protected persons\n"
		"only as counts); and the supervisor's questions as counts per office (informed\n"
		"and assessed within report.escalate_after_days of first identification, the\n"
		"participants' AEV, plan, hours and evaluation dates).  See docs/audit.md.\n\n"
		"Options:\n"
		"  --from DATE      first as-of date (required)\n"
		"  --to DATE        last as-of date, inclusive (required)\n"
		"  --office ID      one office only (run totals stay the municipality's)\n"
		"  --format FORMAT  csv (default) or json\n");
}

/* Check a required date option; logs a usage error. */
static bool
date_opt_valid(const char *name, const char *value)
{
	if (value == NULL) {
		log_error("--%s is required", name);
		log_hint("give the period as --from YYYY-MM-DD --to YYYY-MM-DD");
		return false;
	}
	if (!valid_iso_date(value)) {
		log_error("invalid value for --%s: \"%s\"", name, value);
		log_hint("give a date as YYYY-MM-DD, e.g. 2024-03-01");
		return false;
	}
	return true;
}

/* What the command line asks for. */
struct audit_args {
	const char *from, *to;     /* the as-of period, valid dates, from <= to */
	const char *office;        /* one office, or NULL for all */
	bool json;                 /* JSON, else CSV */
};

/* Parse and check the options into a; CMD_PROCEED, or a KVP_EXIT_* code to return. */
static int
audit_options(int argc, char **argv, struct audit_args *a)
{
	const char *format = "csv";
	const cmd_option opts[] = {
		{"from", .value = &a->from},
		{"to", .value = &a->to},
		{"office", .value = &a->office},
		{"format", .value = &format},
		{NULL}
	};
	int rc;

	rc = cmd_options(argc, argv, opts, audit_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	if (cmd_choice("format", format, (const char *const[]) {"csv", "json", NULL}) < 0)
		return KVP_EXIT_USAGE;
	if (a->office != NULL && a->office[0] == '\0') {
		log_error("--office needs an office id");
		return KVP_EXIT_USAGE;
	}
	if (!date_opt_valid("from", a->from) || !date_opt_valid("to", a->to))
		return KVP_EXIT_USAGE;
	if (strcmp(a->from, a->to) > 0) {	/* valid YYYY-MM-DD dates order as strings */
		log_error("--from %s is after --to %s", a->from, a->to);
		log_hint("give the earlier date as --from");
		return KVP_EXIT_USAGE;
	}
	a->json = strcmp(format, "json") == 0;
	return CMD_PROCEED;
}

/* The export's start: the JSON object up to its runs array, or the CSV header line. */
static void
audit_header(strbuf *out, const struct audit_args *a)
{
	size_t i;

	if (a->json) {
		sb_puts(out, "{\"type\": \"kvpscan.audit\", \"version\": 1, \"from\": ");
		json_escape(out, a->from);
		sb_puts(out, ", \"to\": ");
		json_escape(out, a->to);
		sb_puts(out, ", \"office\": ");
		if (a->office != NULL)
			json_escape(out, a->office);
		else
			sb_puts(out, "null");
		sb_puts(out, ",\n \"runs\": [");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(csv_columns); i++) {
		if (i > 0)
			sb_putc(out, ',');
		sb_puts(out, csv_columns[i]);
	}
	sb_puts(out, "\r\n");
}

/*
 * Run r of runs with its offices, deliveries and resolved items, appended to
 * out; adds to the deliveries and resolved items counted.  0, or -1 logged.
 */
static int
audit_run(PGconn *conn, const kvp_config *cfg, const struct audit_args *a, const PGresult *runs, int r,
	  strbuf *out, long *n_del, long *n_res)
{
	const char *run_id = PQgetvalue(runs, r, 0);
	const char *p[2] = {run_id, a->office};
	PGresult *offices, *dels, *groups, *items;
	int i, rc = -1;

	offices = audit_query(conn, cfg, "reading the per-office counts", offices_sql, 2, p);
	dels = audit_query(conn, cfg, "reading the deliveries", deliveries_sql, 2, p);
	groups = audit_query(conn, cfg, "counting the resolved items", resolved_sql, 2, p);
	items = audit_query(conn, cfg, "reading the resolved items", resolved_items_sql, 2, p);
	if (offices == NULL || dels == NULL || groups == NULL || items == NULL)
		goto done;
	*n_del += PQntuples(dels);
	for (i = 0; i < PQntuples(groups); i++) {
		int64_t n = 0;

		if (parse_int64(PQgetvalue(groups, i, 2), 0, INT64_MAX, &n) == 0)
			*n_res += (long) n;
	}

	if (a->json) {
		sb_puts(out, r > 0 ? ",\n  {" : "\n  {");
		json_fields(out, runs, r);
		sb_puts(out, ",\n    \"offices\": ");
		json_rows(out, offices);
		sb_puts(out, ",\n    \"deliveries\": ");
		json_rows(out, dels);
		sb_puts(out, ",\n    \"resolved\": ");
		json_resolved(out, groups, items);
		sb_puts(out, "}");
	} else {
		csv_row(out, "run", run_id, runs, r);
		for (i = 0; i < PQntuples(offices); i++)
			csv_row(out, "office", run_id, offices, i);
		for (i = 0; i < PQntuples(dels); i++)
			csv_row(out, "delivery", run_id, dels, i);
		for (i = 0; i < PQntuples(groups); i++)
			csv_row(out, "resolved", run_id, groups, i);
		for (i = 0; i < PQntuples(items); i++)
			csv_row(out, "resolved_item", run_id, items, i);
	}
	rc = 0;
done:
	PQclear(offices);
	PQclear(dels);
	PQclear(groups);
	PQclear(items);
	return rc;
}

/* The supervisor's questions over the period, appended to out, and the export's end.  0, or -1 logged. */
static int
audit_questions(PGconn *conn, const kvp_config *cfg, const struct audit_args *a, int n_runs, strbuf *out)
{
	char days[16];
	const char *p[4] = {a->from, a->to, a->office, days};
	PGresult *qs;
	int i;

	snprintf(days, sizeof(days), "%d", cfg->rep_escalate_after_days);
	qs = audit_query(conn, cfg, "answering the supervisor's questions", questions_sql, 4, p);
	if (qs == NULL)
		return -1;
	if (a->json) {
		sb_puts(out, n_runs > 0 ? "\n ],\n \"questions\": " : "],\n \"questions\": ");
		json_rows(out, qs);
		sb_puts(out, "}\n");
	} else {
		for (i = 0; i < PQntuples(qs); i++)
			csv_row(out, "questions", PQgetvalue(qs, i, 1), qs, i);
	}
	PQclear(qs);
	return 0;
}

int
cmd_audit(int argc, char **argv, kvp_ctx *ctx)
{
	struct audit_args a = {NULL, NULL, NULL, false};
	PGconn *conn = NULL;
	PGresult *runs = NULL;
	strbuf out;
	int r, rc;
	long n_del = 0, n_res = 0;

	rc = audit_options(argc, argv, &a);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	sb_init(&out);
	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;
	/* one snapshot for every query, so the sections agree with each other */
	if (db_command(conn, "starting the audit snapshot",
		       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL) < 0)
		goto done;
	{
		const char *p[2] = {a.from, a.to};

		runs = audit_query(conn, &ctx->cfg, "reading the runs", runs_sql, 2, p);
	}
	if (runs == NULL)
		goto done;

	audit_header(&out, &a);
	for (r = 0; r < PQntuples(runs); r++) {
		if (audit_run(conn, &ctx->cfg, &a, runs, r, &out, &n_del, &n_res) < 0)
			goto done;
		if (flush_out(&out) < 0) {
			log_error("could not write the audit export");
			goto done;
		}
	}
	if (audit_questions(conn, &ctx->cfg, &a, PQntuples(runs), &out) < 0)
		goto done;
	if (flush_out(&out) < 0 || fflush(stdout) != 0) {
		log_error("could not write the audit export");
		goto done;
	}
	if (db_command(conn, "ending the audit snapshot", "COMMIT", 0, NULL) < 0)
		goto done;
	log_info("audit from %s to %s: %d runs, %ld deliveries, %ld resolved items",
		 a.from, a.to, PQntuples(runs), n_del, n_res);
	rc = KVP_EXIT_OK;
done:
	PQclear(runs);
	sb_free(&out);
	PQfinish(conn);
	return rc;
}
