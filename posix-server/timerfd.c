/*
 * timerfd_create, timerfd_settime, timerfd_gettime (Linux's
 * timerfd_create(2)): a timer behind a descriptor on CLOCK_REALTIME,
 * CLOCK_MONOTONIC or CLOCK_BOOTTIME, one-shot or periodic, relative or
 * absolute (TFD_TIMER_ABSTIME). A read of 8 bytes takes the expirations
 * since the last read (a u64) and zeroes them, waits (or EAGAIN) while
 * there are none; poll and epoll see POLLIN then. The deadline is kept
 * in the timer's clock, so that a REALTIME one follows clock_settime;
 * the server's timer is armed for the earliest (timer.c), and the
 * expirations are counted when it fires or when the timer is looked at.
 * An absolute REALTIME timer set with TFD_TIMER_CANCEL_ON_SET is
 * cancelled when the clock is set (clock_settime, settimeofday): it
 * becomes readable and its next read fails with ECANCELED, once for each
 * setting, dropping the expirations not yet read (Linux's
 * timerfd_clock_was_set and timerfd_canceled); the flag on any other
 * timer is taken and means nothing, as on Linux. Like an eventfd, a
 * node of the file tree in no directory, freed with its last
 * description.
 */
#include "syscall.h"
#include "timers.h"
#include "vfs.h"

#define TIMERFD_MAX             64      /* an account's SHARE of them (share.h) */
#define TFD_TIMER_ABSTIME       1
#define TFD_TIMER_CANCEL_ON_SET 2
#define NS_PER_SEC              1000000000ULL

struct timerfd {
	bool used;
	int account;            /* charged to (share.h) */
	int clock;              /* LINUX_CLOCK_REALTIME, _MONOTONIC, _BOOTTIME */
	uint64_t next;          /* the next expiry, ns of its clock (0: disarmed) */
	uint64_t interval;      /* ns (0: one-shot) */
	uint64_t ticks;         /* expirations not yet read */
	bool might_cancel;      /* absolute REALTIME, TFD_TIMER_CANCEL_ON_SET */
	bool cancelled;         /* the clock was set: the next read ECANCELED */
	uint32_t edges[2];      /* timerfd_edges: expiries collected, 0 */
};

static struct timerfd timerfds[TIMERFD_MAX];
static unsigned timerfds_used;  /* in use: none, nothing to look at */

static struct timerfd *timerfd_of(const struct file *f)
{
	return &timerfds[vfs_nodes[f->node].timerfd];
}

/* Count t's expirations up to now (and move its deadline past now):
 * true when there were some. */
static bool collect(struct timerfd *t)
{
	uint64_t now;

	if (!t->used || !t->next || !timer_clock_now(t->clock, &now) || now < t->next)
		return false;
	t->ticks += timer_expiries(&t->next, t->interval, now);
	t->edges[0]++;
	return true;
}

long timerfd_read(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	struct timerfd *t = timerfd_of(f);

	if (len < 8)
		return -LINUX_EINVAL;
	if (collect(t))
		threads_wake_all();
	if (!t->ticks)
		return f->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	uint64_t value = t->ticks;
	t->ticks = 0;
	if (t->cancelled) {
		t->cancelled = false;   /* cancelled again by the next setting */
		return -LINUX_ECANCELED;
	}
	return as_copy_out(&p->as, buf, &value, 8) < 0 ? -LINUX_EFAULT : 8;
}

unsigned timerfd_poll(const struct file *f)
{
	struct timerfd *t = timerfd_of(f);

	collect(t);
	return t->ticks ? LINUX_POLLIN | LINUX_POLLRDNORM : 0;
}

void timerfd_edges(const struct file *f, uint32_t edges[2])
{
	struct timerfd *t = timerfd_of(f);

	collect(t);
	edges[0] = t->edges[0];
	edges[1] = t->edges[1];
}

void timerfd_closed(const struct file *f)
{
	timerfd_of(f)->used = false;
	timerfds_used--;
}

uint64_t timerfds_first(void)
{
	uint64_t first = 0;

	for (unsigned i = 0; timerfds_used && i < TIMERFD_MAX; i++) {
		const struct timerfd *t = &timerfds[i];
		if (!t->used || !t->next)
			continue;
		uint64_t at = timer_clock_deadline(t->clock, t->next);
		if (!first || at < first)
			first = at;
	}
	return first;
}

void timerfds_clock_was_set(void)
{
	bool any = false;

	for (unsigned i = 0; timerfds_used && i < TIMERFD_MAX; i++) {
		struct timerfd *t = &timerfds[i];
		if (!t->used || !t->might_cancel)
			continue;
		t->cancelled = any = true;
		t->ticks++;             /* readable, as Linux's */
		t->edges[0]++;
	}
	if (any)
		threads_wake_all();
}

