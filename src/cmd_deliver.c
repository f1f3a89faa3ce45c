/* cmd_deliver.c - "kvpscan deliver", "kvpscan outbox" and "kvpscan redeliver": the outbox by hand */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "outbox.h"
#include "worklist.h"


static void
deliver_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan deliver [--limit N] [--run RUN_ID]\n\n"
		"Send every delivery in the outbox that is due now through its channel,\n"
		"batch after batch until nothing is due.  Failed sends are retried later\n"
		"with backoff; after delivery.max_attempts a delivery is dead.\n\n"
		"Options:\n"
		"  --limit N      send at most N deliveries in this call\n"
		"  --run RUN_ID   first queue the worklists of that run (idempotent)\n\n"
		"Exit status 0, or 1 when a delivery became dead in this call, a channel\n"
		"cannot send at all (its configuration: see docs/delivery.md), or on a\n"
		"database error.\n");
}

int
cmd_deliver(int argc, char **argv, kvp_ctx *ctx)
{
	const char *limit_arg = NULL, *run_arg = NULL;
	const cmd_option opts[] = {
		{"limit", .value = &limit_arg},
		{"run", .value = &run_arg},
		{NULL}
	};
	int64_t limit = INT32_MAX, run_id = 0;
	struct outbox_counts total;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	int rc;

	rc = cmd_options(argc, argv, opts, deliver_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	if (limit_arg != NULL && parse_int64(limit_arg, 1, INT32_MAX, &limit) < 0) {
		log_error("invalid value for --limit: \"%s\"", limit_arg);
		log_hint("give a whole number greater than 0");
		return KVP_EXIT_USAGE;
	}
	if (run_arg != NULL && parse_int64(run_arg, 1, INT64_MAX, &run_id) < 0) {
		log_error("invalid value for --run: \"%s\"", run_arg);
		return KVP_EXIT_USAGE;
	}
	rc = KVP_EXIT_FAILURE;
	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto cleanup;
	if (run_id > 0) {
		char run_s[24];
		const char *p[1] = {run_s};
		char *sql = db_expand(conn, &ctx->cfg,
				      "SELECT 1 FROM @state@.run WHERE run_id = $1::bigint AND status = 'succeeded'");

		snprintf(run_s, sizeof(run_s), "%" PRId64, run_id);
		res = db_exec(conn, "look up the run", sql, 1, p);
		free(sql);
		if (res == NULL)
			goto cleanup;
		if (PQntuples(res) == 0) {
			log_error("no succeeded run %" PRId64 " exists", run_id);
			goto cleanup;
		}
		if (worklist_enqueue(conn, &ctx->cfg, run_id) < 0)
			goto cleanup;
	}
	memset(&total, 0, sizeof(total));
	if (outbox_deliver_all(conn, &ctx->cfg, limit, NULL, &total) < 0 && total.unusable == 0)
		goto cleanup;
	printf("sent %d, retry later %d, dead %d", total.sent, total.retried, total.dead);
	if (total.lost > 0)
		printf(", sent again after a lost attempt %d", total.lost);
	if (total.taken_over > 0)
		printf(", taken over from a stopped sender %d", total.taken_over);
	if (total.unusable > 0)
		printf(", not sent because their channel cannot send %d", total.unusable);
	printf("\n");
	if (total.unusable > 0) {
		/* the channel logged what is wrong; the round's error is that nothing of it could go */
		rc = KVP_EXIT_FAILURE;
	} else if (total.dead > 0) {
		log_error("%d deliveries are dead", total.dead);
		log_hint("see \"kvpscan outbox --failed\"; after fixing the cause run \"kvpscan redeliver --dead\"");
		rc = KVP_EXIT_FAILURE;
	} else {
		rc = KVP_EXIT_OK;
	}

cleanup:
	PQclear(res);
	PQfinish(conn);
	return rc;
}

static void
outbox_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan outbox [--failed] [--format table|csv]\n\n"
		"List the deliveries not sent yet by state: pending (not tried yet), failed\n"
		"(waiting for a retry), sending (held by a sender; next_attempt is then the\n"
		"end of its lease) and dead, with their attempts, next attempt, last status\n"
		"and last error (\"kvpscan status\" counts the same states).  Recipients are\n"
		"shown only as office and veileder ids.\n\n"
		"Options:\n"
		"  --failed         only failed (pending after an attempt) and dead deliveries\n"
		"  --format FORMAT  table (default) or csv\n");
}

