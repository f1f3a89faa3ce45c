/* history.c - "kvpscan history CASE_REF": one case's documented trail from stored runs (docs/audit.md) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "history.h"
#include "labels.h"
#include "log.h"
#include "util.h"
#include "state_sql.h"

/* Timestamps as ISO 8601 in the session's time zone (Europe/Oslo), as audit.c. */
#define TS(x) "to_json(" x ")#>>'{}'"

/* The flags of an aggregate, "+"-joined in the fixed order. */
#define FLAGS_OF(agg) "array_to_string(ARRAY(SELECT f FROM unnest(" FLAG_ORDER ") WITH ORDINALITY u(f, k)" \
	" WHERE f = ANY (" agg ") ORDER BY k), '+')"

/* $1 case_ref: the persons the stored tables know under it */
static const char persons_sql[] =
	"SELECT coalesce(array_agg(DISTINCT person_id), '{}')::text FROM ("
	" SELECT person_id FROM @state@.candidate WHERE case_ref = $1"
	" UNION ALL SELECT person_id FROM @state@.item WHERE case_ref = $1) s";

/* only when the stored tables do not know the case_ref: the source's person */
static const char source_person_sql[] =
	"SELECT coalesce(array_agg(person_id), '{}')::text FROM @src@.person WHERE case_ref = $1";

/* $1 person_ids: each succeeded run in which the case was a candidate (a row holds until_run_id, 011) */
static const char runs_sql[] =
	"SELECT r.run_id, r.as_of::text, array_to_string(c.reasons, '+'), array_to_string(c.flags, '+'),"
	" coalesce(c.office_id, ''), c.veileder_id, c.routed_to_fallback, c.protected"
	" FROM @state@.candidate c JOIN @state@.run r ON " CANDIDATE_AT("c", "r.run_id")
	" WHERE c.person_id = ANY ($1::text[]) AND r.status = 'succeeded'"
	" ORDER BY r.as_of, r.run_id";
enum { RU_ID, RU_AS_OF, RU_REASONS, RU_FLAGS, RU_OFFICE, RU_VEILEDER, RU_FALLBACK, RU_PROTECTED };

/*
 * $1 person_ids: every item, with the source event that resolved it
 * (migration 010); a live item was last seen by the latest run (011)
 */
static const char items_sql[] =
	"WITH latest AS (SELECT max(as_of) AS as_of FROM @state@.run WHERE status = 'succeeded')"
	" SELECT i.item_id, i.flag, i.state, i.first_seen::text,"
	" coalesce(i.last_seen, latest.as_of)::text, i.resolved_on::text,"
	" i.resolved_event, i.resolved_event_date::text, i.resolved_event_veileder,"
	" coalesce(i.resolved_on, i.last_seen, latest.as_of) - i.first_seen, i.protected"
	" FROM @state@.item i CROSS JOIN latest WHERE i.person_id = ANY ($1::text[])"
	" ORDER BY i.first_seen, array_position(" FLAG_ORDER ", i.flag), i.item_id";
enum { IT_ID, IT_FLAG, IT_STATE, IT_FIRST, IT_LAST, IT_RESOLVED, IT_EVENT, IT_EVENT_DATE,
       IT_EVENT_VEILEDER, IT_DAYS, IT_PROTECTED };

/*
 * $1 person_ids: every worklist delivery that carried one of its items.
 * Worklists queued from migration 011 on carried, at their run, the items
 * live then (worklist_send 'all_open') or made then ('new'), routed by the
 * run's candidate row: to its veileder unless protected, routed to the
 * fallback or that veileder got no worklist of the run (no address), else
 * to the office's fallback list, where a protected person is a count only.
 * Older worklists: the links in delivery_item.
 */
