/* labels.h - the Norwegian words for flag and reason codes in worklists and reports */
#ifndef KVP_LABELS_H
#define KVP_LABELS_H

/* Every flag code in the fixed order worklists, reports and history list them, as an SQL array. */
#define FLAG_ORDER "ARRAY['NOT_INFORMED', 'NOT_ASSESSED', 'AEV_MISSING', 'NOT_FULL_TIME'," \
	" 'NO_WRITTEN_PLAN', 'NO_EVALUATION_DATE', 'EVALUATION_OVERDUE', 'OVER_DURATION'," \
	" 'AEV_AFTER_DECISION', 'NO_SELF_ASSESSMENT']"

#include "conf.h"
#include "util.h"

/* The labels that follow the configuration (participation thresholds). */
typedef struct kvp_labels {
	char not_full_time[48];     /* "under 37,5 timer": participation.min_hours */
	char over_duration[48];     /* "over 2 år": participation.max_duration_months */
} kvp_labels;

/* Fill l from cfg's participation settings. */
void labels_init(kvp_labels *l, const kvp_config *cfg);
/* The lower-case label of a code, or the code itself when unknown; points into l, code or static text. */
const char *label_of(const kvp_labels *l, const char *code);
/* The Norwegian singular (one) when n is 1, else the plural (many): "1 sak", "0 saker"; points to one or many. */
const char *label_count(long long n, const char *one, const char *many);

#endif
