/*
 * Sockets: the table of the sockets the server's processes have, and
 * readiness on them (socket.h, docs/posix.md "Sockets"). Sending and
 * receiving are socket_io.c; the link to the netstack is socket_net.c.
 *
 * A socket lives as long as its open file description (fork shares it),
 * not as long as the process that made it. When the netstack goes,
 * every socket is dead (socket_all_dead): the next call says ECONNRESET
 * (once), then writes are EPIPE and reads the end of the stream.
 */
#include "file.h"
#include "socket.h"
#include "syscall.h"
#include "vfs.h"

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
	long file = socket_make_file(type, family, session, id, flags), fd;

	if (file < 0)
		return file;
	if ((fd = fd_install(p, (int)file, 0, flags & LINUX_SOCK_CLOEXEC)) < 0)
		file_put((int)file);
	return fd;
}

long socket_make_file(int type, uint16_t family, int session, int id, uint64_t flags)
{
	unsigned i = SOCKET_MAX, mine = 0, mine_net = 0;
	long node = -1, file = -LINUX_ENFILE, err;
	bool net = family == LINUX_AF_INET || family == LINUX_AF_INET6;

	for (unsigned k = 0; k < SOCKET_MAX; k++)
		if (!socks[k].used) {
			i = i < SOCKET_MAX ? i : k;
		} else if (socks[k].account == share_account) {
			mine++;
			mine_net += socket_netstack(&socks[k]);
		}
	long room = net && mine_net >= SOCKET_NET_SHARE ? -LINUX_EMFILE
							 : share_check(mine, i, SOCKET_MAX);
	if (room < 0 && id < 0)
		return room;
	if (room < 0)
		i = SOCKET_MAX;
	struct psock *s = &socks[i < SOCKET_MAX ? i : 0], spare;
	if (i == SOCKET_MAX)
		s = &spare;     /* only to close the accepted socket below */
	*s = (struct psock){ .type = (uint8_t)type, .family = family, .id = id,
			     .rcvbuf = type == LINUX_SOCK_STREAM ? 131072 : SOCK_RCVBUF_DEFAULT,
			     .sndbuf = type == LINUX_SOCK_STREAM ? 262144 : 212992,
			     .ttl = 64, .session = (uint8_t)session, .rx = -1, .tx = -1,
			     .name_node = -1, .account = share_account };
	/* The netstack's session may be full where we count room: the
	 * connections our listeners in it have not accepted yet are its
	 * sockets too (the netstack's SOCK_EMFILE); then the next. */
	for (unsigned full = 0; net && id < 0; full |= 1u << session) {
		if ((session = (int)socket_session_take(full)) < 0)
			return session;
		uint64_t w[1] = { type == LINUX_SOCK_STREAM ? SOCK_STREAM : SOCK_DGRAM }, out[1];
		s->session = (uint8_t)session;
		if ((err = socket_call(s, SOCK_OPEN, w, 1, out, 1)) >= 0)
			id = s->id = (int)out[0];
		else if (err != -LINUX_EMFILE)
			return err;
	}
	if (i < SOCKET_MAX && (node = vfs_detached(LINUX_S_IFSOCK | 0777, FS_PIPE)) >= 0)
		file = file_open((int)node, LINUX_O_RDWR);
	if (file < 0) {
		if (node >= 0)
			vfs_closed((int)node);
		uint64_t w[1] = { (uint64_t)s->id };
		if (net)
			socket_call(s, SOCK_CLOSE, w, 1, NULL, 0);
		return room < 0 ? room : file;
	}
	s->used = true;
	if (net)
		socket_session_count(session, 1);
	else if (family == LINUX_AF_NETLINK)
		netlink_made(s);
	else if (type != LINUX_SOCK_STREAM)
		unix_dgram_made(s);
	vfs_nodes[node].socket = (int)i;
	files[file].flags = LINUX_O_RDWR | (flags & LINUX_SOCK_NONBLOCK ? LINUX_O_NONBLOCK : 0);
	return file;
}

