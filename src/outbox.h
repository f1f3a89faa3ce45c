/* outbox.h - the durable delivery outbox: claim due messages, send them, record the results */
#ifndef KVP_OUTBOX_H
#define KVP_OUTBOX_H

#include <signal.h>
#include <libpq-fe.h>
#include "conf.h"

/* What one outbox_send_due() call did. */
struct outbox_counts {
	int claimed;    /* deliveries taken for this batch */
	int sent;       /* accepted by the peer: now sent */
	int retried;    /* temporary failure: pending again, later */
	int dead;       /* refused for good or out of attempts: now dead */
	int lost;       /* earlier attempts found abandoned by a crashed sender */
};

/*
 * Claim up to limit due deliveries (pending and due, or sending with an
 * expired lease) in a short transaction, send them through their channel
 * with the delivery id as message id, and record every result in a second
 * transaction.  Fills *out (zeroed first).  0 on success, -1 with the error
 * logged (claimed messages are then retried after their lease).
 */
int outbox_send_due(PGconn *conn, const kvp_config *cfg, int limit, struct outbox_counts *out);

/*
 * Send everything due, batch after batch, until nothing is due, at most
 * `limit` deliveries, or *stop (may be NULL) becomes true.  Adds to *total
 * (not zeroed).  Closes the channel's kept connection at the end.  0, or -1
 * with the error logged.
 */
int outbox_deliver_all(PGconn *conn, const kvp_config *cfg, long limit,
		       volatile sig_atomic_t *stop, struct outbox_counts *total);

/*
 * The delay in seconds before attempt number attempts+1:
 * min(backoff_max, backoff_initial * 2^(attempts-1)) scaled by a jitter of
 * 0.8 + 0.4 * u (u in [0,1)), and at least retry_after when that is >= 0.
 */
double outbox_backoff(const kvp_config *cfg, int attempts, long retry_after, double u);

#endif
