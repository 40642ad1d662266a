#include <string.h>

#include "line_edit.h"
#include "unit.h"

/* Feed keys; the result of the last one. */
static enum line_edit_result feed(struct line_edit *e, const char *keys)
{
	enum line_edit_result r = LINE_EDIT_NONE;

	while (*keys)
		r = line_edit_key(e, *keys++);
	return r;
}

#define CHECK_LINE(e, text, cur)                          \
	do {                                              \
		CHECK(!strcmp((e)->buf, (text)));         \
		CHECK_EQ((e)->len, strlen(text));         \
		CHECK_EQ((e)->cursor, (cur));             \
	} while (0)

/* The keys a VT100/xterm sends. */
#define UP     "\033[A"
#define DOWN   "\033[B"
#define RIGHT  "\033[C"
#define LEFT   "\033[D"
#define HOME   "\033[H"
#define END    "\033[F"
#define DELETE "\033[3~"

TEST(line_edit_inserts_and_enters)
{
	struct line_edit e;

	line_edit_init(&e, NULL, NULL);
	CHECK_EQ(line_edit_key(&e, 'p'), LINE_EDIT_REDRAW);
	CHECK_EQ(feed(&e, "s"), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "ps", 2);
	CHECK_EQ(feed(&e, "\r"), LINE_EDIT_ENTER);
	CHECK(!strcmp(e.entered, "ps"));
	CHECK_LINE(&e, "", 0);
	/* LF alone is Enter; CR LF is one Enter, not two. */
	CHECK_EQ(feed(&e, "mem\n"), LINE_EDIT_ENTER);
	CHECK(!strcmp(e.entered, "mem"));
	CHECK_EQ(feed(&e, "x\r"), LINE_EDIT_ENTER);
	CHECK_EQ(feed(&e, "\n"), LINE_EDIT_NONE);
	CHECK_EQ(feed(&e, "\n"), LINE_EDIT_ENTER);
	CHECK(!strcmp(e.entered, ""));
	/* Other control characters and bytes past ASCII change nothing. */
	CHECK_EQ(feed(&e, "\x07\x01"), LINE_EDIT_NONE);
	CHECK_EQ(line_edit_key(&e, (char)0xE9), LINE_EDIT_NONE);
	CHECK_LINE(&e, "", 0);
}

TEST(line_edit_moves_and_deletes)
{
	struct line_edit e;

	line_edit_init(&e, NULL, NULL);
	feed(&e, "kil eth0");
	CHECK_EQ(feed(&e, LEFT LEFT LEFT LEFT LEFT), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "kil eth0", 3);
	feed(&e, "l");
	CHECK_LINE(&e, "kill eth0", 4);
	CHECK_EQ(feed(&e, HOME), LINE_EDIT_REDRAW);
	CHECK_EQ(e.cursor, 0);
	CHECK_EQ(feed(&e, LEFT), LINE_EDIT_NONE);          /* already at the start */
	CHECK_EQ(feed(&e, "\x7f"), LINE_EDIT_NONE);        /* nothing before the cursor */
	CHECK_EQ(feed(&e, DELETE), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "ill eth0", 0);
	feed(&e, END);
	CHECK_EQ(e.cursor, 8);
	CHECK_EQ(feed(&e, RIGHT), LINE_EDIT_NONE);
	CHECK_EQ(feed(&e, DELETE), LINE_EDIT_NONE);        /* nothing under the cursor */
	feed(&e, "\x7f\b");                                /* DEL and ^H: backspace */
	CHECK_LINE(&e, "ill et", 6);
	feed(&e, "\x01" "k\x05" "h0");                     /* ^A, ^E */
	CHECK_LINE(&e, "kill eth0", 9);
	feed(&e, "\x02\x02\x04");                          /* ^B ^B ^D */
	CHECK_LINE(&e, "kill et0", 7);
	feed(&e, "\x06");                                  /* ^F */
	CHECK_EQ(e.cursor, 8);
}

