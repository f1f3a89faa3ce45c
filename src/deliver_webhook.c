/* deliver_webhook.c - the webhook channel: Standard Webhooks signed HTTPS POSTs through curl multi */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "deliver_webhook.h"
#include "log.h"
#include "notify.h"

#define WH_SECRET_PREFIX "whsec_"
#define WH_MAX_SECRET_LEN 1024          /* base64 characters after the prefix */
#define WH_DEFAULT_CONCURRENCY 4
#define WH_DEFAULT_CONNECT_TIMEOUT 10
#define WH_DEFAULT_TIMEOUT 30
#define WH_MAX_RETRY_AFTER (86400L * 366) /* longer requests are clamped to this */
#define WH_MAX_ID_LEN 200

/* One transfer slot: a running POST and what it needs until it ends. */
typedef struct wh_xfer {
	CURL *easy;
	struct curl_slist *headers;
	kvp_message *msg;
	char *signature;
	long retry_after;
	char errbuf[CURL_ERROR_SIZE];
} wh_xfer;

/* What the whole batch needs: the decoded keys and the transfer options. */
typedef struct wh_batch {
	const kvp_config *cfg;
	unsigned char *key[2];      /* current and previous secret, decoded */
	size_t key_len[2];
	int nkeys;
	long connect_timeout;
	long timeout;
	size_t tls_verify_failures;
	size_t tls_name_failures;   /* of those: the certificate is for another host name */
} wh_batch;

/*
 * Decode a "whsec_<base64>" secret into a new key buffer (caller frees with
 * OPENSSL_clear_free).  Returns -1 if the prefix or base64 is malformed.
 */
static int
wh_decode_secret(const char *secret, unsigned char **key_out, size_t *len_out)
{
	const char *b64;
	char *padded = NULL;
	unsigned char *key = NULL;
	size_t len, plen = 0, pad = 0;
	int dec, rc = -1;

	*key_out = NULL;
	*len_out = 0;
	if (secret == NULL || strncmp(secret, WH_SECRET_PREFIX, strlen(WH_SECRET_PREFIX)) != 0)
		goto cleanup;
	b64 = secret + strlen(WH_SECRET_PREFIX);
	len = strlen(b64);
	if (len == 0 || len > WH_MAX_SECRET_LEN || len % 4 == 1)
		goto cleanup;
	/* accept unpadded base64 too: EVP_DecodeBlock wants whole quanta */
	plen = len + (4 - len % 4) % 4;
	padded = xmalloc(plen + 1);
	memcpy(padded, b64, len);
	memset(padded + len, '=', plen - len);
	padded[plen] = '\0';
	for (size_t i = 0; i < plen; i++) {
		unsigned char c = (unsigned char) padded[i];

		if (c == '=') {
			if (i < plen - 2)
				goto cleanup;
			pad++;
		} else if (pad > 0 || !(isalnum(c) || c == '+' || c == '/')) {
			goto cleanup;
		}
	}
	key = xmalloc(plen / 4 * 3 + 1);
	dec = EVP_DecodeBlock(key, (const unsigned char *) padded, (int) plen);
	if (dec < 0 || (size_t) dec <= pad)
		goto cleanup;
	*len_out = (size_t) dec - pad;
	*key_out = key;
	key = NULL;
	rc = 0;

cleanup:
	if (key) {
		OPENSSL_cleanse(key, plen / 4 * 3 + 1);
		free(key);
	}
	if (padded) {
		OPENSSL_cleanse(padded, plen + 1);
		free(padded);
	}
	return rc;
}

/* "v1," + base64(HMAC-SHA256(key, "id.timestamp.body")); caller frees. */
static char *
wh_sign_key(const unsigned char *key, size_t key_len, const char *id, long timestamp,
	    const char *body, size_t body_len)
{
	strbuf content;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	char *sig = NULL;

	sb_init(&content);
	sb_printf(&content, "%s.%ld.", id, timestamp);
	sb_append(&content, body, body_len);
	if (HMAC(EVP_sha256(), key, (int) key_len, (const unsigned char *) content.data,
		 content.len, mac, &mac_len) == NULL)
		goto cleanup;
	EVP_EncodeBlock((unsigned char *) b64, mac, (int) mac_len);
	sig = xasprintf("v1,%s", b64);

cleanup:
	sb_free(&content);
	return sig;
}

