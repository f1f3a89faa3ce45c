/* test_conf.c - unit tests for the configuration loader (src/conf.c) */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "labels.h"
#include "log.h"
#include "mime.h"
#include "util.h"

static char tmpdir[] = "/tmp/kvpscan-test-conf.XXXXXX";
static int file_seq;

/* Write text to a new file in tmpdir with the given mode; caller frees the path. */
static char *
write_tmp(const char *name, const char *text, int mode)
{
	char *path;
	int fd;

	if (name)
		path = xasprintf("%s/%s", tmpdir, name);
	else
		path = xasprintf("%s/c%03d.conf", tmpdir, ++file_seq);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	ck_assert_int_eq(fchmod(fd, (mode_t) mode), 0);
	close(fd);
	return path;
}

/* Saved stderr while capturing. */
static int saved_stderr = -1;
static char *capture_path;

static void
capture_start(void)
{
	int fd;

	fflush(stderr);
	free(capture_path);
	capture_path = xasprintf("%s/log.txt", tmpdir);
	fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Stop capturing; returns what was logged (caller frees). */
static char *
capture_end(void)
{
	char *text;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	text = read_file(capture_path, 1 << 20, NULL);
	ck_assert_ptr_nonnull(text);
	return text;
}

/* Load text as a config file; the log goes to *logp (caller frees). Returns conf_load's result. */
static int
load_text(const char *text, kvp_config *cfg, char **logp, char **pathp)
{
	char *path = write_tmp(NULL, text, 0600);
	int rc;

	conf_defaults(cfg);
	capture_start();
	rc = conf_load(cfg, path);
	*logp = capture_end();
	if (pathp)
		*pathp = path;
	else
		free(path);
	return rc;
}

/* ---------------------------------------------------------------- defaults */

/* The worklist and report words follow the participation settings (labels.c). */
START_TEST(test_labels)
{
	kvp_config c;
	kvp_labels l;

	conf_defaults(&c);
	labels_init(&l, &c);
	ck_assert_str_eq(label_of(&l, "NOT_FULL_TIME"), "under 37,5 timer");
	ck_assert_str_eq(label_of(&l, "OVER_DURATION"), "over 2 år");
	ck_assert_str_eq(label_of(&l, "AEV_MISSING"), "mangler arbeidsevnevurdering");
	ck_assert_str_eq(label_of(&l, "SOMETHING_NEW"), "SOMETHING_NEW");
	c.part_min_hours = 30;
	c.part_max_duration_months = 18;
	labels_init(&l, &c);
	ck_assert_str_eq(label_of(&l, "NOT_FULL_TIME"), "under 30 timer");
	ck_assert_str_eq(label_of(&l, "OVER_DURATION"), "over 18 måneder");
	c.part_max_duration_months = 1;
	labels_init(&l, &c);
	ck_assert_str_eq(label_of(&l, "OVER_DURATION"), "over 1 måned");
	conf_free(&c);
}
END_TEST

START_TEST(test_defaults)
{
	kvp_config c;

	conf_defaults(&c);
	ck_assert_ptr_null(c.source_file);
	ck_assert_str_eq(c.log_ident, "kvpscan");
	ck_assert_str_eq(c.log_facility, "daemon");
	ck_assert_str_eq(c.log_level, "info");
	ck_assert_str_eq(c.log_destination, "auto");
	ck_assert_str_eq(c.db_conninfo, "");
	ck_assert_str_eq(c.db_password_file, "");
	ck_assert_str_eq(c.db_source_schema, "kvp_src");
	ck_assert_str_eq(c.db_state_schema, "kvpscan");
	ck_assert_int_eq(c.id_window_months, 12);
	ck_assert_int_eq(c.id_long_term_more_than, 4);
	ck_assert(!c.id_consecutive);
	ck_assert_int_eq(c.id_payment_kinds.count, 0);
	ck_assert_int_eq(c.id_min_age, 18);
	ck_assert_int_eq(c.id_max_age, 66);
	ck_assert_int_eq(c.id_special_needs_groups.count, 1);
	ck_assert_str_eq(c.id_special_needs_groups.items[0], "SPESIELT_TILPASSET_INNSATS");
	ck_assert_int_eq(c.id_excluded_benefits.count, 2);
	ck_assert_str_eq(c.id_excluded_benefits.items[0], "AAP");
	ck_assert_str_eq(c.id_excluded_benefits.items[1], "UFORETRYGD");
	ck_assert_int_eq(c.id_informed_valid_days, 365);
	ck_assert_int_eq(c.id_assessed_valid_days, 365);
	ck_assert(!c.id_exclude_previous_participation);
	ck_assert_double_eq(c.part_min_hours, 37.5);
	ck_assert_int_eq(c.part_max_duration_months, 24);
	ck_assert_str_eq(c.del_send, "all_open");
	ck_assert_int_eq(c.del_max_attempts, 20);
	ck_assert_int_eq(c.del_backoff_initial, 60);
	ck_assert_int_eq(c.del_backoff_max, 21600);
	ck_assert_int_eq(c.del_concurrency, 8);
	ck_assert_str_eq(c.del_channel, "spool");
	ck_assert_str_eq(c.wh_url, "");
	ck_assert_str_eq(c.wh_secret_file, "");
	ck_assert_str_eq(c.wh_secret_previous_file, "");
	ck_assert(c.wh_verify_tls);
	ck_assert(!c.wh_allow_insecure_http);
	ck_assert_int_eq(c.wh_connect_timeout, 10);
	ck_assert_int_eq(c.wh_timeout, 30);
	ck_assert_str_eq(c.mail_smtp_url, "smtp://localhost:25");
	ck_assert_str_eq(c.mail_from, "kvpscan@localhost");
	ck_assert_str_eq(c.mail_username, "");
	ck_assert_str_eq(c.mail_starttls, "required");
	ck_assert(c.mail_verify_tls);
	ck_assert_int_eq(c.mail_timeout, 60);
	ck_assert_str_eq(c.spool_directory, "/var/spool/kvpscan");
	ck_assert_str_eq(c.dmn_scan_at, "02:30");
	ck_assert_str_eq(c.dmn_report_day, "monday");
	ck_assert_str_eq(c.dmn_report_at, "07:00");
	ck_assert(c.dmn_catch_up);
	ck_assert_str_eq(c.dmn_timezone, "Europe/Oslo");
	ck_assert_str_eq(c.dmn_metrics_file, "");
	ck_assert_int_eq(c.dmn_retry_interval, 300);
	ck_assert_int_eq(c.rep_escalate_after_days, 30);
	ck_assert_str_eq(c.rep_municipality_email, "");
	ck_assert(!c.rep_webhook);
	conf_free(&c);
	ck_assert_ptr_null(c.log_ident);
}
END_TEST

START_TEST(test_key_names)
{
	int i, j, n = 0;

	for (i = 0; conf_key_name(i) != NULL; i++) {
		const char *k = conf_key_name(i);

		ck_assert_ptr_nonnull(strchr(k, '.'));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(conf_key_name(j), k);
		n++;
	}
	ck_assert_int_ge(n, 55);
	ck_assert_ptr_null(conf_key_name(-1));
	ck_assert_ptr_null(conf_key_name(n));
}
END_TEST

/* ---------------------------------------------------------------- bad configs */

static const struct bad_case {
	const char *text;
	const char *fragment;   /* expected after the file name */
	const char *hint;       /* a second fragment (hint), or NULL */
} bad_cases[] = {
	{"identification = {\n  windw_months = 12;\n};\n",
	 ":2: unknown key \"identification.windw_months\"", "did you mean \"identification.window_months\"?"},
	{"# comment\nidentifcation = {\n  window_months = 12;\n};\n",
	 ":2: unknown group \"identifcation\"", "did you mean \"identification\"?"},
	{"zzz = { a = 1; };\n", ":1: unknown group \"zzz\"", "the groups are: log, database"},
	{"window_months = 12;\n", ":1: unknown key \"window_months\"", "did you mean \"identification.window_months\"?"},
	{"identification = {\n\n  window_months = \"12\";\n};\n",
	 ":3: \"identification.window_months\" must be an integer, not a string", "window_months = 12;"},
	{"identification = { window_months = 0; };\n",
	 ":1: value 0 for \"identification.window_months\" is out of range", "from 1 to 62"},
	{"identification = {\n window_months = 121;\n};\n",
	 ":2: value 121 for \"identification.window_months\" is out of range", NULL},
	/* the scan's limit is the table's: 62 months (payments.sql's bigint mask) */
	{"identification = {\n window_months = 63;\n long_term_more_than = 4;\n};\n",
	 ":2: value 63 for \"identification.window_months\" is out of range", "from 1 to 62"},
	{"identification = {\n window_months = 62;\n long_term_more_than = 62;\n};\n",
	 ":3: value 62 for \"identification.long_term_more_than\" is out of range", "from 0 to 61"},
	{"identification = {\n window_months = 99999999999L;\n};\n",
	 ":2: value 99999999999 for \"identification.window_months\" is out of range", NULL},
	{"identification = {\n window_months = 4294967308;\n};\n",
	 ":2: value 4294967308 for \"identification.window_months\" is out of range", NULL},
	{"identification = {\n min_age = 18; max_age: 4294967362;\n};\n",
	 ":2: value 4294967362 for \"identification.max_age\" is out of range", NULL},
	{"participation = {\n min_hours = 4294967306;\n};\n",
	 ":2: value 4294967306 for \"participation.min_hours\" is out of range", NULL},
	{"identification = {\n window_months = 12.5;\n};\n",
	 ":2: \"identification.window_months\" must be an integer, not a decimal number", NULL},
	{"delivery = {\n\n\n send = \"everything\";\n};\n",
	 ":4: invalid value \"everything\" for \"delivery.send\"", "the allowed values are: new, all_open"},
	{"log = { level = \"verbose\"; };\n",
	 ":1: invalid value \"verbose\" for \"log.level\"", "error, warning, notice, info, debug"},
	{"identification = {\n consecutive = \"yes\";\n};\n",
	 ":2: \"identification.consecutive\" must be a boolean, not a string", "write true or false"},
	{"participation = {\n min_hours = \"37.5\";\n};\n",
	 ":2: \"participation.min_hours\" must be a number, not a string", NULL},
	{"participation = {\n min_hours = 200.0;\n};\n",
	 ":2: value 200 for \"participation.min_hours\" is out of range", "from 0 to 168"},
	{"identification = {\n excluded_benefits = [ \"aap\" ];\n};\n",
	 ":2: invalid code \"aap\" in \"identification.excluded_benefits\"", "upper-case"},
	{"identification = {\n payment_kinds = [ \"LIVSOPPHOLD\", \"LIVSOPPHOLD\" ];\n};\n",
	 ":2: code \"LIVSOPPHOLD\" appears twice in \"identification.payment_kinds\"", NULL},
	{"identification = {\n special_needs_groups = [ 1, 2 ];\n};\n",
	 ":2: \"identification.special_needs_groups\" must be a list of strings", NULL},
	{"identification = {\n special_needs_groups = \"SPESIELT_TILPASSET_INNSATS\";\n};\n",
	 ":2: \"identification.special_needs_groups\" must be a list of strings, not a string", NULL},
	{"daemon = {\n scan_at = \"24:00\";\n};\n",
	 ":2: invalid value \"24:00\" for \"daemon.scan_at\"", "HH:MM"},
	{"daemon = {\n report_at = \"7:00\";\n};\n",
	 ":2: invalid value \"7:00\" for \"daemon.report_at\"", NULL},
	{"daemon = {\n report_day = \"weekly\";\n};\n",
	 ":2: invalid value \"weekly\" for \"daemon.report_day\"", "monday, tuesday"},
	{"daemon = {\n timezone = \"Europe/../../etc/passwd\";\n};\n",
	 ":2: invalid value \"Europe/../../etc/passwd\" for \"daemon.timezone\"", NULL},
	{"database = {\n source_schema = \"Kvp-Src\";\n};\n",
	 ":2: invalid value \"Kvp-Src\" for \"database.source_schema\"", "SQL identifier"},
	{"database = {\n state_schema = \"1abc\";\n};\n",
	 ":2: invalid value \"1abc\" for \"database.state_schema\"", NULL},
	{"database = {\n state_schema = \"kvp_src\";\n};\n",
	 ":2: \"database.source_schema\" and \"database.state_schema\" are both \"kvp_src\"", NULL},
	{"identification = {\n window_months = 6;\n long_term_more_than = 6;\n};\n",
	 ":3: \"identification.long_term_more_than\" (6) must be less than \"identification.window_months\" (6)",
	 NULL},
	{"identification = {\n min_age = 40;\n max_age = 30;\n};\n",
	 ":3: \"identification.min_age\" (40) must not be greater than \"identification.max_age\" (30)", NULL},
	{"delivery = {\n backoff_initial = 7200;\n backoff_max = 3600;\n};\n",
	 ":3: \"delivery.backoff_initial\" (7200) must not be greater than \"delivery.backoff_max\" (3600)", NULL},
	{"delivery = {\n concurrency = 65;\n};\n",
	 ":2: value 65 for \"delivery.concurrency\" is out of range", "from 1 to 64"},
	{"delivery = {\n channel = \"fax\";\n};\n",
	 ":2: invalid value \"fax\" for \"delivery.channel\"", "webhook, email, spool"},
	{"webhook = {\n url = \"http://example.invalid/hook\";\n};\n",
	 ":2: \"webhook.url\" must use https", "allow_insecure_http"},
	{"webhook = {\n url = \"ftp://example.invalid/\";\n};\n",
	 ":2: invalid value \"ftp://example.invalid/\" for \"webhook.url\"", NULL},
	{"delivery = {\n channel = \"webhook\";\n};\n",
	 ":2: \"webhook.url\" is not set but the webhook is used", NULL},
	{"email = {\n smtp_url = \"http://mail.example.invalid\";\n};\n",
	 ":2: invalid value \"http://mail.example.invalid\" for \"email.smtp_url\"", "smtp://"},
	{"email = {\n from = \"nobody\";\n};\n",
	 ":2: invalid value \"nobody\" for \"email.from\"", "mail address"},
	{"email = {\n starttls = \"maybe\";\n};\n",
	 ":2: invalid value \"maybe\" for \"email.starttls\"", "required, off"},
	{"log = 5;\n", ":1: \"log\" must be a group, not an integer", NULL},
	{"log = {\n  level = \"info\";\n  ident = = \"x\";\n};\n", ":3: syntax error", "see kvpscan.conf(5)"},
	/* an unclosed string is reported where it starts, not where the file ends */
	{"log = {\n  level = \"info;\n};\n", ":2: string is not closed on the line it starts",
	 "adjacent strings"},
	{"log = { level = \"info\"; };\ndatabase = {\n conninfo = \"dbname=kvp;\n};\n\n\n",
	 ":3: string is not closed on the line it starts", NULL},
	/* an unclosed comment would drop the rest of the file */
	{"log = { level = \"info\"; };\n\n/* the database\ndatabase = { conninfo = \"dbname=kvp\"; };\n",
	 ":3: comment \"/*\" is not closed", "libconfig would ignore everything after it"},
	{"log = { ident = \"a/*b\"; }; # /* not a comment here\n/**/ database = {\n /* x */ conninfo = 5;\n};\n",
	 ":3: \"database.conninfo\" must be a string, not an integer", NULL},
	/* a setting set twice is named, with where it was set first */
	{"log = {\n  level = \"info\";\n  level = \"debug\";\n};\n",
	 ":3: \"log.level\" is set twice", "it was first set at "},
	{"log = { level = \"info\"; };\n\nlog = { ident = \"x\"; };\n",
	 ":3: \"log\" is set twice", "put all the keys of a group in one \"log = { ... };\" block"},
	{"log = { ident = \"a\" \"b\"; level = \"info\";\n level : \"error\"; };\n",
	 ":2: \"log.level\" is set twice", NULL},
	/* a missing include file is named */
	{"log = { level = \"info\"; };\n@include \"no-such-part.inc\"\n",
	 ":2: cannot open include file \"", "no-such-part.inc\": No such file or directory"},
	{"@include \"/etc/kvpscan/part.inc\"\n",
	 ":1: include file \"/etc/kvpscan/part.inc\" is an absolute path", "relative to the directory"},
	/* a zone check-config accepts is one the daemon can set */
	{"daemon = {\n timezone = \"Europe/Atlantis\";\n};\n",
	 ":2: invalid value \"Europe/Atlantis\" for \"daemon.timezone\"", "no such time zone in /usr/share/zoneinfo"},
	{"daemon = {\n timezone = \"Europe\";\n};\n",
	 ":2: invalid value \"Europe\" for \"daemon.timezone\"", "names no time zone file (TZif)"},
	/* email.from: the email channel's own parser */
	{"email = {\n from = \"kvp@b\xc3\xa6rum.kommune.no\";\n};\n",
	 ":2: invalid value \"kvp@b\xc3\xa6rum.kommune.no\" for \"email.from\"",
	 "DETAIL:  the domain holds a non-ASCII character"},
	{"email = {\n from = \"NAV \xff <kvp@bergen.kommune.no>\";\n};\n",
	 ":2: invalid value \"NAV \\xff <kvp@bergen.kommune.no>\" for \"email.from\"",
	 "DETAIL:  the display name is not valid UTF-8"},
	{"email = {\n from = \"NAV\\tBergen <kvp@bergen.kommune.no>\";\n};\n",
	 ":2: invalid value \"NAV\\x09Bergen <kvp@bergen.kommune.no>\" for \"email.from\"",
	 "DETAIL:  the display name holds a control character"},
	{"email = {\n from = \"kvp@@bergen.no\";\n};\n",
	 ":2: invalid value \"kvp@@bergen.no\" for \"email.from\"", "more than one \"@\""},
	{"report = {\n municipality_email = \"NAV <kvp@bergen.kommune.no>\";\n};\n",
	 ":2: invalid value \"NAV <kvp@bergen.kommune.no>\" for \"report.municipality_email\"",
	 "without a display name"},
	{"database = {\n password_file = \"/nonexistent/kvpscan/pw\";\n};\n",
	 ":2: could not open secret file \"/nonexistent/kvpscan/pw\" for database.password_file", NULL},
	{"spool = {\n directory = \"\";\n};\n", ":2: invalid value \"\" for \"spool.directory\"", NULL},
	{"report = {\n escalate_after_days = -1;\n};\n",
	 ":2: value -1 for \"report.escalate_after_days\" is out of range", NULL},
};

START_TEST(test_bad_config)
{
	const struct bad_case *bc = &bad_cases[_i];
	kvp_config c;
	char *log = NULL, *path = NULL, *want;
	int rc;

	rc = load_text(bc->text, &c, &log, &path);
	ck_assert_msg(rc == -1, "config should be refused:\n%s", bc->text);
	ck_assert_ptr_null(c.log_ident);        /* freed on error */
	want = xasprintf("%s%s", path, bc->fragment);
	ck_assert_msg(strstr(log, want) != NULL, "expected [%s] in log:\n%s", want, log);
	ck_assert_msg(strstr(log, "kvpscan: error: ") != NULL, "no error prefix in:\n%s", log);
	if (bc->hint)
		ck_assert_msg(strstr(log, bc->hint) != NULL, "expected hint [%s] in log:\n%s", bc->hint, log);
	free(want);
	free(path);
	free(log);
	conf_free(&c);
}
END_TEST

START_TEST(test_missing_file)
{
	kvp_config c;
	char *log, *path = xasprintf("%s/does-not-exist.conf", tmpdir);

	conf_defaults(&c);
	capture_start();
	ck_assert_int_eq(conf_load(&c, path), -1);
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "could not open configuration file"));
	ck_assert_ptr_nonnull(strstr(log, "No such file"));
	free(log);
	free(path);
}
END_TEST

