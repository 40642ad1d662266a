/*
 * Waiting for descriptors: poll, ppoll, select, pselect6 and epoll
 * (epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait).
 * Each try looks at every descriptor; when none is ready the call waits
 * (SYSCALL_BLOCK) until a pipe changes (pipe.c wakes every waiting
 * process), its timeout passes (p->current->sleep_at, on the server's timer,
 * signal.c) or a signal comes (EINTR: these calls are never restarted).
 * ppoll, pselect6 and epoll_pwait wait with the mask they are given, as
 * rt_sigsuspend does. Files and devices are always ready; the console
 * when a read would not wait (tty.c, which wakes the waiting on input).
 *
 * epoll's watches are level-triggered, or edge-triggered (EPOLLET) as
 * Linux's: a watch is queued (Linux's ready list) by EPOLL_CTL_ADD and
 * _MOD and by each readiness edge of its file since it was last looked
 * at — the file's count of news for readers or for writers moved
 * (pipe_edges, eventfd_edges, socket_edges), as Linux's wake-up with a
 * key that meets the watch's events —; a wait reports a queued watch
 * whose file is ready and unqueues it. EPOLLONESHOT disables a watch
 * once reported until EPOLL_CTL_MOD; EPOLLEXCLUSIVE is taken (there is
 * no herd of waiters to thin here: every waiter is tried again) with
 * Linux's rules on it, EPOLLWAKEUP is taken and does nothing.
 */
#include "clock.h"
#include "file.h"
#include "signals.h"
#include "socket.h"
#include "syscall.h"
#include "timers.h"
#include "tty.h"
#include "vfs.h"

#define EPOLL_MAX       64      /* epoll instances in the server */
#define EPOLL_WATCHES   64      /* descriptions each watches */
#define TIMEOUT_NONE    UINT64_MAX      /* wait without a time limit */
#define DEFAULT_READY   (LINUX_POLLIN | LINUX_POLLOUT | LINUX_POLLRDNORM | LINUX_POLLWRNORM)
#define SELECT_IN       (LINUX_POLLIN | LINUX_POLLRDNORM | LINUX_POLLHUP | LINUX_POLLERR)
#define SELECT_OUT      (LINUX_POLLOUT | LINUX_POLLWRNORM | LINUX_POLLERR)
#define EDGE_IN         (LINUX_POLLIN | LINUX_POLLRDNORM | LINUX_POLLRDHUP)
#define EDGE_OUT        (LINUX_POLLOUT | LINUX_POLLWRNORM)
/* What EPOLLEXCLUSIVE may come with (Linux's EPOLLEXCLUSIVE_OK_BITS). */
#define EXCLUSIVE_OK    (LINUX_POLLIN | LINUX_POLLOUT | LINUX_POLLRDNORM | LINUX_POLLWRNORM | \
			 LINUX_POLLERR | LINUX_POLLHUP | LINUX_EPOLLWAKEUP | LINUX_EPOLLET |  \
			 LINUX_EPOLLEXCLUSIVE)

/* An epoll instance: the open file descriptions it watches (as Linux,
 * a watch goes when its description's last descriptor closes). */
struct epoll {
	int file;               /* its own description, files[file]; -1: free */
	int account;            /* charged to (share.c) */
	unsigned n;
	struct {
		int fd, file;
		uint32_t events;    /* 0: disabled (EPOLLONESHOT after an event) */
		uint64_t data;
		bool queued;        /* EPOLLET: an edge not reported yet */
		uint32_t seen[2];   /* its file's edges when last looked at */
	} w[EPOLL_WATCHES];
};

static struct epoll epolls[EPOLL_MAX] = { [0 ... EPOLL_MAX - 1] = { .file = -1 } };

static struct epoll *epoll_of(const struct file *f)
{
	for (unsigned i = 0; i < EPOLL_MAX; i++)
		if (epolls[i].file == f - files)
			return &epolls[i];
	return NULL;
}

/* What a poll of f sees now. An epoll instance is never ready (no
 * nesting yet). */
