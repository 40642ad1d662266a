/*
 * Pipes: 64 KiB each in pages of the server's (taken as they fill, given
 * back when the pipe goes), a node of the file tree in no directory, read
 * and written through two open file descriptions. A read of an empty pipe
 * and a write to a full one wait (SYSCALL_BLOCK) unless O_NONBLOCK
 * (EAGAIN); a write of at most PIPE_BUF bytes goes in whole or not at
 * all; with no writer left a read gives end of file, with no reader left
 * a write is EPIPE (and SIGPIPE, sys_io.c). A write whose page the
 * writer's share of memory has not got waits as for a full pipe, or is
 * EAGAIN (share_memory_full: ENOMEM when nothing would free it). Every change wakes the
 * waiting processes, which try their calls again.
 */
#include "file.h"
#include "memory.h"
#include "syscall.h"
#include "vfs.h"

#define PIPE_MAX   128     /* pipes in the server (AF_UNIX streams take two) */
#define PIPE_SIZE  65536UL
#define PIPE_PAGES (PIPE_SIZE / PAGE_SIZE)
#define PIPE_BUF   4096UL

struct pipe {
	bool used;
	int account;                    /* charged to (share.c) */
	void *pages[PIPE_PAGES];
	uint64_t head, count;           /* the oldest byte, bytes held */
	unsigned readers, writers;      /* open descriptions of each end */
	uint32_t edges[2];              /* readiness edges (pipe_edges): readers', writers' */
};

static struct pipe pipes[PIPE_MAX];

static void wake_all(void)
{
	threads_wake_all();
}

static struct pipe *pipe_of(const struct file *f)
{
	return &pipes[vfs_nodes[f->node].pipe];
}

/* The page holding byte at of the ring (made when make, charged to
 * writer's account: a writer holds its pipe's pages within its share of
 * memory; NULL: the server's own write, to nobody), or NULL. */
static uint8_t *ring_page(struct pipe *pp, uint64_t at, bool make, struct process *writer)
{
	void **page = &pp->pages[(at % PIPE_SIZE) / PAGE_SIZE];

	if (!*page && make)
		*page = process_as_ops.page_alloc(writer);
	return *page;
}

long pipe_read(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	struct pipe *pp = pipe_of(f);
	uint64_t done = 0;

	if (!pp->count) {
		if (!pp->writers || !len)
			return 0;
		return f->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	}
	bool was_full = PIPE_SIZE - pp->count < PIPE_BUF;
	while (done < len && pp->count) {
		uint64_t off = pp->head % PAGE_SIZE, n = PAGE_SIZE - off;
		n = n < pp->count ? n : pp->count;
		n = n < len - done ? n : len - done;
		if (as_copy_out(&p->as, buf + done, ring_page(pp, pp->head, false, NULL) + off, n) < 0) {
			if (!done)
				return -LINUX_EFAULT;
			break;
		}
		pp->head = (pp->head + n) % PIPE_SIZE;
		pp->count -= n;
		done += n;
	}
	if (was_full && done)
		pp->edges[1]++;         /* as Linux: writers hear of room made in a full pipe */
	wake_all();
	return (long)done;
}

/* pipe_write's work: from the process's buf, or from the server's kbuf
 * when it is not NULL. */
static long pipe_in(struct process *p, struct file *f, uint64_t buf, const uint8_t *kbuf,
		    uint64_t len)
{
	struct pipe *pp = pipe_of(f);
	uint64_t done = 0, space = PIPE_SIZE - pp->count;

	if (!pp->readers)
		return -LINUX_EPIPE;
	if (!len)
		return 0;
	if (!space || (len <= PIPE_BUF && space < len))
		return f->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	while (done < len && pp->count < PIPE_SIZE) {
		uint64_t tail = pp->head + pp->count, off = tail % PAGE_SIZE, n = PAGE_SIZE - off;
		n = n < PIPE_SIZE - pp->count ? n : PIPE_SIZE - pp->count;
		n = n < len - done ? n : len - done;
		uint8_t *page = ring_page(pp, tail, true, p);
		if (page && kbuf)
			memcpy(page + off, kbuf + done, n);
		if (!page || (!kbuf && as_copy_in(&p->as, page + off, buf + done, n) < 0)) {
			if (done)
				break;
			if (page)
				return -LINUX_EFAULT;
			/* The writer's share of memory full: as a full pipe. */
			if (p && !memory_room(p->account))
				return share_memory_full(p->current, f->flags & LINUX_O_NONBLOCK);
			return -LINUX_ENOMEM;
		}
		pp->count += n;
		done += n;
	}
	pp->edges[0]++;                 /* as Linux: every write is news to the readers */
	wake_all();
	return (long)done;
}