/* Sign one message with one "whsec_" secret; caller frees; NULL if the secret is malformed. */
char *
webhook_sign(const char *secret, const char *id, long timestamp,
	     const char *body, size_t body_len)
{
	unsigned char *key = NULL;
	size_t key_len = 0;
	char *sig;

	if (id == NULL || body == NULL || wh_decode_secret(secret, &key, &key_len) < 0)
		return NULL;
	sig = wh_sign_key(key, key_len, id, timestamp, body, body_len);
	OPENSSL_cleanse(key, key_len);
	free(key);
	return sig;
}

/* Seconds from a Retry-After value (delta-seconds or HTTP-date); -1 if unparsable. */
static long
wh_parse_retry_after(const char *value, time_t now)
{
	int64_t secs;
	time_t when;
	char buf[128];
	size_t len;

	while (*value == ' ' || *value == '\t')
		value++;
	len = strcspn(value, "\r\n");
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, value, len);
	buf[len] = '\0';
	if (isdigit((unsigned char) buf[0])) {
		if (strspn(buf, "0123456789") != len)
			return -1;
		if (parse_int64(buf, 0, INT64_MAX, &secs) < 0 || secs > WH_MAX_RETRY_AFTER)
			return WH_MAX_RETRY_AFTER;
		return (long) secs;
	}
	when = curl_getdate(buf, NULL);
	if (when == (time_t) -1)
		return -1;
	if (when <= now)
		return 0;
	if (when - now > WH_MAX_RETRY_AFTER)
		return WH_MAX_RETRY_AFTER;
	return (long) (when - now);
}

/* curl header callback: note Retry-After of the final response. */
static size_t
wh_header_cb(char *data, size_t size, size_t nitems, void *userdata)
{
	wh_xfer *x = userdata;
	size_t len = size * nitems;
	static const char name[] = "retry-after:";
	char line[160];

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		x->retry_after = -1;    /* a new response (after 100 Continue) */
		return len;
	}
	if (len > strlen(name) && len < sizeof(line) && strncasecmp(data, name, strlen(name)) == 0) {
		memcpy(line, data + strlen(name), len - strlen(name));
		line[len - strlen(name)] = '\0';
		x->retry_after = wh_parse_retry_after(line, time(NULL));
	}
	return len;
}

/* curl write callback: the response body is not needed; discard it. */
static size_t
wh_discard_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	(void) data;
	(void) userdata;
	return size * nmemb;
}

/* True when every byte of s may go into an HTTP header value. */
static bool
wh_header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s < 0x21 || (unsigned char) *s > 0x7e)
			return false;
	return true;
}

/*
 * The result for a url that cannot be used: webhook.url (no recipient of
 * its own) means the channel cannot send at all; a url given by the caller
 * (test-delivery --to) only fails that message.
 */
static enum kvp_send_result
wh_url_failure(const kvp_message *msg)
{
	return msg->recipient == NULL ? KVP_SEND_UNUSABLE : KVP_SEND_PERMANENT;
}

/*
 * Check a message before any connection: URL scheme, id and body.  Sets a
 * permanent (or, for webhook.url, unusable) result and returns false when it
 * cannot be sent.
 */
