/* util.h - memory, string buffers and range-checked parsing */
#ifndef KVP_UTIL_H
#define KVP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>

#define KVP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocate or abort with a message; never returns NULL. Caller frees. */
void *xmalloc(size_t size);
/* Zeroed allocation or abort; caller frees. */
void *xcalloc(size_t n, size_t size);
/* Resize or abort; caller frees the result. */
void *xrealloc(void *p, size_t size);
/* Duplicate a string (NULL gives NULL); caller frees. */
char *xstrdup(const char *s);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) KVP_PRINTF(1, 2);

/* A growable, always NUL-terminated byte buffer. */
typedef struct strbuf {
	char *data;
	size_t len;
	size_t cap;
} strbuf;

/* Initialise an empty buffer (no allocation until first append). */
void sb_init(strbuf *sb);
/* Append len bytes. */
void sb_append(strbuf *sb, const char *s, size_t len);
/* Append a NUL-terminated string. */
void sb_puts(strbuf *sb, const char *s);
/* Append one byte. */
void sb_putc(strbuf *sb, char c);
/* Append printf-formatted text. */
void sb_printf(strbuf *sb, const char *fmt, ...) KVP_PRINTF(2, 3);
/* Append vprintf-formatted text. */
void sb_vprintf(strbuf *sb, const char *fmt, va_list ap) KVP_PRINTF(2, 0);
/* Empty the buffer, keeping its memory. */
void sb_reset(strbuf *sb);
/* Return the contents ("" when empty); the buffer keeps ownership. */
const char *sb_str(const strbuf *sb);
/* Hand the contents to the caller (caller frees) and reset the buffer. */
char *sb_steal(strbuf *sb);
/* Free the buffer's memory. */
void sb_free(strbuf *sb);

/* Parse a whole decimal integer in [min, max]; 0 on success, -1 otherwise (errno set). */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parse a whole decimal number in [min, max]; 0 on success, -1 otherwise. */
int parse_double(const char *s, double min, double max, double *out);
/* Check a YYYY-MM-DD calendar date (proleptic Gregorian, 1900..9999); true if valid. */
bool valid_iso_date(const char *s);

/* Append s to sb as a JSON string literal, quotes included. */
void json_escape(strbuf *sb, const char *s);
/* As json_escape(), but NULL gives the JSON null. */
void json_escape_or_null(strbuf *sb, const char *s);
/* Append s to sb with &, <, >, " and ' escaped for HTML. */
void html_escape(strbuf *sb, const char *s);
/* Append s to sb as one CSV field, quoted when needed (RFC 4180). */
void csv_escape(strbuf *sb, const char *s);
/* Characters (UTF-8 code points) in s: its width in a fixed-width table. */
size_t utf8_width(const char *s);
/* Write s to out left-aligned in width characters (code points, not bytes), padded with spaces. */
void fput_left(FILE *out, const char *s, int width);

/* Write all of buf to fd, retrying on EINTR; 0 or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);
/* Read a whole file into a new NUL-terminated string (caller frees); NULL with errno. */
char *read_file(const char *path, size_t max_size, size_t *len_out);
/* Write data to path atomically: temp file, fsync, rename, fsync dir. 0 or -1 with errno. */
int write_file_atomic(const char *path, const void *data, size_t len, int mode);

#endif
