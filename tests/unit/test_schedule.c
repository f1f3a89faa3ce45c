/* test_schedule.c - schedules in Europe/Oslo across the 2026 and 2027 DST changes */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schedule.h"

/* UTC instant for a UTC calendar time */
static time_t
utc(int y, int m, int d, int h, int min)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = min;
	return timegm(&tm);
}

static kvp_schedule
sched(const char *hhmm, const char *day)
{
	kvp_schedule s;

	ck_assert_int_eq(schedule_parse(&s, hhmm, day), 0);
	return s;
}

static void
setup(void)
{
	ck_assert_int_eq(schedule_set_timezone("Europe/Oslo"), 0);
}

START_TEST(test_parse)
{
	kvp_schedule s;

	ck_assert_int_eq(schedule_parse(&s, "02:30", NULL), 0);
	ck_assert_int_eq(s.hour, 2);
	ck_assert_int_eq(s.minute, 30);
	ck_assert_int_eq(s.weekday, -1);
	ck_assert_int_eq(schedule_parse(&s, "07:00", "Monday"), 0);
	ck_assert_int_eq(s.weekday, 1);
	ck_assert_int_eq(schedule_parse(&s, "07:00", "monthly"), 0);
	ck_assert(s.monthly);
	ck_assert_int_eq(schedule_parse(&s, "24:00", NULL), -1);
	ck_assert_int_eq(schedule_parse(&s, "2:30", NULL), -1);
	ck_assert_int_eq(schedule_parse(&s, "02:60", NULL), -1);
	ck_assert_int_eq(schedule_parse(&s, "02:30", "someday"), -1);
	ck_assert_int_eq(schedule_set_timezone("Nowhere/Atlantis"), -1);
	ck_assert_int_eq(schedule_set_timezone("../etc/passwd"), -1);
}
END_TEST

START_TEST(test_ordinary_days)
{
	kvp_schedule s = sched("02:30", NULL);

	/* winter: CET = UTC+1 */
	ck_assert_int_eq(schedule_next(&s, utc(2026, 1, 10, 12, 0)), utc(2026, 1, 11, 1, 30));
	/* summer: CEST = UTC+2 */
	ck_assert_int_eq(schedule_next(&s, utc(2026, 7, 10, 12, 0)), utc(2026, 7, 11, 0, 30));
	/* exactly at a slot: next is the following day; prev is that slot */
	ck_assert_int_eq(schedule_next(&s, utc(2026, 7, 11, 0, 30)), utc(2026, 7, 12, 0, 30));
	ck_assert_int_eq(schedule_prev(&s, utc(2026, 7, 11, 0, 30)), utc(2026, 7, 11, 0, 30));
	ck_assert_int_eq(schedule_prev(&s, utc(2026, 7, 11, 0, 29)), utc(2026, 7, 10, 0, 30));
}
END_TEST

/* spring forward: 2026-03-29 and 2027-03-28, 02:00 CET -> 03:00 CEST (01:00 UTC) */
START_TEST(test_spring_forward)
{
	kvp_schedule s = sched("02:30", NULL);
	time_t t, prev;
	int years[2][2] = {{2026, 29}, {2027, 28}};
	int i, n;

	for (i = 0; i < 2; i++) {
		int y = years[i][0], d = years[i][1];

		/* 02:30 does not exist: it runs when the clocks jump, once */
		ck_assert_int_eq(schedule_next(&s, utc(y, 3, d - 1, 12, 0)), utc(y, 3, d, 1, 0));
		ck_assert_int_eq(schedule_next(&s, utc(y, 3, d, 1, 0)), utc(y, 3, d + 1, 0, 30));
		/* exactly one run per night over the whole week around the change */
		t = schedule_next(&s, utc(y, 3, d - 3, 12, 0));
		prev = t;
		for (n = 0; n < 7; n++) {
			t = schedule_next(&s, t);
			ck_assert(t - prev >= 23 * 3600 - 1800 && t - prev <= 25 * 3600);
			prev = t;
		}
	}
	/* a slot outside the gap is unaffected that night */
	s = sched("03:30", NULL);
	ck_assert_int_eq(schedule_next(&s, utc(2026, 3, 28, 12, 0)), utc(2026, 3, 29, 1, 30));
}
END_TEST

