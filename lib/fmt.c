#include "lib/fmt.h"

#include <stdint.h>

struct fmt_spec {
	int left;       /* '-' flag */
	int zero;       /* '0' flag */
	int alt;        /* '#' flag: 0x before hex, 0 before octal */
	int width;
	int precision;  /* -1: none; limits %s */
	int length;     /* 0 int, 1 long, 2 long long, 3 size_t */
};

static int emit_padded(fmt_putc_fn putc, void *ctx, const struct fmt_spec *s,
		       const char *prefix, const char *body, int body_len)
{
	int prefix_len = 0, n = 0;

	while (prefix[prefix_len])
		prefix_len++;
	int pad = s->width - body_len - prefix_len;
	if (pad < 0)
		pad = 0;
	if (!s->left && !s->zero)
		for (; pad > 0; pad--, n++)
			putc(ctx, ' ');
	for (int i = 0; i < prefix_len; i++, n++)
		putc(ctx, prefix[i]);
	if (!s->left && s->zero)
		for (; pad > 0; pad--, n++)
			putc(ctx, '0');
	for (int i = 0; i < body_len; i++, n++)
		putc(ctx, body[i]);
	for (; pad > 0; pad--, n++)
		putc(ctx, ' ');
	return n;
}

static int emit_number(fmt_putc_fn putc, void *ctx, const struct fmt_spec *s,
		       uint64_t value, int negative, unsigned base, int upper,
		       const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = digits[value % base];
		value /= base;
	} while (value);
	return emit_padded(putc, ctx, s, negative ? "-" : prefix, buf + i,
			   (int)sizeof(buf) - i);
}

static uint64_t arg_unsigned(const struct fmt_spec *s, va_list *ap)
{
	switch (s->length) {
	case 1: return va_arg(*ap, unsigned long);
	case 2: return va_arg(*ap, unsigned long long);
	case 3: return va_arg(*ap, size_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static int64_t arg_signed(const struct fmt_spec *s, va_list *ap)
{
	switch (s->length) {
	case 1: return va_arg(*ap, long);
	case 2: return va_arg(*ap, long long);
	case 3: return (int64_t)va_arg(*ap, size_t);
	default: return va_arg(*ap, int);
	}
}

int fmt_vformat(fmt_putc_fn putc, void *ctx, const char *fmt, va_list ap_in)
{
	va_list ap;
	int n = 0;

	va_copy(ap, ap_in);
	while (*fmt) {
		if (*fmt != '%') {
			putc(ctx, *fmt++);
			n++;
			continue;
		}
		const char *start = fmt++;
		struct fmt_spec s = { 0 };
		for (;; fmt++) {
			if (*fmt == '-')
				s.left = 1;
			else if (*fmt == '0')
				s.zero = 1;
			else if (*fmt == '#')
				s.alt = 1;
			else
				break;
		}
		if (*fmt == '*') {
			s.width = va_arg(ap, int);
			if (s.width < 0) {
				s.left = 1;
				s.width = -s.width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			s.width = s.width * 10 + (*fmt++ - '0');
		s.precision = -1;
		if (*fmt == '.') {
			fmt++;
			s.precision = 0;
			if (*fmt == '*') {
				s.precision = va_arg(ap, int);
				if (s.precision < 0)
					s.precision = -1;
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				s.precision = s.precision * 10 + (*fmt++ - '0');
		}
		if (*fmt == 'l') {
			s.length = 1;
			if (*++fmt == 'l') {
				s.length = 2;
				fmt++;
			}
		} else if (*fmt == 'z') {
			s.length = 3;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = arg_signed(&s, &ap);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			n += emit_number(putc, ctx, &s, mag, v < 0, 10, 0, "");
			break;
		}
		case 'u':
			n += emit_number(putc, ctx, &s, arg_unsigned(&s, &ap), 0, 10, 0, "");
			break;
		case 'x':
		case 'X':
			n += emit_number(putc, ctx, &s, arg_unsigned(&s, &ap), 0, 16,
					 *fmt == 'X', s.alt ? (*fmt == 'X' ? "0X" : "0x") : "");
			break;
		case 'o':
			n += emit_number(putc, ctx, &s, arg_unsigned(&s, &ap), 0, 8, 0,
					 s.alt ? "0" : "");
			break;
		case 'p':
			n += emit_number(putc, ctx, &s,
					 (uintptr_t)va_arg(ap, void *), 0, 16, 0, "0x");
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			n += emit_padded(putc, ctx, &s, "", &c, 1);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			int len = 0;
			if (!str)
				str = "(null)";
			while ((s.precision < 0 || len < s.precision) && str[len])
				len++;
			n += emit_padded(putc, ctx, &s, "", str, len);
			break;
		}
		case '%':
			putc(ctx, '%');
			n++;
			break;
		default:
			/* Unknown conversion: print it as written. */
			for (; start <= fmt && *start; start++, n++)
				putc(ctx, *start);
			if (!*fmt) {
				va_end(ap);
				return n;
			}
			break;
		}
		fmt++;
	}
	va_end(ap);
	return n;
}

struct fmt_buf {
	char *buf;
	size_t size;
	size_t len;
};

static void fmt_buf_putc(void *ctx, char c)
{
	struct fmt_buf *b = ctx;

	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_buf b = { buf, size, 0 };
	int n = fmt_vformat(fmt_buf_putc, &b, fmt, ap);

	if (size)
		buf[b.len < size ? b.len : size - 1] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

char *fmt_count(char *buf, size_t size, unsigned long long n, const char *one,
		const char *many)
{
	fmt_snprintf(buf, size, "%llu %s", n, n == 1 ? one : many);
	return buf;
}

char *fmt_bytes(char *buf, size_t size, unsigned long long bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;
	unsigned long long whole = bytes, rest = 0;

	while (u + 1 < sizeof(units) / sizeof(units[0]) && whole >= 1024) {
		rest = whole % 1024;
		whole /= 1024;
		u++;
	}
	if (rest * 10 / 1024)
		fmt_snprintf(buf, size, "%llu.%llu %s", whole, rest * 10 / 1024, units[u]);
	else
		fmt_snprintf(buf, size, "%llu %s", whole, units[u]);
	return buf;
}
