/*
 * What every terminal does alike (tty.h): the console (tty_console.c)
 * and the ptys' slaves (pty.c). Reads wait for the line discipline
 * (SYSCALL_BLOCK, woken by input); non-canonical reads honour VMIN and
 * VTIME. Writes go out through tty_output. The termios, window-size and
 * job-control ioctls are Linux's (tty_ioctl(4), tty_jobcontrol.c): a
 * process of a background group of the terminal's session that reads it
 * gets SIGTTIN, that changes it (TCSETS*, TIOCSPGRP) or writes it with
 * TOSTOP set SIGTTOU (background()); in an orphaned process group these
 * are EIO instead. /dev/tty opens the caller's controlling terminal; a
 * session leader without one takes a pty's slave it opens without
 * O_NOCTTY (never the console: Linux's /dev/console is never taken so),
 * or any terminal with TIOCSCTTY. A hung-up terminal (a pty whose master
 * closed) reads 0 and answers the rest with EIO.
 */
#include "clock.h"
#include "file.h"
#include "signals.h"
#include "tty.h"
#include "vfs.h"

#define DECISECOND 100000000UL  /* VTIME's unit, in clock ns */

void tty_init(struct tty *t, int index)
{
	memset(t, 0, sizeof(*t));
	ldisc_init(&t->l);
	t->index = index;
}

void tty_signal_group(int pgrp, int sig)
{
	for (unsigned i = 0; pgrp > 0 && i < PROCESS_MAX; i++)
		if (processes[i].state == PROCESS_RUNNING && processes[i].pgid == pgrp)
			signal_send(&processes[i], sig, LINUX_SI_KERNEL, 0, 0);
}

unsigned tty_output(struct tty *t, const char *buf, unsigned n)
{
	if (t->index != TTY_CONSOLE)
		return pty_output(t, buf, n);
	sys_debug_write((uint64_t)buf, n);
	return n;
}

void tty_input(struct tty *t, const uint8_t *bytes, unsigned n)
{
	static char echo[LDISC_ECHO_MAX];

	for (unsigned i = 0; i < n; i++) {
		unsigned echo_len = 0;
		int sig = ldisc_input(&t->l, bytes[i], echo, &echo_len);
		if (echo_len)
			tty_output(t, echo, echo_len);
		if (sig)
			tty_signal_group(t->pgrp, sig);
	}
	threads_wake_all();
}

struct tty *tty_of_session(int sid)
{
	struct tty *t = tty_console();

	if (sid > 0 && t->sid == sid)
		return t;
	for (int i = 0; sid > 0 && i < PTY_MAX; i++)
		if ((t = pty_tty(i)) && t->sid == sid)
			return t;
	return NULL;
}

unsigned tty_device_number(const struct tty *t)
{
	unsigned major = t->index == TTY_CONSOLE ? 5 : 136;
	unsigned minor = t->index == TTY_CONSOLE ? 1 : (unsigned)t->index;

	return (minor & 0xFF) | major << 8 | (minor & ~0xFFu) << 12;
}

bool tty_controls(const struct process *p, const struct tty *t)
{
	return t->sid && p->sid == t->sid;
}

void tty_take(struct tty *t, const struct process *p)
{
	t->sid = p->sid;
	t->pgrp = p->pgid;
}

void tty_hang_up(struct tty *t, bool exiting)
{
	int pgrp = t->pgrp, sid = t->sid;

	t->sid = t->pgrp = 0;
	if (exiting) {
		tty_signal_group(pgrp, LINUX_SIGHUP);
		return;
	}
	for (unsigned i = 0; sid && i < PROCESS_MAX; i++) {
		struct process *q = &processes[i];
		if (q->state == PROCESS_RUNNING && q->pid == sid) {
			signal_send(q, LINUX_SIGHUP, LINUX_SI_KERNEL, 0, 0);
			signal_send(q, LINUX_SIGCONT, LINUX_SI_KERNEL, 0, 0);
		}
	}
}

