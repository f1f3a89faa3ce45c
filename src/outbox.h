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
	int taken_over; /* claimed rows of a sender that is gone, taken before their lease ended */
	int unusable;   /* messages of a channel that cannot send at all: pending again, later */
	int unusable_mask; /* those channels: 1 webhook, 2 email, 4 spool */
};

/* One message to queue: the delivery table's columns (NULL where absent). */
struct outbox_msg {
	const char *delivery_id;    /* stable per message: queueing the same id again is the conflict */
	long long run_id;
	const char *kind;           /* "worklist" or "report" */
	const char *channel;        /* "webhook", "email" or "spool" */
	const char *recipient;      /* address, URL or spool file stem; NULL: none known */
	const char *office_id, *veileder_id;
	const char *subject, *text_body, *html_body, *json_body;
	long item_count;
	const char *state;          /* "pending", or "dead" (with last_error) when it cannot go */
	const char *last_error;
	const char *worklist_send;  /* a worklist: delivery.send it was built with (migration 011); else NULL */
};

/* What queueing a delivery id that is already queued does. */
enum outbox_conflict {
	OUTBOX_KEEP,                /* the queued delivery stays as it is */
	/*
	 * as OUTBOX_KEEP, except that a delivery that is dead or pending for
	 * want of a recipient takes the new one (same channel) and starts over
	 */
	OUTBOX_TAKE_RECIPIENT
};

#define OUTBOX_ENQUEUE_MAX 64   /* messages per outbox_enqueue() call: one statement */

/*
 * Queue n (1..OUTBOX_ENQUEUE_MAX) messages in one INSERT into the delivery
 * table, the conflict rule on_conflict for ids already there.  Returns how
 * many rows were added or refreshed, and adds to *dead (may be NULL) those of
 * them queued dead; -1 with the error logged.  The caller keeps msgs.
 */
int outbox_enqueue(PGconn *conn, const kvp_config *cfg, const struct outbox_msg *msgs, int n,
		   enum outbox_conflict on_conflict, int *dead);

/*
 * Blank the bodies of deliveries sent more than delivery.keep_sent_days ago
 * (nothing when it is 0); the rows stay.  Returns how many, or -1 logged.
 */
long outbox_prune(PGconn *conn, const kvp_config *cfg);

/*
 * Holding the sender lock (an advisory lock of this session), claim up to
 * limit due deliveries (pending and due; sending with an expired lease or
 * claimed by a sender whose session is gone) in a short transaction, send
 * them through their channel with the delivery id as message id (the
 * webhook to the webhook.url of cfg), and record every result in a second
 * transaction.  Fills *out (zeroed first).  0 on success, -1 with the error
 * logged (the claimed messages are then taken over by the next sender).
 */
int outbox_send_due(PGconn *conn, const kvp_config *cfg, int limit, struct outbox_counts *out);

/*
 * Send everything due, batch after batch, until nothing is due, at most
 * `limit` deliveries, or *stop (may be NULL) becomes true.  A channel that
 * cannot send at all is left alone for the rest of the round.  Adds to
 * *total (not zeroed; total->unusable_mask is read as the channels to skip).
 * Pings the systemd watchdog between batches.  Closes the channel's kept
 * connection at the end.  0; -1 with the error logged on a database error or
 * when a channel could not send at all (total->unusable > 0).
 */
int outbox_deliver_all(PGconn *conn, const kvp_config *cfg, long limit,
		       volatile sig_atomic_t *stop, struct outbox_counts *total);

/*
 * The delay in seconds before attempt number attempts+1:
 * min(backoff_max, backoff_initial * 2^(attempts-1)) scaled by a jitter of
 * 0.8 + 0.4 * u (u in [0,1)), and at least retry_after when that is >= 0,
 * which counts up to backoff_max only (a receiver cannot ask for more).
 */
double outbox_backoff(const kvp_config *cfg, int attempts, long retry_after, double u);

#endif
