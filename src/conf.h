/* conf.h - kvpscan's configuration: one table of keys, loaded with libconfig */
#ifndef KVP_CONF_H
#define KVP_CONF_H

#include <stdbool.h>
#include <stdio.h>
#include "util.h"

/* A list of upper-case codes (e.g. payment kinds). */
typedef struct kvp_strlist {
	char **items;
	int count;
} kvp_strlist;

/*
 * The whole configuration.  Every field is declared once in the option
 * table in conf.c with its type, default, range and reloadability; this
 * struct is only its storage.  All strings are owned by the struct.
 */
typedef struct kvp_config {
	char *source_file;              /* file it was read from, NULL for defaults */

	/* log { } */
	char *log_ident;                /* syslog ident, default "kvpscan" */
	char *log_facility;             /* daemon, user, local0..local7 */
	char *log_level;                /* error, warning, notice, info, debug */
	char *log_destination;          /* auto, syslog, stderr */

	/* database { } */
	char *db_conninfo;              /* libpq conninfo; "" uses PG* environment */
	char *db_password_file;         /* secret: file with the password */
	char *db_source_schema;         /* default kvp_src */
	char *db_state_schema;          /* default kvpscan */
	int db_connect_timeout;         /* seconds */
	int db_statement_timeout;       /* seconds, 0 = none */
	int db_work_mem_mb;             /* session work_mem in MB, 0 = the server's */

	/* identification { } */
	int id_window_months;           /* 12 */
	int id_long_term_more_than;     /* 4: LONG_TERM when months > this */
	bool id_consecutive;            /* require consecutive months ending in D's month */
	kvp_strlist id_payment_kinds;   /* empty: every kind counts */
	int id_min_age;                 /* 18 */
	int id_max_age;                 /* 66 */
	kvp_strlist id_special_needs_groups;  /* SPESIELT_TILPASSET_INNSATS */
	kvp_strlist id_excluded_benefits;     /* AAP, UFORETRYGD */
	int id_informed_valid_days;     /* 365 */
	int id_assessed_valid_days;     /* 365 */
	bool id_exclude_previous_participation; /* false */

	/* participation { } */
	double part_min_hours;          /* 37.5 */
	int part_max_duration_months;   /* 24 */

	/* delivery { } */
	char *del_send;                 /* new, all_open */
	int del_max_attempts;           /* then dead */
	int del_backoff_initial;        /* seconds */
	int del_backoff_max;            /* seconds */
	int del_concurrency;            /* parallel webhook sends */
	int del_keep_sent_days;         /* a sent delivery's bodies are kept this long; 0: for ever */
	char *del_channel;              /* webhook, email, spool: how worklists go */

	/* webhook { } */
	char *wh_url;
	char *wh_secret_file;           /* secret: whsec_... */
	char *wh_secret_previous_file;  /* secret during rotation, "" none */
	char *wh_ca_file;
	bool wh_verify_tls;
	bool wh_allow_insecure_http;
	int wh_connect_timeout;
	int wh_timeout;

	/* email { } */
	char *mail_smtp_url;            /* smtp://host:587 or smtps://host:465 */
	char *mail_from;
	char *mail_username;
	char *mail_password_file;       /* secret */
	char *mail_starttls;            /* required, off */
	char *mail_ca_file;
	bool mail_verify_tls;
	int mail_timeout;

	/* spool { } */
	char *spool_directory;

	/* daemon { } */
	char *dmn_scan_at;              /* HH:MM, Europe/Oslo */
	char *dmn_report_day;           /* monday..sunday, daily, monthly */
	char *dmn_report_at;            /* HH:MM */
	bool dmn_catch_up;
	char *dmn_timezone;             /* Europe/Oslo */
	char *dmn_metrics_file;
	int dmn_retry_interval;         /* seconds between delivery retries */

	/* report { } */
	int rep_escalate_after_days;    /* 30 */
	char *rep_municipality_email;
	bool rep_webhook;
} kvp_config;

/* Fill cfg with the built-in defaults; free with conf_free(). */
void conf_defaults(kvp_config *cfg);

/*
 * Load path into cfg (which starts from defaults).  On error logs the file,
 * line and what is wrong, leaves cfg freed, and returns -1.
 */
int conf_load(kvp_config *cfg, const char *path);

/* Free everything cfg owns. */
void conf_free(kvp_config *cfg);

/*
 * Reload: load path into a new config; on success apply it to cur (only
 * keys marked reloadable change; a change to another key is logged and
 * ignored until restart) and return 0; on error keep cur and return -1.
 */
int conf_reload(kvp_config *cur, const char *path);

/* Print every key with its current value, as a valid config file, to out. */
void conf_dump(const kvp_config *cfg, FILE *out);

/* A short fingerprint (hex SHA-256 of the identification settings); caller frees. */
char *conf_fingerprint(const kvp_config *cfg);

/* Iterate the key table: return the dotted name of key i, NULL past the end. */
const char *conf_key_name(int i);

/* One key of the table, as "check-config --keys" prints it. */
typedef struct conf_key_info {
	const char *name;               /* dotted: "group.key" */
	const char *type;               /* string, integer, boolean, number, enum, codes, secret */
	bool numeric;                   /* integer or number: min and max hold */
	double min, max;                /* the declared range, both included */
	const char *const *allowed;     /* enum: its values, NULL-terminated; else NULL */
	bool reload;                    /* SIGHUP may change it */
} conf_key_info;

/* Describe key i of the table into *info (static strings, not to be freed); false past the end. */
bool conf_key_describe(int i, conf_key_info *info);

/*
 * 0 when every integer and number key of cfg is inside the range the key
 * table declares (conf_load() guarantees it; for code that builds a config
 * itself); else -1 with each key out of range logged.
 */
int conf_check_ranges(const kvp_config *cfg);

/*
 * Read a secret: "" name gives NULL.  If $CREDENTIALS_DIRECTORY/<credname>
 * exists it wins; else the file path, which must not be readable by group
 * or others.  Trailing newline stripped.  Caller frees; NULL with an error
 * logged on failure (and *failed set true).
 */
char *secret_read(const char *path, const char *credname, bool *failed);

#endif