long pipe_write(struct process *p, struct file *f, uint64_t buf, uint64_t len)
{
	return pipe_in(p, f, buf, NULL, len);
}

long pipe_put(struct file *f, const void *buf, uint64_t len)
{
	return pipe_in(NULL, f, 0, buf, len);
}

uint64_t pipe_peek(const struct file *f, uint64_t skip, void *buf, uint64_t len)
{
	struct pipe *pp = pipe_of(f);
	uint64_t done = 0;

	if (skip >= pp->count)
		return 0;
	len = len < pp->count - skip ? len : pp->count - skip;
	while (done < len) {
		uint64_t at = pp->head + skip + done, off = at % PAGE_SIZE, n = PAGE_SIZE - off;
		n = n < len - done ? n : len - done;
		memcpy((uint8_t *)buf + done, ring_page(pp, at, false, NULL) + off, n);
		done += n;
	}
	return done;
}

void pipe_consume(const struct file *f, uint64_t n)
{
	struct pipe *pp = pipe_of(f);
	bool was_full = PIPE_SIZE - pp->count < PIPE_BUF;

	n = n < pp->count ? n : pp->count;
	if (!n)
		return;
	pp->head = (pp->head + n) % PIPE_SIZE;
	pp->count -= n;
	if (was_full)
		pp->edges[1]++;
	wake_all();
}

uint64_t pipe_room(const struct file *f)
{
	return PIPE_SIZE - pipe_of(f)->count;
}

bool pipe_has_peer(const struct file *f)
{
	const struct pipe *pp = pipe_of(f);

	return (f->flags & LINUX_O_ACCMODE) == LINUX_O_RDONLY ? pp->writers : pp->readers;
}

void pipe_edges(const struct file *f, uint32_t edges[2])
{
	const struct pipe *pp = pipe_of(f);

	edges[0] = pp->edges[0];
	edges[1] = pp->edges[1] + memory_wakes;        /* its writers' share may have room */
}

uint64_t pipe_bytes(const struct file *f)
{
	return pipe_of(f)->count;
}

/* Whether f reads, writes its pipe (O_RDWR: both, as Linux's FMODE_READ
 * and FMODE_WRITE). */
static bool end_reads(const struct file *f)
{
	return (f->flags & LINUX_O_ACCMODE) != LINUX_O_WRONLY;
}

static bool end_writes(const struct file *f)
{
	return (f->flags & LINUX_O_ACCMODE) != LINUX_O_RDONLY;
}

/* Whether the pages of the next PIPE_BUF bytes a writer puts are made
 * (else they are to be had from its account's share of memory). */
static bool room_made(const struct pipe *pp)
{
	uint64_t tail = pp->head + pp->count;

	return pp->pages[(tail % PIPE_SIZE) / PAGE_SIZE] &&
	       pp->pages[((tail + PIPE_BUF - 1) % PIPE_SIZE) / PAGE_SIZE];
}

unsigned pipe_poll(const struct file *f)
{
	const struct pipe *pp = pipe_of(f);
	unsigned mask = 0;

	if (end_reads(f))
		mask |= (pp->count ? LINUX_POLLIN | LINUX_POLLRDNORM : 0) |
			(pp->writers || fifo_hup_hidden(f) ? 0 : LINUX_POLLHUP);
	if (end_writes(f))
		mask |= (PIPE_SIZE - pp->count >= PIPE_BUF && (room_made(pp) || !share_memory_waits())
			 ? LINUX_POLLOUT | LINUX_POLLWRNORM : 0) |
			(pp->readers ? 0 : LINUX_POLLERR);
	return mask;
}

