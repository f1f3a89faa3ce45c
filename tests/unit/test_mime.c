/* test_mime.c - unit tests for mime.c: quoted-printable, RFC 2047, multipart/alternative */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mime.h"
#include "util.h"

/* Encode s and return the text; caller frees. */
static char *
qp(const char *s)
{
	strbuf sb;

	sb_init(&sb);
	mime_qp_encode(&sb, s, strlen(s));
	return sb_steal(&sb);
}

/* Every CRLF-separated line of text is at most max characters; no bare CR or LF. */
static void
check_lines(const char *text, size_t max)
{
	const char *p = text, *eol;

	while (*p) {
		eol = strstr(p, "\r\n");
		if (eol == NULL)
			eol = p + strlen(p);
		ck_assert_msg((size_t) (eol - p) <= max, "line of %zu characters: %.*s",
			      (size_t) (eol - p), (int) (eol - p), p);
		ck_assert_ptr_null(memchr(p, '\n', (size_t) (eol - p)));
		ck_assert_ptr_null(memchr(p, '\r', (size_t) (eol - p)));
		p = *eol ? eol + 2 : eol;
	}
}

/* Every encoded character is printable ASCII. */
static void
check_ascii(const char *text)
{
	const unsigned char *p;

	for (p = (const unsigned char *) text; *p; p++)
		ck_assert_msg(*p == '\r' || *p == '\n' || (*p >= 32 && *p < 127),
			      "byte 0x%02x in encoded text", *p);
}

START_TEST(test_qp_basic)
{
	char *e = qp("a=b æøå ÆØÅ");

	ck_assert_str_eq(e, "a=3Db =C3=A6=C3=B8=C3=A5 =C3=86=C3=98=C3=85");
	free(e);
	e = qp("plain text");
	ck_assert_str_eq(e, "plain text");
	free(e);
	/* line ends become CRLF; whitespace before them is encoded */
	e = qp("one \ntwo\t\r\nthree ");
	ck_assert_str_eq(e, "one=20\r\ntwo=09\r\nthree=20");
	free(e);
	/* a dot at a line start never stands alone */
	e = qp(".\nx.");
	ck_assert_str_eq(e, "=2E\r\nx.");
	free(e);
	e = qp("From here");
	ck_assert_str_eq(e, "=46rom here");
	free(e);
	/* control characters and a lone CR */
	e = qp("a\rb\x01");
	ck_assert_str_eq(e, "a=0Db=01");
	free(e);
}
END_TEST

START_TEST(test_qp_soft_breaks)
{
	strbuf in;
	char *e, *d;
	size_t i, dlen;

	/* long ASCII line: soft breaks, every line <= 76, round trip */
	sb_init(&in);
	for (i = 0; i < 300; i++)
		sb_putc(&in, (char) ('a' + i % 26));
	e = qp(sb_str(&in));
	check_lines(e, MIME_QP_LINE_MAX);
	check_ascii(e);
	ck_assert_ptr_nonnull(strstr(e, "=\r\n"));
	d = mime_qp_decode(e, false, &dlen);
	ck_assert_uint_eq(dlen, in.len);
	ck_assert_str_eq(d, sb_str(&in));
	free(e);
	free(d);

	/* long Norwegian text: no =XX and no UTF-8 character is split by a soft break */
	sb_reset(&in);
	for (i = 0; i < 80; i++)
		sb_puts(&in, i % 7 == 0 ? "æ" : i % 5 == 0 ? "= " : "ø");
	sb_puts(&in, "\nneste linje med blåbær \n");
	e = qp(sb_str(&in));
	check_lines(e, MIME_QP_LINE_MAX);
	check_ascii(e);
	{
		const char *p = e;

		while ((p = strstr(p, "=\r\n")) != NULL) {
			/* the next line starts a new character: not a UTF-8 continuation byte */
			ck_assert(!(p[3] == '=' && (p[4] == '8' || p[4] == '9' || p[4] == 'A' || p[4] == 'B')));
			p += 3;
		}
	}
	d = mime_qp_decode(e, true, &dlen);
	ck_assert_str_eq(d, sb_str(&in));
	free(e);
	free(d);

	/* a trailing space right at a soft break stays data, not padding */
	sb_reset(&in);
	for (i = 0; i < 74; i++)
		sb_putc(&in, 'x');
	sb_puts(&in, " y ");
	e = qp(sb_str(&in));
	check_lines(e, MIME_QP_LINE_MAX);
	ck_assert(e[strlen(e) - 1] != ' ');
	d = mime_qp_decode(e, false, NULL);
	ck_assert_str_eq(d, sb_str(&in));
	free(e);
	free(d);
	sb_free(&in);
}
END_TEST

