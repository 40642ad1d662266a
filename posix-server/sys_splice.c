/*
 * splice, tee and vmsplice (Linux's splice(2), tee(2), vmsplice(2)):
 * bytes moved between a pipe and another descriptor by the server,
 * without passing through the process. splice moves from a pipe to a
 * pipe, a tmpfs file, a socket, /dev/null or the console, and from a
 * file of the root filesystem or tmpfs or a socket to a pipe; tee copies
 * one pipe's bytes into another and leaves them; vmsplice moves user
 * memory into a pipe (its write end) or a pipe's bytes to user memory
 * (its read end). Each moves what it can now: a pipe without bytes (its
 * writers still there) or without room waits (SYSCALL_BLOCK, tried
 * again when pipes change) unless SPLICE_F_NONBLOCK or an O_NONBLOCK
 * pipe says EAGAIN; an empty pipe without writers gives 0; a pipe or
 * socket with no reader is EPIPE and SIGPIPE. The pages themselves are
 * copied (Linux moves references to them: the bytes come out the same;
 * SPLICE_F_MOVE and SPLICE_F_GIFT are hints, SPLICE_F_MORE too). Errors
 * in the order of Linux's fs/splice.c.
 */
#include "file.h"
#include "procfs.h"
#include "signals.h"
#include "socket.h"
#include "syscall.h"
#include "vfs.h"

#define SPLICE_F_MOVE     1
#define SPLICE_F_NONBLOCK 2
#define SPLICE_F_MORE     4
#define SPLICE_F_GIFT     8
#define SPLICE_F_ALL      15
#define CHUNK             4096  /* bytes moved at a time */

static uint8_t chunk[CHUNK];

static bool is_pipe(const struct file *f)
{
	return vfs_nodes[f->node].type == VFS_PIPE;
}

/* A regular file whose bytes vfs_read gives (not one of /proc's). */
static bool regular(const struct file *f)
{
	return vfs_nodes[f->node].type == VFS_FILE && !procfs_file(f->node);
}

/* An empty pipe in, or one without room out: -EAGAIN or SYSCALL_BLOCK. */
static long would_wait(bool nonblock)
{
	return nonblock ? -LINUX_EAGAIN : SYSCALL_BLOCK;
}

/* No reader at out: SIGPIPE to the caller, -EPIPE. */
static long broken(struct process *p)
{
	signal_send_thread(p->current, LINUX_SIGPIPE, LINUX_SI_USER, p->pid, 0);
	return -LINUX_EPIPE;
}

/* Bytes of the pipe in, up to len, to out (a tmpfs file at *pos, a
 * socket, /dev/null or the console): bytes moved, 0 (no writer), or as
 * would_wait, or -errno. */
static long from_pipe(struct process *p, struct file *in, struct file *out, uint64_t *pos,
		      uint64_t len, bool nonblock)
{
	const struct vfs_node *on = &vfs_nodes[out->node];
	uint64_t done = 0;

	if (!pipe_bytes(in))
		return pipe_has_peer(in) ? would_wait(nonblock) : 0;
	while (done < len) {
		uint64_t n = pipe_peek(in, 0, chunk, len - done < CHUNK ? len - done : CHUNK);
		long put;
		if (!n)
			break;
		if (on->type == VFS_SOCKET) {
			struct linux_iovec v = { 0, n };
			struct uio u = { &v, 0, 1, chunk };
			uint64_t io_done = p->current->io_done;
			p->current->io_done = 0;
			put = socket_send(p, out, &u, LINUX_MSG_DONTWAIT, NULL);
			p->current->io_done = io_done;
			if (put == -LINUX_EAGAIN || put == SYSCALL_BLOCK)
				put = done ? 0 : would_wait(nonblock || (out->flags & LINUX_O_NONBLOCK));
		} else if (on->type == VFS_FILE) {
			put = vfs_write(out->node, *pos, chunk, n);
		} else {                /* /dev/null, the console */
			if (on->device == DEV_CONSOLE)
				sys_debug_write((uint64_t)chunk, n);
			put = (long)n;
		}
		if (put <= 0)
			return done ? (long)done : put;
		pipe_consume(in, (uint64_t)put);
		*pos += (uint64_t)put;
		done += (uint64_t)put;
		if ((uint64_t)put < n)
			break;
	}
	return (long)done;
}

/* Bytes of in (a regular file at *pos, or a socket), up to len and what
 * the pipe out has room for, into out: as from_pipe. */
