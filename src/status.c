/* status.c - "kvpscan status": the last runs, the outbox, the next scan, the schema version */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "schedule.h"

static void
status_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan status [--format table|json]\n\n"
		"Show the last runs (as-of date, start, duration, outcome, counts), the\n"
		"deliveries by state as \"kvpscan outbox\" names them (pending: not tried\n"
		"yet; failed: waiting for a retry; sending: held by a sender's lease; dead;\n"
		"sent), who holds the leases, channels that cannot send at all, the next\n"
		"scheduled scan and the schema version against the program's.\n\n"
		"Options:\n"
		"  --format F   table (default) or json\n\n"
		"Exit status 0; 1 when the last run failed, a delivery is dead, a channel\n"
		"with deliveries to send cannot send at all, the schema is not at the\n"
		"program's version or the database cannot be reached (for monitoring).\n");
}

/* Columns of the runs query. */
enum { R_ID, R_AS_OF, R_STARTED, R_DURATION, R_STATUS, R_CANDIDATES, R_FLAGGED,
       R_NEW, R_OPEN, R_RESOLVED, R_NCOLS };
static const char *const run_cols[R_NCOLS] = {
	"run_id", "as_of", "started_at", "duration_seconds", "status", "candidates",
	"flagged", "items_new", "items_open", "items_resolved"
};

static const char runs_sql[] =
	"SELECT run_id, as_of, to_char(started_at, 'YYYY-MM-DD HH24:MI:SS TZ'),"
	" coalesce(round(extract(epoch FROM finished_at - started_at)::numeric, 1)::text, ''),"
	" status, candidates, flagged, items_new, items_open, items_resolved"
	" FROM @state@.run ORDER BY run_id DESC LIMIT 5";

/* The states as "kvpscan outbox" shows them: failed is pending after a failed attempt. */
#define N_DEL 5
enum { D_PENDING, D_FAILED, D_SENDING, D_DEAD, D_SENT };
static const char deliveries_sql[] =
	"SELECT count(*) FILTER (WHERE state = 'pending' AND attempts = 0),"
	" count(*) FILTER (WHERE state = 'pending' AND attempts > 0),"
	" count(*) FILTER (WHERE state = 'sending'),"
	" count(*) FILTER (WHERE state = 'dead'), count(*) FILTER (WHERE state = 'sent')"
	" FROM @state@.delivery";

/*
 * Deliveries held by a sender's lease, per sender: its backend pid (NULL
 * for a claim of a version before 8), how many, until when, seconds left,
 * and whether the sender still holds its sender lock (see outbox.c).
 */
static const char leases_sql[] =
	"SELECT coalesce(d.claimed_by::text, ''), count(*),"
	" to_char(max(d.lease_until), 'YYYY-MM-DD HH24:MI:SS TZ'),"
	" greatest(0, ceil(extract(epoch FROM max(d.lease_until) - now())))::bigint,"
	" d.claimed_by IS NOT NULL AND EXISTS ("
	"   SELECT 1 FROM pg_catalog.pg_locks l"
	"    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
	"      AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
	"      AND l.classid = (hashtext('kvpscan.sender:' || $1::text) & 2147483647)::oid"
	"      AND l.objid = d.claimed_by::oid)"
	" FROM @state@.delivery d WHERE d.state = 'sending'"
	" GROUP BY d.claimed_by ORDER BY 3";
enum { L_PID, L_COUNT, L_UNTIL, L_LEFT, L_ALIVE };

/* Channels that could not send at all on their last try, with what still waits for them. */
static const char faults_sql[] =
	"SELECT f.channel, f.error, to_char(f.since, 'YYYY-MM-DD HH24:MI:SS TZ'),"
	" to_char(f.last_seen, 'YYYY-MM-DD HH24:MI:SS TZ'),"
	" (SELECT count(*) FROM @state@.delivery d"
	"   WHERE d.channel = f.channel AND d.state IN ('pending', 'sending'))"
	" FROM @state@.channel_fault f ORDER BY 1";
enum { F_CHANNEL, F_ERROR, F_SINCE, F_LAST, F_WAITING };

static PGresult *
state_exec(PGconn *conn, const kvp_config *cfg, const char *what, const char *tmpl)
{
	const char *p[1] = {cfg->db_state_schema};
	char *sql = db_expand(conn, cfg, tmpl);
	PGresult *res = db_exec(conn, what, sql, strstr(tmpl, "$1") ? 1 : 0, p);

	free(sql);
	return res;
}