START_TEST(test_qp_decode_lenient)
{
	char *d;

	d = mime_qp_decode("a=\r\nb=3d=ZZ=", false, NULL);
	ck_assert_str_eq(d, "ab==ZZ");
	free(d);
	d = mime_qp_decode("x= \t\r\ny\r\n", true, NULL);
	ck_assert_str_eq(d, "xy\n");
	free(d);
}
END_TEST

/* The value part of one header line made by mime_header(). */
static char *
header_value(const char *name, const char *value)
{
	strbuf sb;
	char *line, *v;

	sb_init(&sb);
	mime_header(&sb, name, value);
	line = sb_steal(&sb);
	ck_assert_uint_eq(strncmp(line, name, strlen(name)), 0);
	ck_assert_uint_eq(strlen(line) >= 2 && memcmp(line + strlen(line) - 2, "\r\n", 2) == 0, 1);
	check_lines(line, 78);
	check_ascii(line);
	line[strlen(line) - 2] = '\0';
	v = xstrdup(line + strlen(name) + 2);
	free(line);
	return v;
}

START_TEST(test_header_ascii)
{
	char *v, *d;
	const char *longsubj = "kvpscan: arbeidsliste for veileder med mange saker som bør vurderes "
			       "for kvalifiseringsprogrammet denne uken";

	v = header_value("Subject", "kvpscan: testmelding / test message");
	ck_assert_str_eq(v, "kvpscan: testmelding / test message");
	free(v);
	/* CR/LF cannot inject a header */
	v = header_value("Subject", "hei\r\nBcc: x@example.org");
	ck_assert_ptr_null(strchr(v, '\n'));
	d = mime_header_decode(v);
	ck_assert_str_eq(d, "hei  Bcc: x@example.org");
	free(v);
	free(d);
	/* long ASCII values fold at spaces and unfold to the original */
	v = header_value("Subject", "a b c d e f g h i j k l m n o p q r s t u v w x y z "
				    "aa bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp");
	ck_assert_ptr_nonnull(strstr(v, "\r\n "));
	d = mime_header_decode(v);
	ck_assert_str_eq(d, "a b c d e f g h i j k l m n o p q r s t u v w x y z "
			    "aa bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp");
	free(v);
	free(d);
	/* a non-ASCII long subject: several folded encoded-words, each <= 75 characters */
	v = header_value("Subject", longsubj);
	ck_assert_uint_eq(strncmp(v, "=?UTF-8?B?", 10), 0);
	ck_assert_ptr_nonnull(strstr(v, "?=\r\n =?UTF-8?B?"));
	{
		const char *p = v, *q;

		while ((p = strstr(p, "=?")) != NULL) {
			q = strstr(p, "?=");
			ck_assert_ptr_nonnull(q);
			ck_assert_uint_le((size_t) (q + 2 - p), 75);
			p = q + 2;
		}
	}
	d = mime_header_decode(v);
	ck_assert_str_eq(d, longsubj);
	free(v);
	free(d);
	/* text that looks like an encoded-word is encoded itself */
	v = header_value("Subject", "=?x?");
	ck_assert_uint_eq(strncmp(v, "=?UTF-8?B?", 10), 0);
	d = mime_header_decode(v);
	ck_assert_str_eq(d, "=?x?");
	free(v);
	free(d);
}
END_TEST

