/*
 * The console's line editor (line_edit.h): keys and escape sequences in,
 * edits of one line, its history and Tab completion. No system calls.
 */
#include "line_edit.h"

#include "lib/string.h"

#define CTRL(c) ((c) & 0x1F)
#define ESC     0x1B
#define DEL     0x7F

/* Where in an escape sequence the last byte left the editor. */
enum { SEQ_NONE, SEQ_ESC, SEQ_CSI, SEQ_CSI_MORE, SEQ_SS3 };

/* What a key or a sequence asks for. */
enum action {
	ACT_NONE, ACT_LEFT, ACT_RIGHT, ACT_HOME, ACT_END, ACT_UP, ACT_DOWN,
	ACT_BACKSPACE, ACT_DELETE, ACT_KILL_START, ACT_KILL_END, ACT_KILL_WORD,
	ACT_REDRAW, ACT_COMPLETE, ACT_ENTER, ACT_CANCEL,
};

void line_edit_init(struct line_edit *e, line_edit_candidates_fn candidates, void *ctx)
{
	memset(e, 0, sizeof(*e));
	e->candidates = candidates;
	e->ctx = ctx;
}

/* ---- editing the line ---- */

static void set_line(struct line_edit *e, const char *text)
{
	e->len = (unsigned)strnlen(text, LINE_EDIT_MAX);
	memcpy(e->buf, text, e->len);
	e->buf[e->len] = 0;
	e->cursor = e->len;
	e->full_reported = false;
}

/* Insert n characters at the cursor; false (nothing inserted) if they do not fit. */
static bool insert(struct line_edit *e, const char *s, unsigned n)
{
	if (n > LINE_EDIT_MAX - e->len)
		return false;
	memmove(e->buf + e->cursor + n, e->buf + e->cursor, e->len - e->cursor + 1);
	memcpy(e->buf + e->cursor, s, n);
	e->len += n;
	e->cursor += n;
	return true;
}

/* Delete [from, to) of the line; the cursor goes to from. */
static enum line_edit_result cut(struct line_edit *e, unsigned from, unsigned to)
{
	if (from >= to)
		return LINE_EDIT_NONE;
	memmove(e->buf + from, e->buf + to, e->len - to + 1);
	e->len -= to - from;
	e->cursor = from;
	e->full_reported = false;
	return LINE_EDIT_REDRAW;
}

static enum line_edit_result move_to(struct line_edit *e, unsigned pos)
{
	if (pos == e->cursor)
		return LINE_EDIT_NONE;
	e->cursor = pos;
	return LINE_EDIT_REDRAW;
}

static enum line_edit_result insert_char(struct line_edit *e, char c)
{
	if (insert(e, &c, 1))
		return LINE_EDIT_REDRAW;
	if (e->full_reported)
		return LINE_EDIT_NONE;
	e->full_reported = true;
	return LINE_EDIT_FULL;
}

/* ---- history ---- */

/* The k-th newest entry (1: the newest). */
static const char *history_entry(const struct line_edit *e, unsigned k)
{
	return e->history[(e->history_next + LINE_EDIT_HISTORY - k) % LINE_EDIT_HISTORY];
}

static void history_add(struct line_edit *e, const char *line)
{
	if (!line[0] || (e->history_count && !strcmp(history_entry(e, 1), line)))
		return;
	memcpy(e->history[e->history_next], line, LINE_EDIT_MAX + 1);
	e->history_next = (e->history_next + 1) % LINE_EDIT_HISTORY;
	if (e->history_count < LINE_EDIT_HISTORY)
		e->history_count++;
}

static enum line_edit_result browse(struct line_edit *e, bool older)
{
	if (older ? e->browse == e->history_count : e->browse == 0)
		return LINE_EDIT_NONE;
	if (e->browse == 0)
		memcpy(e->typed, e->buf, LINE_EDIT_MAX + 1);
	e->browse += older ? 1 : -1;
	set_line(e, e->browse ? history_entry(e, e->browse) : e->typed);
	return LINE_EDIT_REDRAW;
}

/* ---- completion ---- */

static enum line_edit_result complete(struct line_edit *e)
{
	char before[LINE_EDIT_MAX + 1];
	const char *words[LINE_EDIT_WORDS], *cands[LINE_EDIT_MATCHES];
	unsigned start = e->cursor, nwords = 0;

	if (!e->candidates)
		return LINE_EDIT_NONE;
	while (start && e->buf[start - 1] != ' ')
		start--;
	/* The words before the one completed, NUL-terminated in a copy. */
	memcpy(before, e->buf, start);
	before[start] = 0;
	for (unsigned i = 0; i < start;) {
		while (i < start && before[i] == ' ')
			before[i++] = 0;
		if (i == start)
			break;
		if (nwords == LINE_EDIT_WORDS)
			return LINE_EDIT_NONE;
		words[nwords++] = before + i;
		while (i < start && before[i] != ' ')
			i++;
	}
	const char *prefix = e->buf + start;
	unsigned plen = e->cursor - start;
	unsigned n = e->candidates(e->ctx, nwords, words, cands, LINE_EDIT_MATCHES);

