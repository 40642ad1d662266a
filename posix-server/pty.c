/*
 * Pseudo-terminals (pty(7), Linux's drivers/tty/pty.c and devpts): an
 * open of /dev/ptmx makes a pty, its master the new description's node
 * (a node in no directory) and its slave /dev/pts/N, locked until
 * TIOCSPTLCK 0 (unlockpt) — a locked slave's open is EIO. TIOCGPTN
 * (ptsname) gives N, TIOCGPTPEER opens the slave from the master.
 *
 * The slave is a terminal (tty.h, tty.c): what the master writes is its
 * input, through its line discipline (echo back to the master, lines,
 * signal keys for its foreground group); what a program writes to the
 * slave, after output processing (OPOST: ONLCR, OCRNL), is what the
 * master reads. Both ways are bounded: the master's buffer holds PTY_BUF
 * bytes and the line discipline LDISC_BUF; a writer finding no room
 * waits (or EAGAIN), so a side that does not read never makes the server
 * grow. The master's termios, window-size and group requests are the
 * slave's, as Linux's tty_pair_get_tty.
 *
 * Packet mode (TIOCPKT, Linux's pty_set_pktmode and n_tty_read): each
 * read of the master is a TIOCPKT_DATA byte and the slave's output, or,
 * first, one status byte of what happened since the last: the slave's
 * tcflush of input (TIOCPKT_FLUSHREAD, also TCSETSF) or output
 * (TIOCPKT_FLUSHWRITE), its IXON with ^Q/^S going (TIOCPKT_NOSTOP) or
 * coming (TIOCPKT_DOSTOP) — pty_set_termios; poll says POLLPRI then.
 *
 * The last close of the slave: the master reads what is left, then EIO
 * (POLLHUP), until the slave is opened again. The last close of the
 * master hangs the slave up (Linux's tty_vhangup): its session loses it
 * (the session leader gets SIGHUP and SIGCONT), /dev/pts/N goes, and
 * the slave's descriptors read 0 and write EIO. The pty is free once
 * both sides are closed.
 */
#include "lib/fmt.h"

#include "file.h"
#include "tty.h"
#include "vfs.h"

#define TIOCGPTN    0x80045430UL        /* <asm-generic/ioctls.h> */
#define TIOCSPTLCK  0x40045431UL
#define TIOCGPTLCK  0x80045439UL
#define TIOCGPTPEER 0x5441UL
#define TIOCPKT     0x5420UL
#define TIOCGPKT    0x80045438UL
#define TIOCPKT_DATA       0
#define TIOCPKT_FLUSHREAD  1
#define TIOCPKT_FLUSHWRITE 2
#define TIOCPKT_NOSTOP     16
#define TIOCPKT_DOSTOP     32
#define IXON               0x400        /* termios c_iflag */
#define VSTART             8
#define VSTOP              9

static struct pty {
	bool used;
	int account;            /* whose share it is (share.h): who opened /dev/ptmx */
	bool locked;            /* the slave may not be opened (until unlockpt) */
	bool slave_gone;        /* the slave was closed: EIO for the master once drained */
	bool master_gone;       /* the master was closed: the slave is hung up */
	bool packet;            /* TIOCPKT: the master reads packets */
	uint8_t pktstatus;      /* TIOCPKT_* not yet read by the master */
	int master_node, slave_node;
	struct tty t;           /* the slave's terminal */
	char out[PTY_BUF];      /* written to the slave, for the master to read */
	unsigned head, count;
} ptys[PTY_MAX];

struct tty *pty_tty(int index)
{
	return index >= 0 && index < PTY_MAX && ptys[index].used ? &ptys[index].t : NULL;
}

static struct pty *pty_of(const struct file *f)
{
	return &ptys[vfs_nodes[f->node].pty];
}

static void put(struct pty *y, char c)
{
	y->out[(y->head + y->count++) % PTY_BUF] = c;
}

unsigned pty_output(struct tty *t, const char *buf, unsigned n)
{
	struct pty *y = &ptys[t->index];
	uint32_t oflag = t->l.t.oflag;
	bool post = oflag & LDISC_OPOST;
	unsigned i;

	for (i = 0; i < n; i++) {
		char c = buf[i];
		bool crlf = post && c == '\n' && (oflag & LDISC_ONLCR);
		if (post && c == '\r' && (oflag & LDISC_OCRNL))
			c = '\n';
		if (PTY_BUF - y->count < (crlf ? 2u : 1u))
			break;
		if (crlf)
			put(y, '\r');
		put(y, c);
	}
	if (i)
		threads_wake_all();
	return i;
}

