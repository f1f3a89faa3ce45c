/* report.c - "kvpscan report": the målekort from stored runs (docs/report.md) */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "report.h"
#include "report_deliver.h"
#include "sqlfiles.h"

int
report_store_office_stats(PGconn *conn, const kvp_config *cfg, const char *run_id,
			  const char *as_of)
{
	const char *p[2] = {run_id, as_of};
	char *sql = db_expand(conn, cfg, sql_get("office_stats.sql"));
	int rc = db_command(conn, "storing the per-office counts", sql, 2, p);

	free(sql);
	return rc;
}

bool
report_percent(const report_office *o, double *pct)
{
	if (!o->has_target || o->target <= 0)
		return false;
	*pct = (double) o->active * 100.0 / (double) o->target;
	return true;
}

/* The run to report on and the run to compare with (7+ days before it). */
static const char pick_run_sql[] =
	"WITH r AS (SELECT run_id, as_of FROM @state@.run WHERE status = 'succeeded'"
	"  AND ($1::date IS NULL OR as_of <= $1::date) ORDER BY as_of DESC, run_id DESC LIMIT 1)"
	" SELECT r.run_id, r.as_of,"
	"  c.run_id, coalesce(c.as_of::text, ''),"
	"  CASE $2 WHEN 'month' THEN date_trunc('month', r.as_of)"
	"   WHEN 'tertial' THEN make_date(extract(year FROM r.as_of)::int,"
	"     ((extract(month FROM r.as_of)::int - 1) / 4) * 4 + 1, 1)"
	"   ELSE date_trunc('year', r.as_of) END::date AS ps"
	" FROM r LEFT JOIN LATERAL (SELECT run_id, as_of FROM @state@.run c"
	"  WHERE c.status = 'succeeded' AND c.as_of <= r.as_of - 7"
	"  ORDER BY c.as_of DESC, c.run_id DESC LIMIT 1) c ON true";

static const char period_end_sql[] =
	"SELECT ($1::date + CASE $2 WHEN 'month' THEN interval '1 month'"
	" WHEN 'tertial' THEN interval '4 months' ELSE interval '1 year' END - interval '1 day')::date";

/* $1 run, $2 office filter, $3 period start, $4 period end */
static const char offices_sql[] =
	"SELECT ro.office_id, coalesce(o.name, ''), t.target,"
	" ro.recipients, ro.long_term, ro.special_needs, ro.candidates,"
	" ro.excluded_in_programme, ro.excluded_pending, ro.excluded_benefit, ro.excluded_right_used,"
	" ro.flagged, ro.flag_not_informed, ro.flag_not_assessed, ro.flag_aev_missing,"
	" ro.informed, ro.assessed_relevant, ro.assessed_not_relevant, ro.applied, ro.granted,"
	" ro.active_participants, ro.flag_not_full_time, ro.flag_no_written_plan,"
	" ro.flag_no_evaluation_date, ro.flag_evaluation_overdue, ro.flag_over_duration"
	" FROM @state@.run_office ro"
	" LEFT JOIN @src@.office o ON o.office_id = ro.office_id"
	" LEFT JOIN @state@.target t ON t.office_id = ro.office_id"
	"  AND t.period_start = $3::date AND t.period_end = $4::date"
	" WHERE ro.run_id = $1::bigint AND ($2::text IS NULL OR ro.office_id = $2::text)"
	" ORDER BY ro.office_id COLLATE \"C\"";

/*
 * Items as they stood at run $1 (as of $2): open = first seen by then and not
 * resolved by then.  $3 the comparison run (0 none), $4 escalation days, $5 office.
 */
static const char items_sql[] =
	"SELECT coalesce(i.office_id, ''), grouping(coalesce(i.office_id, '')),"
	" count(*) FILTER (WHERE i.first_run_id > $3::bigint),"
	" count(*) FILTER (WHERE i.resolved_run_id > $3::bigint AND i.resolved_run_id <= $1::bigint),"
	" count(*) FILTER (WHERE i.resolved_run_id IS NULL OR i.resolved_run_id > $1::bigint),"
	" count(*) FILTER (WHERE (i.resolved_run_id IS NULL OR i.resolved_run_id > $1::bigint)"
	"  AND $2::date - i.first_seen > $4::int),"
	" count(*) FILTER (WHERE (i.resolved_run_id IS NULL OR i.resolved_run_id > $1::bigint)"
	"  AND $2::date - i.first_seen > $4::int AND i.protected),"
	" percentile_cont(0.5) WITHIN GROUP (ORDER BY $2::date - i.first_seen)"
	"  FILTER (WHERE i.resolved_run_id IS NULL OR i.resolved_run_id > $1::bigint),"
	" percentile_cont(0.5) WITHIN GROUP (ORDER BY i.resolved_on - i.first_seen)"
	"  FILTER (WHERE i.resolved_run_id <= $1::bigint AND i.resolved_on > $2::date - 365)"
	" FROM @state@.item i"
	" WHERE i.first_run_id <= $1::bigint AND ($5::text IS NULL OR i.office_id = $5::text)"
	" GROUP BY GROUPING SETS ((coalesce(i.office_id, '')), ())";