/* The fixtures in tests/conf: bad-*.conf name on their first line "# expect: FRAGMENT". */
START_TEST(test_fixture_files)
{
	const char *top = getenv("top_srcdir");
	char *dirpath = xasprintf("%s/tests/conf", top && top[0] ? top : "..");
	DIR *d = opendir(dirpath);
	struct dirent *de;
	int bad = 0, good = 0;

	ck_assert_msg(d != NULL, "cannot open %s (set top_srcdir)", dirpath);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *path, *text, *log = NULL, *nl, *want;
		kvp_config c;
		int rc;

		if (n < 6 || strcmp(de->d_name + n - 5, ".conf") != 0)
			continue;
		path = xasprintf("%s/%s", dirpath, de->d_name);
		text = read_file(path, 1 << 20, NULL);
		ck_assert_ptr_nonnull(text);
		conf_defaults(&c);
		capture_start();
		rc = conf_load(&c, path);
		log = capture_end();
		if (strncmp(de->d_name, "bad-", 4) == 0) {
			ck_assert_msg(strncmp(text, "# expect: ", 10) == 0, "%s lacks # expect:", path);
			nl = strchr(text, '\n');
			ck_assert_ptr_nonnull(nl);
			*nl = '\0';
			want = xasprintf("%s%s", path, text + 10);
			ck_assert_msg(rc == -1, "%s should be refused", path);
			ck_assert_msg(strstr(log, want) != NULL, "%s: expected [%s] in:\n%s", path, want, log);
			free(want);
			bad++;
		} else if (strncmp(de->d_name, "good-", 5) == 0) {
			ck_assert_msg(rc == 0, "%s should load:\n%s", path, log);
			good++;
		}
		conf_free(&c);
		free(log);
		free(text);
		free(path);
	}
	closedir(d);
	free(dirpath);
	ck_assert_int_ge(bad, 5);
	ck_assert_int_ge(good, 1);
}
END_TEST

