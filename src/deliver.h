/* deliver.h - one message to one recipient, as every channel sends it */
#ifndef KVP_DELIVER_H
#define KVP_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include "conf.h"

enum kvp_send_result {
	KVP_SEND_PENDING = 0,   /* not tried yet */
	KVP_SEND_OK,            /* accepted by the peer */
	KVP_SEND_RETRY,         /* temporary failure: try again later */
	KVP_SEND_PERMANENT,     /* refused for good: do not retry */
	KVP_SEND_UNUSABLE       /* the channel cannot send at all (its configuration):
				 * not this message's fault; kept for a retry, and an
				 * error of the round (docs/delivery.md) */
};

/*
 * A message as the outbox hands it to a channel.  The channel only reads the
 * input fields and fills the result fields.  No field may hold a person_id,
 * name or birth date; case_refs only appear in bodies, never in logs.
 */
typedef struct kvp_message {
	/* input */
	const char *id;          /* delivery id, stable across retries (webhook-id, Message-ID) */
	const char *recipient;   /* email address, or webhook URL (NULL: webhook.url in force,
				  * as the outbox sends every webhook), or spool file stem */
	const char *subject;     /* email subject (UTF-8) */
	const char *text_body;   /* email text/plain part (UTF-8) */
	const char *html_body;   /* email text/html part (UTF-8), may be NULL */
	const char *json_body;   /* webhook and spool document */
	/* result */
	enum kvp_send_result result;
	int status;              /* HTTP status or SMTP reply code; 0 when none */
	long retry_after;        /* seconds asked by the peer (Retry-After); -1 none */
	char error[256];         /* short reason on failure, no personal data */
} kvp_message;

/* Set msg's result fields. */
void kvp_message_set_result(kvp_message *msg, enum kvp_send_result r, int status,
			    const char *fmt, ...) KVP_PRINTF(4, 5);

/* A result's name as test-delivery and the logs print it (static string). */
const char *kvp_send_result_name(enum kvp_send_result r);

/*
 * True when a TLS verification error text (libcurl's error buffer) says the
 * certificate's names do not match the host: the host in the URL is the
 * problem, not the CA.  Shared by the webhook and email channels.
 */
bool kvp_tls_name_mismatch(const char *errbuf);

/* The hint for a certificate issued for another host name; `key` names the url setting. */
void kvp_tls_name_mismatch_hint(const char *key);

#endif