static bool
numeric_col(int col)
{
	return col == R_ID || col == R_CANDIDATES || col == R_FLAGGED || col == R_NEW
	       || col == R_OPEN || col == R_RESOLVED || col == R_DURATION;
}

/* What status reads, and what it concludes from it. */
struct status {
	int version, latest;
	char next[64];                  /* the next scan, "" when unknown */
	PGresult *runs, *dels, *leases, *faults;
	bool last_failed;
	long long dead, faulty, gone;   /* dead deliveries, faulty channels, deliveries of gone senders */
};

/* The next scheduled scan in daemon.timezone, into st->next ("" when unknown). */
static void
status_next_scan(const kvp_config *cfg, struct status *st)
{
	kvp_schedule sched;

	st->next[0] = '\0';
	if (schedule_set_timezone(cfg->dmn_timezone) == 0
	    && schedule_parse(&sched, cfg->dmn_scan_at, NULL) == 0) {
		time_t t = schedule_next(&sched, time(NULL));
		struct tm tm;

		if (t != (time_t) -1 && localtime_r(&t, &tm) != NULL)
			strftime(st->next, sizeof(st->next), "%Y-%m-%d %H:%M:%S %Z", &tm);
	}
}

/* Run the queries the schema version allows and derive the counts; 0 or -1 logged. */
static int
status_load(PGconn *conn, const kvp_config *cfg, struct status *st)
{
	int i;

	if (migrate_current_version(conn, cfg, &st->version) < 0)
		return -1;
	if (st->version >= 2 && (st->runs = state_exec(conn, cfg, "reading the last runs", runs_sql)) == NULL)
		return -1;
	if (st->version >= 3
	    && (st->dels = state_exec(conn, cfg, "counting deliveries", deliveries_sql)) == NULL)
		return -1;
	if (st->version >= 8
	    && ((st->leases = state_exec(conn, cfg, "reading the senders' leases", leases_sql)) == NULL
		|| (st->faults = state_exec(conn, cfg, "reading the channel faults", faults_sql)) == NULL))
		return -1;
	for (i = 0; st->faults != NULL && i < PQntuples(st->faults); i++)
		if (strcmp(PQgetvalue(st->faults, i, F_WAITING), "0") != 0)
			st->faulty++;
	for (i = 0; st->leases != NULL && i < PQntuples(st->leases); i++)
		if (strcmp(PQgetvalue(st->leases, i, L_ALIVE), "t") != 0)
			st->gone += strtoll(PQgetvalue(st->leases, i, L_COUNT), NULL, 10);
	if (st->runs != NULL && PQntuples(st->runs) > 0)
		st->last_failed = strcmp(PQgetvalue(st->runs, 0, R_STATUS), "succeeded") != 0;
	if (st->dels != NULL) {
		int64_t v;

		if (parse_int64(PQgetvalue(st->dels, 0, D_DEAD), 0, INT64_MAX, &v) == 0)
			st->dead = (long long) v;
	}
	return 0;
}

static bool
status_healthy(const struct status *st)
{
	return !st->last_failed && st->dead == 0 && st->faulty == 0 && st->version == st->latest;
}

/* The runs as a JSON array. */
static void
json_runs(strbuf *sb, const PGresult *runs)
{
	int i, j;

	sb_putc(sb, '[');
	for (i = 0; runs != NULL && i < PQntuples(runs); i++) {
		sb_puts(sb, i ? ", {" : "{");
		for (j = 0; j < R_NCOLS; j++) {
			const char *v = PQgetvalue(runs, i, j);

			sb_printf(sb, "%s\"%s\": ", j ? ", " : "", run_cols[j]);
			if (numeric_col(j) && *v != '\0')
				sb_puts(sb, v);
			else if (numeric_col(j))
				sb_puts(sb, "null");
			else
				json_escape(sb, v);
		}
		sb_putc(sb, '}');
	}
	sb_putc(sb, ']');
}

