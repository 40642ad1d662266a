/*
 * Files of the POSIX server's processes: open file descriptions and the
 * descriptor tables (file.c), and what pipes (pipe.c), eventfds
 * (eventfd.c) and epoll instances (poll.c) do behind them. The file
 * tree they name is vfs.h's; sockets are socket.h's, terminals tty.h's,
 * /proc's files procfs.h's.
 */
#ifndef MICA_POSIX_FILE_H
#define MICA_POSIX_FILE_H

#include "posix.h"

/* An open file description: what open made, shared by dup's descriptors. */
struct file {
	unsigned refs;          /* descriptors (of every process) on it; 0: free */
	int node;               /* in the file tree (vfs.h) */
	int account;            /* charged to (share.c): the account that opened it */
	uint64_t offset;
	uint32_t flags;         /* O_ACCMODE, O_APPEND, O_NONBLOCK, O_LARGEFILE */
};

/* Opened for reading, for writing (not O_PATH): read(2)'s and write(2)'s
 * EBADF otherwise. */
static inline bool file_readable(const struct file *f)
{
	return (f->flags & LINUX_O_ACCMODE) != LINUX_O_WRONLY && !(f->flags & LINUX_O_PATH);
}

static inline bool file_writable(const struct file *f)
{
	return (f->flags & LINUX_O_ACCMODE) != LINUX_O_RDONLY && !(f->flags & LINUX_O_PATH);
}

/* The most bytes one read, write or sendfile moves (Linux's MAX_RW_COUNT). */
#define POSIX_RW_MAX 0x7FFFF000UL

/* ---- file.c: open file descriptions, descriptor tables ---- */

extern struct file files[FILE_MAX];

/* A new description of node with open flags, charged to share_account:
 * its index, or -EMFILE (the account's share), -ENFILE. */
long file_open(int node, uint32_t flags);
/* Drop a reference to files[index]; at the last the node is closed. */
void file_put(int index);
/* ---- fd.c: a process's descriptors ---- */

/* p's table empty, in its record (a new process's; p->fds set). */
void fd_table_init(struct process *p);
/* The lowest free descriptor >= min (below p->nofile) for files[file],
 * which the caller has a reference on for it: the descriptor, or -EMFILE,
 * -ENOMEM (no page for a table past FD_FIRST). */
long fd_install(struct process *p, int file, uint64_t min, bool cloexec);
/* Descriptor fd (< FD_MAX) for files[file] (referenced for it), what it
 * named closed first (dup2): fd, or -ENOMEM (no table; nothing changed). */
long fd_install_at(struct process *p, int file, uint64_t fd, bool cloexec);
/* The description behind descriptor fd, or NULL (not open). */
struct file *fd_file(struct process *p, uint64_t fd);
/* 0, or -EBADF. */
long fd_close(struct process *p, uint64_t fd);
/* Every descriptor closed and the table given back (p's end). */
void fd_close_all(struct process *p);
/* Those with FD_CLOEXEC closed (execve). */
void fd_close_on_exec(struct process *p);
/* to (a fork's child, its table empty) gets from's descriptors, on the
 * same descriptions: 0, or -ENOMEM (no page for its table). */
long fd_copy(struct process *to, const struct process *from);
/* Descriptors 0, 1 and 2 on one description of the console. 0 or -ENFILE. */
long fd_console(struct process *p);

/* ---- pipe.c ---- */

/* A pipe end's read or write of user memory: bytes moved, 0 (end of
 * file), -EAGAIN, -EPIPE, -EFAULT, or SYSCALL_BLOCK (nothing can move
 * yet; the caller waits). */
long pipe_read(struct process *p, struct file *f, uint64_t buf, uint64_t len);
long pipe_write(struct process *p, struct file *f, uint64_t buf, uint64_t len);
/* pipe_write of len bytes of the server's own at buf (sendfile). */
long pipe_put(struct file *f, const void *buf, uint64_t len);
/* The readiness edges of f's pipe so far (epoll's EPOLLET, poll.c):
 * edges[0] counts the news for readers (a write, an end opened or
 * closed), edges[1] for writers (room made in a full pipe, an end
 * opened or closed), as Linux's pipe wakes its two queues. */