static const char esc_sql[] =
	"SELECT coalesce(i.office_id, ''), i.veileder_id, v.display_name, i.case_ref, i.flag,"
	" i.first_seen, $2::date - i.first_seen"
	" FROM @state@.item i LEFT JOIN @src@.veileder v ON v.veileder_id = i.veileder_id"
	" WHERE i.first_run_id <= $1::bigint AND (i.resolved_run_id IS NULL OR i.resolved_run_id > $1::bigint)"
	"  AND $2::date - i.first_seen > $3::int AND NOT i.protected"
	"  AND ($4::text IS NULL OR i.office_id = $4::text)"
	" ORDER BY coalesce(i.office_id, '') COLLATE \"C\", i.veileder_id COLLATE \"C\" NULLS LAST, 7 DESC,"
	"  i.case_ref COLLATE \"C\", i.flag";

static const char dead_sql[] =
	"SELECT coalesce(office_id, ''), grouping(coalesce(office_id, '')), count(*)"
	" FROM @state@.delivery WHERE state = 'dead' AND ($1::text IS NULL OR office_id = $1::text)"
	" GROUP BY GROUPING SETS ((coalesce(office_id, '')), ())";

/* $1 as_of, $2 office filter: the last run of each of the 12 months up to as_of */
static const char trend_sql[] =
	"SELECT to_char(m, 'YYYY-MM'), coalesce(r.as_of::text, ''),"
	" CASE WHEN $2::text IS NULL THEN r.flagged ELSE sum(ro.flagged) END,"
	" sum(ro.active_participants)"
	" FROM generate_series(date_trunc('month', $1::date) - interval '11 months',"
	"                      date_trunc('month', $1::date), interval '1 month') m"
	" LEFT JOIN LATERAL (SELECT run_id, as_of, flagged FROM @state@.run"
	"  WHERE status = 'succeeded' AND as_of >= m AND as_of < m + interval '1 month'"
	"   AND as_of <= $1::date ORDER BY as_of DESC, run_id DESC LIMIT 1) r ON true"
	" LEFT JOIN @state@.run_office ro ON ro.run_id = r.run_id"
	"  AND ($2::text IS NULL OR ro.office_id = $2::text)"
	" GROUP BY m, r.run_id, r.as_of, r.flagged ORDER BY m";

static long long
val_ll(const PGresult *res, int row, int col)
{
	int64_t v = 0;

	if (PQgetisnull(res, row, col) || parse_int64(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &v) < 0)
		return 0;
	return (long long) v;
}

static PGresult *
rep_query(PGconn *conn, const kvp_config *cfg, const char *what, const char *tmpl,
	  int n, const char *const *params)
{
	char *sql = db_expand(conn, cfg, tmpl);
	PGresult *res = db_exec(conn, what, sql, n, params);

	free(sql);
	return res;
}

static report_office *
find_office(report *rep, const char *id, bool total)
{
	int i;

	if (total)
		return &rep->total;
	for (i = 0; i < rep->n_offices; i++)
		if (strcmp(rep->offices[i].office_id, id) == 0)
			return &rep->offices[i];
	return NULL;
}

static void
add_office(report_office *t, const report_office *o)
{
	int i;

	t->recipients += o->recipients;
	t->long_term += o->long_term;
	t->special_needs += o->special_needs;
	t->candidates += o->candidates;
	t->ex_in_programme += o->ex_in_programme;
	t->ex_pending += o->ex_pending;
	t->ex_benefit += o->ex_benefit;
	t->ex_right_used += o->ex_right_used;
	t->flagged += o->flagged;
	t->flag_not_informed += o->flag_not_informed;
	t->flag_not_assessed += o->flag_not_assessed;
	t->flag_aev_missing += o->flag_aev_missing;
	t->informed += o->informed;
	t->assessed_relevant += o->assessed_relevant;
	t->assessed_not_relevant += o->assessed_not_relevant;
	t->applied += o->applied;
	t->granted += o->granted;
	t->active += o->active;
	for (i = 0; i < 5; i++)
		t->part[i] += o->part[i];
	if (o->has_target) {
		t->has_target = true;
		t->target += o->target;
	}
}