static unsigned file_ready(const struct file *f)
{
	if (vfs_nodes[f->node].type == VFS_PIPE)
		return pipe_poll(f);
	if (vfs_nodes[f->node].type == VFS_SOCKET)
		return socket_poll(f);
	if (vfs_nodes[f->node].type == VFS_EVENTFD)
		return eventfd_poll(f);
	if (vfs_nodes[f->node].type == VFS_TIMERFD)
		return timerfd_poll(f);
	if (tty_file(f))
		return tty_file_poll(f);
	return epoll_of(f) ? 0 : DEFAULT_READY;
}

/* f's readiness edges so far: [0] news for readers, [1] for writers.
 * A file with no count of its own (the console) has the server's wakes. */
static void file_edges(const struct file *f, uint32_t edges[2])
{
	switch (vfs_nodes[f->node].type) {
	case VFS_PIPE:
		pipe_edges(f, edges);
		return;
	case VFS_EVENTFD:
		eventfd_edges(f, edges);
		return;
	case VFS_TIMERFD:
		timerfd_edges(f, edges);
		return;
	case VFS_SOCKET:
		socket_edges(f, edges);
		return;
	default:
		edges[0] = edges[1] = threads_wakes;
	}
}

/* A poll-like call found nothing ready: wait until the timeout (ns, or
 * TIMEOUT_NONE) set at its first try. 0: its time is up. */
static long wait_more(struct process *p, uint64_t timeout)
{
	uint64_t now = (uint64_t)sys_clock();

	if (!p->current->sleep_at) {
		if (!timeout)
			return 0;
		p->current->sleep_at = timeout >= SLEEP_FOREVER - now ? SLEEP_FOREVER : now + timeout;
		p->current->sleep_rem = 0;
		signal_timer_arm();
		return SYSCALL_BLOCK;
	}
	if (p->current->sleep_at != SLEEP_FOREVER && p->current->sleep_at <= now) {
		p->current->sleep_at = 0;
		return 0;
	}
	return SYSCALL_BLOCK;
}

/* The end of a poll-like call's try: n ready (or an error), or wait. */
static long wait_result(struct process *p, long n, uint64_t timeout)
{
	if (n == 0)
		n = wait_more(p, timeout);
	if (n == SYSCALL_BLOCK)
		return n;
	p->current->sleep_at = 0;
	signal_wait_mask_end(p);
	return n;
}

/* sec seconds and ns nanoseconds (valid) in ns: past what 64 bits hold
 * (584 years), TIMEOUT_NONE, as Linux's poll_select_set_timeout, whose
 * timespec64_add_safe saturates (a call never returns at once for it). */
static uint64_t timeout_ns(uint64_t sec, uint64_t ns)
{
	return sec >= TIMEOUT_NONE / 1000000000UL - 1 ? TIMEOUT_NONE : sec * 1000000000UL + ns;
}

/* A timespec (NULL: none) as a timeout in ns. 0, -EFAULT, -EINVAL. */
static long timeout_in(struct process *p, uint64_t va, uint64_t *timeout)
{
	struct linux_timespec ts;

	*timeout = TIMEOUT_NONE;
	if (!va)
		return 0;
	if (as_copy_in(&p->as, &ts, va, sizeof(ts)) < 0)
		return -LINUX_EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000)
		return -LINUX_EINVAL;
	*timeout = timeout_ns((uint64_t)ts.sec, (uint64_t)ts.nsec);
	return 0;
}

static long poll_fds(struct process *p, uint64_t va, uint64_t nfds, uint64_t timeout)
{
	static struct linux_pollfd fds[FD_MAX];
	long n = 0;

	if (nfds > p->nofile)
		return wait_result(p, -LINUX_EINVAL, 0);
	if (as_copy_in(&p->as, fds, va, nfds * sizeof(fds[0])) < 0)
		return wait_result(p, -LINUX_EFAULT, 0);
	for (uint64_t i = 0; i < nfds; i++) {
		struct file *f = fds[i].fd < 0 ? NULL : fd_file(p, (uint64_t)fds[i].fd);
		unsigned want = (uint16_t)fds[i].events | LINUX_POLLERR | LINUX_POLLHUP;
		fds[i].revents = (int16_t)(fds[i].fd < 0 ? 0 : !f ? LINUX_POLLNVAL : file_ready(f) & want);
		n += fds[i].revents != 0;
	}
	long result = wait_result(p, n, timeout);
	if (result != SYSCALL_BLOCK && as_copy_out(&p->as, va, fds, nfds * sizeof(fds[0])) < 0)
		return -LINUX_EFAULT;
	return result;
}