static bool
wh_precheck(const wh_batch *b, kvp_message *msg, const char **url_out)
{
	const char *url = msg->recipient ? msg->recipient : b->cfg->wh_url;

	if (url == NULL || url[0] == '\0') {
		kvp_message_set_result(msg, wh_url_failure(msg), 0, "no webhook url (webhook.url is not set)");
		return false;
	}
	if (strncasecmp(url, "http://", 7) == 0) {
		if (!b->cfg->wh_allow_insecure_http) {
			kvp_message_set_result(msg, wh_url_failure(msg), 0,
					       "http:// url refused: webhook.allow_insecure_http is off");
			return false;
		}
	} else if (strncasecmp(url, "https://", 8) != 0) {
		kvp_message_set_result(msg, wh_url_failure(msg), 0, "webhook url must start with https://");
		return false;
	}
	if (msg->id == NULL || msg->id[0] == '\0' || strlen(msg->id) > WH_MAX_ID_LEN
	    || !wh_header_safe(msg->id)) {
		kvp_message_set_result(msg, KVP_SEND_PERMANENT, 0, "invalid message id for webhook-id");
		return false;
	}
	if (msg->json_body == NULL) {
		kvp_message_set_result(msg, KVP_SEND_PERMANENT, 0, "message has no json body");
		return false;
	}
	*url_out = url;
	return true;
}

/* Release a slot's transfer (the easy handle is kept for reuse). */
static void
wh_xfer_clear(wh_xfer *x)
{
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	free(x->signature);
	x->signature = NULL;
	x->msg = NULL;
}

/* Append one header line to *list; false when out of memory (the list is kept). */
static bool
wh_add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *tmp = curl_slist_append(*list, line);

	if (tmp == NULL)
		return false;
	*list = tmp;
	return true;
}

/* Set up slot x to POST msg; returns -1 (result set to retry) on failure. */
static int
wh_xfer_start(wh_batch *b, wh_xfer *x, kvp_message *msg, const char *url)
{
	const kvp_config *cfg = b->cfg;
	const char *protocols = cfg->wh_allow_insecure_http ? "https,http" : "https";
	long ts = (long) time(NULL);
	size_t body_len = strlen(msg->json_body);
	strbuf sigs;
	char *one, *h_id = NULL, *h_ts = NULL, *h_sig = NULL;
	int k, rc = -1;
	CURL *e = x->easy;

	sb_init(&sigs);
	x->msg = msg;
	x->retry_after = -1;
	x->errbuf[0] = '\0';
	for (k = 0; k < b->nkeys; k++) {
		one = wh_sign_key(b->key[k], b->key_len[k], msg->id, ts, msg->json_body, body_len);
		if (one == NULL) {
			kvp_message_set_result(msg, KVP_SEND_RETRY, 0, "could not compute the signature");
			goto cleanup;
		}
		if (k > 0)
			sb_putc(&sigs, ' ');
		sb_puts(&sigs, one);
		free(one);
	}
	x->signature = sb_steal(&sigs);

	h_id = xasprintf("webhook-id: %s", msg->id);
	h_ts = xasprintf("webhook-timestamp: %ld", ts);
	h_sig = xasprintf("webhook-signature: %s", x->signature);
	/* "Expect:" drops the 100-continue round trip for larger bodies */
	if (!wh_add_header(&x->headers, "Content-Type: application/json")
	    || !wh_add_header(&x->headers, h_id)
	    || !wh_add_header(&x->headers, h_ts)
	    || !wh_add_header(&x->headers, h_sig)
	    || !wh_add_header(&x->headers, "Expect:")) {
		kvp_message_set_result(msg, KVP_SEND_RETRY, 0, "out of memory building headers");
		goto cleanup;
	}

	curl_easy_reset(e);
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK
	    || curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols) != CURLE_OK
	    || curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protocols) != CURLE_OK) {
		kvp_message_set_result(msg, wh_url_failure(msg), 0, "webhook url rejected by libcurl");
		goto cleanup;
	}
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, msg->json_body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "kvpscan/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, b->connect_timeout);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, b->timeout);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, b->timeout);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->wh_verify_tls ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->wh_verify_tls ? 2L : 0L);
	if (cfg->wh_ca_file && cfg->wh_ca_file[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->wh_ca_file);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, wh_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, wh_discard_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	rc = 0;

cleanup:
	sb_free(&sigs);
	free(h_id);
	free(h_ts);
	free(h_sig);
	if (rc < 0)
		wh_xfer_clear(x);
	return rc;
}

