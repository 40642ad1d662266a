/*
 * AF_UNIX stream sockets (socket.h, Linux's unix(7)), inside the server
 * (datagram sockets: socket_dgram.c, which shares the names made here):
 * a connected pair is two pipes crossed — each socket reads one and
 * writes the other (pipe.c: 64 KiB each way, waiting and waking as a
 * pipe's). The pipes' descriptions are the sockets' own, in no
 * descriptor; the socket's O_NONBLOCK (or MSG_DONTWAIT) is put on them
 * for each call. socketpair makes a pair at once; a named socket (bind
 * to a path, which becomes a socket node in tmpfs, or to an abstract
 * name) listens, and each connect makes a pair whose other end waits in
 * the listener's queue until accept takes it.
 */
#include "file.h"
#include "socket.h"
#include "syscall.h"
#include "vfs.h"

#define UNIX_BACKLOG_MAX 16     /* connections waiting for accept, per listener */
#define UNIX_PENDING_MAX 32     /* in all; an account's SHARE of them (share.h) */
#define SUN_OFFSET       2      /* sun_path's offset in sockaddr_un */

/* A connection made and not accepted yet: the listener's socket, the
 * accepting end's pipes, the connecting process and its socket's name. */
struct unix_pending {
	int listener;           /* socks[] index, -1: a free entry */
	int rx, tx;
	int pid;
	int account;            /* the connecting process's (share.h) */
	uint64_t seq;           /* the order connections came in */
	uint8_t name_len;
	char name[UNIX_PATH_MAX];
};

static struct unix_pending pending[UNIX_PENDING_MAX] = {
	[0 ... UNIX_PENDING_MAX - 1] = { .listener = -1 },
};
static uint64_t pending_seq;
static unsigned autobind_next;

static void wake_all(void)
{
	threads_wake_all();
}

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

	if (!s->connected)
		return -LINUX_ENOTCONN;
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
		long n = u->kernel ? pipe_put(tx, u->kernel + skip, want)
				   : pipe_write(p, tx, v.base + skip, want);
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

	if (!s->connected)
		return -LINUX_EINVAL;   /* as Linux's unix_stream_recvmsg */
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
		long n;
		if (u->kernel) {        /* splice: into the server's buffer */
			n = (long)pipe_peek(rx, 0, u->kernel, v.len);
			pipe_consume(rx, (uint64_t)n);
			if (!n && pipe_has_peer(rx))
				n = rx->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN : SYSCALL_BLOCK;
		} else {
			n = pipe_read(p, rx, v.base, v.len);
		}
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
	if (s->listening) {
		int li = (int)(s - socks);
		for (unsigned i = 0; i < UNIX_PENDING_MAX; i++)
			if (pending[i].listener == li)
				return LINUX_POLLIN | LINUX_POLLRDNORM;
		return 0;
	}
	if (!s->connected)              /* as Linux: a stream socket not connected */
		return LINUX_POLLOUT | LINUX_POLLWRNORM | LINUX_POLLHUP;
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
	s->edges[0]++;
	s->edges[1]++;
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
	int si = (int)(s - socks);

	unix_shutdown(s, LINUX_SHUT_RDWR);
	/* Connections it never accepted: their sockets see the end. */
	for (unsigned i = 0; i < UNIX_PENDING_MAX; i++)
		if (pending[i].listener == si) {
			pending[i].listener = -1;
			file_put(pending[i].rx);        /* a seqpacket's: the socket made */
			if (pending[i].tx >= 0)
				file_put(pending[i].tx);
		}
	/* Its path stays, refusing connections (ECONNREFUSED), as Linux's. */
	if (s->name_node >= 0 && vfs_nodes[s->name_node].type == VFS_SOCKET_NAME &&
	    vfs_nodes[s->name_node].socket == si + 1)
		vfs_nodes[s->name_node].socket = 0;
	s->name_node = -1;
	s->name_len = 0;
}

/* Two pipes, a and b (each read end, write end), the two directions of a
 * stream connection; both or neither (the error). */
