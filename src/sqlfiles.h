/* sqlfiles.h - SQL shipped inside the binary (generated from sql/) */
#ifndef KVP_SQLFILES_H
#define KVP_SQLFILES_H

#include <stddef.h>

struct sql_file {
	const char *name;   /* path below sql/, e.g. "migrations/001_base.sql" */
	const char *text;
};

extern const struct sql_file sql_files[];
extern const size_t sql_files_count;

/* Return the embedded text of sql/<name>, or NULL; static storage. */
const char *sql_get(const char *name);

#endif
