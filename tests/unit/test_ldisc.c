/* The console terminal's line discipline (posix-server/ldisc.c). */
#include <string.h>

#include "ldisc.h"
#include "unit.h"

static char echo[4096];
static unsigned echo_len;

/* Type the bytes of keys; the last signal they raised (0: none). */
static int type(struct ldisc *l, const char *keys)
{
	int sig = 0;

	for (; *keys; keys++) {
		int s = ldisc_input(l, (uint8_t)*keys, echo, &echo_len);
		if (s)
			sig = s;
	}
	echo[echo_len] = 0;
	return sig;
}

static unsigned got(struct ldisc *l, char *out, unsigned len)
{
	unsigned n = ldisc_read(l, out, len);
	out[n] = 0;
	return n;
}

TEST(ldisc_canonical_line_with_echo_and_erase)
{
	struct ldisc l;
	char out[64];

	ldisc_init(&l);
	echo_len = 0;
	type(&l, "lx\x7f" "s -l");
	CHECK_EQ(ldisc_readable(&l), 0);
	type(&l, "\r");         /* Enter sends CR: ICRNL makes it NL */
	CHECK_EQ(ldisc_readable(&l), 1);
	CHECK_EQ(got(&l, out, sizeof(out)), 6);
	CHECK(!strcmp(out, "ls -l\n"));
	CHECK(!strcmp(echo, "lx\b \bs -l\n"));
	CHECK_EQ(ldisc_readable(&l), 0);
}

TEST(ldisc_kill_word_erase_and_backspace)
{
	struct ldisc l;
	char out[64];

	ldisc_init(&l);
	echo_len = 0;
	type(&l, "abc\x15" "one two\x17" "x\b" "y\n");
	CHECK(!strcmp(got(&l, out, sizeof(out)) ? out : "", "one y\n"));
	/* ^U erased three characters on the screen (ECHOKE). */
	CHECK(!strncmp(echo, "abc\b \b\b \b\b \b", 12));
}

TEST(ldisc_eof_ends_a_read_and_reads_zero_first)
{
	struct ldisc l;
	char out[64];

	ldisc_init(&l);
	type(&l, "abc\x04\x04");
	CHECK_EQ(got(&l, out, 2), 2);
	CHECK(!strcmp(out, "ab"));
	CHECK_EQ(got(&l, out, sizeof(out)), 1);       /* c, and its end of file */
	CHECK_EQ(ldisc_readable(&l), 1);
	CHECK_EQ(got(&l, out, sizeof(out)), 0);       /* the second: end of file */
	CHECK_EQ(ldisc_readable(&l), 0);
}

TEST(ldisc_signal_characters_flush_and_echo)
{
	struct ldisc l;
	char out[8];

	ldisc_init(&l);
	echo_len = 0;
	type(&l, "first\n");
	CHECK_EQ(type(&l, "half\x03"), 2);
	CHECK(!strcmp(echo, "first\nhalf^C"));
	CHECK_EQ(ldisc_readable(&l), 0);      /* flushed, the complete line too */
	CHECK_EQ(type(&l, "\x1c"), 3);
	CHECK_EQ(type(&l, "\x1a"), 20);
	l.t.lflag &= ~(uint32_t)LDISC_ISIG;
	CHECK_EQ(type(&l, "\x03\n"), 0);
	CHECK_EQ(got(&l, out, sizeof(out)), 2);
	CHECK_EQ(out[0], 3);
}

TEST(ldisc_raw_mode_bytes_as_they_come)
{
	struct ldisc l;
	struct linux_termios t;
	char out[64];

	ldisc_init(&l);
	type(&l, "par");                 /* half a line, then raw */
	t = l.t;
	t.lflag &= ~(uint32_t)(LDISC_ICANON | LDISC_ECHO);
	ldisc_set(&l, &t);
	echo_len = 0;
	type(&l, "t\x7f\x04\r");
	CHECK_EQ(echo_len, 0);
	CHECK_EQ(ldisc_readable(&l), 7);
	CHECK_EQ(got(&l, out, 4), 4);
	CHECK(!memcmp(out, "part", 4));
	CHECK_EQ(got(&l, out, sizeof(out)), 3);
	CHECK(!memcmp(out, "\x7f\x04\n", 3));
	/* Back to canonical: raw bytes with a newline make a line. */
	type(&l, "ab\ncd");
	ldisc_set(&l, &(struct linux_termios){ .iflag = t.iflag, .lflag = t.lflag | LDISC_ICANON,
					       .cc = { 3, 28, 127, 21, 4 } });
	CHECK_EQ(ldisc_readable(&l), 1);
	CHECK_EQ(got(&l, out, sizeof(out)), 3);
	type(&l, "e\n");
	CHECK(got(&l, out, sizeof(out)) == 4 && !strcmp(out, "cde\n"));
}

