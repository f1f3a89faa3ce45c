/* report_html.c - the målekort as one self-contained HTML page (inline CSS, no script) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

/*
 * Typography only: every style that carries meaning (a bar's length and
 * colour, a status colour) is inline, so a mail client that strips <style>
 * still shows the bars the notes speak of.
 */
static const char css[] =
	"body{font-family:system-ui,'DejaVu Sans',Arial,sans-serif;margin:24px;color:#1a1a1a;max-width:1100px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc}"
	"h3{font-size:15px;margin:18px 0 6px}.meta{color:#555;font-size:13px}"
	"table{border-collapse:collapse;font-size:13px;margin:6px 0}"
	"th,td{padding:3px 8px;text-align:left;border-bottom:1px solid #e3e3e3}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	".note{font-size:12px;color:#555}";

/* Colours of meaning (inline). */
#define C_TRACK   "#e9edf2"
#define C_GOAL    "#9aa9bb"
#define C_ACTUAL  "#1f6fb2"
#define C_FUNNEL  "#2e8b57"
#define C_GREEN   "#2e7d32"
#define C_AMBER   "#b26a00"
#define C_AMBER_BAR "#d98c1f"
#define C_RED     "#c0392b"
#define TD_N      "<td class=\"n\" style=\"text-align:right\">"

static double
pct_of(long long v, long long max)
{
	if (max <= 0 || v <= 0)
		return 0.0;
	if (v >= max)
		return 100.0;
	return (double) v * 100.0 / (double) max;
}

/* One bar: a grey track 360 px wide holding a coloured part, all inline. */
static void
bar(strbuf *sb, double pct, const char *colour)
{
	sb_printf(sb, "<div style=\"height:14px;width:360px;background:" C_TRACK ";margin:1px 0\">"
		  "<div style=\"height:14px;width:%.1f%%;background:%s\"></div></div>", pct, colour);
}

static const char *
status_colour(enum report_target_status st, bool for_bar)
{
	switch (st) {
	case REPORT_REACHED: return C_GREEN;
	case REPORT_BELOW: return for_bar ? C_AMBER_BAR : C_AMBER;
	case REPORT_FAR_BELOW: return C_RED;
	default: return for_bar ? C_ACTUAL : "#555";
	}
}

static void
office_title(strbuf *sb, const report_office *o)
{
	char title[160];

	html_escape(sb, report_office_title(o, title, sizeof(title)));
}

static void
scorecard(strbuf *sb, const report *rep)
{
	long long max = 1;
	int i;

	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;

		if (o->has_target && o->target > max)
			max = o->target;
		if (o->active > max)
			max = o->active;
	}
	sb_puts(sb, "<h2>Målekort: mål og faktiske deltakere</h2>\n<table>\n"
		"<tr><th>Kontor</th><th class=\"n\">Mål</th><th class=\"n\">Faktisk</th>"
		"<th class=\"n\">Avvik</th><th class=\"n\">Andel av mål</th><th>Status</th>"
		"<th>Mål / faktisk</th></tr>\n");
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;
		enum report_target_status st = report_status(o);
		long long gap = 0;
		double pct = 0;
		char b[32];

		sb_puts(sb, "<tr><td>");
		office_title(sb, o);
		sb_puts(sb, "</td>");
		if (o->has_target)
			sb_printf(sb, TD_N "%lld</td>", o->target);
		else
			sb_puts(sb, TD_N "–</td>");
		sb_printf(sb, TD_N "%lld</td>", o->active);
		if (report_gap(o, &gap))
			sb_printf(sb, TD_N "%lld</td>", gap);
		else
			sb_puts(sb, TD_N "–</td>");
		if (report_percent(o, &pct))
			sb_printf(sb, TD_N "%s %%</td>", report_decimal(pct, b, sizeof(b)));
		else
			sb_puts(sb, TD_N "–</td>");
		sb_printf(sb, "<td style=\"color:%s;font-weight:bold\">%s</td><td>", status_colour(st, false),
			  report_status_text(st));
		bar(sb, pct_of(o->has_target ? o->target : 0, max), C_GOAL);
		bar(sb, pct_of(o->active, max), status_colour(st, true));
		sb_puts(sb, "</td></tr>\n");
	}
	sb_puts(sb, "</table>\n<p class=\"note\">Øverste stolpe: mål; nederste: faktiske deltakere "
		"(personer med en aktiv KVP-deltakelse på datoen), farget etter status. Avvik = mål − faktisk. ");
	html_escape(sb, report_status_note);
	sb_puts(sb, "</p>\n");
}

