/* log.c - logging to stderr or syslog, in PostgreSQL's message style */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "log.h"

static struct {
	const char *ident;
	bool use_syslog;
	enum log_level level;
	enum log_level last_level;
	bool last_shown;
} logst = {"kvpscan", false, KVP_LOG_INFO, KVP_LOG_INFO, false};

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};
static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

void
log_setup(const char *ident, bool use_syslog, int facility, enum log_level level)
{
	if (logst.use_syslog)
		closelog();
	logst.ident = ident ? ident : "kvpscan";
	logst.use_syslog = use_syslog;
	logst.level = level;
	if (use_syslog)
		openlog(logst.ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_level(enum log_level level)
{
	logst.level = level;
}

enum log_level
log_get_level(void)
{
	return logst.level;
}

bool
log_uses_syslog(void)
{
	return logst.use_syslog;
}

static void
emit(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (logst.use_syslog) {
		if (prefix)
			syslog(syslog_prio[level], "%s: %s", prefix, buf);
		else
			syslog(syslog_prio[level], "%s", buf);
	} else {
		if (prefix)
			fprintf(stderr, "%s: %s:  %s\n", logst.ident, prefix, buf);
		else
			fprintf(stderr, "%s: %s: %s\n", logst.ident, level_names[level], buf);
	}
}

static void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	int saved = errno;

	logst.last_level = level;
	logst.last_shown = level <= logst.level;
	if (logst.last_shown)
		emit(level, NULL, fmt, ap);
	errno = saved;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

#define DEFINE_LOGGER(name, lvl) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		vlog(lvl, fmt, ap); \
		va_end(ap); \
	}

DEFINE_LOGGER(log_error, KVP_LOG_ERROR)
DEFINE_LOGGER(log_warning, KVP_LOG_WARNING)
DEFINE_LOGGER(log_notice, KVP_LOG_NOTICE)
DEFINE_LOGGER(log_info, KVP_LOG_INFO)
DEFINE_LOGGER(log_debug, KVP_LOG_DEBUG)

void
log_detail(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (logst.last_shown) {
		va_start(ap, fmt);
		emit(logst.last_level, "DETAIL", fmt, ap);
		va_end(ap);
	}
	errno = saved;
}

void
log_hint(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (logst.last_shown) {
		va_start(ap, fmt);
		emit(logst.last_level, "HINT", fmt, ap);
		va_end(ap);
	}
	errno = saved;
}

int
log_facility_from_name(const char *name)
{
	static const struct {
		const char *name;
		int value;
	} map[] = {
		{"daemon", LOG_DAEMON}, {"user", LOG_USER},
		{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
		{"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
		{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
		{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (strcasecmp(map[i].name, name) == 0)
			return map[i].value;
	return -1;
}

enum log_level
log_level_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(level_names); i++)
		if (strcmp(level_names[i], name) == 0)
			return (enum log_level) i;
	return KVP_LOG_INFO;
}
