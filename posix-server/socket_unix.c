/*
 * AF_UNIX stream sockets, as socketpair makes them (socket.h): inside
 * the server, two pipes crossed — each socket reads one and writes the
 * other (pipe.c: 64 KiB each way, waiting and waking as a pipe's). The
 * pipes' descriptions are the sockets' own, in no descriptor; the
 * socket's O_NONBLOCK (or MSG_DONTWAIT) is put on them for each call.
 */
#include "socket.h"
#include "syscall.h"

/* The pipe description files[index], with the call's O_NONBLOCK. */
static struct file *end_of(int index, bool nonblock)
{
	struct file *f = &files[index];

	f->flags = nonblock ? f->flags | LINUX_O_NONBLOCK : f->flags & ~LINUX_O_NONBLOCK;
	return f;
}

long unix_send(struct process *p, struct file *f, struct psock *s, const struct uio *u,
	       uint64_t flags)
{
	uint64_t done = 0, skip = p->current->io_done;
	struct linux_iovec v;
	bool nonblock = socket_nonblocking(f, flags);

	if (s->tx < 0)
		return socket_broken(p, flags);
	struct file *tx = end_of(s->tx, nonblock);
	for (uint64_t i = 0; i < u->count; i++) {
		if (u->single)
			v = *u->single;
		else if (as_copy_in(&p->as, &v, u->va + i * sizeof(v), sizeof(v)) < 0)
			return done ? (long)done : -LINUX_EFAULT;
		if (v.len <= skip) {
			skip -= v.len;
			done += v.len;
			continue;
		}
		done += skip;
		uint64_t want = v.len - skip;
		long n = pipe_write(p, tx, v.base + skip, want);
		skip = 0;
		if (n == -LINUX_EPIPE)
			return done ? (long)done : socket_broken(p, flags);
		if (n == SYSCALL_BLOCK || (n >= 0 && (uint64_t)n < want && !nonblock)) {
			p->current->io_done = done + (n > 0 ? (uint64_t)n : 0);
			return SYSCALL_BLOCK;
		}
		if (n < 0)
			return done ? (long)done : n;
		done += (uint64_t)n;
		if ((uint64_t)n < want)
			break;
	}
	return (long)done;
}

long unix_recv(struct process *p, struct file *f, struct psock *s, const struct uio *u,
	       uint64_t flags)
{
	uint64_t done = 0;
	struct linux_iovec v;

	if (s->rx < 0)
		return 0;
	struct file *rx = end_of(s->rx, socket_nonblocking(f, flags));
	if (flags & LINUX_MSG_PEEK)
		return -LINUX_EOPNOTSUPP;
	for (uint64_t i = 0; i < u->count; i++) {
		if (u->single)
			v = *u->single;
		else if (as_copy_in(&p->as, &v, u->va + i * sizeof(v), sizeof(v)) < 0)
			return done ? (long)done : -LINUX_EFAULT;
		if (!v.len)
			continue;
		if (done && !pipe_bytes(rx))
			break;
		long n = pipe_read(p, rx, v.base, v.len);
		if (n < 0 || n == SYSCALL_BLOCK)
			return done ? (long)done : n;
		done += (uint64_t)n;
		if ((uint64_t)n < v.len)
			break;
	}
	return (long)done;
}

unsigned unix_poll(const struct psock *s)
{
	unsigned in = s->rx >= 0 ? pipe_poll(&files[s->rx]) : LINUX_POLLHUP;
	unsigned out = s->tx >= 0 ? pipe_poll(&files[s->tx]) : LINUX_POLLERR;
	unsigned bits = in & (LINUX_POLLIN | LINUX_POLLRDNORM);

	if (in & LINUX_POLLHUP)         /* the peer's writing side is gone */
		bits |= LINUX_POLLIN | LINUX_POLLRDNORM | LINUX_POLLRDHUP;
	if ((in & LINUX_POLLHUP) && (out & LINUX_POLLERR))
		bits |= LINUX_POLLHUP;
	if (out & (LINUX_POLLOUT | LINUX_POLLERR))
		bits |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	return bits;
}

void unix_shutdown(struct psock *s, uint64_t how)
{
	if (how != LINUX_SHUT_WR && s->rx >= 0) {
		file_put(s->rx);
		s->rx = -1;
	}
	if (how != LINUX_SHUT_RD && s->tx >= 0) {
		file_put(s->tx);
		s->tx = -1;
	}
}

void unix_closed(struct psock *s)
{
	unix_shutdown(s, LINUX_SHUT_RDWR);
}

long posix_socketpair(struct process *p, struct user_regs *r)
{
	uint64_t type = r->rsi & LINUX_SOCK_TYPE_MASK, flags = r->rsi & ~(uint64_t)LINUX_SOCK_TYPE_MASK;
	long a[2], b[2], fd[2] = { -1, -1 }, err;

	if (r->rdi == LINUX_AF_INET || r->rdi == LINUX_AF_INET6)
		return -LINUX_EOPNOTSUPP;
	if (r->rdi != LINUX_AF_UNIX)
		return -LINUX_EAFNOSUPPORT;
	if (flags & ~(uint64_t)(LINUX_SOCK_NONBLOCK | LINUX_SOCK_CLOEXEC) || type > 10)
		return -LINUX_EINVAL;
	if (r->rdx)
		return -LINUX_EPROTONOSUPPORT;
	if (type != LINUX_SOCK_STREAM)
		return -LINUX_EOPNOTSUPP;       /* datagram and seqpacket pairs: not yet */
	if ((err = pipe_files(0, &a[0], &a[1])) < 0)
		return err;
	if ((err = pipe_files(0, &b[0], &b[1])) < 0) {
		file_put((int)a[0]);
		file_put((int)a[1]);
		return err;
	}
	/* Socket 0 reads a and writes b; socket 1 reads b and writes a. */
	for (int i = 0; i < 2; i++) {
		fd[i] = socket_make(p, LINUX_SOCK_STREAM, LINUX_AF_UNIX, 0, -1, flags);
		if (fd[i] < 0)
			break;
		struct psock *s = socket_of(fd_file(p, (uint64_t)fd[i]));
		s->rx = (int)(i ? b[0] : a[0]);
		s->tx = (int)(i ? a[1] : b[1]);
		s->connected = s->bound = true;
	}
	int pair[2] = { (int)fd[0], (int)fd[1] };
	if (fd[1] >= 0 && as_copy_out(&p->as, r->r10, pair, sizeof(pair)) == 0)
		return 0;
	err = fd[1] >= 0 ? -LINUX_EFAULT : fd[0] >= 0 ? fd[1] : fd[0];
	if (fd[0] >= 0)
		fd_close(p, (uint64_t)fd[0]);   /* its pipe ends with it */
	else {
		file_put((int)a[0]);
		file_put((int)b[1]);
	}
	if (fd[1] >= 0)
		fd_close(p, (uint64_t)fd[1]);
	else {
		file_put((int)b[0]);
		file_put((int)a[1]);
	}
	return err;
}
