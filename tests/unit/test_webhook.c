/* test_webhook.c - unit tests for the webhook channel (signing, result mapping, URL checks) */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "deliver_webhook.h"
#include "log.h"
#include "outbox.h"

/* The published Standard Webhooks test vector. */
#define VEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VEC_TS 1614265330L
#define VEC_BODY "{\"test\": 2432232314}"
#define VEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

#define SECRET2 "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM="

START_TEST(test_sign_vector)
{
	char *sig = webhook_sign(VEC_SECRET, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY));

	ck_assert_ptr_nonnull(sig);
	ck_assert_str_eq(sig, VEC_SIG);
	free(sig);
}
END_TEST

START_TEST(test_sign_changes)
{
	char *a = webhook_sign(VEC_SECRET, VEC_ID, VEC_TS + 1, VEC_BODY, strlen(VEC_BODY));
	char *b = webhook_sign(VEC_SECRET, "msg_other", VEC_TS, VEC_BODY, strlen(VEC_BODY));
	char *c = webhook_sign(SECRET2, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY));
	char *d = webhook_sign(VEC_SECRET, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY) - 1);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_ne(a, VEC_SIG);
	ck_assert_str_ne(b, VEC_SIG);
	ck_assert_str_ne(c, VEC_SIG);
	ck_assert_str_ne(d, VEC_SIG);
	ck_assert_int_eq(strncmp(c, "v1,", 3), 0);
	ck_assert_uint_eq(strlen(c), 3 + 44);
	free(a);
	free(b);
	free(c);
	free(d);
}
END_TEST

START_TEST(test_sign_malformed)
{
	static const char *const bad[] = {
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",      /* no prefix */
		"whsec_",                                 /* empty */
		"whsec_MfKQ9r8G*YqrTwjUPD8ILPZIo2LaLaSw", /* not base64 */
		"whsec_MfKQ9",                            /* length 1 mod 4 */
		"whsec_Mf=Q9r8G",                         /* padding inside */
		"whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(webhook_sign(bad[i], VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY)) == NULL,
			      "secret %zu accepted", i);
	ck_assert_ptr_null(webhook_sign(VEC_SECRET, NULL, VEC_TS, VEC_BODY, 1));
}
END_TEST

START_TEST(test_sign_unpadded)
{
	/* the same key with and without its base64 padding signs the same */
	char *a = webhook_sign(SECRET2, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY));
	char *b = webhook_sign("whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM", VEC_ID, VEC_TS,
			       VEC_BODY, strlen(VEC_BODY));

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

/* ------------------------------------------------------------ a loopback HTTP peer */

#define MAX_SEEN 64

/* What the scripted peer saw: one entry per request. */
typedef struct peer_req {
	char path[64];
	char id[128];
	char ts[32];
	char sig[256];
	char ctype[64];
	char ua[64];
	char body[256];
} peer_req;

static struct {
	int fd;
	int port;
	pthread_t thread;
	volatile int stop;
	pthread_mutex_t lock;
	int nseen;
	peer_req seen[MAX_SEEN];
} peer;

/* Case-insensitive header lookup in a NUL-terminated header block; copies the value. */
static void
header_value(const char *hdrs, const char *name, char *out, size_t outsz)
{
	const char *p = hdrs;
	size_t nlen = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = strcspn(v, "\r\n");
			if (len >= outsz)
				len = outsz - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return;
		}
	}
}