TEST(line_edit_home_end_in_every_form)
{
	static const char *const home[] = { "\033[H", "\033OH", "\033[1~", "\033[7~", "\x01" };
	static const char *const end[] = { "\033[F", "\033OF", "\033[4~", "\033[8~", "\x05" };
	struct line_edit e;

	line_edit_init(&e, NULL, NULL);
	feed(&e, "abc");
	for (unsigned i = 0; i < 5; i++) {
		CHECK_EQ(feed(&e, home[i]), LINE_EDIT_REDRAW);
		CHECK_EQ(e.cursor, 0);
		CHECK_EQ(feed(&e, end[i]), LINE_EDIT_REDRAW);
		CHECK_EQ(e.cursor, 3);
	}
	/* SS3 cursor keys (application mode) and modifiers on CSI ones. */
	feed(&e, "\033OD\033OD");
	CHECK_EQ(e.cursor, 1);
	feed(&e, "\033[1;5C");
	CHECK_EQ(e.cursor, 2);
	CHECK_LINE(&e, "abc", 2);
}

TEST(line_edit_swallows_unknown_sequences_whole)
{
	struct line_edit e;

	line_edit_init(&e, NULL, NULL);
	feed(&e, "ps");
	/* F5, Page Up, Insert, a private mode, ESC x (Alt-x), SS3 P (F1),
	 * a long parameter list. */
	CHECK_EQ(feed(&e, "\033[15~"), LINE_EDIT_NONE);
	CHECK_EQ(feed(&e, "\033[5~\033[2~\033[?25h\033x\033OP"), LINE_EDIT_NONE);
	CHECK_LINE(&e, "ps", 2);
	CHECK_EQ(feed(&e, LEFT "\033[3;5~"), LINE_EDIT_REDRAW);  /* Ctrl-Delete: a Delete */
	CHECK_LINE(&e, "p", 1);
	feed(&e, "s");
	CHECK_EQ(feed(&e, "\033[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20Z"),
		 LINE_EDIT_NONE);
	CHECK_LINE(&e, "ps", 2);
	/* Up with an empty history: never "[A" in the line. */
	CHECK_EQ(feed(&e, UP), LINE_EDIT_NONE);
	CHECK_EQ(feed(&e, "\r"), LINE_EDIT_ENTER);
	CHECK(!strcmp(e.entered, "ps"));
	/* A control character ends a sequence and counts as itself. */
	feed(&e, "mem\033[\r");
	CHECK(!strcmp(e.entered, "mem"));
	/* ESC ESC [ A: the second ESC begins the sequence. */
	feed(&e, "\033\033[A");
	CHECK_LINE(&e, "mem", 3);
}

/* Feed a sequence one byte per read: nothing may show before its last
 * byte; the result of that one (or -1 if an earlier byte showed). */
static int feed_bytewise(struct line_edit *e, const char *seq)
{
	for (; seq[1]; seq++)
		if (line_edit_key(e, *seq) != LINE_EDIT_NONE)
			return -1;
	return line_edit_key(e, *seq);
}

TEST(line_edit_sequences_split_across_reads)
{
	struct line_edit e;

	line_edit_init(&e, NULL, NULL);
	feed(&e, "abc");
	CHECK_EQ(feed_bytewise(&e, LEFT), LINE_EDIT_REDRAW);
	CHECK_EQ(e.cursor, 2);
	CHECK_EQ(feed_bytewise(&e, DELETE), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "ab", 2);
	CHECK_EQ(feed_bytewise(&e, "OH"), LINE_EDIT_REDRAW);
	CHECK_EQ(e.cursor, 0);
	CHECK_EQ(feed_bytewise(&e, "[24~"), LINE_EDIT_NONE);     /* F12: swallowed */
	CHECK_LINE(&e, "ab", 0);
}

