/* cmd_common.c - what the commands share: --help detection, a checked connection */
#include "config.h"

#include <string.h>

#include "cmd.h"
#include "db.h"
#include "migrate.h"

bool
cmd_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

PGconn *
cmd_connect(const kvp_config *cfg)
{
	PGconn *conn = db_connect(cfg);

	if (conn != NULL && migrate_check(conn, cfg) < 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}
