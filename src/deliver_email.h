/* deliver_email.h - the email channel: SMTP through libcurl */
#ifndef KVP_DELIVER_EMAIL_H
#define KVP_DELIVER_EMAIL_H

#include "deliver.h"

/*
 * Send each message to its recipient address as a multipart/alternative
 * email over one SMTP connection.  Fills every message's result.  Returns 0
 * when every message was attempted, -1 on a setup error (logged).
 */
int email_send_batch(const kvp_config *cfg, kvp_message *msgs, size_t n);

#endif