/* Read one request from fd, record it, answer per path, close. */
static void
peer_serve_one(int fd)
{
	char buf[8192];
	size_t len = 0;
	char *end = NULL, clen[16], datebuf[64], resp[512];
	peer_req r;
	int64_t bodylen = 0;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int status = 200;
	const char *extra = "";

	memset(&r, 0, sizeof(r));
	while (len < sizeof(buf) - 1) {
		ssize_t got;

		if (poll(&pfd, 1, 5000) <= 0)
			return;
		got = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (got <= 0)
			return;
		len += (size_t) got;
		buf[len] = '\0';
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			*end = '\0';
			header_value(buf, "Content-Length", clen, sizeof(clen));
			if (parse_int64(clen, 0, 4096, &bodylen) < 0)
				bodylen = 0;
		}
		if (end && len >= (size_t) (end + 4 - buf) + (size_t) bodylen)
			break;
	}
	if (end == NULL)
		return;
	sscanf(buf, "POST %63s", r.path);
	header_value(buf, "webhook-id", r.id, sizeof(r.id));
	header_value(buf, "webhook-timestamp", r.ts, sizeof(r.ts));
	header_value(buf, "webhook-signature", r.sig, sizeof(r.sig));
	header_value(buf, "Content-Type", r.ctype, sizeof(r.ctype));
	header_value(buf, "User-Agent", r.ua, sizeof(r.ua));
	snprintf(r.body, sizeof(r.body), "%.*s", (int) bodylen, end + 4);
	pthread_mutex_lock(&peer.lock);
	if (peer.nseen < MAX_SEEN)
		peer.seen[peer.nseen++] = r;
	pthread_mutex_unlock(&peer.lock);

	if (strcmp(r.path, "/e500") == 0) status = 500;
	else if (strcmp(r.path, "/e408") == 0) status = 408;
	else if (strcmp(r.path, "/e429") == 0) { status = 429; extra = "Retry-After: 7\r\n"; }
	else if (strcmp(r.path, "/e503date") == 0) {
		time_t t = time(NULL) + 120;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(datebuf, sizeof(datebuf), "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		status = 503;
		extra = datebuf;
	}
	else if (strcmp(r.path, "/e410") == 0) status = 410;
	else if (strcmp(r.path, "/e404") == 0) status = 404;
	else if (strcmp(r.path, "/e301") == 0) { status = 301; extra = "Location: /ok\r\n"; }
	else if (strcmp(r.path, "/e204") == 0) status = 204;
	snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
		 status, extra);
	if (write_all(fd, resp, strlen(resp)) < 0)
		return;
}

/* Accept and serve connections until told to stop (bounded by a deadline). */
static void *
peer_main(void *arg)
{
	time_t deadline = time(NULL) + 60;
	struct pollfd pfd = {.fd = peer.fd, .events = POLLIN};

	(void) arg;
	while (!peer.stop && time(NULL) < deadline) {
		int c;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		c = accept(peer.fd, NULL, NULL);
		if (c < 0)
			continue;
		peer_serve_one(c);
		close(c);
	}
	return NULL;
}

static int
listen_loopback(int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static char tmpdir[64];
static char secret_path[128];
static char secret2_path[128];
static char badsecret_path[128];

static void
write_secret(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", text);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0600), 0);
}

static void
peer_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kvp-test-webhook.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(secret_path, sizeof(secret_path), "%s/secret", tmpdir);
	snprintf(secret2_path, sizeof(secret2_path), "%s/secret2", tmpdir);
	snprintf(badsecret_path, sizeof(badsecret_path), "%s/bad", tmpdir);
	write_secret(secret_path, VEC_SECRET);
	write_secret(secret2_path, SECRET2);
	write_secret(badsecret_path, "not-a-whsec-secret");
	unsetenv("CREDENTIALS_DIRECTORY");

	memset(&peer.seen, 0, sizeof(peer.seen));
	peer.nseen = 0;
	peer.stop = 0;
	pthread_mutex_init(&peer.lock, NULL);
	peer.fd = listen_loopback(&peer.port);
	ck_assert_int_eq(pthread_create(&peer.thread, NULL, peer_main, NULL), 0);
}

static void
peer_teardown(void)
{
	peer.stop = 1;
	pthread_join(peer.thread, NULL);
	close(peer.fd);
	pthread_mutex_destroy(&peer.lock);
	unlink(secret_path);
	unlink(secret2_path);
	unlink(badsecret_path);
	rmdir(tmpdir);
}

