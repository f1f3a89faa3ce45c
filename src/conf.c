/* conf.c - kvpscan's configuration: one table of keys, loaded with libconfig */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "conf.h"
#include "log.h"
#include "mime.h"

#define SECRET_MAX_SIZE 65536
#define CONF_MAX_SIZE (4 * 1024 * 1024)

enum opt_type {
	OPT_STRING,     /* char *, optionally checked by a validator */
	OPT_INT,        /* int in [min, max] */
	OPT_BOOL,       /* bool */
	OPT_DOUBLE,     /* double in [min, max] */
	OPT_ENUM,       /* char *, one of allowed[] */
	OPT_CODES,      /* kvp_strlist of upper-case codes */
	OPT_SECRET      /* char *: path of a secret file, checked at load */
};

/* A string validator: true when v is acceptable. */
typedef bool (*str_check_fn)(const char *v);

/* A string validator that says why: NULL when v is acceptable, else the reason (a constant). */
typedef const char *(*str_why_fn)(const char *v);

typedef struct opt {
	const char *name;               /* dotted: "group.key" */
	enum opt_type type;
	size_t off;                     /* offsetof(kvp_config, field) */
	const char *def_str;            /* string/enum/secret; codes comma-separated */
	double def_num;                 /* int, bool (0/1), double */
	double min, max;                /* int and double */
	const char *const *allowed;     /* enum: NULL-terminated */
	str_check_fn check;             /* string: validator or NULL */
	str_why_fn why;                 /* string: validator with a reason, or NULL */
	const char *check_what;         /* string: what the validator wants */
	const char *cred;               /* secret: systemd credential name */
	bool reload;                    /* SIGHUP may change it */
	const char *doc;                /* one line */
} opt;

/* ---------------------------------------------------------------- validators */

static bool
check_nonempty(const char *v)
{
	return v[0] != '\0';
}

/* A SQL identifier that needs no quoting: [a-z_][a-z0-9_]*, at most 63 bytes. */
static bool
check_sql_ident(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > 63 || !(islower((unsigned char) v[0]) || v[0] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!(islower((unsigned char) v[i]) || isdigit((unsigned char) v[i]) || v[i] == '_'))
			return false;
	return true;
}

/* HH:MM or HH:MM:SS, 00:00..23:59:59. */
static bool
check_hhmm(const char *v)
{
	size_t n = strlen(v);

	if ((n != 5 && n != 8) || v[2] != ':' || !isdigit((unsigned char) v[0])
	    || !isdigit((unsigned char) v[1]) || !isdigit((unsigned char) v[3])
	    || !isdigit((unsigned char) v[4]))
		return false;
	if (n == 8 && (v[5] != ':' || !isdigit((unsigned char) v[6])
		       || !isdigit((unsigned char) v[7]) || v[6] >= '6'))
		return false;
	return (v[0] - '0') * 10 + (v[1] - '0') < 24 && v[3] < '6';
}

/*
 * Where schedule_set_timezone() (schedule.c) looks a zone up, and the C
 * library reads it from: a zone check-config accepts is one the daemon can set.
 */
#define ZONEINFO_DIR "/usr/share/zoneinfo"

/*
 * An IANA zone name like Europe/Oslo or UTC, safe to pass to PostgreSQL, and
 * installed: ZONEINFO_DIR/NAME is a regular TZif file (UTC needs none).
 */
