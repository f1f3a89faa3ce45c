/* deliver_email.h - the email channel: SMTP through libcurl */
#ifndef KVP_DELIVER_EMAIL_H
#define KVP_DELIVER_EMAIL_H

#include "deliver.h"

/*
 * Send each message to its recipient address as a multipart/alternative
 * email over one SMTP connection, kept open for the next batch until
 * email_channel_close().  Fills every message's result.  Returns 0
 * when every message was attempted, -1 on a setup error (logged).
 */
int email_send_batch(const kvp_config *cfg, kvp_message *msgs, size_t n);

/*
 * Close the SMTP connection that email_send_batch() keeps open between
 * batches (libcurl's shared connection cache), with a QUIT.  Safe to call
 * when none is open.
 */
void email_channel_close(void);

#endif
