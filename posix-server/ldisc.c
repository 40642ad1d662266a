/*
 * The console terminal's line discipline (ldisc.h): canonical lines with
 * erase, kill and end of file, echo, signal characters; or bytes as they
 * come. Pure logic.
 */
#include "ldisc.h"

#include "lib/string.h"

#define CTRL(c)  ((c) & 0x1F)
#define DEL      0x7F
#define SIGINT   2
#define SIGQUIT  3
#define SIGTSTP  20

void ldisc_init(struct ldisc *l)
{
	static const struct linux_termios fresh = {
		.iflag = 0x500, .oflag = 0x5, .cflag = 0xBF, .lflag = 0x8A3B,
		.cc = { CTRL('C'), CTRL('\\'), DEL, CTRL('U'), CTRL('D'), 0, 1, 0, CTRL('Q'),
			CTRL('S'), CTRL('Z'), 0, CTRL('R'), CTRL('O'), CTRL('W'), CTRL('V') },
	};

	memset(l, 0, sizeof(*l));
	l->t = fresh;
}

/* Whether c is the special character cc[i] (0 disables one). */
static bool is(const struct ldisc *l, uint8_t c, unsigned i)
{
	return l->t.cc[i] && c == l->t.cc[i];
}

static void put(char *echo, unsigned *n, char c)
{
	echo[(*n)++] = c;
}

/* c as ECHO shows it: a control character as ^X with ECHOCTL (not tab
 * or newline). */
static void echo_char(const struct ldisc *l, uint8_t c, char *echo, unsigned *n)
{
	if ((l->t.lflag & LDISC_ECHOCTL) && (c < ' ' || c == DEL) && c != '\t' && c != '\n') {
		put(echo, n, '^');
		put(echo, n, (char)(c == DEL ? '?' : c + '@'));
	} else {
		put(echo, n, (char)c);
	}
}

/* Columns c took when echoed. */
static unsigned width(const struct ldisc *l, uint8_t c)
{
	return (l->t.lflag & LDISC_ECHOCTL) && (c < ' ' || c == DEL) && c != '\t' ? 2 : 1;
}

static void ring_put(struct ldisc *l, uint16_t v)
{
	if (l->count == LDISC_BUF)
		return;
	l->ring[(l->head + l->count++) % LDISC_BUF] = v;
}

/* The line typed so far, and its end (a byte or LDISC_EOF), into the ring. */
static void line_done(struct ldisc *l, int end)
{
	/* A line that does not fit is not taken in part: the reader could
	 * not tell where it ended. */
	if (l->count + l->line_len + 1 > LDISC_BUF) {
		l->line_len = 0;
		return;
	}
	for (unsigned i = 0; i < l->line_len; i++)
		ring_put(l, (uint8_t)l->line[i]);
	/* Marked: the line ends here whatever VEOL says when it is read. */
	ring_put(l, end == LDISC_EOF ? LDISC_EOF : (uint16_t)(end | LDISC_LINE_END));
	l->line_len = 0;
	l->lines++;
}

/* Erase the last character of the line (one rubout); true if there was one. */
static bool rubout(struct ldisc *l, char *echo, unsigned *n)
{
	if (!l->line_len)
		return false;
	uint8_t c = (uint8_t)l->line[--l->line_len];
	if ((l->t.lflag & LDISC_ECHO) && (l->t.lflag & LDISC_ECHOE))
		for (unsigned w = width(l, c); w; w--) {
			put(echo, n, '\b');
			put(echo, n, ' ');
			put(echo, n, '\b');
		}
	return true;
}

static int signal_char(struct ldisc *l, uint8_t c, char *echo, unsigned *n)
{
	int sig = is(l, c, LDISC_VINTR) ? SIGINT : is(l, c, LDISC_VQUIT) ? SIGQUIT : SIGTSTP;

	if (!(l->t.lflag & LDISC_NOFLSH))
		ldisc_flush(l);
	if (l->t.lflag & LDISC_ECHO)
		echo_char(l, c, echo, n);
	return sig;
}

/* A canonical line's editing: true when c was one of its keys. */
static bool edit(struct ldisc *l, uint8_t c, char *echo, unsigned *n)
{
	bool echoing = l->t.lflag & LDISC_ECHO;

	if (is(l, c, LDISC_VERASE) || c == '\b') {
		rubout(l, echo, n);
	} else if (is(l, c, LDISC_VKILL)) {
		if (echoing && !(l->t.lflag & LDISC_ECHOKE) && (l->t.lflag & LDISC_ECHOK)) {
			echo_char(l, c, echo, n);
			put(echo, n, '\n');
			l->line_len = 0;
		} else if (echoing && (l->t.lflag & LDISC_ECHOKE)) {
			while (rubout(l, echo, n))
				;
		} else {
			l->line_len = 0;
		}
	} else if ((l->t.lflag & LDISC_IEXTEN) && is(l, c, LDISC_VWERASE)) {
		while (l->line_len && l->line[l->line_len - 1] == ' ')
			rubout(l, echo, n);
		while (l->line_len && l->line[l->line_len - 1] != ' ')
			rubout(l, echo, n);
	} else if (is(l, c, LDISC_VEOF)) {
		line_done(l, LDISC_EOF);
	} else {
		return false;
	}
	return true;
}