static const char *
why_timezone(const char *v)
{
	char path[512], magic[4];
	struct stat st;
	size_t i;
	ssize_t n;
	int fd;

	if (v[0] == '\0' || v[0] == '/' || strstr(v, "..") != NULL || strlen(v) > 64)
		return "a zone name is not empty, does not start with \"/\" and holds no \"..\"";
	for (i = 0; v[i]; i++)
		if (!isalnum((unsigned char) v[i]) && strchr("/_+-", v[i]) == NULL)
			return "a zone name holds only letters, digits and / _ + -";
	if (strcmp(v, "UTC") == 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, v);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return "there is no such time zone in " ZONEINFO_DIR;
	n = (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? read(fd, magic, sizeof(magic)) : -1;
	close(fd);
	if (n != (ssize_t) sizeof(magic) || memcmp(magic, "TZif", 4) != 0)
		return "it names no time zone file (TZif) in " ZONEINFO_DIR;
	return NULL;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "" or an http(s) URL with a host. */
static bool
check_http_url(const char *v)
{
	const char *rest;

	if (v[0] == '\0')
		return true;
	if (has_prefix(v, "https://"))
		rest = v + 8;
	else if (has_prefix(v, "http://"))
		rest = v + 7;
	else
		return false;
	return rest[0] != '\0' && rest[0] != '/' && strpbrk(v, " \t\r\n") == NULL;
}

static bool
check_smtp_url(const char *v)
{
	const char *rest;

	if (has_prefix(v, "smtps://"))
		rest = v + 8;
	else if (has_prefix(v, "smtp://"))
		rest = v + 7;
	else
		return false;
	return rest[0] != '\0' && rest[0] != '/' && strpbrk(v, " \t\r\n") == NULL;
}

/* email.from: an address as the email channel parses it (mime_address_parse), "Name <addr>" too. */
static const char *
why_sender(const char *v)
{
	const char *why = NULL;
	char *a = mime_address_parse(v, NULL, &why);

	free(a);
	return a ? NULL : why;
}

/* A recipient: "" or a bare address, by the same parser. */
static const char *
why_recipient(const char *v)
{
	const char *why = NULL;
	char *disp = NULL, *a;

	if (v[0] == '\0')
		return NULL;
	a = mime_address_parse(v, &disp, &why);
	if (a && disp)
		why = "a recipient is a bare address, without a display name";
	free(a);
	free(disp);
	return why;
}

/* An upper-case code: [A-Z][A-Z0-9_]*. */
static bool
valid_code(const char *v)
{
	size_t i;

	if (!isupper((unsigned char) v[0]))
		return false;
	for (i = 1; v[i]; i++)
		if (!isupper((unsigned char) v[i]) && !isdigit((unsigned char) v[i]) && v[i] != '_')
			return false;
	return i <= 64;
}

/* ---------------------------------------------------------------- the table */

static const char *const v_facility[] = {"daemon", "user", "local0", "local1", "local2", "local3",
					  "local4", "local5", "local6", "local7", NULL};
static const char *const v_level[] = {"error", "warning", "notice", "info", "debug", NULL};
static const char *const v_destination[] = {"auto", "syslog", "stderr", NULL};
static const char *const v_send[] = {"new", "all_open", NULL};
static const char *const v_channel[] = {"webhook", "email", "spool", NULL};
static const char *const v_starttls[] = {"required", "off", NULL};
static const char *const v_report_day[] = {"monday", "tuesday", "wednesday", "thursday", "friday",
					    "saturday", "sunday", "daily", "monthly", NULL};

#define OFF(f) offsetof(kvp_config, f)
#define K_STR(n_, f, d, chk, what, rl, doc_) \
	{.name = n_, .type = OPT_STRING, .off = OFF(f), .def_str = d, .check = chk, \
	 .check_what = what, .reload = rl, .doc = doc_}
#define K_INT(n_, f, d, lo, hi, rl, doc_) \
	{.name = n_, .type = OPT_INT, .off = OFF(f), .def_num = d, .min = lo, .max = hi, \
	 .reload = rl, .doc = doc_}
#define K_DBL(n_, f, d, lo, hi, rl, doc_) \
	{.name = n_, .type = OPT_DOUBLE, .off = OFF(f), .def_num = d, .min = lo, .max = hi, \
	 .reload = rl, .doc = doc_}
#define K_STRW(n_, f, d, chk, what, rl, doc_) \
	{.name = n_, .type = OPT_STRING, .off = OFF(f), .def_str = d, .why = chk, \
	 .check_what = what, .reload = rl, .doc = doc_}
#define K_BOOL(n_, f, d, rl, doc_) \
	{.name = n_, .type = OPT_BOOL, .off = OFF(f), .def_num = d, .reload = rl, .doc = doc_}
#define K_ENUM(n_, f, d, vals, rl, doc_) \
	{.name = n_, .type = OPT_ENUM, .off = OFF(f), .def_str = d, .allowed = vals, \
	 .reload = rl, .doc = doc_}
#define K_CODES(n_, f, d, rl, doc_) \
	{.name = n_, .type = OPT_CODES, .off = OFF(f), .def_str = d, .reload = rl, .doc = doc_}
#define K_SECRET(n_, f, credname, rl, doc_) \
	{.name = n_, .type = OPT_SECRET, .off = OFF(f), .def_str = "", .cred = credname, \
	 .reload = rl, .doc = doc_}

#define W_NONEMPTY "a non-empty string"
#define W_IDENT "a SQL identifier: lower-case letters, digits and underscores, not starting with a digit, at most 63 characters"
#define W_HHMM "a time of day as HH:MM or HH:MM:SS, from 00:00 to 23:59:59"

static const opt opts[] = {
	K_STR("log.ident", log_ident, "kvpscan", check_nonempty, W_NONEMPTY, false,
	      "program name in syslog"),
	K_ENUM("log.facility", log_facility, "daemon", v_facility, false,
	       "syslog facility"),
	K_ENUM("log.level", log_level, "info", v_level, true,
	       "lowest level of message logged"),
	K_ENUM("log.destination", log_destination, "auto", v_destination, false,
	       "where messages go; auto: syslog under systemd or without a terminal, else stderr"),

	K_STR("database.conninfo", db_conninfo, "", NULL, NULL, false,
	      "libpq connection string or URI; empty uses the PG* environment"),
	K_SECRET("database.password_file", db_password_file, "db_password", false,
		 "file holding the database password; empty: none, or libpq's own ~/.pgpass"),
	K_STR("database.source_schema", db_source_schema, "kvp_src", check_sql_ident, W_IDENT, false,
	      "schema holding the municipality's source views (read only)"),
	K_STR("database.state_schema", db_state_schema, "kvpscan", check_sql_ident, W_IDENT, false,
	      "schema holding kvpscan's own tables"),
	K_INT("database.connect_timeout", db_connect_timeout, 10, 1, 3600, false,
	      "seconds to wait for a connection"),
	K_INT("database.statement_timeout", db_statement_timeout, 0, 0, 86400, false,
	      "seconds a statement may run; 0: no limit"),
	K_INT("database.work_mem_mb", db_work_mem_mb, 64, 0, 4096, false,
	      "megabytes each sort or hash of a scan may use (PostgreSQL's work_mem); 0: the server's setting"),

	/* at most 62: payments.sql keeps the window's months as bits of a bigint */
	K_INT("identification.window_months", id_window_months, 12, 1, 62, true,
	      "months, ending with the as-of month, in which assistance is counted"),
	K_INT("identification.long_term_more_than", id_long_term_more_than, 4, 0, 61, true,
	      "LONG_TERM when the months with assistance in the window are more than this"),
	K_BOOL("identification.consecutive", id_consecutive, 0, true,
	       "count only consecutive months ending with the as-of month"),
	K_CODES("identification.payment_kinds", id_payment_kinds, "", true,
		"payment kinds that count as assistance; empty: every kind"),
	K_INT("identification.min_age", id_min_age, 18, 0, 120, true,
	      "lowest age in years for working age"),
	K_INT("identification.max_age", id_max_age, 66, 0, 120, true,
	      "highest age in years for working age"),
	K_CODES("identification.special_needs_groups", id_special_needs_groups,
		"SPESIELT_TILPASSET_INNSATS", true,
		"innsatsgrupper that make a person SPECIAL_NEEDS"),
	K_CODES("identification.excluded_benefits", id_excluded_benefits, "AAP,UFORETRYGD", true,
		"running benefits that exclude a person (EXCLUDED_BENEFIT)"),
	K_INT("identification.informed_valid_days", id_informed_valid_days, 365, 1, 3650, true,
	      "days an INFORMED event counts; older: NOT_INFORMED"),
	K_INT("identification.assessed_valid_days", id_assessed_valid_days, 365, 1, 3650, true,
	      "days an ASSESSED or REJECTED event counts; older: NOT_ASSESSED"),
	K_BOOL("identification.exclude_previous_participation", id_exclude_previous_participation, 0,
	       true, "exclude anyone who has ever taken part in KVP (RIGHT_USED), the pre-2019 rule"),

	K_DBL("participation.min_hours", part_min_hours, 37.5, 0, 168, true,
	      "planned hours per week a programme should have"),
	K_INT("participation.max_duration_months", part_max_duration_months, 24, 1, 120, true,
	      "months a participation may last"),

	K_ENUM("delivery.send", del_send, "all_open", v_send, true,
	       "new: only items not delivered before; all_open: every open item each time"),
	K_INT("delivery.max_attempts", del_max_attempts, 20, 1, 1000, true,
	      "attempts before a delivery is marked dead"),
	K_INT("delivery.backoff_initial", del_backoff_initial, 60, 1, 86400, true,
	      "seconds before the first retry; doubles each attempt"),
	K_INT("delivery.backoff_max", del_backoff_max, 21600, 1, 604800, true,
	      "longest wait in seconds between retries"),
	K_INT("delivery.concurrency", del_concurrency, 8, 1, 64, true,
	      "deliveries sent in parallel"),
	K_INT("delivery.keep_sent_days", del_keep_sent_days, 90, 0, 36500, true,
	      "days a sent delivery keeps its text, HTML and JSON; 0: for ever"),
	K_ENUM("delivery.channel", del_channel, "spool", v_channel, true,
	       "how worklists go out"),

	K_STR("webhook.url", wh_url, "", check_http_url, "empty or an http(s):// URL", true,
	      "URL the worklists are POSTed to"),
	K_SECRET("webhook.secret_file", wh_secret_file, "webhook_secret", true,
		 "file holding the signing secret (whsec_...)"),
	K_SECRET("webhook.secret_previous_file", wh_secret_previous_file, "webhook_secret_previous",
		 true, "file holding the previous signing secret during a rotation; empty: none"),
	K_STR("webhook.ca_file", wh_ca_file, "", NULL, NULL, true,
	      "CA bundle to verify the server with; empty: the system's"),
	K_BOOL("webhook.verify_tls", wh_verify_tls, 1, true,
	       "verify the server's certificate and name"),
	K_BOOL("webhook.allow_insecure_http", wh_allow_insecure_http, 0, true,
	       "allow a plain http:// URL (testing only)"),
	K_INT("webhook.connect_timeout", wh_connect_timeout, 10, 1, 300, true,
	      "seconds to wait for a connection"),
	K_INT("webhook.timeout", wh_timeout, 30, 1, 3600, true,
	      "seconds a whole request may take"),

	K_STR("email.smtp_url", mail_smtp_url, "smtp://localhost:25", check_smtp_url,
	      "an smtp:// or smtps:// URL with a host", true, "mail server"),
	K_STRW("email.from", mail_from, "kvpscan@localhost", why_sender,
	       "a mail address such as \"kvpscan@kommune.example.no\" or "
	       "\"NAV Bergen <kvpscan@kommune.example.no>\" (the address itself in ASCII)", true,
	       "sender address, optionally with a display name: \"Name <addr>\""),
	K_STR("email.username", mail_username, "", NULL, NULL, true,
	      "SMTP user name; empty: no authentication"),
	K_SECRET("email.password_file", mail_password_file, "smtp_password", true,
		 "file holding the SMTP password"),
	K_ENUM("email.starttls", mail_starttls, "required", v_starttls, true,
	       "required: refuse to send over smtp:// without STARTTLS; off: plain text (testing only)"),
	K_STR("email.ca_file", mail_ca_file, "", NULL, NULL, true,
	      "CA bundle to verify the server with; empty: the system's"),
	K_BOOL("email.verify_tls", mail_verify_tls, 1, true,
	       "verify the server's certificate and name"),
	K_INT("email.timeout", mail_timeout, 60, 1, 3600, true,
	      "seconds one message may take"),

	K_STR("spool.directory", spool_directory, "/var/spool/kvpscan", check_nonempty, W_NONEMPTY,
	      true, "directory the spool channel writes worklist files to"),

	K_STR("daemon.scan_at", dmn_scan_at, "02:30", check_hhmm, W_HHMM, true,
	      "time of day of the daily scan"),
	K_ENUM("daemon.report_day", dmn_report_day, "monday", v_report_day, true,
	       "when the office report goes out: a weekday, daily, or monthly (the 1st)"),
	K_STR("daemon.report_at", dmn_report_at, "07:00", check_hhmm, W_HHMM, true,
	      "time of day of the report"),
	K_BOOL("daemon.catch_up", dmn_catch_up, 1, true,
	       "run a missed scan at start-up"),
	K_STRW("daemon.timezone", dmn_timezone, "Europe/Oslo", why_timezone,
	       "an installed time zone such as Europe/Oslo or UTC (see " ZONEINFO_DIR ")", false,
	      "time zone of scan_at, report_at and the as-of date"),
	K_STR("daemon.metrics_file", dmn_metrics_file, "", NULL, NULL, true,
	      "file to write Prometheus metrics to after each run; empty: none"),
	K_INT("daemon.retry_interval", dmn_retry_interval, 300, 1, 86400, true,
	      "seconds between passes over deliveries due for a retry"),

	K_INT("report.escalate_after_days", rep_escalate_after_days, 30, 1, 3650, true,
	      "days an item may stay open before it is escalated to the office leader"),
	K_STRW("report.municipality_email", rep_municipality_email, "", why_recipient,
	       "empty or a mail address such as \"kvp@kommune.example.no\"", true,
	      "where the municipality-wide summary goes; empty: nowhere"),
	K_BOOL("report.webhook", rep_webhook, 0, true,
	       "also send reports to the webhook"),
};

#define NOPTS ((int) ARRAY_SIZE(opts))

/* ---------------------------------------------------------------- field access */

static char **
f_str(kvp_config *cfg, const opt *o)
{
	return (char **) ((char *) cfg + o->off);
}

static int *
f_int(kvp_config *cfg, const opt *o)
{
	return (int *) ((char *) cfg + o->off);
}

static bool *
f_bool(kvp_config *cfg, const opt *o)
{
	return (bool *) ((char *) cfg + o->off);
}

static double *
f_dbl(kvp_config *cfg, const opt *o)
{
	/* o->off is offsetof() a double member: the cast is to that member's type */
	// cppcheck-suppress invalidPointerCast
	return (double *) ((char *) cfg + o->off);
}

static kvp_strlist *
f_list(kvp_config *cfg, const opt *o)
{
	return (kvp_strlist *) ((char *) cfg + o->off);
}

#define CF(cfg) ((kvp_config *) (cfg))

static bool
is_string_type(enum opt_type t)
{
	return t == OPT_STRING || t == OPT_ENUM || t == OPT_SECRET;
}

static void
strlist_free(kvp_strlist *l)
{
	int i;

	for (i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static void
strlist_add(kvp_strlist *l, const char *s)
{
	l->items = xrealloc(l->items, (size_t) (l->count + 1) * sizeof(char *));
	l->items[l->count++] = xstrdup(s);
}

static bool
strlist_has(const kvp_strlist *l, const char *s)
{
	int i;

	for (i = 0; i < l->count; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

/* Free what one key's field owns. */
static void
opt_free(kvp_config *cfg, const opt *o)
{
	if (is_string_type(o->type)) {
		free(*f_str(cfg, o));
		*f_str(cfg, o) = NULL;
	} else if (o->type == OPT_CODES) {
		strlist_free(f_list(cfg, o));
	}
}

/* Set one key to its default (the field must hold nothing). */
static void
opt_default(kvp_config *cfg, const opt *o)
{
	const char *p, *comma;
	char code[128];

	switch (o->type) {
	case OPT_STRING:
	case OPT_ENUM:
	case OPT_SECRET:
		*f_str(cfg, o) = xstrdup(o->def_str);
		break;
	case OPT_INT:
		*f_int(cfg, o) = (int) o->def_num;
		break;
	case OPT_BOOL:
		*f_bool(cfg, o) = o->def_num != 0;
		break;
	case OPT_DOUBLE:
		*f_dbl(cfg, o) = o->def_num;
		break;
	case OPT_CODES:
		f_list(cfg, o)->items = NULL;
		f_list(cfg, o)->count = 0;
		for (p = o->def_str; *p; p = *comma ? comma + 1 : comma) {
			comma = p + strcspn(p, ",");
			snprintf(code, sizeof(code), "%.*s", (int) (comma - p), p);
			strlist_add(f_list(cfg, o), code);
		}
		break;
	}
}

/* Move one key's value from src to dst (dst's old value freed, src's cleared). */
static void
opt_move(kvp_config *dst, kvp_config *src, const opt *o)
{
	opt_free(dst, o);
	switch (o->type) {
	case OPT_STRING:
	case OPT_ENUM:
	case OPT_SECRET:
		*f_str(dst, o) = *f_str(src, o);
		*f_str(src, o) = NULL;
		break;
	case OPT_INT:
		*f_int(dst, o) = *f_int(src, o);
		break;
	case OPT_BOOL:
		*f_bool(dst, o) = *f_bool(src, o);
		break;
	case OPT_DOUBLE:
		*f_dbl(dst, o) = *f_dbl(src, o);
		break;
	case OPT_CODES:
		*f_list(dst, o) = *f_list(src, o);
		f_list(src, o)->items = NULL;
		f_list(src, o)->count = 0;
		break;
	}
}

static bool
opt_equal(const kvp_config *a, const kvp_config *b, const opt *o)
{
	const kvp_strlist *la, *lb;
	int i;

	switch (o->type) {
	case OPT_STRING:
	case OPT_ENUM:
	case OPT_SECRET:
		return strcmp(*f_str(CF(a), o), *f_str(CF(b), o)) == 0;
	case OPT_INT:
		return *f_int(CF(a), o) == *f_int(CF(b), o);
	case OPT_BOOL:
		return *f_bool(CF(a), o) == *f_bool(CF(b), o);
	case OPT_DOUBLE:
		return *f_dbl(CF(a), o) == *f_dbl(CF(b), o);
	case OPT_CODES:
		la = f_list(CF(a), o);
		lb = f_list(CF(b), o);
		if (la->count != lb->count)
			return false;
		for (i = 0; i < la->count; i++)
			if (strcmp(la->items[i], lb->items[i]) != 0)
				return false;
		return true;
	}
	return false;
}

/* Append s as a libconfig string literal. */
static void
sb_quote(strbuf *sb, const char *s)
{
	sb_putc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\') {
			sb_putc(sb, '\\');
			sb_putc(sb, (char) c);
		} else if (c == '\n') {
			sb_puts(sb, "\\n");
		} else if (c == '\t') {
			sb_puts(sb, "\\t");
		} else if (c == '\r') {
			sb_puts(sb, "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			sb_printf(sb, "\\x%02x", c);
		} else {
			sb_putc(sb, (char) c);
		}
	}
	sb_putc(sb, '"');
}

static void
sb_double(strbuf *sb, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.17g", v);
	/* shortest form that reads back the same */
	for (int prec = 1; prec < 17; prec++) {
		char tmp[64];

		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v) {
			snprintf(buf, sizeof(buf), "%s", tmp);
			break;
		}
	}
	sb_puts(sb, buf);
	if (strpbrk(buf, ".eEn") == NULL)
		sb_puts(sb, ".0");
}

/* Append one key's value in libconfig syntax; sorted lists when canonical. */
static void
opt_format(strbuf *sb, const kvp_config *cfg, const opt *o, bool canonical)
{
	const kvp_strlist *l;
	int i;

	switch (o->type) {
	case OPT_STRING:
	case OPT_ENUM:
	case OPT_SECRET:
		sb_quote(sb, *f_str(CF(cfg), o));
		break;
	case OPT_INT:
		sb_printf(sb, "%d", *f_int(CF(cfg), o));
		break;
	case OPT_BOOL:
		sb_puts(sb, *f_bool(CF(cfg), o) ? "true" : "false");
		break;
	case OPT_DOUBLE:
		sb_double(sb, *f_dbl(CF(cfg), o));
		break;
	case OPT_CODES:
		l = f_list(CF(cfg), o);
		if (canonical && l->count > 1) {
			char **sorted = xmalloc((size_t) l->count * sizeof(char *));
			int j;

			memcpy(sorted, l->items, (size_t) l->count * sizeof(char *));
			for (i = 1; i < l->count; i++) {	/* insertion sort: lists are short */
				char *x = sorted[i];

				for (j = i; j > 0 && strcmp(sorted[j - 1], x) > 0; j--)
					sorted[j] = sorted[j - 1];
				sorted[j] = x;
			}
			sb_putc(sb, '[');
			for (i = 0; i < l->count; i++) {
				sb_puts(sb, i ? ", " : " ");
				sb_quote(sb, sorted[i]);
			}
			sb_puts(sb, " ]");
			free(sorted);
			break;
		}
		sb_putc(sb, '[');
		for (i = 0; i < l->count; i++) {
			sb_puts(sb, i ? ", " : " ");
			sb_quote(sb, l->items[i]);
		}
		sb_puts(sb, " ]");
		break;
	}
}

/* ---------------------------------------------------------------- lookup helpers */

static const opt *
opt_find(const char *name)
{
	int i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

/* Length of the group part of o's name. */
static size_t
group_len(const opt *o)
{
	return (size_t) (strchr(o->name, '.') - o->name);
}

static bool
group_known(const char *group)
{
	int i;

	for (i = 0; i < NOPTS; i++)
		if (strlen(group) == group_len(&opts[i])
		    && strncmp(opts[i].name, group, group_len(&opts[i])) == 0)
			return true;
	return false;
}

/* Levenshtein distance, for "did you mean". */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, *row, result;

	row = xmalloc((lb + 1) * sizeof(size_t));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best;

			best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	result = row[lb];
	free(row);
	return result;
}

/* The known key closest to name, or NULL if none is close. */
static const char *
closest_key(const char *name)
{
	const char *best = NULL, *leaf = strrchr(name, '.');
	size_t bestd = 4, d;
	int i;

	for (i = 0; i < NOPTS; i++) {
		d = edit_distance(name, opts[i].name);
		if (d < bestd) {
			bestd = d;
			best = opts[i].name;
		}
	}
	if (best == NULL && leaf != NULL) {
		/* the right key in the wrong group */
		for (i = 0; i < NOPTS; i++)
			if (strcmp(strrchr(opts[i].name, '.'), leaf) == 0)
				return opts[i].name;
	}
	return best;
}

/* The key whose name after the dot is leaf, or NULL. */
static const char *
key_with_leaf(const char *leaf)
{
	int i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(strchr(opts[i].name, '.') + 1, leaf) == 0)
			return opts[i].name;
	return NULL;
}

/* The group name closest to name (at most 2 edits), or NULL; static storage. */
static const char *
closest_group(const char *name)
{
	static char best[64];
	size_t bestd = 3, d;
	int i;

	best[0] = '\0';
	for (i = 0; i < NOPTS; i++) {
		char g[64];

		snprintf(g, sizeof(g), "%.*s", (int) group_len(&opts[i]), opts[i].name);
		d = edit_distance(name, g);
		if (d < bestd && (d == 1 || d * 4 <= strlen(name))) {
			bestd = d;
			snprintf(best, sizeof(best), "%s", g);
		}
	}
	return best[0] ? best : NULL;
}

static void
hint_groups(void)
{
	strbuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; i < NOPTS; i++) {
		if (i > 0 && group_len(&opts[i]) == group_len(&opts[i - 1])
		    && strncmp(opts[i].name, opts[i - 1].name, group_len(&opts[i])) == 0)
			continue;
		sb_printf(&sb, "%s%.*s", sb.len ? ", " : "", (int) group_len(&opts[i]), opts[i].name);
	}
	log_hint("the groups are: %s", sb_str(&sb));
	sb_free(&sb);
}

static void
hint_allowed(const opt *o)
{
	strbuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; o->allowed[i]; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", o->allowed[i]);
	log_hint("the allowed values are: %s", sb_str(&sb));
	sb_free(&sb);
}

static const char *
leaf_name(const opt *o)
{
	return o->name + group_len(o) + 1;
}

static const char *
type_name(int ctype)
{
	switch (ctype) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a decimal number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST: return "a list";
	default: return "a value";
	}
}

/* Log that setting has the wrong type for o, with an example of the right one. */
static void
wrong_type(const opt *o, const config_setting_t *s, const char *file, int line)
{
	static const char *const want[] = {
		[OPT_STRING] = "a string", [OPT_INT] = "an integer", [OPT_BOOL] = "a boolean",
		[OPT_DOUBLE] = "a number", [OPT_ENUM] = "a string", [OPT_CODES] = "a list of strings",
		[OPT_SECRET] = "a string (a file name)",
	};
	kvp_config tmp;
	strbuf sb;

	log_error("%s:%d: \"%s\" must be %s, not %s", file, line, o->name, want[o->type],
		  type_name(config_setting_type(s)));
	memset(&tmp, 0, sizeof(tmp));
	opt_default(&tmp, o);
	sb_init(&sb);
	opt_format(&sb, &tmp, o, false);
	if (o->type == OPT_BOOL)
		log_hint("write true or false without quotes, e.g. %s = %s;", leaf_name(o), sb_str(&sb));
	else if (o->type == OPT_CODES)
		log_hint("write a list of quoted codes, e.g. %s = [ \"AAP\", \"UFORETRYGD\" ];", leaf_name(o));
	else if (is_string_type(o->type))
		log_hint("put the value in double quotes, e.g. %s = %s;", leaf_name(o),
			 o->def_str[0] ? sb_str(&sb) : "\"...\"");
	else
		log_hint("write a number without quotes, e.g. %s = %s;", leaf_name(o), sb_str(&sb));
	opt_free(&tmp, o);
	sb_free(&sb);
}

static void
out_of_range(const opt *o, const char *value, const char *file, int line)
{
	log_error("%s:%d: value %s for \"%s\" is out of range", file, line, value, o->name);
	if (o->type == OPT_INT)
		log_hint("use a whole number from %.0f to %.0f", o->min, o->max);
	else
		log_hint("use a number from %g to %g", o->min, o->max);
}

/* ---------------------------------------------------------------- secrets */

/*
 * Open and check one secret; read it when out is not NULL.  where is a
 * "FILE:LINE: " prefix for messages (or "").  0 on success, -1 logged.
 */
static int
secret_fetch(const char *path, const char *credname, const char *where, const char *keyname,
	     char **out)
{
	const char *credir = getenv("CREDENTIALS_DIRECTORY");
	char *credpath = NULL, *data = NULL;
	const char *use;
	struct stat st;
	bool from_cred = false;
	size_t len = 0;
	ssize_t n;
	int fd = -1, rc = -1;

	if (out)
		*out = NULL;
	if (credir && credir[0] && credname) {
		credpath = xasprintf("%s/%s", credir, credname);
		if (access(credpath, F_OK) == 0)
			from_cred = true;
	}
	if (from_cred) {
		use = credpath;
	} else if (path == NULL || path[0] == '\0') {
		rc = 0;
		goto done;
	} else {
		use = path;
	}

	fd = open(use, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_error("%scould not open secret file \"%s\"%s%s: %s", where, use,
			  keyname ? " for " : "", keyname ? keyname : "", strerror(errno));
		if (!from_cred)
			log_hint("create it with the secret on one line and chmod 600, or set the key to \"\"");
		goto done;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%ssecret file \"%s\" is not a regular file", where, use);
		goto done;
	}
	if (!from_cred && (st.st_mode & 077) != 0) {
		log_error("%ssecret file \"%s\" is accessible by group or others", where, use);
		log_detail("its permissions are %04o", (unsigned) (st.st_mode & 07777));
		log_hint("chmod 600 %s", use);
		goto done;
	}
	if (st.st_size > SECRET_MAX_SIZE) {
		log_error("%ssecret file \"%s\" is too large", where, use);
		log_hint("the file must hold only the secret, on one line");
		goto done;
	}
	if (out == NULL) {
		rc = 0;
		goto done;
	}
	data = xmalloc((size_t) SECRET_MAX_SIZE + 1);
	for (;;) {
		n = read(fd, data + len, (size_t) SECRET_MAX_SIZE - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("%scould not read secret file \"%s\": %s", where, use, strerror(errno));
			goto done;
		}
		if (n == 0 || len + (size_t) n >= SECRET_MAX_SIZE)
			break;
		len += (size_t) n;
	}
	data[len] = '\0';
	if (strlen(data) != len) {
		log_error("%ssecret file \"%s\" holds a NUL byte", where, use);
		goto done;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	if (len == 0) {
		log_error("%ssecret file \"%s\" is empty", where, use);
		log_hint("write the secret on one line into the file");
		goto done;
	}
	*out = data;
	data = NULL;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (data) {
		explicit_bzero(data, (size_t) SECRET_MAX_SIZE + 1);
		free(data);
	}
	free(credpath);
	return rc;
}

/* Read a secret from its systemd credential or its private file; caller frees (NULL: none or error). */
char *
secret_read(const char *path, const char *credname, bool *failed)
{
	char *secret = NULL;

	*failed = secret_fetch(path, credname, "", NULL, &secret) < 0;
	return secret;
}

/* ---------------------------------------------------------------- loading */

/*
 * libconfig 1.5 silently truncates a decimal integer literal that does not fit
 * in 32 bits (4294967308 reads as 12).  Find key's literal on its line of the
 * file's text and return true when it differs from what libconfig read,
 * with the literal copied to lit.
 */
static bool
int_literal_mismatch(const char *text, int line, const char *key, long long got,
		     char *lit, size_t litsize)
{
	const char *p = text, *end, *q;
	size_t klen = strlen(key);
	long long v;
	char *numend;
	int l;

	if (text == NULL)
		return false;
	for (l = 1; l < line && p; l++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (p == NULL)
		return false;
	end = p + strcspn(p, "\n");
	for (q = p; q + klen <= end; q++) {
		const char *v0;

		if (strncmp(q, key, klen) != 0
		    || (q > p && (isalnum((unsigned char) q[-1]) || q[-1] == '_' || q[-1] == '-')))
			continue;
		v0 = q + klen;
		while (v0 < end && (*v0 == ' ' || *v0 == '\t'))
			v0++;
		if (v0 >= end || (*v0 != '=' && *v0 != ':'))
			continue;
		v0++;
		while (v0 < end && (*v0 == ' ' || *v0 == '\t'))
			v0++;
		errno = 0;
		v = strtoll(v0, &numend, (v0[0] == '0' && (v0[1] == 'x' || v0[1] == 'X')) ? 16 : 10);
		if (numend == v0)
			return false;
		snprintf(lit, litsize, "%.*s", (int) (numend - v0), v0);
		return errno == ERANGE || v != got;
	}
	return false;
}

/*
 * v as it may be shown in a message: valid UTF-8 kept, control characters
 * and bytes that are not UTF-8 as \xNN (a journal shows such a line as a
 * blob).  Returns sb's text.
 */
static const char *
shown(strbuf *sb, const char *v)
{
	const unsigned char *u = (const unsigned char *) v;
	size_t i, n, k, len = strlen(v);

	for (i = 0; i < len; i += n) {
		n = 1;
		if (u[i] >= 0xC2 && u[i] <= 0xF4) {
			n = u[i] >= 0xF0 ? 4 : u[i] >= 0xE0 ? 3 : 2;
			for (k = 1; k < n && i + k < len && (u[i + k] & 0xC0) == 0x80; k++)
				;
			if (k < n)
				n = 1;
		}
		if (n == 1 && (u[i] < 0x20 || u[i] >= 0x7F))
			sb_printf(sb, "\\x%02x", u[i]);
		else
			sb_printf(sb, "%.*s", (int) n, v + i);
	}
	return sb_str(sb);
}

/* A string, enum or secret setting: its type, then the allowed values or its check.  0 or -1 logged. */
static int
apply_string(kvp_config *cfg, const opt *o, const config_setting_t *s, const char *file, int line)
{
	const char *str, *why = NULL;
	int i;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		wrong_type(o, s, file, line);
		return -1;
	}
	str = config_setting_get_string(s);
	if (o->type == OPT_ENUM) {
		for (i = 0; o->allowed[i]; i++)
			if (strcmp(o->allowed[i], str) == 0)
				break;
		if (o->allowed[i] == NULL) {
			log_error("%s:%d: invalid value \"%s\" for \"%s\"", file, line, str, o->name);
			hint_allowed(o);
			return -1;
		}
	} else if ((o->check && !o->check(str)) || (o->why && (why = o->why(str)) != NULL)) {
		strbuf sb;

		sb_init(&sb);
		log_error("%s:%d: invalid value \"%s\" for \"%s\"", file, line, shown(&sb, str), o->name);
		sb_free(&sb);
		if (why)
			log_detail("%s", why);
		log_hint("it must be %s", o->check_what);
		return -1;
	}
	free(*f_str(cfg, o));
	*f_str(cfg, o) = xstrdup(str);
	return 0;
}

/*
 * An integer literal of s into *iv, refusing one that libconfig cut to 32
 * bits (text: the main file's text, or NULL).  0 or -1 logged as out of range.
 */
static int
setting_int64(const opt *o, const config_setting_t *s, const char *file, int line, const char *text,
	      long long *iv)
{
	char num[64];

	*iv = config_setting_get_int64(s);
	if (config_setting_type(s) == CONFIG_TYPE_INT
	    && int_literal_mismatch(text, line, config_setting_name(s), *iv, num, sizeof(num))) {
		out_of_range(o, num, file, line);
		return -1;
	}
	return 0;
}

/* An integer setting within the key's range.  0 or -1 logged. */
static int
apply_int(kvp_config *cfg, const opt *o, const config_setting_t *s, const char *file, int line,
	  const char *text)
{
	int ctype = config_setting_type(s);
	char num[64];
	long long iv;

	if (ctype != CONFIG_TYPE_INT && ctype != CONFIG_TYPE_INT64) {
		wrong_type(o, s, file, line);
		return -1;
	}
	if (setting_int64(o, s, file, line, text, &iv) < 0)
		return -1;
	if ((double) iv < o->min || (double) iv > o->max) {
		snprintf(num, sizeof(num), "%lld", iv);
		out_of_range(o, num, file, line);
		return -1;
	}
	*f_int(cfg, o) = (int) iv;
	return 0;
}

/* A number setting (a float or an integer literal) within the key's range.  0 or -1 logged. */
static int
apply_double(kvp_config *cfg, const opt *o, const config_setting_t *s, const char *file, int line,
	     const char *text)
{
	int ctype = config_setting_type(s);
	char num[64];
	long long iv;
	double dv;

	if (ctype == CONFIG_TYPE_FLOAT) {
		dv = config_setting_get_float(s);
	} else if (ctype == CONFIG_TYPE_INT || ctype == CONFIG_TYPE_INT64) {
		if (setting_int64(o, s, file, line, text, &iv) < 0)
			return -1;
		dv = (double) iv;
	} else {
		wrong_type(o, s, file, line);
		return -1;
	}
	if (!isfinite(dv) || dv < o->min || dv > o->max) {
		snprintf(num, sizeof(num), "%g", dv);
		out_of_range(o, num, file, line);
		return -1;
	}
	*f_dbl(cfg, o) = dv;
	return 0;
}

/* A list of codes: strings only, each a valid code, none twice.  0 or -1 logged. */
static int
apply_codes(kvp_config *cfg, const opt *o, const config_setting_t *s, const char *file, int line)
{
	int ctype = config_setting_type(s);
	const char *str;
	int i, n;

	if (ctype != CONFIG_TYPE_ARRAY && ctype != CONFIG_TYPE_LIST) {
		wrong_type(o, s, file, line);
		return -1;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			wrong_type(o, s, file, line);
			return -1;
		}
	}
	strlist_free(f_list(cfg, o));
	for (i = 0; i < n; i++) {
		str = config_setting_get_string(config_setting_get_elem(s, (unsigned) i));
		if (!valid_code(str)) {
			log_error("%s:%d: invalid code \"%s\" in \"%s\"", file, line, str, o->name);
			log_hint("codes are upper-case letters, digits and underscores, e.g. \"AAP\"");
			return -1;
		}
		if (strlist_has(f_list(cfg, o), str)) {
			log_error("%s:%d: code \"%s\" appears twice in \"%s\"", file, line, str, o->name);
			log_hint("list each code once");
			return -1;
		}
		strlist_add(f_list(cfg, o), str);
	}
	return 0;
}