/* ---------------------------------------------------------------- good configs */

START_TEST(test_good_config)
{
	static const char text[] =
		"# a municipality's settings\n"
		"log: { ident = \"kvp-oslo\"; level = \"debug\"; destination = \"stderr\"; facility = \"local3\"; };\n"
		"database = {\n"
		"  conninfo = \"host=/tmp dbname=kvp\";\n"
		"  source_schema = \"oslo_src\";\n"
		"  state_schema = \"_kvp_state1\";\n"
		"  statement_timeout = 600;\n"
		"};\n"
		"identification = {\n"
		"  window_months = 24;\n"
		"  long_term_more_than = 6;\n"
		"  consecutive = true;\n"
		"  payment_kinds = [ \"LIVSOPPHOLD\", \"BOUTGIFTER\" ];\n"
		"  min_age = 20; max_age = 62;\n"
		"  special_needs_groups = [ ];\n"
		"  excluded_benefits = ( \"AAP\", \"UFORETRYGD\", \"DAGPENGER\" );\n"
		"  informed_valid_days = 180;\n"
		"  exclude_previous_participation = true;\n"
		"};\n"
		"participation = { min_hours = 30; max_duration_months = 36; };\n"
		"delivery = { send = \"new\"; channel = \"email\"; concurrency = 1; };\n"
		"webhook = { url = \"http://127.0.0.1:8080/hook\"; allow_insecure_http = true; };\n"
		"email = { smtp_url = \"smtps://mail.example.invalid:465\"; from = \"NAV \\\"Oslo\\\" \xc3\x98st <kvp@oslo.kommune.no>\"; starttls = \"off\"; };\n"
		"daemon = { scan_at = \"23:59\"; report_day = \"monthly\"; report_at = \"00:00\"; catch_up = false; timezone = \"UTC\"; };\n"
		"report = { escalate_after_days = 14; municipality_email = \"kvp@oslo.kommune.no\"; webhook = true; };\n";
	kvp_config c;
	char *log, *path;

	ck_assert_int_eq(load_text(text, &c, &log, &path), 0);
	ck_assert_str_eq(log, "");
	ck_assert_str_eq(c.source_file, path);
	ck_assert_str_eq(c.log_ident, "kvp-oslo");
	ck_assert_str_eq(c.log_level, "debug");
	ck_assert_str_eq(c.log_facility, "local3");
	ck_assert_str_eq(c.db_conninfo, "host=/tmp dbname=kvp");
	ck_assert_str_eq(c.db_source_schema, "oslo_src");
	ck_assert_str_eq(c.db_state_schema, "_kvp_state1");
	ck_assert_int_eq(c.db_statement_timeout, 600);
	ck_assert_int_eq(c.db_connect_timeout, 10);     /* untouched keys keep defaults */
	ck_assert_int_eq(c.id_window_months, 24);
	ck_assert_int_eq(c.id_long_term_more_than, 6);
	ck_assert(c.id_consecutive);
	ck_assert_int_eq(c.id_payment_kinds.count, 2);
	ck_assert_str_eq(c.id_payment_kinds.items[1], "BOUTGIFTER");
	ck_assert_int_eq(c.id_min_age, 20);
	ck_assert_int_eq(c.id_max_age, 62);
	ck_assert_int_eq(c.id_special_needs_groups.count, 0);
	ck_assert_int_eq(c.id_excluded_benefits.count, 3);
	ck_assert_str_eq(c.id_excluded_benefits.items[2], "DAGPENGER");
	ck_assert_int_eq(c.id_informed_valid_days, 180);
	ck_assert_int_eq(c.id_assessed_valid_days, 365);
	ck_assert(c.id_exclude_previous_participation);
	ck_assert_double_eq(c.part_min_hours, 30.0);
	ck_assert_int_eq(c.part_max_duration_months, 36);
	ck_assert_str_eq(c.del_send, "new");
	ck_assert_str_eq(c.del_channel, "email");
	ck_assert_int_eq(c.del_concurrency, 1);
	ck_assert_str_eq(c.wh_url, "http://127.0.0.1:8080/hook");
	ck_assert(c.wh_allow_insecure_http);
	ck_assert_str_eq(c.mail_smtp_url, "smtps://mail.example.invalid:465");
	ck_assert_str_eq(c.mail_starttls, "off");
	ck_assert_str_eq(c.mail_from, "NAV \"Oslo\" \xc3\x98st <kvp@oslo.kommune.no>");
	ck_assert_str_eq(c.dmn_scan_at, "23:59");
	ck_assert_str_eq(c.dmn_report_day, "monthly");
	ck_assert_str_eq(c.dmn_report_at, "00:00");
	ck_assert(!c.dmn_catch_up);
	ck_assert_str_eq(c.dmn_timezone, "UTC");
	ck_assert_int_eq(c.rep_escalate_after_days, 14);
	ck_assert(c.rep_webhook);
	free(log);
	free(path);
	conf_free(&c);
}
END_TEST