int ldisc_input(struct ldisc *l, uint8_t c, char *echo, unsigned *echo_len)
{
	if (l->t.iflag & LDISC_ISTRIP)
		c &= 0x7F;
	if (c == '\r') {
		if (l->t.iflag & LDISC_IGNCR)
			return 0;
		if (l->t.iflag & LDISC_ICRNL)
			c = '\n';
	} else if (c == '\n' && (l->t.iflag & LDISC_INLCR)) {
		c = '\r';
	}
	if ((l->t.lflag & LDISC_ISIG) &&
	    (is(l, c, LDISC_VINTR) || is(l, c, LDISC_VQUIT) || is(l, c, LDISC_VSUSP)))
		return signal_char(l, c, echo, echo_len);
	if (!(l->t.lflag & LDISC_ICANON)) {
		ring_put(l, c);
		if (l->t.lflag & LDISC_ECHO)
			echo_char(l, c, echo, echo_len);
		return 0;
	}
	if (edit(l, c, echo, echo_len))
		return 0;
	if (c == '\n' || is(l, c, LDISC_VEOL)) {
		if ((l->t.lflag & LDISC_ECHO) || (c == '\n' && (l->t.lflag & LDISC_ECHONL)))
			put(echo, echo_len, (char)c);
		line_done(l, c);
		return 0;
	}
	if (l->line_len == LDISC_LINE_MAX)
		return 0;               /* full: only its end goes in (as Linux) */
	l->line[l->line_len++] = (char)c;
	if (l->t.lflag & LDISC_ECHO)
		echo_char(l, c, echo, echo_len);
	return 0;
}

unsigned ldisc_readable(const struct ldisc *l)
{
	if (l->t.lflag & LDISC_ICANON)
		return l->lines ? 1 : 0;
	return l->count;
}

unsigned ldisc_room(const struct ldisc *l)
{
	unsigned used = l->count;

	if (l->t.lflag & LDISC_ICANON)
		used += LDISC_LINE_MAX + 1;
	return used < LDISC_BUF ? LDISC_BUF - used : 0;
}

unsigned ldisc_read(struct ldisc *l, char *out, unsigned len)
{
	bool canon = l->t.lflag & LDISC_ICANON;
	unsigned n = 0;

	while (l->count && (n < len || (canon && l->ring[l->head] == LDISC_EOF))) {
		uint16_t v = l->ring[l->head];
		l->head = (l->head + 1) % LDISC_BUF;
		l->count--;
		if (v == LDISC_EOF) {
			/* An end of file ends the read; in raw mode it is no byte. */
			if (canon) {
				l->lines--;
				break;
			}
			continue;
		}
		out[n++] = (char)(v & 0xFF);
		if (canon && (v & LDISC_LINE_END)) {
			l->lines--;
			break;
		}
	}
	return n;
}

void ldisc_set(struct ldisc *l, const struct linux_termios *t)
{
	bool was_canon = l->t.lflag & LDISC_ICANON;

	l->t = *t;
	if (was_canon && !(t->lflag & LDISC_ICANON)) {
		for (unsigned i = 0; i < l->line_len; i++)
			ring_put(l, (uint8_t)l->line[i]);
		l->line_len = 0;
		l->lines = 0;
	} else if (!was_canon && (t->lflag & LDISC_ICANON)) {
		/* What was typed raw is taken again as typed: its newlines end
		 * lines, the rest is the start of the next. */
		static uint16_t typed[LDISC_BUF];
		unsigned n = l->count;
		for (unsigned i = 0; i < n; i++)
			typed[i] = l->ring[(l->head + i) % LDISC_BUF];
		ldisc_flush(l);
		for (unsigned i = 0; i < n; i++) {
			uint16_t v = typed[i] & 0xFF;
			if (typed[i] == LDISC_EOF)
				continue;
			if (v == '\n')
				line_done(l, '\n');
			else if (l->line_len < LDISC_LINE_MAX)
				l->line[l->line_len++] = (char)v;
		}
	}
}

void ldisc_flush(struct ldisc *l)
{
	l->line_len = 0;
	l->head = l->count = 0;
	l->lines = 0;
}
