/*
 * The console as a terminal: /dev/console and /dev/tty. What is typed at
 * the serial console while a program runs there (the console's `run`,
 * proto/posix.h) comes in through tty_input and goes through the line
 * discipline (ldisc.h): echoed, edited into lines, or a signal for the
 * foreground process group. Reads wait for it as a pipe's do
 * (SYSCALL_BLOCK, woken by input); non-canonical reads honour VMIN and
 * VTIME. Output goes out through the kernel's debug channel (sys_io.c).
 *
 * The terminal belongs to one session at a time (tty.sid; 0: nobody's)
 * and has one foreground process group (tty.pgrp). A process's
 * controlling terminal is the console exactly when its session is
 * tty.sid: so TIOCGPGRP, TIOCSPGRP, TIOCGSID answer ENOTTY to the others,
 * as Linux for a terminal that is not the caller's. A program the
 * console runs is a session of its own with the terminal; the run list's
 * programs have none (as a program run from a script without one), and
 * one may take it with setsid and TIOCSCTTY. When the session leader
 * ends, the foreground group gets SIGHUP and the terminal is nobody's.
 * ^Z sends SIGTSTP to the foreground group (stopping it: signal_stop.c);
 * a background group's read gets SIGTTIN, its TCSETS* and TIOCSPGRP
 * SIGTTOU (background()). Not done: TOSTOP (a background write goes out).
 */
#include "ldisc.h"
#include "syscall.h"
#include "vfs.h"

#define DECISECOND 100000000UL  /* VTIME's unit, in clock ns */

static struct {
	struct ldisc l;
	struct linux_winsize ws;
	int sid, pgrp;
	/* The console's job: the program its `run` started (proto/posix.h). */
	int job_pid;
	bool job_ended;
	int job_status, job_signal;
} tty = { .ws = { .row = 24, .col = 80 } };

static bool ldisc_ready;

static struct ldisc *ld(void)
{
	if (!ldisc_ready) {
		ldisc_init(&tty.l);
		ldisc_ready = true;
	}
	return &tty.l;
}

static bool alive(const struct process *p)
{
	return p->state == PROCESS_RUNNING;
}

void tty_signal_group(int pgrp, int sig)
{
	for (unsigned i = 0; pgrp > 0 && i < PROCESS_MAX; i++)
		if (alive(&processes[i]) && processes[i].pgid == pgrp)
			signal_send(&processes[i], sig, LINUX_SI_KERNEL, 0, 0);
}

static void wake_everybody(void)
{
	threads_wake_all();
}

void tty_input(const uint8_t *bytes, unsigned n)
{
	static char echo[LDISC_ECHO_MAX];

	for (unsigned i = 0; i < n; i++) {
		unsigned echo_len = 0;
		int sig = ldisc_input(ld(), bytes[i], echo, &echo_len);
		if (echo_len)
			sys_debug_write((uint64_t)echo, echo_len);
		if (sig)
			tty_signal_group(tty.pgrp, sig);
	}
	wake_everybody();
}

unsigned tty_poll(void)
{
	unsigned ready = LINUX_POLLOUT | LINUX_POLLWRNORM;

	return ldisc_readable(ld()) ? ready | LINUX_POLLIN | LINUX_POLLRDNORM : ready;
}

/* The read waits (SYSCALL_BLOCK) or its time is up (0): VTIME from its
 * first try, when it has one. */
static long read_wait(struct process *p, unsigned vtime)
{
	uint64_t now = (uint64_t)sys_clock();

	if (!vtime)
		return SYSCALL_BLOCK;
	if (!p->current->sleep_at) {
		p->current->sleep_at = now + vtime * DECISECOND;
		p->current->sleep_rem = 0;
		signal_timer_arm();
		return SYSCALL_BLOCK;
	}
	return p->current->sleep_at <= now ? 0 : SYSCALL_BLOCK;
}

/* Whether p's controlling terminal is the console. */
static bool controls(const struct process *p)
{
	return tty.sid && p->sid == tty.sid;
}

/* A read (SIGTTIN) or a change of the terminal (SIGTTOU) by a process
 * of a background group of the terminal's session (Linux's
 * __tty_check_change): 0 to go on. Otherwise sig goes to its group and
 * the call waits: tried again when the group continues (and stopped
 * again if still in the background), or ended by a handler (EINTR, or
 * made again with SA_RESTART). With sig blocked or ignored, a read is
 * EIO and a change goes on. */
static long background(struct process *p, int sig)
{
	if (!controls(p) || p->pgid == tty.pgrp)
		return 0;
	if ((p->current->sigmask & (1UL << (sig - 1))) || p->actions[sig - 1].handler == LINUX_SIG_IGN)
		return sig == LINUX_SIGTTIN ? -LINUX_EIO : 0;
	tty_signal_group(p->pgid, sig);
	return SYSCALL_BLOCK;
}

long tty_read(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	static char chunk[LDISC_BUF];
	struct ldisc *l = ld();
	unsigned avail = ldisc_readable(l), vmin = l->t.cc[LDISC_VMIN];
	unsigned vtime = l->t.cc[LDISC_VTIME];
	bool nonblock = f->flags & LINUX_O_NONBLOCK;
	long err;

	if ((err = background(p, LINUX_SIGTTIN)))
		return err;
	if (!len)
		return 0;
	if (len > sizeof(chunk))
		len = sizeof(chunk);
	if (l->t.lflag & LDISC_ICANON) {
		if (!avail)
			return nonblock ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	} else {
		/* VMIN bytes (or len); with VTIME, what came before it ran out
		 * (timed from the read's first try, or from the first byte's
		 * arrival when VMIN is set); VMIN and VTIME 0: what there is. */
		unsigned want = vmin < len ? vmin : (unsigned)len;
		if (avail < want || (!want && !avail)) {
			if (!want && !vtime)
				return 0;
			if (nonblock) {
				if (!avail)
					return -LINUX_EAGAIN;
			} else if (!want || avail) {
				if (read_wait(p, vtime) == SYSCALL_BLOCK)
					return SYSCALL_BLOCK;
			} else {
				return SYSCALL_BLOCK;
			}
		}
	}
	p->current->sleep_at = 0;
	unsigned n = ldisc_read(l, chunk, (unsigned)len);
	if (n && as_copy_out(&p->as, buf, chunk, n) < 0)
		return -LINUX_EFAULT;
	return n;
}

