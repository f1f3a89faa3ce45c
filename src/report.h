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
	char *name;                 /* the office's name; REPORT_NO_OFFICE for office ""; "" when unknown */
	bool has_target;
	long long target;
	long long recipients, long_term, special_needs, candidates;
	long long ex_in_programme, ex_pending, ex_benefit, ex_right_used;
	long long flagged, flag_not_informed, flag_not_assessed, flag_aev_missing;
	long long informed, assessed_relevant, assessed_not_relevant, applied, granted;
	bool has_stages;            /* in_scope and assessed stored (runs from migration 009 on) */
	long long in_scope, assessed;   /* the funnel's first and last stage */
	long long active;           /* active participants on as_of: the "actual" */
	long long part[7];          /* participation checks failed: NOT_FULL_TIME, NO_WRITTEN_PLAN,
	                               NO_EVALUATION_DATE, EVALUATION_OVERDUE, OVER_DURATION,
	                               AEV_AFTER_DECISION, NO_SELF_ASSESSMENT */
	bool has_part_unknown;      /* part_unknown stored (runs from migration 010 on) */
	long long part_unknown;     /* active participations whose self-assessment is not known */
	long long items_new, items_resolved, items_open, escalated, escalated_protected;
	bool has_median_open, has_median_resolve;
	double median_open, median_resolve;  /* days */
	long long dead_deliveries;
	/* the same, counted in persons (a person with several flags once) */
	long long p_new, p_resolved, p_open, p_escalated, p_escalated_protected;
	bool has_pmedian_open, has_pmedian_resolve;
	double pmedian_open, pmedian_resolve;  /* days, per person */
} report_office;

/* What office_id "" (persons without an office) is called in every format. */
#define REPORT_NO_OFFICE "(uten kontor)"

/* How far an office is from its target (docs/report.md "Reading the målekort"). */
enum report_target_status {
	REPORT_NO_TARGET = 0,       /* no target set for the period */
	REPORT_ZERO_TARGET,         /* a target of 0: no gap to read */
	REPORT_REACHED,             /* actual >= target (100 % or more) */
	REPORT_BELOW,               /* 50 % <= actual / target < 100 % */
	REPORT_FAR_BELOW            /* actual / target < 50 % */
};

/* One person with open items past the escalation limit (never a protected person). */
typedef struct report_escalation {
	char *office_id, *veileder_id, *veileder_name;   /* veileder NULL: the office fallback */
	char *case_ref;
	char *flag;                 /* the first of flags (JSON "flag", kept for version 1 readers) */
	char *flags;                /* the escalated items' flags, "+"-joined in the fixed flag order */
	char *first_seen;           /* the oldest escalated item's */
	long long days_open;        /* the oldest escalated item's */
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
 * Build the report from the latest succeeded run on or before as_of (NULL:
 * the latest run).  Returns 0, 1 when there is no such run (logged), -1 logged.
 * Free with report_free() after 0; on failure nothing is left to free.
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

/* One line of the funnel or of the other counts: what, how many, and who is counted. */
typedef struct report_row {
	char label[96];
	bool has;                   /* false: not stored for this run (shown as "–") */
	long long value;
	const char *who;            /* the population the count is of (Norwegian), static */
} report_row;

#define REPORT_STAGES 4
#define REPORT_OTHER_ROWS 24
/* The funnel's stages of o, each a subset of the one above (in scope, candidates, informed, assessed). */
void report_stages(const report_office *o, report_row rows[REPORT_STAGES]);
/* The counts outside the funnel, each of its own population; returns how many (REPORT_OTHER_ROWS). */
int report_other(const report_office *o, const kvp_labels *l, report_row rows[REPORT_OTHER_ROWS]);
/* The office as a heading: "Hele kommunen", "0301 Nav Gamle Oslo" or REPORT_NO_OFFICE; into buf. */
const char *report_office_title(const report_office *o, char *buf, size_t n);
/* A number with one decimal and a decimal comma ("14,3"), into buf. */
const char *report_decimal(double v, char *buf, size_t n);

/* The colour rule and the target-0 wording, for the notes of the text and HTML formats. */
extern const char report_status_note[];
/* The last line of the text and HTML formats. */
#define REPORT_FOOTNOTE "Laget av kvpscan fra lagrede kjøringer. Målgruppen og trakten gjelder personer i " \
	"arbeidsfør alder; mottakere av stønad og deltakere telles uansett alder. Ingen personopplysninger " \
	"utover saksnummer."

/* Percentage of target reached (actual * 100 / target); false when no target or 0. */
bool report_percent(const report_office *o, double *pct);
/* The gap target - actual; false when no target or a target of 0 (no gap to read). */
bool report_gap(const report_office *o, long long *gap);
/* Where the office stands against its target (the colour rule). */
enum report_target_status report_status(const report_office *o);
/* The status in words: key "reached" etc. (JSON, CSV) or Norwegian text ("nådd"); static text. */
const char *report_status_key(enum report_target_status st);
const char *report_status_text(enum report_target_status st);
/* The Norwegian words for a flag code, as the report shows it ("Ikke informert"); static or l's text. */
const char *report_flag_text(const kvp_labels *l, const char *code, char *buf, size_t n);

#endif