static const char deliveries_sql[] =
	"WITH it AS (SELECT i.* FROM @state@.item i WHERE i.person_id = ANY ($1::text[])),"
	" carried AS ("
	"  SELECT di.delivery_id, i.flag, di.named FROM @state@.delivery_item di"
	"   JOIN it i ON i.item_id = di.item_id"
	"  UNION ALL"
	"  SELECT d.delivery_id, i.flag, NOT c.protected"
	"   FROM it i"
	"   JOIN @state@.run r ON r.status = 'succeeded' AND r.run_id >= i.first_run_id"
	"    AND (i.resolved_run_id IS NULL OR r.run_id < i.resolved_run_id)"
	"   JOIN @state@.candidate c ON c.person_id = i.person_id AND " CANDIDATE_AT("c", "r.run_id")
	"    AND i.flag = ANY (c.flags)"
	"   CROSS JOIN LATERAL (SELECT CASE WHEN NOT c.protected AND NOT c.routed_to_fallback"
	"     AND EXISTS (SELECT 1 FROM @state@.delivery v WHERE v.run_id = r.run_id AND v.kind = 'worklist'"
	"      AND v.office_id IS NOT DISTINCT FROM nullif(c.office_id, '') AND v.veileder_id = c.veileder_id)"
	"     THEN c.veileder_id END AS to_veileder) t"
	"   JOIN @state@.delivery d ON d.run_id = r.run_id AND d.kind = 'worklist'"
	"    AND d.office_id IS NOT DISTINCT FROM nullif(c.office_id, '')"
	"    AND d.veileder_id IS NOT DISTINCT FROM t.to_veileder"
	"    AND (d.worklist_send = 'all_open' OR (d.worklist_send = 'new' AND r.run_id = i.first_run_id)))"
	" SELECT d.delivery_id, d.kind, d.channel, coalesce(d.office_id, ''), d.veileder_id, d.state,"
	" " TS("d.created_at") ", " TS("d.sent_at") ", d.attempts, coalesce(r.as_of::text, ''),"
	" " FLAGS_OF("array_agg(DISTINCT x.flag)") ", bool_or(x.named)"
	" FROM carried x"
	" JOIN @state@.delivery d ON d.delivery_id = x.delivery_id"
	" LEFT JOIN @state@.run r ON r.run_id = d.run_id"
	" GROUP BY d.delivery_id, r.as_of"
	" ORDER BY d.created_at, d.delivery_id COLLATE \"C\"";
enum { DE_ID, DE_KIND, DE_CHANNEL, DE_OFFICE, DE_VEILEDER, DE_STATE, DE_CREATED, DE_SENT,
       DE_ATTEMPTS, DE_RUN_AS_OF, DE_FLAGS, DE_NAMED };

/*
 * $1 person_ids, $2 report.escalate_after_days: each run at which an item
 * was open longer than that (the målekort's escalation list, report.c),
 * with the målekort deliveries of that run to its office or the whole
 * municipality, one row each (none: NULL).
 */
static const char escalations_sql[] =
	"WITH e AS (SELECT r.run_id, r.as_of, min(coalesce(i.office_id, '')) AS office_id,"
	"  " FLAGS_OF("array_agg(i.flag)") " AS flags, max(r.as_of - i.first_seen) AS days,"
	"  bool_or(i.protected) AS protected"
	"  FROM @state@.run r JOIN @state@.item i ON i.first_run_id <= r.run_id"
	"   AND (i.resolved_run_id IS NULL OR i.resolved_run_id > r.run_id)"
	"  WHERE r.status = 'succeeded' AND i.person_id = ANY ($1::text[])"
	"   AND r.as_of - i.first_seen > $2::int"
	"  GROUP BY r.run_id, r.as_of)"
	" SELECT e.run_id, e.as_of::text, e.flags, e.days, e.protected,"
	"  d.delivery_id, d.channel, coalesce(d.office_id, ''), d.state, " TS("d.sent_at") ", d.attempts"
	" FROM e LEFT JOIN @state@.delivery d ON d.kind = 'report' AND d.run_id = e.run_id"
	"  AND (d.office_id IS NULL OR d.office_id = e.office_id)"
	" ORDER BY e.as_of, e.run_id, d.delivery_id COLLATE \"C\"";
enum { ES_RUN, ES_AS_OF, ES_FLAGS, ES_DAYS, ES_PROTECTED, ES_DELIVERY, ES_CHANNEL, ES_OFFICE,
       ES_STATE, ES_SENT, ES_ATTEMPTS };

/* One of the supervisor's questions: answered by the episodes of these flags. */
struct question {
	const char *key, *text;     /* JSON key, the text format's words */
	const char *flags[2];       /* the flags whose absence answers it yes */
	bool participation;         /* judged for participants (reasons IN_PROGRAMME), else candidates */
};

