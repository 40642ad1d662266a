/*
 * Sockets: the table of the sockets the server's processes have, and
 * sending, receiving and readiness on them (socket.h, docs/posix.md
 * "Sockets"). The link to the netstack is socket_net.c.
 *
 * A socket lives as long as its open file description (fork shares it),
 * not as long as the process that made it. When the netstack goes,
 * every socket is dead (socket_all_dead): the next call says ECONNRESET
 * (once), then writes are EPIPE and reads the end of the stream.
 */
#include "socket.h"
#include "syscall.h"

#define UDP_MAX      65507      /* the largest IPv4 datagram's data */
#define SEND_STAGE_MIN 16384    /* staged for a stream whose send buffer was full */

struct psock socks[SOCKET_MAX];
static uint32_t net_edges;      /* the netstack's notifications that sockets changed */

void socket_wake_all(void)
{
	threads_wake_all();
}

struct psock *socket_of(const struct file *f)
{
	const struct vfs_node *n = &vfs_nodes[f->node];

	return n->type == VFS_SOCKET ? &socks[n->socket] : NULL;   /* never a name's node */
}

long socket_make(struct process *p, int type, uint16_t family, int session, int id,
		 uint64_t flags)
{
	unsigned i;
	long node = -1, file = -1, fd, err;

	for (i = 0; i < SOCKET_MAX && socks[i].used; i++)
		;
	if (i == SOCKET_MAX && id < 0)
		return -LINUX_ENFILE;
	struct psock *s = &socks[i < SOCKET_MAX ? i : 0], spare;
	if (i == SOCKET_MAX)
		s = &spare;     /* only to close the accepted socket below */
	bool net = family != LINUX_AF_UNIX;
	*s = (struct psock){ .type = (uint8_t)type, .family = family, .id = id,
			     .rcvbuf = type == LINUX_SOCK_STREAM ? 131072 : 262144,
			     .sndbuf = type == LINUX_SOCK_STREAM ? 262144 : 212992,
			     .ttl = 64, .session = (uint8_t)session, .rx = -1, .tx = -1,
			     .name_node = -1 };
	if (net && id < 0) {
		if ((session = (int)socket_session_take()) < 0)
			return session;
		uint64_t w[1] = { type == LINUX_SOCK_STREAM ? SOCK_STREAM : SOCK_DGRAM }, out[1];
		s->session = (uint8_t)session;
		if ((err = socket_call(s, SOCK_OPEN, w, 1, out, 1)) < 0)
			return err == -LINUX_EMFILE ? -LINUX_ENFILE : err;
		s->id = (int)out[0];
	}
	if (i < SOCKET_MAX && (node = vfs_detached(LINUX_S_IFSOCK | 0777, FS_PIPE)) >= 0)
		file = file_open((int)node, LINUX_O_RDWR);
	if (file < 0) {
		if (node >= 0)
			vfs_closed((int)node);
		uint64_t w[1] = { (uint64_t)s->id };
		if (net)
			socket_call(s, SOCK_CLOSE, w, 1, NULL, 0);
		return -LINUX_ENFILE;
	}
	s->used = true;
	if (net)
		socket_session_count(session, 1);
	else if (type != LINUX_SOCK_STREAM)
		unix_dgram_made(s);
	vfs_nodes[node].socket = (int)i;
	files[file].flags = LINUX_O_RDWR | (flags & LINUX_SOCK_NONBLOCK ? LINUX_O_NONBLOCK : 0);
	if ((fd = fd_install(p, (int)file, 0, flags & LINUX_SOCK_CLOEXEC)) < 0)
		file_put((int)file);
	return fd;
}

void socket_closed(const struct file *f)
{
	if (!f)
		return;
	struct psock *s = socket_of(f);
	uint64_t w[1] = { (uint64_t)s->id };

	if (s->family == LINUX_AF_UNIX) {
		if (unix_dgram(s))
			unix_dgram_closed(s);
		unix_closed(s);
	} else if (!s->dead) {
		socket_call(s, SOCK_CLOSE, w, 1, NULL, 0);
		socket_session_count(s->session, -1);
	}
	s->used = false;
	socket_wake_all();
}