START_TEST(test_include_and_empty)
{
	kvp_config c;
	char *log, *inc, *text;

	ck_assert_int_eq(load_text("", &c, &log, NULL), 0);
	ck_assert_int_eq(c.id_window_months, 12);
	free(log);
	conf_free(&c);

	inc = write_tmp("included.inc", "identification = { window_months = 18; };\n", 0600);
	text = xasprintf("@include \"included.inc\"\nlog = { level = \"warning\"; };\n");
	ck_assert_int_eq(load_text(text, &c, &log, NULL), 0);
	ck_assert_int_eq(c.id_window_months, 18);
	ck_assert_str_eq(c.log_level, "warning");
	free(log);
	conf_free(&c);
	free(text);

	/* an error in an included file names that file and its line */
	free(inc);
	inc = write_tmp("included.inc", "\nidentification = { window_monthz = 18; };\n", 0600);
	text = xasprintf("@include \"included.inc\"\n");
	ck_assert_int_eq(load_text(text, &c, &log, NULL), -1);
	ck_assert_msg(strstr(log, "included.inc:2: unknown key \"identification.window_monthz\"") != NULL,
		      "log: %s", log);
	free(log);
	free(text);
	free(inc);
}
END_TEST

/* A NUL byte would end libconfig's reading of the file: refused with its line, in an included file too. */
START_TEST(test_nul_byte)
{
	static const char text[] = "log = { level = \"info\"; };\n\n# x\0y\ndatabase = { conninfo = \"dbname=kvp\"; };\n";
	kvp_config c;
	char *path = xasprintf("%s/nul.conf", tmpdir), *inc, *log, *want;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, sizeof(text) - 1), 0);
	close(fd);
	conf_defaults(&c);
	capture_start();
	ck_assert_int_eq(conf_load(&c, path), -1);
	log = capture_end();
	want = xasprintf("%s:3: the file holds a NUL byte", path);
	ck_assert_msg(strstr(log, want) != NULL, "expected [%s] in:\n%s", want, log);
	free(want);
	free(log);

	inc = write_tmp("main-nul.conf", "log = { level = \"info\"; };\n@include \"nul.conf\"\n", 0600);
	conf_defaults(&c);
	capture_start();
	ck_assert_int_eq(conf_load(&c, inc), -1);
	log = capture_end();
	want = xasprintf("%s:3: the file holds a NUL byte", path);
	ck_assert_msg(strstr(log, want) != NULL, "expected [%s] in:\n%s", want, log);
	free(want);
	free(log);
	free(inc);
	free(path);
}
END_TEST