static const struct question questions[] = {
	{"informed", "informed about KVP", {"NOT_INFORMED", NULL}, false},
	{"assessed", "assessed for KVP", {"NOT_ASSESSED", NULL}, false},
	{"aev", "AEV done", {"AEV_MISSING", NULL}, false},
	{"aev_before_decision", "AEV before the KVP decision", {"AEV_AFTER_DECISION", NULL}, true},
	{"self_assessment", "self-assessment documented", {"NO_SELF_ASSESSMENT", NULL}, true},
	{"written_plan", "written plan", {"NO_WRITTEN_PLAN", NULL}, true},
	{"full_time", "full time", {"NOT_FULL_TIME", NULL}, true},
	{"evaluation_dates", "evaluation dates", {"NO_EVALUATION_DATE", "EVALUATION_OVERDUE"}, true},
};

/* A question's answer, pointing into the results (valid while they live). */
struct answer {
	const char *answer;         /* yes, no, resolved (gone with no documenting event), unknown */
	const char *since, *until;  /* the open episode's first and last seen, or the resolved one's */
	const char *flag;           /* the deciding episode's flag */
	const char *event, *event_date, *event_veileder;
	long long days;             /* the episode's days */
	bool has_days_identified;
	long long days_identified;  /* informed: days after first identified */
	int runs;                   /* runs that judged it without the flag */
};

static void
history_usage(FILE *out)
{
	fprintf(out,
		"Usage: kvpscan history CASE_REF [--format text|json]\n\n"
		"Show one case's documented trail from the stored runs alone (it never scans):\n"
		"each run in which it was a candidate with its reasons and flags, each worklist\n"
		"item's first-seen and resolved dates and the source event that resolved it,\n"
		"every worklist delivery that carried it, the escalations to the office leader,\n"
		"and the supervisor's questions answered for it.  An operator's local command:\n"
		"it may show a protected person's trail (deliveries carried such a person only\n"
		"as a count).  The log says it was used, never for which case.  See docs/audit.md.\n\n"
		"Options:\n"
		"  --format FORMAT  text (default) or json\n");
}

static const char *
val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static bool
is_true(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && strcmp(PQgetvalue(res, row, col), "t") == 0;
}

static long long
ll(const PGresult *res, int row, int col)
{
	int64_t v = 0;

	if (PQgetisnull(res, row, col) || parse_int64(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &v) < 0)
		return 0;
	return (long long) v;
}

static bool
has_code(const char *list, const char *code)
{
	size_t n = strlen(code);
	const char *p = list;

	while (p && (p = strstr(p, code)) != NULL) {
		if ((p == list || p[-1] == '+') && (p[n] == '\0' || p[n] == '+'))
			return true;
		p += n;
	}
	return false;
}

static PGresult *
hist_query(PGconn *conn, const kvp_config *cfg, const char *what, const char *tmpl,
	   int n, const char *const *params)
{
	char *sql = db_expand(conn, cfg, tmpl);
	PGresult *res = db_exec(conn, what, sql, n, params);

	free(sql);
	return res;
}

/* Answer question q from the runs and items. */
static void
answer_question(const struct question *q, const PGresult *runs, const PGresult *items,
		const char *first_identified, struct answer *a)
{
	int i, k, last = -1;

	memset(a, 0, sizeof(*a));
	a->answer = "unknown";
	for (i = 0; i < PQntuples(items); i++)
		for (k = 0; k < 2 && q->flags[k]; k++)
			if (strcmp(PQgetvalue(items, i, IT_FLAG), q->flags[k]) == 0) {
				/* an open episode decides; else the latest resolved one */
				if (last < 0 || strcmp(PQgetvalue(items, last, IT_STATE), "RESOLVED") == 0)
					last = i;
			}
	for (i = 0; i < PQntuples(runs); i++) {
		bool part = has_code(PQgetvalue(runs, i, RU_REASONS), "IN_PROGRAMME");
		bool flagged = false;

		if (part != q->participation)
			continue;
		for (k = 0; k < 2 && q->flags[k]; k++)
			if (has_code(PQgetvalue(runs, i, RU_FLAGS), q->flags[k]))
				flagged = true;
		if (!flagged)
			a->runs++;
	}
	if (last < 0) {
		if (a->runs > 0)
			a->answer = "yes";
		return;
	}
	a->flag = PQgetvalue(items, last, IT_FLAG);
	a->since = PQgetvalue(items, last, IT_FIRST);
	a->days = ll(items, last, IT_DAYS);
	if (strcmp(PQgetvalue(items, last, IT_STATE), "RESOLVED") != 0) {
		a->answer = "no";
		a->until = PQgetvalue(items, last, IT_LAST);
		return;
	}
	a->until = PQgetvalue(items, last, IT_RESOLVED);
	a->event = val(items, last, IT_EVENT);
	a->event_date = val(items, last, IT_EVENT_DATE);
	a->event_veileder = val(items, last, IT_EVENT_VEILEDER);
	a->answer = a->event ? "yes" : "resolved";
	if (a->event_date && first_identified) {
		/* dates as YYYY-MM-DD: the day difference through their Julian day numbers */
		int y1, m1, d1, y2, m2, d2;

		if (sscanf(a->event_date, "%4d-%2d-%2d", &y1, &m1, &d1) == 3
		    && sscanf(first_identified, "%4d-%2d-%2d", &y2, &m2, &d2) == 3) {
			long j1, j2;

			m1 = m1 <= 2 ? (y1--, m1 + 12) : m1;
			m2 = m2 <= 2 ? (y2--, m2 + 12) : m2;
			j1 = 365L * y1 + y1 / 4 - y1 / 100 + y1 / 400 + (153L * (m1 - 3) + 2) / 5 + d1;
			j2 = 365L * y2 + y2 / 4 - y2 / 100 + y2 / 400 + (153L * (m2 - 3) + 2) / 5 + d2;
			a->has_days_identified = true;
			a->days_identified = j1 - j2;
		}
	}
}

