/*
 * The console as a terminal: /dev/console (and /dev/tty for the session
 * it controls). What is typed at the serial console while a program runs
 * there (the console's `run`, proto/posix.h) comes in through
 * tty_console_input and goes through the line discipline (tty.c): echoed,
 * edited into lines, or a signal for the foreground process group.
 * Output goes out through the kernel's debug channel, whose serial line
 * turns "\n" into "\r\n" itself.
 *
 * A program the console runs is a session of its own with the terminal,
 * its group in front, and is the console's job (tty_job); the run list's
 * programs have none (as a program run from a script without one), and
 * one may take it with setsid and TIOCSCTTY. When the session leader
 * ends, the foreground group gets SIGHUP and the terminal is nobody's.
 */
#include "signals.h"
#include "tty.h"

static struct {
	struct tty t;
	bool ready;
	/* The console's job: the program its `run` started (proto/posix.h). */
	int job_pid;
	bool job_ended;
	int job_status, job_signal;
} console;

struct tty *tty_console(void)
{
	if (!console.ready) {
		tty_init(&console.t, TTY_CONSOLE);
		console.t.ws = (struct linux_winsize){ .row = 24, .col = 80 };
		console.ready = true;
	}
	return &console.t;
}

void tty_console_input(const uint8_t *bytes, unsigned n)
{
	tty_input(tty_console(), bytes, n);
}

void tty_attach(struct process *p)
{
	struct tty *t = tty_console();

	if (t->sid && t->sid != p->sid)
		tty_hang_up(t, true);
	ldisc_init(&t->l);
	tty_take(t, p);
	console.job_pid = p->pid;
	console.job_ended = false;
}

void tty_console_ended(const struct process *p)
{
	if (p->pid == console.job_pid && !console.job_ended) {
		console.job_ended = true;
		console.job_status = p->exit_status;
		console.job_signal = p->exit_signal;
	}
}

int tty_job(bool *ended, int *status, int *signal)
{
	*ended = console.job_ended;
	*status = console.job_status;
	*signal = console.job_signal;
	return console.job_pid;
}

void tty_job_told(void)
{
	if (console.job_ended)
		console.job_pid = 0;
}

int tty_foreground(int sid)
{
	const struct tty *t = tty_console();

	return sid && sid == t->sid ? t->pgrp : 0;
}