static void
funnel(strbuf *sb, const report_office *o, const kvp_labels *labels)
{
	report_row rows[REPORT_OTHER_ROWS];
	long long max;
	int j, n;

	report_stages(o, rows);
	max = rows[0].has && rows[0].value > 0 ? rows[0].value : (o->candidates > 0 ? o->candidates : 1);
	sb_puts(sb, "<h3>");
	office_title(sb, o);
	sb_puts(sb, "</h3>\n<table>\n<tr><th>Trinn</th><th class=\"n\">Personer</th><th></th><th>Hvem</th></tr>\n");
	for (j = 0; j < REPORT_STAGES; j++) {
		sb_puts(sb, "<tr><td>");
		html_escape(sb, rows[j].label);
		if (rows[j].has)
			sb_printf(sb, "</td>" TD_N "%lld</td><td>", rows[j].value);
		else
			sb_puts(sb, "</td>" TD_N "–</td><td>");
		bar(sb, rows[j].has ? pct_of(rows[j].value, max) : 0.0, C_FUNNEL);
		sb_puts(sb, "</td><td class=\"note\">");
		html_escape(sb, rows[j].who);
		sb_puts(sb, "</td></tr>\n");
	}
	sb_puts(sb, "</table>\n<table>\n<tr><th>Andre tall</th><th class=\"n\">Personer</th><th>Hvem som telles</th></tr>\n");
	n = report_other(o, labels, rows);
	for (j = 0; j < n; j++) {
		sb_puts(sb, "<tr><td>");
		html_escape(sb, rows[j].label);
		if (rows[j].has)
			sb_printf(sb, "</td>" TD_N "%lld</td><td class=\"note\">", rows[j].value);
		else
			sb_puts(sb, "</td>" TD_N "–</td><td class=\"note\">");
		html_escape(sb, rows[j].who);
		sb_puts(sb, "</td></tr>\n");
	}
	sb_puts(sb, "</table>\n");
}

/* The escalated person's flags in words, joined by ", ". */
static void
flags_text(strbuf *sb, const kvp_labels *labels, const char *flags)
{
	const char *p = flags;
	char code[64], word[96];
	bool first = true;

	while (*p) {
		size_t len = strcspn(p, "+");

		snprintf(code, sizeof(code), "%.*s", (int) len, p);
		if (!first)
			sb_puts(sb, ", ");
		html_escape(sb, report_flag_text(labels, code, word, sizeof(word)));
		first = false;
		p += len;
		if (*p == '+')
			p++;
	}
}