void socket_closed(const struct file *f)
{
	if (!f)
		return;
	struct psock *s = socket_of(f);
	uint64_t w[1] = { (uint64_t)s->id };

	if (netlink(s)) {
		netlink_closed(s);
	} else if (s->family == LINUX_AF_UNIX) {
		if (unix_dgram(s))
			unix_dgram_closed(s);
		unix_closed(s);
	} else if (!s->dead) {
		if (socket_linger(s))
			return;         /* still listening, for a moment */
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
	if (e || s->dead || !socket_netstack(s))
		return e;
	/* The netstack keeps a connection's error, and a connected UDP
	 * socket's ICMP error, until a call reports it: an empty SEND takes
	 * it when the socket polls an error (POLLERR is that error alone, so
	 * a UDP socket's empty SEND never goes out as a datagram). */
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

/* ---- readiness ---- */

/* Every netstack socket of s's session: its SOCK_POLL bits kept, from one
 * SOCK_POLL_ALL (after a notification every socket's are stale, and a
 * select on several would otherwise ask about each). 0 or -errno. */
static long poll_session(struct psock *s)
{
	uint64_t out[SOCK_POLL_ALL_WORDS];
	long r = socket_call(s, SOCK_POLL_ALL, NULL, 0, out, SOCK_POLL_ALL_WORDS);

	if (r < 0)
		return r;
	for (unsigned i = 0; i < SOCKET_MAX; i++) {
		struct psock *o = &socks[i];
		if (!o->used || o->dead || !socket_netstack(o) || o->session != s->session ||
		    o->id < 0 || o->id >= SOCK_MAX_SOCKETS)
			continue;
		unsigned b = (unsigned)(out[o->id / 16] >> SOCK_POLL_ALL_SHIFT(o->id)) & 0xF;
		socket_poll_known(o, (b & SOCK_POLL_ALL_IN ? SOCK_POLLIN : 0) |
				     (b & SOCK_POLL_ALL_OUT ? SOCK_POLLOUT : 0) |
				     (b & SOCK_POLL_ALL_ERR ? SOCK_POLLERR : 0) |
				     (b & SOCK_POLL_ALL_HUP ? SOCK_POLLHUP : 0));
	}
	return 0;
}

void socket_every_edge(const struct file *f)
{
	struct psock *s = socket_of(f);

	if (!s || s->every_edge || s->dead || !socket_netstack(s) || s->id < 0)
		return;
	uint64_t w[3] = { (uint64_t)s->id, SOCK_OPT_EVERY_EDGE, 1 };
	if (socket_call(s, SOCK_SETOPT, w, 3, NULL, 0) == 0)
		s->every_edge = true;
}

void socket_poll_known(struct psock *s, unsigned bits)
{
	s->poll_bits = bits;
	s->poll_valid = true;
	if (bits & SOCK_POLLOUT)
		s->tx_room_known = false;       /* room again: stage in full */
}

unsigned socket_poll(const struct file *f)
{
	struct psock *s = socket_of(f);
	uint64_t out[1];
	unsigned bits = 0;

	if (netlink(s))
		return netlink_poll(s);
	if (unix_dgram(s) && !s->listening)
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
	if (!s->poll_valid && poll_session(s) < 0 && s->dead)
		return socket_poll(f);          /* dead now */
	out[0] = s->poll_valid ? s->poll_bits : 0;
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
	if (netlink(s))
		return netlink_fionread(s);
	if (unix_dgram(s))
		return unix_dgram_next(s);
	if (s->family == LINUX_AF_UNIX)
		return s->rx >= 0 ? (long)pipe_bytes(&files[s->rx]) : 0;
	long r = stash_fill(s, (unsigned)(s - socks));
	return r < 0 ? 0 : r;   /* nothing yet, not connected, gone: 0, as Linux */
}

void socket_all_dead(void)
{
	socket_batch_drop();
	for (unsigned i = 0; i < SOCKET_MAX; i++) {
		struct psock *s = &socks[i];
		if (s->used && !s->dead && socket_netstack(s)) {
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

	if (netlink(s)) {
		netlink_edges(s, edges);
		return;
	}
	if (unix_dgram(s) && !s->listening) {
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
