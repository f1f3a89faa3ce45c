/* report_deliver.c - the målekort queued in the outbox for office leaders, the municipality and a webhook */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "db.h"
#include "log.h"
#include "migrate.h"
#include "outbox.h"
#include "report.h"
#include "report_deliver.h"

/*
 * The delivery id is stable per (run, office, kind): 'rp-<run_id>-' and 16
 * hex digits of md5(key), so a second enqueue of the same run adds nothing.
 * Writes it into id; 0, or -1 logged.
 */
static int
report_delivery_id(long long run_id, const char *key, char *id, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char hex[17];

	if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_md5(), NULL) != 1 || mdlen < 8) {
		log_error("could not compute a report's delivery id");
		return -1;
	}
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(id, size, "rp-%lld-%s", run_id, hex);
	return 0;
}

/* Offices whose leader gets the målekort by email. */
static const char leaders_sql[] =
	"SELECT office_id, coalesce(nullif(name, ''), office_id), leader_email FROM @src@.office"
	" WHERE coalesce(leader_email, '') <> '' ORDER BY office_id";

#define PERIOD "year"

/* The built-in email.smtp_url (conf.c): left as is, email counts as not set up. */
#define DEFAULT_SMTP_URL "smtp://localhost:25"

/*
 * The report needs an address, so it goes by email whatever delivery.channel
 * says, as long as email is set up: delivery.channel is email, or
 * email.smtp_url was changed from its default.  Otherwise the spool.
 */
static bool
email_configured(const kvp_config *cfg)
{
	if (strcmp(cfg->del_channel, "email") == 0)
		return true;
	return cfg->mail_smtp_url && cfg->mail_smtp_url[0]
	       && strcmp(cfg->mail_smtp_url, DEFAULT_SMTP_URL) != 0;
}

typedef int (*writer_fn)(const report *rep, FILE *out);

/* Render rep with fn into a new string (caller frees); NULL logged. */
static char *
render(const report *rep, writer_fn fn)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int wr;

	if (f == NULL) {
		log_error("could not open a memory stream: %m");
		return NULL;
	}
	wr = fn(rep, f);
	if (fclose(f) != 0 || wr < 0) {
		log_error("could not render the report");
		free(buf);
		return NULL;
	}
	return buf;
}

/* Queue one delivery (a second time: nothing); 1 added, 0 already there, -1 logged. */
static int
queue_one(PGconn *conn, const kvp_config *cfg, const report *rep, const char *key,
	  const char *channel, const char *recipient, const char *office_id,
	  const char *subject, bool email)
{
	char *text = NULL, *html = NULL, *json = NULL, id[64];
	struct outbox_msg m;
	int rc = -1;

	json = render(rep, report_write_json);
	if (json == NULL)
		goto cleanup;
	if (email) {
		text = render(rep, report_write_table);
		html = render(rep, report_write_html);
		if (text == NULL || html == NULL)
			goto cleanup;
	}
	if (report_delivery_id(rep->run_id, key, id, sizeof(id)) < 0)
		goto cleanup;
	memset(&m, 0, sizeof(m));
	m.delivery_id = id;
	m.run_id = rep->run_id;
	m.kind = "report";
	m.channel = channel;
	m.recipient = recipient ? recipient : id;   /* the spool: the id is the file stem */
	m.office_id = office_id;
	m.subject = subject;
	m.text_body = text;
	m.html_body = html;
	m.json_body = json;
	m.item_count = rep->n_offices;
	rc = outbox_enqueue(conn, cfg, &m, 1, OUTBOX_KEEP, NULL);

cleanup:
	free(text);
	free(html);
	free(json);
	return rc;
}

