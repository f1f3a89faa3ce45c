/* dataquality.c - "kvpscan data-quality": list source rows that break the contract */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "scan.h"
#include "sqlfiles.h"

static void
dq_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan data-quality [--as-of YYYY-MM-DD] [--format csv|table]\n\n"
		"List the source rows that break the source contract, for the operator: one\n"
		"line per case_ref and problem code with the number of rows; payments of\n"
		"unknown persons as a count only.  A scan works around all of them and\n"
		"stores their counts.  Output goes to stdout only, never to the log.\n\n"
		"Options:\n"
		"  --as-of DATE     what counts as dated in the future (default today)\n"
		"  --format FORMAT  csv (default) or table\n");
}

int
cmd_data_quality(int argc, char **argv, kvp_ctx *ctx)
{
	const char *as_of_arg = NULL, *format = "csv";
	const cmd_option opts[] = {
		{"as-of", .value = &as_of_arg},
		{"format", .value = &format},
		{NULL}
	};
	char as_of[11];
	bool table;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	scan_params sp;
	char *sql = NULL;
	const char *params[1];
	long long total = 0;
	int i, rc;

	memset(&sp, 0, sizeof(sp));

	rc = cmd_options(argc, argv, opts, dq_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (cmd_choice("format", format, (const char *const[]) {"csv", "table", NULL}) < 0)
		return KVP_EXIT_USAGE;
	table = strcmp(format, "table") == 0;
	if (!as_of_arg_valid(as_of_arg))
		return KVP_EXIT_USAGE;
	conn = cmd_connect_as_of(&ctx->cfg, as_of_arg, as_of);
	if (conn == NULL)
		goto done;

	/* the payments pass is the scan's own; the transaction holds its table */
	if (scan_params_init(&sp, &ctx->cfg, as_of, SCAN_ROWS_ALL, NULL) < 0 || db_begin(conn) < 0)
		goto done;
	if (scan_payments(conn, &ctx->cfg, &sp, SCAN_PASS_DUPLICATES) == 0) {
		sql = db_expand(conn, &ctx->cfg, sql_get("dataquality.sql"));
		params[0] = as_of;
		res = db_exec(conn, "data-quality query", sql, 1, params);
	}
	if (db_rollback(conn) < 0 || res == NULL)
		goto done;
	if (table)
		printf("%-24s %-24s %6s\n", "code", "case_ref", "rows");
	else
		printf("code,case_ref,rows\n");
	for (i = 0; i < PQntuples(res); i++) {
		const char *code = PQgetvalue(res, i, 0);
		const char *ref = PQgetisnull(res, i, 1) ? "" : PQgetvalue(res, i, 1);
		const char *rows = PQgetvalue(res, i, 3);
		int64_t n = 0;

		if (parse_int64(rows, 0, INT64_MAX, &n) == 0)
			total += n;
		if (table) {
			printf("%-24s %-24s %6s\n", code, PQgetisnull(res, i, 1) ? "(no person)" : ref, rows);
		} else {
			strbuf sb;

			sb_init(&sb);
			csv_escape(&sb, code);
			sb_putc(&sb, ',');
			csv_escape(&sb, ref);
			sb_printf(&sb, ",%s\n", rows);
			fputs(sb_str(&sb), stdout);
			sb_free(&sb);
		}
	}
	if (table)
		printf("(%d %s, %lld source rows)\n", PQntuples(res), PQntuples(res) == 1 ? "line" : "lines", total);
	if (fflush(stdout) != 0) {
		log_error("could not write the data-quality list");
		goto done;
	}
	log_info("data-quality check as of %s: %lld source rows with problems", as_of, total);
	rc = KVP_EXIT_OK;
done:
	PQclear(res);
	free(sql);
	scan_params_free(&sp);
	PQfinish(conn);
	return rc;
}