TEST(line_edit_history_up_down_bounded)
{
	struct line_edit e;
	char text[16];

	line_edit_init(&e, NULL, NULL);
	feed(&e, "ps\rmem\rmem\r\r");                  /* a repeat and an empty line are not kept */
	feed(&e, "if");
	CHECK_EQ(feed(&e, UP), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "mem", 3);
	CHECK_EQ(feed(&e, "\033OA"), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "ps", 2);
	CHECK_EQ(feed(&e, UP), LINE_EDIT_NONE);        /* the oldest */
	CHECK_EQ(feed(&e, DOWN), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "mem", 3);
	CHECK_EQ(feed(&e, "\x0e"), LINE_EDIT_REDRAW);  /* ^N: back to what was typed */
	CHECK_LINE(&e, "if", 2);
	CHECK_EQ(feed(&e, DOWN), LINE_EDIT_NONE);
	/* A recalled line is edited and entered as a new one; the entry stays. */
	feed(&e, "\x10\x10 x\r");                      /* ^P ^P */
	CHECK(!strcmp(e.entered, "ps x"));
	feed(&e, UP UP);
	CHECK_LINE(&e, "mem", 3);
	feed(&e, "\x03");
	/* Bounded: the oldest go. */
	for (int i = 0; i < LINE_EDIT_HISTORY + 5; i++) {
		snprintf(text, sizeof(text), "c%d\r", i);
		feed(&e, text);
	}
	int ups = 0;
	while (feed(&e, UP) == LINE_EDIT_REDRAW)
		ups++;
	CHECK_EQ(ups, LINE_EDIT_HISTORY);
	snprintf(text, sizeof(text), "c%d", 5);
	CHECK(!strcmp(e.buf, text));
}

TEST(line_edit_kill_keys_and_cancel)
{
	struct line_edit e;

	line_edit_init(&e, NULL, NULL);
	feed(&e, "fault eth0  hang");
	CHECK_EQ(feed(&e, "\x17"), LINE_EDIT_REDRAW);  /* ^W: the word before the cursor */
	CHECK_LINE(&e, "fault eth0  ", 12);
	feed(&e, "\x17");                               /* with the spaces before it */
	CHECK_LINE(&e, "fault ", 6);
	feed(&e, "eth0 wild" LEFT LEFT LEFT LEFT LEFT);
	CHECK_EQ(feed(&e, "\x0b"), LINE_EDIT_REDRAW);  /* ^K: to the end */
	CHECK_LINE(&e, "fault eth0", 10);
	feed(&e, LEFT LEFT LEFT LEFT);
	CHECK_EQ(feed(&e, "\x15"), LINE_EDIT_REDRAW);  /* ^U: to the start */
	CHECK_LINE(&e, "eth0", 0);
	CHECK_EQ(feed(&e, "\x15"), LINE_EDIT_NONE);
	CHECK_EQ(feed(&e, "\x0c"), LINE_EDIT_REDRAW);  /* ^L */
	/* ^C abandons the line: it is not run, not remembered, and the next
	 * line starts empty ("garbage", ^C, "mem" runs mem). */
	feed(&e, END "garbage");
	CHECK_EQ(feed(&e, "\x03"), LINE_EDIT_CANCEL);
	CHECK(!strcmp(e.entered, "eth0garbage"));
	CHECK_LINE(&e, "", 0);
	CHECK_EQ(feed(&e, "mem\r"), LINE_EDIT_ENTER);
	CHECK(!strcmp(e.entered, "mem"));
	feed(&e, UP UP);
	CHECK_LINE(&e, "mem", 3);
}

TEST(line_edit_line_length_is_bounded)
{
	struct line_edit e;

	line_edit_init(&e, NULL, NULL);
	for (int i = 0; i < LINE_EDIT_MAX; i++)
		CHECK_EQ(line_edit_key(&e, 'a' + i % 26), LINE_EDIT_REDRAW);
	CHECK_EQ(line_edit_key(&e, 'x'), LINE_EDIT_FULL);      /* said once ... */
	CHECK_EQ(line_edit_key(&e, 'y'), LINE_EDIT_NONE);
	CHECK_EQ(e.len, LINE_EDIT_MAX);
	feed(&e, "\x7f");
	feed(&e, "z");
	CHECK_EQ(line_edit_key(&e, 'x'), LINE_EDIT_FULL);      /* ... each time it fills */
	CHECK_EQ(e.buf[LINE_EDIT_MAX - 1], 'z');
	/* Enter on a line that lost characters: not to be run, not kept. */
	CHECK_EQ(feed(&e, "\r"), LINE_EDIT_TOO_LONG);
	CHECK_EQ(strlen(e.entered), LINE_EDIT_MAX);
	CHECK_LINE(&e, "", 0);
	CHECK_EQ(feed(&e, UP), LINE_EDIT_NONE);
	/* A line exactly full, or shortened after it overflowed, runs. */
	for (int i = 0; i < LINE_EDIT_MAX; i++)
		line_edit_key(&e, 'a');
	CHECK_EQ(feed(&e, "\r"), LINE_EDIT_ENTER);
	CHECK_EQ(strlen(e.entered), LINE_EDIT_MAX);
	for (int i = 0; i < LINE_EDIT_MAX + 3; i++)
		line_edit_key(&e, 'b');
	CHECK_EQ(feed(&e, "\x7f\r"), LINE_EDIT_ENTER);
	CHECK_EQ(strlen(e.entered), LINE_EDIT_MAX - 1);
}