START_TEST(test_header_roundtrip)
{
	static const char *const cases[] = {
		"æøå", "Arbeidsliste: 3 saker å vurdere", "ÆØÅ æøå — «KVP»", "a", "",
		"ååååååååååååååååååååååååååååååååååååååååååååååå", "x ø  y", "€𝄞",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *v = header_value("Subject", cases[i]);
		char *d = mime_header_decode(v);

		ck_assert_str_eq(d, cases[i]);
		free(v);
		free(d);
	}
}
END_TEST

START_TEST(test_header_decode_foreign)
{
	char *d;

	/* Q encoding, whitespace between encoded-words dropped, kept elsewhere */
	d = mime_header_decode("=?utf-8?q?bl=C3=A5b=C3=A6r_og?= =?UTF-8?Q?_t=C3=B8y?= ok");
	ck_assert_str_eq(d, "blåbær og tøy ok");
	free(d);
	d = mime_header_decode("pre =?UTF-8?B?w6bDuMOl?=\r\n =?UTF-8?B?w4U=?= post");
	ck_assert_str_eq(d, "pre æøåÅ post");
	free(d);
	/* malformed words stay as they are */
	d = mime_header_decode("=?UTF-8?X?abc?= =?broken");
	ck_assert_str_eq(d, "=?UTF-8?X?abc?= =?broken");
	free(d);
}
END_TEST

START_TEST(test_date)
{
	char buf[64];
	const char *old = getenv("TZ");
	char *saved = old ? xstrdup(old) : NULL;

	setenv("TZ", "UTC", 1);
	tzset();
	mime_format_date(buf, sizeof(buf), (time_t) 1795430933);
	ck_assert_str_eq(buf, "Mon, 23 Nov 2026 10:48:53 +0000");
	setenv("TZ", "Europe/Oslo", 1);
	tzset();
	mime_format_date(buf, sizeof(buf), (time_t) 1795430933);
	ck_assert_str_eq(buf, "Mon, 23 Nov 2026 11:48:53 +0100");
	mime_format_date(buf, sizeof(buf), (time_t) 1781000000);
	ck_assert_str_eq(buf, "Tue, 09 Jun 2026 12:13:20 +0200");
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}
END_TEST

START_TEST(test_parse_address)
{
	char *a, *disp;

	a = mime_parse_address("kvp@bergen.kommune.no", &disp);
	ck_assert_str_eq(a, "kvp@bergen.kommune.no");
	ck_assert_ptr_null(disp);
	ck_assert_str_eq(mime_address_domain(a), "bergen.kommune.no");
	free(a);
	a = mime_parse_address(" \"NAV Årstad\" <nav@example.no> ", &disp);
	ck_assert_str_eq(a, "nav@example.no");
	ck_assert_str_eq(disp, "NAV Årstad");
	free(a);
	free(disp);
	ck_assert_ptr_null(mime_parse_address("no-at-sign", NULL));
	ck_assert_ptr_null(mime_parse_address("a@b\r\nBcc: c@d", NULL));
	ck_assert_ptr_null(mime_parse_address("two words@x.no", NULL));
	ck_assert_ptr_null(mime_parse_address("<a@b.no", NULL));
	ck_assert_ptr_null(mime_parse_address("@b.no", NULL));
	ck_assert_ptr_null(mime_parse_address(NULL, NULL));
	ck_assert_str_eq(mime_address_domain("nodomain"), "kvpscan.invalid");
}
END_TEST

