/* daemon.c - "kvpscan daemon": the nightly scan on a wall-clock schedule, deliveries retried in between */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "report_deliver.h"
#include "runner.h"
#include "schedule.h"

#define MAX_SLEEP 60.0          /* wake at least this often (clock changes, watchdog) */
#define BACKOFF_MIN 1.0         /* database reconnect: 1 s doubling ... */
#define BACKOFF_MAX 60.0        /* ... to 60 s */

static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_reload;

static void
on_stop(int sig)
{
	(void) sig;
	got_stop = 1;
}

static void
on_reload(int sig)
{
	(void) sig;
	got_reload = 1;
}

/* The daemon's state between wake-ups. */
struct daemon {
	kvp_ctx *ctx;
	kvp_schedule scan, report;
	time_t next_scan, next_report;
	time_t pending;             /* a slot due to run, (time_t)-1 none */
	bool pending_late;
	bool report_pending;        /* a report slot came; sent once the database answers */
	bool catch_up_check;        /* look up the latest past slot once connected */
	time_t catch_up_slot;
	PGconn *conn;
	double next_connect, backoff;
	double next_retry;          /* next pass over due deliveries */
	double next_watchdog, watchdog_every;
	sigset_t wait_mask;         /* the mask while sleeping: our signals open */
};

static double
now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
daemon_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan daemon [--pidfile FILE]\n\n"
		"Run in the foreground: scan every day at daemon.scan_at (in daemon.timezone),\n"
		"send due deliveries every daemon.retry_interval seconds, and when\n"
		"daemon.catch_up is true run a scan missed while the daemon was down once at\n"
		"start.  SIGHUP reloads the configuration; SIGTERM or SIGINT stops after the\n"
		"work in hand.  Speaks the systemd notify protocol (READY, STATUS, WATCHDOG,\n"
		"STOPPING).  See docs/daemon.md.\n\n"
		"Options:\n"
		"  --pidfile FILE  write the process id to FILE (removed at exit)\n\n"
		"Exit status 0 after SIGTERM/SIGINT, 1 on a start-up failure, 2 on a bad\n"
		"configuration.\n");
}

/* "2026-11-24 02:30 CET" (seconds shown when the schedule has them) into buf. */
static void
format_slot(time_t t, bool seconds, char *buf, size_t size)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL
	    || strftime(buf, size, seconds ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M %Z", &tm) == 0)
		snprintf(buf, size, "%lld", (long long) t);
}

static void
announce(const struct daemon *d)
{
	char when[64];

	format_slot(d->next_scan, d->scan.second != 0, when, sizeof(when));
	notify_sendf("STATUS=next scan at %s", when);
	log_info("next scan at %s", when);
}

/* Parse the schedules of cfg into d; -1 logged when one is invalid. */
static int
load_schedule(struct daemon *d, const kvp_config *cfg)
{
	kvp_schedule scan, report;
	time_t now = time(NULL);

	if (schedule_parse(&scan, cfg->dmn_scan_at, NULL) < 0
	    || schedule_parse(&report, cfg->dmn_report_at, cfg->dmn_report_day) < 0) {
		log_error("invalid daemon schedule \"%s\"", cfg->dmn_scan_at);
		return -1;
	}
	d->scan = scan;
	d->report = report;
	d->next_scan = schedule_next(&d->scan, now);
	d->next_report = schedule_next(&d->report, now);
	if (d->next_scan == (time_t) -1) {
		log_error("no scan slot within 400 days of now");
		return -1;
	}
	return 0;
}

static void
reload(struct daemon *d)
{
	kvp_ctx *ctx = d->ctx;

	if (ctx->config_path == NULL) {
		log_warning("received SIGHUP but no configuration file is in use");
		return;
	}
	log_info("received SIGHUP, reloading \"%s\"", ctx->config_path);
	if (conf_reload(&ctx->cfg, ctx->config_path) < 0)
		return;     /* conf_load logged the file and line; the old config stays */
	if (!ctx->verbose)
		log_set_level(log_level_from_name(ctx->cfg.log_level));
	if (load_schedule(d, &ctx->cfg) == 0)
		announce(d);
	d->next_retry = now_real();
}

