/*
 * The console's line editor: the bytes a terminal sends in, a line out
 * (and the line's words, line_edit_words, at the end).
 * Pure logic (no system calls): the host unit tests drive it
 * (tests/unit/test_line_edit.c), appliance/console.c feeds it what the
 * UART delivers and shows line_edit_view() under the log (serial_line).
 *
 * Keys (docs/console.md):
 *   printable           insert at the cursor
 *   Backspace (DEL, ^H) delete before the cursor; Delete, ^D: under it
 *   Left/Right, ^B/^F   move; Home/End, ^A/^E: to the start, the end
 *   Up/Down, ^P/^N      history: older, newer (the line being typed is
 *                       kept and comes back below the newest entry)
 *   ^U / ^K             delete to the start / to the end of the line
 *   ^W                  delete the word before the cursor
 *   ^C                  abandon the line
 *   ^L                  draw the line again
 *   Tab                 complete the word before the cursor (BELL: nothing does)
 *   Enter (CR or LF; CR LF counts once)
 * Cursor keys arrive as escape sequences, CSI (ESC [ ... final byte) or
 * SS3 (ESC O letter): A B C D H F, and CSI 1~ 7~ (Home), 4~ 8~ (End),
 * 3~ (Delete). Any other sequence is swallowed whole, however the
 * terminal splits it across reads; a control character inside one ends
 * it and counts as itself. Other control characters, and bytes 0x80 and
 * above, are ignored.
 */
#ifndef MICA_APPLIANCE_LINE_EDIT_H
#define MICA_APPLIANCE_LINE_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#define LINE_EDIT_MAX      127  /* characters in a line */
#define LINE_EDIT_HISTORY  16   /* entered lines Up and Down reach */
#define LINE_EDIT_MATCHES  32   /* completion candidates considered */
#define LINE_EDIT_WORDS    8    /* words before the completed one, at most */

/*
 * Completion candidates for word `index` of the line (0: the command),
 * given the words before it (words[0..index)): up to max strings into
 * out, which must stay valid until the next key. Returns how many; the
 * editor keeps those that begin with what was typed.
 */
typedef unsigned (*line_edit_candidates_fn)(void *ctx, unsigned index,
					     const char *const *words, const char **out,
					     unsigned max);

enum line_edit_result {
	LINE_EDIT_NONE,         /* nothing changed (a key with no effect, part of a sequence) */
	LINE_EDIT_REDRAW,       /* the line or its cursor changed */
	LINE_EDIT_ENTER,        /* a line was entered: `entered`; the editor is empty again */
	LINE_EDIT_CANCEL,       /* ^C: the line was abandoned (it is in `entered`) */
	LINE_EDIT_LIST,         /* Tab found several candidates: matches[0..nmatches) */
	LINE_EDIT_FULL,         /* a character did not fit (once, until the line shrinks) */
	LINE_EDIT_TOO_LONG,     /* Enter on a line that lost characters that did not fit:
				   not to be run (it is in `entered`); the editor is empty */
	LINE_EDIT_BELL,         /* Tab found nothing to complete: ring the bell */
};

struct line_edit {
	char buf[LINE_EDIT_MAX + 1];
	unsigned len, cursor;
	char entered[LINE_EDIT_MAX + 1];        /* after ENTER or CANCEL */
	const char *matches[LINE_EDIT_MATCHES]; /* after LIST */
	unsigned nmatches;

	/* internal */
	char history[LINE_EDIT_HISTORY][LINE_EDIT_MAX + 1];
	unsigned history_count, history_next;   /* entries; where the next goes */
	unsigned browse;                        /* 0: the typed line; k: k-th newest entry */
	char typed[LINE_EDIT_MAX + 1];          /* the typed line, while browsing */
	unsigned escape, escape_param;          /* sequence state, first parameter */
	bool after_cr, full_reported;
	line_edit_candidates_fn candidates;
	void *ctx;
};

/* An empty editor with an empty history; candidates may be NULL (Tab
 * does nothing). */
void line_edit_init(struct line_edit *e, line_edit_candidates_fn candidates, void *ctx);

/* One byte from the terminal. */
enum line_edit_result line_edit_key(struct line_edit *e, char c);

/*
 * The screen row to show: prompt, then as much of the line as fits in
 * width - 1 columns, scrolled sideways so that the cursor is on it. Into
 * out (NUL-terminated, truncated to size); returns its length and the
 * cursor's column in *column.
 */
unsigned line_edit_view(const struct line_edit *e, const char *prompt, unsigned width,
			char *out, size_t size, unsigned *column);

/*
 * An entered line cut into words, as a shell does for simple quoting
 * (POSIX XCU 2.2, Quoting; no expansions):
 * words are separated by spaces and tabs; '...' keeps everything in it
 * as it is; "..." too, except that \ before " \ $ or ` stands for that
 * character; outside quotes a backslash makes the next character part
 * of the word. Quotes are taken out (a word may be empty: ''). In place:
 * words[0..n) point into line. Returns n, or LINE_EDIT_WORDS_QUOTE when a
 * quote is not closed, LINE_EDIT_WORDS_TOO_MANY for more than max words.
 */
#define LINE_EDIT_WORDS_QUOTE    (-1)
#define LINE_EDIT_WORDS_TOO_MANY (-2)
int line_edit_words(char *line, char **words, unsigned max);

#endif
