/* cmd.h - the subcommands of the kvpscan binary */
#ifndef KVP_CMD_H
#define KVP_CMD_H

#include <stdbool.h>
#include <stdio.h>
#include "conf.h"

/* Exit codes, documented in kvpscan(8). */
#define KVP_EXIT_OK       0   /* success */
#define KVP_EXIT_FAILURE  1   /* runtime failure (database, delivery, a failed run) */
#define KVP_EXIT_USAGE    2   /* bad command line or bad configuration */

/* What every command gets: the loaded config and the global options. */
typedef struct kvp_ctx {
	kvp_config cfg;
	const char *config_path;    /* file in use, NULL when running on defaults */
	bool config_explicit;       /* -c was given */
	bool verbose;
} kvp_ctx;

/*
 * A command's entry point.  argv[0] is the command name; options are parsed
 * with getopt_long (optind already reset).  Returns a KVP_EXIT_* code.
 */
typedef int (*kvp_cmd_fn)(int argc, char **argv, kvp_ctx *ctx);

int cmd_check_config(int argc, char **argv, kvp_ctx *ctx);  /* cmd_config.c */
int cmd_migrate(int argc, char **argv, kvp_ctx *ctx);       /* migrate.c */
int cmd_demo_data(int argc, char **argv, kvp_ctx *ctx);     /* demo.c */
int cmd_scan(int argc, char **argv, kvp_ctx *ctx);          /* scan.c */
int cmd_explain(int argc, char **argv, kvp_ctx *ctx);       /* explain.c */
int cmd_data_quality(int argc, char **argv, kvp_ctx *ctx);  /* dataquality.c */
int cmd_test_delivery(int argc, char **argv, kvp_ctx *ctx); /* cmd_testdelivery.c */
int cmd_deliver(int argc, char **argv, kvp_ctx *ctx);       /* cmd_deliver.c */
int cmd_outbox(int argc, char **argv, kvp_ctx *ctx);        /* cmd_deliver.c */
int cmd_redeliver(int argc, char **argv, kvp_ctx *ctx);     /* cmd_deliver.c */
int cmd_target(int argc, char **argv, kvp_ctx *ctx);        /* target.c */
int cmd_report(int argc, char **argv, kvp_ctx *ctx);        /* report.c */
int cmd_run(int argc, char **argv, kvp_ctx *ctx);           /* cmd_run.c */
int cmd_daemon(int argc, char **argv, kvp_ctx *ctx);        /* daemon.c */
int cmd_status(int argc, char **argv, kvp_ctx *ctx);        /* status.c */
int cmd_audit(int argc, char **argv, kvp_ctx *ctx);         /* audit.c */
int cmd_history(int argc, char **argv, kvp_ctx *ctx);       /* history.c */
int cmd_check_source(int argc, char **argv, kvp_ctx *ctx);  /* check_source.c */

/* cmd_common.c: what the commands share */

/*
 * One option of a command, for cmd_options().  Give value for an option that
 * takes an argument (the last one given wins) or flag for one that takes none
 * (set true when given); short_name is a one-letter alias or 0.  A table ends
 * with {NULL}.  -h/--help is always there and needs no entry.
 */
typedef struct cmd_option {
	const char *name;       /* long name, without "--" */
	const char **value;     /* takes an argument: stored here (optarg, not a copy) */
	bool *flag;             /* takes no argument: set to true */
	char short_name;        /* e.g. 'd' for -d; 0 for none */
} cmd_option;

/* cmd_options() returns this when the command goes on; else a KVP_EXIT_* code to return */
#define CMD_PROCEED (-1)

/*
 * The command preamble: parse argv's options by opts with getopt_long.
 * -h/--help prints usage(stdout) and gives KVP_EXIT_OK; an unknown option
 * (getopt names it) prints usage(stderr) and gives KVP_EXIT_USAGE.  With
 * first_arg NULL the command takes no arguments, and a leftover one is logged
 * as "unexpected argument" with usage(stderr), KVP_EXIT_USAGE; otherwise
 * *first_arg is set to the index of the first argument and the caller checks
 * them.  Values are checked by the caller afterwards.  optind must be 1 on
 * entry (main.c sets it; a dispatcher such as cmd_target sets it again); a
 * table has at most 15 entries.  Typical use:
 *
 *	const char *format = "csv", *as_of = NULL;
 *	bool deliver = false;
 *	const cmd_option opts[] = {
 *		{"format", .value = &format},
 *		{"as-of", .value = &as_of},
 *		{"deliver", .flag = &deliver},
 *		{NULL}
 *	};
 *	rc = cmd_options(argc, argv, opts, foo_usage, NULL);
 *	if (rc != CMD_PROCEED)
 *		return rc;
 *	if (!as_of_arg_valid(as_of))
 *		return KVP_EXIT_USAGE;
 *	conn = cmd_connect_as_of(&ctx->cfg, as_of, as_of_date);
 */
int cmd_options(int argc, char **argv, const cmd_option *opts, void (*usage)(FILE *out),
		int *first_arg);
/*
 * The index of value in choices (NULL-terminated, in the order the hint
 * names them), or -1 with "invalid value for --option" and a hint logged.
 */
int cmd_choice(const char *option, const char *value, const char *const *choices);
/* True if argv holds -h or --help before any "--"; for commands' own help. */
bool cmd_wants_help(int argc, char **argv);
/* Connect and check the state schema's version; NULL logged.  Caller PQfinish()es. */
struct pg_conn *cmd_connect(const kvp_config *cfg);
/*
 * Connect and settle the as-of date: as_of_arg (checked by as_of_arg_valid())
 * or, when NULL, today in daemon.timezone; NULL logged.  Caller PQfinish()es.
 */
struct pg_conn *cmd_connect_as_of(const kvp_config *cfg, const char *as_of_arg, char as_of[11]);

#endif