/* fall back: 2026-10-25 and 2027-10-31, 03:00 CEST -> 02:00 CET (01:00 UTC) */
START_TEST(test_fall_back)
{
	kvp_schedule s = sched("02:30", NULL);
	/* year, day of the change, month and day of the next night */
	int nights[2][4] = {{2026, 25, 10, 26}, {2027, 31, 11, 1}};
	int i;

	for (i = 0; i < 2; i++) {
		int y = nights[i][0], d = nights[i][1];
		time_t first = schedule_next(&s, utc(y, 10, d - 1, 12, 0));

		/* 02:30 happens twice: run at the first, 00:30 UTC, and not at 01:30 UTC */
		ck_assert_int_eq(first, utc(y, 10, d, 0, 30));
		ck_assert_int_eq(schedule_next(&s, first), utc(y, nights[i][2], nights[i][3], 1, 30));
		/* asked between the two 02:30s, the repeated one is no new slot */
		ck_assert_int_eq(schedule_next(&s, utc(y, 10, d, 1, 0)), utc(y, nights[i][2], nights[i][3], 1, 30));
		ck_assert_int_eq(schedule_prev(&s, utc(y, 10, d, 1, 45)), first);
	}
}
END_TEST

START_TEST(test_weekly_monthly)
{
	kvp_schedule w = sched("07:00", "monday");
	kvp_schedule m = sched("07:00", "monthly");

	/* Monday 2026-11-23 07:00 CET = 06:00 UTC; asked on Sunday the 22nd */
	ck_assert_int_eq(schedule_next(&w, utc(2026, 11, 22, 12, 0)), utc(2026, 11, 23, 6, 0));
	ck_assert_int_eq(schedule_next(&w, utc(2026, 11, 23, 6, 0)), utc(2026, 11, 30, 6, 0));
	/* the Monday after the fall-back change: 2026-10-26 07:00 CET */
	ck_assert_int_eq(schedule_next(&w, utc(2026, 10, 20, 12, 0)), utc(2026, 10, 26, 6, 0));
	ck_assert_int_eq(schedule_next(&m, utc(2026, 11, 23, 12, 0)), utc(2026, 12, 1, 6, 0));
	ck_assert_int_eq(schedule_prev(&m, utc(2026, 11, 23, 12, 0)), utc(2026, 11, 1, 6, 0));
}
END_TEST

START_TEST(test_seconds)
{
	kvp_schedule s;

	ck_assert_int_eq(schedule_parse(&s, "02:30:45", NULL), 0);
	ck_assert_int_eq(s.hour, 2);
	ck_assert_int_eq(s.minute, 30);
	ck_assert_int_eq(s.second, 45);
	ck_assert_int_eq(schedule_parse(&s, "02:30", NULL), 0);
	ck_assert_int_eq(s.second, 0);
	ck_assert_int_eq(schedule_parse(&s, "02:30:60", NULL), -1);
	ck_assert_int_eq(schedule_parse(&s, "02:30:4", NULL), -1);
	ck_assert_int_eq(schedule_parse(&s, "02:30-45", NULL), -1);
	ck_assert_int_eq(schedule_parse(&s, "02:30:45x", NULL), -1);

	/* 2026-11-23 02:30:45 CET = 01:30:45 UTC */
	s = sched("02:30:45", NULL);
	ck_assert_int_eq(schedule_next(&s, utc(2026, 11, 23, 1, 30)), utc(2026, 11, 23, 1, 30) + 45);
	ck_assert_int_eq(schedule_next(&s, utc(2026, 11, 23, 1, 30) + 45), utc(2026, 11, 24, 1, 30) + 45);
	ck_assert_int_eq(schedule_prev(&s, utc(2026, 11, 23, 1, 30) + 44), utc(2026, 11, 22, 1, 30) + 45);
	ck_assert_int_eq(schedule_prev(&s, utc(2026, 11, 23, 1, 30) + 45), utc(2026, 11, 23, 1, 30) + 45);
	/* spring forward 2026-03-29: 02:30:45 does not exist; the slot is the jump at 01:00 UTC */
	ck_assert_int_eq(schedule_next(&s, utc(2026, 3, 28, 12, 0)), utc(2026, 3, 29, 1, 0));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("oslo");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_ordinary_days);
	tcase_add_test(tc, test_spring_forward);
	tcase_add_test(tc, test_fall_back);
	tcase_add_test(tc, test_weekly_monthly);
	tcase_add_test(tc, test_seconds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