/* A config for the loopback peer: plain http allowed, short timeouts. */
static void
test_config(kvp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->wh_url = (char *) "";
	cfg->wh_secret_file = secret_path;
	cfg->wh_secret_previous_file = (char *) "";
	cfg->wh_ca_file = (char *) "";
	cfg->wh_verify_tls = true;
	cfg->wh_allow_insecure_http = true;
	cfg->wh_connect_timeout = 2;
	cfg->wh_timeout = 3;
	cfg->del_concurrency = 3;
}

static const peer_req *
peer_find(const char *id)
{
	const peer_req *found = NULL;
	int i;

	pthread_mutex_lock(&peer.lock);
	for (i = 0; i < peer.nseen; i++)
		if (strcmp(peer.seen[i].id, id) == 0)
			found = &peer.seen[i];
	pthread_mutex_unlock(&peer.lock);
	return found;
}

static int
peer_count(const char *id)
{
	int i, n = 0;

	pthread_mutex_lock(&peer.lock);
	for (i = 0; i < peer.nseen; i++)
		if (strcmp(peer.seen[i].id, id) == 0)
			n++;
	pthread_mutex_unlock(&peer.lock);
	return n;
}

START_TEST(test_result_mapping)
{
	static const struct {
		const char *path;
		enum kvp_send_result want;
		int status;
	} cases[] = {
		{"/ok", KVP_SEND_OK, 200},
		{"/e204", KVP_SEND_OK, 204},
		{"/e500", KVP_SEND_RETRY, 500},
		{"/e408", KVP_SEND_RETRY, 408},
		{"/e429", KVP_SEND_RETRY, 429},
		{"/e503date", KVP_SEND_RETRY, 503},
		{"/e410", KVP_SEND_PERMANENT, 410},
		{"/e404", KVP_SEND_PERMANENT, 404},
		{"/e301", KVP_SEND_PERMANENT, 301},
	};
	enum { N = ARRAY_SIZE(cases) };
	kvp_config cfg;
	kvp_message msgs[N];
	char urls[N][96], ids[N][32];
	const char *body = "{\"type\":\"kvpscan.test\"}";
	size_t i;

	test_config(&cfg);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < N; i++) {
		snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d%s", peer.port, cases[i].path);
		snprintf(ids[i], sizeof(ids[i]), "unit-%zu", i);
		msgs[i].id = ids[i];
		msgs[i].recipient = urls[i];
		msgs[i].json_body = body;
		msgs[i].result = KVP_SEND_RETRY;        /* must be overwritten */
		msgs[i].retry_after = 99;
	}
	ck_assert_int_eq(webhook_send_batch(&cfg, msgs, N), 0);
	for (i = 0; i < N; i++) {
		ck_assert_msg(msgs[i].result == cases[i].want, "%s: result %d, error %s",
			      cases[i].path, msgs[i].result, msgs[i].error);
		ck_assert_int_eq(msgs[i].status, cases[i].status);
		ck_assert_int_eq(peer_count(ids[i]), 1);        /* 301 not followed */
		if (msgs[i].result != KVP_SEND_OK)
			ck_assert_str_ne(msgs[i].error, "");
		ck_assert_ptr_null(strstr(msgs[i].error, "kvpscan.test"));   /* never the body */
	}
	ck_assert_int_eq(msgs[4].retry_after, 7);
	ck_assert_msg(msgs[5].retry_after >= 100 && msgs[5].retry_after <= 121,
		      "http-date retry_after %ld", msgs[5].retry_after);
	ck_assert_int_eq(msgs[0].retry_after, -1);
}
END_TEST