/* Fill the per-office rows and the total's funnel; 0 or -1 logged. */
static int
load_offices(PGconn *conn, const kvp_config *cfg, report *rep, const char *run_id)
{
	const char *p[4] = {run_id, rep->office_filter, rep->period_start, rep->period_end};
	PGresult *res = rep_query(conn, cfg, "reading the per-office counts", offices_sql, 4, p);
	int i, j;

	if (res == NULL)
		return -1;
	rep->n_offices = PQntuples(res);
	rep->offices = xcalloc((size_t) rep->n_offices + 1, sizeof(report_office));
	for (i = 0; i < rep->n_offices; i++) {
		report_office *o = &rep->offices[i];
		int c = 3;

		o->office_id = xstrdup(PQgetvalue(res, i, 0));
		o->name = xstrdup(PQgetvalue(res, i, 1));
		o->has_target = !PQgetisnull(res, i, 2);
		o->target = val_ll(res, i, 2);
		o->recipients = val_ll(res, i, c++);
		o->long_term = val_ll(res, i, c++);
		o->special_needs = val_ll(res, i, c++);
		o->candidates = val_ll(res, i, c++);
		o->ex_in_programme = val_ll(res, i, c++);
		o->ex_pending = val_ll(res, i, c++);
		o->ex_benefit = val_ll(res, i, c++);
		o->ex_right_used = val_ll(res, i, c++);
		o->flagged = val_ll(res, i, c++);
		o->flag_not_informed = val_ll(res, i, c++);
		o->flag_not_assessed = val_ll(res, i, c++);
		o->flag_aev_missing = val_ll(res, i, c++);
		o->informed = val_ll(res, i, c++);
		o->assessed_relevant = val_ll(res, i, c++);
		o->assessed_not_relevant = val_ll(res, i, c++);
		o->applied = val_ll(res, i, c++);
		o->granted = val_ll(res, i, c++);
		o->active = val_ll(res, i, c++);
		for (j = 0; j < 5; j++)
			o->part[j] = val_ll(res, i, c++);
		add_office(&rep->total, o);
	}
	PQclear(res);
	return 0;
}

static int
load_items(PGconn *conn, const kvp_config *cfg, report *rep, const char *run_id)
{
	char cmp[24], days[16];
	const char *p[5];
	PGresult *res;
	int i;

	snprintf(cmp, sizeof(cmp), "%lld", rep->cmp_run_id);
	snprintf(days, sizeof(days), "%d", rep->escalate_after_days);
	p[0] = run_id; p[1] = rep->as_of; p[2] = cmp; p[3] = days; p[4] = rep->office_filter;
	res = rep_query(conn, cfg, "reading the worklist items", items_sql, 5, p);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		report_office *o = find_office(rep, PQgetvalue(res, i, 0), val_ll(res, i, 1) != 0);

		if (o == NULL)
			continue;
		o->items_new = val_ll(res, i, 2);
		o->items_resolved = val_ll(res, i, 3);
		o->items_open = val_ll(res, i, 4);
		o->escalated = val_ll(res, i, 5);
		o->escalated_protected = val_ll(res, i, 6);
		o->has_median_open = !PQgetisnull(res, i, 7);
		if (o->has_median_open)
			parse_double(PQgetvalue(res, i, 7), 0, 1e9, &o->median_open);
		o->has_median_resolve = !PQgetisnull(res, i, 8);
		if (o->has_median_resolve)
			parse_double(PQgetvalue(res, i, 8), -1e9, 1e9, &o->median_resolve);
	}
	PQclear(res);

	p[0] = run_id; p[1] = rep->as_of; p[2] = days; p[3] = rep->office_filter;
	res = rep_query(conn, cfg, "reading the escalations", esc_sql, 4, p);
	if (res == NULL)
		return -1;
	rep->n_esc = PQntuples(res);
	rep->esc = xcalloc((size_t) rep->n_esc + 1, sizeof(report_escalation));
	for (i = 0; i < rep->n_esc; i++) {
		report_escalation *e = &rep->esc[i];

		e->office_id = xstrdup(PQgetvalue(res, i, 0));
		e->veileder_id = PQgetisnull(res, i, 1) ? NULL : xstrdup(PQgetvalue(res, i, 1));
		e->veileder_name = PQgetisnull(res, i, 2) ? NULL : xstrdup(PQgetvalue(res, i, 2));
		e->case_ref = xstrdup(PQgetisnull(res, i, 3) ? "" : PQgetvalue(res, i, 3));
		e->flag = xstrdup(PQgetvalue(res, i, 4));
		e->first_seen = xstrdup(PQgetvalue(res, i, 5));
		e->days_open = val_ll(res, i, 6);
	}
	PQclear(res);

	p[0] = rep->office_filter;
	res = rep_query(conn, cfg, "counting dead deliveries", dead_sql, 1, p);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		report_office *o = find_office(rep, PQgetvalue(res, i, 0), val_ll(res, i, 1) != 0);

		if (o != NULL)
			o->dead_deliveries = val_ll(res, i, 2);
	}
	PQclear(res);
	return 0;
}

