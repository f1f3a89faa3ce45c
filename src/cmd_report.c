/* cmd_report.c - "kvpscan report": the command above the report modules
 *
 * report.c builds the model from stored runs and writes it as table, csv and
 * json; report_html.c writes it as html; report_deliver.c queues it in the
 * outbox.  This file only parses the command line and calls them.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "report.h"
#include "report_deliver.h"

/* report --deliver: queue the målekort for every recipient, then deliver */
static int
report_deliver_command(kvp_ctx *ctx, const char *as_of)
{
	struct outbox_counts total;
	PGconn *conn = NULL;
	int queued = 0, r, rc = KVP_EXIT_FAILURE;

	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto cleanup;
	r = report_enqueue(conn, &ctx->cfg, as_of, &queued);
	if (r != 0)
		goto cleanup;
	printf("queued %d reports\n", queued);
	memset(&total, 0, sizeof(total));
	if (outbox_deliver_all(conn, &ctx->cfg, INT32_MAX, NULL, &total) < 0)
		goto cleanup;
	printf("sent %d, retry later %d, dead %d\n", total.sent, total.retried, total.dead);
	if (total.dead > 0) {
		log_error("%d deliveries are dead", total.dead);
		log_hint("see \"kvpscan outbox --failed\"; after fixing the cause run \"kvpscan redeliver --dead\"");
		goto cleanup;
	}
	rc = KVP_EXIT_OK;

cleanup:
	PQfinish(conn);
	return rc;
}

static void
report_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan report [--office ID] [--as-of YYYY-MM-DD]\n"
		"                      [--period year|tertial|month] [--format table|csv|json|html]\n"
		"       kvpscan report --deliver [--as-of YYYY-MM-DD]\n\n"
		"Print the leader's målekort from stored runs (no new scan): per office and for\n"
		"the municipality, the KVP target against active participants with a status,\n"
		"the funnel from persons in scope to informed and assessed candidates and the\n"
		"other counts, persons with new, resolved and open worklist items, persons with\n"
		"items open longer than report.escalate_after_days by veileder, dead deliveries\n"
		"and a 12-month trend.  The table and html formats are in Norwegian.  See\n"
		"docs/report.md.\n\n"
		"Options:\n"
		"  --office ID       one office only\n"
		"  --as-of DATE      the latest succeeded run on or before DATE (default: the latest run)\n"
		"  --period PERIOD   the target period containing the run's date (default year)\n"
		"  --format FORMAT   table (default, Norwegian text), csv, json or html\n"
		"  --deliver         queue the report for every office leader, report.municipality_email\n"
		"                    and the webhook (report.webhook) in the outbox, then deliver\n");
}

int
cmd_report(int argc, char **argv, kvp_ctx *ctx)
{
	const char *as_of = NULL, *office = NULL, *period = "year", *format = "table";
	bool deliver = false;
	const cmd_option opts[] = {
		{"office", .value = &office},
		{"as-of", .value = &as_of},
		{"period", .value = &period},
		{"format", .value = &format},
		{"deliver", .flag = &deliver},
		{NULL}
	};
	PGconn *conn = NULL;
	report rep;
	bool built = false;
	int c, r, wr = -1, rc = KVP_EXIT_FAILURE;

	c = cmd_options(argc, argv, opts, report_usage, NULL);
	if (c != CMD_PROCEED)
		return c;
	if (cmd_choice("format", format, (const char *const[]) {"table", "csv", "json", "html", NULL}) < 0)
		return KVP_EXIT_USAGE;
	if (strcmp(period, "year") != 0 && strcmp(period, "tertial") != 0 && strcmp(period, "month") != 0) {
		log_error("invalid value for --period: \"%s\"", period);
		log_hint("use year, tertial or month");
		return KVP_EXIT_USAGE;
	}
	if (office != NULL && office[0] == '\0') {
		log_error("--office needs an office id");
		return KVP_EXIT_USAGE;
	}
	if (!as_of_arg_valid(as_of))
		return KVP_EXIT_USAGE;
	if (deliver)
		return report_deliver_command(ctx, as_of);

	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;
	r = report_build(conn, &ctx->cfg, as_of, office, period, &rep);
	built = true;
	if (r != 0)
		goto done;
	if (office != NULL && rep.n_offices == 0) {
		log_error("office \"%s\" is not in the run", office);
		log_hint("\"kvpscan report\" without --office lists every office");
		goto done;
	}
	if (strcmp(format, "csv") == 0)
		wr = report_write_csv(&rep, stdout);
	else if (strcmp(format, "json") == 0)
		wr = report_write_json(&rep, stdout);
	else if (strcmp(format, "html") == 0)
		wr = report_write_html(&rep, stdout);
	else
		wr = report_write_table(&rep, stdout);
	if (wr < 0) {
		log_error("could not write the report");
		goto done;
	}
	log_info("report as of %s from run %lld: %d offices, %d escalated items listed",
		 rep.as_of, rep.run_id, rep.n_offices, rep.n_esc);
	rc = KVP_EXIT_OK;
done:
	if (built)
		report_free(&rep);
	PQfinish(conn);
	return rc;
}
