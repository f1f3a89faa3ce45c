/* util.c - memory, string buffers and range-checked parsing */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void
oom(size_t size)
{
	fprintf(stderr, "kvpscan: out of memory (requested %zu bytes)\n", size);
	abort();
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		oom(size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom(n * size);
	return p;
}

void *
xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (q == NULL)
		oom(size);
	return q;
}

char *
xstrdup(const char *s)
{
	size_t len;
	char *d;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	d = xmalloc(len + 1);
	memcpy(d, s, len + 1);
	return d;
}

char *
xasprintf(const char *fmt, ...)
{
	strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	return sb_steal(&sb);
}

void
sb_init(strbuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}

static void
sb_grow(strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	size_t cap;

	if (need <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	sb->data = xrealloc(sb->data, cap);
	sb->cap = cap;
}

void
sb_append(strbuf *sb, const char *s, size_t len)
{
	sb_grow(sb, len);
	if (len)
		memcpy(sb->data + sb->len, s, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void
sb_puts(strbuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

void
sb_putc(strbuf *sb, char c)
{
	sb_append(sb, &c, 1);
}

void
sb_vprintf(strbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	size_t avail;
	int n;

	/* one pass into the room there is; a second only when it did not fit */
	sb_grow(sb, 64);
	avail = sb->cap - sb->len;
	va_copy(aq, ap);
	n = vsnprintf(sb->data + sb->len, avail, fmt, aq);
	va_end(aq);
	if (n < 0) {
		sb->data[sb->len] = '\0';
		return;
	}
	if ((size_t) n >= avail) {
		sb_grow(sb, (size_t) n);
		vsnprintf(sb->data + sb->len, (size_t) n + 1, fmt, ap);
	}
	sb->len += (size_t) n;
}

void
sb_printf(strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

void
sb_reset(strbuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

const char *
sb_str(const strbuf *sb)
{
	return sb->data ? sb->data : "";
}

char *
sb_steal(strbuf *sb)
{
	char *d = sb->data ? sb->data : xstrdup("");

	sb_init(sb);
	return d;
}

void
sb_free(strbuf *sb)
{
	free(sb->data);
	sb_init(sb);
}

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	if (errno != 0 || *end != '\0') {
		errno = EINVAL;
		return -1;
	}
	*out = (int64_t) v;
	return 0;
}

int
parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v)) {
		errno = EINVAL;
		return -1;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

bool
valid_iso_date(const char *s)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = 0, m = 0, d = 0, i, dim;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return false;
	dim = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	return d <= dim;
}

void
json_escape(strbuf *sb, const char *s)
{
	const unsigned char *p;

	sb_putc(sb, '"');
	for (p = (const unsigned char *) (s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': sb_puts(sb, "\\\""); break;
		case '\\': sb_puts(sb, "\\\\"); break;
		case '\n': sb_puts(sb, "\\n"); break;
		case '\r': sb_puts(sb, "\\r"); break;
		case '\t': sb_puts(sb, "\\t"); break;
		default:
			if (*p < 0x20)
				sb_printf(sb, "\\u%04x", *p);
			else
				sb_putc(sb, (char) *p);
		}
	}
	sb_putc(sb, '"');
}

void
json_escape_or_null(strbuf *sb, const char *s)
{
	if (s != NULL)
		json_escape(sb, s);
	else
		sb_puts(sb, "null");
}

void
html_escape(strbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': sb_puts(sb, "&amp;"); break;
		case '<': sb_puts(sb, "&lt;"); break;
		case '>': sb_puts(sb, "&gt;"); break;
		case '"': sb_puts(sb, "&quot;"); break;
		case '\'': sb_puts(sb, "&#39;"); break;
		default: sb_putc(sb, *s); break;
		}
	}
}

size_t
utf8_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			n++;
	return n;
}

void
fput_left(FILE *out, const char *s, int width)
{
	size_t w = utf8_width(s);

	fputs(s, out);
	for (; width > 0 && w < (size_t) width; w++)
		fputc(' ', out);
}

void
csv_escape(strbuf *sb, const char *s)
{
	const char *p;

	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		sb_puts(sb, s);
		return;
	}
	sb_putc(sb, '"');
	for (p = s; *p; p++) {
		if (*p == '"')
			sb_putc(sb, '"');
		sb_putc(sb, *p);
	}
	sb_putc(sb, '"');
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

char *
read_file(const char *path, size_t max_size, size_t *len_out)
{
	strbuf sb;
	char buf[8192];
	int fd;
	int saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	sb_init(&sb);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t) n > max_size) {
			errno = EFBIG;
			goto fail;
		}
		sb_append(&sb, buf, (size_t) n);
	}
	close(fd);
	if (len_out)
		*len_out = sb.len;
	return sb_steal(&sb);

fail:
	saved = errno;
	close(fd);
	sb_free(&sb);
	errno = saved;
	return NULL;
}

int
write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = NULL;
	char *dir = NULL;
	char *slash;
	int fd = -1, dfd = -1, rc = -1, saved = 0;

	tmp = xasprintf("%s.tmp.%ld", path, (long) getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		goto cleanup;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto cleanup;
	if (close(fd) < 0) {
		fd = -1;
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto cleanup;
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void) fsync(dfd);
	rc = 0;

cleanup:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp)
		(void) unlink(tmp);
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dir);
	errno = saved;
	return rc;
}
