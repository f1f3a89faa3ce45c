/* mime.c - building email messages: quoted-printable, RFC 2047 headers, multipart/alternative */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mime.h"

static const char hexdigits[] = "0123456789ABCDEF";
static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Bytes that make up the UTF-8 character starting at s[0] (1 when invalid or cut off). */
static size_t
utf8_unit(const unsigned char *s, size_t avail)
{
	size_t n, i;

	if (s[0] < 0xC2 || s[0] > 0xF4)
		return 1;
	n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
	if (n > avail)
		return 1;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* True when position i in s (length len) is followed by a line end or the end. */
static bool
at_line_end(const char *s, size_t len, size_t i)
{
	return i >= len || s[i] == '\n' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n');
}

void
mime_qp_encode(strbuf *sb, const char *s, size_t len)
{
	size_t i = 0, col = 0;

	while (i < len) {
		const unsigned char *u = (const unsigned char *) s + i;
		char enc[16];
		size_t unit = 1, elen = 0, k;

		if (s[i] == '\n' || (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')) {
			sb_append(sb, "\r\n", 2);
			i += s[i] == '\r' ? 2 : 1;
			col = 0;
			continue;
		}
		if (u[0] >= 0x80)
			unit = utf8_unit(u, len - i);
		for (k = 0; k < unit; k++) {
			unsigned char c = u[k];
			bool literal;

			if (c == ' ' || c == '\t')
				literal = !at_line_end(s, len, i + 1);
			else if (c == '.' && col == 0)
				literal = false;       /* no lone "." line, ever */
			else if (c == 'F' && col == 0 && len - i >= 5 && memcmp(s + i, "From ", 5) == 0)
				literal = false;       /* survives mbox "From " quoting */
			else
				literal = c >= 33 && c <= 126 && c != '=';
			if (literal) {
				enc[elen++] = (char) c;
			} else {
				enc[elen++] = '=';
				enc[elen++] = hexdigits[c >> 4];
				enc[elen++] = hexdigits[c & 15];
			}
		}
		/* room for the unit and a soft break's '=' on this line */
		if (col + elen > MIME_QP_LINE_MAX - 1) {
			sb_append(sb, "=\r\n", 3);
			col = 0;
			if (elen == 1 && (enc[0] == '.' || (enc[0] == 'F' && len - i >= 5
							    && memcmp(s + i, "From ", 5) == 0))) {
				/* now at a line start: encode it after all */
				enc[0] = '=';
				enc[1] = hexdigits[u[0] >> 4];
				enc[2] = hexdigits[u[0] & 15];
				elen = 3;
			}
		}
		sb_append(sb, enc, elen);
		col += elen;
		i += unit;
	}
}

char *
mime_qp_decode(const char *s, bool crlf_to_lf, size_t *len_out)
{
	strbuf sb;
	size_t i = 0, len = strlen(s);
	sb_init(&sb);
	sb_puts(&sb, "");
	while (i < len) {
		if (s[i] == '=') {
			size_t j = i + 1;

			/* soft break, possibly with transport padding before it */
			while (j < len && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j < len && (s[j] == '\n' || (s[j] == '\r' && j + 1 < len && s[j + 1] == '\n'))) {
				i = j + (s[j] == '\r' ? 2 : 1);
				continue;
			}
			if (j == len) {
				i = len;
				continue;
			}
			if (i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
				sb_putc(&sb, (char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
				i += 3;
				continue;
			}
			sb_putc(&sb, '=');
			i++;
		} else if (crlf_to_lf && s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
			sb_putc(&sb, '\n');
			i += 2;
		} else {
			sb_putc(&sb, s[i++]);
		}
	}
	if (len_out)
		*len_out = sb.len;
	return sb_steal(&sb);
}

static void
base64_encode(strbuf *sb, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];

		sb_putc(sb, b64chars[v >> 18 & 63]);
		sb_putc(sb, b64chars[v >> 12 & 63]);
		sb_putc(sb, b64chars[v >> 6 & 63]);
		sb_putc(sb, b64chars[v & 63]);
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t) p[i] << 16;

		sb_putc(sb, b64chars[v >> 18 & 63]);
		sb_putc(sb, b64chars[v >> 12 & 63]);
		sb_puts(sb, "==");
	} else if (len - i == 2) {
		uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8;

		sb_putc(sb, b64chars[v >> 18 & 63]);
		sb_putc(sb, b64chars[v >> 12 & 63]);
		sb_putc(sb, b64chars[v >> 6 & 63]);
		sb_putc(sb, '=');
	}
}

/* Decode base64 text of length len into sb; -1 on a character outside the alphabet. */
static int
base64_decode(strbuf *sb, const char *s, size_t len)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		const char *p;

		if (s[i] == '=')
			break;
		p = strchr(b64chars, s[i]);
		if (p == NULL || s[i] == '\0')
			return -1;
		acc = acc << 6 | (uint32_t) (p - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sb_putc(sb, (char) (acc >> bits & 0xFF));
		}
	}
	return 0;
}