static long to_pipe(struct process *p, struct file *in, struct file *out, uint64_t *pos,
		    uint64_t len, bool nonblock)
{
	if (!pipe_has_peer(out))
		return broken(p);
	uint64_t room = pipe_room(out), done = 0;
	if (!room)
		return would_wait(nonblock);
	len = len < room ? len : room;
	while (done < len) {
		uint64_t want = len - done < CHUNK ? len - done : CHUNK;
		long got;
		if (vfs_nodes[in->node].type == VFS_SOCKET) {
			struct linux_iovec v = { 0, want };
			struct uio u = { &v, 0, 1, chunk };
			bool truncated;
			uint64_t whole;
			got = socket_recv(p, in, &u, LINUX_MSG_DONTWAIT, NULL, &truncated, &whole);
			if (got == -LINUX_EAGAIN || got == SYSCALL_BLOCK)
				got = done ? 0 : would_wait(nonblock || (in->flags & LINUX_O_NONBLOCK));
		} else {
			got = vfs_read(in->node, *pos, chunk, want);
		}
		if (got <= 0)
			return done ? (long)done : got;
		pipe_put(out, chunk, (uint64_t)got);
		*pos += (uint64_t)got;
		done += (uint64_t)got;
		if ((uint64_t)got < want || vfs_nodes[in->node].type == VFS_SOCKET)
			break;          /* a socket: what one receive gave */
	}
	return (long)done;
}

/* Up to len of the pipe in's bytes copied into the pipe out; consumed
 * from in when consume (splice), left (tee). */
static long pipe_to_pipe(struct process *p, struct file *in, struct file *out, uint64_t len,
			 bool nonblock, bool consume)
{
	uint64_t done = 0;

	if (!pipe_bytes(in))
		return pipe_has_peer(in) ? would_wait(nonblock) : 0;
	if (!pipe_has_peer(out))
		return broken(p);
	if (!pipe_room(out))
		return would_wait(nonblock);
	while (done < len) {
		uint64_t want = len - done < CHUNK ? len - done : CHUNK, room = pipe_room(out);
		want = want < room ? want : room;
		uint64_t n = pipe_peek(in, consume ? 0 : done, chunk, want);
		if (!n)
			break;
		pipe_put(out, chunk, n);
		if (consume)
			pipe_consume(in, n);
		done += n;
	}
	return (long)done;
}

/* splice(fd_in, off_in, fd_out, off_out, len, flags). */
long posix_splice(struct process *p, struct user_regs *r)
{
	uint64_t len = r->r8 > POSIX_RW_MAX ? POSIX_RW_MAX : r->r8, flags = r->r9;
	struct file *in, *out;
	int64_t off_in = 0, off_out = 0;

	if (!len)
		return 0;
	if (flags & ~(uint64_t)SPLICE_F_ALL)
		return -LINUX_EINVAL;
	if (!(in = fd_file(p, r->rdi)) || !(out = fd_file(p, r->rdx)))
		return -LINUX_EBADF;
	bool ipipe = is_pipe(in), opipe = is_pipe(out);
	if ((ipipe && r->rsi) || (opipe && r->r10))
		return -LINUX_ESPIPE;
	if ((r->r10 && as_copy_in(&p->as, &off_out, r->r10, 8) < 0) ||
	    (r->rsi && as_copy_in(&p->as, &off_in, r->rsi, 8) < 0))
		return -LINUX_EFAULT;
	if (!file_readable(in) || !file_writable(out))
		return -LINUX_EBADF;
	bool nonblock = flags & SPLICE_F_NONBLOCK;
	long n;
	if (ipipe && opipe) {
		if (in->node == out->node)
			return -LINUX_EINVAL;
		n = pipe_to_pipe(p, in, out, len, nonblock || ((in->flags | out->flags) & LINUX_O_NONBLOCK),
				 true);
	} else if (ipipe) {
		const struct vfs_node *on = &vfs_nodes[out->node];
		bool device = on->type == VFS_DEVICE && (on->device == DEV_NULL ||
							 on->device == DEV_CONSOLE);
		if (on->type != VFS_SOCKET && !regular(out) && !device)
			return -LINUX_EINVAL;
		if (r->r10 && on->type != VFS_FILE)
			return -LINUX_EINVAL;   /* no pwrite there */
		if (r->r10 && off_out < 0)
			return -LINUX_EINVAL;
		if (out->flags & LINUX_O_APPEND)
			return -LINUX_EINVAL;
		uint64_t pos = r->r10 ? (uint64_t)off_out : out->offset;
		n = from_pipe(p, in, out, &pos, len, nonblock || (in->flags & LINUX_O_NONBLOCK));
		if (n > 0 && on->type == VFS_FILE) {
			if (r->r10)
				off_out = (int64_t)pos;
			else
				out->offset = pos;
		}
	} else if (opipe) {
		const struct vfs_node *inn = &vfs_nodes[in->node];
		if (inn->type != VFS_SOCKET && !regular(in))
			return -LINUX_EINVAL;
		if (r->rsi && (inn->type != VFS_FILE || off_in < 0))
			return -LINUX_EINVAL;
		uint64_t pos = r->rsi ? (uint64_t)off_in : in->offset;
		n = to_pipe(p, in, out, &pos, len, nonblock || (out->flags & LINUX_O_NONBLOCK));
		if (n > 0 && inn->type == VFS_FILE) {
			if (r->rsi)
				off_in = (int64_t)pos;
			else
				in->offset = pos;
		}
	} else {
		return -LINUX_EINVAL;
	}
	if (n < 0)
		return n;
	if ((r->r10 && as_copy_out(&p->as, r->r10, &off_out, 8) < 0) ||
	    (r->rsi && as_copy_out(&p->as, r->rsi, &off_in, 8) < 0))
		return -LINUX_EFAULT;
	return n;
}