void timerfds_expire(void)
{
	bool any = false;

	for (unsigned i = 0; timerfds_used && i < TIMERFD_MAX; i++)
		any |= collect(&timerfds[i]);
	if (any)
		threads_wake_all();
}

long posix_timerfd_create(struct process *p, struct user_regs *r)
{
	int64_t clock = (int64_t)(int32_t)r->rdi;
	uint64_t flags = r->rsi;
	unsigned i;
	long node, file, fd;

	if (clock != LINUX_CLOCK_REALTIME && clock != LINUX_CLOCK_MONOTONIC &&
	    clock != LINUX_CLOCK_BOOTTIME)
		return -LINUX_EINVAL;
	if (flags & ~(uint64_t)(LINUX_O_NONBLOCK | LINUX_O_CLOEXEC))
		return -LINUX_EINVAL;
	unsigned mine = 0;
	i = TIMERFD_MAX;
	for (unsigned k = 0; k < TIMERFD_MAX; k++)
		if (!timerfds[k].used && i == TIMERFD_MAX)
			i = k;
		else if (timerfds[k].used && timerfds[k].account == share_account)
			mine++;
	if ((fd = share_check(mine, i, TIMERFD_MAX)) < 0)
		return fd;
	if ((node = vfs_detached(0600, FS_PIPE)) < 0)
		return -LINUX_ENFILE;
	vfs_nodes[node].type = VFS_TIMERFD;
	vfs_nodes[node].timerfd = (int)i;
	if ((file = file_open((int)node, LINUX_O_RDWR | ((uint32_t)flags & LINUX_O_NONBLOCK))) < 0) {
		vfs_closed((int)node);
		return file;
	}
	timerfds[i] = (struct timerfd){ .used = true, .account = share_account, .clock = (int)clock };
	timerfds_used++;
	if ((fd = fd_install(p, (int)file, 0, flags & LINUX_O_CLOEXEC)) < 0)
		file_put((int)file);
	return fd;
}

/* The timerfd behind descriptor fd: 0 and *t, or -EBADF, -EINVAL (not
 * a timerfd). */
static long timerfd_fd(struct process *p, uint64_t fd, struct timerfd **t)
{
	struct file *f = fd_file(p, fd);

	if (!f)
		return -LINUX_EBADF;
	if (vfs_nodes[f->node].type != VFS_TIMERFD)
		return -LINUX_EINVAL;
	*t = timerfd_of(f);
	return 0;
}

/* t's setting now: time left to the next expiry (0: disarmed), interval. */
static struct linux_itimerspec timerfd_value(struct timerfd *t)
{
	uint64_t now = 0;

	if (collect(t))
		threads_wake_all();
	timer_clock_now(t->clock, &now);
	uint64_t left = t->next > now ? t->next - now : 0;
	return (struct linux_itimerspec){ ns_timespec(t->interval), ns_timespec(left) };
}

/* timerfd_settime(fd, flags, new, old), in Linux's order: new read
 * (EFAULT), the flags and the times checked (EINVAL), the descriptor
 * (EBADF, EINVAL), old written (EFAULT). A new setting drops unread
 * expirations. */
long posix_timerfd_settime(struct process *p, struct user_regs *r)
{
	struct linux_itimerspec it, old;
	uint64_t value, interval, now;
	struct timerfd *t;
	long err;

	if (as_copy_in(&p->as, &it, r->rdx, sizeof(it)) < 0)
		return -LINUX_EFAULT;
	if (r->rsi & ~(uint64_t)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return -LINUX_EINVAL;
	if ((err = timespec_ns(&it.value, &value)) || (err = timespec_ns(&it.interval, &interval)))
		return err;
	if ((err = timerfd_fd(p, r->rdi, &t)))
		return err;
	old = timerfd_value(t);
	timer_clock_now(t->clock, &now);
	t->ticks = 0;
	t->cancelled = false;
	t->might_cancel = t->clock == LINUX_CLOCK_REALTIME &&
			  (r->rsi & (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) ==
				  (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
	t->interval = value ? interval : 0;
	t->next = !value ? 0 : r->rsi & TFD_TIMER_ABSTIME ? value : now + value;
	signal_timer_arm();
	if (r->r10 && as_copy_out(&p->as, r->r10, &old, sizeof(old)) < 0)
		return -LINUX_EFAULT;
	return 0;
}

long posix_timerfd_gettime(struct process *p, struct user_regs *r)
{
	struct timerfd *t;
	long err = timerfd_fd(p, r->rdi, &t);

	if (err)
		return err;
	struct linux_itimerspec it = timerfd_value(t);
	return as_copy_out(&p->as, r->rsi, &it, sizeof(it)) < 0 ? -LINUX_EFAULT : 0;
}
