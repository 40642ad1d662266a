/*
 * sendfile and copy_file_range (Linux's sendfile(2), copy_file_range(2)):
 * a file's bytes moved by the server without passing through the
 * process. sendfile reads a file of the root filesystem or of tmpfs from
 * its offset (or from *offset, written back, the file's own offset left
 * alone) and writes a pipe, a socket, a tmpfs file, /dev/null or the
 * console; a pipe or socket without room waits (SYSCALL_BLOCK: the
 * offset moved so far is written back and the count kept in io_done, so
 * a signal ends the call with what moved) unless non-blocking.
 * copy_file_range copies between two regular files.
 */
#include "file.h"
#include "procfs.h"
#include "signals.h"
#include "socket.h"
#include "syscall.h"
#include "vfs.h"

#define CHUNK  4096             /* bytes moved at a time */

/* A regular file whose bytes vfs_read gives (not one of /proc's). */
static bool regular(const struct file *f)
{
	return vfs_nodes[f->node].type == VFS_FILE && !procfs_file(f->node);
}

/* len bytes of buf to out, without waiting: bytes taken (maybe fewer),
 * -EAGAIN (none fit), or -errno (EPIPE: SIGPIPE sent). */
static long put(struct process *p, struct file *out, const uint8_t *buf, uint64_t len)
{
	const struct vfs_node *n = &vfs_nodes[out->node];
	uint32_t flags = out->flags;
	long r;

	switch (n->type) {
	case VFS_PIPE:
		out->flags |= LINUX_O_NONBLOCK;
		r = pipe_put(out, buf, len);
		out->flags = flags;
		if (r == -LINUX_EPIPE)
			signal_send_thread(p->current, LINUX_SIGPIPE, LINUX_SI_USER, p->pid, 0);
		return r;
	case VFS_SOCKET: {
		struct linux_iovec v = { 0, len };
		struct uio u = { &v, 0, 1, (uint8_t *)buf };
		uint64_t done = p->current->io_done;
		p->current->io_done = 0;        /* the socket's own count of a waiting send */
		r = socket_send(p, out, &u, LINUX_MSG_DONTWAIT, NULL);
		p->current->io_done = done;
		return r;
	}
	case VFS_FILE:
		return vfs_write(out->node, out->offset, buf, len);
	case VFS_DEVICE:
		if (n->device == DEV_CONSOLE)
			sys_debug_write((uint64_t)buf, len);
		return (long)len;
	default:
		return -LINUX_EINVAL;
	}
}

/* sendfile(out_fd, in_fd, offset, count). */
long posix_sendfile(struct process *p, struct user_regs *r)
{
	static uint8_t chunk[CHUNK];
	struct file *in = fd_file(p, r->rsi), *out;
	uint64_t count = r->r10 > POSIX_RW_MAX ? POSIX_RW_MAX : r->r10, done = p->current->io_done;
	int64_t pos;

	/* The checks in Linux's order (sendfile64, do_sendfile, do_splice_direct). */
	if (r->rdx && as_copy_in(&p->as, &pos, r->rdx, sizeof(pos)) < 0)
		return -LINUX_EFAULT;
	if (!in || !file_readable(in))
		return -LINUX_EBADF;
	if (!r->rdx)
		pos = (int64_t)in->offset;
	else if (vfs_nodes[in->node].type == VFS_PIPE || vfs_nodes[in->node].type == VFS_SOCKET ||
		 vfs_nodes[in->node].type == VFS_EVENTFD || vfs_nodes[in->node].type == VFS_TIMERFD)
		return -LINUX_ESPIPE;
	if (pos < 0)
		return -LINUX_EINVAL;
	if (!(out = fd_file(p, r->rdi)) || !file_writable(out))
		return -LINUX_EBADF;
	const struct vfs_node *on = &vfs_nodes[out->node];
	if (on->type != VFS_PIPE && (out->flags & LINUX_O_APPEND))
		return -LINUX_EINVAL;
	if (!regular(in) || (on->type != VFS_PIPE && on->type != VFS_SOCKET && on->type != VFS_FILE &&
			     on->type != VFS_DEVICE))
		return -LINUX_EINVAL;
	bool nonblock = on->type != VFS_FILE && on->type != VFS_DEVICE &&
			(out->flags & LINUX_O_NONBLOCK);
	long err = 0;
	while (done < count) {
		uint64_t want = count - done < CHUNK ? count - done : CHUNK;
		long got = vfs_read(in->node, (uint64_t)pos, chunk, want);
		if (got <= 0) {
			err = got;
			break;
		}
		long n = put(p, out, chunk, (uint64_t)got);
		if (n > 0) {
			pos += n;
			done += (uint64_t)n;
			if (on->type == VFS_FILE)
				out->offset += (uint64_t)n;
		}
		/* As Linux: a pipe takes what fits and waits only when
		 * nothing does; a socket takes the whole count. */
		if (n == -LINUX_EAGAIN && !nonblock && !(on->type == VFS_PIPE && done)) {
			err = SYSCALL_BLOCK;    /* waits for room: the position kept */
			break;
		}
		if (n <= 0) {
			err = n;
			break;
		}
	}
	if (r->rdx)
		as_copy_out(&p->as, r->rdx, &pos, sizeof(pos));
	else
		in->offset = (uint64_t)pos;
	if (err == SYSCALL_BLOCK) {
		p->current->io_done = done;
		return SYSCALL_BLOCK;
	}
	return done ? (long)done : err;
}