unsigned tty_nread(void)
{
	return ld()->count;
}

/* A process group of the caller's session for TIOCSPGRP: 0, -ESRCH
 * (nobody's), -EPERM (another session's). */
static long group_check(const struct process *p, int pgrp)
{
	long err = -LINUX_ESRCH;

	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		const struct process *q = &processes[i];
		if ((alive(q) || q->state == PROCESS_ZOMBIE) && q->pgid == pgrp) {
			if (q->sid == p->sid)
				return 0;
			err = -LINUX_EPERM;
		}
	}
	return err;
}

/* The terminal goes to p's session (p its leader), p's group in front. */
static void take(const struct process *p)
{
	tty.sid = p->sid;
	tty.pgrp = p->pgid;
}

/* The session that has the terminal lets it go; its foreground group
 * hears of it (SIGHUP, as Linux). */
static void hang_up(void)
{
	int pgrp = tty.pgrp;

	tty.sid = tty.pgrp = 0;
	tty_signal_group(pgrp, LINUX_SIGHUP);
}

static long copy_out(struct process *p, uint64_t va, const void *v, size_t n)
{
	return as_copy_out(&p->as, va, v, n) < 0 ? -LINUX_EFAULT : 0;
}

long tty_ioctl(struct process *p, uint64_t req, uint64_t arg)
{
	struct linux_termios t;
	int pgrp;
	long err;

	switch (req) {
	case LINUX_TCGETS:
		return copy_out(p, arg, &ld()->t, sizeof(t));
	case LINUX_TCSETS: case LINUX_TCSETSW: case LINUX_TCSETSF:
		if ((err = background(p, LINUX_SIGTTOU)))
			return err;
		if (as_copy_in(&p->as, &t, arg, sizeof(t)) < 0)
			return -LINUX_EFAULT;
		if (req == LINUX_TCSETSF)
			ldisc_flush(ld());
		ldisc_set(ld(), &t);
		wake_everybody();       /* what is readable may have changed */
		return 0;
	case LINUX_TIOCGWINSZ:
		return copy_out(p, arg, &tty.ws, sizeof(tty.ws));
	case LINUX_TIOCSWINSZ:
		if (as_copy_in(&p->as, &tty.ws, arg, sizeof(tty.ws)) < 0)
			return -LINUX_EFAULT;
		tty_signal_group(tty.pgrp, LINUX_SIGWINCH);
		return 0;
	case LINUX_TIOCGPGRP: case LINUX_TIOCGSID:
		if (!controls(p))
			return -LINUX_ENOTTY;
		return copy_out(p, arg, req == LINUX_TIOCGPGRP ? &tty.pgrp : &tty.sid, sizeof(int));
	case LINUX_TIOCSPGRP:
		if (!controls(p))
			return -LINUX_ENOTTY;
		if ((err = background(p, LINUX_SIGTTOU)))
			return err;
		if (as_copy_in(&p->as, &pgrp, arg, sizeof(pgrp)) < 0)
			return -LINUX_EFAULT;
		if (pgrp < 0)
			return -LINUX_EINVAL;
		if ((err = group_check(p, pgrp)))
			return err;
		tty.pgrp = pgrp;
		return 0;
	case LINUX_TIOCSCTTY:
		/* A session leader without a terminal takes it if nobody has
		 * it, or (arg 1: everybody is root) from another session. */
		if (controls(p))
			return 0;
		if (p->sid != p->pid)
			return -LINUX_EPERM;
		if (tty.sid && arg != 1)
			return -LINUX_EPERM;
		take(p);
		return 0;
	case LINUX_TIOCNOTTY:
		if (!controls(p))
			return -LINUX_ENOTTY;
		if (p->sid == p->pid)
			hang_up();
		return 0;
	case LINUX_TCFLSH:
		if (arg > 2)
			return -LINUX_EINVAL;
		if (arg != 1)
			ldisc_flush(ld());
		return 0;
	case LINUX_TCSBRK: case LINUX_TCXONC:
		return 0;
	case LINUX_TIOCOUTQ:
		pgrp = 0;
		return copy_out(p, arg, &pgrp, sizeof(pgrp));
	default:
		return -LINUX_ENOTTY;
	}
}

void tty_attach(struct process *p)
{
	if (tty.sid && tty.sid != p->sid)
		hang_up();
	ldisc_init(ld());
	take(p);
	tty.job_pid = p->pid;
	tty.job_ended = false;
}

void tty_process_ended(const struct process *p)
{
	if (p->pid == tty.job_pid && !tty.job_ended) {
		tty.job_ended = true;
		tty.job_status = p->exit_status;
		tty.job_signal = p->exit_signal;
	}
	if (tty.sid && p->pid == tty.sid)
		hang_up();
}

int tty_job(bool *ended, int *status, int *signal)
{
	int pid = tty.job_pid;

	*ended = tty.job_ended;
	*status = tty.job_status;
	*signal = tty.job_signal;
	return pid;
}

void tty_job_told(void)
{
	if (tty.job_ended)
		tty.job_pid = 0;
}

int tty_foreground(int sid)
{
	return sid && sid == tty.sid ? tty.pgrp : 0;
}