/* Bytes of UTF-8 text per encoded-word: 36 bytes are 48 base64 characters, 60 with the wrapping. */
#define EW_CHUNK 36

/* Append v as B encoded-words of whole UTF-8 characters, separated by folding whitespace. */
static void
append_encoded_words(strbuf *sb, const char *v, size_t len)
{
	size_t i = 0;
	bool first = true;

	while (i < len) {
		size_t start = i, unit;

		while (i < len) {
			unit = utf8_unit((const unsigned char *) v + i, len - i);
			if (i > start && i - start + unit > EW_CHUNK)
				break;
			i += unit;
		}
		if (!first)
			sb_puts(sb, "\r\n ");
		sb_puts(sb, "=?UTF-8?B?");
		base64_encode(sb, (const unsigned char *) v + start, i - start);
		sb_puts(sb, "?=");
		first = false;
	}
}

/* True when v must be sent as encoded-words rather than as is. */
static bool
needs_encoding(const char *v)
{
	const unsigned char *p;

	for (p = (const unsigned char *) v; *p; p++)
		if (*p < 0x20 || *p >= 0x7F)
			return true;
	return strstr(v, "=?") != NULL;
}

/* A copy of v with CR, LF and TAB turned into spaces; caller frees. */
static char *
header_clean(const char *v)
{
	char *c = xstrdup(v ? v : ""), *p;

	for (p = c; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	return c;
}

void
mime_header(strbuf *sb, const char *name, const char *value)
{
	char *v = header_clean(value);
	size_t col, i, len = strlen(v);

	sb_printf(sb, "%s: ", name);
	col = strlen(name) + 2;
	if (needs_encoding(v)) {
		append_encoded_words(sb, v, len);
	} else {
		/* fold before a space when a line would pass 78 characters */
		i = 0;
		while (i < len) {
			size_t j = i + (v[i] == ' ' ? 1 : 0);

			while (j < len && v[j] != ' ')
				j++;
			if (v[i] == ' ' && j - i > 1 && col + (j - i) > 78 && col > strlen(name) + 2) {
				sb_puts(sb, "\r\n");
				col = 0;
			}
			sb_append(sb, v + i, j - i);
			col += j - i;
			i = j;
		}
	}
	sb_puts(sb, "\r\n");
	free(v);
}

/* Decode one encoded-word at s; on success append it to out, set *end past it, return 0. */
static int
decode_encoded_word(const char *s, const char **end, strbuf *out)
{
	const char *q1, *q2, *q3;
	char enc;
	size_t n, i;
	strbuf tmp;
	int rc = -1;

	sb_init(&tmp);
	if (strncmp(s, "=?", 2) != 0)
		goto cleanup;
	q1 = strchr(s + 2, '?');
	if (q1 == NULL || q1 == s + 2 || q1[1] == '\0' || q1[2] != '?')
		goto cleanup;
	enc = q1[1];
	q2 = q1 + 2;
	q3 = strstr(q2 + 1, "?=");
	if (q3 == NULL)
		goto cleanup;
	for (i = 0; s + 2 + i < q1; i++)
		if (s[2 + i] == ' ' || s[2 + i] == '\t')
			goto cleanup;
	n = (size_t) (q3 - (q2 + 1));
	if (memchr(q2 + 1, ' ', n) || memchr(q2 + 1, '\t', n))
		goto cleanup;
	if (enc == 'B' || enc == 'b') {
		if (base64_decode(&tmp, q2 + 1, n) < 0)
			goto cleanup;
	} else if (enc == 'Q' || enc == 'q') {
		const char *p = q2 + 1;

		for (i = 0; i < n; i++) {
			if (p[i] == '_') {
				sb_putc(&tmp, ' ');
			} else if (p[i] == '=' && i + 2 < n && hexval(p[i + 1]) >= 0
				   && hexval(p[i + 2]) >= 0) {
				sb_putc(&tmp, (char) (hexval(p[i + 1]) * 16 + hexval(p[i + 2])));
				i += 2;
			} else {
				sb_putc(&tmp, p[i]);
			}
		}
	} else {
		goto cleanup;
	}
	sb_append(out, tmp.data ? tmp.data : "", tmp.len);
	*end = q3 + 2;
	rc = 0;

cleanup:
	sb_free(&tmp);
	return rc;
}

char *
mime_header_decode(const char *value)
{
	strbuf out, unf;
	const char *p, *ws = NULL;
	bool last_ew = false;
	char *res;

	sb_init(&out);
	sb_init(&unf);
	sb_puts(&out, "");
	/* unfold: drop a line break followed by whitespace */
	for (p = value; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t'))
			p++;
		else if (p[0] == '\n' && (p[1] == ' ' || p[1] == '\t'))
			;
		else
			sb_putc(&unf, *p);
	}
	p = sb_str(&unf);
	while (*p) {
		const char *end;

		if (p[0] == '=' && p[1] == '?') {
			size_t mark = out.len;

			if (ws && !last_ew)
				sb_append(&out, ws, (size_t) (p - ws));
			if (decode_encoded_word(p, &end, &out) == 0) {
				ws = NULL;
				last_ew = true;
				p = end;
				continue;
			}
			/* not an encoded-word after all: undo and take "=" literally */
			out.len = mark;
			out.data[mark] = '\0';
		}
		if (*p == ' ' || *p == '\t') {
			if (ws == NULL)
				ws = p;
			p++;
			continue;
		}
		if (ws)
			sb_append(&out, ws, (size_t) (p - ws));
		ws = NULL;
		last_ew = false;
		sb_putc(&out, *p++);
	}
	if (ws)
		sb_append(&out, ws, (size_t) (p - ws));
	sb_free(&unf);
	res = sb_steal(&out);
	return res;
}

void
mime_format_date(char *buf, size_t size, time_t t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off;

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	off = tm.tm_gmtoff / 60;
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
		 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
		 (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}

/* RFC 5322 atext: the characters of a dot-atom besides the dots. */
static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	       || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* NULL when a (length len) is a dot-atom: atext runs joined by single dots; else why not (a constant). */
static const char *
dot_atom_error(const char *a, size_t len, bool local)
{
	size_t i;

	if (len == 0)
		return local ? "the part before \"@\" is empty" : "the domain is empty";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char) a[i];

		if (c >= 0x80)
			return local ? "the part before \"@\" holds a non-ASCII character: the address itself must be ASCII"
				     : "the domain holds a non-ASCII character: the address itself must be ASCII "
				       "(write an international domain in its xn-- form)";
		if (c <= 0x20 || c == 0x7f)
			return "the address holds a space or a control character";
		if (c == '.' && (i == 0 || i + 1 == len || a[i + 1] == '.'))
			return local ? "the part before \"@\" starts or ends with a dot, or has two in a row"
				     : "the domain starts or ends with a dot, or has two in a row";
		if (c != '.' && !is_atext(c))
			return "the address holds a character an address may not hold, one of ()<>[]:;,\\\"";
	}
	return NULL;
}

