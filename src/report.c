/* report.c - "kvpscan report": the målekort from stored runs (docs/report.md) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "labels.h"
#include "log.h"
#include "migrate.h"
#include "report.h"
#include "sqlfiles.h"

bool
report_percent(const report_office *o, double *pct)
{
	if (!o->has_target || o->target <= 0)
		return false;
	*pct = (double) o->active * 100.0 / (double) o->target;
	return true;
}

bool
report_gap(const report_office *o, long long *gap)
{
	if (!o->has_target || o->target <= 0)
		return false;
	*gap = o->target - o->active;
	return true;
}

enum report_target_status
report_status(const report_office *o)
{
	double pct;

	if (!o->has_target)
		return REPORT_NO_TARGET;
	if (!report_percent(o, &pct))
		return REPORT_ZERO_TARGET;
	if (o->active >= o->target)
		return REPORT_REACHED;
	/* integers, not the rounded percentage: 2 of 4 is 50 %, 49 of 100 is not */
	if (o->active * 2 >= o->target)
		return REPORT_BELOW;
	return REPORT_FAR_BELOW;
}

const char *
report_status_key(enum report_target_status st)
{
	switch (st) {
	case REPORT_ZERO_TARGET: return "zero_target";
	case REPORT_REACHED: return "reached";
	case REPORT_BELOW: return "below";
	case REPORT_FAR_BELOW: return "far_below";
	default: return "no_target";
	}
}

const char *
report_status_text(enum report_target_status st)
{
	switch (st) {
	case REPORT_ZERO_TARGET: return "ingen mål";
	case REPORT_REACHED: return "nådd";
	case REPORT_BELOW: return "under mål";
	case REPORT_FAR_BELOW: return "langt under mål";
	default: return "ikke satt";
	}
}

const char *
report_flag_text(const kvp_labels *l, const char *code, char *buf, size_t n)
{
	const char *t = label_of(l, code);

	snprintf(buf, n, "%s", t);
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char) (buf[0] - 'a' + 'A');
	return buf;
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
	" ro.flag_no_evaluation_date, ro.flag_evaluation_overdue, ro.flag_over_duration,"
	" ro.flag_aev_after_decision, ro.flag_no_self_assessment,"
	" ro.in_scope, ro.assessed, ro.self_assessment_unknown"
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

/*
 * The same counted in persons: one row per office and person of the items up
 * to run $1, then per office and in total.  new: an item first seen since the
 * comparison run $3; resolved: an item resolved since it and none open now;
 * open: an item open at run $1; escalated: one open longer than $4 days.
 * Medians per person: days since the oldest open item; days from the first
 * to the last item resolved in the 365 days before as_of $2.
 */
static const char persons_sql[] =
	"WITH p AS (SELECT coalesce(i.office_id, '') AS office_id, i.person_id,"
	"  bool_or(i.first_run_id > $3::bigint) AS is_new,"
	"  bool_or(i.resolved_run_id > $3::bigint AND i.resolved_run_id <= $1::bigint) AS resolved,"
	"  bool_or(i.resolved_run_id IS NULL OR i.resolved_run_id > $1::bigint) AS open,"
	"  bool_or((i.resolved_run_id IS NULL OR i.resolved_run_id > $1::bigint)"
	"   AND $2::date - i.first_seen > $4::int) AS escalated,"
	"  bool_or(i.protected) AS protected,"
	"  $2::date - min(i.first_seen) FILTER (WHERE i.resolved_run_id IS NULL OR i.resolved_run_id > $1::bigint)"
	"   AS days_open,"
	"  max(i.resolved_on) FILTER (WHERE i.resolved_run_id <= $1::bigint AND i.resolved_on > $2::date - 365)"
	"   - min(i.first_seen) FILTER (WHERE i.resolved_run_id <= $1::bigint AND i.resolved_on > $2::date - 365)"
	"   AS days_to_resolve"
	" FROM @state@.item i"
	" WHERE i.first_run_id <= $1::bigint AND ($5::text IS NULL OR i.office_id = $5::text)"
	" GROUP BY 1, 2)"
	" SELECT office_id, grouping(office_id),"
	"  count(DISTINCT person_id) FILTER (WHERE is_new),"
	"  count(DISTINCT person_id) FILTER (WHERE resolved AND NOT open),"
	"  count(DISTINCT person_id) FILTER (WHERE open),"
	"  count(DISTINCT person_id) FILTER (WHERE escalated),"
	"  count(DISTINCT person_id) FILTER (WHERE escalated AND protected),"
	"  percentile_cont(0.5) WITHIN GROUP (ORDER BY days_open) FILTER (WHERE open),"
	"  percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_resolve) FILTER (WHERE days_to_resolve IS NOT NULL)"
	" FROM p GROUP BY GROUPING SETS ((office_id), ())";


