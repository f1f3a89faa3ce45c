/* target.c - "kvpscan target": KVP participant targets per office and period */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

#define IMPORT_MAX_BYTES (16 * 1024 * 1024)

static const char upsert_sql[] =
	"INSERT INTO @state@.target (office_id, period_start, period_end, target, note)"
	" VALUES ($1, $2::date, $3::date, $4::int, $5)"
	" ON CONFLICT (office_id, period_start, period_end) DO UPDATE"
	" SET target = EXCLUDED.target, note = coalesce(EXCLUDED.note, @state@.target.note),"
	" updated_at = now()";

static void
target_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan target set OFFICE YEAR N [--note TEXT]\n"
		"       kvpscan target set OFFICE --month YYYY-MM N [--note TEXT]\n"
		"       kvpscan target set OFFICE --tertial YYYY-T1|T2|T3 N [--note TEXT]\n"
		"       kvpscan target list [--format table|csv]\n"
		"       kvpscan target import FILE.csv\n\n"
		"Set the number of KVP participants an office aims for in a period: a calendar\n"
		"year, a tertial (T1 January-April, T2 May-August, T3 September-December) or a\n"
		"month.  The report (kvpscan report) sets it against the active participants.\n"
		"import reads a CSV file with the header office_id,year,target; it reports every\n"
		"bad row by its line number and imports nothing unless every row is good.\n");
}

/* Period bounds of YEAR, YYYY-MM or YYYY-Tn into start/end; 0, or -1 with the problem in why. */
static int
parse_period(const char *kind, const char *s, char start[11], char end[11], const char **why)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	char ybuf[5];
	int64_t y, m, t;

	*why = NULL;
	if (strlen(s) < 4) {
		*why = "the year must have four digits";
		return -1;
	}
	memcpy(ybuf, s, 4);
	ybuf[4] = '\0';
	if (parse_int64(ybuf, 1900, 9999, &y) < 0) {
		*why = "the year must be between 1900 and 9999";
		return -1;
	}
	if (strcmp(kind, "year") == 0) {
		if (s[4] != '\0') {
			*why = "the year must be four digits, e.g. 2025";
			return -1;
		}
		snprintf(start, 11, "%04d-01-01", (int) y);
		snprintf(end, 11, "%04d-12-31", (int) y);
		return 0;
	}
	if (strcmp(kind, "month") == 0) {
		int last;

		if (s[4] != '-' || parse_int64(s + 5, 1, 12, &m) < 0 || strlen(s) != 7) {
			*why = "the month must be YYYY-MM";
			return -1;
		}
		last = mdays[m - 1];
		if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
			last = 29;
		snprintf(start, 11, "%04d-%02d-01", (int) y, (int) m);
		snprintf(end, 11, "%04d-%02d-%02d", (int) y, (int) m, last);
		return 0;
	}
	if (s[4] != '-' || (s[5] != 'T' && s[5] != 't') || strlen(s) != 7
	    || parse_int64(s + 6, 1, 3, &t) < 0) {
		*why = "the tertial must be YYYY-T1, YYYY-T2 or YYYY-T3";
		return -1;
	}
	{
		static const char *const bounds[3][2] = {
			{"01-01", "04-30"}, {"05-01", "08-31"}, {"09-01", "12-31"}
		};

		snprintf(start, 11, "%04d-%s", (int) y, bounds[t - 1][0]);
		snprintf(end, 11, "%04d-%s", (int) y, bounds[t - 1][1]);
	}
	return 0;
}

/* True if the office is in the source's office table. */
static int
office_known(PGconn *conn, const kvp_config *cfg, const char *office)
{
	char *sql = db_expand(conn, cfg, "SELECT 1 FROM @src@.office WHERE office_id = $1");
	PGresult *res = db_exec(conn, "looking up the office", sql, 1, &office);
	int known;

	free(sql);
	if (res == NULL)
		return -1;
	known = PQntuples(res) > 0;
	PQclear(res);
	return known;
}