START_TEST(test_headers_and_signature)
{
	kvp_config cfg;
	kvp_message m;
	char url[96];
	const char *body = "{\"a\":\"\xc3\xa6\xc3\xb8\xc3\xa5\"}";
	const peer_req *r;
	char *want;
	int64_t ts;
	time_t now = time(NULL);

	test_config(&cfg);
	memset(&m, 0, sizeof(m));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", peer.port);
	m.id = "msg_headers_1";
	m.recipient = NULL;
	cfg.wh_url = url;                       /* recipient NULL: webhook.url */
	m.json_body = body;
	ck_assert_int_eq(webhook_send_batch(&cfg, &m, 1), 0);
	ck_assert_int_eq(m.result, KVP_SEND_OK);
	r = peer_find("msg_headers_1");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->path, "/ok");
	ck_assert_str_eq(r->ctype, "application/json");
	ck_assert_str_eq(r->ua, "kvpscan/" PACKAGE_VERSION);
	ck_assert_str_eq(r->body, body);
	ck_assert_int_eq(parse_int64(r->ts, 0, INT64_MAX, &ts), 0);
	ck_assert_int_le(ts - (int64_t) now, 5);
	ck_assert_int_ge(ts - (int64_t) now, -5);
	want = webhook_sign(VEC_SECRET, "msg_headers_1", (long) ts, body, strlen(body));
	ck_assert_ptr_nonnull(want);
	ck_assert_str_eq(r->sig, want);
	free(want);
}
END_TEST

START_TEST(test_rotation_two_signatures)
{
	kvp_config cfg;
	kvp_message m;
	char url[96];
	const char *body = "{}";
	const peer_req *r;
	char *a, *b, *both;
	int64_t ts;

	test_config(&cfg);
	cfg.wh_secret_previous_file = secret2_path;
	memset(&m, 0, sizeof(m));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", peer.port);
	m.id = "msg_rotation";
	m.recipient = url;
	m.json_body = body;
	ck_assert_int_eq(webhook_send_batch(&cfg, &m, 1), 0);
	ck_assert_int_eq(m.result, KVP_SEND_OK);
	r = peer_find("msg_rotation");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(parse_int64(r->ts, 0, INT64_MAX, &ts), 0);
	a = webhook_sign(VEC_SECRET, m.id, (long) ts, body, strlen(body));
	b = webhook_sign(SECRET2, m.id, (long) ts, body, strlen(body));
	both = xasprintf("%s %s", a, b);
	ck_assert_str_eq(r->sig, both);
	free(a);
	free(b);
	free(both);
}
END_TEST

/* Retry-After counts up to delivery.backoff_max, the longest wait (kvpscan.conf(5)). */
START_TEST(test_backoff_caps_retry_after)
{
	kvp_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.del_backoff_initial = 60;
	cfg.del_backoff_max = 21600;
	/* without Retry-After: initial, doubling, capped; the jitter factor is 0.8 .. 1.2 */
	ck_assert_double_eq_tol(outbox_backoff(&cfg, 1, -1, 0.5), 60.0, 1e-9);
	ck_assert_double_eq_tol(outbox_backoff(&cfg, 3, -1, 0.5), 240.0, 1e-9);
	ck_assert_double_eq_tol(outbox_backoff(&cfg, 30, -1, 0.0), 21600.0 * 0.8, 1e-6);
	/* a Retry-After within the cap is honoured */
	ck_assert_double_eq_tol(outbox_backoff(&cfg, 1, 7200, 0.5), 7200.0, 1e-9);
	/* a year (the channel clamps to 366 days) waits backoff_max, not a year */
	ck_assert_double_eq_tol(outbox_backoff(&cfg, 1, 86400L * 366, 0.5), 21600.0, 1e-9);
	ck_assert_double_eq_tol(outbox_backoff(&cfg, 1, 31536000, 0.0), 21600.0, 1e-9);
	/* never below the backoff itself */
	ck_assert_double_eq_tol(outbox_backoff(&cfg, 3, 10, 0.5), 240.0, 1e-9);
}
END_TEST

