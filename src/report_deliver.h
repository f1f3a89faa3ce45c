/* report_deliver.h - the målekort queued in the outbox: one email per office leader, the municipality, a webhook */
#ifndef KVP_REPORT_DELIVER_H
#define KVP_REPORT_DELIVER_H

#include <signal.h>
#include <libpq-fe.h>
#include "cmd.h"
#include "conf.h"

/*
 * Build the report from the latest succeeded run on or before as_of (NULL:
 * the latest run) and queue, in one transaction, kind 'report' deliveries:
 * per office with a leader_email an email with that office's report (text
 * and HTML), the municipality-wide report to report.municipality_email when
 * set, and the JSON by webhook when report.webhook and webhook.url are set.
 * Emails go by spool when email is not set up (delivery.channel is not
 * email and email.smtp_url is the default).  Delivery ids are
 * 'rp-<run_id>-<md5 16 hex>' of (office, kind): re-queueing is a no-op.
 * Sets *queued (may be NULL) to the deliveries this call added.
 * Returns 0, 1 when no run is stored (logged), -1 logged.
 */
int report_enqueue(PGconn *conn, const kvp_config *cfg, const char *as_of, int *queued);

/*
 * report_enqueue() then outbox_deliver_all() (stop may be NULL).  Prints
 * nothing.  Returns 0 when all went well, 1 when no run is stored or a
 * delivery died, -1 on an error (logged).
 */
int report_deliver(PGconn *conn, const kvp_config *cfg, const char *as_of,
		   volatile sig_atomic_t *stop);

#endif
