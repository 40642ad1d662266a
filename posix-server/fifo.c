/*
 * Named pipes (fifo(7)): a VFS_FIFO node (mknod S_IFIFO, mkfifo) whose
 * opens are ends of one pipe (pipe.c) while any is open. The first open
 * makes the pipe, a VFS_PIPE node in no directory: the two name each
 * other (their `fifo`), and the pipe holds the named node open (its
 * `opens`), so that an unlinked name stays until the pipe goes; the last
 * end closed, the pipe goes with its bytes (fifo_released) and the next
 * open makes a new one. As Linux's fifo_open: an open for reading waits
 * until a writer opens (with O_NONBLOCK it does not wait), one for
 * writing until a reader opens (with O_NONBLOCK: ENXIO when none has),
 * one for both (O_RDWR) never waits.
 *
 * A waiting open is a call tried again (SYSCALL_BLOCK) whenever
 * something changes; its thread notes the node (struct thread's
 * fifo_wait, from the wait's start to the call's end, whatever ends it:
 * thread_set_blocked), so that the other side's open counts it as an
 * end already there, as Linux counts a waiting opener, and both go on:
 * the waiter's call is tried again before the other side's next call is
 * taken (main.c answers woken calls first). A waiter also goes on when
 * the other side has opened since it began to wait (opened[]), even if
 * that end has closed again meanwhile (Linux's r_counter, w_counter).
 * The wait holds the node open and is on it, not on its name (Linux's
 * waits on the inode): tried again, the open takes the node it waits on
 * without looking the path up (fifo_waiting), so a name removed or
 * replaced meanwhile changes nothing for it.
 * A reader opened with O_NONBLOCK while no writer was sees no POLLHUP
 * until a writer has opened (hup_after).
 */
#include "file.h"
#include "syscall.h"
#include "vfs.h"

/* Opens of each named pipe node so far: [0] for reading, [1] for writing. */
static uint32_t opened[VFS_NODES][2];

/* A reader opened with O_NONBLOCK while no writer was: its description
 * sees no POLLHUP until a writer has opened since (the writers' opens
 * then + 1; 0: not such a reader), as Linux's f_pipe. */
static uint32_t hup_after[FILE_MAX];

/* Whether t waits in open for node. */
static bool waiting_on(const struct thread *t, int node)
{
	return t->state == THREAD_RUNNING && t->blocked && t->fifo_wait == node + 1;
}

int fifo_waiting(const struct thread *t)
{
	return t->blocked && t->fifo_wait ? t->fifo_wait - 1 : -1;
}

void fifo_wait_end(struct thread *t)
{
	int node = t->fifo_wait - 1;

	t->fifo_wait = 0;
	vfs_nodes[node].opens--;
	vfs_closed(node);
}

/* Threads other than self waiting to open node for writing (write) or reading. */
static unsigned waiters(int node, bool write, const struct thread *self)
{
	unsigned n = 0;

	for (unsigned i = 0; i < THREAD_MAX; i++)
		n += &threads[i] != self && waiting_on(&threads[i], node) &&
		     threads[i].fifo_wait_write == write;
	return n;
}

/* A new description of node's pipe with flags (the pipe made if it has
 * none): its index, or -EMFILE, -ENFILE. */
static long fifo_end(int node, uint32_t flags)
{
	struct vfs_node *f = &vfs_nodes[node];
	bool made = !f->fifo;

	if (made) {
		long pipe = pipe_new(f->mode & 07777);
		if (pipe < 0)
			return pipe;
		f->fifo = (int)pipe + 1;
		vfs_nodes[pipe].fifo = node + 1;
		f->opens++;
	}
	int pipe = f->fifo - 1;
	long file = file_open(pipe, flags);
	if (file < 0) {
		if (made) {
			f->fifo = vfs_nodes[pipe].fifo = 0;
			f->opens--;
			pipe_unused(pipe);
			vfs_closed(node);
		}
		return file;
	}
	unsigned readers, writers;
	pipe_ends(pipe, &readers, &writers);
	hup_after[file] = (flags & LINUX_O_ACCMODE) == LINUX_O_RDONLY &&
			  (flags & LINUX_O_NONBLOCK) && !writers ? opened[node][1] + 1 : 0;
	pipe_opened(&files[file]);
	opened[node][0] += (flags & LINUX_O_ACCMODE) != LINUX_O_WRONLY;
	opened[node][1] += (flags & LINUX_O_ACCMODE) != LINUX_O_RDONLY;
	return file;
}

long fifo_open(struct process *p, int node, uint32_t flags)
{
	struct thread *t = p->current;
	const struct vfs_node *f = &vfs_nodes[node];
	uint32_t acc = flags & LINUX_O_ACCMODE;
	bool write = acc == LINUX_O_WRONLY, nonblock = flags & LINUX_O_NONBLOCK;
	unsigned readers = 0, writers = 0;

	if (f->fifo)
		pipe_ends(f->fifo - 1, &readers, &writers);
	/* O_RDWR, and O_RDONLY | O_NONBLOCK, never wait. */
	if (acc != LINUX_O_RDWR && (write || !nonblock)) {
		uint32_t seen = opened[node][!write];       /* the other side's opens */
		bool again = waiting_on(t, node) && t->fifo_wait_write == write;
		bool other = (write ? readers : writers) || waiters(node, !write, t) ||
			     (again && t->fifo_wait_seen != seen);
		if (!other && nonblock)
			return -LINUX_ENXIO;
		if (!other) {
			if (!again) {   /* the wait begins: it holds the node */
				t->fifo_wait_seen = seen;
				t->fifo_wait_write = write;
				t->fifo_wait = node + 1;
				vfs_nodes[node].opens++;
			}
			return SYSCALL_BLOCK;
		}
	}
	long file = fifo_end(node, flags);
	if (t->fifo_wait)
		fifo_wait_end(t);       /* (its end, if made, holds the node now) */
	return file;
}

void fifo_released(int pipe_node)
{
	int node = vfs_nodes[pipe_node].fifo - 1;

	vfs_nodes[pipe_node].fifo = 0;
	vfs_nodes[node].fifo = 0;
	vfs_nodes[node].opens--;
	vfs_closed(node);
}

bool fifo_hup_hidden(const struct file *f)
{
	int file = (int)(f - files), node = vfs_nodes[f->node].fifo - 1;

	return node >= 0 && hup_after[file] && hup_after[file] == opened[node][1] + 1;
}