/* Candidates as the console gives them: commands, then by command. */
static const char *const commands[] = { "ps", "kill", "start", "ifconfig", "mem", "fault",
					"help" };
static const char *const programs[] = { "e1000", "virtio-net", "netstack", "console" };
static const char *const ifnames[] = { "eth0", "eth1" };
static unsigned last_index;

static unsigned list(const char *const *from, unsigned n, const char **out, unsigned max)
{
	unsigned i = 0;

	for (; i < n && i < max; i++)
		out[i] = from[i];
	return i;
}

static unsigned candidates(void *ctx, unsigned index, const char *const *words,
			   const char **out, unsigned max)
{
	last_index = index;
	if (index == 0)
		return list(commands, 7, out, max);
	if (index == 1 && (!strcmp(words[0], "kill") || !strcmp(words[0], "start")))
		return list(programs, 4, out, max);
	if (index == 1 && !strcmp(words[0], "fault"))
		return list(ifnames, 2, out, max);
	return 0;
}

TEST(line_edit_completes_commands_and_arguments)
{
	struct line_edit e;

	line_edit_init(&e, candidates, NULL);
	CHECK_EQ(feed(&e, "k\t"), LINE_EDIT_REDRAW);   /* unique: completed, a space after */
	CHECK_LINE(&e, "kill ", 5);
	CHECK_EQ(last_index, 0);
	CHECK_EQ(feed(&e, "e\t"), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "kill e1000 ", 11);
	CHECK_EQ(last_index, 1);
	feed(&e, "\x15");
	/* Several: the common part goes in, and they are listed. */
	CHECK_EQ(feed(&e, "fault e\t"), LINE_EDIT_LIST);
	CHECK_LINE(&e, "fault eth", 9);
	CHECK_EQ(e.nmatches, 2);
	CHECK(!strcmp(e.matches[0], "eth0") && !strcmp(e.matches[1], "eth1"));
	CHECK_EQ(feed(&e, "1\t"), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "fault eth1 ", 11);
	CHECK_EQ(feed(&e, "\t"), LINE_EDIT_BELL);      /* no candidates for the kind here */
	CHECK_EQ(last_index, 2);
	feed(&e, "\x15");
	CHECK_EQ(feed(&e, "\t"), LINE_EDIT_LIST);      /* every command */
	CHECK_EQ(e.nmatches, 7);
	CHECK_LINE(&e, "", 0);
	CHECK_EQ(feed(&e, "x\t"), LINE_EDIT_BELL);     /* no match: the bell */
	CHECK_LINE(&e, "x", 1);
	/* In the middle of a line: the word before the cursor, and no second
	 * space before one already there. */
	feed(&e, "\x15" "st eth0" HOME RIGHT RIGHT);
	CHECK_EQ(feed(&e, "\t"), LINE_EDIT_REDRAW);
	CHECK_LINE(&e, "start eth0", 5);
	/* Leading spaces do not make a word. */
	feed(&e, "\x15\x0b" "  kill   n\t");
	CHECK_LINE(&e, "  kill   netstack ", 18);
}

TEST(line_edit_completion_that_does_not_fit)
{
	struct line_edit e;

	line_edit_init(&e, candidates, NULL);
	for (int i = 0; i < LINE_EDIT_MAX - 7; i++)
		feed(&e, " ");
	feed(&e, "kill ");
	CHECK_EQ(e.len, LINE_EDIT_MAX - 2);
	CHECK_EQ(feed(&e, "n\t"), LINE_EDIT_FULL);
	CHECK_EQ(e.len, LINE_EDIT_MAX - 1);
	CHECK_EQ(e.buf[e.len - 1], 'n');
}