/* What the pre-scan must not refuse: comments of every kind, comment marks in strings, adjacent strings. */
START_TEST(test_prescan_good)
{
	static const char text[] =
		"# a comment with \"an odd quote\n"
		"// and /* this is no block comment\n"
		"log = { /* one\n line\n two */ level = \"debug\"; ident = \"kvp\" \"/*scan\"; };\n"
		"database = {\n"
		"  conninfo = \"host=/tmp # dbname=kvp // x\"; # trailing\n"
		"  statement_timeout = 60;  // trailing\n"
		"};\n"
		"identification = { payment_kinds = [ \"LIVSOPPHOLD\", \"BOUTGIFTER\" ];\n"
		"  excluded_benefits = ( \"AAP\" ); };\n"
		"email = { from = \"\\\"NAV, Bergen\\\" <kvp@bergen.kommune.no>\"; };\n";
	kvp_config c;
	char *log, *inc, *text2;

	ck_assert_int_eq(load_text(text, &c, &log, NULL), 0);
	ck_assert_str_eq(log, "");
	ck_assert_str_eq(c.log_level, "debug");
	ck_assert_str_eq(c.log_ident, "kvp/*scan");
	ck_assert_str_eq(c.db_conninfo, "host=/tmp # dbname=kvp // x");
	ck_assert_int_eq(c.db_statement_timeout, 60);
	ck_assert_int_eq(c.id_payment_kinds.count, 2);
	ck_assert_int_eq(c.id_excluded_benefits.count, 1);
	ck_assert_str_eq(c.mail_from, "\"NAV, Bergen\" <kvp@bergen.kommune.no>");
	free(log);
	conf_free(&c);

	/* an include inside a group, and a key set in the include and again after it */
	inc = write_tmp("part.inc", "  level = \"error\";\n", 0600);
	ck_assert_int_eq(load_text("log = {\n@include \"part.inc\"\n ident = \"x\";\n};\n", &c, &log, NULL), 0);
	ck_assert_str_eq(c.log_level, "error");
	free(log);
	conf_free(&c);
	text2 = xasprintf("log = {\n@include \"part.inc\"\n level = \"info\";\n};\n");
	ck_assert_int_eq(load_text(text2, &c, &log, NULL), -1);
	ck_assert_msg(strstr(log, ":3: \"log.level\" is set twice") != NULL, "log: %s", log);
	ck_assert_msg(strstr(log, "it was first set at ") != NULL && strstr(log, "part.inc:1") != NULL,
		      "log: %s", log);
	free(log);
	free(text2);
	free(inc);

	/* an unclosed comment in an included file is reported there */
	inc = write_tmp("open-comment.inc", "log = { level = \"info\"; };\n\n/* x\n", 0600);
	ck_assert_int_eq(load_text("@include \"open-comment.inc\"\ndatabase = { conninfo = \"x\"; };\n",
				   &c, &log, NULL), -1);
	ck_assert_msg(strstr(log, "open-comment.inc:3: comment \"/*\" is not closed") != NULL, "log: %s", log);
	free(log);
	free(inc);
}
END_TEST

