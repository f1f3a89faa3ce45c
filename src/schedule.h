/* schedule.h - wall-clock schedules ("02:30 daily", "monday 07:00") across DST changes */
#ifndef KVP_SCHEDULE_H
#define KVP_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

/* When something runs, in local wall-clock time of the process's time zone. */
typedef struct kvp_schedule {
	int hour;       /* 0..23 */
	int minute;     /* 0..59 */
	int second;     /* 0..59, 0 unless given as HH:MM:SS */
	int weekday;    /* -1 every day, 0 sunday .. 6 saturday */
	bool monthly;   /* on the first day of each month */
} kvp_schedule;

/*
 * Parse "HH:MM" or "HH:MM:SS" and a day ("daily", "monday".."sunday", "monthly"; NULL
 * means daily) into s.  0 on success, -1 when either is invalid.
 */
int schedule_parse(kvp_schedule *s, const char *hhmm, const char *day);

/*
 * Make the process use time zone tz (e.g. "Europe/Oslo") for schedules and
 * local dates.  0 on success, -1 when no such zone is installed.
 */
int schedule_set_timezone(const char *tz);

/*
 * The slot on the local date y-m-d: the first instant with that wall-clock
 * time.  When the clocks fall back it is the first of the two; when they
 * spring forward over it, the instant the clocks jump.  (time_t)-1 on error.
 */
time_t schedule_slot_on(const kvp_schedule *s, int y, int m, int d);

/* The first slot strictly after `after`; (time_t)-1 if none within 400 days. */
time_t schedule_next(const kvp_schedule *s, time_t after);

/* The latest slot at or before `at`; (time_t)-1 if none within 400 days. */
time_t schedule_prev(const kvp_schedule *s, time_t at);

#endif