/* One line per person (never a protected one) with items open past the limit, their flags joined. */
static const char esc_sql[] =
	"SELECT coalesce(i.office_id, ''), i.veileder_id, min(v.display_name), min(i.case_ref),"
	" array_to_string(ARRAY(SELECT f FROM unnest(" FLAG_ORDER ") WITH ORDINALITY u(f, k)"
	"  WHERE f = ANY (array_agg(i.flag)) ORDER BY k), '+'),"
	" min(i.first_seen), $2::date - min(i.first_seen)"
	" FROM @state@.item i LEFT JOIN @src@.veileder v ON v.veileder_id = i.veileder_id"
	" WHERE i.first_run_id <= $1::bigint AND (i.resolved_run_id IS NULL OR i.resolved_run_id > $1::bigint)"
	"  AND $2::date - i.first_seen > $3::int AND NOT i.protected"
	"  AND ($4::text IS NULL OR i.office_id = $4::text)"
	" GROUP BY coalesce(i.office_id, ''), i.veileder_id, i.person_id"
	" ORDER BY coalesce(i.office_id, '') COLLATE \"C\", i.veileder_id COLLATE \"C\" NULLS LAST, 7 DESC,"
	"  min(i.case_ref) COLLATE \"C\"";

/* Dead deliveries of the report's run $1 and of earlier runs (later runs' are not the report date's). */
static const char dead_sql[] =
	"SELECT coalesce(office_id, ''), grouping(coalesce(office_id, '')), count(*)"
	" FROM @state@.delivery WHERE state = 'dead' AND run_id <= $2::bigint"
	"  AND ($1::text IS NULL OR office_id = $1::text)"
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
	for (i = 0; i < 7; i++)
		t->part[i] += o->part[i];
	t->part_unknown += o->part_unknown;
	t->in_scope += o->in_scope;
	t->assessed += o->assessed;
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
	/* the total has the stages only when every office has them */
	rep->total.has_stages = true;
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
		for (j = 0; j < 7; j++)
			o->part[j] = val_ll(res, i, c++);
		o->has_stages = !PQgetisnull(res, i, c);
		o->in_scope = val_ll(res, i, c++);
		o->assessed = val_ll(res, i, c++);
		o->has_part_unknown = !PQgetisnull(res, i, c);
		o->part_unknown = val_ll(res, i, c++);
		if (o->office_id[0] == '\0') {
			free(o->name);
			o->name = xstrdup(REPORT_NO_OFFICE);
		}
		add_office(&rep->total, o);
		rep->total.has_stages = rep->total.has_stages && o->has_stages;
		rep->total.has_part_unknown = (i == 0 || rep->total.has_part_unknown) && o->has_part_unknown;
	}
	PQclear(res);
	return 0;
}

/* One office's row of the items or persons query: new, resolved, open, escalated, protected, medians. */
struct counts {
	long long v[5];
	bool has_open, has_resolve;
	double median_open, median_resolve;
};

