/* worklist.h - per-veileder and per-office worklists of a run, queued in the outbox */
#ifndef KVP_WORKLIST_H
#define KVP_WORKLIST_H

#include <stdint.h>
#include <libpq-fe.h>
#include "conf.h"

/* The version of the worklist JSON document ("type":"kvpscan.worklist"). */
#define WORKLIST_JSON_VERSION 1

/*
 * Build one worklist per recipient (active veileder, or the office fallback)
 * from the live items of run_id and insert each into @state@.delivery with a
 * delivery id stable for (run, recipient); idempotent.  Runs inside the
 * caller's transaction when one is open (the scan's), else in its own.
 * Returns the number of worklists queued by this call (dead ones with no
 * address included), or -1 with the error logged.
 */
int worklist_enqueue(PGconn *conn, const kvp_config *cfg, int64_t run_id);

#endif
