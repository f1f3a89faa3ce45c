/* outbox.c - the durable delivery outbox: claim due messages, send them, record the results */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "deliver.h"
#include "deliver_email.h"
#include "deliver_spool.h"
#include "deliver_webhook.h"
#include "log.h"
#include "notify.h"
#include "outbox.h"

/*
 * outbox_enqueue(): the columns a message sets, then per conflict rule what
 * happens to a delivery id already queued.  RETURNING: one row per message
 * added or refreshed, true when it was queued dead.
 */
#define ENQ_NCOLS 15
static const char enqueue_head[] =
	"INSERT INTO @state@.delivery (delivery_id, run_id, kind, channel, recipient, office_id,"
	"    veileder_id, subject, text_body, html_body, json_body, item_count, state, last_error,"
	"    worklist_send)"
	" VALUES ";
static const char *const enqueue_tail[] = {
	[OUTBOX_KEEP] =
	" ON CONFLICT (delivery_id) DO NOTHING"
	" RETURNING delivery.last_error IS NOT NULL",
	[OUTBOX_TAKE_RECIPIENT] =
	" ON CONFLICT (delivery_id) DO UPDATE"
	"   SET recipient = EXCLUDED.recipient, state = EXCLUDED.state, attempts = 0,"
	"       next_attempt_at = now(), last_error = EXCLUDED.last_error"
	" WHERE delivery.state IN ('dead', 'pending') AND delivery.recipient IS NULL"
	"   AND delivery.channel = EXCLUDED.channel AND EXCLUDED.recipient IS NOT NULL"
	" RETURNING delivery.last_error IS NOT NULL",
};

int
outbox_enqueue(PGconn *conn, const kvp_config *cfg, const struct outbox_msg *msgs, int n,
	       enum outbox_conflict on_conflict, int *dead)
{
	const char *p[OUTBOX_ENQUEUE_MAX * ENQ_NCOLS];
	char num[OUTBOX_ENQUEUE_MAX][2][24];
	strbuf sql;
	char *expanded = NULL;
	PGresult *res = NULL;
	int i, k, rc = -1;

	if (n <= 0 || n > OUTBOX_ENQUEUE_MAX) {
		log_error("cannot queue %d deliveries in one statement", n);
		return -1;
	}
	sb_init(&sql);
	sb_puts(&sql, enqueue_head);
	for (i = 0; i < n; i++) {
		const struct outbox_msg *m = &msgs[i];
		const char **q = &p[i * ENQ_NCOLS];
		int o = i * ENQ_NCOLS;

		snprintf(num[i][0], sizeof(num[i][0]), "%lld", m->run_id);
		snprintf(num[i][1], sizeof(num[i][1]), "%ld", m->item_count);
		q[0] = m->delivery_id; q[1] = num[i][0]; q[2] = m->kind; q[3] = m->channel;
		q[4] = m->recipient; q[5] = m->office_id; q[6] = m->veileder_id; q[7] = m->subject;
		q[8] = m->text_body; q[9] = m->html_body; q[10] = m->json_body; q[11] = num[i][1];
		q[12] = m->state ? m->state : "pending";
		q[13] = m->last_error;
		q[14] = m->worklist_send;
		sb_printf(&sql, "%s($%d, $%d::bigint, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d,"
			  " $%d::int, $%d, $%d, $%d)", i > 0 ? ", " : "", o + 1, o + 2, o + 3, o + 4,
			  o + 5, o + 6, o + 7, o + 8, o + 9, o + 10, o + 11, o + 12, o + 13, o + 14, o + 15);
	}
	sb_puts(&sql, enqueue_tail[on_conflict]);
	expanded = db_expand(conn, cfg, sb_str(&sql));
	res = db_exec(conn, "queueing deliveries", expanded, n * ENQ_NCOLS, p);
	if (res == NULL)
		goto cleanup;
	for (k = 0; dead && k < PQntuples(res); k++)
		if (strcmp(PQgetvalue(res, k, 0), "t") == 0)
			(*dead)++;
	rc = PQntuples(res);
cleanup:
	PQclear(res);
	free(expanded);
	sb_free(&sql);
	return rc;
}