/* The one address parser: what it accepts and the reason it gives for what it refuses. */
START_TEST(test_address_rules)
{
	static const struct {
		const char *in, *addr, *display, *why;
	} cases[] = {
		{"kvp@bergen.kommune.no", "kvp@bergen.kommune.no", NULL, NULL},
		{"<kvp@bergen.kommune.no>", "kvp@bergen.kommune.no", NULL, NULL},
		{"NAV Bergen <kvp@bergen.kommune.no>", "kvp@bergen.kommune.no", "NAV Bergen", NULL},
		{"\"NAV \\\"Sentrum\\\"\" <a@b.no>", "a@b.no", "NAV \"Sentrum\"", NULL},
		{"Bærum kommune <kvp@baerum.kommune.no>", "kvp@baerum.kommune.no", "Bærum kommune", NULL},
		{"first.last+kvp@xn--brum-roa.kommune.no", "first.last+kvp@xn--brum-roa.kommune.no", NULL, NULL},
		{"kvp@bærum.kommune.no", NULL, NULL, "the domain holds a non-ASCII character"},
		{"kvpø@baerum.no", NULL, NULL, "the part before \"@\" holds a non-ASCII character"},
		{"Bad \xff name <a@b.no>", NULL, NULL, "the display name is not valid UTF-8"},
		{"Tab\there <a@b.no>", NULL, NULL, "the display name holds a control character"},
		{"a@b@c.no", NULL, NULL, "more than one \"@\""},
		{"a..b@c.no", NULL, NULL, "the part before \"@\" starts or ends with a dot"},
		{"a@c.no.", NULL, NULL, "the domain starts or ends with a dot"},
		{"a@", NULL, NULL, "the domain is empty"},
		{"nobody", NULL, NULL, "it has no \"@\""},
		{"NAV <a@b.no", NULL, NULL, "a \"<\" has no \">\""},
		{"NAV <a@b.no> x", NULL, NULL, "there is text after the \">\""},
		{"a@b.no>", NULL, NULL, "a \">\" has no \"<\""},
		{"a(b)@c.no", NULL, NULL, "a character an address may not hold"},
		{"a b@c.no", NULL, NULL, "a space or a control character"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = "unset";
		char *disp = NULL, *a = mime_address_parse(cases[i].in, &disp, &why);

		if (cases[i].addr) {
			ck_assert_msg(a != NULL, "[%s] refused: %s", cases[i].in, why ? why : "?");
			ck_assert_str_eq(a, cases[i].addr);
			ck_assert_ptr_null(why);
			if (cases[i].display)
				ck_assert_str_eq(disp, cases[i].display);
			else
				ck_assert_ptr_null(disp);
		} else {
			ck_assert_msg(a == NULL, "[%s] accepted", cases[i].in);
			ck_assert_ptr_null(disp);
			ck_assert_ptr_nonnull(why);
			ck_assert_msg(strstr(why, cases[i].why) != NULL, "[%s]: expected [%s] in [%s]",
				      cases[i].in, cases[i].why, why);
		}
		free(a);
		free(disp);
	}
}
END_TEST

/* The header block of a message (up to the blank line); caller frees. */
static char *
headers_of(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");
	char *h;

	ck_assert_ptr_nonnull(end);
	h = xmalloc((size_t) (end - msg) + 3);
	memcpy(h, msg, (size_t) (end - msg) + 2);
	h[end - msg + 2] = '\0';
	return h;
}

START_TEST(test_build_multipart)
{
	mime_email m = {
		.from = "NAV Årstad <kvp@bergen.kommune.no>",
		.to = "veileder@bergen.kommune.no",
		.subject = "Arbeidsliste: 2 saker å vurdere",
		.text_body = "Hei,\n\nsaker: 2024-000123, 2024-000456 (blåbær = æøå)\n",
		.html_body = "<p>Hei, æøå</p>",
		.id = "wl-42-7",
		.date = (time_t) 1795430933,
	};
	char *msg = mime_build(&m), *h, *d;
	const char *b, *plain, *html, *end, *p;
	char boundary[80];
	size_t blen;

	ck_assert_ptr_nonnull(msg);
	check_lines(msg, 78);
	check_ascii(msg);
	h = headers_of(msg);
	ck_assert_uint_eq(strncmp(h, "Date: ", 6), 0);
	ck_assert_ptr_nonnull(strstr(h, "\r\nFrom: =?UTF-8?B?"));
	ck_assert_ptr_nonnull(strstr(h, "?= <kvp@bergen.kommune.no>\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "\r\nTo: <veileder@bergen.kommune.no>\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "\r\nMessage-ID: <wl-42-7@bergen.kommune.no>\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "\r\nMIME-Version: 1.0\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "\r\nAuto-Submitted: auto-generated\r\n"));
	ck_assert_ptr_nonnull(strstr(h, "\r\nContent-Type: multipart/alternative;\r\n boundary=\"=_kvpscan_"));
	p = strstr(h, "\r\nSubject: ");
	ck_assert_ptr_nonnull(p);
	{
		const char *e = strstr(p + 11, "\r\n");
		char *raw;

		while (e && e[2] == ' ')
			e = strstr(e + 2, "\r\n");
		ck_assert_ptr_nonnull(e);
		raw = xmalloc((size_t) (e - (p + 11)) + 1);
		memcpy(raw, p + 11, (size_t) (e - (p + 11)));
		raw[e - (p + 11)] = '\0';
		d = mime_header_decode(raw);
		ck_assert_str_eq(d, "Arbeidsliste: 2 saker å vurdere");
		free(d);
		free(raw);
	}

	/* the boundary, and the parts in order: text/plain first, text/html last */
	b = strstr(h, "boundary=\"") + 10;
	blen = (size_t) (strchr(b, '"') - b);
	ck_assert_uint_lt(blen, 70);
	snprintf(boundary, sizeof(boundary), "\r\n--%.*s\r\n", (int) blen, b);
	plain = strstr(msg, boundary);
	ck_assert_ptr_nonnull(plain);
	html = strstr(plain + 1, boundary);
	ck_assert_ptr_nonnull(html);
	ck_assert_ptr_null(strstr(html + 1, boundary));
	snprintf(boundary, sizeof(boundary), "\r\n--%.*s--\r\n", (int) blen, b);
	end = strstr(msg, boundary);
	ck_assert_ptr_nonnull(end);
	ck_assert_uint_eq(strlen(end), strlen(boundary));
	ck_assert_ptr_nonnull(strstr(plain, "Content-Type: text/plain; charset=UTF-8\r\n"
				     "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
	ck_assert_ptr_nonnull(strstr(html, "Content-Type: text/html; charset=UTF-8\r\n"
				     "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
	ck_assert(strstr(plain, "text/html") > html);
	/* the plain part decodes to the text with LF line ends */
	{
		const char *body = strstr(plain, "\r\n\r\n") + 4;
		char *enc = xmalloc((size_t) (html - body) + 1);

		memcpy(enc, body, (size_t) (html - body));
		enc[html - body] = '\0';
		d = mime_qp_decode(enc, true, NULL);
		ck_assert_str_eq(d, m.text_body);
		free(d);
		free(enc);
	}
	free(h);
	free(msg);
}
END_TEST

START_TEST(test_build_text_only)
{
	mime_email m = {
		.from = "kvp@example.no", .to = "<v@example.no>", .subject = "plain",
		.text_body = "bare tekst", .html_body = NULL, .id = "id with space", .date = 0,
	};
	char *msg = mime_build(&m);

	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(strstr(msg, "text/plain"));
	ck_assert_ptr_null(strstr(msg, "text/html"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nFrom: <kvp@example.no>\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nMessage-ID: <id_with_space@example.no>\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\n\r\nbare tekst\r\n--=_kvpscan_"));
	free(msg);

	/* no plausible recipient: nothing is built */
	m.to = "x@y\nBcc: z@w";
	ck_assert_ptr_null(mime_build(&m));
	m.to = "v@example.no";
	m.from = "";
	ck_assert_ptr_null(mime_build(&m));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_qp_basic);
	tcase_add_test(tc, test_qp_soft_breaks);
	tcase_add_test(tc, test_qp_decode_lenient);
	tcase_add_test(tc, test_header_ascii);
	tcase_add_test(tc, test_header_roundtrip);
	tcase_add_test(tc, test_header_decode_foreign);
	tcase_add_test(tc, test_date);
	tcase_add_test(tc, test_parse_address);
	tcase_add_test(tc, test_address_rules);
	tcase_add_test(tc, test_build_multipart);
	tcase_add_test(tc, test_build_text_only);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
