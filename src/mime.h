/* mime.h - building email messages: quoted-printable, RFC 2047 headers, multipart/alternative */
#ifndef KVP_MIME_H
#define KVP_MIME_H

#include <stddef.h>
#include <time.h>
#include "util.h"

/* The longest encoded line quoted-printable may produce, CRLF not counted (RFC 2045). */
#define MIME_QP_LINE_MAX 76

/*
 * Append len bytes of s to sb as quoted-printable (RFC 2045 6.7): '=',
 * control and non-ASCII bytes as =XX, whitespace before a line end encoded,
 * soft line breaks so no line exceeds 76 characters (never inside =XX or a
 * UTF-8 character), "\n" and "\r\n" in s become CRLF hard line breaks.
 */
void mime_qp_encode(strbuf *sb, const char *s, size_t len);

/*
 * Decode quoted-printable text (soft breaks removed, CRLF kept as "\r\n"
 * unless crlf_to_lf).  Returns a new string (caller frees) and its length in
 * *len_out (may be NULL); invalid =XX sequences are kept literally.
 */
char *mime_qp_decode(const char *s, bool crlf_to_lf, size_t *len_out);

/*
 * Append one header line "Name: value\r\n" to sb.  A value that is printable
 * ASCII is folded at spaces when long; anything else (UTF-8, "=?") becomes
 * RFC 2047 B encoded-words of whole UTF-8 characters, each at most 75
 * characters, folded onto continuation lines.  CR, LF and TAB in value are
 * turned into spaces (no header injection).
 */
void mime_header(strbuf *sb, const char *name, const char *value);

/*
 * Decode an unstructured header value: unfold, decode RFC 2047 B and Q
 * encoded-words (UTF-8 and US-ASCII charsets), drop whitespace between
 * adjacent encoded-words.  Returns a new string; caller frees.
 */
char *mime_header_decode(const char *value);

/* Write t as an RFC 5322 date ("Mon, 23 Nov 2026 10:48:53 +0100", local time, C locale) into buf. */
void mime_format_date(char *buf, size_t size, time_t t);

/*
 * The one address parser of kvpscan (email.from and report.municipality_email
 * in conf.c, the sender and every recipient in the email channel).  Accepts
 * "a@b.no", "<a@b.no>" and "Name <a@b.no>" (the name optionally in double
 * quotes, any UTF-8 text without control characters: mime_build() encodes it
 * per RFC 2047).  The address itself must be ASCII: local@domain, each a
 * dot-atom (RFC 5322 atext joined by single dots), at most 64 + 254 bytes.
 * Returns the bare address (caller frees) and, when display is not NULL, the
 * display name or NULL (caller frees).  NULL when s is not such an address;
 * then *why (when why is not NULL) says what is wrong, in static storage.
 */
char *mime_address_parse(const char *s, char **display, const char **why);

/* mime_address_parse() without the reason: the bare address (caller frees) or NULL. */
char *mime_parse_address(const char *s, char **display);

/* The domain part of a bare address, or "kvpscan.invalid"; points into addr or a constant. */
const char *mime_address_domain(const char *addr);

/* One email as mime_build() turns it into text. */
typedef struct mime_email {
	const char *from;        /* "a@b.no" or "Name <a@b.no>" */
	const char *to;          /* bare address */
	const char *subject;     /* UTF-8 */
	const char *text_body;   /* UTF-8, required */
	const char *html_body;   /* UTF-8, NULL for none */
	const char *id;          /* delivery id: Message-ID is <id@sender-domain> */
	time_t date;
} mime_email;

/*
 * Build a whole RFC 5322 message with CRLF line ends: headers (Date, From,
 * To, Subject, Message-ID, MIME-Version, Auto-Submitted, Content-Type) and a
 * multipart/alternative body with the text/plain part first and the
 * text/html part last (only the text part when html_body is NULL), both
 * UTF-8 quoted-printable.  Returns a new string; caller frees.  NULL when
 * from or to is not a plausible address.
 */
char *mime_build(const mime_email *m);

#endif
