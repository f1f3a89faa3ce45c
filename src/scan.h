/* scan.h - the identification engine: rules in SQL, streamed or stored */
#ifndef KVP_SCAN_H
#define KVP_SCAN_H

#include <stdbool.h>
#include <libpq-fe.h>
#include "conf.h"

/* The version of the rules in sql/identify.sql, stored with every run. */
#define SCAN_RULE_VERSION "kvp-2019.1"

/* Which rows sql/identify.sql returns ($12). */
enum scan_rows {
	SCAN_ROWS_FLAGGED = 0,          /* candidates with at least one flag */
	SCAN_ROWS_WITH_EXCLUDED = 1,    /* those and every excluded person */
	SCAN_ROWS_ALL = 2               /* everyone in working age and LONG_TERM or SPECIAL_NEEDS */
};

/* Column numbers of sql/identify.sql's result. */
enum scan_col {
	SC_PERSON_ID = 0, SC_CASE_REF, SC_OFFICE_ID, SC_VEILEDER_ID, SC_FALLBACK,
	SC_REASONS, SC_FLAGS, SC_MONTHS, SC_EXCLUDED, SC_PROTECTION,
	SC_LONG_TERM, SC_SPECIAL_NEEDS
};

#define SCAN_NPARAMS 11
#define SCAN_PAY_NPARAMS 5

/* The parameters of sql/identify.sql and sql/payments.sql as text, built from a config. */
typedef struct scan_params {
	const char *values[SCAN_NPARAMS];       /* identify.sql */
	const char *pay_values[SCAN_PAY_NPARAMS]; /* payments.sql */
	char num[8][24];
	char *arrays[4];
} scan_params;

/* The participation checks (sql/participation_checks.sql), in their fixed order. */
#define SCAN_PART_FLAGS 7

/* What a stored run counted. */
typedef struct scan_summary {
	long long run_id;
	bool already_done;              /* an identical run existed: nothing stored */
	long long recipients, long_term, special_needs, candidates, flagged;
	long long ex_in_programme, ex_pending, ex_benefit, ex_right_used;
	long long flag_not_informed, flag_not_assessed, flag_aev_missing;
	long long part_checked;         /* persons in a programme failing a participation check */
	long long part_flags[SCAN_PART_FLAGS]; /* NOT_FULL_TIME .. NO_SELF_ASSESSMENT, persons each */
	long long self_assessment_unknown;  /* active participations whose self-assessment is not known */
	bool self_assessment_column;    /* the source has assessment.self_assessment */
	long long items_new, items_open, items_resolved;
	long long dq_rows;              /* source rows with a data-quality problem */
	long long bodies_pruned;        /* sent deliveries whose bodies were blanked (keep_sent_days) */
} scan_summary;

/*
 * Check the identification settings and fill sp for as_of (YYYY-MM-DD),
 * the rows wanted and one person_id (NULL: everyone).  Logs and returns -1
 * when a setting is out of range.  Free with scan_params_free().
 */
int scan_params_init(scan_params *sp, const kvp_config *cfg, const char *as_of,
		     enum scan_rows rows, const char *person_id);
/* Free what scan_params_init() allocated. */
void scan_params_free(scan_params *sp);

/* How scan_payments() makes the passes: flags, or 0 (tables, no duplicates: explain). */
enum scan_pass {
	SCAN_PASS_DUPLICATES = 1,	/* also count identical payment rows (sql/duplicates.sql) */
	SCAN_PASS_VIEWS = 2		/* kvp_pay and kvp_ig as views: for a run that reads them once */
};

/*
 * Make the passes the identification reads, inside the transaction conn must
 * be in: sql/payments.sql as kvp_pay, sql/innsatsgruppe.sql as kvp_ig,
 * sql/participation_active.sql as kvp_active (temporary tables, dropped at
 * its end) and sql/documented.sql as the temporary view kvp_documented.
 * With SCAN_PASS_VIEWS kvp_pay and kvp_ig are views as well, planned into the
 * one statement that reads them (the dry run).  0 or -1 logged.
 */
int scan_payments(PGconn *conn, const kvp_config *cfg, const scan_params *sp, unsigned int pass);

/*
 * Whether the source's assessment has the optional column self_assessment
 * (information_schema, so a view counts too): *has set, 0 or -1 logged.
 */
int scan_self_assessment_column(PGconn *conn, const kvp_config *cfg, bool *has);
/*
 * tmpl with each @self_assessment@ replaced by "s.self_assessment" (has) or
 * "NULL::boolean"; the SQL then reads assessment under the alias s.  Caller frees.
 */
char *scan_sql_self_assessment(const char *tmpl, bool has);
/*
 * The participation checks (participation_checks.sql) into the temporary
 * table kvp_part, inside the caller's transaction after scan_payments();
 * *has_sa: whether the source has assessment.self_assessment.  0 or -1 logged.
 */
int scan_participation_checks(PGconn *conn, const kvp_config *cfg, const char *as_of, bool *has_sa);

/* A PostgreSQL text[] literal of the list, elements quoted; caller frees. */
char *scan_pg_array(const kvp_strlist *list);

/*
 * Run the scan for as_of and store it in one transaction (run, candidates,
 * items, data-quality counts); see docs/identification.md.  Fills sum.
 * 0 on success (including "already stored"), -1 logged; a failed run
 * leaves only a run row with status failed.
 */
int scan_store(PGconn *conn, const kvp_config *cfg, const char *as_of, scan_summary *sum);

/* Print sum as human text (counts only) to out and log it. */
void scan_summary_print(const scan_summary *sum, const char *as_of, FILE *out);

#endif