static int
target_set(int argc, char **argv, kvp_ctx *ctx)
{
	const char *month = NULL, *tertial = NULL, *note = NULL;
	const cmd_option opts[] = {
		{"month", .value = &month},
		{"tertial", .value = &tertial},
		{"note", .value = &note},
		{NULL}
	};
	const char *kind = "year", *period = NULL, *why = NULL;
	char start[11], end[11], num[24];
	const char *p[5];
	int64_t n;
	PGconn *conn = NULL;
	char *sql = NULL;
	int first, known, rc;

	rc = cmd_options(argc, argv, opts, target_usage, &first);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (month != NULL && tertial != NULL) {
		log_error("--month and --tertial cannot be combined");
		return KVP_EXIT_USAGE;
	}
	if (month != NULL) {
		kind = "month";
		period = month;
	} else if (tertial != NULL) {
		kind = "tertial";
		period = tertial;
	}
	if (argc - first != (period ? 2 : 3)) {
		log_error("target set needs OFFICE, %sand N", period ? "" : "YEAR ");
		target_usage(stderr);
		return KVP_EXIT_USAGE;
	}
	if (period == NULL)
		period = argv[first + 1];
	if (parse_period(kind, period, start, end, &why) < 0) {
		log_error("invalid %s \"%s\"", kind, period);
		log_detail("%s", why);
		return KVP_EXIT_USAGE;
	}
	if (parse_int64(argv[argc - 1], 0, 1000000, &n) < 0) {
		log_error("invalid target \"%s\"", argv[argc - 1]);
		log_detail("the target is a whole number of participants, 0 or more");
		return KVP_EXIT_USAGE;
	}
	if (argv[first][0] == '\0') {
		log_error("the office id is empty");
		return KVP_EXIT_USAGE;
	}
	snprintf(num, sizeof(num), "%lld", (long long) n);
	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;
	known = office_known(conn, &ctx->cfg, argv[first]);
	if (known < 0)
		goto done;
	if (!known) {
		log_error("office \"%s\" is not in the source's office table", argv[first]);
		rc = KVP_EXIT_USAGE;
		goto done;
	}
	p[0] = argv[first]; p[1] = start; p[2] = end; p[3] = num; p[4] = note;
	sql = db_expand(conn, &ctx->cfg, upsert_sql);
	if (db_command(conn, "storing the target", sql, 5, p) < 0)
		goto done;
	printf("target for office %s, %s to %s: %s\n", argv[first], start, end, num);
	log_info("target for office %s from %s to %s set to %s", argv[first], start, end, num);
	rc = KVP_EXIT_OK;
done:
	free(sql);
	PQfinish(conn);
	return rc;
}

static int
target_list(int argc, char **argv, kvp_ctx *ctx)
{
	const char *format = "table";
	const cmd_option opts[] = {
		{"format", .value = &format},
		{NULL}
	};
	bool csv;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char *sql = NULL;
	int i, rc;

	rc = cmd_options(argc, argv, opts, target_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (cmd_choice("format", format, (const char *const[]) {"table", "csv", NULL}) < 0)
		return KVP_EXIT_USAGE;
	csv = strcmp(format, "csv") == 0;
	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;
	sql = db_expand(conn, &ctx->cfg,
			"SELECT office_id, period_start, period_end, target, coalesce(note, ''),"
			" to_char(updated_at, 'YYYY-MM-DD HH24:MI') FROM @state@.target"
			" ORDER BY office_id COLLATE \"C\", period_start, period_end");
	res = db_exec(conn, "listing the targets", sql, 0, NULL);
	if (res == NULL)
		goto done;
	if (csv)
		printf("office_id,period_start,period_end,target,note,updated_at\n");
	else
		printf("%-8s %-10s %-10s %6s  %-16s %s\n", "office", "from", "to", "target", "updated", "note");
	for (i = 0; i < PQntuples(res); i++) {
		if (csv) {
			strbuf sb;
			int j;

			sb_init(&sb);
			for (j = 0; j < 6; j++) {
				if (j > 0)
					sb_putc(&sb, ',');
				csv_escape(&sb, PQgetvalue(res, i, j));
			}
			sb_putc(&sb, '\n');
			fputs(sb_str(&sb), stdout);
			sb_free(&sb);
		} else {
			printf("%-8s %-10s %-10s %6s  %-16s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 5),
			       PQgetvalue(res, i, 4));
		}
	}
	if (fflush(stdout) != 0) {
		log_error("could not write the list of targets");
		goto done;
	}
	rc = KVP_EXIT_OK;
done:
	PQclear(res);
	free(sql);
	PQfinish(conn);
	return rc;
}

/* Split one CSV line (no quotes needed for these fields) on commas into at most max fields. */
static int
split_line(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *comma = strchr(p, ',');

		if (n == max)
			return max + 1;
		fields[n++] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return n;
}

/* Trim spaces and one pair of double quotes in place. */
static char *
trim_field(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s[len - 1] = '\0';
		s++;
	}
	return s;
}

struct import_row {
	char *office;
	char start[11], end[11], num[24];
};