long
outbox_prune(PGconn *conn, const kvp_config *cfg)
{
	char days[16], *sql;
	const char *p[1] = {days};
	PGresult *res;
	int64_t n = 0;

	if (cfg->del_keep_sent_days <= 0)
		return 0;
	snprintf(days, sizeof(days), "%d", cfg->del_keep_sent_days);
	/* delivery_unpruned_idx (migration 011) holds exactly the rows to look at */
	sql = db_expand(conn, cfg,
		"UPDATE @state@.delivery SET text_body = NULL, html_body = NULL, json_body = NULL"
		" WHERE state = 'sent' AND sent_at < now() - make_interval(days => $1::int)"
		"   AND (text_body IS NOT NULL OR html_body IS NOT NULL OR json_body IS NOT NULL)");
	res = db_exec(conn, "blanking old sent deliveries", sql, 1, p);
	free(sql);
	if (res == NULL)
		return -1;
	if (parse_int64(PQcmdTuples(res), 0, INT64_MAX, &n) < 0)
		n = 0;
	PQclear(res);
	return (long) n;
}

/*
 * The sender key: a session advisory lock (this key, the sender's backend
 * pid) that a sender holds from before its claim until its results are
 * recorded.  The claim writes the pid into claimed_by; a later sender that
 * finds no such lock in pg_locks knows the claiming session is gone (its
 * process died, and the server ended the session) and takes the rows over
 * at once.  $1 is the state schema, so two installations never meet.
 */
#define SENDER_KEY "(hashtext('kvpscan.sender:' || $1::text) & 2147483647)"

static const char lock_sql[] = "SELECT pg_advisory_lock(" SENDER_KEY ", pg_backend_pid())";
static const char unlock_sql[] = "SELECT pg_advisory_unlock(" SENDER_KEY ", pg_backend_pid())";

/*
 * Take due rows under FOR UPDATE SKIP LOCKED, so two senders never send
 * the same row at once.  A row still "sending" belongs to a sender that
 * died between claiming and recording when its sender lock is gone (taken
 * over at once) or, for a sender that hangs, after its lease: its open
 * attempt is recorded as lost and the row is sent again with the same id.
 * The lease covers what the claimed channels can take: $3 seconds, plus $4
 * per email (one connection, one message after the other), $5 per round of
 * $6 parallel webhook requests, $7 per spool file.  Channels in $8 are
 * left alone (they cannot send in this round).
 */