static long pipe_pairs(long a[2], long b[2])
{
	long err = pipe_files(0, &a[0], &a[1]);

	if (err < 0)
		return err;
	if ((err = pipe_files(0, &b[0], &b[1])) < 0) {
		file_put((int)a[0]);
		file_put((int)a[1]);
	}
	return err;
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
	if (type == LINUX_SOCK_DGRAM || type == LINUX_SOCK_SEQPACKET)
		return unix_dgram_pair(p, (int)type, flags, r->r10);
	if (type != LINUX_SOCK_STREAM)
		return -LINUX_EOPNOTSUPP;
	if ((err = pipe_pairs(a, b)) < 0)
		return err;
	/* Socket 0 reads a and writes b; socket 1 reads b and writes a. */
	for (int i = 0; i < 2; i++) {
		fd[i] = socket_make(p, LINUX_SOCK_STREAM, LINUX_AF_UNIX, 0, -1, flags);
		if (fd[i] < 0)
			break;
		struct psock *s = socket_of(fd_file(p, (uint64_t)fd[i]));
		s->rx = (int)(i ? b[0] : a[0]);
		s->tx = (int)(i ? a[1] : b[1]);
		s->connected = s->bound = true;
		s->peer_pid = p->pid;
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

/* ---- names ---- */

/* The sockaddr_un at user address va (len bytes) into name (the bytes
 * after the family): its length (0: the family alone), or -EINVAL,
 * -EFAULT. A path is cut at its first NUL and keeps one. */
long unix_name_in(struct process *p, uint64_t va, uint64_t len, char *name)
{
	uint16_t family;

	if ((uint32_t)len < sizeof(family) || (uint32_t)len > SUN_OFFSET + UNIX_PATH_MAX)
		return -LINUX_EINVAL;
	if (as_copy_in(&p->as, &family, va, sizeof(family)) < 0)
		return -LINUX_EFAULT;
	if (family != LINUX_AF_UNIX)
		return -LINUX_EINVAL;
	size_t n = (size_t)len - SUN_OFFSET;
	memset(name, 0, UNIX_PATH_MAX);
	if (n && as_copy_in(&p->as, name, va + SUN_OFFSET, n) < 0)
		return -LINUX_EFAULT;
	if (n && name[0]) {
		size_t path = strnlen(name, n);
		if (path == UNIX_PATH_MAX)
			return -LINUX_EINVAL;   /* no room for its NUL */
		n = path + 1;
	}
	return (long)n;
}

/* The socket bound to the abstract name[0..len), or -1. */
static int abstract_owner(const char *name, size_t len)
{
	for (int i = 0; i < SOCKET_MAX; i++)
		if (socks[i].used && socks[i].family == LINUX_AF_UNIX && socks[i].name_len == len &&
		    !socks[i].name[0] && !memcmp(socks[i].name, name, len))
			return i;
	return -1;
}

long unix_addr_out(struct process *p, const char *name, unsigned len, uint64_t va,
		   uint64_t lenva)
{
	uint8_t addr[SUN_OFFSET + UNIX_PATH_MAX];
	uint32_t size = SUN_OFFSET + len;
	int32_t room;

	if (!va)
		return 0;
	addr[0] = LINUX_AF_UNIX & 0xFF;
	addr[1] = LINUX_AF_UNIX >> 8;
	memcpy(addr + SUN_OFFSET, name, len);
	if (as_copy_in(&p->as, &room, lenva, sizeof(room)) < 0)
		return -LINUX_EFAULT;
	if (room < 0)
		return -LINUX_EINVAL;
	if (as_copy_out(&p->as, va, addr, (uint32_t)room < size ? (uint32_t)room : size) < 0 ||
	    as_copy_out(&p->as, lenva, &size, sizeof(size)) < 0)
		return -LINUX_EFAULT;
	return 0;
}

long unix_name_out(struct process *p, const struct psock *s, bool peer, uint64_t va,
		   uint64_t lenva)
{
	return unix_addr_out(p, peer ? s->peer : s->name, peer ? s->peer_len : s->name_len, va,
			     lenva);
}

long unix_bind(struct process *p, struct psock *s, uint64_t va, uint64_t len)
{
	char name[UNIX_PATH_MAX], path[UNIX_PATH_MAX];
	long n = unix_name_in(p, va, len, name), err;

	if (n < 0)
		return n;
	if (n == 0 && s->name_len)
		return 0;                       /* autobind of a bound socket: nothing to do */
	/* As Linux: a path taken is EADDRINUSE before a socket bound
	 * already is EINVAL. */
	if (s->name_len && !name[0])
		return -LINUX_EINVAL;
	if (n == 0) {                           /* autobind: an abstract name of 5 hex digits */
		for (unsigned tries = 0; tries < 0x100000; tries++) {
			fmt_snprintf(name + 1, 6, "%05x", autobind_next++ & 0xFFFFF);
			if (abstract_owner(name, 6) < 0)
				break;
		}
		n = 6;
	} else if (!name[0]) {
		if (abstract_owner(name, (size_t)n) >= 0)
			return -LINUX_EADDRINUSE;
	} else {
		struct vfs_lookup l;
		memcpy(path, name, (size_t)n);
		if ((err = vfs_resolve(p->cwd, path, VFS_PARENT, p, &l)) < 0)
			return err;
		if (l.node >= 0)
			return -LINUX_EADDRINUSE;
		if (l.dir_wanted)
			return -LINUX_ENOENT;
		if (s->name_len)
			return -LINUX_EINVAL;
		if ((err = vfs_create(l.parent, l.last, LINUX_S_IFSOCK | (0777 & ~p->umask))) < 0)
			return err == -LINUX_ENOSPC ? -LINUX_ENOSPC : err;
		s->name_node = (int)err;
		vfs_nodes[err].socket = (int)(s - socks) + 1;
	}
	memcpy(s->name, name, (size_t)n);
	s->name_len = (uint8_t)n;
	s->bound = true;
	return 0;
}

long unix_listen(struct process *p, struct psock *s, int backlog)
{
	if (s->connected || !s->name_len)
		return -LINUX_EINVAL;
	/* Linux's queue takes backlog + 1 (sk_max_ack_backlog is passed,
	 * not reached). */
	s->backlog = backlog < 0 ? 1 : backlog >= UNIX_BACKLOG_MAX ? UNIX_BACKLOG_MAX : backlog + 1;
	s->listening = true;
	s->peer_pid = p->pid;           /* what a connecting socket's SO_PEERCRED says */
	wake_all();                     /* a connect waiting for room */
	return 0;
}

static unsigned queued(int listener)
{
	unsigned n = 0;

	for (unsigned i = 0; i < UNIX_PENDING_MAX; i++)
		n += pending[i].listener == listener;
	return n;
}

long unix_find(struct process *p, const char *name, long n)
{
	struct vfs_lookup l;
	long err, li;

	if (!name[0])
		return (li = abstract_owner(name, (size_t)n)) < 0 ? -LINUX_ECONNREFUSED : li;
	if ((err = vfs_resolve(p->cwd, name, VFS_FOLLOW, p, &l)) < 0)
		return err;
	const struct vfs_node *node = &vfs_nodes[l.node];
	if (node->type != VFS_SOCKET_NAME || !node->socket)
		return -LINUX_ECONNREFUSED;
	return node->socket - 1;
}

long unix_connect(struct process *p, struct file *f, struct psock *s, uint64_t va, uint64_t len)
{
	char name[UNIX_PATH_MAX];
	long n, err;
	int li;

	if (s->type == LINUX_SOCK_DGRAM)
		return unix_dgram_connect(p, s, va, len);
	if ((n = unix_name_in(p, va, len, name)) < 0)
		return n;
	if (n == 0)
		return -LINUX_EINVAL;
	/* Linux's unix_stream_connect's order: the listener found, its
	 * state and queue, then this socket's state. */
	if ((li = (int)unix_find(p, name, n)) < 0)
		return li;
	struct psock *l = &socks[li];
	if (l->type != s->type)
		return -LINUX_EPROTOTYPE;
	if (!l->listening)
		return -LINUX_ECONNREFUSED;
	unsigned slot = UNIX_PENDING_MAX, mine = 0;
	for (unsigned i = 0; i < UNIX_PENDING_MAX; i++)
		if (pending[i].listener < 0 && slot == UNIX_PENDING_MAX)
			slot = i;
		else if (pending[i].listener >= 0 && pending[i].account == share_account)
			mine++;
	/* The account's share used waits (or EAGAIN) as a full backlog does. */
	if (queued(li) >= (unsigned)l->backlog || share_check(mine, slot, UNIX_PENDING_MAX) < 0)
		return socket_nonblocking(f, 0) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	if (s->connected)
		return -LINUX_EISCONN;
	if (s->listening)
		return -LINUX_EINVAL;
	struct unix_pending *e = &pending[slot];
	if (s->type == LINUX_SOCK_SEQPACKET) {
		/* The socket accept gives is made now, connected to this
		 * one (what is sent before the accept waits in its queue);
		 * the entry holds its open file description. */
		long file = socket_make_file(LINUX_SOCK_SEQPACKET, LINUX_AF_UNIX, 0, -1, 0);
		if (file < 0)
			return file;
		struct psock *made = socket_of(&files[file]);
		unix_dgram_join(s, made);
		made->bound = made->embryo = true;
		memcpy(made->name, l->name, l->name_len);
		made->name_len = l->name_len;
		memcpy(made->peer, s->name, s->name_len);
		made->peer_len = s->name_len;
		made->peer_pid = p->pid;
		*e = (struct unix_pending){ li, (int)file, -1, p->pid, share_account, pending_seq++,
					    s->name_len, { 0 } };
		memcpy(e->name, s->name, s->name_len);
		memcpy(s->peer, l->name, l->name_len);
		s->peer_len = l->name_len;
		s->peer_pid = l->peer_pid;
		l->edges[0]++;
		wake_all();
		return 0;
	}
	long a[2], b[2];
	if ((err = pipe_pairs(a, b)) < 0)
		return err;
	/* This socket reads a and writes b; the one accept makes, the other way. */
	*e = (struct unix_pending){ li, (int)b[0], (int)a[1], p->pid, share_account, pending_seq++,
				    s->name_len, { 0 } };
	memcpy(e->name, s->name, s->name_len);
	s->rx = (int)a[0];
	s->tx = (int)b[1];
	s->connected = true;
	memcpy(s->peer, l->name, l->name_len);
	s->peer_len = l->name_len;
	s->peer_pid = l->peer_pid;
	l->edges[0]++;                  /* news for the listener's readers */
	wake_all();                     /* the accepting process */
	return 0;
}

long unix_accept(struct process *p, struct file *f, struct psock *s, uint64_t addr,
		 uint64_t lenva, uint64_t flags)
{
	int li = (int)(s - socks), first = -1;
	long fd, err;

	if (!s->listening)
		return -LINUX_EINVAL;
	for (int i = 0; i < UNIX_PENDING_MAX; i++)
		if (pending[i].listener == li && (first < 0 || pending[i].seq < pending[first].seq))
			first = i;
	if (first < 0)
		return socket_nonblocking(f, 0) ? -LINUX_EAGAIN
						: socket_timed(p, &s->rcvtimeo, SYSCALL_BLOCK);
	socket_timed(p, &s->rcvtimeo, 0);
	struct unix_pending *e = &pending[first];
	if (s->type == LINUX_SOCK_SEQPACKET) {  /* made by the connect: a descriptor now */
		if ((fd = fd_install(p, e->rx, 0, flags & LINUX_SOCK_CLOEXEC)) < 0)
			return fd;
		if (flags & LINUX_SOCK_NONBLOCK)
			files[e->rx].flags |= LINUX_O_NONBLOCK;
		struct psock *n = socket_of(&files[e->rx]);
		n->embryo = false;
		e->listener = -1;
		wake_all();
		if ((err = unix_name_out(p, n, true, addr, lenva)) < 0) {
			fd_close(p, (uint64_t)fd);
			return err;
		}
		return fd;
	}
	if ((fd = socket_make(p, LINUX_SOCK_STREAM, LINUX_AF_UNIX, 0, -1, flags)) < 0)
		return fd;
	struct psock *n = socket_of(fd_file(p, (uint64_t)fd));
	n->rx = e->rx;
	n->tx = e->tx;
	n->connected = n->bound = true;
	memcpy(n->name, s->name, s->name_len);
	n->name_len = s->name_len;
	memcpy(n->peer, e->name, e->name_len);
	n->peer_len = e->name_len;
	n->peer_pid = e->pid;
	e->listener = -1;
	wake_all();                     /* a connect waiting for room */
	if ((err = unix_name_out(p, n, true, addr, lenva)) < 0) {
		fd_close(p, (uint64_t)fd);
		return err;
	}
	return fd;
}