int
cmd_outbox(int argc, char **argv, kvp_ctx *ctx)
{
	bool failed = false, csv;
	const char *format = "table";
	const cmd_option opts[] = {
		{"failed", .flag = &failed},
		{"format", .value = &format},
		{NULL}
	};
	static const char *const cols[] = {"delivery_id", "state", "kind", "channel", "run_id",
		"office_id", "veileder_id", "items", "attempts", "next_attempt", "last_status", "last_error"};
	static const int widths[] = {30, 7, 8, 7, 6, 9, 11, 5, 8, 19, 11, 0};
	const char *params[1];
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char *sql = NULL;
	strbuf line;
	int rc, i, j, n;

	rc = cmd_options(argc, argv, opts, outbox_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	csv = strcmp(format, "csv") == 0;
	if (!csv && strcmp(format, "table") != 0) {
		log_error("--format must be table or csv, not \"%s\"", format);
		return KVP_EXIT_USAGE;
	}
	rc = KVP_EXIT_FAILURE;
	sb_init(&line);
	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto cleanup;
	sql = db_expand(conn, &ctx->cfg,
		"SELECT delivery_id,"
		"       CASE WHEN state = 'pending' AND attempts > 0 THEN 'failed' ELSE state END,"
		"       kind, channel, coalesce(run_id::text, ''), coalesce(office_id, ''),"
		"       coalesce(veileder_id, ''), item_count::text, attempts::text,"
		"       CASE WHEN state = 'sending' THEN to_char(lease_until, 'YYYY-MM-DD HH24:MI:SS')"
		"            WHEN state = 'pending'"
		"            THEN to_char(next_attempt_at, 'YYYY-MM-DD HH24:MI:SS') ELSE '' END,"
		"       coalesce(last_status::text, ''), coalesce(last_error, '')"
		"  FROM @state@.delivery"
		" WHERE state <> 'sent'"
		"   AND (NOT $1::boolean OR state = 'dead' OR (state = 'pending' AND attempts > 0))"
		" ORDER BY state = 'dead' DESC, next_attempt_at, delivery_id");
	params[0] = failed ? "true" : "false";
	res = db_exec(conn, "list the outbox", sql, 1, params);
	if (res == NULL)
		goto cleanup;
	n = PQntuples(res);
	for (j = 0; j < (int) ARRAY_SIZE(cols); j++) {
		if (csv) {
			if (j > 0)
				sb_putc(&line, ',');
			sb_puts(&line, cols[j]);
		} else {
			sb_printf(&line, "%-*s ", widths[j], cols[j]);
		}
	}
	printf("%s\n", sb_str(&line));
	for (i = 0; i < n; i++) {
		sb_reset(&line);
		for (j = 0; j < (int) ARRAY_SIZE(cols); j++) {
			const char *v = PQgetvalue(res, i, j);

			if (csv) {
				if (j > 0)
					sb_putc(&line, ',');
				csv_escape(&line, v);
			} else {
				sb_printf(&line, "%-*s ", widths[j], v[0] ? v : "-");
			}
		}
		printf("%s\n", sb_str(&line));
	}
	if (!csv)
		printf("(%d %s)\n", n, n == 1 ? "delivery" : "deliveries");
	rc = KVP_EXIT_OK;

cleanup:
	sb_free(&line);
	PQclear(res);
	free(sql);
	PQfinish(conn);
	return rc;
}

static void
redeliver_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan redeliver DELIVERY_ID | --run RUN_ID | --dead\n\n"
		"Queue deliveries again: state pending, due now, attempts counted from 0\n"
		"again (the attempt history is kept).  The next \"kvpscan deliver\" sends\n"
		"them with the same delivery ids.\n\n"
		"Options:\n"
		"  --run RUN_ID   every delivery of that run that is not being sent right now\n"
		"  --dead         every dead delivery\n");
}

int
cmd_redeliver(int argc, char **argv, kvp_ctx *ctx)
{
	const char *run_arg = NULL, *id = NULL, *params[3];
	bool dead = false;
	const cmd_option opts[] = {
		{"run", .value = &run_arg},
		{"dead", .flag = &dead},
		{NULL}
	};
	int64_t run_id = 0;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char *sql = NULL, run_s[24] = "0";
	int rc, first, modes;

	rc = cmd_options(argc, argv, opts, redeliver_usage, &first);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (first < argc)
		id = argv[first++];
	modes = (id != NULL) + (run_arg != NULL) + dead;
	if (modes != 1 || first < argc) {
		log_error("give exactly one of a delivery id, --run RUN_ID or --dead");
		redeliver_usage(stderr);
		return KVP_EXIT_USAGE;
	}
	if (run_arg) {
		if (parse_int64(run_arg, 1, INT64_MAX, &run_id) < 0) {
			log_error("invalid value for --run: \"%s\"", run_arg);
			return KVP_EXIT_USAGE;
		}
		snprintf(run_s, sizeof(run_s), "%" PRId64, run_id);
	}
	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto cleanup;
	sql = db_expand(conn, &ctx->cfg,
		"UPDATE @state@.delivery"
		"   SET state = 'pending', next_attempt_at = now(), attempts = 0,"
		"       lease_until = NULL, sent_at = NULL"
		" WHERE state <> 'sending'"
		/* blanked after delivery.keep_sent_days: nothing left to send */
		"   AND (text_body IS NOT NULL OR html_body IS NOT NULL OR json_body IS NOT NULL)"
		"   AND CASE WHEN $1::text IS NOT NULL THEN delivery_id = $1"
		"            WHEN $2::bigint > 0 THEN run_id = $2::bigint"
		"            ELSE state = 'dead' END");
	params[0] = id;
	params[1] = run_s;
	res = db_exec(conn, "queue deliveries again", sql, 2, params);
	if (res == NULL)
		goto cleanup;
	printf("queued %s deliveries again\n", PQcmdTuples(res));
	if (id != NULL && strcmp(PQcmdTuples(res), "0") == 0) {
		log_error("no delivery with that id can be queued again");
		log_detail("one being sent right now cannot be queued, nor one sent more than delivery.keep_sent_days ago (its bodies are blanked)");
		log_hint("\"kvpscan outbox\" lists the deliveries");
		goto cleanup;
	}
	rc = KVP_EXIT_OK;

cleanup:
	PQclear(res);
	free(sql);
	PQfinish(conn);
	return rc;
}