static void
read_counts(const PGresult *res, int i, struct counts *k)
{
	int j;

	memset(k, 0, sizeof(*k));
	for (j = 0; j < 5; j++)
		k->v[j] = val_ll(res, i, 2 + j);
	k->has_open = !PQgetisnull(res, i, 7);
	if (k->has_open)
		parse_double(PQgetvalue(res, i, 7), 0, 1e9, &k->median_open);
	k->has_resolve = !PQgetisnull(res, i, 8);
	if (k->has_resolve)
		parse_double(PQgetvalue(res, i, 8), -1e9, 1e9, &k->median_resolve);
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
		struct counts k;

		if (o == NULL)
			continue;
		read_counts(res, i, &k);
		o->items_new = k.v[0];
		o->items_resolved = k.v[1];
		o->items_open = k.v[2];
		o->escalated = k.v[3];
		o->escalated_protected = k.v[4];
		o->has_median_open = k.has_open;
		o->median_open = k.median_open;
		o->has_median_resolve = k.has_resolve;
		o->median_resolve = k.median_resolve;
	}
	PQclear(res);

	p[0] = run_id; p[1] = rep->as_of; p[2] = cmp; p[3] = days; p[4] = rep->office_filter;
	res = rep_query(conn, cfg, "counting the persons with worklist items", persons_sql, 5, p);
	if (res == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		report_office *o = find_office(rep, PQgetvalue(res, i, 0), val_ll(res, i, 1) != 0);
		struct counts k;

		if (o == NULL)
			continue;
		read_counts(res, i, &k);
		o->p_new = k.v[0];
		o->p_resolved = k.v[1];
		o->p_open = k.v[2];
		o->p_escalated = k.v[3];
		o->p_escalated_protected = k.v[4];
		o->has_pmedian_open = k.has_open;
		o->pmedian_open = k.median_open;
		o->has_pmedian_resolve = k.has_resolve;
		o->pmedian_resolve = k.median_resolve;
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
		e->flags = xstrdup(PQgetvalue(res, i, 4));
		e->flag = xasprintf("%.*s", (int) strcspn(e->flags, "+"), e->flags);
		e->first_seen = xstrdup(PQgetvalue(res, i, 5));
		e->days_open = val_ll(res, i, 6);
	}
	PQclear(res);

	p[0] = rep->office_filter;
	p[1] = run_id;
	res = rep_query(conn, cfg, "counting dead deliveries", dead_sql, 2, p);
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
	if (rc != 0)
		report_free(rep);       /* nothing half-built is left to the caller */
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
		free(rep->esc[i].flags);
		free(rep->esc[i].first_seen);
	}
	free(rep->esc);
	memset(rep, 0, sizeof(*rep));
}

/* ------------------------------------------------------------ shared by text and HTML */

static void
row_set(report_row *r, const char *label, bool has, long long v, const char *who)
{
	snprintf(r->label, sizeof(r->label), "%s", label);
	r->has = has;
	r->value = v;
	r->who = who;
}

void
report_stages(const report_office *o, report_row rows[REPORT_STAGES])
{
	row_set(&rows[0], "I målgruppen", o->has_stages, o->in_scope,
		"personer i arbeidsfør alder som er langtidsmottakere av økonomisk stønad "
		"eller har spesielt tilpasset innsats");
	row_set(&rows[1], "Kandidater", true, o->candidates, "av dem: ikke unntatt");
	row_set(&rows[2], "Informert", true, o->informed,
		"av kandidatene: informert om KVP innen gyldighetstiden");
	row_set(&rows[3], "Informert og vurdert", o->has_stages, o->assessed,
		"av de informerte: også vurdert for KVP innen gyldighetstiden");
}

int
report_other(const report_office *o, const kvp_labels *l, report_row rows[REPORT_OTHER_ROWS])
{
	static const char *const part_codes[7] = {"NOT_FULL_TIME", "NO_WRITTEN_PLAN",
		"NO_EVALUATION_DATE", "EVALUATION_OVERDUE", "OVER_DURATION", "AEV_AFTER_DECISION",
		"NO_SELF_ASSESSMENT"};
	static const char scope_any[] = "i målgruppen, unntatte medregnet, siste 12 måneder";
	char label[96];
	int n = 0, k;

	row_set(&rows[n++], "Mottakere av økonomisk stønad", true, o->recipients,
		"alle med stønad minst én måned i identifikasjonsvinduet (12 måneder), uansett alder");
	row_set(&rows[n++], "Langtidsmottakere", true, o->long_term, "i målgruppen");
	row_set(&rows[n++], "Spesielt tilpasset innsats", true, o->special_needs,
		"i målgruppen (en person kan være begge)");
	row_set(&rows[n++], "Unntatt: deltar i KVP", true, o->ex_in_programme,
		"i målgruppen; en person kan ha flere grunner");
	row_set(&rows[n++], "Unntatt: søknad til behandling", true, o->ex_pending, "i målgruppen");
	row_set(&rows[n++], "Unntatt: AAP eller uføretrygd", true, o->ex_benefit, "i målgruppen");
	row_set(&rows[n++], "Unntatt: retten brukt", true, o->ex_right_used, "i målgruppen");
	row_set(&rows[n++], "Flagget", true, o->flagged, "kandidater med minst ett flagg");
	row_set(&rows[n++], "Ikke informert om KVP", true, o->flag_not_informed,
		"kandidater med flagget (en person kan ha flere)");
	row_set(&rows[n++], "Ikke vurdert for KVP", true, o->flag_not_assessed, "kandidater med flagget");
	row_set(&rows[n++], "Mangler arbeidsevnevurdering", true, o->flag_aev_missing, "kandidater med flagget");
	row_set(&rows[n++], "Vurdert: relevant", true, o->assessed_relevant,
		"i målgruppen, unntatte medregnet: siste vurdering de siste 12 månedene");
	row_set(&rows[n++], "Vurdert: ikke relevant", true, o->assessed_not_relevant,
		"i målgruppen, unntatte medregnet: siste vurdering de siste 12 månedene");
	row_set(&rows[n++], "Søkt", true, o->applied, scope_any);
	row_set(&rows[n++], "Innvilget", true, o->granted, scope_any);
	row_set(&rows[n++], "Deltakere (aktive)", true, o->active,
		"alle med en aktiv KVP-deltakelse på datoen, i målgruppen eller ikke (målekortets faktisk)");
	for (k = 0; k < 7; k++) {
		snprintf(label, sizeof(label), "Deltakelse: %s", label_of(l, part_codes[k]));
		row_set(&rows[n++], label, true, o->part[k], "aktive deltakere");
	}
	row_set(&rows[n++], "Deltakelse: egenvurdering ukjent", o->has_part_unknown, o->part_unknown,
		"aktive deltakere der det ikke er kjent om egenvurderingen er dokumentert");
	return n;
}