static int
load_trend(PGconn *conn, const kvp_config *cfg, report *rep)
{
	const char *p[2] = {rep->as_of, rep->office_filter};
	PGresult *res = rep_query(conn, cfg, "reading the trend", trend_sql, 2, p);
	int i;

	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res) && i < 12; i++) {
		report_trend *t = &rep->trend[i];

		snprintf(t->month, sizeof(t->month), "%s", PQgetvalue(res, i, 0));
		snprintf(t->run_as_of, sizeof(t->run_as_of), "%s", PQgetvalue(res, i, 1));
		t->has_flagged = !PQgetisnull(res, i, 2);
		t->flagged = val_ll(res, i, 2);
		t->has_active = !PQgetisnull(res, i, 3);
		t->active = val_ll(res, i, 3);
	}
	PQclear(res);
	return 0;
}

int
report_build(PGconn *conn, const kvp_config *cfg, const char *as_of, const char *office,
	     const char *period, report *rep)
{
	const char *p[2] = {as_of, period};
	PGresult *res = NULL;
	char run_id[24];
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	rep->period = period;
	rep->office_filter = office;
	rep->escalate_after_days = cfg->rep_escalate_after_days > 0 ? cfg->rep_escalate_after_days : 30;
	labels_init(&rep->labels, cfg);
	rep->total.office_id = xstrdup("TOTAL");
	rep->total.name = xstrdup(office ? office : "");
	res = rep_query(conn, cfg, "looking for the run to report on", pick_run_sql, 2, p);
	if (res == NULL)
		goto done;
	if (PQntuples(res) == 0) {
		if (as_of)
			log_error("no succeeded scan is stored on or before %s", as_of);
		else
			log_error("no succeeded scan is stored");
		log_hint("run \"kvpscan scan\" first");
		rc = 1;
		goto done;
	}
	rep->run_id = val_ll(res, 0, 0);
	snprintf(run_id, sizeof(run_id), "%lld", rep->run_id);
	snprintf(rep->as_of, sizeof(rep->as_of), "%s", PQgetvalue(res, 0, 1));
	rep->cmp_run_id = val_ll(res, 0, 2);
	snprintf(rep->cmp_as_of, sizeof(rep->cmp_as_of), "%s", PQgetvalue(res, 0, 3));
	snprintf(rep->period_start, sizeof(rep->period_start), "%s", PQgetvalue(res, 0, 4));
	PQclear(res);
	p[0] = rep->period_start;
	res = db_exec(conn, "computing the period", period_end_sql, 2, p);
	if (res == NULL)
		goto done;
	snprintf(rep->period_end, sizeof(rep->period_end), "%s", PQgetvalue(res, 0, 0));

	if (load_offices(conn, cfg, rep, run_id) < 0 || load_items(conn, cfg, rep, run_id) < 0
	    || load_trend(conn, cfg, rep) < 0)
		goto done;
	rc = 0;
done:
	PQclear(res);
	return rc;
}

static void
office_free(report_office *o)
{
	free(o->office_id);
	free(o->name);
}

void
report_free(report *rep)
{
	int i;

	for (i = 0; i < rep->n_offices; i++)
		office_free(&rep->offices[i]);
	free(rep->offices);
	office_free(&rep->total);
	for (i = 0; i < rep->n_esc; i++) {
		free(rep->esc[i].office_id);
		free(rep->esc[i].veileder_id);
		free(rep->esc[i].veileder_name);
		free(rep->esc[i].case_ref);
		free(rep->esc[i].flag);
		free(rep->esc[i].first_seen);
	}
	free(rep->esc);
	memset(rep, 0, sizeof(*rep));
}

/* ------------------------------------------------------------ text */

