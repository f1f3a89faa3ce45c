/* log.h - logging to stderr or syslog, in PostgreSQL's message style */
#ifndef KVP_LOG_H
#define KVP_LOG_H

#include <stdbool.h>
#include "util.h"

enum log_level {
	KVP_LOG_ERROR = 0,
	KVP_LOG_WARNING,
	KVP_LOG_NOTICE,
	KVP_LOG_INFO,
	KVP_LOG_DEBUG
};

/*
 * Messages are lower case with no trailing period.  Never pass a person_id,
 * fødselsnummer, name or case_ref to these functions: log counts instead.
 */

/* Set up logging; use_syslog false writes to stderr. facility is a LOG_* value. */
void log_setup(const char *ident, bool use_syslog, int facility, enum log_level level);
/* Change the level threshold (e.g. for --verbose). */
void log_set_level(enum log_level level);
/* Current threshold. */
enum log_level log_get_level(void);
/* True when messages go to syslog. */
bool log_uses_syslog(void);
/* Log a message at a level; keeps errno. */
void log_msg(enum log_level level, const char *fmt, ...) KVP_PRINTF(2, 3);
/* Log an error; keeps errno. */
void log_error(const char *fmt, ...) KVP_PRINTF(1, 2);
/* Log a warning; keeps errno. */
void log_warning(const char *fmt, ...) KVP_PRINTF(1, 2);
/* Log a notice; keeps errno. */
void log_notice(const char *fmt, ...) KVP_PRINTF(1, 2);
/* Log information; keeps errno. */
void log_info(const char *fmt, ...) KVP_PRINTF(1, 2);
/* Log debugging output (shown with --verbose); keeps errno. */
void log_debug(const char *fmt, ...) KVP_PRINTF(1, 2);
/* Add a DETAIL line to the previous message, at its level; keeps errno. */
void log_detail(const char *fmt, ...) KVP_PRINTF(1, 2);
/* Add a HINT line to the previous message, at its level; keeps errno. */
void log_hint(const char *fmt, ...) KVP_PRINTF(1, 2);
/* Map a level name ("error" .. "debug") to its level; KVP_LOG_INFO if unknown. */
enum log_level log_level_from_name(const char *name);
/* Map a facility name ("daemon", "local0".."local7", "user") to LOG_*; -1 if unknown. */
int log_facility_from_name(const char *name);

#endif