unsigned pty_output_room(const struct tty *t)
{
	const struct pty *y = &ptys[t->index];

	return PTY_BUF - y->count >= 2 ? PTY_BUF - y->count : 0;
}

/* Something the master hears of in packet mode (TIOCPKT_*). */
static void status(struct pty *y, uint8_t bits)
{
	if (!y->packet)
		return;
	y->pktstatus |= bits;
	threads_wake_all();
}

void pty_flushed(struct tty *t, unsigned how)
{
	status(&ptys[t->index], how == 0 ? TIOCPKT_FLUSHREAD : how == 1 ? TIOCPKT_FLUSHWRITE
					  : TIOCPKT_FLUSHREAD | TIOCPKT_FLUSHWRITE);
}

/* Whether termios tio lets ^S and ^Q stop and start output (Linux's
 * pty_set_termios: IXON with the usual characters). */
static bool flow(const struct linux_termios *tio)
{
	return (tio->iflag & IXON) && tio->cc[VSTOP] == 0x13 && tio->cc[VSTART] == 0x11;
}

void pty_termios_changed(struct tty *t, const struct linux_termios *old)
{
	bool now = flow(&t->l.t);

	if (now == flow(old))
		return;
	ptys[t->index].pktstatus &= (uint8_t)~(TIOCPKT_NOSTOP | TIOCPKT_DOSTOP);
	status(&ptys[t->index], now ? TIOCPKT_DOSTOP : TIOCPKT_NOSTOP);
}

long pty_master_read(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	struct pty *y = pty_of(f);
	uint64_t done = 0;
	uint8_t kind = TIOCPKT_DATA;

	if (!len)
		return 0;
	if (y->packet && y->pktstatus) {        /* a status byte alone, first */
		if (as_copy_out(&p->as, buf, &y->pktstatus, 1) < 0)
			return -LINUX_EFAULT;
		y->pktstatus = 0;
		return 1;
	}
	if (!y->count) {
		if (y->slave_gone)
			return -LINUX_EIO;
		return f->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	}
	if (y->packet) {                        /* TIOCPKT_DATA, then the bytes */
		if (as_copy_out(&p->as, buf, &kind, 1) < 0)
			return -LINUX_EFAULT;
		done = 1;
	}
	while (done < len && y->count) {
		/* The ring's bytes up to its end, then from its start. */
		unsigned n = PTY_BUF - y->head < y->count ? PTY_BUF - y->head : y->count;
		if (n > len - done)
			n = (unsigned)(len - done);
		if (as_copy_out(&p->as, buf + done, y->out + y->head, n) < 0)
			return done ? (long)done : -LINUX_EFAULT;
		y->head = (y->head + n) % PTY_BUF;
		y->count -= n;
		done += n;
	}
	threads_wake_all();     /* room for the slave's writers */
	return (long)done;
}

long pty_master_write(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	static uint8_t chunk[LDISC_BUF];
	struct pty *y = pty_of(f);
	unsigned room = ldisc_room(&y->t.l);

	if (!len)
		return 0;
	if (!room)
		return f->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	unsigned n = len < room ? (unsigned)len : room;
	if (as_copy_in(&p->as, chunk, buf, n) < 0)
		return -LINUX_EFAULT;
	tty_input(&y->t, chunk, n);
	return n;
}

unsigned pty_master_poll(const struct file *f)
{
	const struct pty *y = pty_of(f);
	unsigned ready = 0;

	if (y->count)
		ready |= LINUX_POLLIN | LINUX_POLLRDNORM;
	if (y->packet && y->pktstatus)
		ready |= LINUX_POLLIN | LINUX_POLLRDNORM | LINUX_POLLPRI;
	if (y->slave_gone)
		ready |= LINUX_POLLHUP;
	if (ldisc_room(&y->t.l))
		ready |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	return ready;
}

/* TIOCGPTPEER: a new descriptor of the slave, opened with flags
 * (O_ACCMODE, O_NONBLOCK, O_CLOEXEC; never made a controlling
 * terminal). The descriptor, or -EIO (locked), -EMFILE, -ENFILE. */
static long open_peer(struct process *p, struct pty *y, uint64_t flags)
{
	long err, file, fd;

	if ((err = pty_slave_open((int)(y - ptys))))
		return err;
	file = file_open(y->slave_node, (uint32_t)flags & (LINUX_O_ACCMODE | LINUX_O_NONBLOCK));
	if (file < 0)
		return file;
	pty_slave_opened((int)(y - ptys));
	fd = fd_install(p, (int)file, 0, flags & LINUX_O_CLOEXEC);
	if (fd < 0)
		file_put((int)file);
	return fd;
}