/* Map a finished transfer to the message's result. */
static void
wh_xfer_finish(wh_batch *b, wh_xfer *x, CURLcode code)
{
	kvp_message *msg = x->msg;
	long status = 0;
	const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);

	msg->retry_after = x->retry_after;
	if (code == CURLE_OK) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300)
			kvp_message_set_result(msg, KVP_SEND_OK, (int) status, NULL);
		else if (status == 408 || status == 429 || status >= 500)
			kvp_message_set_result(msg, KVP_SEND_RETRY, (int) status, "receiver answered %ld", status);
		else if (status >= 300 && status < 400)
			kvp_message_set_result(msg, KVP_SEND_PERMANENT, (int) status,
					       "receiver answered %ld: redirects are not followed", status);
		else if (status >= 400)
			kvp_message_set_result(msg, KVP_SEND_PERMANENT, (int) status, "receiver refused with %ld", status);
		else
			kvp_message_set_result(msg, KVP_SEND_RETRY, (int) status, "unexpected status %ld", status);
		return;
	}
	switch (code) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		/* the operator must fix the CA or the URL; not the receiver's refusal */
		b->tls_verify_failures++;
		if (code == CURLE_PEER_FAILED_VERIFICATION && kvp_tls_name_mismatch(why)) {
			b->tls_name_failures++;
			kvp_message_set_result(msg, KVP_SEND_RETRY, 0, "tls certificate verification failed: "
					       "the certificate is for another host name: %s", why);
		} else {
			kvp_message_set_result(msg, KVP_SEND_RETRY, 0, "tls certificate verification failed: %s", why);
		}
		break;
	case CURLE_OPERATION_TIMEDOUT:
		kvp_message_set_result(msg, KVP_SEND_RETRY, 0, "timed out (webhook.timeout %ld s): %s", b->timeout, why);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		kvp_message_set_result(msg, wh_url_failure(msg), 0, "bad webhook url: %s", why);
		break;
	default:
		kvp_message_set_result(msg, KVP_SEND_RETRY, 0, "%s", why);
		break;
	}
}

/* Read one secret file and add its decoded key; -1 (logged) on error. */
static int
wh_load_key(wh_batch *b, const char *path, const char *credname, const char *what)
{
	bool failed = false;
	char *secret = secret_read(path, credname, &failed);
	int rc = -1;

	if (failed)
		goto cleanup;
	if (secret == NULL) {
		rc = 0;         /* not configured */
		goto cleanup;
	}
	if (wh_decode_secret(secret, &b->key[b->nkeys], &b->key_len[b->nkeys]) < 0) {
		log_error("the webhook secret in %s is malformed", what);
		log_hint("a secret is \"whsec_\" followed by base64, e.g. from: openssl rand -base64 32");
		goto cleanup;
	}
	b->nkeys++;
	rc = 0;

cleanup:
	if (secret)
		OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	return rc;
}

/* The signing keys: the current one is required, the previous one optional; 0 or -1 logged. */
static int
wh_load_keys(wh_batch *b, const kvp_config *cfg)
{
	/* a systemd credential wins over the file; either may be absent */
	if (wh_load_key(b, cfg->wh_secret_file ? cfg->wh_secret_file : "", "webhook_secret",
			"webhook.secret_file") < 0)
		return -1;
	if (b->nkeys == 0) {
		log_error("no webhook signing secret is configured");
		log_hint("every webhook is signed: write \"whsec_<base64>\" to a file (chmod 600) and set "
			 "webhook.secret_file, or pass the systemd credential webhook_secret");
		return -1;
	}
	return wh_load_key(b, cfg->wh_secret_previous_file ? cfg->wh_secret_previous_file : "",
			   "webhook_secret_previous", "webhook.secret_previous_file");
}

/* The transfer handles: a multi handle and conc easy handles, all free at first. */
typedef struct wh_pool {
	CURLM *multi;
	wh_xfer *slots;
	wh_xfer **free_slots;
	size_t conc, nfree, active;
	bool curl_inited;
} wh_pool;