/* Apply one setting to cfg; 0 or -1 with the error logged.  text: the file's text, if it is the main file. */
static int
apply_setting(kvp_config *cfg, const opt *o, const config_setting_t *s, const char *file, int line,
	      const char *text)
{
	switch (o->type) {
	case OPT_STRING:
	case OPT_ENUM:
	case OPT_SECRET:
		return apply_string(cfg, o, s, file, line);
	case OPT_INT:
		return apply_int(cfg, o, s, file, line, text);
	case OPT_DOUBLE:
		return apply_double(cfg, o, s, file, line, text);
	case OPT_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			wrong_type(o, s, file, line);
			return -1;
		}
		*f_bool(cfg, o) = config_setting_get_bool(s) != 0;
		return 0;
	case OPT_CODES:
		return apply_codes(cfg, o, s, file, line);
	}
	return -1;
}

/* The line a key was set on (lines[]), or of the other key, for cross-key messages. */
static int
line_of(const int *lines, const char *a, const char *b)
{
	const opt *oa = opt_find(a), *ob = opt_find(b);
	int la = oa ? lines[oa - opts] : 0, lb = ob ? lines[ob - opts] : 0;

	return la > lb ? la : lb;
}

/* True when systemd passed a credential of this name. */
static bool
credential_exists(const char *credname)
{
	const char *credir = getenv("CREDENTIALS_DIRECTORY");
	char *p;
	bool found;

	if (credir == NULL || credir[0] == '\0')
		return false;
	p = xasprintf("%s/%s", credir, credname);
	found = access(p, F_OK) == 0;
	free(p);
	return found;
}