long pty_master_ioctl(struct process *p, struct file *f, uint64_t req, uint64_t arg)
{
	struct pty *y = pty_of(f);
	int value;

	switch (req) {
	case TIOCGPTN:
		value = (int)(y - ptys);
		return as_copy_out(&p->as, arg, &value, sizeof(value)) < 0 ? -LINUX_EFAULT : 0;
	case TIOCSPTLCK:
		if (as_copy_in(&p->as, &value, arg, sizeof(value)) < 0)
			return -LINUX_EFAULT;
		y->locked = value != 0;
		return 0;
	case TIOCGPTLCK:
		value = y->locked;
		return as_copy_out(&p->as, arg, &value, sizeof(value)) < 0 ? -LINUX_EFAULT : 0;
	case TIOCGPTPEER:
		return open_peer(p, y, arg);
	case TIOCPKT:
		if (as_copy_in(&p->as, &value, arg, sizeof(value)) < 0)
			return -LINUX_EFAULT;
		if (value && !y->packet)
			y->pktstatus = 0;
		y->packet = value != 0;
		return 0;
	case TIOCGPKT:
		value = y->packet;
		return as_copy_out(&p->as, arg, &value, sizeof(value)) < 0 ? -LINUX_EFAULT : 0;
	case LINUX_FIONREAD:
		value = (int)y->count;
		return as_copy_out(&p->as, arg, &value, sizeof(value)) < 0 ? -LINUX_EFAULT : 0;
	case LINUX_TCFLSH:
		if (arg > 2)
			return -LINUX_EINVAL;
		if (arg != 1)
			y->count = 0;   /* the master's input: what the slave wrote */
		threads_wake_all();
		return 0;
	case LINUX_TIOCNOTTY:
		return -LINUX_ENOTTY;   /* a master is nobody's terminal */
	default:
		return tty_ioctl(p, &y->t, req, arg, true);
	}
}

long pty_new(struct file *f)
{
	char name[12];
	int i = PTY_MAX;
	unsigned mine = 0;

	/* Out of ptys, Linux's /dev/ptmx is ENOSPC: for the account's
	 * share too. */
	for (int k = 0; k < PTY_MAX; k++)
		if (!ptys[k].used)
			i = i < PTY_MAX ? i : k;
		else if (ptys[k].account == share_account)
			mine++;
	if (i == PTY_MAX || share_check(mine, (unsigned)i, PTY_MAX) < 0)
		return -LINUX_ENOSPC;
	long master = vfs_detached(LINUX_S_IFCHR | 0666, FS_DEV);
	if (master < 0)
		return -LINUX_ENOSPC;
	fmt_snprintf(name, sizeof(name), "%d", i);
	long slave = vfs_device(vfs_pts, name, LINUX_S_IFCHR | 0620, DEV_PTY_SLAVE);
	if (slave < 0) {
		vfs_closed((int)master);
		return -LINUX_ENOSPC;
	}
	struct pty *y = &ptys[i];
	memset(y, 0, sizeof(*y));
	tty_init(&y->t, i);
	y->used = y->locked = true;
	y->account = share_account;
	y->master_node = (int)master;
	y->slave_node = (int)slave;
	vfs_nodes[master].device = DEV_PTY_MASTER;
	vfs_nodes[master].pty = vfs_nodes[slave].pty = i;
	/* The description is the master's now, not /dev/ptmx's. */
	vfs_nodes[f->node].opens--;
	f->node = (int)master;
	vfs_nodes[master].opens++;
	return 0;
}

int pty_slave_node(int index)
{
	return ptys[index].slave_node;
}

long pty_slave_open(int index)
{
	const struct pty *y = &ptys[index];

	return !y->used || y->locked || y->master_gone ? -LINUX_EIO : 0;
}

void pty_slave_opened(int index)
{
	ptys[index].slave_gone = false;
}

void pty_closed(const struct file *f)
{
	const struct vfs_node *n = &vfs_nodes[f->node];
	struct pty *y = pty_of(f);

	if (n->opens > 1)
		return;                 /* another description of that side is open */
	if (n->device == DEV_PTY_MASTER) {
		y->master_gone = y->t.hung = true;
		tty_hang_up(&y->t, false);
		vfs_device_gone(y->slave_node);
		if (!vfs_nodes[y->slave_node].opens)
			y->used = false;
	} else {
		y->slave_gone = true;
		if (y->master_gone)
			y->used = false;
	}
	threads_wake_all();
}