void pipe_edges(const struct file *f, uint32_t edges[2]);
/* Bytes the pipe holds (FIONREAD). */
uint64_t pipe_bytes(const struct file *f);
/* (splice, tee) Up to len of the bytes f's pipe holds, from skip on,
 * copied to buf and left there: how many. */
uint64_t pipe_peek(const struct file *f, uint64_t skip, void *buf, uint64_t len);
/* The first n bytes f's pipe holds dropped (read), its writers woken. */
void pipe_consume(const struct file *f, uint64_t n);
/* The bytes f's pipe has room for now. */
uint64_t pipe_room(const struct file *f);
/* Whether the other end of f's pipe is open anywhere (a reader's
 * writers, a writer's readers). */
bool pipe_has_peer(const struct file *f);
/* What a poll of f, an end of a pipe, sees now: POLLIN (bytes held),
 * POLLOUT (room for PIPE_BUF), POLLHUP (no writer left), POLLERR (no
 * reader left). */
unsigned pipe_poll(const struct file *f);
/* f, a new description of a pipe (open of /proc/PID/fd/N), is one
 * more end: a reader (O_RDONLY) or a writer. */
void pipe_opened(const struct file *f);
/* f, an end of a pipe, is closed (its last descriptor went); the last
 * end gone, the pipe goes (a named pipe's: fifo_released). An O_RDWR
 * description (a named pipe's, /proc/PID/fd/N's) is an end of each kind. */
void pipe_closed(const struct file *f);

/* ---- fifo.c: named pipes ---- */

/* Open the named pipe node (a VFS_FIFO) with flags (O_ACCMODE,
 * O_NONBLOCK) as fifo(7) says: a new description of its pipe (made by
 * the first open: pipe_new), or SYSCALL_BLOCK (for reading: no writer
 * yet; for writing: no reader yet; tried again when an open comes), or
 * -ENXIO (O_WRONLY | O_NONBLOCK and no reader), -EMFILE, -ENFILE. */
long fifo_open(struct process *p, int node, uint32_t flags);
/* The named pipe node t's open waits on (tried again: open_at takes it
 * without the path), or -1. */
int fifo_waiting(const struct thread *t);
/* The pipe node of a named pipe lost its last end: the name no longer
 * holds it (its next open makes a new pipe). */
void fifo_released(int pipe_node);
/* Whether f, a reader of a named pipe opened with O_NONBLOCK while it had
 * no writer, has seen no writer open since: its poll shows no POLLHUP
 * (Linux's pipe_poll). */
bool fifo_hup_hidden(const struct file *f);
/* A new pipe with no end open yet, for a named pipe (fifo.c): its node
 * (a VFS_PIPE in no directory, mode S_IFIFO | perm), charged to
 * share_account, or -EMFILE (the account's share), -ENFILE. Until a
 * description is made on it, pipe_unused(node) gives it back. */
long pipe_new(uint32_t perm);
void pipe_unused(int node);
/* The open descriptions of each end of the pipe at node (O_RDWR ones in both). */
void pipe_ends(int node, unsigned *readers, unsigned *writers);
/* A new pipe's two open file descriptions (O_NONBLOCK as nonblock), in
 * no descriptor yet, charged to share_account: 0, or -EMFILE (its
 * share), -ENFILE. */
long pipe_files(uint32_t nonblock, long *rd, long *wr);

/* ---- eventfd.c ---- */

/* An eventfd's read or write of 8 bytes at user address buf: 8,
 * -EINVAL (len < 8, a write of 2^64 - 1), -EAGAIN, -EFAULT, or
 * SYSCALL_BLOCK (a read of 0, a write past the largest count). */
long eventfd_read(struct process *p, struct file *f, uint64_t buf, uint64_t len);
long eventfd_write(struct process *p, struct file *f, uint64_t buf, uint64_t len);
/* POLLIN (the count is not 0), POLLOUT (1 more fits). */
unsigned eventfd_poll(const struct file *f);
/* Its readiness edges so far (as pipe_edges): [0] writes, [1] reads. */
void eventfd_edges(const struct file *f, uint32_t edges[2]);
/* f, an eventfd, is closed (its last descriptor went). */
void eventfd_closed(const struct file *f);

/* ---- poll.c ---- */

/* files[index] is an epoll instance: its last descriptor went. */
void epoll_closed(int index);

#endif