/* Sleep until deadline (realtime seconds) or a signal; our signals are open only here. */
static void
wait_until(struct daemon *d, double deadline)
{
	sigset_t block, old;
	struct timespec ts;
	double dt;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	dt = deadline - now_real();
	if (!got_stop && !got_reload && dt > 0) {
		if (dt > MAX_SLEEP)
			dt = MAX_SLEEP;
		ts.tv_sec = (time_t) dt;
		ts.tv_nsec = (long) ((dt - (double) ts.tv_sec) * 1e9);
		(void) ppoll(NULL, 0, &ts, &d->wait_mask);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Is the connection still there?  A server restart leaves a dead one behind. */
static bool
conn_alive(PGconn *conn)
{
	PGresult *res;
	bool ok;

	if (PQstatus(conn) != CONNECTION_OK)
		return false;
	res = PQexec(conn, "SELECT 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok;
}

/* Have a connection, or schedule the next attempt with backoff; true when connected. */
static bool
ensure_conn(struct daemon *d)
{
	double now = now_real();

	if (d->conn != NULL && conn_alive(d->conn))
		return true;
	if (d->conn != NULL) {
		log_warning("lost the connection to the database, reconnecting");
		PQfinish(d->conn);
		d->conn = NULL;
		d->next_connect = now;
	}
	if (now < d->next_connect)
		return false;
	d->conn = db_connect(&d->ctx->cfg);
	if (d->conn != NULL) {
		if (d->backoff > BACKOFF_MIN)
			log_info("connected to the database again");
		d->backoff = BACKOFF_MIN;
		return true;
	}
	log_detail("next attempt in %.0f s", d->backoff);
	d->next_connect = now + d->backoff;
	d->backoff = d->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : d->backoff * 2;
	return false;
}

static void
drop_conn_if_broken(struct daemon *d)
{
	if (d->conn != NULL && PQstatus(d->conn) != CONNECTION_OK) {
		PQfinish(d->conn);
		d->conn = NULL;
		d->next_connect = now_real();
	}
}

/* Run the pending slot; keep it pending when the database went away before the scan finished. */
static void
run_pending(struct daemon *d)
{
	struct runner_result r;
	char as_of[11], when[64];
	struct tm tm;
	time_t slot = d->pending;

	if (localtime_r(&slot, &tm) == NULL || strftime(as_of, sizeof(as_of), "%Y-%m-%d", &tm) == 0)
		return;
	format_slot(slot, d->scan.second != 0, when, sizeof(when));
	log_info("running the scan of the slot at %s%s", when, d->pending_late ? " (late)" : "");
	notify_sendf("STATUS=scanning as of %s", as_of);
	(void) runner_run(d->conn, &d->ctx->cfg, as_of, slot, d->pending_late, &got_stop, &r);
	if (r.db_lost && !r.scan_ok && !r.locked_out) {
		log_warning("the run of the slot at %s could not complete; it is tried again when the database is back", when);
		drop_conn_if_broken(d);
		return;
	}
	d->pending = (time_t) -1;
	if (!r.locked_out)
		(void) metrics_write(d->conn, &d->ctx->cfg, &r);
	d->next_retry = now_real() + d->ctx->cfg.dmn_retry_interval;
	drop_conn_if_broken(d);
	announce(d);
}

/* One pass of the loop: move due slots to pending, then do what the database allows. */
static void
tick(struct daemon *d)
{
	time_t now = time(NULL);
	bool need_db;

	if (now >= d->next_scan) {
		if (d->pending != (time_t) -1)
			log_warning("a scheduled scan was missed while the database was unreachable; running the latest one");
		d->pending = d->next_scan;
		d->pending_late = false;
		d->next_scan = schedule_next(&d->scan, now);
		if (d->next_scan == (time_t) -1)
			d->next_scan = now + 86400;
	}
	if (d->next_report != (time_t) -1 && now >= d->next_report) {
		if (d->report_pending)
			log_warning("a report slot was missed while the database was unreachable; sending the latest reports once");
		d->report_pending = true;
		d->next_report = schedule_next(&d->report, now);
	}
	need_db = d->pending != (time_t) -1 || d->catch_up_check || d->report_pending
		|| now_real() >= d->next_retry;
	if (!need_db || !ensure_conn(d))
		return;
	if (d->catch_up_check) {
		int done = runner_slot_done(d->conn, &d->ctx->cfg, d->catch_up_slot);

		if (done < 0) {
			drop_conn_if_broken(d);
			return;
		}
		d->catch_up_check = false;
		if (done == 0 && d->pending == (time_t) -1) {
			log_info("the scan slot before start-up has no run; catching up");
			d->pending = d->catch_up_slot;
			d->pending_late = true;
		}
	}
	if (d->pending != (time_t) -1) {
		run_pending(d);
	} else if (d->report_pending) {
		/* after any pending scan, so the reports read the latest run */
		if (report_deliver(d->conn, &d->ctx->cfg, NULL, &got_stop) < 0
		    && PQstatus(d->conn) != CONNECTION_OK) {
			log_warning("the reports could not be queued; they are tried again when the database is back");
			drop_conn_if_broken(d);
			return;
		}
		d->report_pending = false;
	} else if (now_real() >= d->next_retry) {
		struct outbox_counts c;

		memset(&c, 0, sizeof(c));
		(void) runner_deliver_due(d->conn, &d->ctx->cfg, &got_stop, &c);
		if (c.claimed > 0)
			log_info("deliveries: sent %d, retry later %d, dead %d", c.sent, c.retried, c.dead);
		d->next_retry = now_real() + d->ctx->cfg.dmn_retry_interval;
		drop_conn_if_broken(d);
	}
}

static double
next_deadline(const struct daemon *d)
{
	double t = now_real() + MAX_SLEEP;

	if ((double) d->next_scan < t)
		t = (double) d->next_scan;
	if (d->next_report != (time_t) -1 && (double) d->next_report < t)
		t = (double) d->next_report;
	if (d->next_retry < t)
		t = d->next_retry;
	if (d->watchdog_every > 0 && d->next_watchdog < t)
		t = d->next_watchdog;
	if ((d->pending != (time_t) -1 || d->catch_up_check || d->report_pending) && d->conn == NULL
	    && d->next_connect < t)
		t = d->next_connect;
	return t;
}

static int
write_pidfile(const char *path)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
	if (write_file_atomic(path, buf, strlen(buf), 0644) < 0) {
		log_error("could not write pid file \"%s\": %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
cmd_daemon(int argc, char **argv, kvp_ctx *ctx)
{
	const char *pidfile = NULL;
	const cmd_option opts[] = {
		{"pidfile", .value = &pidfile},
		{NULL}
	};
	struct daemon d;
	struct sigaction sa;
	uint64_t wd;
	int rc;
	bool pid_written = false;

	rc = cmd_options(argc, argv, opts, daemon_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.pending = (time_t) -1;
	d.backoff = BACKOFF_MIN;
	if (schedule_set_timezone(ctx->cfg.dmn_timezone) < 0) {
		log_error("time zone \"%s\" is not installed", ctx->cfg.dmn_timezone);
		log_hint("install the tzdata package or set daemon.timezone");
		return KVP_EXIT_USAGE;
	}
	if (load_schedule(&d, &ctx->cfg) < 0)
		return KVP_EXIT_USAGE;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_SETMASK, NULL, &d.wait_mask);
	sigdelset(&d.wait_mask, SIGTERM);
	sigdelset(&d.wait_mask, SIGINT);
	sigdelset(&d.wait_mask, SIGHUP);

	if (pidfile != NULL) {
		if (write_pidfile(pidfile) < 0)
			goto cleanup;
		pid_written = true;
	}
	if (ctx->cfg.dmn_catch_up) {
		d.catch_up_slot = schedule_prev(&d.scan, time(NULL));
		d.catch_up_check = d.catch_up_slot != (time_t) -1;
	}
	wd = notify_watchdog_usec();
	d.watchdog_every = wd > 0 ? (double) wd / 2e6 : 0;
	d.next_watchdog = now_real() + d.watchdog_every;
	d.next_retry = now_real();

	log_info("daemon started (pid %ld), time zone %s", (long) getpid(), ctx->cfg.dmn_timezone);
	notify_send("READY=1");
	announce(&d);

	while (!got_stop) {
		if (got_reload) {
			got_reload = 0;
			reload(&d);
		}
		tick(&d);
		if (d.watchdog_every > 0 && now_real() >= d.next_watchdog) {
			notify_send("WATCHDOG=1");
			d.next_watchdog = now_real() + d.watchdog_every;
		}
		if (got_stop)
			break;
		wait_until(&d, next_deadline(&d));
	}
	notify_send("STOPPING=1");
	log_info("received a stop signal, daemon stopping");
	rc = KVP_EXIT_OK;
cleanup:
	PQfinish(d.conn);
	if (pid_written && unlink(pidfile) < 0 && errno != ENOENT)
		log_warning("could not remove pid file \"%s\": %s", pidfile, strerror(errno));
	return rc;
}
