/* check_source.h - the source schema checked against the source contract */
#ifndef KVP_CHECK_SOURCE_H
#define KVP_CHECK_SOURCE_H

#include <libpq-fe.h>
#include "conf.h"

/*
 * Check the structure of the configured source schema against the contract
 * with catalog queries only (no source row is read): the schema, every
 * relation and the role's SELECT privilege on it, every required column
 * and its type.  Each problem is logged as an error with DETAIL and HINT,
 * in the words "kvpscan check-source" prints.  Runs in whatever
 * transaction conn is in.  Returns 0 when a scan can read the source, -1
 * when the contract is broken or the check itself failed (logged).
 */
int check_source_structure(PGconn *conn, const kvp_config *cfg);

#endif
