/* migrate.h - kvpscan's own schema: versioned migrations embedded from sql/migrations */
#ifndef KVP_MIGRATE_H
#define KVP_MIGRATE_H

#include <libpq-fe.h>
#include "conf.h"

/* The newest schema version this program knows (the highest migration number); -1 if the embedded list is broken. */
int migrate_latest_version(void);

/*
 * Read the state schema's version (0 when it does not exist yet) into
 * *version; 0 on success, -1 with the error logged.
 */
int migrate_current_version(PGconn *conn, const kvp_config *cfg, int *version);

/*
 * Check that the state schema is at the latest version: 0 if so, else
 * logs "schema is at version X, the program needs Y" with a hint and
 * returns -1.  For commands that need kvpscan's own tables.
 */
int migrate_check(PGconn *conn, const kvp_config *cfg);

#endif