static int
target_import(int argc, char **argv, kvp_ctx *ctx)
{
	char *text = NULL, *line, *next, *sql = NULL;
	struct import_row *rows = NULL;
	int nrows = 0, cap = 0, lineno = 0, bad = 0, i, j, known;
	PGconn *conn = NULL;
	const cmd_option opts[] = {{NULL}};
	const char *path;
	int first, rc;

	rc = cmd_options(argc, argv, opts, target_usage, &first);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (argc - first != 1) {
		log_error("target import needs one CSV file");
		target_usage(stderr);
		return KVP_EXIT_USAGE;
	}
	path = argv[first];
	text = read_file(path, IMPORT_MAX_BYTES, NULL);
	if (text == NULL) {
		log_error("could not read \"%s\": %m", path);
		rc = KVP_EXIT_USAGE;
		goto done;
	}
	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		char *f[4], *office, *year, *num;
		const char *why = NULL;
		int64_t n;
		struct import_row r;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		if (lineno == 1) {
			char *h = trim_field(line);

			if (strncmp(h, "\xEF\xBB\xBF", 3) == 0)
				h += 3;
			if (strcmp(h, "office_id,year,target") != 0) {
				log_error("%s line 1: the header must be office_id,year,target", path);
				bad++;
				break;
			}
			continue;
		}
		if (trim_field(line)[0] == '\0')
			continue;
		if (split_line(line, f, 3) != 3) {
			log_error("%s line %d: expected 3 fields (office_id,year,target)", path, lineno);
			bad++;
			continue;
		}
		office = trim_field(f[0]);
		year = trim_field(f[1]);
		num = trim_field(f[2]);
		memset(&r, 0, sizeof(r));
		if (office[0] == '\0') {
			log_error("%s line %d: the office_id is empty", path, lineno);
			bad++;
			continue;
		}
		if (parse_period("year", year, r.start, r.end, &why) < 0) {
			log_error("%s line %d: invalid year \"%s\": %s", path, lineno, year, why);
			bad++;
			continue;
		}
		if (parse_int64(num, 0, 1000000, &n) < 0) {
			log_error("%s line %d: invalid target \"%s\": a whole number, 0 or more", path, lineno, num);
			bad++;
			continue;
		}
		known = office_known(conn, &ctx->cfg, office);
		if (known < 0)
			goto done;
		if (!known) {
			log_error("%s line %d: office \"%s\" is not in the source's office table", path, lineno, office);
			bad++;
			continue;
		}
		for (j = 0; j < nrows; j++)
			if (strcmp(rows[j].office, office) == 0 && strcmp(rows[j].start, r.start) == 0)
				break;
		if (j < nrows) {
			log_error("%s line %d: office %s, year %s is given twice", path, lineno, office, year);
			bad++;
			continue;
		}
		snprintf(r.num, sizeof(r.num), "%lld", (long long) n);
		r.office = office;
		if (nrows == cap) {
			cap = cap ? cap * 2 : 16;
			rows = xrealloc(rows, (size_t) cap * sizeof(*rows));
		}
		rows[nrows++] = r;
	}
	if (lineno == 0) {
		log_error("%s is empty", path);
		bad++;
	}
	if (bad > 0) {
		log_error("%s has %d bad %s; nothing was imported", path, bad, bad == 1 ? "row" : "rows");
		log_hint("fix the rows named above and import the whole file again");
		rc = KVP_EXIT_USAGE;
		goto done;
	}
	sql = db_expand(conn, &ctx->cfg, upsert_sql);
	if (db_begin(conn) < 0)
		goto done;
	for (i = 0; i < nrows; i++) {
		const char *p[5] = {rows[i].office, rows[i].start, rows[i].end, rows[i].num, NULL};

		if (db_command(conn, "storing a target", sql, 5, p) < 0) {
			db_rollback(conn);
			goto done;
		}
	}
	if (db_commit(conn) < 0)
		goto done;
	printf("imported %d %s from %s\n", nrows, nrows == 1 ? "target" : "targets", path);
	log_info("imported %d targets", nrows);
	rc = KVP_EXIT_OK;
done:
	free(rows);
	free(sql);
	free(text);
	PQfinish(conn);
	return rc;
}

int
cmd_target(int argc, char **argv, kvp_ctx *ctx)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		target_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? KVP_EXIT_USAGE : KVP_EXIT_OK;
	}
	optind = 1;
	if (strcmp(argv[1], "set") == 0)
		return target_set(argc - 1, argv + 1, ctx);
	if (strcmp(argv[1], "list") == 0)
		return target_list(argc - 1, argv + 1, ctx);
	if (strcmp(argv[1], "import") == 0)
		return target_import(argc - 1, argv + 1, ctx);
	log_error("unknown target command \"%s\"", argv[1]);
	log_hint("use set, list or import");
	return KVP_EXIT_USAGE;
}