/* The answer in words (text format and JSON "text"). */
static void
answer_text(strbuf *sb, const struct question *q, const struct answer *a)
{
	if (strcmp(a->answer, "no") == 0)
		sb_printf(sb, "no: %s open since %s (%lld days as of %s)", a->flag, a->since, a->days, a->until);
	else if (strcmp(a->answer, "yes") == 0 && a->event) {
		sb_printf(sb, "yes: %s on %s", a->event, a->event_date);
		if (a->event_veileder)
			sb_printf(sb, ", documented by %s", a->event_veileder);
		if (a->has_days_identified)
			sb_printf(sb, ", %lld days after first identified", a->days_identified);
		sb_printf(sb, " (%s resolved on %s)", a->flag, a->until);
	} else if (strcmp(a->answer, "yes") == 0)
		sb_printf(sb, "yes: never flagged %s in the %d stored %s in which it was %s", q->flags[0],
			  a->runs, a->runs == 1 ? "run" : "runs",
			  q->participation ? "a flagged participant" : "a candidate");
	else if (strcmp(a->answer, "resolved") == 0)
		sb_printf(sb, "%s resolved on %s after %lld days, no documenting source event stored",
			  a->flag, a->until, a->days);
	else
		sb_printf(sb, "unknown: no stored run judged it (%s)",
			  q->participation ? "never a flagged participant" : "never a candidate");
}

/* A "+"-joined code list as a JSON array. */
static void
json_codes(strbuf *sb, const char *list)
{
	const char *p = list;

	sb_putc(sb, '[');
	while (p && *p) {
		const char *q = strchr(p, '+');
		size_t n = q ? (size_t) (q - p) : strlen(p);
		char *code = xmalloc(n + 1);

		memcpy(code, p, n);
		code[n] = '\0';
		if (p != list)
			sb_putc(sb, ',');
		json_escape(sb, code);
		free(code);
		p = q ? q + 1 : NULL;
	}
	sb_putc(sb, ']');
}

/* Everything read for one case. */
struct trail {
	const char *case_ref;
	PGresult *runs, *items, *dels, *esc;
	const char *first_identified;   /* the first identification run's as_of, or NULL */
	bool protected;
	int escalate_days;
};