static void
fmt_pct(char *buf, size_t n, const report_office *o)
{
	double pct;

	if (report_percent(o, &pct))
		snprintf(buf, n, "%.1f", pct);
	else
		snprintf(buf, n, "-");
}

static void
fmt_opt(char *buf, size_t n, bool has, double v)
{
	if (has)
		snprintf(buf, n, "%.1f", v);
	else
		snprintf(buf, n, "-");
}

static const char *
office_label(const report_office *o)
{
	return o->office_id[0] ? o->office_id : "(none)";
}

int
report_write_table(const report *rep, FILE *out)
{
	int i, j;

	fprintf(out, "kvpscan report (målekort) as of %s, run %lld\n", rep->as_of, rep->run_id);
	fprintf(out, "target period %s %s..%s; items compared with %s; escalation after %d days\n\n",
		rep->period, rep->period_start, rep->period_end,
		rep->cmp_as_of[0] ? rep->cmp_as_of : "the first run", rep->escalate_after_days);
	fprintf(out, "%-8s %6s %6s %6s %7s\n", "office", "target", "actual", "gap", "percent");
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;
		char t[24] = "-", g[24] = "-", pc[24];

		if (o->has_target) {
			snprintf(t, sizeof(t), "%lld", o->target);
			snprintf(g, sizeof(g), "%lld", o->target - o->active);
		}
		fmt_pct(pc, sizeof(pc), o);
		fprintf(out, "%-8s %6s %6lld %6s %7s\n", office_label(o), t, o->active, g, pc);
	}
	fprintf(out, "\nfunnel\n%-8s %6s %5s %5s %6s %5s %5s %5s %5s %6s %5s %5s %5s %6s %6s %6s %6s %6s %6s\n",
		"office", "recip", "long", "spec", "cand", "x_ip", "x_pe", "x_be", "x_ru",
		"flagd", "n_inf", "n_ass", "n_aev", "inform", "a_rel", "a_not", "applid", "grantd", "active");
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;

		fprintf(out, "%-8s %6lld %5lld %5lld %6lld %5lld %5lld %5lld %5lld %6lld %5lld %5lld %5lld"
			" %6lld %6lld %6lld %6lld %6lld %6lld\n", office_label(o),
			o->recipients, o->long_term, o->special_needs, o->candidates,
			o->ex_in_programme, o->ex_pending, o->ex_benefit, o->ex_right_used,
			o->flagged, o->flag_not_informed, o->flag_not_assessed, o->flag_aev_missing,
			o->informed, o->assessed_relevant, o->assessed_not_relevant, o->applied,
			o->granted, o->active);
	}
	fprintf(out, "\nparticipation checks (active KVP participations)\n%-8s %7s %7s %7s %7s %7s\n",
		"office", "n_full", "n_plan", "n_evdt", "ev_due", "over");
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;

		fprintf(out, "%-8s %7lld %7lld %7lld %7lld %7lld\n", office_label(o),
			o->part[0], o->part[1], o->part[2], o->part[3], o->part[4]);
	}
	fprintf(out, "\nworklist items\n%-8s %5s %8s %5s %9s %9s %11s %13s %5s\n", "office", "new",
		"resolved", "open", "escalated", "protected", "median_open", "median_resolve", "dead");
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;
		char mo[24], mr[24];

		fmt_opt(mo, sizeof(mo), o->has_median_open, o->median_open);
		fmt_opt(mr, sizeof(mr), o->has_median_resolve, o->median_resolve);
		fprintf(out, "%-8s %5lld %8lld %5lld %9lld %9lld %11s %13s %5lld\n", office_label(o),
			o->items_new, o->items_resolved, o->items_open, o->escalated,
			o->escalated_protected, mo, mr, o->dead_deliveries);
	}
	fprintf(out, "\nopen longer than %d days (protected persons only counted above)\n",
		rep->escalate_after_days);
	if (rep->n_esc == 0)
		fprintf(out, "  none\n");
	for (j = 0; j < rep->n_esc; j++) {
		const report_escalation *e = &rep->esc[j];

		/* a name may hold æøå: padded by characters, not bytes */
		fprintf(out, "  %-6s %-10s ", e->office_id[0] ? e->office_id : "(none)",
			e->veileder_id ? e->veileder_id : "(fallback)");
		fput_left(out, e->veileder_name ? e->veileder_name : "", 20);
		fprintf(out, " %-14s %-13s since %s, %lld days\n",
			e->case_ref, e->flag, e->first_seen, e->days_open);
	}
	fprintf(out, "\ntrend (last run of each month)\n%-8s %-10s %7s %7s\n", "month", "run", "flagged", "active");
	for (j = 0; j < 12; j++) {
		const report_trend *t = &rep->trend[j];
		char f[24] = "-", a[24] = "-";

		if (t->has_flagged)
			snprintf(f, sizeof(f), "%lld", t->flagged);
		if (t->has_active)
			snprintf(a, sizeof(a), "%lld", t->active);
		fprintf(out, "%-8s %-10s %7s %7s\n", t->month, t->run_as_of[0] ? t->run_as_of : "-", f, a);
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

/* ------------------------------------------------------------ CSV */

int
report_write_csv(const report *rep, FILE *out)
{
	strbuf sb;
	int i, rc;

	sb_init(&sb);
	sb_puts(&sb, "as_of,run_id,period_start,period_end,office_id,name,target,actual,gap,percent_of_target,"
		"recipients,long_term,special_needs,candidates,excluded_in_programme,excluded_pending,"
		"excluded_benefit,excluded_right_used,flagged,not_informed,not_assessed,aev_missing,"
		"informed,assessed_relevant,assessed_not_relevant,applied,granted,active_participants,"
		"items_new,items_resolved,items_open,escalated,escalated_protected,median_days_open,"
		"median_days_to_resolve,dead_deliveries,not_full_time,no_written_plan,no_evaluation_date,"
		"evaluation_overdue,over_duration\n");
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;
		char pc[24], mo[24], mr[24];

		fmt_pct(pc, sizeof(pc), o);
		fmt_opt(mo, sizeof(mo), o->has_median_open, o->median_open);
		fmt_opt(mr, sizeof(mr), o->has_median_resolve, o->median_resolve);
		sb_printf(&sb, "%s,%lld,%s,%s,", rep->as_of, rep->run_id, rep->period_start, rep->period_end);
		csv_escape(&sb, o->office_id);
		sb_putc(&sb, ',');
		csv_escape(&sb, o->name);
		if (o->has_target)
			sb_printf(&sb, ",%lld,%lld,%lld,", o->target, o->active, o->target - o->active);
		else
			sb_printf(&sb, ",,%lld,,", o->active);
		sb_puts(&sb, pc[0] == '-' ? "" : pc);
		sb_printf(&sb, ",%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld",
			  o->recipients, o->long_term, o->special_needs, o->candidates,
			  o->ex_in_programme, o->ex_pending, o->ex_benefit, o->ex_right_used,
			  o->flagged, o->flag_not_informed, o->flag_not_assessed, o->flag_aev_missing,
			  o->informed, o->assessed_relevant, o->assessed_not_relevant, o->applied,
			  o->granted, o->active);
		sb_printf(&sb, ",%lld,%lld,%lld,%lld,%lld,%s,%s,%lld", o->items_new, o->items_resolved,
			  o->items_open, o->escalated, o->escalated_protected,
			  mo[0] == '-' ? "" : mo, mr[0] == '-' ? "" : mr, o->dead_deliveries);
		sb_printf(&sb, ",%lld,%lld,%lld,%lld,%lld\n", o->part[0], o->part[1], o->part[2],
			  o->part[3], o->part[4]);
	}
	fputs(sb_str(&sb), out);
	sb_free(&sb);
	rc = fflush(out) == 0 && !ferror(out) ? 0 : -1;
	return rc;
}

