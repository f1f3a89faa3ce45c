/* worklist.c - per-veileder and per-office worklists of a run, queued in the outbox */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "util.h"
#include "labels.h"
#include "outbox.h"
#include "worklist.h"
#include "state_sql.h"

/*
 * One row per recipient (kind 0, first) followed by one row per person on
 * that recipient's list (kind 1), ordered by recipient.  The person_id
 * never leaves the database: rows carry case_refs only, and protected
 * persons only as a count on their office's fallback list.
 * $1 run_id, $2 delivery.send (new, all_open), $3 delivery.channel.
 */
/* The run's live items and where each goes. */
#define LIVE_SQL \
	"live AS (" \
	/* no office, NULL or '', is one list: one delivery id */ \
	"  SELECT i.item_id, i.person_id, i.flag," \
	"         CASE WHEN i.first_run_id = $1::bigint THEN 'NEW' ELSE 'OPEN' END AS state," \
	"         i.case_ref, nullif(i.office_id, '') AS office_id, i.first_seen, i.protected," \
	"         CASE WHEN i.protected OR i.routed_to_fallback OR i.veileder_id IS NULL" \
	"                   OR v.veileder_id IS NULL OR v.active IS NOT TRUE" \
	"                   OR ($3 = 'email' AND coalesce(v.email, '') = '')" \
	"              THEN NULL ELSE i.veileder_id END AS to_veileder" \
	"    FROM @state@.item i" \
	"    LEFT JOIN @src@.veileder v ON v.veileder_id = i.veileder_id" \
	/* live at run $1: made by it or before, not resolved by then (migration 011) */ \
	"   WHERE i.first_run_id <= $1::bigint AND (i.state <> 'RESOLVED' OR i.resolved_run_id > $1::bigint)" \
	"     AND ($2 = 'all_open' OR i.first_run_id = $1::bigint)" \
	")"
/* The worklist's delivery id of a recipient (office_id, to_veileder) of run r. */
#define DELIVERY_ID_SQL(r, office, veileder) \
	"'wl-' || " r " || '-' || left(md5(coalesce(" office ", '') || '/'" \
	"           || coalesce(" veileder ", '')), 16)"
static const char rows_sql[] =
	"DECLARE kvp_worklist_rows NO SCROLL CURSOR FOR SELECT * FROM ("
	"WITH r AS (SELECT run_id, as_of FROM @state@.run WHERE run_id = $1::bigint), "
	LIVE_SQL
	", persons AS ("
	/* flags as a bit mask: an ordered array_agg would sort every item row */
	"  SELECT l.office_id, l.to_veileder, l.person_id, min(l.case_ref) AS case_ref,"
	"         bool_or(l.protected) AS protected, bool_or(l.state = 'NEW') AS is_new,"
	"         min(l.first_seen) AS first_seen,"
	"         bit_or(1 << array_position(" FLAG_ORDER ", l.flag)) AS flag_mask"
	"    FROM live l GROUP BY l.office_id, l.to_veileder, l.person_id"
	"), recip AS ("
	"  SELECT p.office_id, p.to_veileder, count(*) FILTER (WHERE p.protected) AS protected_count"
	"    FROM persons p GROUP BY p.office_id, p.to_veileder"
	") "
	"SELECT 0 AS kind, rc.office_id, rc.to_veileder, coalesce(o.name, rc.office_id) AS office_name,"
	"       vv.display_name,"
	"       CASE WHEN rc.to_veileder IS NULL THEN o.fallback_email ELSE vv.email END AS email,"
	"       rc.protected_count, r.as_of::text,"
	"       " DELIVERY_ID_SQL("r.run_id", "rc.office_id", "rc.to_veileder") " AS delivery_id,"
	"       NULL::text AS case_ref, NULL::text AS reasons, NULL::text AS flags,"
	"       NULL::int AS months, NULL::text AS first_seen, NULL::int AS days_open,"
	"       NULL::boolean AS is_new"
	"  FROM recip rc CROSS JOIN r"
	"  LEFT JOIN @src@.office o ON o.office_id = rc.office_id"
	"  LEFT JOIN @src@.veileder vv ON vv.veileder_id = rc.to_veileder "
	"UNION ALL "
	"SELECT 1, p.office_id, p.to_veileder, NULL, NULL, NULL, NULL, NULL, NULL,"
	"       p.case_ref, array_to_string(c.reasons, '+'),"
	"       array_to_string(ARRAY(SELECT f FROM unnest(" FLAG_ORDER ") WITH ORDINALITY u(f, k)"
	"                             WHERE p.flag_mask & (1 << k::int) <> 0 ORDER BY k), '+'),"
	"       c.months, p.first_seen::text, r.as_of - p.first_seen, p.is_new"
	"  FROM persons p CROSS JOIN r"
	/*
	 * at most one candidate row holds at a run (migration 011: a run that
	 * writes a person's row closes the one before); a hash join, planned
	 * with nested loops off (worklist_enqueue()): the run's candidates are
	 * new rows the planner's statistics do not know, and a nested loop over
	 * what it thought one row rescanned the run per person (270 s)
	 */
	"  LEFT JOIN @state@.candidate c"
	"    ON c.person_id = p.person_id AND " CANDIDATE_AT("c", "$1::bigint")
	" WHERE NOT p.protected) w "
	/* byte order: any fixed order groups the rows, and "C" sorts fastest */
	"ORDER BY office_id COLLATE \"C\" NULLS LAST, to_veileder COLLATE \"C\" NULLS LAST, kind,"
	" case_ref COLLATE \"C\"";