void pipe_opened(const struct file *f)
{
	struct pipe *pp = pipe_of(f);

	pp->readers += end_reads(f);
	pp->writers += end_writes(f);
	pp->edges[0]++;
	pp->edges[1]++;
	wake_all();
}

void pipe_closed(const struct file *f)
{
	struct pipe *pp = pipe_of(f);

	pp->readers -= end_reads(f);
	pp->writers -= end_writes(f);
	pp->edges[0]++;                 /* an end gone: news to both sides */
	pp->edges[1]++;
	if (!pp->readers && !pp->writers) {
		for (unsigned i = 0; i < PIPE_PAGES; i++)
			if (pp->pages[i])
				process_as_ops.page_free(NULL, pp->pages[i]);
		memset(pp, 0, sizeof(*pp));
		if (vfs_nodes[f->node].fifo)
			fifo_released(f->node);
	}
	wake_all();
}

long pipe_new(uint32_t perm)
{
	long node, err;
	unsigned i = PIPE_MAX, mine = 0;

	for (unsigned k = 0; k < PIPE_MAX; k++)
		if (!pipes[k].used)
			i = i < PIPE_MAX ? i : k;
		else if (pipes[k].account == share_account)
			mine++;
	if ((err = share_check(mine, i, PIPE_MAX)) < 0)
		return err;
	if ((node = vfs_detached(LINUX_S_IFIFO | perm, FS_PIPE)) < 0)
		return -LINUX_ENFILE;
	memset(&pipes[i], 0, sizeof(pipes[i]));
	pipes[i].used = true;
	pipes[i].account = share_account;
	vfs_nodes[node].pipe = (int)i;
	return node;
}

void pipe_ends(int node, unsigned *readers, unsigned *writers)
{
	const struct pipe *pp = &pipes[vfs_nodes[node].pipe];

	*readers = pp->readers;
	*writers = pp->writers;
}

void pipe_unused(int node)
{
	pipes[vfs_nodes[node].pipe].used = false;
	vfs_closed(node);
}

long pipe_files(uint32_t nonblock, long *rd, long *wr)
{
	long node, err;

	*rd = *wr = -1;
	if ((node = pipe_new(0600)) < 0)
		return node;
	struct pipe *pp = &pipes[vfs_nodes[node].pipe];
	if ((*rd = err = file_open((int)node, LINUX_O_RDONLY | nonblock)) >= 0)
		pp->readers = 1;
	if (*rd >= 0 && (*wr = err = file_open((int)node, LINUX_O_WRONLY | nonblock)) >= 0)
		pp->writers = 1;
	if (*wr >= 0)
		return 0;
	if (*rd >= 0)
		file_put((int)*rd);
	else                    /* no description took the node: free it here */
		pipe_unused((int)node);
	*rd = *wr = -1;
	return err;
}

static long pipe_make(struct process *p, uint64_t out, uint64_t flags)
{
	long rd, wr, fd[2] = { -1, -1 }, err;

	if (flags & ~(uint64_t)(LINUX_O_CLOEXEC | LINUX_O_NONBLOCK))
		return -LINUX_EINVAL;
	if ((err = pipe_files((uint32_t)flags & LINUX_O_NONBLOCK, &rd, &wr)) < 0)
		return err;
	bool cloexec = flags & LINUX_O_CLOEXEC;
	if ((fd[0] = fd_install(p, (int)rd, 0, cloexec)) >= 0)
		fd[1] = fd_install(p, (int)wr, 0, cloexec);
	int pair[2] = { (int)fd[0], (int)fd[1] };
	if (fd[1] >= 0 && as_copy_out(&p->as, out, pair, sizeof(pair)) == 0)
		return 0;
	err = fd[1] >= 0 ? -LINUX_EFAULT : -LINUX_EMFILE;
	for (int e = 0; e < 2; e++) {
		long file = e ? wr : rd;
		if (fd[e] >= 0)
			fd_close(p, (uint64_t)fd[e]);
		else
			file_put((int)file);
	}
	return err;
}

long posix_pipe(struct process *p, struct user_regs *r)
{
	return pipe_make(p, r->rdi, 0);
}

long posix_pipe2(struct process *p, struct user_regs *r)
{
	return pipe_make(p, r->rdi, r->rsi);
}
