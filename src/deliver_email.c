/* deliver_email.c - the email channel: SMTP through libcurl, one connection per batch */
#include "config.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "deliver_email.h"
#include "log.h"
#include "mime.h"

#define EMAIL_DEFAULT_TIMEOUT 60

/* The message text libcurl reads as the DATA of one transfer. */
struct upload {
	const char *data;
	size_t len;
	size_t pos;
};

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct upload *u = userp;
	size_t room = size * nitems, n = u->len - u->pos;

	if (n > room)
		n = room;
	memcpy(buf, u->data + u->pos, n);
	u->pos += n;
	return n;
}

/*
 * Mark msgs[from..n) retry with why and status: the reply code that stopped
 * the batch (535 for a wrong password), so every message of the batch records
 * the same status; 0 when the relay gave none (the outbox stores NULL).
 */
static void
fail_rest(kvp_message *msgs, size_t from, size_t n, int status, const char *why)
{
	size_t i;

	for (i = from; i < n; i++) {
		kvp_message_set_result(&msgs[i], KVP_SEND_RETRY, status, "%s", why);
		msgs[i].retry_after = -1;
	}
}

/* Mark every message from `from` on retry, with no status (a setup error). */
static void
fail_all(kvp_message *msgs, size_t from, size_t n, const char *why)
{
	fail_rest(msgs, from, n, 0, why);
}

/* True for a failure of the connection, TLS or login, which the next message would meet too. */
static bool
connection_level(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_LOGIN_DENIED:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return true;
	default:
		return false;
	}
}

/* Fill msg's result from one transfer's outcome. */
static void
map_result(kvp_message *msg, CURLcode rc, long code, const char *errbuf)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	if (rc == CURLE_OK) {
		kvp_message_set_result(msg, KVP_SEND_OK, (int) code, NULL);
	} else if (rc == CURLE_LOGIN_DENIED) {
		/* a configuration problem, not the message's: keep it for a retry */
		kvp_message_set_result(msg, KVP_SEND_RETRY, (int) code,
				       "smtp authentication failed (%ld)", code);
	} else if (rc == CURLE_USE_SSL_FAILED) {
		kvp_message_set_result(msg, KVP_SEND_RETRY, 0,
				       "smtp server does not offer STARTTLS (email.starttls is \"required\")");
	} else if (connection_level(rc)) {
		/* the last reply code (a greeting, STARTTLS) says nothing here */
		kvp_message_set_result(msg, KVP_SEND_RETRY, 0, "%s", why);
	} else if (code == 530) {
		kvp_message_set_result(msg, KVP_SEND_RETRY, (int) code,
				       "smtp server requires authentication (530)");
	} else if (code >= 500 && code <= 599) {
		kvp_message_set_result(msg, KVP_SEND_PERMANENT, (int) code,
				       "smtp server refused the message: %ld", code);
	} else if (code >= 400 && code <= 499) {
		kvp_message_set_result(msg, KVP_SEND_RETRY, (int) code,
				       "smtp server deferred the message: %ld", code);
	} else {
		kvp_message_set_result(msg, KVP_SEND_RETRY, (int) code, "%s", why);
	}
}

