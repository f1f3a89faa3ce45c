/* cmd_config.c - kvpscan check-config: validate the configuration and show it */
#include "config.h"

#include <stdio.h>

#include "cmd.h"
#include "conf.h"
#include "log.h"

/* The help on stdout; on stderr (a usage error) only the way to it. */
static void
check_config_usage(FILE *out)
{
	if (out != stdout) {
		fprintf(out, "HINT: run \"kvpscan check-config --help\" for its options\n");
		return;
	}
	fprintf(out,
		"Usage: kvpscan [-c FILE] check-config [--dump | --keys]\n\n"
		"Check the configuration file: syntax, key names, types, ranges, the\n"
		"rules between keys, and that the secret files exist with safe permissions.\n\n"
		"Options:\n"
		"  -d, --dump   print the effective configuration (defaults included) in the\n"
		"               file's own syntax\n"
		"  -k, --keys   list every key of the key table, one a line, tab-separated:\n"
		"               name, type, minimum, maximum (\"-\" unless a number),\n"
		"               the allowed values of an enum (\"-\" otherwise), reload/restart\n"
		"  -h, --help   print this help\n\n"
		"Exit status: 0 valid, 2 invalid (each error names FILE:LINE).\n");
}

/* check-config --keys: the key table, one key a line (for tests and scripts). */
static int
print_keys(void)
{
	conf_key_info k;
	int i, j;

	for (i = 0; conf_key_describe(i, &k); i++) {
		printf("%s\t%s\t", k.name, k.type);
		if (k.numeric)
			printf("%.15g\t%.15g\t", k.min, k.max);
		else
			printf("-\t-\t");
		if (k.allowed)
			for (j = 0; k.allowed[j]; j++)
				printf("%s%s", j ? "," : "", k.allowed[j]);
		else
			putchar('-');
		printf("\t%s\n", k.reload ? "reload" : "restart");
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? KVP_EXIT_OK : KVP_EXIT_FAILURE;
}

/*
 * kvpscan check-config: main.c has already loaded the file (and exited 2 if
 * it was invalid), so reaching here means it is valid.
 */
int
cmd_check_config(int argc, char **argv, kvp_ctx *ctx)
{
	bool dump = false, list_keys = false, keys = false;
	const cmd_option opts[] = {
		{"dump", .flag = &dump, .short_name = 'd'},
		{"keys", .flag = &keys, .short_name = 'k'},
		{"list-keys", .flag = &list_keys},      /* hidden: for tests/optscan.sh */
		{NULL}
	};
	int rc, first, i;

	rc = cmd_options(argc, argv, opts, check_config_usage, &first);
	if (rc != CMD_PROCEED)
		return rc;
	if (first < argc) {
		log_error("unexpected argument \"%s\"", argv[first]);
		log_hint("check-config takes no arguments; give the file with -c FILE");
		return KVP_EXIT_USAGE;
	}
	if (list_keys) {
		for (i = 0; conf_key_name(i) != NULL; i++)
			printf("%s\n", conf_key_name(i));
		return KVP_EXIT_OK;
	}
	if (keys)
		return print_keys();
	if (dump) {
		conf_dump(&ctx->cfg, stdout);
		return fflush(stdout) == 0 ? KVP_EXIT_OK : KVP_EXIT_FAILURE;
	}
	if (ctx->config_path)
		printf("configuration file %s is valid\n", ctx->config_path);
	else
		printf("no configuration file, using defaults\n");
	return KVP_EXIT_OK;
}