/* email.from: check-config accepts exactly what the email channel's parser sends with. */
START_TEST(test_sender_same_parser)
{
	static const char *const addrs[] = {
		"kvp@bergen.kommune.no", "NAV Bergen <kvp@bergen.kommune.no>", "<kvp@bergen.kommune.no>",
		"NAV B\xc3\xa6rum <kvp@baerum.kommune.no>", "kvp@b\xc3\xa6rum.no", "kvp@", "@bergen.no",
		"a b@c.no", "NAV <kvp@bergen.no", "kvp@bergen.no> x", "kvp..x@bergen.no", "x@y@z.no",
		"NAV \xc3 <kvp@bergen.no>", "kvp@bergen.no.", "kvp(x)@bergen.no", "",
	};
	size_t i;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		char *text = xasprintf("email = { from = \"%s\"; };\n", addrs[i]);
		char *log = NULL, *a = mime_parse_address(addrs[i], NULL);
		kvp_config c;
		int rc = load_text(text, &c, &log, NULL);

		ck_assert_msg((rc == 0) == (a != NULL), "[%s]: conf_load %d, the channel's parser %s:\n%s",
			      addrs[i], rc, a ? "accepts" : "refuses", log);
		if (rc == 0)
			conf_free(&c);
		free(a);
		free(log);
		free(text);
	}
}
END_TEST

/* ---------------------------------------------------------------- reload */