/* Set the options every transfer of the batch shares; -1 on a setup error (logged). */
static int
setup_handle(CURL *curl, const kvp_config *cfg, const char *password, const char *from_addr,
	     char *errbuf, char **mail_from_out)
{
	const char *url = cfg->mail_smtp_url ? cfg->mail_smtp_url : "";
	const char *starttls = cfg->mail_starttls && cfg->mail_starttls[0] ? cfg->mail_starttls : "required";
	long timeout = cfg->mail_timeout > 0 ? cfg->mail_timeout : EMAIL_DEFAULT_TIMEOUT;
	bool implicit_tls = strncasecmp(url, "smtps://", 8) == 0;
	CURLcode rc = CURLE_OK;

	if (!implicit_tls && strncasecmp(url, "smtp://", 7) != 0) {
		log_error("email.smtp_url must start with smtp:// or smtps://");
		log_hint("for example smtp://relay.example.no:587 (STARTTLS) or smtps://relay.example.no:465");
		return -1;
	}
	if (strcmp(starttls, "required") != 0 && strcmp(starttls, "off") != 0) {
		log_error("email.starttls must be \"required\" or \"off\"");
		return -1;
	}
	*mail_from_out = xasprintf("<%s>", from_addr);
	rc |= curl_easy_setopt(curl, CURLOPT_URL, url);
	rc |= curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	rc |= curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	rc |= curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout);
	rc |= curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
	rc |= curl_easy_setopt(curl, CURLOPT_MAIL_FROM, *mail_from_out);
	rc |= curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	rc |= curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	if (implicit_tls || strcmp(starttls, "required") == 0)
		rc |= curl_easy_setopt(curl, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
	else
		rc |= curl_easy_setopt(curl, CURLOPT_USE_SSL, (long) CURLUSESSL_NONE);
	if (cfg->mail_ca_file && cfg->mail_ca_file[0])
		rc |= curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->mail_ca_file);
	if (!cfg->mail_verify_tls) {
		rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->mail_username && cfg->mail_username[0]) {
		rc |= curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->mail_username);
		rc |= curl_easy_setopt(curl, CURLOPT_PASSWORD, password ? password : "");
	}
	if (rc != CURLE_OK) {
		log_error("could not set up the smtp transfer");
		log_detail("libcurl lacks a needed option or protocol (smtp, smtps, TLS)");
		return -1;
	}
	if (!implicit_tls && strcmp(starttls, "off") == 0) {
		log_warning("email.starttls is off: mail goes to the relay unencrypted");
		if (cfg->mail_username && cfg->mail_username[0])
			log_detail("the smtp password is sent in clear text too");
	}
	if (!cfg->mail_verify_tls) {
		log_warning("email.verify_tls is false: the relay's certificate is not checked");
		log_hint("set email.ca_file to the relay's CA and verify_tls = true");
	}
	return 0;
}

/* The connection cache shared by the batches of one delivery session. */
static CURLSH *email_share;

void
email_channel_close(void)
{
	if (email_share) {
		curl_share_cleanup(email_share);
		email_share = NULL;
	}
}

