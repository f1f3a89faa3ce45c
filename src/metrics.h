/* metrics.h - a Prometheus node_exporter textfile after each run */
#ifndef KVP_METRICS_H
#define KVP_METRICS_H

#include <libpq-fe.h>
#include "conf.h"
#include "runner.h"

/*
 * Write daemon.metrics_file (nothing when it is "") atomically: the last
 * run's time, duration and outcome from r, its candidate counts by flag and
 * the deliveries by state from the database when conn is usable (series
 * that cannot be read are left out).  0, or -1 with the error logged.
 */
int metrics_write(PGconn *conn, const kvp_config *cfg, const struct runner_result *r);

/* Deliveries by state: pending, failed, sending, sent, dead. */
#define METRICS_N_STATES 5

/*
 * The textfile's text for r and the counts given (-1: unknown, left out),
 * channel_faults the channels that cannot send with deliveries waiting;
 * caller frees.
 */
char *metrics_format(const struct runner_result *r, const long long flags[3], long long flagged,
		     const long long deliveries[METRICS_N_STATES], long long channel_faults);

#endif