/* Checks that involve more than one key; 0 or -1 (logged). */
static int
cross_checks(const kvp_config *cfg, const char *file, const int *lines)
{
	int errors = 0;

	if (cfg->id_long_term_more_than >= cfg->id_window_months) {
		log_error("%s:%d: \"identification.long_term_more_than\" (%d) must be less than "
			  "\"identification.window_months\" (%d)", file,
			  line_of(lines, "identification.long_term_more_than", "identification.window_months"),
			  cfg->id_long_term_more_than, cfg->id_window_months);
		log_hint("no one can have more months with assistance than the window has months; "
			 "lower long_term_more_than or widen window_months");
		errors++;
	}
	if (cfg->id_min_age > cfg->id_max_age) {
		log_error("%s:%d: \"identification.min_age\" (%d) must not be greater than "
			  "\"identification.max_age\" (%d)", file,
			  line_of(lines, "identification.min_age", "identification.max_age"),
			  cfg->id_min_age, cfg->id_max_age);
		log_hint("working age is from min_age to max_age, both included");
		errors++;
	}
	if (cfg->del_backoff_initial > cfg->del_backoff_max) {
		log_error("%s:%d: \"delivery.backoff_initial\" (%d) must not be greater than "
			  "\"delivery.backoff_max\" (%d)", file,
			  line_of(lines, "delivery.backoff_initial", "delivery.backoff_max"),
			  cfg->del_backoff_initial, cfg->del_backoff_max);
		log_hint("raise backoff_max or lower backoff_initial");
		errors++;
	}
	if (strcmp(cfg->db_source_schema, cfg->db_state_schema) == 0) {
		log_error("%s:%d: \"database.source_schema\" and \"database.state_schema\" are both \"%s\"",
			  file, line_of(lines, "database.source_schema", "database.state_schema"),
			  cfg->db_source_schema);
		log_hint("kvpscan only reads the source schema; give its own state another schema");
		errors++;
	}
	if (has_prefix(cfg->wh_url, "http://") && !cfg->wh_allow_insecure_http) {
		log_error("%s:%d: \"webhook.url\" must use https", file,
			  line_of(lines, "webhook.url", "webhook.allow_insecure_http"));
		log_detail("worklists carry personal data and must be encrypted in transit");
		log_hint("use an https:// URL, or set allow_insecure_http = true for a test server");
		errors++;
	}
	if ((strcmp(cfg->del_channel, "webhook") == 0 || cfg->rep_webhook) && cfg->wh_url[0] == '\0') {
		log_error("%s:%d: \"webhook.url\" is not set but the webhook is used", file,
			  line_of(lines, "delivery.channel", "report.webhook"));
		log_hint("set webhook.url, or choose another delivery.channel");
		errors++;
	}
	if (strcmp(cfg->del_channel, "webhook") == 0 && cfg->wh_secret_file[0] == '\0'
	    && !credential_exists("webhook_secret")) {
		log_error("%s:%d: \"webhook.secret_file\" is not set but delivery.channel is \"webhook\"",
			  file, line_of(lines, "delivery.channel", "webhook.secret_file"));
		log_hint("webhook messages are signed: put the secret in a file (chmod 600) and set webhook.secret_file, "
			 "or pass it as the systemd credential webhook_secret");
		errors++;
	}
	return errors ? -1 : 0;
}