long posix_poll(struct process *p, struct user_regs *r)
{
	int ms = (int)r->rdx;

	return poll_fds(p, r->rdi, r->rsi, ms < 0 ? TIMEOUT_NONE : (uint64_t)ms * 1000000UL);
}

long posix_ppoll(struct process *p, struct user_regs *r)
{
	uint64_t timeout;
	long err;

	if ((err = timeout_in(p, r->rdx, &timeout)) ||
	    (r->r10 && (err = signal_wait_mask(p, r->r10, r->r8))))
		return err;
	return poll_fds(p, r->rdi, r->rsi, timeout);
}

/* select's three sets of nfds bits: ready bits kept, the count returned. */
static long select_fds(struct process *p, uint64_t nfds, const uint64_t va[3], uint64_t timeout)
{
	static uint64_t in[3][FD_MAX / 64], out[3][FD_MAX / 64];
	static const unsigned want[3] = { SELECT_IN, SELECT_OUT, LINUX_POLLPRI };
	long n = 0;

	if ((int64_t)nfds < 0)
		return wait_result(p, -LINUX_EINVAL, 0);
	if (nfds > p->nofile)
		nfds = p->nofile;
	uint64_t bytes = (nfds + 63) / 64 * 8;
	memset(in, 0, sizeof(in));
	memset(out, 0, sizeof(out));
	for (unsigned s = 0; s < 3; s++)
		if (va[s] && as_copy_in(&p->as, in[s], va[s], bytes) < 0)
			return wait_result(p, -LINUX_EFAULT, 0);
	for (uint64_t fd = 0; fd < nfds; fd++) {
		uint64_t bit = 1UL << (fd % 64);
		if (!((in[0][fd / 64] | in[1][fd / 64] | in[2][fd / 64]) & bit))
			continue;
		struct file *f = fd_file(p, fd);
		if (!f)
			return wait_result(p, -LINUX_EBADF, 0);
		unsigned ready = file_ready(f);
		for (unsigned s = 0; s < 3; s++)
			if ((in[s][fd / 64] & bit) && (ready & want[s])) {
				out[s][fd / 64] |= bit;
				n++;
			}
	}
	long result = wait_result(p, n, timeout);
	if (result == SYSCALL_BLOCK)
		return result;
	for (unsigned s = 0; s < 3; s++)
		if (va[s] && as_copy_out(&p->as, va[s], out[s], bytes) < 0)
			return -LINUX_EFAULT;
	return result;
}

long posix_select(struct process *p, struct user_regs *r)
{
	const uint64_t sets[3] = { r->rsi, r->rdx, r->r10 };
	struct linux_timeval tv;
	uint64_t timeout = TIMEOUT_NONE;

	if (r->r8) {
		if (as_copy_in(&p->as, &tv, r->r8, sizeof(tv)) < 0)
			return -LINUX_EFAULT;
		if (tv.sec < 0 || tv.usec < 0 || tv.usec >= 1000000)
			return -LINUX_EINVAL;
		timeout = timeout_ns((uint64_t)tv.sec, (uint64_t)tv.usec * 1000);
	}
	return select_fds(p, r->rdi, sets, timeout);
}

long posix_pselect6(struct process *p, struct user_regs *r)
{
	const uint64_t sets[3] = { r->rsi, r->rdx, r->r10 };
	uint64_t timeout, mask[2];      /* the mask's address and size */
	long err;

	if ((err = timeout_in(p, r->r8, &timeout)))
		return err;
	if (r->r9) {
		if (as_copy_in(&p->as, mask, r->r9, sizeof(mask)) < 0)
			return -LINUX_EFAULT;
		if (mask[0] && (err = signal_wait_mask(p, mask[0], mask[1])))
			return err;
	}
	return select_fds(p, r->rdi, sets, timeout);
}

/* ---- epoll ---- */

