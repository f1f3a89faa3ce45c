/* cmd_run.c - "kvpscan run": the nightly work once, for a systemd timer or cron */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "runner.h"
#include "schedule.h"

static void
run_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan run [--as-of DATE]\n\n"
		"Do the nightly work once: take the run lock, store a scan, send every\n"
		"delivery that is due, release the lock.  When another kvpscan run or the\n"
		"daemon holds the lock, do nothing and exit 0.  Writes daemon.metrics_file\n"
		"when it is set.  For a systemd timer (kvpscan-run.service) or cron.\n\n"
		"Options:\n"
		"  --as-of DATE   scan as of DATE (YYYY-MM-DD); default today in daemon.timezone\n\n"
		"Exit status 0, or 1 when the scan failed, a delivery became dead in this\n"
		"run or the database could not be reached.\n");
}

int
cmd_run(int argc, char **argv, kvp_ctx *ctx)
{
	const char *as_of_arg = NULL;
	const cmd_option opts[] = {
		{"as-of", .value = &as_of_arg},
		{NULL}
	};
	struct runner_result r;
	PGconn *conn = NULL;
	int rc;

	rc = cmd_options(argc, argv, opts, run_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (!as_of_arg_valid(as_of_arg))
		return KVP_EXIT_USAGE;
	if (schedule_set_timezone(ctx->cfg.dmn_timezone) < 0) {
		log_error("time zone \"%s\" is not installed", ctx->cfg.dmn_timezone);
		return KVP_EXIT_USAGE;
	}
	conn = db_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;
	if (runner_run(conn, &ctx->cfg, as_of_arg, (time_t) -1, false, NULL, &r) == 0)
		rc = KVP_EXIT_OK;
	if (r.locked_out) {
		printf("another kvpscan run holds the lock; nothing done\n");
		goto done;
	}
	if (r.scan_ok && r.sum.already_done)
		printf("scan as of %s: already stored as run %lld\n", r.as_of, r.sum.run_id);
	else if (r.scan_ok)
		printf("scan as of %s: run %lld, %lld candidates, %lld flagged\n", r.as_of, r.sum.run_id,
		       r.sum.candidates, r.sum.flagged);
	printf("sent %d, retry later %d, dead %d\n", r.sent.sent, r.sent.retried, r.sent.dead);
	if (r.as_of[0] != '\0')
		(void) metrics_write(conn, &ctx->cfg, &r);
done:
	PQfinish(conn);
	return rc;
}