/* Check every configured secret file now, so check-config finds problems. */
static int
check_secrets(const kvp_config *cfg, const char *file, const int *lines)
{
	int i, errors = 0;

	for (i = 0; i < NOPTS; i++) {
		const opt *o = &opts[i];
		char *where;

		if (o->type != OPT_SECRET)
			continue;
		where = lines[i] ? xasprintf("%s:%d: ", file, lines[i]) : xasprintf("%s: ", file);
		if (secret_fetch(*f_str(CF(cfg), o), o->cred, where, o->name, NULL) < 0)
			errors++;
		free(where);
	}
	return errors ? -1 : 0;
}

/* Walk the parsed file and apply every setting; returns the number of errors. */
static int
apply_file(kvp_config *cfg, config_t *lc, const char *path, const char *text, int *lines)
{
	config_setting_t *root = config_root_setting(lc);
	int g, k, ng, nk, errors = 0;
	char name[256];

	ng = config_setting_length(root);
	for (g = 0; g < ng; g++) {
		config_setting_t *grp = config_setting_get_elem(root, (unsigned) g);
		const char *gname = config_setting_name(grp);
		const char *gfile = config_setting_source_file(grp);
		int gline = config_setting_source_line(grp);

		if (gfile == NULL)
			gfile = path;
		if (!group_known(gname)) {
			const char *near;

			if (config_setting_type(grp) == CONFIG_TYPE_GROUP) {
				log_error("%s:%d: unknown group \"%s\"", gfile, gline, gname);
				near = closest_group(gname);
				if (near)
					log_hint("did you mean \"%s\"?", near);
				else
					hint_groups();
			} else {
				log_error("%s:%d: unknown key \"%s\"", gfile, gline, gname);
				near = key_with_leaf(gname);
				if (near)
					log_hint("did you mean \"%s\"? every key belongs inside its group, "
						 "e.g. %.*s = { %s = ...; };", near,
						 (int) (strchr(near, '.') - near), near, gname);
				else
					hint_groups();
			}
			errors++;
			continue;
		}
		if (config_setting_type(grp) != CONFIG_TYPE_GROUP) {
			log_error("%s:%d: \"%s\" must be a group, not %s", gfile, gline, gname,
				  type_name(config_setting_type(grp)));
			log_hint("write it as %s = { key = value; ... };", gname);
			errors++;
			continue;
		}
		nk = config_setting_length(grp);
		for (k = 0; k < nk; k++) {
			config_setting_t *s = config_setting_get_elem(grp, (unsigned) k);
			const char *sfile = config_setting_source_file(s);
			int sline = config_setting_source_line(s);
			const opt *o;

			if (sfile == NULL || strcmp(sfile, path) == 0)
				sfile = path;
			snprintf(name, sizeof(name), "%s.%s", gname, config_setting_name(s));
			o = opt_find(name);
			if (o == NULL) {
				const char *near = closest_key(name);

				log_error("%s:%d: unknown key \"%s\"", sfile, sline, name);
				if (near)
					log_hint("did you mean \"%s\"?", near);
				else
					log_hint("remove it; see kvpscan.conf(5) for the keys of group \"%s\"", gname);
				errors++;
				continue;
			}
			if (apply_setting(cfg, o, s, sfile, sline, sfile == path ? text : NULL) < 0)
				errors++;
			else
				lines[o - opts] = sline;
		}
	}
	return errors;
}