void epoll_closed(int index)
{
	for (unsigned i = 0; i < EPOLL_MAX; i++) {
		struct epoll *e = &epolls[i];
		if (e->file == index) {
			e->file = -1;
			e->n = 0;
			continue;
		}
		for (unsigned w = 0; w < e->n;)
			if (e->w[w].file == index)
				e->w[w] = e->w[--e->n];
			else
				w++;
	}
}

static long epoll_make(struct process *p, uint64_t flags)
{
	unsigned i = EPOLL_MAX, mine = 0;
	long node, file, fd;

	if (flags & ~(uint64_t)LINUX_O_CLOEXEC)
		return -LINUX_EINVAL;
	for (unsigned k = 0; k < EPOLL_MAX; k++)
		if (epolls[k].file < 0)
			i = i < EPOLL_MAX ? i : k;
		else if (epolls[k].account == share_account)
			mine++;
	if ((fd = share_check(mine, i, EPOLL_MAX)) < 0)
		return fd;
	if ((node = vfs_detached(LINUX_S_IFREG | 0600, FS_PIPE)) < 0)
		return -LINUX_ENFILE;
	if ((file = file_open((int)node, LINUX_O_RDWR)) < 0) {
		vfs_closed((int)node);
		return file;
	}
	epolls[i].file = (int)file;
	epolls[i].account = share_account;
	epolls[i].n = 0;
	if ((fd = fd_install(p, (int)file, 0, flags & LINUX_O_CLOEXEC)) < 0)
		file_put((int)file);
	return fd;
}

long posix_epoll_create(struct process *p, struct user_regs *r)
{
	return (int)r->rdi <= 0 ? -LINUX_EINVAL : epoll_make(p, 0);
}

long posix_epoll_create1(struct process *p, struct user_regs *r)
{
	return epoll_make(p, r->rdi);
}

/* The epoll instance behind descriptor fd: NULL with *err -EBADF (not
 * open) or -EINVAL (not an epoll). */
static struct epoll *epoll_fd(struct process *p, uint64_t fd, long *err)
{
	struct file *f = fd_file(p, fd);
	struct epoll *e = f ? epoll_of(f) : NULL;

	*err = !f ? -LINUX_EBADF : -LINUX_EINVAL;
	return e;
}

long posix_epoll_ctl(struct process *p, struct user_regs *r)
{
	uint64_t op = r->rsi, fd = r->rdx;
	struct linux_epoll_event ev = { 0, 0 };
	struct file *f = fd_file(p, fd);
	long err;
	struct epoll *e = epoll_fd(p, r->rdi, &err);
	unsigned w;

	if (!e)
		return err;
	if (!f)
		return -LINUX_EBADF;
	if (op != LINUX_EPOLL_CTL_DEL && as_copy_in(&p->as, &ev, r->r10, sizeof(ev)) < 0)
		return -LINUX_EFAULT;
	/* As Linux: files, directories and null-like devices cannot be
	 * watched; an epoll in an epoll is not there yet. */
	const struct vfs_node *n = &vfs_nodes[f->node];
	if (epoll_of(f))
		return -LINUX_EINVAL;
	if (n->type != VFS_PIPE && n->type != VFS_SOCKET && n->type != VFS_EVENTFD &&
	    n->type != VFS_TIMERFD && !(n->type == VFS_DEVICE && (tty_file(f) ||
							      n->device == DEV_RANDOM)))
		return -LINUX_EPERM;
	for (w = 0; w < e->n && !(e->w[w].fd == (int)fd && e->w[w].file == f - files); w++)
		;
	/* As Linux: EPOLLEXCLUSIVE only when added, with few other bits;
	 * a watch added with it cannot be changed. */
	if ((ev.events & LINUX_EPOLLEXCLUSIVE) && op == LINUX_EPOLL_CTL_ADD &&
	    (ev.events & ~EXCLUSIVE_OK))
		return -LINUX_EINVAL;
	if ((ev.events & LINUX_EPOLLEXCLUSIVE) && op == LINUX_EPOLL_CTL_MOD)
		return -LINUX_EINVAL;
	switch (op) {
	case LINUX_EPOLL_CTL_ADD:
		if (w < e->n)
			return -LINUX_EEXIST;
		if (e->n == EPOLL_WATCHES)
			return -LINUX_ENOSPC;
		e->n++;
		e->w[w].fd = (int)fd;
		e->w[w].file = (int)(f - files);
		/* fall through */
	case LINUX_EPOLL_CTL_MOD:
		if (w == e->n)
			return -LINUX_ENOENT;
		if (op == LINUX_EPOLL_CTL_MOD && (e->w[w].events & LINUX_EPOLLEXCLUSIVE))
			return -LINUX_EINVAL;
		e->w[w].events = (ev.events & ~LINUX_EPOLLWAKEUP) | LINUX_POLLERR | LINUX_POLLHUP;
		e->w[w].data = ev.data;
		e->w[w].queued = true;  /* looked at by the next wait, as Linux's ep_insert */
		if (ev.events & LINUX_EPOLLET)
			socket_every_edge(f);
		file_edges(f, e->w[w].seen);
		return 0;
	case LINUX_EPOLL_CTL_DEL:
		if (w == e->n)
			return -LINUX_ENOENT;
		e->w[w] = e->w[--e->n];
		return 0;
	default:
		return -LINUX_EINVAL;
	}
}