static void
items(strbuf *sb, const report *rep)
{
	char b[32];
	int i;

	sb_printf(sb, "<h2>Arbeidslister: personer</h2>\n<table>\n<tr><th>Kontor</th><th class=\"n\">Nye</th>"
		  "<th class=\"n\">Ferdig fulgt opp</th><th class=\"n\">Åpne</th><th class=\"n\">Åpne over %d dager</th>"
		  "<th class=\"n\">Herav skjermede</th><th class=\"n\">Median dager åpen</th>"
		  "<th class=\"n\">Median dager til løst</th><th class=\"n\">Feilede utsendinger</th></tr>\n",
		  rep->escalate_after_days);
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;

		sb_puts(sb, "<tr><td>");
		office_title(sb, o);
		sb_printf(sb, "</td>" TD_N "%lld</td>" TD_N "%lld</td>" TD_N "%lld</td>", o->p_new, o->p_resolved, o->p_open);
		if (o->p_escalated > 0)
			sb_printf(sb, "<td class=\"n\" style=\"text-align:right;color:" C_RED ";font-weight:bold\">%lld</td>",
				  o->p_escalated);
		else
			sb_printf(sb, TD_N "%lld</td>", o->p_escalated);
		sb_printf(sb, TD_N "%lld</td>", o->p_escalated_protected);
		sb_printf(sb, TD_N "%s</td>", o->has_pmedian_open ? report_decimal(o->pmedian_open, b, sizeof(b)) : "–");
		sb_printf(sb, TD_N "%s</td>", o->has_pmedian_resolve ? report_decimal(o->pmedian_resolve, b, sizeof(b)) : "–");
		if (o->dead_deliveries > 0)
			sb_printf(sb, "<td class=\"n\" style=\"text-align:right;color:" C_RED ";font-weight:bold\">%lld</td></tr>\n",
				  o->dead_deliveries);
		else
			sb_printf(sb, TD_N "%lld</td></tr>\n", o->dead_deliveries);
	}
	sb_puts(sb, "</table>\n<p class=\"note\">Personer, ikke saker: en person med flere flagg telles én gang. "
		"Nye: personer med en sak først sett siden ");
	if (rep->cmp_as_of[0])
		html_escape(sb, rep->cmp_as_of);
	else
		sb_puts(sb, "første kjøring");
	sb_puts(sb, ". Ferdig fulgt opp: personer med en sak løst siden da og ingen åpen nå. Åpne: personer med "
		"minst én åpen sak (nye medregnet). Median dager åpen: dager siden personens eldste åpne sak. "
		"Median dager til løst: dager fra personens første til siste sak løst de siste 365 dagene. "
		"Feilede utsendinger: arbeidslister og rapporter fra denne og tidligere kjøringer som ikke kom fram.</p>\n");

	sb_printf(sb, "<h2>Personer med saker åpne lenger enn %d dager</h2>\n", rep->escalate_after_days);
	if (rep->n_esc == 0) {
		sb_puts(sb, "<p>Ingen.</p>\n");
		return;
	}
	sb_puts(sb, "<table>\n<tr><th>Kontor</th><th>Veileder</th><th>Saksnr.</th><th>Flagg</th>"
		"<th>Først sett</th><th class=\"n\">Dager åpen</th></tr>\n");
	for (i = 0; i < rep->n_esc; i++) {
		const report_escalation *e = &rep->esc[i];

		sb_puts(sb, "<tr><td>");
		html_escape(sb, e->office_id[0] ? e->office_id : REPORT_NO_OFFICE);
		sb_puts(sb, "</td><td>");
		if (e->veileder_id) {
			html_escape(sb, e->veileder_name ? e->veileder_name : e->veileder_id);
			sb_puts(sb, " (");
			html_escape(sb, e->veileder_id);
			sb_puts(sb, ")");
		} else {
			sb_puts(sb, "Kontorets felles postkasse");
		}
		sb_puts(sb, "</td><td>");
		html_escape(sb, e->case_ref);
		sb_puts(sb, "</td><td>");
		flags_text(sb, &rep->labels, e->flags);
		sb_puts(sb, "</td><td>");
		html_escape(sb, e->first_seen);
		sb_printf(sb, "</td>" TD_N "%lld</td></tr>\n", e->days_open);
	}
	sb_puts(sb, "</table>\n<p class=\"note\">Én linje per person, med flaggene til sakene som er åpne over "
		"grensen; først sett og dager åpen gjelder den eldste. Skjermede personer vises bare som antall.</p>\n");
}

/* One series as points joined by lines; a month without a run breaks the line. */
static void
series(strbuf *sb, const report *rep, bool active, long long max, const char *color)
{
	int i;

	for (i = 0; i < 12; i++) {
		const report_trend *t = &rep->trend[i], *n = i + 1 < 12 ? &rep->trend[i + 1] : NULL;
		double x = 40.0 + i * 50.0;
		double y = 170.0 - (double) (active ? t->active : t->flagged) * 150.0 / (double) max;

		if (!(active ? t->has_active : t->has_flagged))
			continue;
		sb_printf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x, y, color);
		if (n != NULL && (active ? n->has_active : n->has_flagged)) {
			double y2 = 170.0 - (double) (active ? n->active : n->flagged) * 150.0 / (double) max;

			sb_printf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
				  "stroke-width=\"2\"/>\n", x, y, x + 50.0, y2, color);
		}
	}
}