int socket_take_error(struct psock *s)
{
	int e = s->err;

	s->err = 0;
	if (e || s->dead || s->type != LINUX_SOCK_STREAM || s->family == LINUX_AF_UNIX)
		return e;
	/* The netstack keeps a connection's error until a call reports it:
	 * an empty SEND takes it when the socket polls an error. */
	uint64_t w[1] = { (uint64_t)s->id }, out[1], sw[6] = { (uint64_t)s->id, 0, 0,
							       SOCK_NONBLOCK, 0, 0 };
	if (socket_call(s, SOCK_POLL, w, 1, out, 1) == 0 && (out[0] & SOCK_POLLERR)) {
		long r = socket_call(s, SOCK_SEND, sw, 6, out, 1);
		if (r < 0 && r != -LINUX_EAGAIN)
			e = (int)-r;
		s->connecting = false;
	}
	return e;
}

/* ---- user buffers ---- */

static bool uio_vec(struct process *p, const struct uio *u, uint64_t i, struct linux_iovec *v)
{
	if (u->single) {
		*v = *u->single;
		return true;
	}
	return as_copy_in(&p->as, v, u->va + i * sizeof(*v), sizeof(*v)) == 0;
}

long uio_total(struct process *p, const struct uio *u)
{
	uint64_t total = 0;
	struct linux_iovec v;

	for (uint64_t i = 0; i < u->count; i++) {
		if (!uio_vec(p, u, i, &v))
			return -LINUX_EFAULT;
		if ((int64_t)v.len < 0 || total + v.len > 0x7FFFF000UL)
			return -LINUX_EINVAL;
		total += v.len;
	}
	return (long)total;
}

long uio_copy(struct process *p, const struct uio *u, uint64_t skip, uint8_t *buf,
		     uint64_t n, bool out)
{
	struct linux_iovec v;

	for (uint64_t i = 0; i < u->count && n; i++) {
		if (!uio_vec(p, u, i, &v))
			return -LINUX_EFAULT;
		if (v.len <= skip) {
			skip -= v.len;
			continue;
		}
		uint64_t k = v.len - skip < n ? v.len - skip : n;
		long r = 0;
		if (u->kernel && !out)
			memcpy(buf, u->kernel + skip, k);
		else
			r = out ? as_copy_out(&p->as, v.base + skip, buf, k)
				: as_copy_in(&p->as, buf, v.base + skip, k);
		if (r < 0)
			return -LINUX_EFAULT;
		buf += k;
		n -= k;
		skip = 0;
	}
	return 0;
}

/* ---- sending and receiving ---- */

/* A write that cannot go (EPIPE): Linux's SIGPIPE unless MSG_NOSIGNAL. */
long socket_broken(struct process *p, uint64_t flags)
{
	if (!(flags & LINUX_MSG_NOSIGNAL)) {
		if (p->actions[LINUX_SIGPIPE - 1].handler == LINUX_SIG_DFL &&
		    !(p->current->sigmask & 1UL << (LINUX_SIGPIPE - 1)))
			printf("posix: %s (pid %d): write to a socket that cannot send: SIGPIPE\n",
			       p->name, p->pid);
		signal_send_thread(p->current, LINUX_SIGPIPE, LINUX_SI_USER, p->pid, 0);
	}
	return -LINUX_EPIPE;
}

bool socket_nonblocking(const struct file *f, uint64_t flags)
{
	return (f->flags & LINUX_O_NONBLOCK) || (flags & LINUX_MSG_DONTWAIT);
}

static long send_dgram(struct process *p, struct psock *s, const struct uio *u, uint64_t total,
		       const struct sock_addr *to)
{
	uint64_t size, out[1];
	uint8_t *buf = socket_buffer(s, &size);

	if (total > UDP_MAX)
		return -LINUX_EMSGSIZE;
	if (!to && !s->connected)
		return -LINUX_EDESTADDRREQ;
	if (s->dead)
		return -LINUX_ENETDOWN;
	if (uio_copy(p, u, 0, buf, total, false) < 0)
		return -LINUX_EFAULT;
	uint64_t w[6] = { (uint64_t)s->id, 0, total, SOCK_NONBLOCK, to ? to->addr : 0,
			  to ? to->port : 0 };
	long r = socket_call(s, SOCK_SEND, w, 6, out, 1);
	if (r < 0)
		return r;
	s->bound = true;
	return (long)out[0];
}