/* libcurl's host-name errors are told apart from other verification errors. */
START_TEST(test_tls_name_mismatch)
{
	ck_assert(kvp_tls_name_mismatch("SSL: no alternative certificate subject name matches target "
					"host name '127.0.0.1'"));
	ck_assert(kvp_tls_name_mismatch("SSL: certificate subject name 'a.example' does not match target "
					"host name 'b.example'"));
	ck_assert(!kvp_tls_name_mismatch("SSL certificate problem: unable to get local issuer certificate"));
	ck_assert(!kvp_tls_name_mismatch("SSL certificate problem: certificate has expired"));
	ck_assert(!kvp_tls_name_mismatch(""));
	ck_assert(!kvp_tls_name_mismatch(NULL));
}
END_TEST

START_TEST(test_refused_before_connecting)
{
	kvp_config cfg;
	kvp_message m[4];
	char url[96];
	int before;
	size_t i;

	test_config(&cfg);
	cfg.wh_allow_insecure_http = false;
	memset(m, 0, sizeof(m));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", peer.port);
	m[0].id = "msg_http"; m[0].recipient = url; m[0].json_body = "{}";
	m[1].id = "msg_ftp"; m[1].recipient = "ftp://127.0.0.1/x"; m[1].json_body = "{}";
	m[2].id = "msg bad\r\nid"; m[2].recipient = url; m[2].json_body = "{}";
	m[3].id = "msg_nourl"; m[3].recipient = NULL; m[3].json_body = "{}";
	pthread_mutex_lock(&peer.lock);
	before = peer.nseen;
	pthread_mutex_unlock(&peer.lock);
	ck_assert_int_eq(webhook_send_batch(&cfg, m, 4), 0);
	for (i = 0; i < 3; i++)
		ck_assert_msg(m[i].result == KVP_SEND_PERMANENT, "message %zu: %d", i, m[i].result);
	/* no url of its own and no webhook.url: the channel cannot send at all (docs/delivery.md) */
	ck_assert_msg(m[3].result == KVP_SEND_UNUSABLE, "message 3: %d", m[3].result);
	ck_assert_str_eq(kvp_send_result_name(m[3].result), "unusable");
	ck_assert_ptr_nonnull(strstr(m[0].error, "allow_insecure_http"));
	ck_assert_ptr_nonnull(strstr(m[1].error, "https://"));
	usleep(200000);
	pthread_mutex_lock(&peer.lock);
	ck_assert_int_eq(peer.nseen, before);   /* no connection was made */
	pthread_mutex_unlock(&peer.lock);
}
END_TEST

START_TEST(test_connection_refused_retry)
{
	kvp_config cfg;
	kvp_message m;
	char url[96];
	int port, fd = listen_loopback(&port);

	close(fd);                              /* nothing listens there now */
	test_config(&cfg);
	memset(&m, 0, sizeof(m));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", port);
	m.id = "msg_refused";
	m.recipient = url;
	m.json_body = "{}";
	ck_assert_int_eq(webhook_send_batch(&cfg, &m, 1), 0);
	ck_assert_int_eq(m.result, KVP_SEND_RETRY);
	ck_assert_int_eq(m.status, 0);
	ck_assert_str_ne(m.error, "");
}
END_TEST

START_TEST(test_setup_errors)
{
	kvp_config cfg;
	kvp_message m;

	memset(&m, 0, sizeof(m));
	m.id = "msg_setup";
	m.recipient = "https://127.0.0.1:1/x";
	m.json_body = "{}";

	test_config(&cfg);
	cfg.wh_secret_file = (char *) "";
	ck_assert_int_eq(webhook_send_batch(&cfg, &m, 1), -1);
	ck_assert_int_eq(m.result, KVP_SEND_PENDING);   /* results untouched */

	test_config(&cfg);
	cfg.wh_secret_file = badsecret_path;
	ck_assert_int_eq(webhook_send_batch(&cfg, &m, 1), -1);

	test_config(&cfg);
	cfg.wh_secret_previous_file = badsecret_path;
	ck_assert_int_eq(webhook_send_batch(&cfg, &m, 1), -1);

	test_config(&cfg);
	cfg.wh_secret_file = (char *) "/nonexistent/kvpscan-secret";
	ck_assert_int_eq(webhook_send_batch(&cfg, &m, 1), -1);
	ck_assert_int_eq(m.result, KVP_SEND_PENDING);
}
END_TEST