static const char claim_sql[] =
	"WITH due AS ("
	"  SELECT d.delivery_id, d.channel, d.state AS old_state,"
	"         d.state = 'sending' AND d.lease_until >= now() AS early"
	"    FROM @state@.delivery d"
	"   WHERE NOT (d.channel = ANY ($8::text[]))"
	"     AND ((d.state = 'pending' AND d.next_attempt_at <= now())"
	"      OR (d.state = 'sending' AND (d.lease_until < now()"
	"          OR (d.claimed_by IS NOT NULL AND NOT EXISTS ("
	"              SELECT 1 FROM pg_catalog.pg_locks l"
	"               WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
	"                 AND l.database = (SELECT oid FROM pg_catalog.pg_database"
	"                                    WHERE datname = current_database())"
	"                 AND l.classid = " SENDER_KEY "::oid"
	"                 AND l.objid = d.claimed_by::oid)))))"
	"   ORDER BY d.next_attempt_at, d.delivery_id"
	"   LIMIT $2::int"
	"   FOR UPDATE SKIP LOCKED"
	"), lease AS ("
	"  SELECT least(86400, $3::double precision"
	"         + count(*) FILTER (WHERE channel = 'email') * $4::double precision"
	"         + ceil(count(*) FILTER (WHERE channel = 'webhook') / $6::double precision)"
	"           * $5::double precision"
	"         + count(*) FILTER (WHERE channel = 'spool') * $7::double precision) AS secs"
	"    FROM due"
	"), lost AS ("
	"  UPDATE @state@.delivery_attempt a"
	"     SET result = 'lost', finished_at = now(),"
	"         error = 'the sender stopped before recording the result'"
	"    FROM due"
	"   WHERE due.old_state = 'sending' AND a.delivery_id = due.delivery_id"
	"     AND a.result IS NULL"
	"  RETURNING a.delivery_id"
	"), upd AS ("
	"  UPDATE @state@.delivery d"
	"     SET state = 'sending', attempts = d.attempts + 1, claimed_by = pg_backend_pid(),"
	"         lease_until = now() + make_interval(secs => (SELECT secs FROM lease))"
	"    FROM due WHERE d.delivery_id = due.delivery_id"
	"  RETURNING d.delivery_id, d.channel, d.recipient, d.subject, d.text_body,"
	"            d.html_body, d.json_body, d.attempts"
	"), att AS ("
	"  INSERT INTO @state@.delivery_attempt (delivery_id, attempt_no, started_at)"
	"  SELECT upd.delivery_id,"
	"         coalesce((SELECT max(x.attempt_no) FROM @state@.delivery_attempt x"
	"                    WHERE x.delivery_id = upd.delivery_id), 0) + 1, now()"
	"    FROM upd"
	"  RETURNING delivery_id, attempt_no"
	")"
	"SELECT upd.delivery_id, upd.channel, upd.recipient, upd.subject, upd.text_body,"
	"       upd.html_body, upd.json_body, upd.attempts, att.attempt_no,"
	"       (SELECT count(*) FROM lost WHERE lost.delivery_id = upd.delivery_id),"
	"       (SELECT due.early FROM due WHERE due.delivery_id = upd.delivery_id),"
	"       (SELECT round(secs)::int FROM lease)"
	"  FROM upd JOIN att USING (delivery_id)"
	" ORDER BY upd.channel, upd.delivery_id";

enum { C_ID = 0, C_CHANNEL, C_RECIPIENT, C_SUBJECT, C_TEXT, C_HTML, C_JSON,
       C_ATTEMPTS, C_ATTEMPT_NO, C_LOST, C_EARLY, C_LEASE };

/*
 * Record one result, only if the row is still ours (same claim).  $9 is
 * where the attempt went: for the webhook the url in force, which also
 * becomes the row's recipient.
 */
static const char record_sql[] =
	"WITH d AS ("
	"  UPDATE @state@.delivery"
	"     SET state = $3, lease_until = NULL, claimed_by = NULL,"
	"         next_attempt_at = CASE WHEN $3 = 'pending'"
	"             THEN now() + make_interval(secs => $4::double precision)"
	"             ELSE next_attempt_at END,"
	"         sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END,"
	"         recipient = CASE WHEN channel = 'webhook' THEN coalesce($9, recipient) ELSE recipient END,"
	"         last_status = $5::int, last_error = $6"
	"   WHERE delivery_id = $1 AND state = 'sending' AND attempts = $2::int"
	"  RETURNING delivery_id"
	")"
	"UPDATE @state@.delivery_attempt a"
	"   SET finished_at = now(), result = $7, status = $5::int, error = $6, recipient = $9"
	"  FROM d WHERE a.delivery_id = d.delivery_id AND a.attempt_no = $8::int";

/* A channel that could not send at all; removed once it sends again. */
static const char fault_set_sql[] =
	"INSERT INTO @state@.channel_fault (channel, error) VALUES ($1, $2)"
	" ON CONFLICT (channel) DO UPDATE SET error = EXCLUDED.error, last_seen = now()";
static const char fault_clear_sql[] = "DELETE FROM @state@.channel_fault WHERE channel = $1";

/* The channels by bit, for the set of channels that cannot send in a round. */
static const char *const channel_names[] = {"webhook", "email", "spool"};
#define N_CHANNELS 3

static int
channel_bit(const char *channel)
{
	int i;

	for (i = 0; i < N_CHANNELS; i++)
		if (strcmp(channel, channel_names[i]) == 0)
			return 1 << i;
	return 0;
}

static unsigned long long rng_state;