/* A read (SIGTTIN), a change of the terminal or a write with TOSTOP
 * (SIGTTOU) by a process of a background group of the terminal's
 * session (Linux's __tty_check_change): 0 to go on. With sig blocked or
 * ignored, a read is EIO and the rest goes on; in an orphaned group it
 * is EIO. Otherwise sig goes to its group and the call waits: tried
 * again when the group continues (and stopped again if still in the
 * background), or ended by a handler (EINTR, or made again with
 * SA_RESTART). */
static long background(struct process *p, struct tty *t, int sig)
{
	if (!tty_controls(p, t) || !t->pgrp || p->pgid == t->pgrp)
		return 0;
	if ((p->current->sigmask & (1UL << (sig - 1))) || p->actions[sig - 1].handler == LINUX_SIG_IGN)
		return sig == LINUX_SIGTTIN ? -LINUX_EIO : 0;
	if (pgrp_orphaned(p->pgid, NULL))
		return -LINUX_EIO;
	tty_signal_group(p->pgid, sig);
	return SYSCALL_BLOCK;
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

static long tty_read(struct process *p, struct file *f, struct tty *t, uint64_t buf, uint64_t len)
{
	static char chunk[LDISC_BUF];
	struct ldisc *l = &t->l;
	unsigned avail = ldisc_readable(l), vmin = l->t.cc[LDISC_VMIN];
	unsigned vtime = l->t.cc[LDISC_VTIME];
	bool nonblock = f->flags & LINUX_O_NONBLOCK;
	long err;

	if (t->hung)
		return 0;
	if ((err = background(p, t, LINUX_SIGTTIN)))
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
	if (n && t->index != TTY_CONSOLE)
		threads_wake_all();     /* room for the master's writer */
	if (n && as_copy_out(&p->as, buf, chunk, n) < 0)
		return -LINUX_EFAULT;
	return n;
}

/* A write: what fits now (a pty's master's buffer may be full); nothing
 * fits: EAGAIN or SYSCALL_BLOCK (sys_io.c waits until all is written). */
static long tty_write(struct process *p, struct file *f, struct tty *t, uint64_t buf, uint64_t len)
{
	static char chunk[1024];
	uint64_t done = 0;
	long err;

	if (t->hung)
		return -LINUX_EIO;
	if ((t->l.t.lflag & LDISC_TOSTOP) && (err = background(p, t, LINUX_SIGTTOU)))
		return err;
	while (done < len) {
		unsigned n = len - done < sizeof(chunk) ? (unsigned)(len - done) : sizeof(chunk);
		if (as_copy_in(&p->as, chunk, buf + done, n) < 0)
			return done ? (long)done : -LINUX_EFAULT;
		unsigned took = tty_output(t, chunk, n);
		done += took;
		if (took < n)
			break;
	}
	if (!done && len)
		return f->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	return (long)done;
}

static unsigned tty_poll(const struct tty *t)
{
	unsigned in = LINUX_POLLIN | LINUX_POLLRDNORM, out = LINUX_POLLOUT | LINUX_POLLWRNORM;

	if (t->hung)
		return in | out | LINUX_POLLHUP | LINUX_POLLERR;
	if (t->index != TTY_CONSOLE && !pty_output_room(t))
		out = 0;
	return ldisc_readable(&t->l) ? in | out : out;
}

/* A process group of the caller's session for TIOCSPGRP: 0, -ESRCH
 * (nobody's), -EPERM (another session's). */
static long group_check(const struct process *p, int pgrp)
{
	long err = -LINUX_ESRCH;

	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		const struct process *q = &processes[i];
		if ((q->state == PROCESS_RUNNING || q->state == PROCESS_ZOMBIE) && q->pgid == pgrp) {
			if (q->sid == p->sid)
				return 0;
			err = -LINUX_EPERM;
		}
	}
	return err;
}