static long send_any(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		     const struct sock_addr *to)
{
	struct psock *s = socket_of(f);
	long total = uio_total(p, u);
	uint64_t size, done = p->current->io_done;
	uint8_t *buf = socket_buffer(s, &size);

	if (total < 0)
		return total;
	if (unix_dgram(s))
		return unix_dgram_send(p, f, s, u, flags, 0, 0);
	if (s->family == LINUX_AF_UNIX)
		return unix_send(p, f, s, u, flags);
	if (s->type == LINUX_SOCK_DGRAM)
		return send_dgram(p, s, u, (uint64_t)total, to);
	if (s->err && !done)
		return -socket_take_error(s);
	if (s->shut_wr || s->dead)
		return socket_broken(p, flags);
	if (s->connecting)
		return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	if (!s->connected)
		return s->listening ? -LINUX_ENOTCONN : socket_broken(p, flags);
	/* The data is staged in the buffer once, a buffer's worth at a time,
	 * and offered from where the netstack's last take ended: what it did
	 * not take is not copied again (the buffer is this call's until it
	 * returns or waits). */
	uint64_t staged = 0, at = 0, out2[2];
	while (done < (uint64_t)total) {
		/* Full at the last SEND and no notification since (the
		 * netstack sends one when it has room again): no call. */
		if (at == staged && s->tx_room_known && !s->tx_room) {
			if (socket_nonblocking(f, flags))
				return done ? (long)done : -LINUX_EAGAIN;
			p->current->io_done = done;
			return SYSCALL_BLOCK;
		}
		if (at == staged) {
			staged = (uint64_t)total - done < size ? (uint64_t)total - done : size;
			/* No more than the room the last SEND left, if known
			 * (at least SEND_STAGE_MIN: acknowledgements may have
			 * made some since). */
			if (s->tx_room_known && staged > s->tx_room)
				staged = s->tx_room > SEND_STAGE_MIN ? s->tx_room
				       : staged < SEND_STAGE_MIN ? staged : SEND_STAGE_MIN;
			at = 0;
			if (uio_copy(p, u, done, buf, staged, false) < 0)
				return done ? (long)done : -LINUX_EFAULT;
		}
		uint64_t w[6] = { (uint64_t)s->id, at, staged - at, SOCK_NONBLOCK, 0, 0 };
		long r = socket_call(s, SOCK_SEND, w, 6, out2, 2);
		/* (Never more than offered; nothing taken is waiting.) */
		uint64_t took = r < 0 ? 0 : out2[0] < staged - at ? out2[0] : staged - at;
		s->tx_room_known = r >= 0 || r == -LINUX_EAGAIN;
		s->tx_room = r >= 0 ? (uint32_t)(out2[1] < UINT32_MAX ? out2[1] : UINT32_MAX) : 0;
		if (r == -LINUX_EAGAIN || (r >= 0 && !took)) {
			if (socket_nonblocking(f, flags))
				return done ? (long)done : -LINUX_EAGAIN;
			p->current->io_done = done;
			return SYSCALL_BLOCK;
		}
		if (r < 0) {
			if (done)
				return (long)done;
			if (r == -LINUX_EPIPE || r == -LINUX_ENOTCONN)
				return socket_broken(p, flags);
			return r;
		}
		done += took;
		at += took;
	}
	return (long)done;
}

static long recv_dgram(struct process *p, struct file *f, struct psock *s, const struct uio *u,
		       uint64_t total, uint64_t flags, struct sock_addr *from, bool *truncated,
		       uint64_t *whole)
{
	uint64_t size, out[6];
	uint8_t *buf = socket_buffer(s, &size);
	uint64_t w[4] = { (uint64_t)s->id, 0, total < size ? total : size, SOCK_NONBLOCK };

	if (s->dead)
		return -LINUX_ENETDOWN;
	long r = socket_call(s, SOCK_RECV, w, 4, out, 6);
	if (r == -LINUX_EAGAIN)
		return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	if (r < 0)
		return r;
	if (uio_copy(p, u, 0, buf, out[0], true) < 0)
		return -LINUX_EFAULT;
	if (from)
		*from = (struct sock_addr){ (uint32_t)out[1], (uint16_t)out[2] };
	*truncated = out[3] > out[0];
	*whole = out[3];
	return (long)out[0];
}