TEST(line_edit_view_scrolls_to_the_cursor)
{
	struct line_edit e;
	char out[128];
	unsigned col;

	line_edit_init(&e, NULL, NULL);
	CHECK_EQ(line_edit_view(&e, "mica> ", 80, out, sizeof(out), &col), 6);
	CHECK(!strcmp(out, "mica> "));
	CHECK_EQ(col, 6);
	feed(&e, "kill e1000" LEFT LEFT);
	CHECK_EQ(line_edit_view(&e, "mica> ", 80, out, sizeof(out), &col), 16);
	CHECK(!strcmp(out, "mica> kill e1000"));
	CHECK_EQ(col, 14);
	/* Longer than the row: the end of it, the cursor in the last column. */
	feed(&e, END "\x15");
	for (int i = 0; i < 100; i++)
		line_edit_key(&e, '0' + i % 10);
	CHECK_EQ(line_edit_view(&e, "mica> ", 20, out, sizeof(out), &col), 19);
	CHECK(!strcmp(out, "mica> 7890123456789"));
	CHECK_EQ(col, 19);
	feed(&e, HOME);
	CHECK_EQ(line_edit_view(&e, "mica> ", 20, out, sizeof(out), &col), 19);
	CHECK(!strcmp(out, "mica> 0123456789012"));
	CHECK_EQ(col, 6);
	/* A small buffer truncates. */
	CHECK_EQ(line_edit_view(&e, "mica> ", 20, out, 4, &col), 3);
	CHECK(!strcmp(out, "mic"));
	CHECK(col <= 3);
}

/* Split a copy of line; the words joined by '|' into out, or the error. */
static int split(const char *line, char *out, size_t size)
{
	static char copy[LINE_EDIT_MAX + 1];
	char *w[4];

	strcpy(copy, line);
	int n = line_edit_words(copy, w, 4);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		if (i)
			strncat(out, "|", size - strlen(out) - 1);
		strncat(out, w[i], size - strlen(out) - 1);
	}
	return n;
}

TEST(line_edit_words_split_as_a_shell_quotes)
{
	char out[128];

	CHECK_EQ(split("  run\tbusybox  sh ", out, sizeof(out)), 3);
	CHECK(!strcmp(out, "run|busybox|sh"));
	CHECK_EQ(split("", out, sizeof(out)), 0);
	CHECK_EQ(split(" \t ", out, sizeof(out)), 0);
	/* Double quotes keep spaces; \" and \\ inside them, other \ as is. */
	CHECK_EQ(split("sh -c \"ls a b\"", out, sizeof(out)), 3);
	CHECK(!strcmp(out, "sh|-c|ls a b"));
	CHECK_EQ(split("echo \"a \\\"q\\\" \\\\ \\n\"", out, sizeof(out)), 2);
	CHECK(!strcmp(out, "echo|a \"q\" \\ \\n"));
	/* Single quotes keep everything, a backslash too. */
	CHECK_EQ(split("echo 'it \"is\" \\'", out, sizeof(out)), 2);
	CHECK(!strcmp(out, "echo|it \"is\" \\"));
	/* Quotes join what touches them into one word; '' is an empty word. */
	CHECK_EQ(split("a'b c'\"d\"e '' x", out, sizeof(out)), 3);
	CHECK(!strcmp(out, "ab cde||x"));
	CHECK_EQ(split("x ''", out, sizeof(out)), 2);
	CHECK(!strcmp(out, "x|"));
	/* A backslash outside quotes: the next character, a space too. */
	CHECK_EQ(split("a\\ b \\'c", out, sizeof(out)), 2);
	CHECK(!strcmp(out, "a b|'c"));
	/* Errors: an open quote, too many words. */
	CHECK_EQ(split("sh -c \"ls", out, sizeof(out)), LINE_EDIT_WORDS_QUOTE);
	CHECK_EQ(split("echo 'x", out, sizeof(out)), LINE_EDIT_WORDS_QUOTE);
	CHECK_EQ(split("a b c d", out, sizeof(out)), 4);
	CHECK_EQ(split("a b c d e", out, sizeof(out)), LINE_EDIT_WORDS_TOO_MANY);
	CHECK_EQ(split("a b c d   ", out, sizeof(out)), 4);
}