static long copy_out(struct process *p, uint64_t va, const void *v, size_t n)
{
	return as_copy_out(&p->as, va, v, n) < 0 ? -LINUX_EFAULT : 0;
}

/* The job-control requests (tty_jobcontrol.c): from the master, the
 * slave's groups are answered without the caller's terminal being it. */
static long job_ioctl(struct process *p, struct tty *t, uint64_t req, uint64_t arg, bool master)
{
	int pgrp;
	long err;

	switch (req) {
	case LINUX_TIOCGPGRP: case LINUX_TIOCGSID:
		if (!master && !tty_controls(p, t))
			return -LINUX_ENOTTY;
		if (req == LINUX_TIOCGSID && !t->sid)
			return -LINUX_ENOTTY;
		return copy_out(p, arg, req == LINUX_TIOCGPGRP ? &t->pgrp : &t->sid, sizeof(int));
	case LINUX_TIOCSPGRP:
		if ((err = background(p, t, LINUX_SIGTTOU)))
			return err == -LINUX_EIO ? -LINUX_ENOTTY : err;
		if (!tty_controls(p, t))
			return -LINUX_ENOTTY;
		if (as_copy_in(&p->as, &pgrp, arg, sizeof(pgrp)) < 0)
			return -LINUX_EFAULT;
		if (pgrp < 0)
			return -LINUX_EINVAL;
		if ((err = group_check(p, pgrp)))
			return err;
		t->pgrp = pgrp;
		return 0;
	case LINUX_TIOCSCTTY:
		/* A session leader without a terminal takes it if nobody has
		 * it, or (arg 1: everybody is root) from another session. */
		if (p->sid == p->pid && tty_controls(p, t))
			return 0;
		if (p->sid != p->pid || tty_of_session(p->sid))
			return -LINUX_EPERM;
		if (t->sid && arg != 1)
			return -LINUX_EPERM;
		tty_take(t, p);
		return 0;
	case LINUX_TIOCNOTTY:
		if (!tty_controls(p, t))
			return -LINUX_ENOTTY;
		if (p->sid == p->pid) {
			int fg = t->pgrp;
			tty_hang_up(t, true);
			tty_signal_group(fg, LINUX_SIGCONT);
		}
		return 0;
	default:
		return -LINUX_ENOTTY;
	}
}

long tty_ioctl(struct process *p, struct tty *t, uint64_t req, uint64_t arg, bool master)
{
	struct linux_termios tio;
	struct linux_winsize ws;
	int value;
	long err;

	if (t->hung)
		return req == LINUX_TIOCSPGRP ? -LINUX_ENOTTY : -LINUX_EIO;
	switch (req) {
	case LINUX_TCGETS:
		return copy_out(p, arg, &t->l.t, sizeof(tio));
	case LINUX_TCSETS: case LINUX_TCSETSW: case LINUX_TCSETSF:
		if ((err = background(p, t, LINUX_SIGTTOU)))
			return err;
		if (as_copy_in(&p->as, &tio, arg, sizeof(tio)) < 0)
			return -LINUX_EFAULT;
		struct linux_termios old = t->l.t;
		if (req == LINUX_TCSETSF)
			ldisc_flush(&t->l);
		ldisc_set(&t->l, &tio);
		if (t->index != TTY_CONSOLE) {
			if (req == LINUX_TCSETSF)
				pty_flushed(t, 0);
			pty_termios_changed(t, &old);
		}
		threads_wake_all();     /* what is readable may have changed */
		return 0;
	case LINUX_TIOCGWINSZ:
		return copy_out(p, arg, &t->ws, sizeof(t->ws));
	case LINUX_TIOCSWINSZ:
		if (as_copy_in(&p->as, &ws, arg, sizeof(ws)) < 0)
			return -LINUX_EFAULT;
		/* SIGWINCH when the size changed (Linux's tty_do_resize). */
		if (memcmp(&ws, &t->ws, sizeof(ws))) {
			t->ws = ws;
			tty_signal_group(t->pgrp, LINUX_SIGWINCH);
		}
		return 0;
	case LINUX_FIONREAD:
		value = (int)t->l.count;
		return copy_out(p, arg, &value, sizeof(value));
	case LINUX_TCFLSH:
		if (arg > 2)
			return -LINUX_EINVAL;
		if (arg != 1)
			ldisc_flush(&t->l);
		if (t->index != TTY_CONSOLE && !master)
			pty_flushed(t, (unsigned)arg);
		threads_wake_all();     /* room for the master's writer */
		return 0;
	case LINUX_TCSBRK: case LINUX_TCXONC:
		return 0;
	case LINUX_TIOCOUTQ:
		value = 0;
		return copy_out(p, arg, &value, sizeof(value));
	default:
		return job_ioctl(p, t, req, arg, master);
	}
}

