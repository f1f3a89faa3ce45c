/* main.c - kvpscan: command line, configuration and dispatch */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/kvpscan/kvpscan.conf"

static const struct command {
	const char *name;
	kvp_cmd_fn fn;
	const char *summary;
} commands[] = {
	{"check-config", cmd_check_config, "validate the configuration file and exit"},
	{"check-source", cmd_check_source, "check the source schema against the source contract"},
	{"migrate", cmd_migrate, "create or upgrade kvpscan's own schema"},
	{"demo-data", cmd_demo_data, "fill the source schema with generated demo data"},
	{"scan", cmd_scan, "identify and flag KVP candidates"},
	{"explain", cmd_explain, "show for one case why it is or is not flagged"},
	{"data-quality", cmd_data_quality, "list source rows that break the contract"},
	{"test-delivery", cmd_test_delivery, "send a test message through a delivery channel"},
	{"deliver", cmd_deliver, "send the worklists waiting in the outbox"},
	{"outbox", cmd_outbox, "list pending, failed and dead deliveries"},
	{"redeliver", cmd_redeliver, "queue deliveries again"},
	{"target", cmd_target, "set, list or import KVP participant targets"},
	{"report", cmd_report, "print the målekort: targets, funnel, open items"},
	{"run", cmd_run, "scan and deliver once, under the run lock (for a timer)"},
	{"daemon", cmd_daemon, "run the nightly scan on schedule and retry deliveries"},
	{"status", cmd_status, "show the last runs, the outbox and the next scan"},
	{"audit", cmd_audit, "export runs, deliveries and resolved items for the supervisor"},
	{"history", cmd_history, "show one case's documented trail from the stored runs"},
};

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"kvpscan finds long-term social-assistance recipients who have not been\n"
		"informed about or assessed for the qualification programme (KVP).\n\n"
		"Usage: kvpscan [-c FILE] [-v] COMMAND [OPTIONS]\n\n"
		"Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\nGlobal options (anywhere on the line):\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -v, --verbose      log debugging output\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         print this help; 'kvpscan COMMAND --help' for a command\n\n"
		"Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n"
		"See kvpscan(8) and kvpscan.conf(5).\n", DEFAULT_CONFIG);
}

/*
 * Take the global options out of argv wherever they stand, so a command's
 * own getopt never sees them.  Returns -1 on a usage error.
 */
static int
take_global_options(int *argcp, char **argv, kvp_ctx *ctx, bool *version)
{
	int argc = *argcp, i, j = 1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "kvpscan: option %s needs a file name\n", a);
				return -1;
			}
			ctx->config_path = argv[++i];
			ctx->config_explicit = true;
		} else if (strncmp(a, "--config=", 9) == 0) {
			ctx->config_path = a + 9;
			ctx->config_explicit = true;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			ctx->verbose = true;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			*version = true;
		} else {
			argv[j++] = argv[i];
		}
	}
	argv[j] = NULL;
	*argcp = j;
	return 0;
}

/*
 * Log to syslog under systemd or when the config asks for it; to stderr when
 * run by hand, by cron or by a test (log.destination = "auto").
 */
static void
setup_logging(const kvp_ctx *ctx)
{
	const kvp_config *cfg = &ctx->cfg;
	bool use_syslog;
	int facility = log_facility_from_name(cfg->log_facility);
	enum log_level level = log_level_from_name(cfg->log_level);

	if (strcmp(cfg->log_destination, "syslog") == 0)
		use_syslog = true;
	else if (strcmp(cfg->log_destination, "stderr") == 0)
		use_syslog = false;
	else
		use_syslog = getenv("INVOCATION_ID") != NULL;   /* started by systemd */
	if (ctx->verbose)
		level = KVP_LOG_DEBUG;
	log_setup(cfg->log_ident, use_syslog, facility < 0 ? LOG_DAEMON : facility, level);
}

/*
 * One check at exit for every command: output that could not be written
 * (a full disk, a closed pipe, > /dev/full) is a failure, not a success.
 */
static int
output_checked(int rc)
{
	int err = 0;

	if (fflush(stdout) != 0)
		err = errno;
	if (err != 0 || ferror(stdout)) {
		if (err != 0)
			log_error("could not write to standard output: %s", strerror(err));
		else
			log_error("could not write to standard output");
		log_hint("check the disk or the pipe the output goes to; the output is incomplete");
		if (rc == KVP_EXIT_OK)
			rc = KVP_EXIT_FAILURE;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	kvp_ctx ctx;
	const struct command *cmd = NULL;
	bool version = false;
	size_t i;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	log_setup("kvpscan", false, LOG_DAEMON, KVP_LOG_INFO);
	if (take_global_options(&argc, argv, &ctx, &version) < 0)
		return KVP_EXIT_USAGE;
	if (version) {
		printf("kvpscan %s\n", PACKAGE_VERSION);
		return output_checked(KVP_EXIT_OK);
	}
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0
	    || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return output_checked(argc < 2 ? KVP_EXIT_USAGE : KVP_EXIT_OK);
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "kvpscan: unknown command \"%s\"\n", argv[1]);
		fprintf(stderr, "HINT: run \"kvpscan --help\" for the list of commands\n");
		return KVP_EXIT_USAGE;
	}

	conf_defaults(&ctx.cfg);
	if (!ctx.config_explicit && access(DEFAULT_CONFIG, F_OK) == 0)
		ctx.config_path = DEFAULT_CONFIG;
	if (ctx.config_path && !cmd_wants_help(argc - 1, argv + 1)) {
		if (conf_load(&ctx.cfg, ctx.config_path) < 0)
			return KVP_EXIT_USAGE;
	}
	setup_logging(&ctx);

	optind = 1;
	opterr = 1;
	rc = output_checked(cmd->fn(argc - 1, argv + 1, &ctx));
	conf_free(&ctx.cfg);    /* last: the log's ident lives in the config */
	return rc;
}