START_TEST(test_systemd_credential)
{
	kvp_config cfg;
	kvp_message m;
	char url[96], credpath[160];
	const peer_req *r;
	char *want;
	int64_t ts;

	snprintf(credpath, sizeof(credpath), "%s/webhook_secret", tmpdir);
	write_secret(credpath, SECRET2);
	setenv("CREDENTIALS_DIRECTORY", tmpdir, 1);
	test_config(&cfg);
	cfg.wh_secret_file = (char *) "";       /* the credential alone is enough */
	memset(&m, 0, sizeof(m));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", peer.port);
	m.id = "msg_credential";
	m.recipient = url;
	m.json_body = "{}";
	ck_assert_int_eq(webhook_send_batch(&cfg, &m, 1), 0);
	unsetenv("CREDENTIALS_DIRECTORY");
	unlink(credpath);
	ck_assert_int_eq(m.result, KVP_SEND_OK);
	r = peer_find("msg_credential");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(parse_int64(r->ts, 0, INT64_MAX, &ts), 0);
	want = webhook_sign(SECRET2, m.id, (long) ts, "{}", 2);
	ck_assert_str_eq(r->sig, want);
	free(want);
}
END_TEST

START_TEST(test_batch_all_once)
{
	enum { N = 25 };
	kvp_config cfg;
	kvp_message msgs[N];
	char ids[N][32], url[96];
	size_t i;

	test_config(&cfg);
	cfg.del_concurrency = 4;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", peer.port);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "batch-%zu", i);
		msgs[i].id = ids[i];
		msgs[i].recipient = url;
		msgs[i].json_body = "{}";
	}
	ck_assert_int_eq(webhook_send_batch(&cfg, msgs, N), 0);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(msgs[i].result, KVP_SEND_OK);
		ck_assert_int_eq(peer_count(ids[i]), 1);
	}
	ck_assert_int_eq(webhook_send_batch(&cfg, msgs, 0), 0);   /* empty batch */
}
END_TEST

static Suite *
webhook_suite(void)
{
	Suite *s = suite_create("webhook");
	TCase *tp = tcase_create("policy");
	TCase *tc = tcase_create("sign");
	TCase *tn = tcase_create("send");

	tcase_add_test(tp, test_backoff_caps_retry_after);
	tcase_add_test(tp, test_tls_name_mismatch);
	suite_add_tcase(s, tp);
	tcase_add_test(tc, test_sign_vector);
	tcase_add_test(tc, test_sign_changes);
	tcase_add_test(tc, test_sign_malformed);
	tcase_add_test(tc, test_sign_unpadded);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tn, peer_setup, peer_teardown);
	tcase_set_timeout(tn, 60);
	tcase_add_test(tn, test_result_mapping);
	tcase_add_test(tn, test_headers_and_signature);
	tcase_add_test(tn, test_rotation_two_signatures);
	tcase_add_test(tn, test_refused_before_connecting);
	tcase_add_test(tn, test_connection_refused_retry);
	tcase_add_test(tn, test_setup_errors);
	tcase_add_test(tn, test_systemd_credential);
	tcase_add_test(tn, test_batch_all_once);
	suite_add_tcase(s, tn);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(webhook_suite());
	int failed;

	log_setup("test_webhook", false, 0, KVP_LOG_WARNING);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
