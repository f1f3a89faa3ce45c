/* deliver_webhook.c - placeholder */
#include "config.h"
#include <stdlib.h>
#include "deliver_webhook.h"
int webhook_send_batch(const kvp_config *cfg, kvp_message *msgs, size_t n) { (void) cfg; for (size_t i = 0; i < n; i++) kvp_message_set_result(&msgs[i], KVP_SEND_RETRY, 0, "not implemented"); return -1; }
char *webhook_sign(const char *secret, const char *id, long timestamp, const char *body, size_t body_len) { (void) secret; (void) id; (void) timestamp; (void) body; (void) body_len; return NULL; }
