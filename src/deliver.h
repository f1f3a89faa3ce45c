/* deliver.h - one message to one recipient, as every channel sends it */
#ifndef KVP_DELIVER_H
#define KVP_DELIVER_H

#include <stddef.h>
#include "conf.h"

enum kvp_send_result {
	KVP_SEND_PENDING = 0,   /* not tried yet */
	KVP_SEND_OK,            /* accepted by the peer */
	KVP_SEND_RETRY,         /* temporary failure: try again later */
	KVP_SEND_PERMANENT      /* refused for good: do not retry */
};

/*
 * A message as the outbox hands it to a channel.  The channel only reads the
 * input fields and fills the result fields.  No field may hold a person_id,
 * name or birth date; case_refs only appear in bodies, never in logs.
 */
typedef struct kvp_message {
	/* input */
	const char *id;          /* delivery id, stable across retries (webhook-id, Message-ID) */
	const char *recipient;   /* email address, webhook URL or spool file stem */
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

#endif