static void
write_text(strbuf *sb, const struct trail *t)
{
	int i, n;
	size_t k;

	sb_printf(sb, "Case %s: the documented trail from stored runs\n", t->case_ref);
	if (t->protected)
		sb_puts(sb, "  protected person: this trail is for local use; deliveries carried the case only as a count\n");
	sb_printf(sb, "  first identified  %s\n", t->first_identified ? t->first_identified : "never (no identification run)");

	sb_puts(sb, "\nRuns in which it was a candidate\n");
	if (PQntuples(t->runs) == 0)
		sb_puts(sb, "  none\n");
	for (i = 0; i < PQntuples(t->runs); i++) {
		const char *v = val(t->runs, i, RU_VEILEDER);

		sb_printf(sb, "  %s  run %s  reasons %s  flags %s  office %s, %s%s\n",
			  PQgetvalue(t->runs, i, RU_AS_OF), PQgetvalue(t->runs, i, RU_ID),
			  PQgetvalue(t->runs, i, RU_REASONS), PQgetvalue(t->runs, i, RU_FLAGS),
			  PQgetvalue(t->runs, i, RU_OFFICE)[0] ? PQgetvalue(t->runs, i, RU_OFFICE) : "(none)",
			  v ? "veileder " : "the office fallback", v ? v : "");
	}

	sb_puts(sb, "\nWorklist items\n");
	if (PQntuples(t->items) == 0)
		sb_puts(sb, "  none\n");
	for (i = 0; i < PQntuples(t->items); i++) {
		const char *st = PQgetvalue(t->items, i, IT_STATE);

		sb_printf(sb, "  %-20s first seen %s  ", PQgetvalue(t->items, i, IT_FLAG),
			  PQgetvalue(t->items, i, IT_FIRST));
		if (strcmp(st, "RESOLVED") != 0) {
			sb_printf(sb, "open (%s), last seen %s, %lld days\n", st, PQgetvalue(t->items, i, IT_LAST),
				  ll(t->items, i, IT_DAYS));
			continue;
		}
		sb_printf(sb, "resolved %s after %lld days", PQgetvalue(t->items, i, IT_RESOLVED),
			  ll(t->items, i, IT_DAYS));
		if (val(t->items, i, IT_EVENT)) {
			sb_printf(sb, ": %s on %s", PQgetvalue(t->items, i, IT_EVENT),
				  PQgetvalue(t->items, i, IT_EVENT_DATE));
			if (val(t->items, i, IT_EVENT_VEILEDER))
				sb_printf(sb, ", documented by %s", PQgetvalue(t->items, i, IT_EVENT_VEILEDER));
		} else
			sb_puts(sb, ": no documenting source event");
		sb_putc(sb, '\n');
	}

	sb_puts(sb, "\nDeliveries that carried it\n");
	if (PQntuples(t->dels) == 0)
		sb_puts(sb, "  none\n");
	for (i = 0; i < PQntuples(t->dels); i++) {
		const char *v = val(t->dels, i, DE_VEILEDER), *sent = val(t->dels, i, DE_SENT);
		long long att = ll(t->dels, i, DE_ATTEMPTS);

		sb_printf(sb, "  %s  %s by %s to %s%s (office %s), run as of %s: %s%s; %s%s%s, %lld %s\n",
			  PQgetvalue(t->dels, i, DE_ID), PQgetvalue(t->dels, i, DE_KIND),
			  PQgetvalue(t->dels, i, DE_CHANNEL), v ? "veileder " : "the office fallback",
			  v ? v : "", PQgetvalue(t->dels, i, DE_OFFICE)[0] ? PQgetvalue(t->dels, i, DE_OFFICE) : "none",
			  PQgetvalue(t->dels, i, DE_RUN_AS_OF), PQgetvalue(t->dels, i, DE_FLAGS),
			  is_true(t->dels, i, DE_NAMED) ? "" : " (as a count only)",
			  PQgetvalue(t->dels, i, DE_STATE), sent ? " at " : "", sent ? sent : "",
			  att, att == 1 ? "attempt" : "attempts");
	}

	sb_printf(sb, "\nEscalations to the leader (items open more than %d days)\n", t->escalate_days);
	n = 0;
	for (i = 0; i < PQntuples(t->esc); i++) {
		const char *d = val(t->esc, i, ES_DELIVERY);

		if (i == 0 || strcmp(PQgetvalue(t->esc, i, ES_RUN), PQgetvalue(t->esc, i - 1, ES_RUN)) != 0) {
			n++;
			sb_printf(sb, "  %s  run %s  %s open %lld days%s\n", PQgetvalue(t->esc, i, ES_AS_OF),
				  PQgetvalue(t->esc, i, ES_RUN), PQgetvalue(t->esc, i, ES_FLAGS),
				  ll(t->esc, i, ES_DAYS),
				  is_true(t->esc, i, ES_PROTECTED) ? " (protected: the målekort counts it, never names it)" : "");
			if (d == NULL)
				sb_puts(sb, "    no målekort delivery queued for that run\n");
		}
		if (d) {
			const char *sent = val(t->esc, i, ES_SENT);

			sb_printf(sb, "    målekort %s by %s to %s: %s%s%s\n", d, PQgetvalue(t->esc, i, ES_CHANNEL),
				  PQgetvalue(t->esc, i, ES_OFFICE)[0] ? PQgetvalue(t->esc, i, ES_OFFICE) : "the municipality",
				  PQgetvalue(t->esc, i, ES_STATE), sent ? " at " : "", sent ? sent : "");
		}
	}
	if (n == 0)
		sb_puts(sb, "  none\n");

	sb_puts(sb, "\nThe supervisor's questions\n");
	for (k = 0; k < ARRAY_SIZE(questions); k++) {
		struct answer a;
		char label[48];

		answer_question(&questions[k], t->runs, t->items, t->first_identified, &a);
		snprintf(label, sizeof(label), "%s:", questions[k].text);
		sb_printf(sb, "  %-30s ", label);
		answer_text(sb, &questions[k], &a);
		sb_putc(sb, '\n');
	}
}

