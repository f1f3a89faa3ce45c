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

PGconn *
cmd_connect_as_of(const kvp_config *cfg, const char *as_of_arg, char as_of[11])
{
	PGconn *conn = db_connect(cfg);

	if (conn != NULL && db_as_of(conn, cfg, as_of_arg, as_of) < 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}