static long recv_any(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		     struct sock_addr *from, bool *truncated, uint64_t *whole)
{
	struct psock *s = socket_of(f);
	long total = uio_total(p, u);
	uint64_t size, done = p->current->io_done, out[3];
	uint8_t *buf = socket_buffer(s, &size);

	*truncated = false;
	*whole = 0;
	if (total < 0)
		return total;
	if (flags & LINUX_MSG_OOB)
		return s->type == LINUX_SOCK_DGRAM ? -LINUX_EOPNOTSUPP : -LINUX_EINVAL;
	if (unix_dgram(s)) {
		char name[UNIX_PATH_MAX];
		unsigned name_len;
		return unix_dgram_recv(p, f, s, u, flags, name, &name_len, truncated, whole);
	}
	if (s->family == LINUX_AF_UNIX)
		return unix_recv(p, f, s, u, flags);
	if (!s->stashed && (flags & LINUX_MSG_PEEK) && !done && !s->err && total) {
		long r = stash_fill(s, (unsigned)(s - socks));
		if (r == -LINUX_EAGAIN && !s->dead)
			return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
		if (r < 0 && r != -LINUX_EAGAIN)
			return r == -LINUX_ECONNRESET && s->type == LINUX_SOCK_STREAM ? 0 : r;
		if (r == 0 && !s->stashed)
			return 0;       /* the end of the stream */
	}
	if (s->stashed && !done)
		return stash_take(p, s, (unsigned)(s - socks), u, (uint64_t)total,
				  flags & LINUX_MSG_PEEK, from, truncated, whole);
	if (s->type == LINUX_SOCK_DGRAM)
		return recv_dgram(p, f, s, u, (uint64_t)total, flags, from, truncated, whole);
	if (s->err && !done)
		return -socket_take_error(s);
	if (s->dead || s->shut_rd)
		return (long)done;
	if (s->connecting)
		return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	if (!s->connected)
		return -LINUX_ENOTCONN;
	if (!total)
		return 0;
	while (done < (uint64_t)total) {
		uint64_t chunk = (uint64_t)total - done < size ? (uint64_t)total - done : size;
		uint64_t w[4] = { (uint64_t)s->id, 0, chunk, SOCK_NONBLOCK };
		long r = socket_call(s, SOCK_RECV, w, 4, out, 3);
		if (r == -LINUX_EAGAIN) {
			if (socket_nonblocking(f, flags) || (done && !(flags & LINUX_MSG_WAITALL)))
				return done ? (long)done : -LINUX_EAGAIN;
			p->current->io_done = done;
			return SYSCALL_BLOCK;
		}
		if (r < 0)
			return done ? (long)done : r;
		if (!out[0])
			break;                  /* the end of the stream */
		if (uio_copy(p, u, done, buf, out[0], true) < 0)
			return done ? (long)done : -LINUX_EFAULT;
		if (from)
			*from = (struct sock_addr){ (uint32_t)out[1], (uint16_t)out[2] };
		done += out[0];
		if (!(flags & LINUX_MSG_WAITALL))
			break;
	}
	return (long)done;
}

long socket_timed(struct process *p, const struct linux_timeval *limit, long r)
{
	uint64_t now = (uint64_t)sys_clock();

	if (limit->sec == SOCKET_TIMEO_NOWAIT && r == SYSCALL_BLOCK)
		return p->current->io_done ? (long)p->current->io_done : -LINUX_EAGAIN;
	if (limit->sec <= 0 && limit->usec <= 0)
		return r;
	if (r != SYSCALL_BLOCK) {
		p->current->sleep_at = 0;
		return r;
	}
	if (!p->current->sleep_at) {
		p->current->sleep_at = now + (uint64_t)limit->sec * 1000000000UL + (uint64_t)limit->usec * 1000;
		p->current->sleep_rem = 0;
		signal_timer_arm();
		return SYSCALL_BLOCK;
	}
	if (now < p->current->sleep_at)
		return SYSCALL_BLOCK;
	p->current->sleep_at = 0;
	return p->current->io_done ? (long)p->current->io_done : -LINUX_EAGAIN;
}

long socket_send(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		 const struct sock_addr *to)
{
	long r = socket_timed(p, &socket_of(f)->sndtimeo, send_any(p, f, u, flags, to));

	if (r != SYSCALL_BLOCK)
		syscall_count_bytes(p, r, 0);
	return r;
}

long socket_recv(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		 struct sock_addr *from, bool *truncated, uint64_t *whole)
{
	long r = socket_timed(p, &socket_of(f)->rcvtimeo,
			      recv_any(p, f, u, flags, from, truncated, whole));

	if (r != SYSCALL_BLOCK)
		syscall_count_bytes(p, 0, r);
	return r;
}

long socket_io(struct process *p, struct file *f, const struct uio *u, bool write)
{
	bool truncated;
	uint64_t whole;

	if (write)
		return socket_send(p, f, u, 0, NULL);
	return socket_recv(p, f, u, 0, NULL, &truncated, &whole);
}