START_TEST(test_reload)
{
	kvp_config cur;
	char *log, *good2, *bad;
	int rc;

	ck_assert_int_eq(load_text("identification = { window_months = 12; };\n", &cur, &log, NULL), 0);
	free(log);

	good2 = write_tmp(NULL,
			  "identification = { window_months = 24; };\n"
			  "daemon = { scan_at = \"03:15\"; };\n"
			  "database = { source_schema = \"other_src\"; };\n", 0600);
	capture_start();
	rc = conf_reload(&cur, good2);
	log = capture_end();
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(cur.id_window_months, 24);
	ck_assert_str_eq(cur.dmn_scan_at, "03:15");
	ck_assert_str_eq(cur.db_source_schema, "kvp_src");        /* not reloadable */
	ck_assert_str_eq(cur.source_file, good2);
	ck_assert_msg(strstr(log, "warning: changing \"database.source_schema\" needs a restart") != NULL,
		      "log: %s", log);
	free(log);

	bad = write_tmp(NULL, "identification = {\n  window_months = 0;\n};\n", 0600);
	capture_start();
	rc = conf_reload(&cur, bad);
	log = capture_end();
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(cur.id_window_months, 24);               /* old config kept */
	ck_assert_str_eq(cur.dmn_scan_at, "03:15");
	ck_assert_str_eq(cur.source_file, good2);
	ck_assert_ptr_nonnull(strstr(log, ":2: value 0 for \"identification.window_months\" is out of range"));
	ck_assert_ptr_nonnull(strstr(log, "keeping the previous one"));
	free(log);
	free(good2);
	free(bad);
	conf_free(&cur);
}
END_TEST

/* ---------------------------------------------------------------- secrets */

START_TEST(test_secret_permissions)
{
	char *loose = write_tmp("loose.secret", "hunter2\n", 0644);
	char *tight = write_tmp("tight.secret", "hunter2\n", 0600);
	char *empty = write_tmp("empty.secret", "\n", 0600);
	char *s, *log, *text;
	bool failed = false;
	kvp_config c;

	unsetenv("CREDENTIALS_DIRECTORY");
	capture_start();
	s = secret_read(loose, "db_password", &failed);
	log = capture_end();
	ck_assert_ptr_null(s);
	ck_assert(failed);
	ck_assert_ptr_nonnull(strstr(log, "is accessible by group or others"));
	text = xasprintf("chmod 600 %s", loose);
	ck_assert_ptr_nonnull(strstr(log, text));
	free(text);
	free(log);

	s = secret_read(tight, "db_password", &failed);
	ck_assert(!failed);
	ck_assert_str_eq(s, "hunter2");
	free(s);

	capture_start();
	s = secret_read(empty, "db_password", &failed);
	log = capture_end();
	ck_assert(failed);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(log, "is empty"));
	free(log);

	s = secret_read("", "db_password", &failed);
	ck_assert_ptr_null(s);
	ck_assert(!failed);

	/* conf_load checks secret files, with the line of the key */
	text = xasprintf("email = {\n  username = \"kvp\";\n  password_file = \"%s\";\n};\n", loose);
	ck_assert_int_eq(load_text(text, &c, &log, NULL), -1);
	ck_assert_msg(strstr(log, ":3: secret file") != NULL, "log: %s", log);
	ck_assert_ptr_nonnull(strstr(log, "chmod 600"));
	free(log);
	free(text);
	text = xasprintf("email = {\n  password_file = \"%s\";\n};\n", tight);
	ck_assert_int_eq(load_text(text, &c, &log, NULL), 0);
	ck_assert_str_eq(c.mail_password_file, tight);
	conf_free(&c);
	free(log);
	free(text);

	free(loose);
	free(tight);
	free(empty);
}
END_TEST

START_TEST(test_secret_credentials)
{
	char *credir = xasprintf("%s/creds", tmpdir);
	char *cred, *file = write_tmp("file.secret", "from-file\n", 0600);
	char *loose = write_tmp("loose2.secret", "x\n", 0644);
	char *s, *log, *text;
	bool failed = true;
	kvp_config c;

	mkdir(credir, 0700);
	cred = write_tmp("creds/db_password", "from-credential\n", 0400);
	setenv("CREDENTIALS_DIRECTORY", credir, 1);
	s = secret_read(file, "db_password", &failed);
	ck_assert(!failed);
	ck_assert_str_eq(s, "from-credential");
	free(s);
	/* the credential wins even when no file is configured */
	s = secret_read("", "db_password", &failed);
	ck_assert_str_eq(s, "from-credential");
	free(s);
	/* another credential name falls back to the file */
	s = secret_read(file, "smtp_password", &failed);
	ck_assert(!failed);
	ck_assert_str_eq(s, "from-file");
	free(s);
	/* the webhook channel needs a secret: a credential will do */
	ck_assert_int_eq(load_text("delivery = { channel = \"webhook\"; };\n"
				   "webhook = { url = \"https://hook.example.invalid/\"; };\n", &c, &log, NULL), -1);
	ck_assert_msg(strstr(log, ":1: \"webhook.secret_file\" is not set") != NULL, "log: %s", log);
	free(log);
	free(write_tmp("creds/webhook_secret", "whsec_test\n", 0400));
	ck_assert_int_eq(load_text("delivery = { channel = \"webhook\"; };\n"
				   "webhook = { url = \"https://hook.example.invalid/\"; };\n", &c, &log, NULL), 0);
	conf_free(&c);
	free(log);
	s = secret_read("", "webhook_secret", &failed);
	ck_assert_str_eq(s, "whsec_test");
	free(s);
	text = xasprintf("%s/webhook_secret", credir);
	unlink(text);
	free(text);
	/* a loose file is not checked when the credential replaces it */
	text = xasprintf("database = { password_file = \"%s\"; };\n", loose);
	ck_assert_int_eq(load_text(text, &c, &log, NULL), 0);
	conf_free(&c);
	free(log);
	free(text);
	unsetenv("CREDENTIALS_DIRECTORY");
	unlink(cred);
	rmdir(credir);
	free(cred);
	free(credir);
	free(file);
	free(loose);
}
END_TEST

/* ---------------------------------------------------------------- fingerprint and dump */

