/* runner.c - one nightly run: take the run lock, scan, deliver, release (kvpscan run and the daemon) */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "migrate.h"
#include "runner.h"

#define RUN_MAX_DELIVERIES 100000L

/* The lock key: one per state schema, so two installations on a server do not block each other. */
#define LOCK_KEY "hashtext('kvpscan.run:' || $1)::bigint"

/* Run a statement with @state@ expanded; the result or NULL logged. Caller PQclear()s. */
static PGresult *
state_exec(PGconn *conn, const kvp_config *cfg, const char *what, const char *tmpl,
	   int n, const char *const *p)
{
	char *sql = db_expand(conn, cfg, tmpl);
	PGresult *res = db_exec(conn, what, sql, n, p);

	free(sql);
	return res;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void
runner_format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, size, "%lld", (long long) t);
}

int
runner_deliver_due(PGconn *conn, const kvp_config *cfg, volatile sig_atomic_t *stop,
		   struct outbox_counts *total)
{
	return outbox_deliver_all(conn, cfg, RUN_MAX_DELIVERIES, stop, total);
}

int
runner_slot_done(PGconn *conn, const kvp_config *cfg, time_t slot)
{
	char s[24];
	const char *p[1] = {s};
	PGresult *res;
	int rc;

	snprintf(s, sizeof(s), "%lld", (long long) slot);
	res = state_exec(conn, cfg, "looking up the scheduled slot",
			 "SELECT 1 FROM @state@.run_slot WHERE slot = to_timestamp($1::bigint)", 1, p);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) > 0 ? 1 : 0;
	PQclear(res);
	return rc;
}

/* Record that a run served slot; 0 or -1 logged. */
static int
record_slot(PGconn *conn, const kvp_config *cfg, time_t slot, long long run_id, bool ok, bool late)
{
	char s[24], r[24];
	const char *p[4] = {s, r, ok ? "succeeded" : "failed", late ? "true" : "false"};
	PGresult *res;

	snprintf(s, sizeof(s), "%lld", (long long) slot);
	snprintf(r, sizeof(r), "%lld", run_id);
	res = state_exec(conn, cfg, "recording the scheduled slot",
			 "INSERT INTO @state@.run_slot (slot, run_id, status, late)"
			 " VALUES (to_timestamp($1::bigint), NULLIF($2::bigint, 0), $3, $4::boolean)"
			 " ON CONFLICT (slot) DO NOTHING", 4, p);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Take the run lock without waiting: 1 taken, 0 held elsewhere, -1 error. */
static int
lock_take(PGconn *conn, const kvp_config *cfg)
{
	const char *p[1] = {cfg->db_state_schema};
	PGresult *res = db_exec(conn, "taking the run lock",
				"SELECT pg_try_advisory_lock(" LOCK_KEY ")", 1, p);
	int rc;

	if (res == NULL)
		return -1;
	rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 1 : 0;
	PQclear(res);
	return rc;
}

static void
lock_release(PGconn *conn, const kvp_config *cfg)
{
	const char *p[1] = {cfg->db_state_schema};

	if (PQstatus(conn) != CONNECTION_OK)
		return;     /* a session lock goes with its session */
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		db_rollback(conn);
	(void) db_command(conn, "releasing the run lock", "SELECT pg_advisory_unlock(" LOCK_KEY ")", 1, p);
}

int
runner_run(PGconn *conn, const kvp_config *cfg, const char *as_of_arg, time_t slot,
	   bool late, volatile sig_atomic_t *stop, struct runner_result *out)
{
	double t0 = mono_now();
	int rc = -1, locked;

	memset(out, 0, sizeof(*out));
	out->started = time(NULL);
	locked = lock_take(conn, cfg);
	if (locked < 0)
		goto done;
	if (locked == 0) {
		out->locked_out = true;
		log_info("another kvpscan run holds the lock");
		log_detail("nothing done; the other run scans and delivers");
		rc = 0;
		goto done;
	}
	if (migrate_check(conn, cfg) < 0 || db_as_of(conn, cfg, as_of_arg, out->as_of) < 0)
		goto unlock;

	log_info("run as of %s started", out->as_of);
	if (scan_store(conn, cfg, out->as_of, &out->sum) < 0) {
		log_error("scan as of %s failed; nothing of it was stored", out->as_of);
	} else {
		out->scan_ok = true;
		if (out->sum.already_done)
			log_info("scan as of %s already stored as run %lld, nothing stored",
				 out->as_of, out->sum.run_id);
		else
			log_info("scan as of %s stored as run %lld: %lld candidates, %lld flagged, "
				 "%lld new, %lld open, %lld resolved items", out->as_of, out->sum.run_id,
				 out->sum.candidates, out->sum.flagged, out->sum.items_new,
				 out->sum.items_open, out->sum.items_resolved);
	}
	/* deliver even after a failed scan: earlier worklists may be due */
	if (PQstatus(conn) == CONNECTION_OK)
		out->deliver_ok = runner_deliver_due(conn, cfg, stop, &out->sent) == 0;
	if (slot != (time_t) -1 && PQstatus(conn) == CONNECTION_OK)
		(void) record_slot(conn, cfg, slot, out->sum.run_id, out->scan_ok, late);
	log_info("deliveries: sent %d, retry later %d, dead %d", out->sent.sent, out->sent.retried,
		 out->sent.dead);
	if (out->sent.dead > 0) {
		log_error("%d deliveries are dead", out->sent.dead);
		log_hint("see \"kvpscan outbox --failed\"; after fixing the cause run \"kvpscan redeliver --dead\"");
	}
	if (out->scan_ok && out->deliver_ok && out->sent.dead == 0)
		rc = 0;
unlock:
	lock_release(conn, cfg);
done:
	out->duration = mono_now() - t0;
	out->db_lost = PQstatus(conn) != CONNECTION_OK;
	return rc;
}