/* tee(fd_in, fd_out, len, flags). */
long posix_tee(struct process *p, struct user_regs *r)
{
	uint64_t len = r->rdx > POSIX_RW_MAX ? POSIX_RW_MAX : r->rdx, flags = r->r10;
	struct file *in, *out;

	if (flags & ~(uint64_t)SPLICE_F_ALL)
		return -LINUX_EINVAL;
	if (!len)
		return 0;
	if (!(in = fd_file(p, r->rdi)) || !(out = fd_file(p, r->rsi)))
		return -LINUX_EBADF;
	if (!file_readable(in) || !file_writable(out))
		return -LINUX_EBADF;
	if (!is_pipe(in) || !is_pipe(out) || in->node == out->node)
		return -LINUX_EINVAL;
	bool nonblock = (flags & SPLICE_F_NONBLOCK) || ((in->flags | out->flags) & LINUX_O_NONBLOCK);
	return pipe_to_pipe(p, in, out, len, nonblock, false);
}

/* vmsplice(fd, iov, nr_segs, flags): the iovecs into the pipe (its
 * write end) or out of it (its read end). */
long posix_vmsplice(struct process *p, struct user_regs *r)
{
	uint64_t iov = r->rsi, count = r->rdx, flags = r->r10, total = 0, done = 0;
	struct linux_iovec v;
	struct file *f;

	if (flags & ~(uint64_t)SPLICE_F_ALL)
		return -LINUX_EINVAL;
	if (!(f = fd_file(p, r->rdi)))
		return -LINUX_EBADF;
	bool write = file_writable(f);
	if (!write && !file_readable(f))
		return -LINUX_EBADF;
	if (count > LINUX_IOV_MAX)
		return -LINUX_EINVAL;
	for (uint64_t i = 0; i < count; i++) {  /* the whole vector first, as import_iovec */
		if (as_copy_in(&p->as, &v, iov + i * sizeof(v), sizeof(v)) < 0)
			return -LINUX_EFAULT;
		if ((int64_t)v.len < 0)
			return -LINUX_EINVAL;
		total += v.len;
	}
	if (!total)
		return 0;
	if (!is_pipe(f))
		return -LINUX_EBADF;
	bool nonblock = (flags & SPLICE_F_NONBLOCK) || (f->flags & LINUX_O_NONBLOCK);
	if (write && !pipe_has_peer(f))
		return broken(p);
	if (write ? !pipe_room(f) : !pipe_bytes(f))
		return write || pipe_has_peer(f) ? would_wait(nonblock) : 0;
	for (uint64_t i = 0; i < count && done < POSIX_RW_MAX; i++) {
		as_copy_in(&p->as, &v, iov + i * sizeof(v), sizeof(v));
		for (uint64_t at = 0; at < v.len;) {
			uint64_t n = v.len - at < CHUNK ? v.len - at : CHUNK;
			uint64_t have = write ? pipe_room(f) : pipe_bytes(f);
			n = n < have ? n : have;
			if (!n)
				return (long)done;
			if (write) {
				if (as_copy_in(&p->as, chunk, v.base + at, n) < 0)
					return done ? (long)done : -LINUX_EFAULT;
				pipe_put(f, chunk, n);
			} else {
				pipe_peek(f, 0, chunk, n);
				if (as_copy_out(&p->as, v.base + at, chunk, n) < 0)
					return done ? (long)done : -LINUX_EFAULT;
				pipe_consume(f, n);
			}
			at += n;
			done += n;
		}
	}
	return (long)done;
}
