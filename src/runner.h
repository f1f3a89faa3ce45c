/* runner.h - one nightly run: take the run lock, scan, deliver, release */
#ifndef KVP_RUNNER_H
#define KVP_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include <libpq-fe.h>
#include "conf.h"
#include "outbox.h"
#include "scan.h"

/* What runner_run() did. */
struct runner_result {
	bool locked_out;        /* another process holds the run lock: nothing done */
	bool scan_ok;           /* the scan stored a run (or found it already stored) */
	bool deliver_ok;        /* no database error while delivering, every channel could send */
	bool db_lost;           /* the connection broke: the caller should reconnect */
	char as_of[11];
	time_t started;
	double duration;        /* seconds, scan and delivery */
	scan_summary sum;
	struct outbox_counts sent;  /* summed over every batch */
};

/*
 * Do the nightly work once on conn: take the session advisory lock of the
 * state schema (if another process holds it, log that and return 0 with
 * locked_out set), store a scan as of as_of_arg (NULL: today in the
 * configured zone), send the deliveries due, release the lock.  When slot
 * is not (time_t)-1, record in run_slot that this run served it.  *stop is
 * checked between delivery batches (NULL: never stop).  Returns 0 when the
 * scan succeeded and no delivery died, -1 otherwise (logged).
 */
int runner_run(PGconn *conn, const kvp_config *cfg, const char *as_of_arg, time_t slot,
	       bool late, volatile sig_atomic_t *stop, struct runner_result *out);

/*
 * Send the deliveries due now, batch after batch until none is due, at most
 * a bounded number of batches; adds to *total.  *stop (may be NULL) ends it
 * early.  0, or -1 on a database error (logged).
 */
int runner_deliver_due(PGconn *conn, const kvp_config *cfg, volatile sig_atomic_t *stop,
		       struct outbox_counts *total);

/*
 * Has a run been recorded for slot?  1 yes, 0 no, -1 on a database error
 * (logged).
 */
int runner_slot_done(PGconn *conn, const kvp_config *cfg, time_t slot);

/* Format t as local "YYYY-MM-DD HH:MM:SS TZ" into buf. */
void runner_format_time(time_t t, char *buf, size_t size);

#endif
