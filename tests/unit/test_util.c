/* test_util.c - unit tests for util.c and log.c */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

START_TEST(test_parse_int64)
{
	int64_t v = 0;

	ck_assert_int_eq(parse_int64("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(parse_int64("-5", -10, 10, &v), 0);
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(parse_int64("101", 0, 100, &v), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(parse_int64("12x", 0, 100, &v), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(parse_int64("", 0, 100, &v), -1);
	ck_assert_int_eq(parse_int64(" 1", 0, 100, &v), -1);
	ck_assert_int_eq(parse_int64("99999999999999999999", 0, INT64_MAX, &v), -1);
	ck_assert_int_eq(parse_int64(NULL, 0, 1, &v), -1);
}
END_TEST

START_TEST(test_parse_double)
{
	double d = 0;

	ck_assert_int_eq(parse_double("37.5", 0, 100, &d), 0);
	ck_assert(d == 37.5);
	ck_assert_int_eq(parse_double("nan", 0, 100, &d), -1);
	ck_assert_int_eq(parse_double("100.01", 0, 100, &d), -1);
	ck_assert_int_eq(parse_double("1e", 0, 100, &d), -1);
}
END_TEST

START_TEST(test_valid_iso_date)
{
	ck_assert(valid_iso_date("2026-11-23"));
	ck_assert(valid_iso_date("2024-02-29"));
	ck_assert(!valid_iso_date("2023-02-29"));
	ck_assert(!valid_iso_date("1900-02-29"));
	ck_assert(valid_iso_date("2000-02-29"));
	ck_assert(!valid_iso_date("2026-13-01"));
	ck_assert(!valid_iso_date("2026-04-31"));
	ck_assert(!valid_iso_date("2026-4-30"));
	ck_assert(!valid_iso_date("26-04-300"));
	ck_assert(!valid_iso_date("2026-04-30x"));
	ck_assert(!valid_iso_date(NULL));
}
END_TEST

START_TEST(test_strbuf)
{
	strbuf sb;
	char *s;
	int i;

	sb_init(&sb);
	ck_assert_str_eq(sb_str(&sb), "");
	for (i = 0; i < 1000; i++)
		sb_printf(&sb, "%d,", i);
	ck_assert_uint_eq(sb.len, strlen(sb.data));
	ck_assert(strncmp(sb.data, "0,1,2,", 6) == 0);
	ck_assert(strcmp(sb.data + sb.len - 4, "999,") == 0);
	/* larger than the room left: formatted again after the buffer grew */
	sb_reset(&sb);
	sb_puts(&sb, "x");
	sb_printf(&sb, "%s|%0300d|%s", "a", 7, "b");
	ck_assert_uint_eq(sb.len, 1 + 2 + 300 + 2);
	ck_assert_uint_eq(sb.len, strlen(sb.data));
	ck_assert(strncmp(sb.data, "xa|000", 6) == 0);
	ck_assert_str_eq(sb.data + sb.len - 4, "07|b");
	sb_reset(&sb);
	sb_puts(&sb, "æøå");
	sb_putc(&sb, '!');
	ck_assert_str_eq(sb_str(&sb), "æøå!");
	s = sb_steal(&sb);
	ck_assert_str_eq(s, "æøå!");
	ck_assert_ptr_null(sb.data);
	free(s);
	sb_free(&sb);
}
END_TEST

START_TEST(test_json_csv_escape)
{
	strbuf sb;

	sb_init(&sb);
	json_escape(&sb, "a\"b\\c\nd\x01æ");
	ck_assert_str_eq(sb_str(&sb), "\"a\\\"b\\\\c\\nd\\u0001æ\"");
	sb_reset(&sb);
	html_escape(&sb, "<a href=\"x\">Ø & 'y'</a>");
	ck_assert_str_eq(sb_str(&sb), "&lt;a href=&quot;x&quot;&gt;Ø &amp; &#39;y&#39;&lt;/a&gt;");
	sb_reset(&sb);
	csv_escape(&sb, "plain");
	sb_putc(&sb, '|');
	csv_escape(&sb, "a,b");
	sb_putc(&sb, '|');
	csv_escape(&sb, "say \"hi\"");
	ck_assert_str_eq(sb_str(&sb), "plain|\"a,b\"|\"say \"\"hi\"\"\"");
	sb_free(&sb);
}
END_TEST

START_TEST(test_atomic_file)
{
	char dir[] = "/tmp/kvp-util-XXXXXX";
	char *path, *back;
	size_t len = 0;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/out.json", dir);
	ck_assert_int_eq(write_file_atomic(path, "{\"a\":1}", 7, 0640), 0);
	ck_assert_int_eq(write_file_atomic(path, "{\"a\":2}", 7, 0640), 0);
	back = read_file(path, 1024, &len);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(back, "{\"a\":2}");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	ck_assert_ptr_null(read_file(path, 3, NULL));
	ck_assert_int_eq(errno, EFBIG);
	free(back);
	unlink(path);
	free(path);
	path = xasprintf("%s/missing/out.json", dir);
	ck_assert_int_eq(write_file_atomic(path, "x", 1, 0600), -1);
	ck_assert_int_eq(errno, ENOENT);
	free(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_log_keeps_errno)
{
	int fd = open("/dev/null", O_WRONLY);
	int saved = dup(STDERR_FILENO);

	dup2(fd, STDERR_FILENO);
	errno = EACCES;
	log_error("could not open file \"%s\": %s", "x", strerror(errno));
	log_detail("detail");
	log_hint("hint");
	ck_assert_int_eq(errno, EACCES);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	ck_assert_int_eq(log_facility_from_name("local3") >= 0, 1);
	ck_assert_int_eq(log_facility_from_name("nope"), -1);
	ck_assert_int_eq(log_level_from_name("debug"), KVP_LOG_DEBUG);
	ck_assert_int_eq(log_level_from_name("error"), KVP_LOG_ERROR);
	ck_assert_int_eq(log_level_from_name("loud"), KVP_LOG_INFO);
}
END_TEST

START_TEST(test_utf8_width)
{
	char buf[64];
	FILE *f;

	ck_assert_uint_eq(utf8_width(""), 0);
	ck_assert_uint_eq(utf8_width("Ola"), 3);
	ck_assert_uint_eq(utf8_width("Bjørn Ås"), 8);    /* 10 bytes */
	f = fmemopen(buf, sizeof(buf), "w");
	ck_assert_ptr_nonnull(f);
	fput_left(f, "Bjørn Ås", 10);
	fputc('|', f);
	fput_left(f, "too long for it", 3);
	fputc('|', f);
	fclose(f);
	ck_assert_str_eq(buf, "Bjørn Ås  |too long for it|");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse_int64);
	tcase_add_test(tc, test_parse_double);
	tcase_add_test(tc, test_valid_iso_date);
	tcase_add_test(tc, test_strbuf);
	tcase_add_test(tc, test_json_csv_escape);
	tcase_add_test(tc, test_utf8_width);
	tcase_add_test(tc, test_atomic_file);
	tcase_add_test(tc, test_log_keeps_errno);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