/* Set up libcurl and conc handles; 0 or -1 logged (wh_pool_free() cleans up either way). */
static int
wh_pool_init(wh_pool *p, size_t conc)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->conc = conc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("could not initialise libcurl");
		return -1;
	}
	p->curl_inited = true;
	p->multi = curl_multi_init();
	if (p->multi == NULL) {
		log_error("could not initialise libcurl");
		return -1;
	}
	curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) conc);
	p->slots = xcalloc(conc, sizeof(*p->slots));
	p->free_slots = xcalloc(conc, sizeof(*p->free_slots));
	for (i = 0; i < conc; i++) {
		p->slots[i].easy = curl_easy_init();
		if (p->slots[i].easy == NULL) {
			log_error("could not initialise libcurl");
			return -1;
		}
		p->free_slots[p->nfree++] = &p->slots[conc - 1 - i];
	}
	return 0;
}

static void
wh_pool_free(wh_pool *p)
{
	size_t i;

	for (i = 0; p->slots != NULL && i < p->conc; i++)
		if (p->slots[i].easy)
			curl_easy_cleanup(p->slots[i].easy);
	free(p->slots);
	free(p->free_slots);
	if (p->multi)
		curl_multi_cleanup(p->multi);
	if (p->curl_inited)
		curl_global_cleanup();
	memset(p, 0, sizeof(*p));
}

/* Start messages from *next while handles are free; a message that cannot start is to be retried. */
static void
wh_start_more(wh_batch *b, wh_pool *p, kvp_message *msgs, size_t n, size_t *next)
{
	while (*next < n && p->nfree > 0) {
		kvp_message *msg = &msgs[(*next)++];
		const char *url = NULL;
		wh_xfer *x;

		if (!wh_precheck(b, msg, &url))
			continue;
		x = p->free_slots[--p->nfree];
		if (wh_xfer_start(b, x, msg, url) < 0
		    || curl_multi_add_handle(p->multi, x->easy) != CURLM_OK) {
			if (msg->result == KVP_SEND_PENDING)
				kvp_message_set_result(msg, KVP_SEND_RETRY, 0, "could not start the transfer");
			wh_xfer_clear(x);
			p->free_slots[p->nfree++] = x;
			continue;
		}
		p->active++;
	}
}

/* Take the finished transfers' results and free their handles. */
static void
wh_reap_done(wh_batch *b, wh_pool *p)
{
	CURLMsg *m;
	int left = 0;

	while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
		char *priv = NULL;
		wh_xfer *x;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (wh_xfer *) priv;
		wh_xfer_finish(b, x, m->data.result);
		if (x->msg->retry_after >= 0)
			log_debug("webhook %s: %s, status %d, retry after %ld s%s%s", x->msg->id,
				  kvp_send_result_name(x->msg->result), x->msg->status, x->msg->retry_after,
				  x->msg->error[0] ? ": " : "", x->msg->error);
		else
			log_debug("webhook %s: %s, status %d%s%s", x->msg->id,
				  kvp_send_result_name(x->msg->result), x->msg->status,
				  x->msg->error[0] ? ": " : "", x->msg->error);
		curl_multi_remove_handle(p->multi, x->easy);
		wh_xfer_clear(x);
		p->free_slots[p->nfree++] = x;
		p->active--;
	}
}

/* Like curl's 10-at-a-time.c: keep at most conc transfers running until all are done. */
static void
wh_run(wh_batch *b, wh_pool *p, kvp_message *msgs, size_t n)
{
	size_t next = 0, i;
	/* wake often enough for a ping every quarter watchdog interval, else every second */
	int poll_ms = (int) (notify_watchdog_usec() / 8000);

	if (poll_ms <= 0 || poll_ms > 1000)
		poll_ms = 1000;
	for (;;) {
		int still = 0;

		wh_start_more(b, p, msgs, n, &next);
		if (p->active == 0)
			break;
		if (curl_multi_perform(p->multi, &still) != CURLM_OK) {
			log_error("libcurl multi interface failed");
			break;
		}
		wh_reap_done(b, p);
		if (still > 0 && p->active > 0 && (next >= n || p->nfree == 0))
			curl_multi_poll(p->multi, NULL, 0, poll_ms, NULL);
		notify_watchdog_kick();     /* a batch can wait on slow receivers for minutes */
	}
	/* after a multi failure: whatever is still running or queued is retried later */
	for (i = 0; i < p->conc; i++) {
		if (p->slots[i].msg) {
			kvp_message_set_result(p->slots[i].msg, KVP_SEND_RETRY, 0, "transfer aborted");
			curl_multi_remove_handle(p->multi, p->slots[i].easy);
			wh_xfer_clear(&p->slots[i]);
		}
	}
}