enum { R_KIND = 0, R_OFFICE, R_VEILEDER, R_OFFICE_NAME, R_VNAME, R_EMAIL, R_PROTECTED,
       R_AS_OF, R_DELIVERY_ID, R_CASE_REF, R_REASONS, R_FLAGS, R_MONTHS, R_FIRST_SEEN,
       R_DAYS_OPEN, R_IS_NEW };

/* Worklists built and waiting to be queued (outbox_enqueue()); owns every string in it. */
struct wl_batch {
	int n;
	char *own[OUTBOX_ENQUEUE_MAX][8];   /* the strings of each message */
	struct outbox_msg m[OUTBOX_ENQUEUE_MAX];
};

#define FETCH_ROWS 1000
#define NO_ADDRESS "no email address for recipient"
#define PROTECTED_HINT "kjør \"kvpscan explain\" lokalt på kvpscan-serveren for å finne dem"

/* One recipient's worklist while its rows stream in. */
struct wl {
	char *office_id, *veileder_id, *office_name, *vname, *email, *as_of, *delivery_id;
	long protected_count;
	long persons, n_new, n_open, f_informed, f_assessed, f_aev;
	long f_part[7];             /* persons per participation check, in part_flags order */
	strbuf items_json, text_rows, html_rows;
	const kvp_labels *labels;   /* the words for the codes (the caller's) */
};

/* The participation checks, in their fixed order, with the summary's JSON key (labels.c words them). */
static const struct part_flag {
	const char *code, *key;
} part_flags[7] = {
	{"NOT_FULL_TIME", "not_full_time"},
	{"NO_WRITTEN_PLAN", "no_written_plan"},
	{"NO_EVALUATION_DATE", "no_evaluation_date"},
	{"EVALUATION_OVERDUE", "evaluation_overdue"},
	{"OVER_DURATION", "over_duration"},
	{"AEV_AFTER_DECISION", "aev_after_decision"},
	{"NO_SELF_ASSESSMENT", "no_self_assessment"},
};

/* Where code_label() writes, and with which words. */
struct label_out {
	strbuf *sb;
	const kvp_labels *labels;
};

/* Append s padded with spaces to width characters (UTF-8 code points). */
static void
pad_utf8(strbuf *sb, const char *s, int width)
{
	size_t n = utf8_width(s);

	sb_puts(sb, s);
	for (; width > 0 && n < (size_t) width; n++)
		sb_putc(sb, ' ');
}

/* Split a "+"-joined code list; call fn for each code with its index. */
static void
each_code(const char *list, void (*fn)(void *arg, const char *code, int i), void *arg)
{
	char buf[64];
	const char *p = list, *q;
	int i = 0;

	while (p && *p) {
		size_t len;

		q = strchr(p, '+');
		len = q ? (size_t) (q - p) : strlen(p);
		if (len < sizeof(buf)) {
			memcpy(buf, p, len);
			buf[len] = '\0';
			fn(arg, buf, i++);
		}
		p = q ? q + 1 : NULL;
	}
}

