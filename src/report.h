/* report.h - the målekort: per-office stats of a run and the leader's report */
#ifndef KVP_REPORT_H
#define KVP_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <libpq-fe.h>
#include "conf.h"
#include "labels.h"

#define REPORT_SCHEMA_TYPE    "kvpscan.report"
#define REPORT_SCHEMA_VERSION 1

/* The funnel and item figures of one office, or of the whole municipality. */
typedef struct report_office {
	char *office_id;            /* "" for persons with no office; "TOTAL" for the total */
	char *name;                 /* the office's name, "" when unknown */
	bool has_target;
	long long target;
	long long recipients, long_term, special_needs, candidates;
	long long ex_in_programme, ex_pending, ex_benefit, ex_right_used;
	long long flagged, flag_not_informed, flag_not_assessed, flag_aev_missing;
	long long informed, assessed_relevant, assessed_not_relevant, applied, granted;
	long long active;           /* active participants on as_of: the "actual" */
	long long part[5];          /* participation checks failed: NOT_FULL_TIME, NO_WRITTEN_PLAN,
	                               NO_EVALUATION_DATE, EVALUATION_OVERDUE, OVER_DURATION */
	long long items_new, items_resolved, items_open, escalated, escalated_protected;
	bool has_median_open, has_median_resolve;
	double median_open, median_resolve;  /* days */
	long long dead_deliveries;
} report_office;

/* One open item past the escalation limit (never a protected person). */
typedef struct report_escalation {
	char *office_id, *veileder_id, *veileder_name;   /* veileder NULL: the office fallback */
	char *case_ref, *flag, *first_seen;
	long long days_open;
} report_escalation;

/* One month of the trend: the month's last run, if any. */
typedef struct report_trend {
	char month[8];              /* YYYY-MM */
	char run_as_of[11];         /* "" when no run that month */
	bool has_flagged, has_active;
	long long flagged, active;
} report_trend;

/* The whole report, built from stored data only. */
typedef struct report {
	long long run_id;
	char as_of[11];
	long long cmp_run_id;       /* 0: no earlier run 7+ days before */
	char cmp_as_of[11];         /* "" when none */
	const char *period;         /* "year", "tertial" or "month" */
	char period_start[11], period_end[11];
	int escalate_after_days;
	kvp_labels labels;          /* the words for the participation checks */
	const char *office_filter;  /* NULL: every office */
	report_office *offices;
	int n_offices;
	report_office total;
	report_escalation *esc;
	int n_esc;
	report_trend trend[12];
} report;

/*
 * Store the run's per-office funnel into run_office (sql/office_stats.sql);
 * call inside scan_store_tx while kvp_scan_result and kvp_pay exist.  0 or
 * -1 logged.
 */
int report_store_office_stats(PGconn *conn, const kvp_config *cfg, const char *run_id,
			      const char *as_of);

/*
 * Build the report from the latest succeeded run on or before as_of (NULL:
 * the latest run).  Returns 0, 1 when there is no such run (logged), -1 logged.
 * Free with report_free().
 */
int report_build(PGconn *conn, const kvp_config *cfg, const char *as_of, const char *office,
		 const char *period, report *rep);
/* Free what report_build() allocated. */
void report_free(report *rep);

/* Write the report as text, CSV or JSON (version 1) to out; 0 or -1 on a write error. */
int report_write_table(const report *rep, FILE *out);
int report_write_csv(const report *rep, FILE *out);
int report_write_json(const report *rep, FILE *out);
/* Write the report as one self-contained HTML page (report_html.c); 0 or -1. */
int report_write_html(const report *rep, FILE *out);

/* Percentage of target reached (actual * 100 / target); false when no target or 0. */
bool report_percent(const report_office *o, double *pct);

#endif
