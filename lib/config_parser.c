/* Tokens and values of Mica's configuration files: include/lib/config_parser.h. */
#include "lib/config_parser.h"

#include <stdarg.h>

#include "lib/fmt.h"
#include "lib/inet.h"
#include "lib/string.h"

void config_parser_start(struct config_parser *ps, const char *text, size_t len,
			 struct config_error *err)
{
	*ps = (struct config_parser){ .p = text, .end = text + len, .line = 1, .column = 1, .err = err };
	*err = (struct config_error){ 0 };
}

bool config_fail_at(struct config_parser *ps, const struct config_token *t, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return false;
	ps->failed = true;
	ps->err->line = t->line;
	ps->err->column = t->column;
	va_start(ap, fmt);
	fmt_vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
	va_end(ap);
	return false;
}

static bool is_word_char(char ch)
{
	return ch > ' ' && ch != '{' && ch != '}' && ch != ';' && ch != ',' && ch != '#' &&
	       ch != 0x7f;
}

static void advance(struct config_parser *ps)
{
	if (*ps->p == '\n') {
		ps->line++;
		ps->column = 1;
	} else {
		ps->column++;
	}
	ps->p++;
}

bool config_next(struct config_parser *ps)
{
	struct config_token *t = &ps->token;

	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
		advance(ps);
	if (ps->p < ps->end && *ps->p == '#')
		while (ps->p < ps->end && *ps->p != '\n')
			advance(ps);
	t->line = ps->line;
	t->column = ps->column;
	t->text[0] = 0;
	if (ps->p >= ps->end) {
		t->kind = CONFIG_TOKEN_END;
		return true;
	}
	char ch = *ps->p;
	if (ch == '\n' || ch == ';' || ch == '{' || ch == '}' || ch == ',') {
		t->kind = ch == '{' ? CONFIG_TOKEN_OPEN : ch == '}' ? CONFIG_TOKEN_CLOSE : ch == ',' ? CONFIG_TOKEN_COMMA
											 : CONFIG_TOKEN_NEWLINE;
		t->text[0] = ch == '\n' ? 0 : ch;
		t->text[1] = 0;
		advance(ps);
		return true;
	}
	if (!is_word_char(ch))
		return CONFIG_FAIL(ps, "unexpected character (code %u)", (unsigned)(unsigned char)ch);
	size_t n = 0;
	while (ps->p < ps->end && is_word_char(*ps->p)) {
		if (n == CONFIG_WORD_MAX)
			return CONFIG_FAIL(ps, "word longer than %u characters", CONFIG_WORD_MAX);
		t->text[n++] = *ps->p;
		advance(ps);
	}
	t->text[n] = 0;
	t->kind = CONFIG_TOKEN_WORD;
	return true;
}

bool config_at_word(const struct config_parser *ps, const char *w)
{
	return ps->token.kind == CONFIG_TOKEN_WORD && !strcmp(ps->token.text, w);
}

bool config_end_of_statement(struct config_parser *ps, bool in_block)
{
	switch (ps->token.kind) {
	case CONFIG_TOKEN_NEWLINE:
		return config_next(ps);
	case CONFIG_TOKEN_END:
		return true;
	case CONFIG_TOKEN_CLOSE:
		if (in_block)
			return true;
		return CONFIG_FAIL(ps, "'}' without a block to close");
	default:
		return CONFIG_FAIL(ps, "unexpected '%s' after the end of the statement", ps->token.text);
	}
}

bool config_take_word(struct config_parser *ps, char *out, size_t size, const char *wanted)
{
	if (ps->token.kind != CONFIG_TOKEN_WORD)
		return CONFIG_FAIL(ps, "expected %s", wanted);
	if (strlen(ps->token.text) >= size)
		return CONFIG_FAIL(ps, "'%s' is too long for %s", ps->token.text, wanted);
	memcpy(out, ps->token.text, strlen(ps->token.text) + 1);
	return config_next(ps);
}

bool config_parse_uint(const char *w, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*w)
		return false;
	for (; *w; w++) {
		if (*w < '0' || *w > '9')
			return false;
		v = v * 10 + (unsigned long)(*w - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Hex digits s[0..n) (1 to 2 of them) as a number; -1 if not. */
static int parse_hex(const char *s, size_t n)
{
	int v = 0;

	if (n < 1 || n > 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(s[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* "00:03.0": bus (hex, to ff), device (hex, to 1f), function (0-7). */
bool config_parse_pci_slot(const char *w, uint16_t *bus, uint16_t *devfn)
{
	const char *colon = strchr(w, ':'), *dot = colon ? strchr(colon, '.') : 0;

	if (!colon || !dot || strlen(dot + 1) != 1)
		return false;
	int b = parse_hex(w, (size_t)(colon - w));
	int d = parse_hex(colon + 1, (size_t)(dot - colon - 1));
	int f = dot[1] - '0';
	if (b < 0 || d < 0 || d > 31 || f < 0 || f > 7)
		return false;
	*bus = (uint16_t)b;
	*devfn = (uint16_t)(d << 3 | f);
	return true;
}

/* "52:54:00:12:34:56" */
bool config_parse_mac(const char *w, uint8_t mac[6])
{
	if (strlen(w) != 17)
		return false;
	for (unsigned i = 0; i < 6; i++) {
		int v = parse_hex(w + 3 * i, 2);
		if (v < 0 || (i < 5 && w[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)v;
	}
	return true;
}

uint32_t config_prefix_mask(unsigned len)
{
	uint32_t host = len ? ~0U << (32 - len) : 0;
	return __builtin_bswap32(host);
}

/* "A.B.C.D/LEN" (or "A.B.C.D" as /32 when bare_ok). */
bool config_parse_prefix(const char *w, bool bare_ok, uint32_t *addr, unsigned *len)
{
	const char *slash = strchr(w, '/');
	unsigned long l = 32;

	if (!slash && !bare_ok)
		return false;
	if (!inet_parse_ipv4(w, slash ? (size_t)(slash - w) : strlen(w), addr))
		return false;
	if (slash && !config_parse_uint(slash + 1, 32, &l))
		return false;
	*len = (unsigned)l;
	return true;
}

void config_format_ipv4(char *buf, size_t size, uint32_t a)
{
	fmt_snprintf(buf, size, "%u.%u.%u.%u", a & 0xff, a >> 8 & 0xff, a >> 16 & 0xff, a >> 24);
}