/* Queue the emails of every office with a leader_email; added count or -1. */
static int
queue_offices(PGconn *conn, const kvp_config *cfg, const report *all,
	      const char *channel)
{
	char *sql = db_expand(conn, cfg, leaders_sql);
	PGresult *res = NULL;
	report rep;
	int added = 0, rc = -1, i, r;

	memset(&rep, 0, sizeof(rep));
	res = db_exec(conn, "read the office leaders", sql, 0, NULL);
	if (res == NULL)
		goto cleanup;
	for (i = 0; i < PQntuples(res); i++) {
		const char *office = PQgetvalue(res, i, 0);
		const char *name = PQgetvalue(res, i, 1);
		const char *email = PQgetvalue(res, i, 2);
		char *key, *subject;
		int j;
		bool in_run = false;

		for (j = 0; j < all->n_offices; j++)
			if (strcmp(all->offices[j].office_id, office) == 0)
				in_run = true;
		if (!in_run)
			continue;
		if (report_build(conn, cfg, all->as_of, office, PERIOD, &rep) != 0)
			goto cleanup;
		if (rep.run_id != all->run_id || rep.n_offices == 0) {
			report_free(&rep);
			continue;
		}
		key = xasprintf("%s/leader", office);
		subject = xasprintf("Målekort KVP %s %s", name, rep.as_of);
		r = queue_one(conn, cfg, &rep, key, channel,
			      strcmp(channel, "spool") == 0 ? NULL : email, office, subject, true);
		free(key);
		free(subject);
		report_free(&rep);
		if (r < 0)
			goto cleanup;
		added += r;
	}
	rc = added;

cleanup:
	report_free(&rep);      /* a freed or never built report is all zeros: safe */
	PQclear(res);
	free(sql);
	return rc;
}

int
report_enqueue(PGconn *conn, const kvp_config *cfg, const char *as_of, int *queued)
{
	const char *channel;
	char *subject = NULL;
	report all;
	bool built = false, own_tx = false;
	int added = 0, rc = -1, r;

	if (queued)
		*queued = 0;
	channel = email_configured(cfg) ? "email" : "spool";
	if (PQtransactionStatus(conn) == PQTRANS_IDLE) {
		if (db_begin(conn) < 0)
			goto cleanup;
		own_tx = true;
	}
	r = report_build(conn, cfg, as_of, NULL, PERIOD, &all);
	built = true;
	if (r != 0) {
		rc = r;
		goto cleanup;
	}
	r = queue_offices(conn, cfg, &all, channel);
	if (r < 0)
		goto cleanup;
	added += r;
	if (cfg->rep_municipality_email && cfg->rep_municipality_email[0]) {
		subject = xasprintf("Målekort KVP hele kommunen %s", all.as_of);
		r = queue_one(conn, cfg, &all, "/municipality", channel,
			      strcmp(channel, "spool") == 0 ? NULL : cfg->rep_municipality_email,
			      NULL, subject, true);
		if (r < 0)
			goto cleanup;
		added += r;
	}
	if (cfg->rep_webhook && cfg->wh_url && cfg->wh_url[0]) {
		r = queue_one(conn, cfg, &all, "/webhook", "webhook", cfg->wh_url, NULL,
			      "Målekort KVP", false);
		if (r < 0)
			goto cleanup;
		added += r;
	}
	if (own_tx) {
		own_tx = false;
		if (db_commit(conn) < 0)
			goto cleanup;
	}
	log_info("queued %d reports for run %lld (%s)", added, all.run_id, channel);
	if (strcmp(channel, "spool") == 0)
		log_detail("email.smtp_url is not set, so the reports are written to the spool directory");
	if (queued)
		*queued = added;
	rc = 0;

cleanup:
	if (own_tx)
		db_rollback(conn);
	if (built)
		report_free(&all);
	free(subject);
	return rc;
}

int
report_deliver(PGconn *conn, const kvp_config *cfg, const char *as_of,
	       volatile sig_atomic_t *stop)
{
	struct outbox_counts total;
	int queued = 0, r;

	r = report_enqueue(conn, cfg, as_of, &queued);
	if (r != 0)
		return r;
	memset(&total, 0, sizeof(total));
	if (outbox_deliver_all(conn, cfg, INT32_MAX, stop, &total) < 0)
		return -1;
	log_info("delivery round after the report: sent %d, retry later %d, dead %d",
		 total.sent, total.retried, total.dead);
	if (total.dead > 0) {
		log_error("%d deliveries are dead", total.dead);
		log_hint("see \"kvpscan outbox --failed\"; after fixing the cause run \"kvpscan redeliver --dead\"");
		return 1;
	}
	return 0;
}