int
email_send_batch(const kvp_config *cfg, kvp_message *msgs, size_t n)
{
	CURL *curl = NULL;
	char *password = NULL, *from_addr = NULL, *mail_from = NULL;
	char errbuf[CURL_ERROR_SIZE];
	const char *why = NULL;
	bool failed = false;
	size_t i, nok = 0, nretry = 0, nperm = 0;
	int rc = -1;

	errbuf[0] = '\0';
	if (n == 0)
		return 0;
	/* the parser conf.c checked email.from with: refused there, it cannot fail here */
	from_addr = mime_address_parse(cfg->mail_from, NULL, &why);
	if (from_addr == NULL) {
		log_error("email.from is not a valid sender address");
		log_detail("%s", why);
		log_hint("set email.from to e.g. \"kvpscan@kommune.example.no\" or \"NAV <kvp@kommune.example.no>\"");
		fail_all(msgs, 0, n, "email channel setup error");
		goto cleanup;
	}
	if (cfg->mail_password_file && cfg->mail_password_file[0]) {
		password = secret_read(cfg->mail_password_file, "smtp_password", &failed);
		if (failed) {
			fail_all(msgs, 0, n, "email channel setup error");
			goto cleanup;
		}
	}
	curl = curl_easy_init();
	if (curl == NULL) {
		log_error("could not initialise libcurl");
		fail_all(msgs, 0, n, "email channel setup error");
		goto cleanup;
	}
	if (setup_handle(curl, cfg, password, from_addr, errbuf, &mail_from) < 0) {
		fail_all(msgs, 0, n, "email channel setup error");
		goto cleanup;
	}
	/* keep the connection for the next batch too: 2,000 emails, one SMTP session */
	if (email_share == NULL) {
		email_share = curl_share_init();
		if (email_share)
			(void) curl_share_setopt(email_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	}
	if (email_share)
		(void) curl_easy_setopt(curl, CURLOPT_SHARE, email_share);

	/* one easy handle for the batch: libcurl keeps the SMTP connection open between messages */
	for (i = 0; i < n; i++) {
		kvp_message *msg = &msgs[i];
		struct curl_slist *rcpt = NULL;
		char *rcpt_addr = NULL, *text = NULL;
		struct upload up;
		mime_email m;
		CURLcode cc;
		long code = 0;

		msg->retry_after = -1;
		rcpt_addr = mime_parse_address(msg->recipient, NULL);
		if (rcpt_addr == NULL || msg->text_body == NULL) {
			kvp_message_set_result(msg, KVP_SEND_PERMANENT, 0, rcpt_addr == NULL
					       ? "recipient is not a valid email address" : "message has no text");
			free(rcpt_addr);
			nperm++;
			continue;
		}
		m.from = cfg->mail_from;
		m.to = rcpt_addr;
		m.subject = msg->subject;
		m.text_body = msg->text_body;
		m.html_body = msg->html_body;
		m.id = msg->id;
		m.date = time(NULL);
		text = mime_build(&m);
		if (text == NULL) {
			kvp_message_set_result(msg, KVP_SEND_PERMANENT, 0, "could not build the message");
			free(rcpt_addr);
			nperm++;
			continue;
		}
		{
			char *bracketed = xasprintf("<%s>", rcpt_addr);

			rcpt = curl_slist_append(NULL, bracketed);
			free(bracketed);
		}
		up.data = text;
		up.len = strlen(text);
		up.pos = 0;
		errbuf[0] = '\0';
		(void) curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
		(void) curl_easy_setopt(curl, CURLOPT_READDATA, &up);
		(void) curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) up.len);
		cc = rcpt ? curl_easy_perform(curl) : CURLE_OUT_OF_MEMORY;
		(void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		(void) curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, NULL);
		curl_slist_free_all(rcpt);
		free(rcpt_addr);
		free(text);
		map_result(msg, cc, code, errbuf);
		log_debug("email %zu of %zu: %s", i + 1, n, msg->result == KVP_SEND_OK ? "accepted" : msg->error);
		if (msg->result == KVP_SEND_OK)
			nok++;
		else if (msg->result == KVP_SEND_PERMANENT)
			nperm++;
		else
			nretry++;
		if (cc != CURLE_OK && connection_level(cc)) {
			/* the next message would meet the same wall: keep the rest for a retry */
			log_warning("could not deliver email: %s", msg->error);
			if (i + 1 < n)
				log_detail("the %zu remaining messages of this batch are kept for a retry",
					   n - i - 1);
			if (cc == CURLE_USE_SSL_FAILED)
				log_hint("use a relay that offers STARTTLS, smtps://, or (only on a trusted network) email.starttls = off");
			else if (cc == CURLE_LOGIN_DENIED)
				log_hint("check email.username and the password in email.password_file");
			else if (cc == CURLE_PEER_FAILED_VERIFICATION && kvp_tls_name_mismatch(msg->error))
				kvp_tls_name_mismatch_hint("email.smtp_url");
			else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
				log_hint("check email.ca_file: it must hold the CA that signed the relay's certificate");
			fail_rest(msgs, i + 1, n, msg->status, msg->error);
			nretry += n - i - 1;
			break;
		}
	}
	if (nok == n)
		log_info("sent %zu emails", n);
	else
		log_warning("sent %zu of %zu emails: %zu to retry, %zu refused", nok, n, nretry, nperm);
	rc = 0;

cleanup:
	if (curl)
		curl_easy_cleanup(curl);
	free(mail_from);
	free(from_addr);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return rc;
}