/* The whole status as one JSON object, newline-terminated. */
static void
status_json(strbuf *sb, const struct status *st)
{
	static const char *const del_names[N_DEL] = {"pending", "failed", "sending", "dead", "sent"};
	int i, j;

	sb_printf(sb, "{\"schema_version\": %d, \"program_schema_version\": %d, \"next_scan\": ",
		  st->version, st->latest);
	json_escape(sb, st->next);
	sb_puts(sb, ", \"runs\": ");
	json_runs(sb, st->runs);
	sb_puts(sb, ", \"deliveries\": {");
	for (j = 0; j < N_DEL; j++)
		sb_printf(sb, "%s\"%s\": %s", j ? ", " : "", del_names[j],
			  st->dels ? PQgetvalue(st->dels, 0, j) : "0");
	sb_puts(sb, "}, \"leases\": [");
	for (i = 0; st->leases != NULL && i < PQntuples(st->leases); i++) {
		const char *pid = PQgetvalue(st->leases, i, L_PID);

		sb_printf(sb, "%s{\"backend_pid\": %s, \"deliveries\": %s, \"lease_until\": ",
			  i ? ", " : "", pid[0] ? pid : "null", PQgetvalue(st->leases, i, L_COUNT));
		json_escape(sb, PQgetvalue(st->leases, i, L_UNTIL));
		sb_printf(sb, ", \"seconds_left\": %s, \"sender_alive\": %s}",
			  PQgetvalue(st->leases, i, L_LEFT),
			  strcmp(PQgetvalue(st->leases, i, L_ALIVE), "t") == 0 ? "true" : "false");
	}
	sb_puts(sb, "], \"channel_faults\": [");
	for (i = 0; st->faults != NULL && i < PQntuples(st->faults); i++) {
		sb_puts(sb, i ? ", {\"channel\": " : "{\"channel\": ");
		json_escape(sb, PQgetvalue(st->faults, i, F_CHANNEL));
		sb_puts(sb, ", \"error\": ");
		json_escape(sb, PQgetvalue(st->faults, i, F_ERROR));
		sb_puts(sb, ", \"since\": ");
		json_escape(sb, PQgetvalue(st->faults, i, F_SINCE));
		sb_puts(sb, ", \"last_seen\": ");
		json_escape(sb, PQgetvalue(st->faults, i, F_LAST));
		sb_printf(sb, ", \"waiting\": %s}", PQgetvalue(st->faults, i, F_WAITING));
	}
	sb_printf(sb, "], \"healthy\": %s}\n", status_healthy(st) ? "true" : "false");
}

/* One line per sender holding leases: how many, whose, until when. */
static void
text_leases(strbuf *sb, const PGresult *leases)
{
	int i;

	for (i = 0; leases != NULL && i < PQntuples(leases); i++) {
		const char *pid = PQgetvalue(leases, i, L_PID);
		bool alive = strcmp(PQgetvalue(leases, i, L_ALIVE), "t") == 0;

		sb_printf(sb, "  %s held by ", PQgetvalue(leases, i, L_COUNT));
		if (pid[0] == '\0')
			sb_puts(sb, "a sender of an earlier version");
		else
			sb_printf(sb, "the sender in backend %s (%s)", pid, alive ? "running" : "gone");
		if (!alive && pid[0] != '\0')
			sb_puts(sb, ": the next deliver takes them over at once\n");
		else if (strcmp(PQgetvalue(leases, i, L_LEFT), "0") == 0)
			sb_printf(sb, ", lease ended %s: the next deliver sends them again\n",
				  PQgetvalue(leases, i, L_UNTIL));
		else
			sb_printf(sb, ", lease until %s (%s s left)\n", PQgetvalue(leases, i, L_UNTIL),
				  PQgetvalue(leases, i, L_LEFT));
	}
}

/* The last runs as a fixed-width table. */
static void
text_runs(strbuf *sb, const PGresult *runs)
{
	int i;

	sb_puts(sb, "\nlast runs\n");
	sb_printf(sb, "%6s  %-10s  %-23s  %8s  %-9s  %10s  %7s  %5s  %5s  %8s\n", "run", "as of",
		  "started", "seconds", "status", "candidates", "flagged", "new", "open", "resolved");
	for (i = 0; runs != NULL && i < PQntuples(runs); i++)
		sb_printf(sb, "%6s  %-10s  %-23s  %8s  %-9s  %10s  %7s  %5s  %5s  %8s\n",
			  PQgetvalue(runs, i, R_ID), PQgetvalue(runs, i, R_AS_OF),
			  PQgetvalue(runs, i, R_STARTED), PQgetvalue(runs, i, R_DURATION),
			  PQgetvalue(runs, i, R_STATUS), PQgetvalue(runs, i, R_CANDIDATES),
			  PQgetvalue(runs, i, R_FLAGGED), PQgetvalue(runs, i, R_NEW),
			  PQgetvalue(runs, i, R_OPEN), PQgetvalue(runs, i, R_RESOLVED));
	if (runs == NULL || PQntuples(runs) == 0)
		sb_puts(sb, "  (no runs yet)\n");
}

