/* cmd_common.c - what the commands share: the option preamble, --help detection, a checked connection */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

/* the most options a command has, --help included */
#define CMD_MAX_OPTIONS 16
/* getopt's value for opts[i] without a short name: past every char */
#define LONG_ONLY_BASE 256

/* Which entry of opts getopt_long's value c stands for, or -1. */
static int
option_index(const cmd_option *opts, int c)
{
	int i;

	if (c >= LONG_ONLY_BASE)
		return c - LONG_ONLY_BASE;
	for (i = 0; opts[i].name != NULL; i++)
		if (opts[i].short_name != '\0' && opts[i].short_name == c)
			return i;
	return -1;
}

int
cmd_options(int argc, char **argv, const cmd_option *opts, void (*usage)(FILE *out), int *first_arg)
{
	struct option longopts[CMD_MAX_OPTIONS + 1];
	char shortopts[2 * CMD_MAX_OPTIONS + 2] = "h";
	size_t ns = 1;
	int i, c;

	for (i = 0; opts[i].name != NULL; i++) {
		if (i + 1 >= CMD_MAX_OPTIONS)
			abort();        /* a programming error: raise CMD_MAX_OPTIONS */
		longopts[i].name = opts[i].name;
		longopts[i].has_arg = opts[i].value != NULL ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = opts[i].short_name != '\0' ? opts[i].short_name : LONG_ONLY_BASE + i;
		if (opts[i].short_name != '\0') {
			shortopts[ns++] = opts[i].short_name;
			if (opts[i].value != NULL)
				shortopts[ns++] = ':';
		}
	}
	longopts[i] = (struct option) {"help", no_argument, NULL, 'h'};
	longopts[i + 1] = (struct option) {NULL, 0, NULL, 0};
	shortopts[ns] = '\0';

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return KVP_EXIT_OK;
		}
		i = option_index(opts, c);
		if (i < 0) {            /* getopt has said what is wrong */
			usage(stderr);
			return KVP_EXIT_USAGE;
		}
		if (opts[i].value != NULL)
			*opts[i].value = optarg;
		else
			*opts[i].flag = true;
	}
	if (first_arg != NULL) {
		*first_arg = optind;
	} else if (optind < argc) {
		log_error("unexpected argument \"%s\"", argv[optind]);
		usage(stderr);
		return KVP_EXIT_USAGE;
	}
	return CMD_PROCEED;
}

int
cmd_choice(const char *option, const char *value, const char *const *choices)
{
	strbuf hint;
	int i, n;

	for (n = 0; choices[n] != NULL; n++)
		if (strcmp(value, choices[n]) == 0)
			return n;
	sb_init(&hint);
	for (i = 0; i < n; i++)
		sb_printf(&hint, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ", choices[i]);
	log_error("invalid value for --%s: \"%s\"", option, value);
	log_hint("use %s", sb_str(&hint));
	sb_free(&hint);
	return -1;
}

bool
cmd_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

PGconn *
cmd_connect(const kvp_config *cfg)
{
	PGconn *conn = db_connect(cfg);

	if (conn != NULL && migrate_check(conn, cfg) < 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

PGconn *
cmd_connect_as_of(const kvp_config *cfg, const char *as_of_arg, char as_of[11])
{
	PGconn *conn = db_connect(cfg);

	if (conn != NULL && db_as_of(conn, cfg, as_of_arg, as_of) < 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}