bool tty_file(const struct file *f)
{
	const struct vfs_node *n = &vfs_nodes[f->node];

	return n->type == VFS_DEVICE && (n->device == DEV_CONSOLE || n->device == DEV_PTY_MASTER ||
					 n->device == DEV_PTY_SLAVE);
}

struct tty *tty_of_file(const struct file *f)
{
	const struct vfs_node *n = &vfs_nodes[f->node];

	if (n->type != VFS_DEVICE)
		return NULL;
	if (n->device == DEV_CONSOLE)
		return tty_console();
	return n->device == DEV_PTY_SLAVE ? pty_tty(n->pty) : NULL;
}

long tty_file_read(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	struct tty *t = tty_of_file(f);

	return t ? tty_read(p, f, t, buf, len) : pty_master_read(p, f, buf, len);
}

long tty_file_write(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	struct tty *t = tty_of_file(f);

	return t ? tty_write(p, f, t, buf, len) : pty_master_write(p, f, buf, len);
}

unsigned tty_file_poll(const struct file *f)
{
	struct tty *t = tty_of_file(f);

	return t ? tty_poll(t) : pty_master_poll(f);
}

long tty_file_ioctl(struct process *p, struct file *f, uint64_t req, uint64_t arg)
{
	struct tty *t = tty_of_file(f);

	return t ? tty_ioctl(p, t, req, arg, false) : pty_master_ioctl(p, f, req, arg);
}

long tty_open(struct process *p, int *node)
{
	const struct vfs_node *n = &vfs_nodes[*node];
	struct tty *t;

	if (n->type != VFS_DEVICE)
		return 0;
	if (n->device == DEV_TTY) {
		if (!(t = tty_of_session(p->sid)))
			return -LINUX_ENXIO;
		*node = t->index == TTY_CONSOLE ? vfs_console : pty_slave_node(t->index);
		return 0;
	}
	return n->device == DEV_PTY_SLAVE ? pty_slave_open(n->pty) : 0;
}

long tty_opened(struct process *p, struct file *f, uint64_t flags)
{
	const struct vfs_node *n = &vfs_nodes[f->node];
	struct tty *t;

	if (n->type != VFS_DEVICE)
		return 0;
	if (n->device == DEV_PTMX)
		return pty_new(f);
	if (n->device != DEV_PTY_SLAVE || !(t = pty_tty(n->pty)))
		return 0;
	pty_slave_opened(n->pty);
	/* Linux's tty_open_proc_set_tty. */
	if (!(flags & LINUX_O_NOCTTY) && p->sid == p->pid && !tty_of_session(p->sid) && !t->sid)
		tty_take(t, p);
	return 0;
}

void tty_closed(const struct file *f)
{
	const struct vfs_node *n = &vfs_nodes[f->node];

	if (n->type == VFS_DEVICE && (n->device == DEV_PTY_MASTER || n->device == DEV_PTY_SLAVE))
		pty_closed(f);
}

void tty_process_ended(const struct process *p)
{
	struct tty *t = tty_of_session(p->sid);

	tty_console_ended(p);
	if (t && p->pid == p->sid)
		tty_hang_up(t, true);
}