/* A uniform number in [0,1) from a xorshift generator seeded once per process. */
static double
jitter_unit(void)
{
	if (rng_state == 0)
		rng_state = ((unsigned long long) time(NULL) << 20) ^ (unsigned long long) getpid()
			    ^ 0x9e3779b97f4a7c15ULL;
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double) (rng_state >> 11) / 9007199254740992.0;
}

double
outbox_backoff(const kvp_config *cfg, int attempts, long retry_after, double u)
{
	double base = cfg->del_backoff_initial, delay;
	int i;

	for (i = 1; i < attempts && base < cfg->del_backoff_max; i++)
		base *= 2;
	if (base > cfg->del_backoff_max)
		base = cfg->del_backoff_max;
	delay = base * (0.8 + 0.4 * u);
	if (retry_after >= 0) {
		/* a receiver's Retry-After is honoured up to backoff_max, the longest wait */
		double asked = (double) retry_after;

		if (asked > cfg->del_backoff_max)
			asked = cfg->del_backoff_max;
		if (delay < asked)
			delay = asked;
	}
	return delay;
}

/*
 * Send msgs[0..n) of one channel; results still pending afterwards become
 * retries.  A setup error of the channel (it returned -1: no secret, an
 * invalid email.from, a missing spool directory) means it cannot send at
 * all: every message it left without a result is marked unusable.
 */
static void
send_channel(const kvp_config *cfg, const char *channel, kvp_message *msgs, size_t n)
{
	int rc;
	size_t i;

	if (strcmp(channel, "webhook") == 0)
		rc = webhook_send_batch(cfg, msgs, n);
	else if (strcmp(channel, "email") == 0)
		rc = email_send_batch(cfg, msgs, n);
	else if (strcmp(channel, "spool") == 0)
		rc = spool_write_batch(cfg, msgs, n);
	else {
		for (i = 0; i < n; i++)
			kvp_message_set_result(&msgs[i], KVP_SEND_PERMANENT, 0, "unknown channel");
		return;
	}
	for (i = 0; i < n; i++) {
		if (rc < 0 && msgs[i].result != KVP_SEND_OK && msgs[i].result != KVP_SEND_PERMANENT) {
			char why[sizeof(msgs[i].error)];

			/* keep the channel's own reason when it gave one */
			snprintf(why, sizeof(why), "%s", msgs[i].error);
			if (why[0] == '\0')
				snprintf(why, sizeof(why), "the %s channel could not be set up", channel);
			kvp_message_set_result(&msgs[i], KVP_SEND_UNUSABLE, 0, "%s", why);
		}
		else if (msgs[i].result == KVP_SEND_PENDING)
			kvp_message_set_result(&msgs[i], KVP_SEND_RETRY, 0, "no result from the channel");
	}
}