TEST(ldisc_disabled_characters_and_full_lines)
{
	struct ldisc l;
	char out[LDISC_LINE_MAX + 8];

	ldisc_init(&l);
	l.t.cc[LDISC_VINTR] = 0;        /* _POSIX_VDISABLE */
	CHECK_EQ(type(&l, "\x03"), 0);
	ldisc_flush(&l);
	for (unsigned i = 0; i < LDISC_LINE_MAX + 10; i++)
		type(&l, "x");
	type(&l, "\n");
	CHECK_EQ(got(&l, out, sizeof(out)), LDISC_LINE_MAX + 1);
	CHECK_EQ(out[LDISC_LINE_MAX], '\n');
}

TEST(ldisc_kill_of_a_full_line_of_control_characters_fits_the_echo)
{
	static char big[LDISC_ECHO_MAX + 16];
	struct ldisc l;
	unsigned n = 0;

	ldisc_init(&l);
	memset(big, 0x7E, sizeof(big));
	for (unsigned i = 0; i < LDISC_LINE_MAX; i++) {
		n = 0;
		ldisc_input(&l, 0x01, big, &n);  /* ^A, echoed as two columns */
	}
	n = 0;
	ldisc_input(&l, 0x15, big, &n);          /* ^U: three bytes per column */
	CHECK_EQ(n, 6 * LDISC_LINE_MAX);
	CHECK(n <= LDISC_ECHO_MAX);
	CHECK_EQ(big[LDISC_ECHO_MAX], 0x7E);
}

/* As Linux's n_tty (read_flags marks where each line ended): a queued
 * line ends where it ended when it was completed, whatever VEOL and VEOF
 * say by the time it is read. */
TEST(ldisc_queued_lines_keep_their_ends_across_new_settings)
{
	struct ldisc l;
	struct linux_termios t;
	char out[64];

	ldisc_init(&l);
	t = l.t;
	t.cc[LDISC_VEOL] = '!';
	ldisc_set(&l, &t);
	type(&l, "ab!");                /* ended by VEOL */
	type(&l, "c?d\n");              /* '?' is an ordinary byte here */
	type(&l, "e\x04");              /* ended by VEOF */
	t.cc[LDISC_VEOL] = '?';         /* now '?' ends lines, '!' does not */
	t.cc[LDISC_VEOF] = 'e';
	ldisc_set(&l, &t);
	CHECK_EQ(ldisc_readable(&l), 1);
	CHECK_EQ(got(&l, out, sizeof(out)), 3);
	CHECK(!strcmp(out, "ab!"));
	CHECK_EQ(got(&l, out, sizeof(out)), 4);
	CHECK(!strcmp(out, "c?d\n"));
	CHECK_EQ(got(&l, out, sizeof(out)), 1);
	CHECK(!strcmp(out, "e"));
	CHECK_EQ(ldisc_readable(&l), 0);
	t.cc[LDISC_VEOL] = 0;
	ldisc_set(&l, &t);
	type(&l, "x?y!z\n");            /* completed with VEOL disabled: one line */
	t.cc[LDISC_VEOL] = '?';
	ldisc_set(&l, &t);
	CHECK_EQ(got(&l, out, sizeof(out)), 6);
	CHECK(!strcmp(out, "x?y!z\n"));
	CHECK_EQ(ldisc_readable(&l), 0);
}

/* ldisc_room (a pty's master waits when it is 0): what the ready ring
 * has left, less a whole canonical line's room; raw input fills it to 0
 * and a read gives room back. */
TEST(ldisc_room_counts_what_input_may_still_bring)
{
	struct ldisc l;
	struct linux_termios t;
	char out[LDISC_BUF];

	ldisc_init(&l);
	echo_len = 0;
	CHECK_EQ(ldisc_room(&l), LDISC_BUF - LDISC_LINE_MAX - 1);
	type(&l, "abc\n");
	CHECK_EQ(ldisc_room(&l), LDISC_BUF - LDISC_LINE_MAX - 1 - 4);
	t = l.t;
	t.lflag &= ~(uint32_t)(LDISC_ICANON | LDISC_ECHO);
	ldisc_set(&l, &t);
	CHECK_EQ(ldisc_room(&l), LDISC_BUF - 4);
	for (unsigned i = 0; i < LDISC_BUF - 4; i++)
		ldisc_input(&l, 'x', echo, &echo_len);
	CHECK_EQ(ldisc_room(&l), 0);
	ldisc_input(&l, 'y', echo, &echo_len);         /* no room: dropped */
	CHECK_EQ(ldisc_read(&l, out, 10), 10);
	CHECK_EQ(ldisc_room(&l), 10);
	CHECK_EQ(ldisc_read(&l, out, sizeof(out)), LDISC_BUF - 10);
	CHECK_EQ(ldisc_room(&l), LDISC_BUF);
}
