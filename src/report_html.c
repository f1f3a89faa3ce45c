/* report_html.c - the målekort as one self-contained HTML page (inline CSS, no script) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

static const char css[] =
	"body{font-family:system-ui,'DejaVu Sans',Arial,sans-serif;margin:24px;color:#1a1a1a;max-width:1100px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc}"
	"h3{font-size:15px;margin:18px 0 6px}.meta{color:#555;font-size:13px}"
	"table{border-collapse:collapse;font-size:13px;margin:6px 0}"
	"th,td{padding:3px 8px;text-align:left;border-bottom:1px solid #e3e3e3}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
	".bar{height:14px;background:#e9edf2;width:360px;position:relative}"
	".bar div{height:14px}.goal{background:#9aa9bb}.act{background:#1f6fb2}"
	".low{background:#c0392b}.fun{background:#2e8b57}.ex{background:#b9b9b9}.warn{background:#d98c1f}"
	".bad{color:#c0392b;font-weight:bold}.ok{color:#2e7d32;font-weight:bold}"
	".note{font-size:12px;color:#555}";

static double
pct_of(long long v, long long max)
{
	if (max <= 0 || v <= 0)
		return 0.0;
	if (v >= max)
		return 100.0;
	return (double) v * 100.0 / (double) max;
}

static void
bar_row(strbuf *sb, const char *label, long long v, long long max, const char *cls)
{
	sb_puts(sb, "<tr><td>");
	html_escape(sb, label);
	sb_printf(sb, "</td><td class=\"n\">%lld</td><td><div class=\"bar\"><div class=\"%s\" "
		  "style=\"width:%.1f%%\"></div></div></td></tr>\n", v, cls, pct_of(v, max));
}

static void
office_title(strbuf *sb, const report_office *o)
{
	if (strcmp(o->office_id, "TOTAL") == 0) {
		sb_puts(sb, "Hele kommunen");
		return;
	}
	html_escape(sb, o->office_id[0] ? o->office_id : "(uten kontor)");
	if (o->name[0]) {
		sb_puts(sb, " ");
		html_escape(sb, o->name);
	}
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
		"<th class=\"n\">Avvik</th><th class=\"n\">Andel av mål</th><th>Mål / faktisk</th></tr>\n");
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;
		double pct = 0;
		bool has = report_percent(o, &pct);

		sb_puts(sb, "<tr><td>");
		office_title(sb, o);
		sb_puts(sb, "</td>");
		if (o->has_target)
			sb_printf(sb, "<td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>",
				  o->target, o->active, o->target - o->active);
		else
			sb_printf(sb, "<td class=\"n\">–</td><td class=\"n\">%lld</td><td class=\"n\">–</td>", o->active);
		if (has)
			sb_printf(sb, "<td class=\"n %s\">%.1f %%</td>", pct < 50.0 ? "bad" : "ok", pct);
		else
			sb_puts(sb, "<td class=\"n\">–</td>");
		sb_printf(sb, "<td><div class=\"bar\"><div class=\"goal\" style=\"width:%.1f%%\"></div></div>"
			  "<div class=\"bar\"><div class=\"%s\" style=\"width:%.1f%%\"></div></div></td></tr>\n",
			  pct_of(o->has_target ? o->target : 0, max),
			  has && pct < 50.0 ? "low" : "act", pct_of(o->active, max));
	}
	sb_puts(sb, "</table>\n<p class=\"note\">Øverste stolpe: mål; nederste: faktiske deltakere "
		"(aktive deltakelser på datoen). Avvik = mål − faktisk.</p>\n");
}

static void
funnel(strbuf *sb, const report_office *o, const kvp_labels *labels)
{
	long long max = o->recipients > 0 ? o->recipients : 1;
	long long excluded = o->ex_in_programme + o->ex_pending + o->ex_benefit + o->ex_right_used;

	sb_puts(sb, "<h3>");
	office_title(sb, o);
	sb_puts(sb, "</h3>\n<table>\n");
	if (excluded > max)
		max = excluded;
	bar_row(sb, "Mottakere av økonomisk stønad", o->recipients, max, "fun");
	bar_row(sb, "Langtidsmottakere", o->long_term, max, "fun");
	bar_row(sb, "Spesielt tilpasset innsats", o->special_needs, max, "fun");
	bar_row(sb, "Unntatt: i program", o->ex_in_programme, max, "ex");
	bar_row(sb, "Unntatt: søknad til behandling", o->ex_pending, max, "ex");
	bar_row(sb, "Unntatt: AAP/uføretrygd", o->ex_benefit, max, "ex");
	bar_row(sb, "Unntatt: retten brukt", o->ex_right_used, max, "ex");
	bar_row(sb, "Kandidater", o->candidates, max, "fun");
	bar_row(sb, "Flagget", o->flagged, max, "warn");
	bar_row(sb, "Ikke informert", o->flag_not_informed, max, "warn");
	bar_row(sb, "Ikke vurdert", o->flag_not_assessed, max, "warn");
	bar_row(sb, "Arbeidsevnevurdering mangler", o->flag_aev_missing, max, "warn");
	bar_row(sb, "Informert", o->informed, max, "fun");
	bar_row(sb, "Vurdert: relevant", o->assessed_relevant, max, "fun");
	bar_row(sb, "Vurdert: ikke relevant", o->assessed_not_relevant, max, "ex");
	bar_row(sb, "Søkt", o->applied, max, "fun");
	bar_row(sb, "Innvilget", o->granted, max, "fun");
	bar_row(sb, "Deltakere (aktive)", o->active, max, "act");
	{
		static const char *const codes[5] = {"NOT_FULL_TIME", "NO_WRITTEN_PLAN",
			"NO_EVALUATION_DATE", "EVALUATION_OVERDUE", "OVER_DURATION"};
		int k;

		for (k = 0; k < 5; k++) {
			char label[96];

			snprintf(label, sizeof(label), "Deltakelse: %s", label_of(labels, codes[k]));
			bar_row(sb, label, o->part[k], max, "warn");
		}
	}
	sb_puts(sb, "</table>\n");
}

static void
items(strbuf *sb, const report *rep)
{
	int i;

	sb_printf(sb, "<h2>Arbeidslister</h2>\n<table>\n<tr><th>Kontor</th><th class=\"n\">Nye</th>"
		  "<th class=\"n\">Løst</th><th class=\"n\">Åpne</th><th class=\"n\">Åpne over %d dager</th>"
		  "<th class=\"n\">Herav skjermede</th><th class=\"n\">Median dager åpen</th>"
		  "<th class=\"n\">Median dager til løst</th><th class=\"n\">Feilede utsendinger</th></tr>\n",
		  rep->escalate_after_days);
	for (i = 0; i <= rep->n_offices; i++) {
		const report_office *o = i < rep->n_offices ? &rep->offices[i] : &rep->total;

		sb_puts(sb, "<tr><td>");
		office_title(sb, o);
		sb_printf(sb, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
			  "<td class=\"n%s\">%lld</td><td class=\"n\">%lld</td>",
			  o->items_new, o->items_resolved, o->items_open, o->escalated > 0 ? " bad" : "",
			  o->escalated, o->escalated_protected);
		if (o->has_median_open)
			sb_printf(sb, "<td class=\"n\">%.1f</td>", o->median_open);
		else
			sb_puts(sb, "<td class=\"n\">–</td>");
		if (o->has_median_resolve)
			sb_printf(sb, "<td class=\"n\">%.1f</td>", o->median_resolve);
		else
			sb_puts(sb, "<td class=\"n\">–</td>");
		sb_printf(sb, "<td class=\"n%s\">%lld</td></tr>\n", o->dead_deliveries > 0 ? " bad" : "",
			  o->dead_deliveries);
	}
	sb_puts(sb, "</table>\n<p class=\"note\">Nye og løste: siden ");
	if (rep->cmp_as_of[0])
		html_escape(sb, rep->cmp_as_of);
	else
		sb_puts(sb, "første kjøring");
	sb_puts(sb, ". Median dager åpen: åpne saker, dato − først sett. Median dager til løst: "
		"saker løst siste 365 dager.</p>\n");

	sb_printf(sb, "<h2>Saker åpne lenger enn %d dager</h2>\n", rep->escalate_after_days);
	if (rep->n_esc == 0) {
		sb_puts(sb, "<p>Ingen.</p>\n");
		return;
	}
	sb_puts(sb, "<table>\n<tr><th>Kontor</th><th>Veileder</th><th>Saksnr.</th><th>Flagg</th>"
		"<th>Først sett</th><th class=\"n\">Dager åpen</th></tr>\n");
	for (i = 0; i < rep->n_esc; i++) {
		const report_escalation *e = &rep->esc[i];

		sb_puts(sb, "<tr><td>");
		html_escape(sb, e->office_id[0] ? e->office_id : "(uten kontor)");
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
		html_escape(sb, strcmp(e->flag, "NOT_INFORMED") == 0 ? "Ikke informert"
			    : strcmp(e->flag, "NOT_ASSESSED") == 0 ? "Ikke vurdert"
			    : strcmp(e->flag, "AEV_MISSING") == 0 ? "Arbeidsevnevurdering mangler"
			    : strcmp(e->flag, "NOT_FULL_TIME") == 0 ? "Under 37,5 timer"
			    : strcmp(e->flag, "NO_WRITTEN_PLAN") == 0 ? "Mangler skriftlig program"
			    : strcmp(e->flag, "NO_EVALUATION_DATE") == 0 ? "Mangler evalueringsdato"
			    : strcmp(e->flag, "EVALUATION_OVERDUE") == 0 ? "Evaluering forfalt"
			    : strcmp(e->flag, "OVER_DURATION") == 0 ? "Over 2 år" : e->flag);
		sb_puts(sb, "</td><td>");
		html_escape(sb, e->first_seen);
		sb_printf(sb, "</td><td class=\"n\">%lld</td></tr>\n", e->days_open);
	}
	sb_puts(sb, "</table>\n<p class=\"note\">Skjermede personer vises bare som antall.</p>\n");
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
	sb_puts(&sb, "<h2>Trakten: fra mottaker til deltaker</h2>\n");
	funnel(&sb, &rep->total, &rep->labels);
	for (i = 0; i < rep->n_offices && rep->n_offices > 1; i++)
		funnel(&sb, &rep->offices[i], &rep->labels);
	items(&sb, rep);
	trend(&sb, rep);
	sb_puts(&sb, "<p class=\"note\">Laget av kvpscan fra lagrede kjøringer. Tallene gjelder personer "
		"i arbeidsfør alder; ingen personopplysninger utover saksnummer.</p>\n</body>\n</html>\n");
	fputs(sb_str(&sb), out);
	sb_free(&sb);
	rc = fflush(out) == 0 && !ferror(out) ? 0 : -1;
	return rc;
}