/* copy_file_range(fd_in, off_in, fd_out, off_out, len, flags). */
long posix_copy_file_range(struct process *p, struct user_regs *r)
{
	static uint8_t chunk[CHUNK];
	struct file *in = fd_file(p, r->rdi), *out = fd_file(p, r->rdx);
	uint64_t len = r->r8 > POSIX_RW_MAX ? POSIX_RW_MAX : r->r8, done = 0;
	int64_t pos_in, pos_out;

	if (!in || !out)
		return -LINUX_EBADF;
	pos_in = (int64_t)in->offset;
	pos_out = (int64_t)out->offset;
	if ((r->rsi && as_copy_in(&p->as, &pos_in, r->rsi, 8) < 0) ||
	    (r->r10 && as_copy_in(&p->as, &pos_out, r->r10, 8) < 0))
		return -LINUX_EFAULT;
	if (r->r9)
		return -LINUX_EINVAL;
	/* generic_copy_file_checks's order. */
	if (vfs_nodes[in->node].type == VFS_DIR || vfs_nodes[out->node].type == VFS_DIR)
		return -LINUX_EISDIR;
	if (!regular(in) || !regular(out))
		return -LINUX_EINVAL;
	if (!file_readable(in) || !file_writable(out) || (out->flags & LINUX_O_APPEND))
		return -LINUX_EBADF;
	if (pos_in < 0 || pos_out < 0)
		return -LINUX_EINVAL;
	uint64_t size = vfs_nodes[in->node].size;
	if ((uint64_t)pos_in >= size)
		len = 0;
	else if (len > size - (uint64_t)pos_in)
		len = size - (uint64_t)pos_in;
	if (in->node == out->node && (uint64_t)pos_in < (uint64_t)pos_out + len &&
	    (uint64_t)pos_out < (uint64_t)pos_in + len)
		return -LINUX_EINVAL;   /* overlapping ranges of one file */
	while (done < len) {
		uint64_t want = len - done < CHUNK ? len - done : CHUNK;
		long got = vfs_read(in->node, (uint64_t)pos_in, chunk, want), n;
		if (got <= 0 || (n = vfs_write(out->node, (uint64_t)pos_out, chunk, (uint64_t)got)) <= 0) {
			if (!done)
				return got <= 0 ? got : n;
			break;
		}
		pos_in += n;
		pos_out += n;
		done += (uint64_t)n;
	}
	if (!r->rsi)
		in->offset = (uint64_t)pos_in;
	if (!r->r10)
		out->offset = (uint64_t)pos_out;
	if ((r->rsi && as_copy_out(&p->as, r->rsi, &pos_in, 8) < 0) ||
	    (r->r10 && as_copy_out(&p->as, r->r10, &pos_out, 8) < 0))
		return -LINUX_EFAULT;
	return (long)done;
}