/* Whether watch w of e is to be reported if ready: level-triggered,
 * always; EPOLLET, when queued — by its file's edges since it was last
 * looked at, or by EPOLL_CTL_ADD, _MOD — (unqueued now: a watch not
 * ready goes off the list, as Linux's). */
static bool epoll_looks(struct epoll *e, unsigned w)
{
	uint32_t now[2], events = e->w[w].events;

	file_edges(&files[e->w[w].file], now);
	if ((now[0] != e->w[w].seen[0] && (events & EDGE_IN)) ||
	    (now[1] != e->w[w].seen[1] && (events & EDGE_OUT)))
		e->w[w].queued = true;
	e->w[w].seen[0] = now[0];
	e->w[w].seen[1] = now[1];
	if (!(events & LINUX_EPOLLET))
		return true;
	bool queued = e->w[w].queued;
	e->w[w].queued = false;
	return queued;
}

/* Every watch that epoll_looks lets through and whose file is ready is
 * reported; EPOLLONESHOT then disables it. */
static long epoll_wait_common(struct process *p, struct user_regs *r, uint64_t timeout)
{
	static struct linux_epoll_event out[EPOLL_WATCHES];
	int max = (int)r->rdx;
	long n = 0, err;
	struct epoll *e = epoll_fd(p, r->rdi, &err);

	if (!e || max <= 0)
		return wait_result(p, e ? -LINUX_EINVAL : err, 0);
	for (unsigned w = 0; w < e->n && n < max; w++) {
		if (!(e->w[w].events & ~(LINUX_EPOLLONESHOT | LINUX_EPOLLET | LINUX_EPOLLEXCLUSIVE)) ||
		    !epoll_looks(e, w))
			continue;
		unsigned ready = file_ready(&files[e->w[w].file]) & e->w[w].events;
		if (!ready)
			continue;
		out[n] = (struct linux_epoll_event){ ready, e->w[w].data };
		if (as_copy_out(&p->as, r->rsi + (uint64_t)n * sizeof(out[0]), &out[n], sizeof(out[0])) < 0)
			return wait_result(p, -LINUX_EFAULT, 0);
		if (e->w[w].events & LINUX_EPOLLONESHOT)
			e->w[w].events = 0;     /* disabled until EPOLL_CTL_MOD */
		n++;
	}
	return wait_result(p, n, timeout);
}

long posix_epoll_wait(struct process *p, struct user_regs *r)
{
	int ms = (int)r->r10;

	return epoll_wait_common(p, r, ms < 0 ? TIMEOUT_NONE : (uint64_t)ms * 1000000UL);
}

long posix_epoll_pwait(struct process *p, struct user_regs *r)
{
	int ms = (int)r->r10;
	long err;

	if (r->r8 && (err = signal_wait_mask(p, r->r8, r->r9)))
		return err;
	return epoll_wait_common(p, r, ms < 0 ? TIMEOUT_NONE : (uint64_t)ms * 1000000UL);
}
