/*
 * The console terminal's line discipline: what Linux's n_tty does with
 * the bytes typed on a terminal, for the POSIX server's /dev/console and
 * /dev/tty (tty.c). Pure logic (host unit tests, tests/unit/test_ldisc.c):
 * bytes come in one at a time (ldisc_input), what to echo goes out into a
 * buffer the caller writes to the screen, and a signal character is
 * returned for the caller to send to the foreground process group.
 *
 * The settings are Linux's struct termios (linux.h), as TCGETS and
 * TCSETS carry them. Honoured: ICRNL, INLCR, IGNCR, ISTRIP (input);
 * ICANON with VERASE (and ^H: serial terminals send either), VKILL,
 * VWERASE (with IEXTEN), VEOF, VEOL; ECHO, ECHOE, ECHOK, ECHOKE, ECHONL,
 * ECHOCTL (a control character echoed as ^X); ISIG with VINTR, VQUIT,
 * VSUSP, NOFLSH; a character set to 0 (_POSIX_VDISABLE) is nobody's.
 * VMIN and VTIME are the reader's (tty.c). Output is not processed here:
 * the kernel's serial line turns "\n" into "\r\n" (OPOST, ONLCR).
 */
#ifndef MICA_POSIX_LDISC_H
#define MICA_POSIX_LDISC_H

#include <stdbool.h>
#include <stdint.h>

#include "linux.h"

#define LDISC_LINE_MAX  255     /* a canonical line's characters (then only its end goes in) */
#define LDISC_BUF       1024    /* bytes ready to be read (then input is dropped) */
#define LDISC_ECHO_MAX  (6 * LDISC_LINE_MAX + 8)  /* one byte's echo at most (^U of a line of ^X) */
#define LDISC_EOF       0x100   /* in the ready ring: VEOF ended a line (not a byte) */
#define LDISC_LINE_END  0x200   /* in the ready ring, or'ed to a byte: it ended a line
				   (as n_tty's read_flags: what the settings said then) */

/* termios's numbers (Linux's, <asm-generic/termbits.h>). */
#define LDISC_VINTR   0
#define LDISC_VQUIT   1
#define LDISC_VERASE  2
#define LDISC_VKILL   3
#define LDISC_VEOF    4
#define LDISC_VTIME   5
#define LDISC_VMIN    6
#define LDISC_VSUSP   10
#define LDISC_VEOL    11
#define LDISC_VWERASE 14
#define LDISC_ISTRIP  0x20
#define LDISC_INLCR   0x40
#define LDISC_IGNCR   0x80
#define LDISC_ICRNL   0x100
#define LDISC_ISIG    0x1
#define LDISC_ICANON  0x2
#define LDISC_ECHO    0x8
#define LDISC_ECHOE   0x10
#define LDISC_ECHOK   0x20
#define LDISC_ECHONL  0x40
#define LDISC_NOFLSH  0x80
#define LDISC_ECHOCTL 0x200
#define LDISC_ECHOKE  0x800
#define LDISC_IEXTEN  0x8000
#define LDISC_TOSTOP  0x100     /* the writer's (tty.c): a background write gets SIGTTOU */
#define LDISC_OPOST   0x1       /* output (pty.c; the console's serial line has its own) */
#define LDISC_ONLCR   0x4
#define LDISC_OCRNL   0x8

struct ldisc {
	struct linux_termios t;
	char line[LDISC_LINE_MAX];      /* the canonical line being typed */
	unsigned line_len;
	uint16_t ring[LDISC_BUF];       /* ready to read: bytes (LDISC_LINE_END on a
					   line's last), LDISC_EOF marks */
	unsigned head, count;           /* the oldest entry, entries */
	unsigned lines;                 /* complete lines in the ring (canonical) */
};

/* Linux's settings of a fresh terminal (38400 baud, 8 bits, canonical
 * with echo, ^C ^\ ^Z signals): Linux's defaults, as a pty has them. */
void ldisc_init(struct ldisc *l);

/* One byte typed: what to echo is appended at echo[*echo_len]
 * (LDISC_ECHO_MAX room needed). The signal the byte stands for
 * (SIGINT, SIGQUIT, SIGTSTP) for the foreground group, or 0. */
int ldisc_input(struct ldisc *l, uint8_t c, char *echo, unsigned *echo_len);

/* Bytes a read may take now: canonical, whether a line (or an end of
 * file) is complete; otherwise how many bytes there are. */
unsigned ldisc_readable(const struct ldisc *l);

/* A read of up to len bytes into out: canonical, at most one line (its
 * "\n" included), an end of file consumed (0 when it comes first);
 * otherwise what there is. The count. */
unsigned ldisc_read(struct ldisc *l, char *out, unsigned len);

/* Bytes more that input may bring now without any being dropped for
 * want of room (a pty's master's write waits when it is 0): what the
 * ready ring has left, less a canonical line's room (the line typed and
 * its end). */
unsigned ldisc_room(const struct ldisc *l);

/* New settings (TCSETS*): leaving canonical mode makes the line typed
 * so far readable, as Linux. */
void ldisc_set(struct ldisc *l, const struct linux_termios *t);

/* Drop everything typed and not read (TCSETSF, TCFLSH, a signal). */
void ldisc_flush(struct ldisc *l);

#endif
