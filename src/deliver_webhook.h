/* deliver_webhook.h - the webhook channel: signed HTTPS POSTs through curl multi */
#ifndef KVP_DELIVER_WEBHOOK_H
#define KVP_DELIVER_WEBHOOK_H

#include "deliver.h"

/*
 * POST each message's json_body to its recipient URL (or webhook.url when
 * recipient is NULL), at most delivery.concurrency at once, with Standard
 * Webhooks headers.  Fills every message's result; a webhook.url that cannot
 * be used (empty, a refused scheme) is KVP_SEND_UNUSABLE, a url of the
 * message's own KVP_SEND_PERMANENT.  Pings the systemd watchdog while it
 * waits.  Returns 0 when every message was attempted, -1 on a setup error
 * (logged; results untouched).
 */
int webhook_send_batch(const kvp_config *cfg, kvp_message *msgs, size_t n);

/*
 * Standard Webhooks signature "v1,<base64 HMAC-SHA256>" of "id.timestamp.body"
 * with a "whsec_<base64>" secret.  Caller frees; NULL if the secret is malformed.
 */
char *webhook_sign(const char *secret, const char *id, long timestamp,
		   const char *body, size_t body_len);

#endif