/* ---- readiness ---- */

unsigned socket_poll(const struct file *f)
{
	struct psock *s = socket_of(f);
	uint64_t w[1] = { (uint64_t)s->id }, out[1];
	unsigned bits = 0;

	if (unix_dgram(s))
		return unix_dgram_poll(s);
	if (s->family == LINUX_AF_UNIX)
		return unix_poll(s);
	if (s->stashed)
		bits |= LINUX_POLLIN | LINUX_POLLRDNORM;
	if (s->dead)
		return bits | LINUX_POLLIN | LINUX_POLLRDNORM | LINUX_POLLOUT | LINUX_POLLWRNORM |
		       LINUX_POLLHUP | (s->err ? LINUX_POLLERR : 0);
	if (s->type == LINUX_SOCK_STREAM && !s->listening && !s->connected && !s->connecting)
		return bits | LINUX_POLLOUT | LINUX_POLLWRNORM | LINUX_POLLHUP;
	if (s->poll_valid) {
		out[0] = s->poll_bits;
	} else if (socket_call(s, SOCK_POLL, w, 1, out, 1) < 0) {
		return socket_poll(f);          /* dead now */
	} else {
		s->poll_bits = (unsigned)out[0];
		s->poll_valid = true;
		if (out[0] & SOCK_POLLOUT)
			s->tx_room_known = false;       /* room again: stage in full */
	}
	if (out[0] & SOCK_POLLIN)
		bits |= LINUX_POLLIN | LINUX_POLLRDNORM;
	if (out[0] & SOCK_POLLOUT)
		bits |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	if (out[0] & SOCK_POLLHUP)
		bits |= LINUX_POLLHUP | LINUX_POLLRDHUP;
	if (out[0] & SOCK_POLLERR)
		bits |= LINUX_POLLERR;
	if (s->err)
		bits |= LINUX_POLLERR;
	if (s->connecting && (out[0] & (SOCK_POLLOUT | SOCK_POLLERR))) {
		/* The connect ended: connected, or its error stays for SO_ERROR. */
		s->connecting = false;
		s->connected = out[0] & SOCK_POLLOUT;
	}
	if (s->shut_rd)
		bits |= LINUX_POLLIN | LINUX_POLLRDNORM | LINUX_POLLRDHUP;
	if (s->shut_wr)
		bits |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	if (s->shut_rd && s->shut_wr)
		bits |= LINUX_POLLHUP;
	return bits;
}

long socket_fionread(const struct file *f)
{
	struct psock *s = socket_of(f);

	if (s->listening)
		return -LINUX_EINVAL;
	if (unix_dgram(s))
		return unix_dgram_next(s);
	if (s->family == LINUX_AF_UNIX)
		return s->rx >= 0 ? (long)pipe_bytes(&files[s->rx]) : 0;
	long r = stash_fill(s, (unsigned)(s - socks));
	return r < 0 ? 0 : r;   /* nothing yet, not connected, gone: 0, as Linux */
}

void socket_all_dead(void)
{
	for (unsigned i = 0; i < SOCKET_MAX; i++) {
		struct psock *s = &socks[i];
		if (s->used && !s->dead && s->family != LINUX_AF_UNIX) {
			s->dead = true;
			s->err = s->type == LINUX_SOCK_STREAM && (s->connected || s->connecting)
					 ? LINUX_ECONNRESET : 0;
			s->connecting = false;
		}
	}
}

void socket_edges(const struct file *f, uint32_t edges[2])
{
	const struct psock *s = socket_of(f);
	uint32_t pipe[2];

	if (unix_dgram(s)) {
		unix_dgram_edges(s, edges);
		return;
	}
	edges[0] = s->edges[0];
	edges[1] = s->edges[1];
	if (s->family != LINUX_AF_UNIX) {
		edges[0] += net_edges;
		edges[1] += net_edges;
		return;
	}
	/* A stream: what its pipes tell their reader and writer. */
	if (s->rx >= 0) {
		pipe_edges(&files[s->rx], pipe);
		edges[0] += pipe[0];
	}
	if (s->tx >= 0) {
		pipe_edges(&files[s->tx], pipe);
		edges[1] += pipe[1];
	}
}

void socket_polls_stale(void)
{
	net_edges++;
	for (unsigned i = 0; i < SOCKET_MAX; i++) {
		socks[i].poll_valid = false;
		socks[i].tx_room_known = false;
	}
}
