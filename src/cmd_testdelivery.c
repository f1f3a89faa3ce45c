/* cmd_testdelivery.c - "kvpscan test-delivery": send test messages through a channel */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "deliver_email.h"
#include "deliver_spool.h"
#include "deliver_webhook.h"
#include "log.h"

static void
testdelivery_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan test-delivery --channel webhook|email|spool [OPTIONS]\n\n"
		"Send test messages that hold no personal data through one channel, as\n"
		"configured, to check a webhook endpoint, a mail relay or a spool directory.\n\n"
		"Options:\n"
		"  --channel NAME   webhook, email or spool (required)\n"
		"  --to RECIPIENT   email address, or webhook URL (default webhook.url)\n"
		"  --count N        how many messages (default 1, at most 100000)\n"
		"  --id ID          the message id (default test-<time>-<pid>); with --count\n"
		"                   above 1 the ids are ID-1, ID-2, ... ID-N\n\n"
		"Prints one line per message: id, result (ok, retry, failed, unusable: the\n"
		"channel's configuration cannot send at all), status, error.\n"
		"Exit status 0 when every message was accepted, 1 otherwise.\n");
}

int
cmd_test_delivery(int argc, char **argv, kvp_ctx *ctx)
{
	const char *channel = NULL, *to = NULL, *count_arg = NULL, *id_arg = NULL;
	const cmd_option opts[] = {
		{"channel", .value = &channel},
		{"to", .value = &to},
		{"count", .value = &count_arg},
		{"id", .value = &id_arg},
		{NULL}
	};
	char default_id[64];
	const char *prefix = default_id;
	int64_t count = 1;
	kvp_message *msgs = NULL;
	char **ids = NULL;
	int rc, setup;
	size_t i, n, okcount = 0;
	const char *json = "{\"type\":\"kvpscan.test\",\"version\":1,\"message\":\"test delivery from kvpscan, no personal data\"}";
	const char *text = "Dette er en testmelding fra kvpscan. Den inneholder ingen personopplysninger.\n"
			   "This is a test message from kvpscan: æøå ÆØÅ.\n";
	const char *html = "<!DOCTYPE html><html><body><p>Dette er en testmelding fra kvpscan "
			   "(æøå ÆØÅ). Den inneholder ingen personopplysninger.</p></body></html>";

	snprintf(default_id, sizeof(default_id), "test-%ld-%ld", (long) time(NULL), (long) getpid());
	rc = cmd_options(argc, argv, opts, testdelivery_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (count_arg != NULL && parse_int64(count_arg, 1, 100000, &count) < 0) {
		log_error("invalid value for --count: \"%s\"", count_arg);
		log_hint("give a whole number from 1 to 100000");
		return KVP_EXIT_USAGE;
	}
	if (id_arg != NULL) {
		if (id_arg[0] == '\0' || strlen(id_arg) > 180) {
			log_error("invalid value for --id: it must have 1 to 180 characters");
			return KVP_EXIT_USAGE;
		}
		prefix = id_arg;    /* the whole id: never cut short */
	}
	if (channel == NULL || (strcmp(channel, "webhook") && strcmp(channel, "email") && strcmp(channel, "spool"))) {
		log_error("--channel must be webhook, email or spool");
		return KVP_EXIT_USAGE;
	}
	if (strcmp(channel, "email") == 0 && to == NULL) {
		log_error("--to is required for the email channel");
		return KVP_EXIT_USAGE;
	}

	n = (size_t) count;
	msgs = xcalloc(n, sizeof(*msgs));
	ids = xcalloc(n, sizeof(*ids));
	for (i = 0; i < n; i++) {
		ids[i] = n == 1 ? xstrdup(prefix) : xasprintf("%s-%zu", prefix, i + 1);
		msgs[i].id = ids[i];
		msgs[i].recipient = to;
		msgs[i].subject = "kvpscan: testmelding / test message (æøå)";
		msgs[i].text_body = text;
		msgs[i].html_body = html;
		msgs[i].json_body = json;
		msgs[i].retry_after = -1;
	}
	if (strcmp(channel, "webhook") == 0)
		setup = webhook_send_batch(&ctx->cfg, msgs, n);
	else if (strcmp(channel, "email") == 0) {
		setup = email_send_batch(&ctx->cfg, msgs, n);
		email_channel_close();
	}
	else
		setup = spool_write_batch(&ctx->cfg, msgs, n);
	if (setup < 0)
		goto cleanup;
	for (i = 0; i < n; i++) {
		char status[16] = "-";   /* no reply code: "-", as the outbox shows it (NULL) */

		if (msgs[i].status != 0)
			snprintf(status, sizeof(status), "%d", msgs[i].status);
		printf("%s %s %s %s\n", msgs[i].id, kvp_send_result_name(msgs[i].result), status,
		       msgs[i].error[0] ? msgs[i].error : "-");
		if (msgs[i].result == KVP_SEND_OK)
			okcount++;
	}
	rc = okcount == n ? KVP_EXIT_OK : KVP_EXIT_FAILURE;
	if (rc != KVP_EXIT_OK)
		log_error("%zu of %zu test messages were not accepted", n - okcount, n);

cleanup:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(msgs);
	return rc;
}
