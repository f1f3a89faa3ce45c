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
#include "outbox.h"

/*
 * Take due rows under FOR UPDATE SKIP LOCKED, so two senders never send
 * the same row at once.  A row still "sending" after its lease belongs to
 * a sender that died between sending and recording: its open attempt is
 * recorded as lost and the row is sent again with the same id.
 */
static const char claim_sql[] =
	"WITH due AS ("
	"  SELECT delivery_id, state AS old_state FROM @state@.delivery"
	"  WHERE (state = 'pending' AND next_attempt_at <= now())"
	"     OR (state = 'sending' AND lease_until < now())"
	"  ORDER BY next_attempt_at, delivery_id"
	"  LIMIT $1::int"
	"  FOR UPDATE SKIP LOCKED"
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
	"     SET state = 'sending', attempts = d.attempts + 1,"
	"         lease_until = now() + make_interval(secs => $2::double precision)"
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
	"       (SELECT count(*) FROM lost WHERE lost.delivery_id = upd.delivery_id)"
	"  FROM upd JOIN att USING (delivery_id)"
	" ORDER BY upd.channel, upd.delivery_id";

enum { C_ID = 0, C_CHANNEL, C_RECIPIENT, C_SUBJECT, C_TEXT, C_HTML, C_JSON,
       C_ATTEMPTS, C_ATTEMPT_NO, C_LOST };

/* Record one result, only if the row is still ours (same claim). */
static const char record_sql[] =
	"WITH d AS ("
	"  UPDATE @state@.delivery"
	"     SET state = $3, lease_until = NULL,"
	"         next_attempt_at = CASE WHEN $3 = 'pending'"
	"             THEN now() + make_interval(secs => $4::double precision)"
	"             ELSE next_attempt_at END,"
	"         sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END,"
	"         last_status = $5::int, last_error = $6"
	"   WHERE delivery_id = $1 AND state = 'sending' AND attempts = $2::int"
	"  RETURNING delivery_id"
	")"
	"UPDATE @state@.delivery_attempt a"
	"   SET finished_at = now(), result = $7, status = $5::int, error = $6"
	"  FROM d WHERE a.delivery_id = d.delivery_id AND a.attempt_no = $8::int";

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
	if (retry_after >= 0 && delay < (double) retry_after)
		delay = (double) retry_after;
	return delay;
}

/* Seconds a claim stays ours: generous for the slowest channel over n messages. */
static long
lease_seconds(const kvp_config *cfg, size_t n)
{
	long per = cfg->wh_timeout > cfg->mail_timeout ? cfg->wh_timeout : cfg->mail_timeout;
	long lease = 120 + (long) n * (per > 0 ? per : 60);

	return lease > 86400 ? 86400 : lease;
}

/* Send msgs[0..n) of one channel; results still pending afterwards become retries. */
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
	for (i = 0; i < n; i++)
		if (msgs[i].result == KVP_SEND_PENDING)
			kvp_message_set_result(&msgs[i], KVP_SEND_RETRY, 0, "%s",
					       rc < 0 ? "channel setup failed" : "no result from the channel");
}

