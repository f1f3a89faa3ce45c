/* sqlfiles.c - look up SQL embedded from sql/ at build time */
#include "config.h"

#include <string.h>

#include "sqlfiles.h"

const char *
sql_get(const char *name)
{
	size_t i;

	for (i = 0; i < sql_files_count; i++)
		if (strcmp(sql_files[i].name, name) == 0)
			return sql_files[i].text;
	return NULL;
}
