/* deliver_spool.c - placeholder */
#include "config.h"
#include "deliver_spool.h"
int spool_write_batch(const kvp_config *cfg, kvp_message *msgs, size_t n) { (void) cfg; for (size_t i = 0; i < n; i++) kvp_message_set_result(&msgs[i], KVP_SEND_RETRY, 0, "not implemented"); return -1; }