/* NULL when a (length len) is an addr-spec kvpscan puts on the wire (local@domain, ASCII dot-atoms); else why not. */
static const char *
addr_spec_error(const char *a, size_t len)
{
	const char *at = memchr(a, '@', len), *why;

	if (at == NULL)
		return "it has no \"@\"";
	if (memchr(at + 1, '@', len - (size_t) (at - a) - 1) != NULL)
		return "it has more than one \"@\"";
	if ((why = dot_atom_error(a, (size_t) (at - a), true)) != NULL)
		return why;
	if ((why = dot_atom_error(at + 1, len - (size_t) (at - a) - 1, false)) != NULL)
		return why;
	if (at - a > 64 || len > 254)
		return "it is longer than SMTP allows (64 characters before \"@\", 254 in all)";
	return NULL;
}

/* NULL when the display name d is valid UTF-8 without control characters; else why not. */
static const char *
display_error(const char *d)
{
	const unsigned char *u = (const unsigned char *) d;
	size_t i, len = strlen(d);

	for (i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return "the display name holds a control character";
		if (u[i] >= 0x80) {
			size_t n = utf8_unit(u + i, len - i);

			if (n == 1)
				return "the display name is not valid UTF-8";
			i += n - 1;
		}
	}
	return NULL;
}

/* A copy of s (length len) without surrounding blanks; a quoted string unquoted. */
static char *
trimmed(const char *s, size_t len)
{
	char *r;
	size_t i, o = 0;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	r = xmalloc(len + 1);
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		for (i = 1; i + 1 < len; i++) {
			if (s[i] == '\\' && i + 2 < len)
				i++;
			r[o++] = s[i];
		}
	} else {
		memcpy(r, s, len);
		o = len;
	}
	r[o] = '\0';
	return r;
}

