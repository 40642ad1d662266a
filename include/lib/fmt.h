/*
 * Formatted output shared by the kernel and user-level code.
 *
 * Conversions: %d %i %u %x %X %o %p %s %c %%, with flags '-', '0' and '#', a
 * field width (number or '*'), a precision for %s (".N" or ".*": at most N
 * characters) and the length modifiers l, ll, z. Anything
 * else is printed literally, so a bad format string never reads past the
 * arguments it names.
 */
#ifndef MICA_FMT_H
#define MICA_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Called once per output character with the caller's context. */
typedef void (*fmt_putc_fn)(void *ctx, char c);

/* Format into putc; returns the number of characters produced. */
int fmt_vformat(fmt_putc_fn putc, void *ctx, const char *fmt, va_list ap);

/* Like C's snprintf: always NUL-terminates when size > 0, returns the
 * length the full output would have had. */
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/*
 * Counted words and sizes, so that every message says them one way:
 *
 *   fmt_count(buf, size, n, "restart", "restarts")  "1 restart", "3 restarts"
 *   fmt_bytes(buf, size, bytes)                      "512 B", "4 KiB", "1.5 MiB"
 *
 * fmt_bytes uses the largest binary unit (B, KiB, MiB, GiB, TiB) the
 * value reaches, with one decimal (rounded down) unless that is 0.
 * Both write at most size bytes, NUL-terminated, and return buf.
 */
char *fmt_count(char *buf, size_t size, unsigned long long n, const char *one,
		const char *many);
char *fmt_bytes(char *buf, size_t size, unsigned long long bytes);

#endif
