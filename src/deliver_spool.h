/* deliver_spool.h - the spool channel: JSON files written atomically to a directory */
#ifndef KVP_DELIVER_SPOOL_H
#define KVP_DELIVER_SPOOL_H

#include "deliver.h"

/*
 * Write each message's json_body to spool.directory as <id>.json (temp
 * file, fsync, rename).  Fills every message's result.  Returns 0 when every
 * message was attempted, -1 on a setup error (logged).
 */
int spool_write_batch(const kvp_config *cfg, kvp_message *msgs, size_t n);

#endif