/* ---------------------------------------------------------------- pre-scan */

/*
 * libconfig 1.5 takes an unclosed comment or a NUL byte for the end of the
 * file (the rest is silently dropped), reports an unclosed string where the
 * file ends, and names neither the setting that is set twice nor the include
 * file it cannot open.  So before libconfig reads the file, the pre-scan
 * walks its text the way libconfig's scanner does (strings, the three kinds
 * of comment, "@include" lines, recursively into the included files) and
 * refuses these with the file and line where they start.  It follows the
 * nesting of groups and lists to name a setting set twice; when the text is
 * not well formed it stops following it and leaves the error to libconfig.
 */

#define INCLUDE_DEPTH_MAX 10    /* libconfig's own limit */
#define PS_DEPTH_MAX 32

typedef struct ps_name {
	char *name;
	char *where;                    /* "FILE:LINE" where it was set */
} ps_name;

typedef struct ps_frame {
	char kind;                      /* '{' a group (the root too), '(' or '[' a list */
	char *path;                     /* dotted path; "" at the root */
	ps_name *names;                 /* the names set in this group */
	int count;
} ps_frame;

typedef struct prescan {
	const char *incdir;             /* libconfig's include directory, NULL: none */
	ps_frame stack[PS_DEPTH_MAX];
	int depth;                      /* frames in use; 0: not following (lost) */
	char *pending;                  /* a name read, waiting for "=" or ":" */
	int pending_line;
	char *assigned;                 /* path of the setting whose value comes next */
	bool after_string;              /* a string value was just read ("a" "b" is one string) */
	int errors;
} prescan;

static void ps_lose(prescan *ps);

static void
ps_push(prescan *ps, char kind, const char *path)
{
	ps_frame *f;

	if (ps->depth == 0)
		return;
	if (ps->depth == PS_DEPTH_MAX) {
		ps_lose(ps);    /* deeper than any kvpscan file: stop following */
		return;
	}
	f = &ps->stack[ps->depth++];
	f->kind = kind;
	f->path = xstrdup(path);
	f->names = NULL;
	f->count = 0;
}