static const char *
nonempty(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

/* Take (true) or release the sender lock of this session; 0, or -1 logged. */
static int
sender_lock(PGconn *conn, const kvp_config *cfg, bool take)
{
	const char *p[1] = {cfg->db_state_schema};

	if (!take && PQstatus(conn) != CONNECTION_OK)
		return 0;       /* a session lock goes with its session */
	return db_command(conn, take ? "taking the sender lock" : "releasing the sender lock",
			  take ? lock_sql : unlock_sql, 1, p);
}

/* "{webhook,spool}": the channels in mask, as a text[] literal. */
static void
channel_array(int mask, char *buf, size_t size)
{
	size_t len;
	int i;

	snprintf(buf, size, "{");
	for (i = 0; i < N_CHANNELS; i++) {
		if (!(mask & (1 << i)))
			continue;
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s%s", len > 1 ? "," : "", channel_names[i]);
	}
	len = strlen(buf);
	snprintf(buf + len, size - len, "}");
}

/* One batch, leaving the channels in skip_mask alone; see outbox_send_due(). */
/* The claim's parameters: the schema, the limit, the lease per channel, the channels to skip. */
struct claim_args {
	char limit_s[24], base_s[24], mail_s[24], wh_s[24], conc_s[24], skip_s[64];
	const char *params[8];
};

static void
claim_args_init(struct claim_args *a, const kvp_config *cfg, int limit, int skip_mask)
{
	snprintf(a->limit_s, sizeof(a->limit_s), "%d", limit);
	snprintf(a->base_s, sizeof(a->base_s), "%d", 60);
	snprintf(a->mail_s, sizeof(a->mail_s), "%d", cfg->mail_timeout > 0 ? cfg->mail_timeout : 60);
	snprintf(a->wh_s, sizeof(a->wh_s), "%d", (cfg->wh_timeout > 0 ? cfg->wh_timeout : 30)
		 + (cfg->wh_connect_timeout > 0 ? cfg->wh_connect_timeout : 10));
	snprintf(a->conc_s, sizeof(a->conc_s), "%d", cfg->del_concurrency > 0 ? cfg->del_concurrency : 4);
	channel_array(skip_mask, a->skip_s, sizeof(a->skip_s));
	a->params[0] = cfg->db_state_schema;
	a->params[1] = a->limit_s;
	a->params[2] = a->base_s;
	a->params[3] = a->mail_s;
	a->params[4] = a->wh_s;
	a->params[5] = a->conc_s;
	a->params[6] = "1";     /* a spool file: an atomic write and an fsync */
	a->params[7] = a->skip_s;
}

/* Count the lost attempts and the rows taken over from a gone sender. */
static void
count_claimed(const PGresult *res, struct outbox_counts *out)
{
	int i, n = PQntuples(res);

	out->claimed = n;
	for (i = 0; i < n; i++) {
		out->lost += (int) strtol(PQgetvalue(res, i, C_LOST), NULL, 10);
		if (strcmp(PQgetvalue(res, i, C_EARLY), "t") == 0)
			out->taken_over++;
	}
	if (out->taken_over > 0)
		log_warning("%d deliveries claimed by a sender that is gone were taken over before their lease ended",
			    out->taken_over);
}

/* Fill msgs[i] and sent_to[i] from claimed row i; the strings stay res's. */
static void
message_from_claim(const kvp_config *cfg, const PGresult *res, int i, kvp_message *m, const char **sent_to)
{
	bool webhook = strcmp(PQgetvalue(res, i, C_CHANNEL), "webhook") == 0;

	m->id = PQgetvalue(res, i, C_ID);
	/* the webhook goes to the url in force now, not the one of the queue time */
	m->recipient = webhook ? NULL : nonempty(res, i, C_RECIPIENT);
	if (m->recipient && m->recipient[0] == '\0')
		m->recipient = NULL;
	*sent_to = webhook ? (cfg->wh_url[0] ? cfg->wh_url : NULL) : m->recipient;
	m->subject = nonempty(res, i, C_SUBJECT);
	m->text_body = nonempty(res, i, C_TEXT);
	m->html_body = nonempty(res, i, C_HTML);
	m->json_body = nonempty(res, i, C_JSON);
	m->retry_after = -1;
	m->result = KVP_SEND_PENDING;
}

/* Send the claimed rows (sorted by channel) one channel at a time, outside any transaction. */
static void
send_claimed(const kvp_config *cfg, const PGresult *res, kvp_message *msgs, int n)
{
	int start, end;

	for (start = 0; start < n; start = end) {
		const char *channel = PQgetvalue(res, start, C_CHANNEL);

		end = start + 1;
		while (end < n && strcmp(PQgetvalue(res, end, C_CHANNEL), channel) == 0)
			end++;
		send_channel(cfg, channel, msgs + start, (size_t) (end - start));
		notify_watchdog_kick();
	}
}

/* The SQL a round records with, expanded for the state schema once. */
struct record_sql {
	char *record, *fault_set, *fault_clear;
};

/* A channel's first "cannot send at all" of the round: logged and recorded once. */
static int
record_fault(PGconn *conn, const struct record_sql *q, const char *channel, const kvp_message *m,
	     struct outbox_counts *out)
{
	const char *fp[2] = {channel, m->error};
	PGresult *r;

	out->unusable++;
	if (out->unusable_mask & channel_bit(channel))
		return 0;
	out->unusable_mask |= channel_bit(channel);
	log_error("the %s channel cannot send at all: %s", channel, m->error);
	log_detail("its deliveries are kept and retried later; this round sends no more of them");
	log_hint("fix the configuration the error names; \"kvpscan status\" reports the "
		 "channel until it sends again");
	r = db_exec(conn, "record a channel fault", q->fault_set, 2, fp);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/* Record claimed row i's result (sent, pending with a backoff, or dead); 0 or -1 logged. */
static int
record_result(PGconn *conn, const kvp_config *cfg, const struct record_sql *q, const PGresult *res,
	      int i, const kvp_message *m, const char *sent_to, struct outbox_counts *out, int *ok_mask)
{
	const char *channel = PQgetvalue(res, i, C_CHANNEL);
	int attempts = (int) strtol(PQgetvalue(res, i, C_ATTEMPTS), NULL, 10);
	const char *state, *result;
	char delay_s[32] = "0", status_s[16];
	const char *rp[9];
	PGresult *r;

	if (m->result == KVP_SEND_OK) {
		state = "sent";
		result = "ok";
		out->sent++;
		*ok_mask |= channel_bit(channel);
	} else if ((m->result == KVP_SEND_RETRY || m->result == KVP_SEND_UNUSABLE)
		   && attempts < cfg->del_max_attempts) {
		state = "pending";
		result = "retry";
		snprintf(delay_s, sizeof(delay_s), "%.3f",
			 outbox_backoff(cfg, attempts, m->retry_after, jitter_unit()));
		out->retried++;
	} else {
		state = "dead";
		result = m->result == KVP_SEND_PERMANENT ? "permanent" : "retry";
		out->dead++;
	}
	if (m->result == KVP_SEND_UNUSABLE && record_fault(conn, q, channel, m, out) < 0)
		return -1;
	snprintf(status_s, sizeof(status_s), "%d", m->status);
	rp[0] = m->id;
	rp[1] = PQgetvalue(res, i, C_ATTEMPTS);
	rp[2] = state;
	rp[3] = delay_s;
	rp[4] = m->status != 0 ? status_s : NULL;
	rp[5] = m->result == KVP_SEND_OK || m->error[0] == '\0' ? NULL : m->error;
	rp[6] = result;
	rp[7] = PQgetvalue(res, i, C_ATTEMPT_NO);
	rp[8] = sent_to;
	r = db_exec(conn, "record a delivery result", q->record, 9, rp);
	if (r == NULL)
		return -1;
	if (strcmp(PQcmdTuples(r), "0") == 0)
		log_debug("a delivery was claimed again by another sender before its result was recorded");
	PQclear(r);
	return 0;
}

/* Clear the fault of every channel that sent this round and had no new fault; 0 or -1 logged. */
static int
clear_faults(PGconn *conn, const struct record_sql *q, int ok_mask, int unusable_mask)
{
	int i;

	for (i = 0; i < N_CHANNELS; i++) {
		const char *fp[1] = {channel_names[i]};
		PGresult *r;

		if (!(ok_mask & (1 << i)) || (unusable_mask & (1 << i)))
			continue;
		r = db_exec(conn, "clear a channel fault", q->fault_clear, 1, fp);
		if (r == NULL)
			return -1;
		if (strcmp(PQcmdTuples(r), "0") != 0)
			log_info("the %s channel sends again", channel_names[i]);
		PQclear(r);
	}
	return 0;
}

static int
send_due(PGconn *conn, const kvp_config *cfg, int limit, int skip_mask, struct outbox_counts *out)
{
	struct claim_args args = {0};
	struct record_sql q = {NULL, NULL, NULL};
	char *claim = NULL;
	PGresult *res = NULL;
	kvp_message *msgs = NULL;
	const char **sent_to = NULL;
	int rc = -1, n = 0, i, ok_mask = 0;
	bool in_tx = false, locked = false;

	memset(out, 0, sizeof(*out));
	if (limit <= 0)
		return 0;
	claim = db_expand(conn, cfg, claim_sql);
	q.record = db_expand(conn, cfg, record_sql);
	q.fault_set = db_expand(conn, cfg, fault_set_sql);
	q.fault_clear = db_expand(conn, cfg, fault_clear_sql);
	claim_args_init(&args, cfg, limit, skip_mask);

	/* 0. the sender lock, held until the results are recorded */
	if (sender_lock(conn, cfg, true) < 0)
		goto cleanup;
	locked = true;

	/* 1. claim, in a short transaction of its own */
	if (db_begin(conn) < 0)
		goto cleanup;
	in_tx = true;
	res = db_exec(conn, "claim due deliveries", claim, 8, args.params);
	if (res == NULL)
		goto cleanup;
	if (db_commit(conn) < 0)
		goto cleanup;
	in_tx = false;
	n = PQntuples(res);
	if (n == 0) {
		rc = 0;
		goto cleanup;
	}
	log_debug("claimed %d deliveries, lease %s s", n, PQgetvalue(res, 0, C_LEASE));
	count_claimed(res, out);

	/* 2. send, outside any transaction, one channel at a time */
	msgs = xcalloc((size_t) n, sizeof(*msgs));
	sent_to = xcalloc((size_t) n, sizeof(*sent_to));
	for (i = 0; i < n; i++)
		message_from_claim(cfg, res, i, &msgs[i], &sent_to[i]);
	send_claimed(cfg, res, msgs, n);

	/* 3. record every result in one transaction */
	if (db_begin(conn) < 0)
		goto cleanup;
	in_tx = true;
	for (i = 0; i < n; i++)
		if (record_result(conn, cfg, &q, res, i, &msgs[i], sent_to[i], out, &ok_mask) < 0)
			goto cleanup;
	if (clear_faults(conn, &q, ok_mask, out->unusable_mask) < 0)
		goto cleanup;
	if (db_commit(conn) < 0)
		goto cleanup;
	in_tx = false;
	log_info("delivery batch: %d sent, %d to retry, %d dead", out->sent, out->retried, out->dead);
	if (out->lost > 0)
		log_warning("%d earlier delivery attempts were lost by a stopped sender and were sent again",
			    out->lost);
	rc = 0;

cleanup:
	if (in_tx)
		db_rollback(conn);
	/* an error logged is a failed round, even when only the unlock failed */
	if (locked && sender_lock(conn, cfg, false) < 0)
		rc = -1;
	if (rc < 0 && n > 0)
		log_hint("the claimed deliveries are sent again by the next sender (this session no longer holds them)");
	free(msgs);
	free(sent_to);
	PQclear(res);
	free(claim);
	free(q.record);
	free(q.fault_set);
	free(q.fault_clear);
	return rc;
}

int
outbox_send_due(PGconn *conn, const kvp_config *cfg, int limit, struct outbox_counts *out)
{
	return send_due(conn, cfg, limit, 0, out);
}

#define OUTBOX_BATCH 100
#define OUTBOX_MAX_BATCHES 10000

int
outbox_deliver_all(PGconn *conn, const kvp_config *cfg, long limit,
		   volatile sig_atomic_t *stop, struct outbox_counts *total)
{
	struct outbox_counts c;
	int batches, rc = 0;

	for (batches = 0; batches < OUTBOX_MAX_BATCHES && limit > 0; batches++) {
		int want = limit < OUTBOX_BATCH ? (int) limit : OUTBOX_BATCH;

		notify_watchdog_kick();
		if (stop != NULL && *stop)
			break;
		if (send_due(conn, cfg, want, total->unusable_mask, &c) < 0) {
			rc = -1;
			break;
		}
		if (c.claimed == 0)
			break;
		limit -= c.claimed;
		total->claimed += c.claimed;
		total->sent += c.sent;
		total->retried += c.retried;
		total->dead += c.dead;
		total->lost += c.lost;
		total->taken_over += c.taken_over;
		total->unusable += c.unusable;
		total->unusable_mask |= c.unusable_mask;
	}
	email_channel_close();
	notify_watchdog_kick();
	if (total->unusable > 0)
		rc = -1;
	return rc;
}