/* The whole status for a person to read. */
static void
status_text(strbuf *sb, const struct status *st)
{
	int i;

	sb_printf(sb, "schema version   %d (program %d)%s\n", st->version, st->latest,
		  st->version == st->latest ? "" : "  -- run \"kvpscan migrate\"");
	sb_printf(sb, "next scan        %s\n", st->next[0] ? st->next : "unknown");
	if (st->dels != NULL)
		sb_printf(sb, "deliveries       %s pending, %s failed (to be retried), %s sending, %s dead, "
			  "%s sent\n", PQgetvalue(st->dels, 0, D_PENDING), PQgetvalue(st->dels, 0, D_FAILED),
			  PQgetvalue(st->dels, 0, D_SENDING), PQgetvalue(st->dels, 0, D_DEAD),
			  PQgetvalue(st->dels, 0, D_SENT));
	text_leases(sb, st->leases);
	for (i = 0; st->faults != NULL && i < PQntuples(st->faults); i++)
		sb_printf(sb, "channel %-8s cannot send at all since %s (last %s): %s; %s deliveries wait\n",
			  PQgetvalue(st->faults, i, F_CHANNEL), PQgetvalue(st->faults, i, F_SINCE),
			  PQgetvalue(st->faults, i, F_LAST), PQgetvalue(st->faults, i, F_ERROR),
			  PQgetvalue(st->faults, i, F_WAITING));
	text_runs(sb, st->runs);
}

/* Warn about what is unwell; the exit status for monitoring. */
static int
status_verdict(const struct status *st)
{
	int rc = KVP_EXIT_OK;

	if (st->version != st->latest) {
		log_warning("schema is at version %d, the program needs %d", st->version, st->latest);
		rc = KVP_EXIT_FAILURE;
	}
	if (st->last_failed) {
		log_warning("the last run failed");
		rc = KVP_EXIT_FAILURE;
	}
	if (st->dead > 0) {
		log_warning("%lld deliveries are dead", st->dead);
		log_hint("see \"kvpscan outbox --failed\"");
		rc = KVP_EXIT_FAILURE;
	}
	if (st->faulty > 0) {
		log_warning("%lld %s cannot send at all", st->faulty, st->faulty == 1 ? "channel" : "channels");
		log_hint("fix the configuration the error names; the deliveries are kept and go out "
			 "on the next delivery round (or now: \"kvpscan deliver\")");
		rc = KVP_EXIT_FAILURE;
	}
	if (st->gone > 0) {
		log_warning("%lld deliveries are held by a sender that is gone", st->gone);
		log_hint("the next \"kvpscan deliver\" or run takes them over at once");
	}
	return rc;
}

/* Options: --format; CMD_PROCEED, or a KVP_EXIT_* code to return at once (help, usage error). */
static int
status_options(int argc, char **argv, bool *json)
{
	const char *format = "table";
	const cmd_option opts[] = {
		{"format", .value = &format},
		{NULL}
	};
	int rc;

	rc = cmd_options(argc, argv, opts, status_usage, NULL);
	if (rc != CMD_PROCEED)
		return rc;
	if (cmd_choice("format", format, (const char *const[]) {"table", "json", NULL}) < 0)
		return KVP_EXIT_USAGE;
	*json = strcmp(format, "json") == 0;
	return CMD_PROCEED;
}

int
cmd_status(int argc, char **argv, kvp_ctx *ctx)
{
	struct status st;
	bool json = false;
	PGconn *conn = NULL;
	int rc = KVP_EXIT_FAILURE;
	strbuf sb;

	memset(&st, 0, sizeof(st));
	rc = status_options(argc, argv, &json);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	st.latest = migrate_latest_version();
	status_next_scan(&ctx->cfg, &st);
	sb_init(&sb);
	conn = db_connect(&ctx->cfg);
	if (conn == NULL || status_load(conn, &ctx->cfg, &st) < 0)
		goto cleanup;
	if (json)
		status_json(&sb, &st);
	else
		status_text(&sb, &st);
	fputs(sb_str(&sb), stdout);
	rc = status_verdict(&st);
cleanup:
	sb_free(&sb);
	PQclear(st.runs);
	PQclear(st.dels);
	PQclear(st.leases);
	PQclear(st.faults);
	PQfinish(conn);
	return rc;
}