static void
ps_frame_free(ps_frame *f)
{
	int i;

	for (i = 0; i < f->count; i++) {
		free(f->names[i].name);
		free(f->names[i].where);
	}
	free(f->names);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

/* Stop following the structure (libconfig will report the syntax error). */
static void
ps_lose(prescan *ps)
{
	while (ps->depth > 0)
		ps_frame_free(&ps->stack[--ps->depth]);
	free(ps->pending);
	ps->pending = NULL;
	free(ps->assigned);
	ps->assigned = NULL;
}

/* A name followed by "=" or ":": refuse it when its group already has it. */
static void
ps_assign(prescan *ps, const char *file)
{
	ps_frame *f = &ps->stack[ps->depth - 1];
	char *full = f->path[0] ? xasprintf("%s.%s", f->path, ps->pending) : xstrdup(ps->pending);
	int i;

	for (i = 0; i < f->count; i++) {
		if (strcmp(f->names[i].name, ps->pending) != 0)
			continue;
		log_error("%s:%d: \"%s\" is set twice", file, ps->pending_line, full);
		log_detail("it was first set at %s", f->names[i].where);
		if (ps->depth == 1)
			log_hint("put all the keys of a group in one \"%s = { ... };\" block", full);
		else
			log_hint("remove one of them: only one value can be in force");
		ps->errors++;
		break;
	}
	if (i == f->count) {
		f->names = xrealloc(f->names, (size_t) (f->count + 1) * sizeof(ps_name));
		f->names[f->count].name = xstrdup(ps->pending);
		f->names[f->count].where = xasprintf("%s:%d", file, ps->pending_line);
		f->count++;
	}
	free(ps->assigned);
	ps->assigned = full;
	free(ps->pending);
	ps->pending = NULL;
}

/* Follow one punctuation character or word (a name or a scalar value). */
static void
ps_token(prescan *ps, const char *file, int line, char c, const char *word, size_t wlen)
{
	ps_frame *top;
	bool value = ps->assigned != NULL;

	if (ps->depth == 0)
		return;
	top = &ps->stack[ps->depth - 1];
	if (word != NULL && word[0] == '"' && ps->after_string)
		return;
	ps->after_string = word != NULL && word[0] == '"' && (value || top->kind != '{');
	if (word != NULL) {
		if (value || top->kind != '{') {
			free(ps->assigned);     /* a scalar value, or a list element */
			ps->assigned = NULL;
		} else if (ps->pending == NULL && (isalpha((unsigned char) word[0]) || word[0] == '*')) {
			ps->pending = xmalloc(wlen + 1);
			memcpy(ps->pending, word, wlen);
			ps->pending[wlen] = '\0';
			ps->pending_line = line;
		} else {
			ps_lose(ps);
		}
		return;
	}
	switch (c) {
	case '=':
	case ':':
		if (ps->pending && !value && top->kind == '{')
			ps_assign(ps, file);
		else
			ps_lose(ps);
		return;
	case '{':
	case '(':
	case '[':
		if (ps->pending) {
			ps_lose(ps);
			return;
		}
		if (value) {
			char *path = ps->assigned;

			ps->assigned = NULL;
			ps_push(ps, c, path);
			free(path);
		} else if (top->kind != '{') {
			char *path = xasprintf("%s[]", top->path);

			ps_push(ps, c, path);
			free(path);
		} else {
			ps_lose(ps);
		}
		return;
	case '}':
	case ')':
	case ']':
		if (ps->pending || ps->depth < 2 || top->kind != (c == '}' ? '{' : c == ')' ? '(' : '[')) {
			ps_lose(ps);
			return;
		}
		free(ps->assigned);
		ps->assigned = NULL;
		ps_frame_free(&ps->stack[--ps->depth]);
		return;
	case ';':
	case ',':
		if (ps->pending)
			ps_lose(ps);
		free(ps->assigned);
		ps->assigned = NULL;
		return;
	default:
		ps_lose(ps);
		return;
	}
}

static int prescan_file(prescan *ps, const char *file, int depth);

/*
 * An "@include" line at t[i] (only blanks before it on its line): check and
 * pre-scan the file.  *ip moves past the closing quote.  -1 when the rest of
 * the line cannot be read as one (libconfig reports it).
 */
static int
ps_include(prescan *ps, const char *file, int line, const char *t, size_t len, size_t *ip, int depth)
{
	size_t i = *ip + 8, j;
	strbuf name;
	char *path;
	int fd, rc = 0;

	if (i >= len || (t[i] != ' ' && t[i] != '\t'))
		return -1;
	while (i < len && (t[i] == ' ' || t[i] == '\t'))
		i++;
	if (i >= len || t[i] != '"')
		return -1;
	sb_init(&name);
	for (j = i + 1; j < len && t[j] != '"' && t[j] != '\n'; j++) {
		if (t[j] == '\\' && j + 1 < len && (t[j + 1] == '"' || t[j + 1] == '\\'))
			j++;
		sb_putc(&name, t[j]);
	}
	if (j >= len || t[j] != '"') {
		log_error("%s:%d: the file name of \"@include\" is not closed with a double quote", file, line);
		ps->errors++;
		sb_free(&name);
		*ip = j;
		return 0;
	}
	*ip = j + 1;
	if (sb_str(&name)[0] == '/') {
		log_error("%s:%d: include file \"%s\" is an absolute path", file, line, sb_str(&name));
		log_hint("give it relative to the directory of the main configuration file (%s)",
			 ps->incdir ? ps->incdir : ".");
		ps->errors++;
		sb_free(&name);
		return 0;
	}
	/* the path libconfig opens: the main file's directory, then the name */
	path = ps->incdir ? xasprintf("%s/%s", ps->incdir, sb_str(&name)) : xstrdup(sb_str(&name));
	if (depth + 1 > INCLUDE_DEPTH_MAX) {
		log_error("%s:%d: include files nest more than %d deep at \"%s\"", file, line,
			  INCLUDE_DEPTH_MAX, path);
		log_hint("does a file include itself?");
		ps->errors++;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		log_error("%s:%d: cannot open include file \"%s\": %s", file, line, path, strerror(errno));
		log_hint("include paths are relative to the directory of the main configuration file (%s)",
			 ps->incdir ? ps->incdir : ".");
		ps->errors++;
	} else {
		close(fd);
		rc = prescan_file(ps, path, depth + 1);
	}
	free(path);
	sb_free(&name);
	return rc;
}

/* Blanks between tokens (a newline is counted apart). */
static bool
ps_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* "#" or "//" at t[i]: a comment to the end of the line. */
static bool
ps_line_comment(const char *t, size_t len, size_t i)
{
	return t[i] == '#' || (t[i] == '/' && i + 1 < len && t[i + 1] == '/');
}

/*
 * A "/" "*" comment at t[*ip]: *ip moves past its end and *line counts the
 * lines in it.  false (logged, counted) when it is not closed.
 */
static bool
ps_block_comment(prescan *ps, const char *file, const char *t, size_t len, size_t *ip, int *line)
{
	int start = *line;
	size_t j;

	for (j = *ip + 2; j < len && t[j] != '\0' && !(t[j] == '*' && j + 1 < len && t[j + 1] == '/'); j++)
		if (t[j] == '\n')
			(*line)++;
	if (j >= len || t[j] == '\0') {
		log_error("%s:%d: comment \"/*\" is not closed", file, start);
		log_detail("libconfig would ignore everything after it");
		log_hint("end the comment with \"*/\", or start each comment line with \"#\"");
		ps->errors++;
		return false;
	}
	*ip = j + 2;
	return true;
}

/*
 * A string at t[*ip], closed on its line: followed as a token, *ip moves
 * past it.  false (logged, counted) when it is not closed.
 */
static bool
ps_string(prescan *ps, const char *file, int line, const char *t, size_t len, size_t *ip)
{
	size_t i = *ip, j;

	for (j = i + 1; j < len && t[j] != '"' && t[j] != '\n' && t[j] != '\0'; j++)
		if (t[j] == '\\' && j + 1 < len && t[j + 1] != '\n' && t[j + 1] != '\0')
			j++;
	if (j >= len || t[j] != '"') {
		log_error("%s:%d: string is not closed on the line it starts", file, line);
		log_hint("end the string with a double quote on its line (write \\\" for a quote "
			 "inside it); a long value may be split into adjacent strings: \"abc\" \"def\"");
		ps->errors++;
		return false;
	}
	ps_token(ps, file, line, '"', t + i, j + 1 - i);
	*ip = j + 1;
	return true;
}

/* The end of a name, number or boolean at t[i]: anything up to the next separator (at least one byte). */
static size_t
ps_word_end(const char *t, size_t len, size_t i)
{
	size_t j;

	for (j = i; j < len && t[j] != '\0' && strchr(" \t\r\n\f\v=:;,{}()[]\"#", t[j]) == NULL
	     && !(t[j] == '/' && j + 1 < len && (t[j + 1] == '/' || t[j + 1] == '*')); j++)
		;
	return j == i ? j + 1 : j;
}

/*
 * Pre-scan text (len bytes) of file; included files recursively.  Returns -1
 * when the scan cannot go on (an unclosed comment or string, a NUL byte),
 * else 0; every problem is logged and counted in ps->errors.
 */
static int
prescan_text(prescan *ps, const char *file, const char *t, size_t len, int depth)
{
	size_t i = 0, j;
	int line = 1;
	bool bol = true;        /* only blanks so far on this line */

	while (i < len) {
		char c = t[i];

		if (c == '\0') {
			log_error("%s:%d: the file holds a NUL byte", file, line);
			log_detail("libconfig would read the file only up to it and ignore the rest");
			log_hint("remove it; a file saved as UTF-16 has one in every character: save it as UTF-8");
			ps->errors++;
			return -1;
		}
		if (c == '\n') {
			line++;
			bol = true;
			i++;
		} else if (ps_blank(c)) {
			i++;
		} else if (ps_line_comment(t, len, i)) {
			while (i < len && t[i] != '\n' && t[i] != '\0')
				i++;
		} else if (c == '/' && i + 1 < len && t[i + 1] == '*') {
			if (!ps_block_comment(ps, file, t, len, &i, &line))
				return -1;
			bol = false;
		} else if (c == '"') {
			if (!ps_string(ps, file, line, t, len, &i))
				return -1;
			bol = false;
		} else if (c == '@' && bol && len - i >= 8 && strncmp(t + i, "@include", 8) == 0) {
			if (ps_include(ps, file, line, t, len, &i, depth) < 0) {
				ps_lose(ps);
				i++;
			}
			bol = false;
		} else if (strchr("=:;,{}()[]", c) != NULL) {
			ps_token(ps, file, line, c, NULL, 0);
			i++;
			bol = false;
		} else {
			j = ps_word_end(t, len, i);
			ps_token(ps, file, line, 0, t + i, j - i);
			i = j;
			bol = false;
		}
	}
	return 0;
}

static int
prescan_file(prescan *ps, const char *file, int depth)
{
	size_t len = 0;
	char *text = read_file(file, CONF_MAX_SIZE, &len);
	int rc;

	if (text == NULL) {
		log_error("could not read include file \"%s\": %s", file, strerror(errno));
		ps->errors++;
		return 0;
	}
	rc = prescan_text(ps, file, text, len, depth);
	free(text);
	return rc;
}

/* Pre-scan the main file's text; the number of problems found (each logged). */
static int
prescan_config(const char *path, const char *text, size_t len, const char *incdir)
{
	prescan ps;

	memset(&ps, 0, sizeof(ps));
	ps.incdir = incdir;
	ps.depth = 1;
	ps.stack[0].kind = '{';
	ps.stack[0].path = xstrdup("");
	(void) prescan_text(&ps, path, text, len, 0);
	ps_lose(&ps);
	return ps.errors;
}

/* Fill cfg with every key's default from the table; free with conf_free(). */
void
conf_defaults(kvp_config *cfg)
{
	int i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NOPTS; i++)
		opt_default(cfg, &opts[i]);
}

