/* scan_output.h - the scan's result formats: csv, json, table */
#ifndef KVP_SCAN_OUTPUT_H
#define KVP_SCAN_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

enum scan_format { SCAN_FMT_CSV, SCAN_FMT_JSON, SCAN_FMT_TABLE };

/* One result row; strings are borrowed.  veileder_id "" means the fallback. */
typedef struct scan_row {
	const char *case_ref;
	const char *office_id;
	const char *veileder_id;
	const char *reasons;            /* '+'-joined */
	const char *flags;              /* '+'-joined, "" none */
	const char *months;
	const char *excluded;           /* '+'-joined, "" none */
} scan_row;

/* A streaming writer: rows are written as they come, nothing is kept. */
typedef struct scan_writer {
	FILE *out;
	enum scan_format fmt;
	bool with_excluded;             /* add the excluded column/field */
	long long rows;
} scan_writer;

/* The formats' names, in enum scan_format's order, NULL-terminated (for cmd_choice()). */
extern const char *const scan_format_names[];
/* Start the output (header line, '[' ...). */
void scan_writer_begin(scan_writer *w, FILE *out, enum scan_format fmt, bool with_excluded);
/* Write one row. */
void scan_writer_row(scan_writer *w, const scan_row *row);
/* Finish the output; returns 0, or -1 when writing failed (ferror). */
int scan_writer_end(scan_writer *w);

#endif