static void
write_json(strbuf *sb, const struct trail *t)
{
	int i;
	size_t k;
	bool first;

	sb_puts(sb, "{\"type\":\"kvpscan.history\",\"version\":1,\"case_ref\":");
	json_escape(sb, t->case_ref);
	sb_printf(sb, ",\"protected\":%s,\"first_identified\":", t->protected ? "true" : "false");
	json_escape_or_null(sb, t->first_identified);
	sb_printf(sb, ",\"escalate_after_days\":%d,\n\"runs\":[", t->escalate_days);
	for (i = 0; i < PQntuples(t->runs); i++) {
		sb_printf(sb, "%s{\"run_id\":%s,\"as_of\":\"%s\",\"reasons\":", i ? ",\n " : "\n ",
			  PQgetvalue(t->runs, i, RU_ID), PQgetvalue(t->runs, i, RU_AS_OF));
		json_codes(sb, PQgetvalue(t->runs, i, RU_REASONS));
		sb_puts(sb, ",\"flags\":");
		json_codes(sb, PQgetvalue(t->runs, i, RU_FLAGS));
		sb_puts(sb, ",\"office_id\":");
		json_escape(sb, PQgetvalue(t->runs, i, RU_OFFICE));
		sb_puts(sb, ",\"veileder_id\":");
		json_escape_or_null(sb, val(t->runs, i, RU_VEILEDER));
		sb_printf(sb, ",\"routed_to_fallback\":%s}", is_true(t->runs, i, RU_FALLBACK) ? "true" : "false");
	}
	sb_puts(sb, "],\n\"items\":[");
	for (i = 0; i < PQntuples(t->items); i++) {
		sb_printf(sb, "%s{\"item_id\":%s,\"flag\":\"%s\",\"state\":\"%s\",\"first_seen\":\"%s\","
			  "\"last_seen\":\"%s\",\"resolved_on\":", i ? ",\n " : "\n ",
			  PQgetvalue(t->items, i, IT_ID), PQgetvalue(t->items, i, IT_FLAG),
			  PQgetvalue(t->items, i, IT_STATE), PQgetvalue(t->items, i, IT_FIRST),
			  PQgetvalue(t->items, i, IT_LAST));
		json_escape_or_null(sb, val(t->items, i, IT_RESOLVED));
		sb_printf(sb, ",\"days\":%lld,\"resolved_by\":", ll(t->items, i, IT_DAYS));
		if (val(t->items, i, IT_EVENT)) {
			sb_puts(sb, "{\"event\":");
			json_escape(sb, PQgetvalue(t->items, i, IT_EVENT));
			sb_puts(sb, ",\"date\":");
			json_escape_or_null(sb, val(t->items, i, IT_EVENT_DATE));
			sb_puts(sb, ",\"veileder_id\":");
			json_escape_or_null(sb, val(t->items, i, IT_EVENT_VEILEDER));
			sb_putc(sb, '}');
		} else
			sb_puts(sb, "null");
		sb_putc(sb, '}');
	}
	sb_puts(sb, "],\n\"deliveries\":[");
	for (i = 0; i < PQntuples(t->dels); i++) {
		sb_printf(sb, "%s{\"delivery_id\":", i ? ",\n " : "\n ");
		json_escape(sb, PQgetvalue(t->dels, i, DE_ID));
		sb_printf(sb, ",\"kind\":\"%s\",\"channel\":\"%s\",\"office_id\":", PQgetvalue(t->dels, i, DE_KIND),
			  PQgetvalue(t->dels, i, DE_CHANNEL));
		json_escape(sb, PQgetvalue(t->dels, i, DE_OFFICE));
		sb_puts(sb, ",\"veileder_id\":");
		json_escape_or_null(sb, val(t->dels, i, DE_VEILEDER));
		sb_printf(sb, ",\"state\":\"%s\",\"created_at\":", PQgetvalue(t->dels, i, DE_STATE));
		json_escape_or_null(sb, val(t->dels, i, DE_CREATED));
		sb_puts(sb, ",\"sent_at\":");
		json_escape_or_null(sb, val(t->dels, i, DE_SENT));
		sb_printf(sb, ",\"attempts\":%lld,\"run_as_of\":\"%s\",\"flags\":", ll(t->dels, i, DE_ATTEMPTS),
			  PQgetvalue(t->dels, i, DE_RUN_AS_OF));
		json_codes(sb, PQgetvalue(t->dels, i, DE_FLAGS));
		sb_printf(sb, ",\"named\":%s}", is_true(t->dels, i, DE_NAMED) ? "true" : "false");
	}
	sb_puts(sb, "],\n\"escalations\":[");
	first = true;
	for (i = 0; i < PQntuples(t->esc); i++) {
		const char *d = val(t->esc, i, ES_DELIVERY);
		bool new_run = i == 0 || strcmp(PQgetvalue(t->esc, i, ES_RUN), PQgetvalue(t->esc, i - 1, ES_RUN)) != 0;

		if (new_run) {
			if (!first)
				sb_puts(sb, "]}");
			sb_printf(sb, "%s{\"run_id\":%s,\"as_of\":\"%s\",\"flags\":", first ? "\n " : ",\n ",
				  PQgetvalue(t->esc, i, ES_RUN), PQgetvalue(t->esc, i, ES_AS_OF));
			first = false;
			json_codes(sb, PQgetvalue(t->esc, i, ES_FLAGS));
			sb_printf(sb, ",\"days_open\":%lld,\"protected\":%s,\"reports\":[", ll(t->esc, i, ES_DAYS),
				  is_true(t->esc, i, ES_PROTECTED) ? "true" : "false");
		}
		if (d) {
			if (!new_run)
				sb_putc(sb, ',');
			sb_puts(sb, "{\"delivery_id\":");
			json_escape(sb, d);
			sb_printf(sb, ",\"channel\":\"%s\",\"office_id\":", PQgetvalue(t->esc, i, ES_CHANNEL));
			json_escape(sb, PQgetvalue(t->esc, i, ES_OFFICE));
			sb_printf(sb, ",\"state\":\"%s\",\"sent_at\":", PQgetvalue(t->esc, i, ES_STATE));
			json_escape_or_null(sb, val(t->esc, i, ES_SENT));
			sb_printf(sb, ",\"attempts\":%lld}", ll(t->esc, i, ES_ATTEMPTS));
		}
	}
	if (!first)
		sb_puts(sb, "]}");
	sb_puts(sb, "],\n\"questions\":{");
	for (k = 0; k < ARRAY_SIZE(questions); k++) {
		struct answer a;
		strbuf txt;

		answer_question(&questions[k], t->runs, t->items, t->first_identified, &a);
		sb_init(&txt);
		answer_text(&txt, &questions[k], &a);
		sb_printf(sb, "%s\"%s\":{\"answer\":\"%s\",\"flag\":", k ? ",\n " : "\n ", questions[k].key, a.answer);
		json_escape_or_null(sb, a.flag);
		sb_puts(sb, ",\"since\":");
		json_escape_or_null(sb, a.since);
		sb_puts(sb, ",\"until\":");
		json_escape_or_null(sb, a.until);
		sb_puts(sb, ",\"event\":");
		json_escape_or_null(sb, a.event);
		sb_puts(sb, ",\"event_date\":");
		json_escape_or_null(sb, a.event_date);
		sb_puts(sb, ",\"veileder_id\":");
		json_escape_or_null(sb, a.event_veileder);
		if (strcmp(questions[k].key, "informed") == 0) {
			sb_puts(sb, ",\"days_after_first_identified\":");
			if (a.has_days_identified)
				sb_printf(sb, "%lld", a.days_identified);
			else
				sb_puts(sb, "null");
		}
		sb_printf(sb, ",\"runs_not_flagged\":%d,\"text\":", a.runs);
		json_escape(sb, sb_str(&txt));
		sb_putc(sb, '}');
		sb_free(&txt);
	}
	sb_puts(sb, "}}\n");
}