static void
trend(strbuf *sb, const report *rep)
{
	long long max = 1;
	int i;

	for (i = 0; i < 12; i++) {
		if (rep->trend[i].has_flagged && rep->trend[i].flagged > max)
			max = rep->trend[i].flagged;
		if (rep->trend[i].has_active && rep->trend[i].active > max)
			max = rep->trend[i].active;
	}
	sb_puts(sb, "<h2>Utvikling siste 12 måneder</h2>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"210\" "
		"role=\"img\" aria-label=\"Flagget og deltakere per måned\">\n"
		"<rect x=\"0\" y=\"0\" width=\"640\" height=\"210\" fill=\"#fafafa\"/>\n"
		"<line x1=\"30\" y1=\"170\" x2=\"620\" y2=\"170\" stroke=\"#999\"/>\n");
	sb_printf(sb, "<text x=\"4\" y=\"24\" font-size=\"11\" fill=\"#555\">%lld</text>\n"
		  "<text x=\"4\" y=\"172\" font-size=\"11\" fill=\"#555\">0</text>\n", max);
	for (i = 0; i < 12; i++)
		sb_printf(sb, "<text x=\"%.1f\" y=\"188\" font-size=\"10\" text-anchor=\"middle\" "
			  "fill=\"#555\">%s</text>\n", 40.0 + i * 50.0, rep->trend[i].month);
	series(sb, rep, false, max, "#d98c1f");
	series(sb, rep, true, max, "#1f6fb2");
	sb_puts(sb, "<rect x=\"40\" y=\"196\" width=\"10\" height=\"10\" fill=\"#d98c1f\"/>"
		"<text x=\"54\" y=\"205\" font-size=\"11\">Flagget</text>\n"
		"<rect x=\"130\" y=\"196\" width=\"10\" height=\"10\" fill=\"#1f6fb2\"/>"
		"<text x=\"144\" y=\"205\" font-size=\"11\">Deltakere</text>\n</svg>\n");
	sb_puts(sb, "<table>\n<tr><th>Måned</th><th>Kjøring</th><th class=\"n\">Flagget</th>"
		"<th class=\"n\">Deltakere</th></tr>\n");
	for (i = 0; i < 12; i++) {
		const report_trend *t = &rep->trend[i];

		sb_printf(sb, "<tr><td>%s</td><td>%s</td>", t->month, t->run_as_of[0] ? t->run_as_of : "–");
		if (t->has_flagged)
			sb_printf(sb, "<td class=\"n\">%lld</td>", t->flagged);
		else
			sb_puts(sb, "<td class=\"n\">–</td>");
		if (t->has_active)
			sb_printf(sb, "<td class=\"n\">%lld</td></tr>\n", t->active);
		else
			sb_puts(sb, "<td class=\"n\">–</td></tr>\n");
	}
	sb_puts(sb, "</table>\n");
}

int
report_write_html(const report *rep, FILE *out)
{
	strbuf sb;
	int i, rc;

	sb_init(&sb);
	sb_printf(&sb, "<!DOCTYPE html>\n<html lang=\"nb\">\n<head>\n<meta charset=\"utf-8\">\n"
		  "<title>Målekort KVP per %s</title>\n<style>%s</style>\n</head>\n<body>\n",
		  rep->as_of, css);
	sb_printf(&sb, "<h1>Målekort: kvalifiseringsprogrammet (KVP)</h1>\n<p class=\"meta\">Per %s "
		  "(kjøring %lld). Målperiode %s–%s.", rep->as_of, rep->run_id,
		  rep->period_start, rep->period_end);
	if (rep->office_filter) {
		sb_puts(&sb, " Kontor ");
		html_escape(&sb, rep->office_filter);
		sb_puts(&sb, ".");
	}
	sb_puts(&sb, "</p>\n");
	scorecard(&sb, rep);
	sb_puts(&sb, "<h2>Trakten: fra målgruppe til vurdert</h2>\n<p class=\"note\">Personer; hvert trinn er "
		"en del av trinnet over. Under hver trakt: andre tall, hvert for sin egen gruppe (ikke trinn i trakten).</p>\n");
	funnel(&sb, &rep->total, &rep->labels);
	for (i = 0; i < rep->n_offices && rep->n_offices > 1; i++)
		funnel(&sb, &rep->offices[i], &rep->labels);
	items(&sb, rep);
	trend(&sb, rep);
	sb_puts(&sb, "<p class=\"note\">");
	html_escape(&sb, REPORT_FOOTNOTE);
	sb_puts(&sb, "</p>\n</body>\n</html>\n");
	fputs(sb_str(&sb), out);
	sb_free(&sb);
	rc = fflush(out) == 0 && !ferror(out) ? 0 : -1;
	return rc;
}