START_TEST(test_fingerprint)
{
	kvp_config a, b;
	char *fa, *fb, *log;

	conf_defaults(&a);
	fa = conf_fingerprint(&a);
	ck_assert_ptr_nonnull(fa);
	ck_assert_uint_eq(strlen(fa), 64);
	ck_assert_uint_eq(strspn(fa, "0123456789abcdef"), 64);

	ck_assert_int_eq(load_text("log = { level = \"debug\"; ident = \"other\"; };\n"
				   "delivery = { concurrency = 3; };\n", &b, &log, NULL), 0);
	fb = conf_fingerprint(&b);
	ck_assert_str_eq(fa, fb);       /* log and delivery keys do not count */
	free(fb);
	free(log);
	conf_free(&b);

	ck_assert_int_eq(load_text("identification = { window_months = 13; };\n", &b, &log, NULL), 0);
	fb = conf_fingerprint(&b);
	ck_assert_str_ne(fa, fb);
	free(fb);
	free(log);
	conf_free(&b);

	ck_assert_int_eq(load_text("participation = { min_hours = 37.0; };\n", &b, &log, NULL), 0);
	fb = conf_fingerprint(&b);
	ck_assert_str_ne(fa, fb);
	free(fb);
	free(log);
	conf_free(&b);

	/* order of a code list does not matter, its content does */
	ck_assert_int_eq(load_text("identification = { excluded_benefits = [\"UFORETRYGD\", \"AAP\"]; };\n",
				   &b, &log, NULL), 0);
	fb = conf_fingerprint(&b);
	ck_assert_str_eq(fa, fb);
	free(fb);
	free(log);
	conf_free(&b);
	ck_assert_int_eq(load_text("identification = { excluded_benefits = [\"AAP\"]; };\n",
				   &b, &log, NULL), 0);
	fb = conf_fingerprint(&b);
	ck_assert_str_ne(fa, fb);
	free(fb);
	free(log);
	conf_free(&b);

	free(fa);
	conf_free(&a);
}
END_TEST

/* Dump cfg to a file; caller frees the path. */
static char *
dump_to_file(const kvp_config *cfg)
{
	char *path = xasprintf("%s/dump%03d.conf", tmpdir, ++file_seq);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	conf_dump(cfg, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(test_dump_roundtrip)
{
	static const char text[] =
		"identification = { window_months = 7; long_term_more_than = 2; consecutive = true;\n"
		"  payment_kinds = [\"LIVSOPPHOLD\"]; special_needs_groups = [];\n"
		"  excluded_benefits = [\"AAP\"]; min_age = 25; };\n"
		"participation = { min_hours = 33.25; };\n"
		"log = { ident = \"quote\\\"and\\\\backslash\"; };\n"
		"database = { conninfo = \"host=/tmp\\tdbname=x\"; };\n";
	kvp_config a, b;
	char *log, *path, *fa, *fb, *da, *db;

	ck_assert_int_eq(load_text(text, &a, &log, NULL), 0);
	free(log);
	path = dump_to_file(&a);
	conf_defaults(&b);
	capture_start();
	ck_assert_int_eq(conf_load(&b, path), 0);
	log = capture_end();
	ck_assert_str_eq(log, "");
	fa = conf_fingerprint(&a);
	fb = conf_fingerprint(&b);
	ck_assert_str_eq(fa, fb);
	ck_assert_str_eq(b.log_ident, "quote\"and\\backslash");
	ck_assert_str_eq(b.db_conninfo, "host=/tmp\tdbname=x");
	ck_assert_double_eq(b.part_min_hours, 33.25);
	ck_assert_int_eq(b.id_special_needs_groups.count, 0);

	/* every key is in the dump */
	da = read_file(path, 1 << 20, NULL);
	for (int i = 0; conf_key_name(i); i++) {
		const char *leaf = strchr(conf_key_name(i), '.') + 1;
		char *needle = xasprintf("\n  %s = ", leaf);

		ck_assert_msg(strstr(da, needle) != NULL, "dump lacks %s", conf_key_name(i));
		free(needle);
	}
	/* dumping the re-loaded config gives the same keys and values */
	free(path);
	path = dump_to_file(&b);
	db = read_file(path, 1 << 20, NULL);
	ck_assert_str_eq(strchr(da, '\n'), strchr(db, '\n'));     /* all but the header line */

	free(da);
	free(db);
	free(fa);
	free(fb);
	free(log);
	free(path);
	conf_free(&a);
	conf_free(&b);
}
END_TEST

START_TEST(test_defaults_dump_loads)
{
	kvp_config a, b;
	char *path, *log, *fa, *fb;

	conf_defaults(&a);
	path = dump_to_file(&a);
	conf_defaults(&b);
	capture_start();
	ck_assert_int_eq(conf_load(&b, path), 0);
	log = capture_end();
	fa = conf_fingerprint(&a);
	fb = conf_fingerprint(&b);
	ck_assert_str_eq(fa, fb);
	free(fa);
	free(fb);
	free(log);
	free(path);
	conf_free(&a);
	conf_free(&b);
}
END_TEST

/* ---------------------------------------------------------------- main */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");
	SRunner *sr;
	int failed;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("CREDENTIALS_DIRECTORY");
	log_setup("kvpscan", false, LOG_DAEMON, KVP_LOG_DEBUG);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_key_names);
	tcase_add_loop_test(tc, test_bad_config, 0, (int) ARRAY_SIZE(bad_cases));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_fixture_files);
	tcase_add_test(tc, test_good_config);
	tcase_add_test(tc, test_include_and_empty);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_prescan_good);
	tcase_add_test(tc, test_sender_same_parser);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_secret_permissions);
	tcase_add_test(tc, test_secret_credentials);
	tcase_add_test(tc, test_fingerprint);
	tcase_add_test(tc, test_dump_roundtrip);
	tcase_add_test(tc, test_defaults_dump_loads);
	tcase_add_test(tc, test_labels);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(capture_path);
	nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? 0 : 1;
}