/* ------------------------------------------------------------ JSON */

static void
json_opt_ll(strbuf *sb, bool has, long long v)
{
	if (has)
		sb_printf(sb, "%lld", v);
	else
		sb_puts(sb, "null");
}

static void
json_opt_d(strbuf *sb, bool has, double v)
{
	if (has)
		sb_printf(sb, "%.1f", v);
	else
		sb_puts(sb, "null");
}

static void
json_office(strbuf *sb, const report_office *o)
{
	double pct = 0;
	bool has_pct = report_percent(o, &pct);

	sb_puts(sb, "{\"office_id\":");
	json_escape(sb, o->office_id);
	sb_puts(sb, ",\"name\":");
	json_escape(sb, o->name);
	sb_puts(sb, ",\"target\":");
	json_opt_ll(sb, o->has_target, o->target);
	sb_printf(sb, ",\"actual\":%lld,\"gap\":", o->active);
	json_opt_ll(sb, o->has_target, o->target - o->active);
	sb_puts(sb, ",\"percent_of_target\":");
	json_opt_d(sb, has_pct, pct);
	sb_printf(sb, ",\"funnel\":{\"recipients\":%lld,\"long_term\":%lld,\"special_needs\":%lld,"
		  "\"candidates\":%lld,\"excluded\":{\"in_programme\":%lld,\"pending\":%lld,"
		  "\"excluded_benefit\":%lld,\"right_used\":%lld},\"flagged\":%lld,"
		  "\"flags\":{\"not_informed\":%lld,\"not_assessed\":%lld,\"aev_missing\":%lld},"
		  "\"informed\":%lld,\"assessed_relevant\":%lld,\"assessed_not_relevant\":%lld,"
		  "\"applied\":%lld,\"granted\":%lld,\"active_participants\":%lld}",
		  o->recipients, o->long_term, o->special_needs, o->candidates,
		  o->ex_in_programme, o->ex_pending, o->ex_benefit, o->ex_right_used, o->flagged,
		  o->flag_not_informed, o->flag_not_assessed, o->flag_aev_missing, o->informed,
		  o->assessed_relevant, o->assessed_not_relevant, o->applied, o->granted, o->active);
	sb_printf(sb, ",\"items\":{\"new\":%lld,\"resolved\":%lld,\"open\":%lld,\"escalated\":%lld,"
		  "\"escalated_protected\":%lld,\"median_days_open\":",
		  o->items_new, o->items_resolved, o->items_open, o->escalated, o->escalated_protected);
	json_opt_d(sb, o->has_median_open, o->median_open);
	sb_puts(sb, ",\"median_days_to_resolve\":");
	json_opt_d(sb, o->has_median_resolve, o->median_resolve);
	sb_printf(sb, "},\"dead_deliveries\":%lld", o->dead_deliveries);
	sb_printf(sb, ",\"participation\":{\"not_full_time\":%lld,\"no_written_plan\":%lld,"
		  "\"no_evaluation_date\":%lld,\"evaluation_overdue\":%lld,\"over_duration\":%lld}}",
		  o->part[0], o->part[1], o->part[2], o->part[3], o->part[4]);
}