	e->nmatches = 0;
	for (unsigned i = 0; i < n && i < LINE_EDIT_MATCHES; i++)
		if (!strncmp(cands[i], prefix, plen))
			e->matches[e->nmatches++] = cands[i];
	if (e->nmatches == 0)
		return LINE_EDIT_BELL;
	/* What all matches share beyond the prefix goes in; a unique match
	 * also gets the space after it. */
	unsigned common = (unsigned)strlen(e->matches[0]);
	for (unsigned i = 1; i < e->nmatches; i++) {
		unsigned k = plen;
		while (k < common && e->matches[i][k] == e->matches[0][k])
			k++;
		common = k;
	}
	char add[LINE_EDIT_MAX + 2];
	unsigned nadd = common - plen < LINE_EDIT_MAX ? common - plen : LINE_EDIT_MAX;
	memcpy(add, e->matches[0] + plen, nadd);
	if (e->nmatches == 1 && e->buf[e->cursor] != ' ')
		add[nadd++] = ' ';
	if (!insert(e, add, nadd))
		return LINE_EDIT_FULL;
	if (e->nmatches > 1)
		return LINE_EDIT_LIST;
	e->nmatches = 0;
	return LINE_EDIT_REDRAW;
}

/* ---- keys ---- */

static enum line_edit_result act(struct line_edit *e, enum action a)
{
	unsigned i;

	switch (a) {
	case ACT_LEFT:
		return move_to(e, e->cursor ? e->cursor - 1 : 0);
	case ACT_RIGHT:
		return move_to(e, e->cursor < e->len ? e->cursor + 1 : e->len);
	case ACT_HOME:
		return move_to(e, 0);
	case ACT_END:
		return move_to(e, e->len);
	case ACT_UP:
	case ACT_DOWN:
		return browse(e, a == ACT_UP);
	case ACT_BACKSPACE:
		return e->cursor ? cut(e, e->cursor - 1, e->cursor) : LINE_EDIT_NONE;
	case ACT_DELETE:
		return e->cursor < e->len ? cut(e, e->cursor, e->cursor + 1) : LINE_EDIT_NONE;
	case ACT_KILL_START:
		return cut(e, 0, e->cursor);
	case ACT_KILL_END:
		return cut(e, e->cursor, e->len);
	case ACT_KILL_WORD:
		i = e->cursor;
		while (i && e->buf[i - 1] == ' ')
			i--;
		while (i && e->buf[i - 1] != ' ')
			i--;
		return cut(e, i, e->cursor);
	case ACT_REDRAW:
		return LINE_EDIT_REDRAW;
	case ACT_COMPLETE:
		return complete(e);
	case ACT_ENTER:
	case ACT_CANCEL: {
		/* A line that lost characters (and was not shortened since) is
		 * not what was meant: not run, not kept. */
		bool too_long = a == ACT_ENTER && e->full_reported;
		memcpy(e->entered, e->buf, LINE_EDIT_MAX + 1);
		if (a == ACT_ENTER && !too_long)
			history_add(e, e->entered);
		set_line(e, "");
		e->browse = 0;
		if (too_long)
			return LINE_EDIT_TOO_LONG;
		return a == ACT_ENTER ? LINE_EDIT_ENTER : LINE_EDIT_CANCEL;
	}
	default:
		return LINE_EDIT_NONE;
	}
}

/* The cursor key a sequence's final byte names (CSI and SS3 alike). */
static enum action sequence_final(char c)
{
	switch (c) {
	case 'A': return ACT_UP;
	case 'B': return ACT_DOWN;
	case 'C': return ACT_RIGHT;
	case 'D': return ACT_LEFT;
	case 'H': return ACT_HOME;
	case 'F': return ACT_END;
	default: return ACT_NONE;
	}
}

/* CSI n ~ (the VT220 editing keys). */
static enum action sequence_tilde(unsigned n)
{
	switch (n) {
	case 1: case 7: return ACT_HOME;
	case 4: case 8: return ACT_END;
	case 3: return ACT_DELETE;
	default: return ACT_NONE;
	}
}

static enum action control_key(char c)
{
	switch (c) {
	case CTRL('A'): return ACT_HOME;
	case CTRL('B'): return ACT_LEFT;
	case CTRL('C'): return ACT_CANCEL;
	case CTRL('D'): return ACT_DELETE;
	case CTRL('E'): return ACT_END;
	case CTRL('F'): return ACT_RIGHT;
	case CTRL('H'): case DEL: return ACT_BACKSPACE;
	case '\t': return ACT_COMPLETE;
	case CTRL('K'): return ACT_KILL_END;
	case CTRL('L'): return ACT_REDRAW;
	case CTRL('N'): return ACT_DOWN;
	case CTRL('P'): return ACT_UP;
	case CTRL('U'): return ACT_KILL_START;
	case CTRL('W'): return ACT_KILL_WORD;
	case '\r': case '\n': return ACT_ENTER;
	default: return ACT_NONE;
	}
}