/* Apply the file at path over cfg; -1 (logged, cfg freed) on any error. */
int
conf_load(kvp_config *cfg, const char *path)
{
	config_t lc;
	char *text = NULL, *dir = NULL, *slash;
	int lines[ARRAY_SIZE(opts)];
	int errors = 0, rc = -1;
	size_t len = 0;

	memset(lines, 0, sizeof(lines));
	config_init(&lc);
	text = read_file(path, CONF_MAX_SIZE, &len);
	if (text == NULL) {
		log_error("could not open configuration file \"%s\": %s", path, strerror(errno));
		log_hint("give an existing file with -c FILE, or run without one to use the defaults");
		goto done;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		config_set_include_dir(&lc, dir[0] ? dir : "/");
	}
	if (prescan_config(path, text, len, slash ? (dir[0] ? dir : "/") : NULL) > 0)
		goto done;
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		const char *efile = config_error_file(&lc);

		log_error("%s:%d: %s", efile ? efile : path, config_error_line(&lc),
			  config_error_text(&lc));
		if (config_error_type(&lc) == CONFIG_ERR_PARSE)
			log_hint("write each setting as name = value; inside its group, strings in double quotes; "
				 "see kvpscan.conf(5)");
		goto done;
	}
	errors = apply_file(cfg, &lc, path, text, lines);
	if (errors == 0 && cross_checks(cfg, path, lines) < 0)
		errors++;
	if (errors == 0 && check_secrets(cfg, path, lines) < 0)
		errors++;
	if (errors > 0)
		goto done;
	free(cfg->source_file);
	cfg->source_file = xstrdup(path);
	rc = 0;
done:
	free(text);
	config_destroy(&lc);
	free(dir);
	if (rc < 0)
		conf_free(cfg);
	return rc;
}

/* Free every string and list cfg owns and zero it. */
void
conf_free(kvp_config *cfg)
{
	int i;

	for (i = 0; i < NOPTS; i++)
		opt_free(cfg, &opts[i]);
	free(cfg->source_file);
	memset(cfg, 0, sizeof(*cfg));
}

/* Load path afresh and apply its reloadable keys to cur; -1 keeps cur as it was. */
int
conf_reload(kvp_config *cur, const char *path)
{
	kvp_config next;
	int i, changed = 0;

	conf_defaults(&next);
	if (conf_load(&next, path) < 0) {
		log_error("configuration not reloaded, keeping the previous one");
		return -1;
	}
	for (i = 0; i < NOPTS; i++) {
		const opt *o = &opts[i];

		if (opt_equal(cur, &next, o))
			continue;
		if (o->reload) {
			opt_move(cur, &next, o);
			changed++;
		} else {
			log_warning("changing \"%s\" needs a restart, keeping the old value until then", o->name);
		}
	}
	free(cur->source_file);
	cur->source_file = next.source_file;
	next.source_file = NULL;
	conf_free(&next);
	log_info("configuration reloaded from \"%s\": %d keys changed", path, changed);
	return 0;
}

/* Print cfg in libconfig syntax, every key with its doc line, to out. */
void
conf_dump(const kvp_config *cfg, FILE *out)
{
	strbuf sb;
	int i;

	sb_init(&sb);
	sb_printf(&sb, "# kvpscan's effective configuration%s%s\n",
		  cfg->source_file ? ", from " : " (built-in defaults)",
		  cfg->source_file ? cfg->source_file : "");
	for (i = 0; i < NOPTS; i++) {
		const opt *o = &opts[i];
		size_t gl = group_len(o);

		if (i == 0 || gl != group_len(&opts[i - 1]) || strncmp(o->name, opts[i - 1].name, gl) != 0)
			sb_printf(&sb, "\n%.*s = {\n", (int) gl, o->name);
		sb_printf(&sb, "  # %s\n  %s = ", o->doc, leaf_name(o));
		opt_format(&sb, cfg, o, false);
		sb_puts(&sb, ";\n");
		if (i + 1 == NOPTS || group_len(&opts[i + 1]) != gl || strncmp(o->name, opts[i + 1].name, gl) != 0)
			sb_puts(&sb, "};\n");
	}
	fputs(sb_str(&sb), out);
	sb_free(&sb);
}

/* Hex SHA-256 of the identification and participation keys in canonical form; caller frees. */
char *
conf_fingerprint(const kvp_config *cfg)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char *result = NULL;
	strbuf sb;
	int k;

	sb_init(&sb);
	for (k = 0; k < NOPTS; k++) {
		const opt *o = &opts[k];

		if (!has_prefix(o->name, "identification.") && !has_prefix(o->name, "participation."))
			continue;
		sb_printf(&sb, "%s=", o->name);
		opt_format(&sb, cfg, o, true);
		sb_putc(&sb, '\n');
	}
	if (EVP_Digest(sb_str(&sb), sb.len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		log_error("could not compute the configuration fingerprint");
		goto done;
	}
	result = xmalloc(mdlen * 2 + 1);
	for (i = 0; i < mdlen; i++) {
		result[2 * i] = hex[md[i] >> 4];
		result[2 * i + 1] = hex[md[i] & 15];
	}
	result[2 * mdlen] = '\0';
done:
	sb_free(&sb);
	return result;
}

/* Dotted name of table entry i, NULL past the end; static storage. */
const char *
conf_key_name(int i)
{
	return i >= 0 && i < NOPTS ? opts[i].name : NULL;
}

/* Describe table entry i into *info (static strings); false past the end. */
bool
conf_key_describe(int i, conf_key_info *info)
{
	static const char *const types[] = {
		[OPT_STRING] = "string", [OPT_INT] = "integer", [OPT_BOOL] = "boolean",
		[OPT_DOUBLE] = "number", [OPT_ENUM] = "enum", [OPT_CODES] = "codes",
		[OPT_SECRET] = "secret",
	};
	const opt *o;

	if (i < 0 || i >= NOPTS)
		return false;
	o = &opts[i];
	memset(info, 0, sizeof(*info));
	info->name = o->name;
	info->type = types[o->type];
	info->numeric = o->type == OPT_INT || o->type == OPT_DOUBLE;
	info->min = o->min;
	info->max = o->max;
	info->allowed = o->allowed;
	info->reload = o->reload;
	return true;
}

/* 0 when every integer and number in cfg is inside its table range; else -1, logged. */
int
conf_check_ranges(const kvp_config *cfg)
{
	int i, errors = 0;

	for (i = 0; i < NOPTS; i++) {
		const opt *o = &opts[i];
		double v;

		if (o->type == OPT_INT)
			v = *f_int(CF(cfg), o);
		else if (o->type == OPT_DOUBLE)
			v = *f_dbl(CF(cfg), o);
		else
			continue;
		if (!(v >= o->min && v <= o->max)) {
			log_error("\"%s\" is %g, outside its range %g to %g", o->name, v, o->min, o->max);
			errors++;
		}
	}
	if (errors)
		log_hint("run \"kvpscan check-config\"");
	return errors ? -1 : 0;
}