static void
json_str_or_null(strbuf *sb, const char *s)
{
	if (s == NULL || s[0] == '\0')
		sb_puts(sb, "null");
	else
		json_escape(sb, s);
}

int
report_write_json(const report *rep, FILE *out)
{
	strbuf sb;
	int i;

	sb_init(&sb);
	sb_printf(&sb, "{\"type\":\"%s\",\"version\":%d,\"run_id\":%lld,\"as_of\":\"%s\",",
		  REPORT_SCHEMA_TYPE, REPORT_SCHEMA_VERSION, rep->run_id, rep->as_of);
	sb_puts(&sb, "\"compared_with\":{\"run_id\":");
	json_opt_ll(&sb, rep->cmp_run_id > 0, rep->cmp_run_id);
	sb_puts(&sb, ",\"as_of\":");
	json_str_or_null(&sb, rep->cmp_as_of);
	sb_printf(&sb, "},\"period\":{\"kind\":\"%s\",\"start\":\"%s\",\"end\":\"%s\"},"
		  "\"escalate_after_days\":%d,\"office_filter\":",
		  rep->period, rep->period_start, rep->period_end, rep->escalate_after_days);
	json_str_or_null(&sb, rep->office_filter);
	sb_puts(&sb, ",\"offices\":[");
	for (i = 0; i < rep->n_offices; i++) {
		if (i > 0)
			sb_putc(&sb, ',');
		json_office(&sb, &rep->offices[i]);
	}
	sb_puts(&sb, "],\"total\":");
	json_office(&sb, &rep->total);
	sb_puts(&sb, ",\"escalations\":[");
	for (i = 0; i < rep->n_esc; i++) {
		const report_escalation *e = &rep->esc[i];

		if (i > 0)
			sb_putc(&sb, ',');
		sb_puts(&sb, "{\"office_id\":");
		json_escape(&sb, e->office_id);
		sb_puts(&sb, ",\"veileder_id\":");
		json_str_or_null(&sb, e->veileder_id);
		sb_puts(&sb, ",\"veileder_name\":");
		json_str_or_null(&sb, e->veileder_name);
		sb_puts(&sb, ",\"case_ref\":");
		json_escape(&sb, e->case_ref);
		sb_puts(&sb, ",\"flag\":");
		json_escape(&sb, e->flag);
		sb_printf(&sb, ",\"first_seen\":\"%s\",\"days_open\":%lld}", e->first_seen, e->days_open);
	}
	sb_puts(&sb, "],\"trend\":[");
	for (i = 0; i < 12; i++) {
		const report_trend *t = &rep->trend[i];

		if (i > 0)
			sb_putc(&sb, ',');
		sb_printf(&sb, "{\"month\":\"%s\",\"run_as_of\":", t->month);
		json_str_or_null(&sb, t->run_as_of);
		sb_puts(&sb, ",\"flagged\":");
		json_opt_ll(&sb, t->has_flagged, t->flagged);
		sb_puts(&sb, ",\"active_participants\":");
		json_opt_ll(&sb, t->has_active, t->active);
		sb_putc(&sb, '}');
	}
	sb_puts(&sb, "]}\n");
	fputs(sb_str(&sb), out);
	sb_free(&sb);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

/* ------------------------------------------------------------ command */

static void
report_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan report [--office ID] [--as-of YYYY-MM-DD]\n"
		"                      [--period year|tertial|month] [--format table|csv|json|html]\n"
		"       kvpscan report --deliver [--as-of YYYY-MM-DD]\n\n"
		"Print the leader's målekort from stored runs (no new scan): per office and for\n"
		"the municipality, the KVP target against active participants, the funnel from\n"
		"recipients to participants, new and resolved worklist items, items open longer\n"
		"than report.escalate_after_days by veileder, dead deliveries and a 12-month\n"
		"trend.  See docs/report.md.\n\n"
		"Options:\n"
		"  --office ID       one office only\n"
		"  --as-of DATE      the latest succeeded run on or before DATE (default: the latest run)\n"
		"  --period PERIOD   the target period containing the run's date (default year)\n"
		"  --format FORMAT   table (default), csv, json or html\n"
		"  --deliver         queue the report for every office leader, report.municipality_email\n"
		"                    and the webhook (report.webhook) in the outbox, then deliver\n");
}