/* Inside a sequence: true when c was part of it (consumed). A control
 * character ends the sequence and is not consumed. */
static bool sequence_byte(struct line_edit *e, unsigned char c, enum action *a)
{
	if (c < 0x20 && c != ESC) {
		e->escape = SEQ_NONE;
		return false;
	}
	switch (e->escape) {
	case SEQ_ESC:
		if (c == '[') {
			e->escape = SEQ_CSI;
			e->escape_param = 0;
		} else if (c == 'O') {
			e->escape = SEQ_SS3;
		} else if (c != ESC) {
			e->escape = SEQ_NONE;   /* ESC x (Alt-x): swallowed */
		}
		return true;
	case SEQ_CSI:
	case SEQ_CSI_MORE:
		if (c >= 0x40 && c <= 0x7E) {
			*a = c == '~' ? sequence_tilde(e->escape_param) : sequence_final((char)c);
			e->escape = SEQ_NONE;
		} else if (c == ESC) {
			e->escape = SEQ_ESC;
		} else if (c == ';' || c == ':') {
			e->escape = SEQ_CSI_MORE;       /* only the first parameter counts */
		} else if (c >= '0' && c <= '9' && e->escape == SEQ_CSI && e->escape_param < 1000) {
			e->escape_param = e->escape_param * 10 + (c - '0');
		}
		/* other parameter and intermediate bytes: part of it */
		return true;
	case SEQ_SS3:
		*a = c == ESC ? ACT_NONE : sequence_final((char)c);
		e->escape = c == ESC ? SEQ_ESC : SEQ_NONE;
		return true;
	}
	return false;
}

enum line_edit_result line_edit_key(struct line_edit *e, char ch)
{
	unsigned char c = (unsigned char)ch;
	enum action a = ACT_NONE;
	bool after_cr = e->after_cr;

	e->after_cr = c == '\r';
	if (e->escape != SEQ_NONE && sequence_byte(e, c, &a))
		return act(e, a);
	if (c == ESC) {
		e->escape = SEQ_ESC;
		return LINE_EDIT_NONE;
	}
	if (c == '\n' && after_cr)
		return LINE_EDIT_NONE;          /* CR LF: one Enter */
	if (c >= ' ' && c < DEL)
		return insert_char(e, (char)c);
	return act(e, control_key((char)c));
}

unsigned line_edit_view(const struct line_edit *e, const char *prompt, unsigned width,
			char *out, size_t size, unsigned *column)
{
	unsigned plen = (unsigned)strlen(prompt), n = 0;
	unsigned room = width > plen + 2 ? width - 1 - plen : 1;
	unsigned first = e->cursor > room ? e->cursor - room : 0;
	unsigned last = e->len - first < room ? e->len : first + room;

	if (!size)
		return 0;
	for (unsigned i = 0; prompt[i] && n + 1 < size; i++)
		out[n++] = prompt[i];
	for (unsigned i = first; i < last && n + 1 < size; i++)
		out[n++] = e->buf[i];
	out[n] = 0;
	*column = plen + e->cursor - first < n ? plen + e->cursor - first : n;
	return n;
}

int line_edit_words(char *line, char **words, unsigned max)
{
	char *in = line, *out = line;
	unsigned n = 0;

	for (;;) {
		while (*in == ' ' || *in == '\t')
			in++;
		if (!*in)
			return (int)n;
		if (n == max)
			return LINE_EDIT_WORDS_TOO_MANY;
		/* The word is rewritten in place, its quotes taken out: out
		 * never passes in, so what is still to be read is intact. */
		words[n++] = out;
		char quote = 0;
		for (; *in && (quote || (*in != ' ' && *in != '\t')); in++) {
			if (quote == '\'' && *in == '\'') {
				quote = 0;
			} else if (quote == '"' && *in == '"') {
				quote = 0;
			} else if (quote == '"' && *in == '\\' &&
				   (in[1] == '"' || in[1] == '\\' || in[1] == '$' || in[1] == '`')) {
				*out++ = *++in;
			} else if (quote) {
				*out++ = *in;
			} else if (*in == '\'' || *in == '"') {
				quote = *in;
			} else if (*in == '\\' && in[1]) {
				*out++ = *++in;
			} else {
				*out++ = *in;
			}
		}
		if (quote)
			return LINE_EDIT_WORDS_QUOTE;
		bool more = *in != 0;
		*out++ = 0;
		if (more)
			in++;
	}
}
