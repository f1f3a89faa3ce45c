/* metrics.c - a Prometheus node_exporter textfile after each run */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "metrics.h"

static const char *const flag_names[3] = {"NOT_INFORMED", "NOT_ASSESSED", "AEV_MISSING"};
/* The states as "kvpscan outbox" and "kvpscan status" name them. */
static const char *const state_names[METRICS_N_STATES] = {"pending", "failed", "sending", "sent", "dead"};

static void
header(strbuf *sb, const char *name, const char *help)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

char *
metrics_format(const struct runner_result *r, const long long flags[3], long long flagged,
	       const long long deliveries[METRICS_N_STATES], long long channel_faults)
{
	strbuf sb;
	int i;

	sb_init(&sb);
	header(&sb, "kvpscan_last_run_timestamp_seconds", "Unix time the last run started.");
	sb_printf(&sb, "kvpscan_last_run_timestamp_seconds %lld\n", (long long) r->started);
	header(&sb, "kvpscan_last_run_duration_seconds", "Seconds the last run took, scan and delivery.");
	sb_printf(&sb, "kvpscan_last_run_duration_seconds %.3f\n", r->duration);
	header(&sb, "kvpscan_last_run_success", "1 if the last run scanned and delivered without error, else 0.");
	sb_printf(&sb, "kvpscan_last_run_success %d\n",
		  r->scan_ok && r->deliver_ok && r->sent.dead == 0 ? 1 : 0);
	if (flags[0] >= 0) {
		header(&sb, "kvpscan_candidates", "Candidates of the last stored run by flag.");
		for (i = 0; i < 3; i++)
			sb_printf(&sb, "kvpscan_candidates{flag=\"%s\"} %lld\n", flag_names[i], flags[i]);
	}
	if (flagged >= 0) {
		header(&sb, "kvpscan_flagged", "Candidates with at least one flag in the last stored run.");
		sb_printf(&sb, "kvpscan_flagged %lld\n", flagged);
	}
	if (deliveries[0] >= 0) {
		header(&sb, "kvpscan_deliveries", "Deliveries in the outbox by state (pending: not tried yet, "
		       "failed: waiting for a retry, sending: held by a sender).");
		for (i = 0; i < METRICS_N_STATES; i++)
			sb_printf(&sb, "kvpscan_deliveries{state=\"%s\"} %lld\n", state_names[i], deliveries[i]);
	}
	if (channel_faults >= 0) {
		header(&sb, "kvpscan_channel_faults", "Channels with deliveries to send that cannot send at all.");
		sb_printf(&sb, "kvpscan_channel_faults %lld\n", channel_faults);
	}
	return sb_steal(&sb);
}

static long long
value(const PGresult *res, int col)
{
	int64_t v;

	if (parse_int64(PQgetvalue(res, 0, col), 0, INT64_MAX, &v) < 0)
		return 0;
	return (long long) v;
}

int
metrics_write(PGconn *conn, const kvp_config *cfg, const struct runner_result *r)
{
	long long flags[3] = {-1, -1, -1}, flagged = -1, faults = -1;
	long long deliveries[METRICS_N_STATES] = {-1, -1, -1, -1, -1};
	PGresult *res = NULL;
	char *sql = NULL, *text = NULL, run_s[24];
	const char *p[1] = {run_s};
	int i, rc = -1;

	if (cfg->dmn_metrics_file == NULL || cfg->dmn_metrics_file[0] == '\0')
		return 0;
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
		if (r->sum.run_id > 0) {
			snprintf(run_s, sizeof(run_s), "%lld", r->sum.run_id);
			sql = db_expand(conn, cfg, "SELECT flag_not_informed, flag_not_assessed, flag_aev_missing,"
					" flagged FROM @state@.run WHERE run_id = $1::bigint");
			res = db_exec(conn, "reading the run's counts", sql, 1, p);
			if (res != NULL && PQntuples(res) == 1) {
				for (i = 0; i < 3; i++)
					flags[i] = value(res, i);
				flagged = value(res, 3);
			}
			PQclear(res);
			res = NULL;
			free(sql);
			sql = NULL;
		}
		sql = db_expand(conn, cfg, "SELECT count(*) FILTER (WHERE state = 'pending' AND attempts = 0),"
				" count(*) FILTER (WHERE state = 'pending' AND attempts > 0),"
				" count(*) FILTER (WHERE state = 'sending'),"
				" count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state = 'dead'),"
				" (SELECT count(*) FROM @state@.channel_fault f WHERE EXISTS ("
				"    SELECT 1 FROM @state@.delivery d"
				"     WHERE d.channel = f.channel AND d.state IN ('pending', 'sending')))"
				" FROM @state@.delivery");
		res = db_exec(conn, "counting deliveries", sql, 0, NULL);
		if (res != NULL) {
			for (i = 0; i < METRICS_N_STATES; i++)
				deliveries[i] = value(res, i);
			faults = value(res, METRICS_N_STATES);
		}
	}
	text = metrics_format(r, flags, flagged, deliveries, faults);
	if (write_file_atomic(cfg->dmn_metrics_file, text, strlen(text), 0644) < 0) {
		log_error("could not write metrics file \"%s\": %s", cfg->dmn_metrics_file, strerror(errno));
		goto cleanup;
	}
	log_debug("metrics written to \"%s\"", cfg->dmn_metrics_file);
	rc = 0;
cleanup:
	PQclear(res);
	free(sql);
	free(text);
	return rc;
}