static void
code_json(void *arg, const char *code, int i)
{
	if (i > 0)
		sb_putc(arg, ',');
	json_escape(arg, code);
}

static void
code_label(void *arg, const char *code, int i)
{
	struct label_out *o = arg;

	if (i > 0)
		sb_puts(o->sb, ", ");
	sb_puts(o->sb, label_of(o->labels, code));
}

static void
wl_free(struct wl *w)
{
	free(w->office_id);
	free(w->veileder_id);
	free(w->office_name);
	free(w->vname);
	free(w->email);
	free(w->as_of);
	free(w->delivery_id);
	sb_free(&w->items_json);
	sb_free(&w->text_rows);
	sb_free(&w->html_rows);
	memset(w, 0, sizeof(*w));
}

static char *
dup_col(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

/* Start a recipient from its header row. */
static void
wl_start(struct wl *w, const PGresult *res, int row)
{
	int64_t pc = 0;

	memset(w, 0, sizeof(*w));
	w->office_id = dup_col(res, row, R_OFFICE);
	w->veileder_id = dup_col(res, row, R_VEILEDER);
	w->office_name = dup_col(res, row, R_OFFICE_NAME);
	w->vname = dup_col(res, row, R_VNAME);
	w->email = dup_col(res, row, R_EMAIL);
	w->as_of = dup_col(res, row, R_AS_OF);
	w->delivery_id = dup_col(res, row, R_DELIVERY_ID);
	if (parse_int64(PQgetvalue(res, row, R_PROTECTED), 0, INT32_MAX, &pc) == 0)
		w->protected_count = (long) pc;
	sb_init(&w->items_json);
	sb_init(&w->text_rows);
	sb_init(&w->html_rows);
}

/* Add one person's line. */
static void
wl_add(struct wl *w, const PGresult *res, int row)
{
	const char *case_ref = PQgetvalue(res, row, R_CASE_REF);
	const char *reasons = PQgetvalue(res, row, R_REASONS);
	const char *flags = PQgetvalue(res, row, R_FLAGS);
	const char *months = PQgetisnull(res, row, R_MONTHS) ? "0" : PQgetvalue(res, row, R_MONTHS);
	const char *first_seen = PQgetvalue(res, row, R_FIRST_SEEN);
	const char *days = PQgetvalue(res, row, R_DAYS_OPEN);
	bool is_new = strcmp(PQgetvalue(res, row, R_IS_NEW), "t") == 0;
	const char *status = is_new ? "NEW" : "OPEN";
	strbuf lab;
	struct label_out lo = {&lab, w->labels};

	w->persons++;
	if (is_new)
		w->n_new++;
	else
		w->n_open++;
	if (strstr(flags, "NOT_INFORMED"))
		w->f_informed++;
	if (strstr(flags, "NOT_ASSESSED"))
		w->f_assessed++;
	if (strstr(flags, "AEV_MISSING"))
		w->f_aev++;
	{
		size_t k;

		for (k = 0; k < ARRAY_SIZE(part_flags); k++)
			if (strstr(flags, part_flags[k].code))
				w->f_part[k]++;
	}

	if (w->items_json.len > 0)
		sb_putc(&w->items_json, ',');
	sb_puts(&w->items_json, "{\"case_ref\":");
	json_escape(&w->items_json, case_ref);
	sb_printf(&w->items_json, ",\"status\":\"%s\",\"flags\":[", status);
	each_code(flags, code_json, &w->items_json);
	sb_puts(&w->items_json, "],\"reasons\":[");
	each_code(reasons, code_json, &w->items_json);
	sb_printf(&w->items_json, "],\"months\":%s,\"first_seen\":\"%s\",\"days_open\":%s}",
		  months, first_seen, days);

	sb_init(&lab);
	pad_utf8(&w->text_rows, case_ref, 16);
	pad_utf8(&w->text_rows, is_new ? "NY" : "ÅPEN", 6);
	sb_printf(&w->text_rows, "%4s  %s  %10s  ", months, first_seen, days);
	each_code(flags, code_label, &lo);
	sb_puts(&w->text_rows, sb_str(&lab));
	sb_puts(&w->text_rows, " (");
	sb_reset(&lab);
	each_code(reasons, code_label, &lo);
	sb_puts(&w->text_rows, sb_str(&lab));
	sb_puts(&w->text_rows, ")\n");

#define TD "<td style=\"padding:4px 8px;border-bottom:1px solid #ddd\">"
	sb_puts(&w->html_rows, "<tr>" TD "<strong>");
	html_escape(&w->html_rows, case_ref);
	sb_printf(&w->html_rows, "</strong></td>" TD "%s</td>" TD, is_new
		  ? "<span style=\"color:#b00020;font-weight:bold\">NY</span>" : "ÅPEN");
	sb_reset(&lab);
	each_code(flags, code_label, &lo);
	html_escape(&w->html_rows, sb_str(&lab));
	sb_puts(&w->html_rows, "</td>" TD);
	sb_reset(&lab);
	each_code(reasons, code_label, &lo);
	html_escape(&w->html_rows, sb_str(&lab));
	sb_puts(&w->html_rows, "</td><td style=\"padding:4px 8px;border-bottom:1px solid #ddd;text-align:right\">");
	html_escape(&w->html_rows, months);
	sb_puts(&w->html_rows, "</td>" TD);
	html_escape(&w->html_rows, first_seen);
	sb_puts(&w->html_rows, "</td><td style=\"padding:4px 8px;border-bottom:1px solid #ddd;text-align:right\">");
	html_escape(&w->html_rows, days);
	sb_puts(&w->html_rows, "</td></tr>\n");
#undef TD
	sb_free(&lab);
}

/* The versioned JSON document; caller frees. */
static char *
wl_json(const struct wl *w, int64_t run_id)
{
	strbuf sb;
	size_t i;

	sb_init(&sb);
	sb_printf(&sb, "{\"type\":\"kvpscan.worklist\",\"version\":%d,\"delivery_id\":",
		  WORKLIST_JSON_VERSION);
	json_escape(&sb, w->delivery_id);
	sb_printf(&sb, ",\"run_id\":%" PRId64 ",\"as_of\":", run_id);
	json_escape(&sb, w->as_of);
	sb_puts(&sb, ",\"office_id\":");
	json_escape_or_null(&sb, w->office_id);
	sb_puts(&sb, ",\"office_name\":");
	json_escape_or_null(&sb, w->office_name);
	sb_puts(&sb, ",\"veileder_id\":");
	json_escape_or_null(&sb, w->veileder_id);
	sb_printf(&sb, ",\"summary\":{\"cases\":%ld,\"new\":%ld,\"open\":%ld,"
		  "\"not_informed\":%ld,\"not_assessed\":%ld,\"aev_missing\":%ld,",
		  w->persons, w->n_new, w->n_open, w->f_informed, w->f_assessed, w->f_aev);
	for (i = 0; i < ARRAY_SIZE(part_flags); i++)
		sb_printf(&sb, "\"%s\":%ld,", part_flags[i].key, w->f_part[i]);
	sb_printf(&sb, "\"protected\":%ld},", w->protected_count);
	sb_printf(&sb, "\"items\":[%s],\"protected_count\":%ld", sb_str(&w->items_json),
		  w->protected_count);
	if (w->protected_count > 0) {
		sb_puts(&sb, ",\"protected_hint\":");
		json_escape(&sb, PROTECTED_HINT);
	}
	sb_puts(&sb, "}\n");
	return sb_steal(&sb);
}

/* The plain-text email; caller frees. */
static char *
wl_text(const struct wl *w, const char *who)
{
	strbuf sb;
	size_t i;

	sb_init(&sb);
	sb_printf(&sb, "KVP-arbeidsliste for %s per %s\n", w->office_name, w->as_of);
	sb_printf(&sb, "Til: %s\n\n", who);
	if (w->persons == 1)
		sb_puts(&sb,
			"Saken under gjelder en person som har mottatt økonomisk stønad lenge eller har\n"
			"behov for spesielt tilpasset innsats, uten at det er dokumentert at personen er\n"
			"informert om eller vurdert for kvalifiseringsprogrammet (KVP).\n"
			"Slå opp saksreferansen i fagsystemet.\n\n");
	else
		sb_puts(&sb,
			"Sakene under gjelder personer som har mottatt økonomisk stønad lenge eller har\n"
			"behov for spesielt tilpasset innsats, uten at det er dokumentert at de er\n"
			"informert om eller vurdert for kvalifiseringsprogrammet (KVP).\n"
			"Slå opp saksreferansen i fagsystemet.\n\n");
	sb_printf(&sb, "Oppsummering: %ld %s, %ld %s i denne kjøringen, %ld %s fra før\n",
		  w->persons + w->protected_count, label_count(w->persons + w->protected_count, "sak", "saker"),
		  w->n_new, label_count(w->n_new, "ny", "nye"), w->n_open, label_count(w->n_open, "åpen", "åpne"));
	sb_printf(&sb, "  Ikke informert om KVP:          %ld\n", w->f_informed);
	sb_printf(&sb, "  Ikke vurdert for KVP:           %ld\n", w->f_assessed);
	sb_printf(&sb, "  Mangler arbeidsevnevurdering:   %ld\n", w->f_aev);
	for (i = 0; i < ARRAY_SIZE(part_flags); i++)
		if (w->f_part[i] > 0) {
			sb_puts(&sb, "  KVP-deltaker, ");
			sb_puts(&sb, label_of(w->labels, part_flags[i].code));
			sb_printf(&sb, ": %ld\n", w->f_part[i]);
		}
	sb_putc(&sb, '\n');
	if (w->persons > 0) {
		pad_utf8(&sb, "Saksref", 16);
		pad_utf8(&sb, "Status", 6);
		sb_puts(&sb, " Mnd  Første gang  Dager åpen  Mangler (grunnlag)\n");
		sb_puts(&sb, sb_str(&w->text_rows));
		sb_putc(&sb, '\n');
	}
	if (w->protected_count > 0)
		sb_printf(&sb, "%ld %s med adressesperre eller skjerming og vises ikke her:\n"
			  "%s.\n\n", w->protected_count,
			  label_count(w->protected_count, "sak gjelder en person", "saker gjelder personer"),
			  PROTECTED_HINT);
	sb_puts(&sb, "-- \nSendt av kvpscan. E-posten inneholder bare saksreferanser, ingen personopplysninger.\n");
	return sb_steal(&sb);
}

/* The HTML email: a readable table, inline CSS, no scripts; caller frees. */
static char *
wl_html(const struct wl *w, const char *subject, const char *who)
{
	strbuf sb;
	size_t i;
	static const char *const th = "<th style=\"padding:4px 8px;border-bottom:2px solid #333;text-align:left\">";

	sb_init(&sb);
	sb_puts(&sb, "<!DOCTYPE html>\n<html lang=\"nb\"><head><meta charset=\"utf-8\"><title>");
	html_escape(&sb, subject);
	sb_puts(&sb, "</title></head>\n<body style=\"font-family:Arial,Helvetica,sans-serif;"
		"font-size:14px;color:#1a1a1a;margin:16px\">\n<h1 style=\"font-size:18px\">KVP-arbeidsliste for ");
	html_escape(&sb, w->office_name);
	sb_puts(&sb, "</h1>\n<p>Per ");
	html_escape(&sb, w->as_of);
	sb_puts(&sb, " &ndash; til ");
	html_escape(&sb, who);
	if (w->persons == 1)
		sb_puts(&sb, "</p>\n<p>Saken under gjelder en person som har mottatt økonomisk stønad lenge eller har "
			"behov for spesielt tilpasset innsats, uten at det er dokumentert at personen er informert om "
			"eller vurdert for kvalifiseringsprogrammet (KVP). Slå opp saksreferansen i fagsystemet.</p>\n");
	else
		sb_puts(&sb, "</p>\n<p>Sakene under gjelder personer som har mottatt økonomisk stønad lenge eller har "
			"behov for spesielt tilpasset innsats, uten at det er dokumentert at de er informert om eller "
			"vurdert for kvalifiseringsprogrammet (KVP). Slå opp saksreferansen i fagsystemet.</p>\n");
	sb_printf(&sb, "<p><strong>%ld %s</strong>, %ld %s i denne kjøringen, %ld %s fra før.<br>\n"
		  "Ikke informert om KVP: %ld &middot; Ikke vurdert for KVP: %ld &middot; "
		  "Mangler arbeidsevnevurdering: %ld</p>\n",
		  w->persons + w->protected_count, label_count(w->persons + w->protected_count, "sak", "saker"),
		  w->n_new, label_count(w->n_new, "ny", "nye"), w->n_open, label_count(w->n_open, "åpen", "åpne"),
		  w->f_informed, w->f_assessed, w->f_aev);
	for (i = 0; i < ARRAY_SIZE(part_flags); i++)
		if (w->f_part[i] > 0) {
			sb_puts(&sb, "<p>KVP-deltaker, ");
			html_escape(&sb, label_of(w->labels, part_flags[i].code));
			sb_printf(&sb, ": %ld</p>\n", w->f_part[i]);
		}
	if (w->persons > 0) {
		sb_puts(&sb, "<table style=\"border-collapse:collapse;font-size:14px\">\n<thead><tr>");
		sb_printf(&sb, "%sSaksref</th>%sStatus</th>%sMangler</th>%sGrunnlag</th>%sMnd</th>"
			  "%sFørste gang</th>%sDager åpen</th>", th, th, th, th, th, th, th);
		sb_puts(&sb, "</tr></thead>\n<tbody>\n");
		sb_puts(&sb, sb_str(&w->html_rows));
		sb_puts(&sb, "</tbody></table>\n");
	}
	if (w->protected_count > 0) {
		sb_printf(&sb, "<p style=\"background:#fff4e5;padding:8px\">%ld %s med "
			  "adressesperre eller skjerming og vises ikke her: ", w->protected_count,
			  label_count(w->protected_count, "sak gjelder en person", "saker gjelder personer"));
		html_escape(&sb, PROTECTED_HINT);
		sb_puts(&sb, ".</p>\n");
	}
	sb_puts(&sb, "<p style=\"color:#666;font-size:12px\">Sendt av kvpscan. E-posten inneholder bare "
		"saksreferanser, ingen personopplysninger.</p>\n</body></html>\n");
	return sb_steal(&sb);
}

/* Free the batch's strings and empty it. */
static void
wl_batch_clear(struct wl_batch *b)
{
	int i, k;

	for (i = 0; i < b->n; i++)
		for (k = 0; k < 8; k++)
			free(b->own[i][k]);
	b->n = 0;
}

/*
 * Queue the batched worklists in one statement: a worklist already queued
 * stays, except one that died for want of an address, which takes a newly
 * set one.  Adds to *queued and *dead; 0 or -1 logged.
 */
static int
wl_batch_flush(PGconn *conn, const kvp_config *cfg, struct wl_batch *b, int *queued, int *dead)
{
	int n = 0;

	if (b->n > 0)
		n = outbox_enqueue(conn, cfg, b->m, b->n, OUTBOX_TAKE_RECIPIENT, dead);
	wl_batch_clear(b);
	if (n < 0)
		return -1;
	*queued += n;
	return 0;
}

/* Build a worklist's bodies and add its delivery to the batch (flushed when full); 0 or -1. */
static int
wl_finish(PGconn *conn, const kvp_config *cfg, struct wl_batch *b, const struct wl *w,
	  int64_t run_id, int *queued, int *dead)
{
	char *who, **own;
	const char *recipient = NULL;
	struct outbox_msg *m;

	if (b->n == OUTBOX_ENQUEUE_MAX && wl_batch_flush(conn, cfg, b, queued, dead) < 0)
		return -1;
	own = b->own[b->n];
	m = &b->m[b->n];
	b->n++;
	memset(m, 0, sizeof(*m));

	if (w->veileder_id)
		who = xasprintf("veileder %s", w->veileder_id);   /* an ident, never a name */
	else
		who = xstrdup("kontorets felles postkasse (saker uten aktiv veileder)");
	own[0] = xasprintf("KVP-arbeidsliste %s %s: %ld %s", w->office_name ? w->office_name : "",
			   w->as_of, w->persons + w->protected_count,
			   label_count(w->persons + w->protected_count, "sak", "saker"));
	own[1] = wl_text(w, who);
	own[2] = wl_html(w, own[0], who);
	own[3] = wl_json(w, run_id);
	free(who);
	m->state = "pending";
	if (strcmp(cfg->del_channel, "email") == 0) {
		recipient = w->email && w->email[0] ? w->email : NULL;
		if (recipient == NULL) {
			m->state = "dead";
			m->last_error = NO_ADDRESS;
		}
	} else if (strcmp(cfg->del_channel, "webhook") == 0) {
		recipient = cfg->wh_url[0] ? cfg->wh_url : NULL;
	} else {
		recipient = w->delivery_id;
	}
	/* w is freed before the batch is queued: copy what the statement needs */
	own[4] = xstrdup(w->delivery_id);
	own[5] = recipient ? xstrdup(recipient) : NULL;
	own[6] = w->office_id ? xstrdup(w->office_id) : NULL;
	own[7] = w->veileder_id ? xstrdup(w->veileder_id) : NULL;
	m->delivery_id = own[4];
	m->run_id = run_id;
	m->kind = "worklist";
	m->channel = cfg->del_channel;
	m->recipient = own[5];
	m->office_id = own[6];
	m->veileder_id = own[7];
	m->subject = own[0];
	m->text_body = own[1];
	m->html_body = own[2];
	m->json_body = own[3];
	m->item_count = w->persons + w->protected_count;
	/* which items it carried follows from this and the run's candidates (migration 011) */
	m->worklist_send = cfg->del_send;
	return 0;
}

int
worklist_enqueue(PGconn *conn, const kvp_config *cfg, int64_t run_id)
{
	char *declare = NULL;
	char run_s[24];
	const char *params[3];
	PGresult *res = NULL;
	struct wl cur;
	struct wl_batch *batch = xcalloc(1, sizeof(*batch));
	kvp_labels labels = {0};
	bool have = false, own_tx = false, cursor = false;
	int queued = 0, dead = 0, rc = -1, i, n, r;

	memset(&cur, 0, sizeof(cur));
	labels_init(&labels, cfg);
	snprintf(run_s, sizeof(run_s), "%" PRId64, run_id);
	params[0] = run_s;
	params[1] = cfg->del_send;
	params[2] = cfg->del_channel;
	declare = db_expand(conn, cfg, rows_sql);

	if (PQtransactionStatus(conn) == PQTRANS_IDLE) {
		if (db_begin(conn) < 0)
			goto cleanup;
		own_tx = true;
	}
	/* every join of the rows is an equality on a column: hashed, whatever the statistics say */
	if (db_command(conn, "planning the worklist rows", "SET LOCAL enable_nestloop = off", 0, NULL) < 0
	    || db_command(conn, "read the worklist rows", declare, 3, params) < 0)
		goto cleanup;
	cursor = true;
	if (db_command(conn, "planning the worklist rows", "SET LOCAL enable_nestloop TO DEFAULT", 0, NULL) < 0)
		goto cleanup;
	do {
		res = db_exec(conn, "fetch worklist rows",
			      "FETCH FORWARD 1000 FROM kvp_worklist_rows", 0, NULL);
		if (res == NULL)
			goto cleanup;
		n = PQntuples(res);
		for (i = 0; i < n; i++) {
			if (strcmp(PQgetvalue(res, i, R_KIND), "0") == 0) {
				if (have) {
					r = wl_finish(conn, cfg, batch, &cur, run_id, &queued, &dead);
					wl_free(&cur);
					if (r < 0)
						goto cleanup;
				}
				wl_start(&cur, res, i);
				cur.labels = &labels;
				have = true;
			} else if (have) {
				wl_add(&cur, res, i);
			}
		}
		PQclear(res);
		res = NULL;
	} while (n == FETCH_ROWS);
	if (have && wl_finish(conn, cfg, batch, &cur, run_id, &queued, &dead) < 0)
		goto cleanup;
	if (wl_batch_flush(conn, cfg, batch, &queued, &dead) < 0)
		goto cleanup;
	cursor = false;
	if (db_command(conn, "close the worklist rows", "CLOSE kvp_worklist_rows", 0, NULL) < 0)
		goto cleanup;
	if (own_tx) {
		own_tx = false;
		if (db_commit(conn) < 0)
			goto cleanup;
	}
	log_info("queued %d worklists for run %" PRId64, queued, run_id);
	if (dead > 0) {
		log_warning("%d worklists have no email address and will not be sent", dead);
		log_hint("set veileder.email or office.fallback_email in the source, then run \"kvpscan deliver --run %" PRId64 "\"",
			 run_id);
	}
	rc = queued;

cleanup:
	if (cursor && PQtransactionStatus(conn) == PQTRANS_INTRANS)
		db_command(conn, "close the worklist rows", "CLOSE kvp_worklist_rows", 0, NULL);
	if (own_tx)
		db_rollback(conn);
	PQclear(res);
	wl_free(&cur);
	wl_batch_clear(batch);
	free(batch);
	free(declare);
	return rc;
}