/* Parse "addr", "<addr>" or "Name <addr>"; the one address parser (email.from, recipients, conf.c). */
char *
mime_address_parse(const char *s, char **display, const char **why)
{
	const char *lt, *gt, *err = NULL;
	char *addr = NULL, *disp = NULL;

	if (display)
		*display = NULL;
	if (s == NULL) {
		err = "there is no address";
		goto fail;
	}
	lt = strchr(s, '<');
	if (lt) {
		gt = strchr(lt, '>');
		if (gt == NULL) {
			err = "a \"<\" has no \">\"";
			goto fail;
		}
		if (gt[1 + strspn(gt + 1, " \t")] != '\0') {
			err = "there is text after the \">\"";
			goto fail;
		}
		addr = trimmed(lt + 1, (size_t) (gt - lt - 1));
		disp = trimmed(s, (size_t) (lt - s));
		if (disp[0] == '\0') {
			free(disp);
			disp = NULL;
		}
	} else if (strchr(s, '>')) {
		err = "a \">\" has no \"<\"";
		goto fail;
	} else {
		addr = trimmed(s, strlen(s));
	}
	if ((err = addr_spec_error(addr, strlen(addr))) != NULL)
		goto fail;
	if (disp && (err = display_error(disp)) != NULL)
		goto fail;
	if (display)
		*display = disp;
	else
		free(disp);
	if (why)
		*why = NULL;
	return addr;

fail:
	if (why)
		*why = err;
	free(addr);
	free(disp);
	return NULL;
}

/* The bare address of s, as mime_address_parse() without the reason; caller frees. */
char *
mime_parse_address(const char *s, char **display)
{
	return mime_address_parse(s, display, NULL);
}

const char *
mime_address_domain(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at && at[1] ? at + 1 : "kvpscan.invalid";
}

/* Append s with every character that may not stand in a Message-ID's left part as '_'. */
static void
append_msgid_part(strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		    || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~.", c)))
			sb_putc(sb, (char) c);
		else
			sb_putc(sb, '_');
	}
}

/* Append display name as a quoted-string, or encoded-words when not plain ASCII. */
static void
append_phrase(strbuf *sb, const char *disp)
{
	const char *p;

	if (needs_encoding(disp)) {
		append_encoded_words(sb, disp, strlen(disp));
		return;
	}
	sb_putc(sb, '"');
	for (p = disp; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_putc(sb, '\\');
		sb_putc(sb, *p);
	}
	sb_putc(sb, '"');
}

static void
append_part(strbuf *sb, const char *boundary, const char *type, const char *body)
{
	sb_printf(sb, "\r\n--%s\r\n", boundary);
	sb_printf(sb, "Content-Type: %s; charset=UTF-8\r\n", type);
	sb_puts(sb, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	mime_qp_encode(sb, body, strlen(body));
}

char *
mime_build(const mime_email *m)
{
	strbuf sb;
	char *from = NULL, *disp = NULL, *to = NULL, *res = NULL;
	char date[64], boundary[64];
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	sb_init(&sb);
	from = mime_parse_address(m->from, &disp);
	to = mime_parse_address(m->to, NULL);
	if (from == NULL || to == NULL)
		goto cleanup;

	/* "=_" never occurs in quoted-printable text, so the boundary cannot either */
	for (p = m->id ? m->id : ""; *p; p++)
		h = (h ^ (unsigned char) *p) * 1099511628211ULL;
	h = (h ^ (uint64_t) m->date) * 1099511628211ULL;
	snprintf(boundary, sizeof(boundary), "=_kvpscan_%016llx", (unsigned long long) h);
	mime_format_date(date, sizeof(date), m->date);

	sb_printf(&sb, "Date: %s\r\n", date);
	sb_puts(&sb, "From: ");
	if (disp) {
		append_phrase(&sb, disp);
		sb_putc(&sb, ' ');
	}
	sb_printf(&sb, "<%s>\r\n", from);
	sb_printf(&sb, "To: <%s>\r\n", to);
	mime_header(&sb, "Subject", m->subject ? m->subject : "");
	sb_puts(&sb, "Message-ID: <");
	append_msgid_part(&sb, m->id && m->id[0] ? m->id : "kvpscan");
	sb_putc(&sb, '@');
	append_msgid_part(&sb, mime_address_domain(from));
	sb_puts(&sb, ">\r\n");
	sb_puts(&sb, "MIME-Version: 1.0\r\n");
	sb_puts(&sb, "Auto-Submitted: auto-generated\r\n");
	sb_printf(&sb, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n", boundary);
	sb_puts(&sb, "\r\nThis is a multi-part message in MIME format.\r\n");
	append_part(&sb, boundary, "text/plain", m->text_body ? m->text_body : "");
	if (m->html_body)
		append_part(&sb, boundary, "text/html", m->html_body);
	sb_printf(&sb, "\r\n--%s--\r\n", boundary);
	res = sb_steal(&sb);

cleanup:
	sb_free(&sb);
	free(from);
	free(disp);
	free(to);
	return res;
}
