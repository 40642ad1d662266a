/*
 * eventfd and eventfd2 (Linux's eventfd(2)): a 64-bit counter behind a
 * descriptor. A write of 8 bytes adds its value (at most 2^64 - 2 in
 * all: a write that would pass it waits, or EAGAIN); a read of 8 bytes
 * takes the whole count and zeroes it — or, with EFD_SEMAPHORE, takes 1
 * — and waits (or EAGAIN) while it is 0. The counter is a node of the
 * file tree in no directory, freed with its last description; every
 * change wakes the waiting processes, which try their calls again.
 */
#include "file.h"
#include "syscall.h"
#include "vfs.h"

#define EVENTFD_MAX       128
#define EVENTFD_COUNT_MAX 0xFFFFFFFFFFFFFFFEULL
#define EFD_SEMAPHORE     1

struct eventfd {
	bool used;
	int account;            /* charged to (share.c) */
	bool semaphore;
	uint64_t count;
	uint32_t edges[2];      /* eventfd_edges: writes, reads (Linux wakes on each) */
};

static struct eventfd eventfds[EVENTFD_MAX];

static struct eventfd *eventfd_of(const struct file *f)
{
	return &eventfds[vfs_nodes[f->node].eventfd];
}

static void wake_all(void)
{
	threads_wake_all();
}

long eventfd_read(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	struct eventfd *e = eventfd_of(f);

	if (len < 8)
		return -LINUX_EINVAL;
	if (!e->count)
		return f->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	/* As Linux: the count is taken before the copy, and lost if the
	 * buffer is bad. */
	uint64_t value = e->semaphore ? 1 : e->count;
	e->count -= value;
	e->edges[1]++;
	wake_all();
	return as_copy_out(&p->as, buf, &value, 8) < 0 ? -LINUX_EFAULT : 8;
}

long eventfd_write(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	struct eventfd *e = eventfd_of(f);
	uint64_t value;

	if (len < 8)
		return -LINUX_EINVAL;
	if (as_copy_in(&p->as, &value, buf, 8) < 0)
		return -LINUX_EFAULT;
	if (value == UINT64_MAX)
		return -LINUX_EINVAL;
	if (value > EVENTFD_COUNT_MAX - e->count)
		return f->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	e->count += value;
	e->edges[0]++;
	if (value)
		wake_all();
	return 8;
}

void eventfd_edges(const struct file *f, uint32_t edges[2])
{
	const struct eventfd *e = eventfd_of(f);

	edges[0] = e->edges[0];
	edges[1] = e->edges[1];
}

unsigned eventfd_poll(const struct file *f)
{
	const struct eventfd *e = eventfd_of(f);

	return (e->count ? LINUX_POLLIN | LINUX_POLLRDNORM : 0) |
	       (e->count < EVENTFD_COUNT_MAX ? LINUX_POLLOUT | LINUX_POLLWRNORM : 0);
}

void eventfd_closed(const struct file *f)
{
	eventfd_of(f)->used = false;
}

static long eventfd_make(struct process *p, uint64_t initval, uint64_t flags)
{
	unsigned i = EVENTFD_MAX, mine = 0;
	long node, file, fd;

	if (flags & ~(uint64_t)(EFD_SEMAPHORE | LINUX_O_NONBLOCK | LINUX_O_CLOEXEC))
		return -LINUX_EINVAL;
	for (unsigned k = 0; k < EVENTFD_MAX; k++)
		if (!eventfds[k].used)
			i = i < EVENTFD_MAX ? i : k;
		else if (eventfds[k].account == share_account)
			mine++;
	if ((fd = share_check(mine, i, EVENTFD_MAX)) < 0)
		return fd;
	if ((node = vfs_detached(0600, FS_PIPE)) < 0)
		return -LINUX_ENFILE;
	vfs_nodes[node].type = VFS_EVENTFD;
	vfs_nodes[node].eventfd = (int)i;
	if ((file = file_open((int)node, LINUX_O_RDWR | ((uint32_t)flags & LINUX_O_NONBLOCK))) < 0) {
		vfs_closed((int)node);
		return file;
	}
	eventfds[i] = (struct eventfd){ true, share_account, flags & EFD_SEMAPHORE, (uint32_t)initval,
					{ 0, 0 } };
	if ((fd = fd_install(p, (int)file, 0, flags & LINUX_O_CLOEXEC)) < 0)
		file_put((int)file);
	return fd;
}

long posix_eventfd(struct process *p, struct user_regs *r)
{
	return eventfd_make(p, r->rdi, 0);
}

long posix_eventfd2(struct process *p, struct user_regs *r)
{
	return eventfd_make(p, r->rdi, r->rsi);
}
