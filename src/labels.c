/* labels.c - the Norwegian words for flag and reason codes in worklists and reports */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "labels.h"

static const struct label {
	const char *code, *text;
} fixed_labels[] = {
	{"NOT_INFORMED", "ikke informert om KVP"},
	{"NOT_ASSESSED", "ikke vurdert for KVP"},
	{"AEV_MISSING", "mangler arbeidsevnevurdering"},
	{"NO_WRITTEN_PLAN", "mangler skriftlig program"},
	{"NO_EVALUATION_DATE", "mangler evalueringsdato"},
	{"EVALUATION_OVERDUE", "evaluering forfalt"},
	{"AEV_AFTER_DECISION", "ingen arbeidsevnevurdering før vedtaket"},
	{"NO_SELF_ASSESSMENT", "egenvurdering ikke dokumentert"},
	{"IN_PROGRAMME", "deltar i KVP"},
	{"LONG_TERM", "langtidsmottaker"},
	{"SPECIAL_NEEDS", "spesielt tilpasset innsats"},
};

void
labels_init(kvp_labels *l, const kvp_config *cfg)
{
	char hours[24], *p;
	int m = cfg->part_max_duration_months;

	/* Norwegian decimal comma: 37.5 -> "37,5", 30 -> "30" */
	snprintf(hours, sizeof(hours), "%g", cfg->part_min_hours);
	if ((p = strchr(hours, '.')) != NULL)
		*p = ',';
	snprintf(l->not_full_time, sizeof(l->not_full_time), "under %s timer", hours);
	if (m > 0 && m % 12 == 0)
		snprintf(l->over_duration, sizeof(l->over_duration), "over %d år", m / 12);
	else
		snprintf(l->over_duration, sizeof(l->over_duration), "over %d %s", m, m == 1 ? "måned" : "måneder");
}

const char *
label_of(const kvp_labels *l, const char *code)
{
	size_t i;

	if (strcmp(code, "NOT_FULL_TIME") == 0)
		return l->not_full_time;
	if (strcmp(code, "OVER_DURATION") == 0)
		return l->over_duration;
	for (i = 0; i < ARRAY_SIZE(fixed_labels); i++)
		if (strcmp(fixed_labels[i].code, code) == 0)
			return fixed_labels[i].text;
	return code;
}

const char *
label_count(long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}