int
cmd_report(int argc, char **argv, kvp_ctx *ctx)
{
	static const struct option opts[] = {
		{"office", required_argument, NULL, 'o'},
		{"as-of", required_argument, NULL, 'a'},
		{"period", required_argument, NULL, 'p'},
		{"format", required_argument, NULL, 'f'},
		{"deliver", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *as_of = NULL, *office = NULL, *period = "year", *format = "table";
	bool deliver = false;
	PGconn *conn = NULL;
	report rep;
	bool built = false;
	int c, r, wr = -1, rc = KVP_EXIT_FAILURE;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': office = optarg; break;
		case 'a': as_of = optarg; break;
		case 'p': period = optarg; break;
		case 'f': format = optarg; break;
		case 'd': deliver = true; break;
		case 'h': report_usage(stdout); return KVP_EXIT_OK;
		default: report_usage(stderr); return KVP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument \"%s\"", argv[optind]);
		report_usage(stderr);
		return KVP_EXIT_USAGE;
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "csv") != 0
	    && strcmp(format, "json") != 0 && strcmp(format, "html") != 0) {
		log_error("invalid value for --format: \"%s\"", format);
		log_hint("use table, csv, json or html");
		return KVP_EXIT_USAGE;
	}
	if (strcmp(period, "year") != 0 && strcmp(period, "tertial") != 0 && strcmp(period, "month") != 0) {
		log_error("invalid value for --period: \"%s\"", period);
		log_hint("use year, tertial or month");
		return KVP_EXIT_USAGE;
	}
	if (office != NULL && office[0] == '\0') {
		log_error("--office needs an office id");
		return KVP_EXIT_USAGE;
	}
	if (!as_of_arg_valid(as_of))
		return KVP_EXIT_USAGE;
	if (deliver)
		return report_deliver_command(ctx, as_of);

	conn = db_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;
	if (migrate_check(conn, &ctx->cfg) < 0)
		goto done;
	r = report_build(conn, &ctx->cfg, as_of, office, period, &rep);
	built = true;
	if (r != 0)
		goto done;
	if (office != NULL && rep.n_offices == 0) {
		log_error("office \"%s\" is not in the run", office);
		log_hint("\"kvpscan report\" without --office lists every office");
		goto done;
	}
	if (strcmp(format, "csv") == 0)
		wr = report_write_csv(&rep, stdout);
	else if (strcmp(format, "json") == 0)
		wr = report_write_json(&rep, stdout);
	else if (strcmp(format, "html") == 0)
		wr = report_write_html(&rep, stdout);
	else
		wr = report_write_table(&rep, stdout);
	if (wr < 0) {
		log_error("could not write the report");
		goto done;
	}
	log_info("report as of %s from run %lld: %d offices, %d escalated items listed",
		 rep.as_of, rep.run_id, rep.n_offices, rep.n_esc);
	rc = KVP_EXIT_OK;
done:
	if (built)
		report_free(&rep);
	PQfinish(conn);
	return rc;
}