const char *
report_office_title(const report_office *o, char *buf, size_t n)
{
	if (strcmp(o->office_id, "TOTAL") == 0)
		snprintf(buf, n, "Hele kommunen");
	else if (o->office_id[0] == '\0')
		snprintf(buf, n, "%s", REPORT_NO_OFFICE);
	else if (o->name[0])
		snprintf(buf, n, "%s %s", o->office_id, o->name);
	else
		snprintf(buf, n, "%s", o->office_id);
	return buf;
}

const char *
report_decimal(double v, char *buf, size_t n)
{
	char *p;

	snprintf(buf, n, "%.1f", v);
	if ((p = strchr(buf, '.')) != NULL)
		*p = ',';
	return buf;
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

/* Append s padded with spaces to width characters (UTF-8 code points). */
static void
pad(strbuf *sb, const char *s, int width)
{
	sb_puts(sb, s);
	for (int w = (int) utf8_width(s); w < width; w++)
		sb_putc(sb, ' ');
}

/* A number right-aligned in width, or "–" when has is false. */
static void
num(strbuf *sb, bool has, long long v, int width)
{
	char b[32];

	if (has)
		snprintf(b, sizeof(b), "%lld", v);
	else
		snprintf(b, sizeof(b), "–");
	for (int i = (int) utf8_width(b); i < width; i++)
		sb_putc(sb, ' ');
	sb_puts(sb, b);
}

static void
text_right(strbuf *sb, const char *s, int width)
{
	for (int i = (int) utf8_width(s); i < width; i++)
		sb_putc(sb, ' ');
	sb_puts(sb, s);
}

#define FOR_OFFICES(rep, i, o) \
	for ((i) = 0; (i) <= (rep)->n_offices \
	     && ((o) = (i) < (rep)->n_offices ? &(rep)->offices[i] : &(rep)->total, 1); (i)++)

const char report_status_note[] =
	"Status: nådd = faktisk er minst målet; under mål = minst halvparten av målet; "
	"langt under mål = under halvparten av målet (i HTML: grønn, gul, rød); "
	"ingen mål = målet er 0, så det er ikke noe avvik å lese; ikke satt = ingen mål for perioden "
	"(kvpscan target set).";

int
report_write_table(const report *rep, FILE *out)
{
	const report_office *o;
	char title[160], b1[32], b2[40];
	report_row rows[REPORT_OTHER_ROWS];
	strbuf sb;
	int i, j, n;

	sb_init(&sb);
	sb_puts(&sb, "Målekort: kvalifiseringsprogrammet (KVP)\n");
	sb_printf(&sb, "Per %s (kjøring %lld). Målperiode %s–%s.", rep->as_of, rep->run_id,
		  rep->period_start, rep->period_end);
	if (rep->office_filter)
		sb_printf(&sb, " Kontor %s.", rep->office_filter);
	sb_puts(&sb, "\n\n== Målekort: mål og faktiske deltakere ==\n");
	pad(&sb, "Kontor", 34);
	sb_puts(&sb, "    Mål  Faktisk  Avvik  Andel av mål  Status\n");
	FOR_OFFICES(rep, i, o) {
		long long gap = 0;
		double pct = 0;
		bool has_gap = report_gap(o, &gap), has_pct = report_percent(o, &pct);

		pad(&sb, report_office_title(o, title, sizeof(title)), 34);
		num(&sb, o->has_target, o->target, 7);
		num(&sb, true, o->active, 9);
		num(&sb, has_gap, gap, 7);
		if (has_pct) {
			snprintf(b2, sizeof(b2), "%s %%", report_decimal(pct, b1, sizeof(b1)));
			text_right(&sb, b2, 14);
		} else {
			text_right(&sb, "–", 14);
		}
		sb_printf(&sb, "  %s\n", report_status_text(report_status(o)));
	}
	sb_puts(&sb, "Faktisk: personer med en aktiv KVP-deltakelse på datoen. Avvik = mål − faktisk.\n");
	sb_printf(&sb, "%s\n", report_status_note);

	sb_puts(&sb, "\n== Trakten: fra målgruppe til vurdert ==\n"
		"Personer; hvert trinn er en del av trinnet over.\n");
	/* the total first, then each office (one office: the total is that office) */
	for (i = -1; i < rep->n_offices && (i < 0 || rep->n_offices > 1); i++) {
		o = i < 0 ? &rep->total : &rep->offices[i];
		report_stages(o, rows);
		sb_printf(&sb, "\n%s\n", report_office_title(o, title, sizeof(title)));
		for (j = 0; j < REPORT_STAGES; j++) {
			sb_puts(&sb, "  ");
			pad(&sb, rows[j].label, 38);
			num(&sb, rows[j].has, rows[j].value, 7);
			sb_printf(&sb, "  %s\n", rows[j].who);
		}
		sb_puts(&sb, "  Andre tall (hvert tall teller sin egen gruppe, ikke et trinn i trakten)\n");
		n = report_other(o, &rep->labels, rows);
		for (j = 0; j < n; j++) {
			sb_puts(&sb, "  ");
			pad(&sb, rows[j].label, 38);
			num(&sb, rows[j].has, rows[j].value, 7);
			sb_printf(&sb, "  %s\n", rows[j].who);
		}
	}

	sb_printf(&sb, "\n== Arbeidslister: personer ==\n");
	pad(&sb, "Kontor", 34);
	sb_printf(&sb, "  Nye  Ferdig  Åpne  Over %d d  Herav skjermede  Median åpen  Median til løst  Feilede utsendinger\n",
		  rep->escalate_after_days);
	FOR_OFFICES(rep, i, o) {
		pad(&sb, report_office_title(o, title, sizeof(title)), 34);
		num(&sb, true, o->p_new, 5);
		num(&sb, true, o->p_resolved, 8);
		num(&sb, true, o->p_open, 6);
		num(&sb, true, o->p_escalated, 10);
		num(&sb, true, o->p_escalated_protected, 17);
		text_right(&sb, o->has_pmedian_open ? report_decimal(o->pmedian_open, b1, sizeof(b1)) : "–", 13);
		text_right(&sb, o->has_pmedian_resolve ? report_decimal(o->pmedian_resolve, b1, sizeof(b1)) : "–", 17);
		num(&sb, true, o->dead_deliveries, 21);
		sb_putc(&sb, '\n');
	}
	sb_puts(&sb, "Personer, ikke saker: en person med flere flagg telles én gang.\n");
	sb_printf(&sb, "Nye: personer med en sak først sett siden %s. Ferdig: personer med en sak løst siden da\n"
		  "og ingen åpen nå. Åpne: personer med minst én åpen sak (nye medregnet). Median åpen: dager\n"
		  "siden personens eldste åpne sak. Median til løst: dager fra personens første til siste sak\n"
		  "løst de siste 365 dagene. Feilede utsendinger: arbeidslister og rapporter fra denne og\n"
		  "tidligere kjøringer som ikke kom fram (kvpscan outbox --failed).\n",
		  rep->cmp_as_of[0] ? rep->cmp_as_of : "første kjøring");

	sb_printf(&sb, "\n== Personer med saker åpne lenger enn %d dager ==\n", rep->escalate_after_days);
	if (rep->n_esc == 0)
		sb_puts(&sb, "Ingen.\n");
	for (j = 0; j < rep->n_esc; j++) {
		const report_escalation *e = &rep->esc[j];
		char who[200], flag[96];
		strbuf fl;
		const char *p = e->flags;

		sb_init(&fl);
		while (*p) {
			size_t len = strcspn(p, "+");
			char code[64];

			snprintf(code, sizeof(code), "%.*s", (int) len, p);
			if (fl.len > 0)
				sb_puts(&fl, ", ");
			sb_puts(&fl, report_flag_text(&rep->labels, code, flag, sizeof(flag)));
			p += len;
			if (*p == '+')
				p++;
		}
		if (e->veileder_id)
			snprintf(who, sizeof(who), "%s (%s)", e->veileder_name ? e->veileder_name : e->veileder_id,
				 e->veileder_id);
		else
			snprintf(who, sizeof(who), "Kontorets felles postkasse");
		sb_puts(&sb, "  ");
		pad(&sb, e->office_id[0] ? e->office_id : REPORT_NO_OFFICE, 13);
		sb_putc(&sb, ' ');
		pad(&sb, who, 30);
		sb_putc(&sb, ' ');
		pad(&sb, e->case_ref, 14);
		sb_printf(&sb, " først sett %s, %lld dager: %s\n", e->first_seen, e->days_open, sb_str(&fl));
		sb_free(&fl);
	}
	sb_puts(&sb, "Skjermede personer vises bare som antall.\n");

	sb_puts(&sb, "\n== Utvikling siste 12 måneder (siste kjøring hver måned) ==\n"
		"Måned    Kjøring     Flagget  Deltakere\n");
	for (j = 0; j < 12; j++) {
		const report_trend *t = &rep->trend[j];

		pad(&sb, t->month, 9);
		pad(&sb, t->run_as_of[0] ? t->run_as_of : "–", 10);
		num(&sb, t->has_flagged, t->flagged, 9);
		num(&sb, t->has_active, t->active, 11);
		sb_putc(&sb, '\n');
	}
	sb_printf(&sb, "\n%s\n", REPORT_FOOTNOTE);
	fputs(sb_str(&sb), out);
	sb_free(&sb);
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
		"evaluation_overdue,over_duration,in_scope,assessed,target_status,persons_new,persons_resolved,"
		"persons_open,persons_escalated,persons_escalated_protected,persons_median_days_open,"
		"persons_median_days_to_resolve,aev_after_decision,no_self_assessment,"
		"self_assessment_unknown\n");
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;
		char pc[24], mo[24], mr[24];
		long long gap = 0;

		fmt_pct(pc, sizeof(pc), o);
		fmt_opt(mo, sizeof(mo), o->has_median_open, o->median_open);
		fmt_opt(mr, sizeof(mr), o->has_median_resolve, o->median_resolve);
		sb_printf(&sb, "%s,%lld,%s,%s,", rep->as_of, rep->run_id, rep->period_start, rep->period_end);
		csv_escape(&sb, o->office_id);
		sb_putc(&sb, ',');
		csv_escape(&sb, o->name);
		if (o->has_target)
			sb_printf(&sb, ",%lld,%lld,", o->target, o->active);
		else
			sb_printf(&sb, ",,%lld,", o->active);
		if (report_gap(o, &gap))
			sb_printf(&sb, "%lld", gap);
		sb_putc(&sb, ',');
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
		sb_printf(&sb, ",%lld,%lld,%lld,%lld,%lld", o->part[0], o->part[1], o->part[2],
			  o->part[3], o->part[4]);
		if (o->has_stages)
			sb_printf(&sb, ",%lld,%lld", o->in_scope, o->assessed);
		else
			sb_puts(&sb, ",,");
		fmt_opt(mo, sizeof(mo), o->has_pmedian_open, o->pmedian_open);
		fmt_opt(mr, sizeof(mr), o->has_pmedian_resolve, o->pmedian_resolve);
		sb_printf(&sb, ",%s,%lld,%lld,%lld,%lld,%lld,%s,%s", report_status_key(report_status(o)),
			  o->p_new, o->p_resolved, o->p_open, o->p_escalated, o->p_escalated_protected,
			  mo[0] == '-' ? "" : mo, mr[0] == '-' ? "" : mr);
		sb_printf(&sb, ",%lld,%lld,", o->part[5], o->part[6]);
		if (o->has_part_unknown)
			sb_printf(&sb, "%lld", o->part_unknown);
		sb_putc(&sb, '\n');
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
	long long gap = 0;
	bool has_pct = report_percent(o, &pct), has_gap = report_gap(o, &gap);

	sb_puts(sb, "{\"office_id\":");
	json_escape(sb, o->office_id);
	sb_puts(sb, ",\"name\":");
	json_escape(sb, o->name);
	sb_puts(sb, ",\"target\":");
	json_opt_ll(sb, o->has_target, o->target);
	sb_printf(sb, ",\"actual\":%lld,\"gap\":", o->active);
	json_opt_ll(sb, has_gap, gap);
	sb_puts(sb, ",\"percent_of_target\":");
	json_opt_d(sb, has_pct, pct);
	sb_printf(sb, ",\"target_status\":\"%s\"", report_status_key(report_status(o)));
	sb_printf(sb, ",\"funnel\":{\"recipients\":%lld,\"long_term\":%lld,\"special_needs\":%lld,"
		  "\"candidates\":%lld,\"excluded\":{\"in_programme\":%lld,\"pending\":%lld,"
		  "\"excluded_benefit\":%lld,\"right_used\":%lld},\"flagged\":%lld,"
		  "\"flags\":{\"not_informed\":%lld,\"not_assessed\":%lld,\"aev_missing\":%lld},"
		  "\"informed\":%lld,\"assessed_relevant\":%lld,\"assessed_not_relevant\":%lld,"
		  "\"applied\":%lld,\"granted\":%lld,\"active_participants\":%lld",
		  o->recipients, o->long_term, o->special_needs, o->candidates,
		  o->ex_in_programme, o->ex_pending, o->ex_benefit, o->ex_right_used, o->flagged,
		  o->flag_not_informed, o->flag_not_assessed, o->flag_aev_missing, o->informed,
		  o->assessed_relevant, o->assessed_not_relevant, o->applied, o->granted, o->active);
	sb_puts(sb, ",\"in_scope\":");
	json_opt_ll(sb, o->has_stages, o->in_scope);
	sb_puts(sb, ",\"assessed\":");
	json_opt_ll(sb, o->has_stages, o->assessed);
	sb_putc(sb, '}');
	sb_printf(sb, ",\"items\":{\"new\":%lld,\"resolved\":%lld,\"open\":%lld,\"escalated\":%lld,"
		  "\"escalated_protected\":%lld,\"median_days_open\":",
		  o->items_new, o->items_resolved, o->items_open, o->escalated, o->escalated_protected);
	json_opt_d(sb, o->has_median_open, o->median_open);
	sb_puts(sb, ",\"median_days_to_resolve\":");
	json_opt_d(sb, o->has_median_resolve, o->median_resolve);
	sb_printf(sb, "},\"persons\":{\"new\":%lld,\"resolved\":%lld,\"open\":%lld,\"escalated\":%lld,"
		  "\"escalated_protected\":%lld,\"median_days_open\":",
		  o->p_new, o->p_resolved, o->p_open, o->p_escalated, o->p_escalated_protected);
	json_opt_d(sb, o->has_pmedian_open, o->pmedian_open);
	sb_puts(sb, ",\"median_days_to_resolve\":");
	json_opt_d(sb, o->has_pmedian_resolve, o->pmedian_resolve);
	sb_printf(sb, "},\"dead_deliveries\":%lld", o->dead_deliveries);
	sb_printf(sb, ",\"participation\":{\"not_full_time\":%lld,\"no_written_plan\":%lld,"
		  "\"no_evaluation_date\":%lld,\"evaluation_overdue\":%lld,\"over_duration\":%lld,"
		  "\"aev_after_decision\":%lld,\"no_self_assessment\":%lld,\"self_assessment_unknown\":",
		  o->part[0], o->part[1], o->part[2], o->part[3], o->part[4], o->part[5], o->part[6]);
	json_opt_ll(sb, o->has_part_unknown, o->part_unknown);
	sb_puts(sb, "}}");
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
		sb_puts(&sb, ",\"flags\":[");
		{
			const char *q = e->flags;
			bool first = true;

			while (*q) {
				size_t len = strcspn(q, "+");
				char code[64];

				snprintf(code, sizeof(code), "%.*s", (int) len, q);
				if (!first)
					sb_putc(&sb, ',');
				json_escape(&sb, code);
				first = false;
				q += len;
				if (*q == '+')
					q++;
			}
		}
		sb_putc(&sb, ']');
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