/* Count the results (a message never attempted is to be retried) and log the batch. */
static void
wh_summarize(const wh_batch *b, kvp_message *msgs, size_t n)
{
	size_t nok = 0, nretry = 0, nperm = 0, nunusable = 0, i;

	for (i = 0; i < n; i++) {
		switch (msgs[i].result) {
		case KVP_SEND_OK: nok++; break;
		case KVP_SEND_PERMANENT: nperm++; break;
		case KVP_SEND_UNUSABLE: nunusable++; break;
		case KVP_SEND_PENDING:
			kvp_message_set_result(&msgs[i], KVP_SEND_RETRY, 0, "not attempted");
			nretry++;
			break;
		default: nretry++; break;
		}
	}
	log_info("webhook batch of %zu: %zu delivered, %zu to retry, %zu failed permanently%s",
		 n, nok, nretry, nperm, nunusable > 0 ? ", the rest not sent: webhook.url cannot be used" : "");
	if (b->tls_verify_failures > 0) {
		log_warning("%zu webhook deliveries failed TLS certificate verification", b->tls_verify_failures);
		if (b->tls_name_failures == b->tls_verify_failures)
			kvp_tls_name_mismatch_hint("webhook.url");
		else if (b->tls_name_failures > 0)
			log_hint("check webhook.ca_file, and the host in webhook.url: %zu of them are for "
				 "a certificate issued to another host name", b->tls_name_failures);
		else
			log_hint("check webhook.ca_file: it must hold the CA that signed the receiver's certificate");
	}
}

/* POST every message, at most delivery.concurrency at once; fills results; 0, or -1 on setup error. */
int
webhook_send_batch(const kvp_config *cfg, kvp_message *msgs, size_t n)
{
	wh_batch b;
	wh_pool pool;
	size_t conc, i;
	int rc = -1, k;

	memset(&b, 0, sizeof(b));
	memset(&pool, 0, sizeof(pool));
	b.cfg = cfg;
	if (wh_load_keys(&b, cfg) < 0)
		goto cleanup;
	b.connect_timeout = cfg->wh_connect_timeout > 0 ? cfg->wh_connect_timeout : WH_DEFAULT_CONNECT_TIMEOUT;
	b.timeout = cfg->wh_timeout > 0 ? cfg->wh_timeout : WH_DEFAULT_TIMEOUT;
	conc = cfg->del_concurrency > 0 ? (size_t) cfg->del_concurrency : WH_DEFAULT_CONCURRENCY;
	if (conc > n)
		conc = n > 0 ? n : 1;
	if (!cfg->wh_verify_tls) {
		log_warning("webhook TLS certificate verification is disabled");
		log_hint("set webhook.verify_tls = true and webhook.ca_file to the receiver's CA");
	}
	if (wh_pool_init(&pool, conc) < 0)
		goto cleanup;
	for (i = 0; i < n; i++) {
		kvp_message_set_result(&msgs[i], KVP_SEND_PENDING, 0, NULL);
		msgs[i].retry_after = -1;
	}
	wh_run(&b, &pool, msgs, n);
	wh_summarize(&b, msgs, n);
	rc = 0;

cleanup:
	wh_pool_free(&pool);
	for (k = 0; k < b.nkeys; k++) {
		OPENSSL_cleanse(b.key[k], b.key_len[k]);
		free(b.key[k]);
	}
	return rc;
}