int
cmd_history(int argc, char **argv, kvp_ctx *ctx)
{
	const char *format = "text";
	const cmd_option opts[] = {
		{"format", .value = &format},
		{NULL}
	};
	PGconn *conn = NULL;
	PGresult *ids = NULL;
	struct trail t;
	strbuf out;
	char days[16];
	const char *p[2];
	int first, i, rc;

	memset(&t, 0, sizeof(t));
	sb_init(&out);
	rc = cmd_options(argc, argv, opts, history_usage, &first);
	if (rc != CMD_PROCEED)
		return rc;
	rc = KVP_EXIT_FAILURE;
	if (cmd_choice("format", format, (const char *const[]) {"text", "json", NULL}) < 0)
		return KVP_EXIT_USAGE;
	if (first + 1 != argc || argv[first][0] == '\0') {
		log_error(first >= argc ? "a case reference is required" : "give exactly one case reference");
		history_usage(stderr);
		return KVP_EXIT_USAGE;
	}
	t.case_ref = argv[first];
	t.escalate_days = ctx->cfg.rep_escalate_after_days;

	conn = cmd_connect(&ctx->cfg);
	if (conn == NULL)
		goto done;
	/* one snapshot, so the sections agree with each other */
	if (db_command(conn, "starting the history snapshot",
		       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL) < 0)
		goto done;
	p[0] = t.case_ref;
	ids = hist_query(conn, &ctx->cfg, "looking up the case", persons_sql, 1, p);
	if (ids == NULL)
		goto done;
	if (strcmp(PQgetvalue(ids, 0, 0), "{}") == 0) {
		/* the stored tables never had it: the source maps it, if it knows it */
		PQclear(ids);
		ids = hist_query(conn, &ctx->cfg, "looking up the case in the source", source_person_sql, 1, p);
		if (ids == NULL)
			goto done;
		if (strcmp(PQgetvalue(ids, 0, 0), "{}") == 0) {
			/* never the case_ref in a message: the log may be syslog */
			log_error("no stored run and no source person has that case reference");
			log_hint("check the spelling; \"kvpscan explain\" shows the source's facts for a case");
			goto done;
		}
	}
	p[0] = PQgetvalue(ids, 0, 0);
	snprintf(days, sizeof(days), "%d", t.escalate_days);
	p[1] = days;
	t.runs = hist_query(conn, &ctx->cfg, "reading the runs", runs_sql, 1, p);
	t.items = hist_query(conn, &ctx->cfg, "reading the items", items_sql, 1, p);
	t.dels = hist_query(conn, &ctx->cfg, "reading the deliveries", deliveries_sql, 1, p);
	t.esc = hist_query(conn, &ctx->cfg, "reading the escalations", escalations_sql, 2, p);
	if (t.runs == NULL || t.items == NULL || t.dels == NULL || t.esc == NULL)
		goto done;
	db_command(conn, "ending the history snapshot", "COMMIT", 0, NULL);

	for (i = 0; i < PQntuples(t.runs); i++) {
		if (is_true(t.runs, i, RU_PROTECTED))
			t.protected = true;
		if (t.first_identified == NULL && !has_code(PQgetvalue(t.runs, i, RU_REASONS), "IN_PROGRAMME"))
			t.first_identified = PQgetvalue(t.runs, i, RU_AS_OF);
	}
	for (i = 0; i < PQntuples(t.items); i++)
		if (is_true(t.items, i, IT_PROTECTED))
			t.protected = true;

	if (strcmp(format, "json") == 0)
		write_json(&out, &t);
	else
		write_text(&out, &t);
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		log_error("could not write the history");
		goto done;
	}
	/* that it was used, never for which case */
	log_info("history of one case shown: %d runs, %d items, %d deliveries",
		 PQntuples(t.runs), PQntuples(t.items), PQntuples(t.dels));
	rc = KVP_EXIT_OK;
done:
	PQclear(ids);
	PQclear(t.runs);
	PQclear(t.items);
	PQclear(t.dels);
	PQclear(t.esc);
	sb_free(&out);
	PQfinish(conn);
	return rc;
}