static const char *
nonempty(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

int
outbox_send_due(PGconn *conn, const kvp_config *cfg, int limit, struct outbox_counts *out)
{
	char *claim = NULL, *record = NULL;
	PGresult *res = NULL;
	kvp_message *msgs = NULL;
	char limit_s[24], lease_s[24];
	const char *params[2];
	int rc = -1, n = 0, i, start;
	bool in_tx = false;

	memset(out, 0, sizeof(*out));
	if (limit <= 0)
		return 0;
	claim = db_expand(conn, cfg, claim_sql);
	record = db_expand(conn, cfg, record_sql);
	snprintf(limit_s, sizeof(limit_s), "%d", limit);
	snprintf(lease_s, sizeof(lease_s), "%ld", lease_seconds(cfg, (size_t) limit));
	params[0] = limit_s;
	params[1] = lease_s;

	/* 1. claim, in a short transaction of its own */
	if (db_begin(conn) < 0)
		goto cleanup;
	in_tx = true;
	res = db_exec(conn, "claim due deliveries", claim, 2, params);
	if (res == NULL)
		goto cleanup;
	if (db_commit(conn) < 0)
		goto cleanup;
	in_tx = false;
	n = PQntuples(res);
	out->claimed = n;
	if (n == 0) {
		rc = 0;
		goto cleanup;
	}
	for (i = 0; i < n; i++)
		out->lost += (int) strtol(PQgetvalue(res, i, C_LOST), NULL, 10);

	/* 2. send, outside any transaction, one channel at a time */
	msgs = xcalloc((size_t) n, sizeof(*msgs));
	for (i = 0; i < n; i++) {
		msgs[i].id = PQgetvalue(res, i, C_ID);
		msgs[i].recipient = nonempty(res, i, C_RECIPIENT);
		if (msgs[i].recipient && msgs[i].recipient[0] == '\0')
			msgs[i].recipient = NULL;
		msgs[i].subject = nonempty(res, i, C_SUBJECT);
		msgs[i].text_body = nonempty(res, i, C_TEXT);
		msgs[i].html_body = nonempty(res, i, C_HTML);
		msgs[i].json_body = nonempty(res, i, C_JSON);
		msgs[i].retry_after = -1;
		msgs[i].result = KVP_SEND_PENDING;
	}
	for (start = 0; start < n; ) {
		const char *channel = PQgetvalue(res, start, C_CHANNEL);
		int end = start + 1;

		while (end < n && strcmp(PQgetvalue(res, end, C_CHANNEL), channel) == 0)
			end++;
		send_channel(cfg, channel, msgs + start, (size_t) (end - start));
		start = end;
	}

	/* 3. record every result in one transaction */
	if (db_begin(conn) < 0)
		goto cleanup;
	in_tx = true;
	for (i = 0; i < n; i++) {
		kvp_message *m = &msgs[i];
		int attempts = (int) strtol(PQgetvalue(res, i, C_ATTEMPTS), NULL, 10);
		const char *state, *result;
		char delay_s[32] = "0", status_s[16];
		const char *rp[8];
		PGresult *r;

		if (m->result == KVP_SEND_OK) {
			state = "sent";
			result = "ok";
			out->sent++;
		} else if (m->result == KVP_SEND_RETRY && attempts < cfg->del_max_attempts) {
			state = "pending";
			result = "retry";
			snprintf(delay_s, sizeof(delay_s), "%.3f",
				 outbox_backoff(cfg, attempts, m->retry_after, jitter_unit()));
			out->retried++;
		} else {
			state = "dead";
			result = m->result == KVP_SEND_RETRY ? "retry" : "permanent";
			out->dead++;
		}
		snprintf(status_s, sizeof(status_s), "%d", m->status);
		rp[0] = m->id;
		rp[1] = PQgetvalue(res, i, C_ATTEMPTS);
		rp[2] = state;
		rp[3] = delay_s;
		rp[4] = m->status != 0 ? status_s : NULL;
		rp[5] = m->result == KVP_SEND_OK || m->error[0] == '\0' ? NULL : m->error;
		rp[6] = result;
		rp[7] = PQgetvalue(res, i, C_ATTEMPT_NO);
		r = db_exec(conn, "record a delivery result", record, 8, rp);
		if (r == NULL)
			goto cleanup;
		if (strcmp(PQcmdTuples(r), "0") == 0)
			log_debug("a delivery was claimed again by another sender before its result was recorded");
		PQclear(r);
	}
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
	if (rc < 0 && n > 0)
		log_hint("the claimed deliveries are sent again when their lease expires");
	free(msgs);
	PQclear(res);
	free(claim);
	free(record);
	return rc;
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

		if (stop != NULL && *stop)
			break;
		if (outbox_send_due(conn, cfg, want, &c) < 0) {
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
	}
	email_channel_close();
	return rc;
}
