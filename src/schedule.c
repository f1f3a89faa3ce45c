/* schedule.c - wall-clock schedules across daylight-saving changes */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "schedule.h"
#include "util.h"

int
schedule_parse(kvp_schedule *s, const char *hhmm, const char *day)
{
	static const char *const days[] = {"sunday", "monday", "tuesday", "wednesday",
					   "thursday", "friday", "saturday"};
	size_t i;

	if (hhmm == NULL || (strlen(hhmm) != 5 && strlen(hhmm) != 8) || hhmm[2] != ':'
	    || hhmm[0] < '0' || hhmm[0] > '2' || hhmm[1] < '0' || hhmm[1] > '9'
	    || hhmm[3] < '0' || hhmm[3] > '5' || hhmm[4] < '0' || hhmm[4] > '9')
		return -1;
	if (hhmm[5] != '\0' && (hhmm[5] != ':' || hhmm[6] < '0' || hhmm[6] > '5'
				 || hhmm[7] < '0' || hhmm[7] > '9'))
		return -1;
	s->hour = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
	s->minute = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
	s->second = hhmm[5] ? (hhmm[6] - '0') * 10 + (hhmm[7] - '0') : 0;
	if (s->hour > 23)
		return -1;
	s->weekday = -1;
	s->monthly = false;
	if (day == NULL || strcasecmp(day, "daily") == 0)
		return 0;
	if (strcasecmp(day, "monthly") == 0) {
		s->monthly = true;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(days); i++) {
		if (strcasecmp(day, days[i]) == 0) {
			s->weekday = (int) i;
			return 0;
		}
	}
	return -1;
}

int
schedule_set_timezone(const char *tz)
{
	char path[512];

	if (tz == NULL || *tz == '\0' || strstr(tz, "..") || tz[0] == '/')
		return -1;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	if (strcmp(tz, "UTC") != 0 && access(path, R_OK) != 0)
		return -1;
	if (setenv("TZ", tz, 1) != 0)
		return -1;
	tzset();
	return 0;
}

/* Does t show wall-clock y-m-d h:m:sec locally? */
static bool
shows(time_t t, int y, int m, int d, int h, int min, int sec)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return false;
	return tm.tm_year == y - 1900 && tm.tm_mon == m - 1 && tm.tm_mday == d
	       && tm.tm_hour == h && tm.tm_min == min && tm.tm_sec == sec;
}

static time_t
make_local(int y, int m, int d, int h, int min, int sec, int isdst)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = min;
	tm.tm_sec = sec;
	tm.tm_isdst = isdst;
	return mktime(&tm);
}

time_t
schedule_slot_on(const kvp_schedule *s, int y, int m, int d)
{
	time_t cand[2], best = (time_t) -1, t;
	struct tm tm;
	int i;

	cand[0] = make_local(y, m, d, s->hour, s->minute, s->second, 0);
	cand[1] = make_local(y, m, d, s->hour, s->minute, s->second, 1);
	for (i = 0; i < 2; i++)
		if (cand[i] != (time_t) -1 && shows(cand[i], y, m, d, s->hour, s->minute, s->second)
		    && (best == (time_t) -1 || cand[i] < best))
			best = cand[i];
	if (best != (time_t) -1)
		return best;

	/*
	 * The wall-clock time does not exist that day (the clocks sprang
	 * forward over it): run when the clocks jump, the first minute whose
	 * local time is later than the wanted one.  Bounded to 3 hours.
	 */
	t = make_local(y, m, d, s->hour, s->minute, s->second, -1);
	if (t == (time_t) -1)
		return t;
	t -= 3 * 3600;
	t -= t % 60;
	for (i = 0; i < 6 * 60; i++, t += 60) {
		if (localtime_r(&t, &tm) == NULL)
			return (time_t) -1;
		if (tm.tm_year == y - 1900 && tm.tm_mon == m - 1 && tm.tm_mday == d
		    && tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec
		       > s->hour * 3600 + s->minute * 60 + s->second)
			return t;
	}
	return (time_t) -1;
}

/* Is local date y-m-d (weekday wday) a day the schedule runs on? */
static bool
runs_on(const kvp_schedule *s, int d, int wday)
{
	if (s->monthly)
		return d == 1;
	return s->weekday < 0 || s->weekday == wday;
}

/* Step the local calendar date by delta days (noon avoids DST edges). */
static void
date_add(int *y, int *m, int *d, int *wday, int delta)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = *y - 1900;
	tm.tm_mon = *m - 1;
	tm.tm_mday = *d + delta;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	(void) mktime(&tm);
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
	*wday = tm.tm_wday;
}

static time_t
search(const kvp_schedule *s, time_t ref, int step)
{
	struct tm tm;
	int y, m, d, wday, i;

	if (localtime_r(&ref, &tm) == NULL)
		return (time_t) -1;
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	d = tm.tm_mday;
	wday = tm.tm_wday;
	/* a slot may sit on the day before ref's local date only in odd zones */
	date_add(&y, &m, &d, &wday, -step);
	for (i = 0; i < 400; i++) {
		if (runs_on(s, d, wday)) {
			time_t t = schedule_slot_on(s, y, m, d);

			if (t != (time_t) -1 && (step > 0 ? t > ref : t <= ref))
				return t;
		}
		date_add(&y, &m, &d, &wday, step);
	}
	return (time_t) -1;
}

time_t
schedule_next(const kvp_schedule *s, time_t after)
{
	return search(s, after, 1);
}

time_t
schedule_prev(const kvp_schedule *s, time_t at)
{
	return search(s, at, -1);
}
