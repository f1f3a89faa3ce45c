/* scan_output.c - the scan's result formats: csv, json, table */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "scan_output.h"
#include "util.h"

/* Fixed column widths keep the table streaming: a longer value just pushes on. */
#define W_CASE 24
#define W_OFFICE 8
#define W_VEIL 10
#define W_REASONS 24
#define W_FLAGS 40
#define W_MONTHS 6

const char *const scan_format_names[] = {
	[SCAN_FMT_CSV] = "csv", [SCAN_FMT_JSON] = "json", [SCAN_FMT_TABLE] = "table", NULL
};

static void
table_line(scan_writer *w, const char *c, const char *o, const char *v, const char *r,
	   const char *f, const char *m, const char *x)
{
	fprintf(w->out, "%-*s %-*s %-*s %-*s %-*s %*s", W_CASE, c, W_OFFICE, o, W_VEIL, v,
		W_REASONS, r, W_FLAGS, f, W_MONTHS, m);
	if (w->with_excluded)
		fprintf(w->out, "  %s", x);
	fputc('\n', w->out);
}

void
scan_writer_begin(scan_writer *w, FILE *out, enum scan_format fmt, bool with_excluded)
{
	w->out = out;
	w->fmt = fmt;
	w->with_excluded = with_excluded;
	w->rows = 0;
	switch (fmt) {
	case SCAN_FMT_CSV:
		fputs(with_excluded ? "case_ref,office_id,veileder_id,reasons,flags,months,excluded\n"
			: "case_ref,office_id,veileder_id,reasons,flags,months\n", out);
		break;
	case SCAN_FMT_JSON:
		fputc('[', out);
		break;
	case SCAN_FMT_TABLE:
		table_line(w, "case_ref", "office", "veileder", "reasons", "flags", "months", "excluded");
		break;
	}
}

/* Append a '+'-joined list as a JSON array. */
static void
json_list(strbuf *sb, const char *list)
{
	const char *p = list;

	sb_putc(sb, '[');
	while (*p) {
		size_t n = strcspn(p, "+");
		char *item = xmalloc(n + 1);

		memcpy(item, p, n);
		item[n] = '\0';
		if (p != list)
			sb_putc(sb, ',');
		json_escape(sb, item);
		free(item);
		p += n;
		if (*p == '+')
			p++;
	}
	sb_putc(sb, ']');
}

void
scan_writer_row(scan_writer *w, const scan_row *row)
{
	strbuf sb;

	sb_init(&sb);
	switch (w->fmt) {
	case SCAN_FMT_CSV:
		csv_escape(&sb, row->case_ref);
		sb_putc(&sb, ',');
		csv_escape(&sb, row->office_id);
		sb_putc(&sb, ',');
		csv_escape(&sb, row->veileder_id);
		sb_putc(&sb, ',');
		csv_escape(&sb, row->reasons);
		sb_putc(&sb, ',');
		csv_escape(&sb, row->flags);
		sb_putc(&sb, ',');
		sb_puts(&sb, row->months);
		if (w->with_excluded) {
			sb_putc(&sb, ',');
			csv_escape(&sb, row->excluded);
		}
		sb_putc(&sb, '\n');
		break;
	case SCAN_FMT_JSON:
		sb_puts(&sb, w->rows ? ",\n" : "\n");
		sb_puts(&sb, "{\"case_ref\":");
		json_escape(&sb, row->case_ref);
		sb_puts(&sb, ",\"office_id\":");
		json_escape(&sb, row->office_id);
		sb_puts(&sb, ",\"veileder_id\":");
		if (row->veileder_id[0])
			json_escape(&sb, row->veileder_id);
		else
			sb_puts(&sb, "null");
		sb_puts(&sb, ",\"reasons\":");
		json_list(&sb, row->reasons);
		sb_puts(&sb, ",\"flags\":");
		json_list(&sb, row->flags);
		sb_printf(&sb, ",\"months\":%s", row->months);
		if (w->with_excluded) {
			sb_puts(&sb, ",\"excluded\":");
			json_list(&sb, row->excluded);
		}
		sb_putc(&sb, '}');
		break;
	case SCAN_FMT_TABLE:
		table_line(w, row->case_ref, row->office_id,
			   row->veileder_id[0] ? row->veileder_id : "(fallback)",
			   row->reasons, row->flags[0] ? row->flags : "-", row->months,
			   row->excluded[0] ? row->excluded : "-");
		break;
	}
	fwrite(sb_str(&sb), 1, sb.len, w->out);
	sb_free(&sb);
	w->rows++;
}

int
scan_writer_end(scan_writer *w)
{
	if (w->fmt == SCAN_FMT_JSON)
		fputs(w->rows ? "\n]\n" : "]\n", w->out);
	else if (w->fmt == SCAN_FMT_TABLE)
		fprintf(w->out, "(%lld %s)\n", w->rows, w->rows == 1 ? "row" : "rows");
	if (fflush(w->out) != 0 || ferror(w->out))
		return -1;
	return 0;
}
