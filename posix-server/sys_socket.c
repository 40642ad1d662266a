/*
 * The socket system calls (socket.h; docs/posix.md "Sockets"): socket,
 * bind, listen, accept, accept4, connect, shutdown, getsockname,
 * getpeername (sendto, recvfrom, sendmsg and recvmsg are in
 * sys_socket_msg.c, socketpair in socket_unix.c, the options in
 * sys_sockopt.c). Addresses (socket_addr.c) are struct sockaddr_in, or
 * sockaddr_in6 holding the unspecified address or an IPv4-mapped one
 * (::ffff:a.b.c.d): an AF_INET6 socket is an IPv4 socket that speaks
 * IPv6's addresses, as a dual-stack Linux socket on a host without IPv6
 * addresses.
 */
#include "clock.h"
#include "file.h"
#include "socket.h"
#include "syscall.h"

#define LISTEN_MAX   16         /* the netstack's accept queue */
#define NETSTACK_WAIT (10UL * 1000000000)  /* ns socket waits for a netstack */

long posix_socket(struct process *p, struct user_regs *r)
{
	uint64_t domain = r->rdi, type = r->rsi & LINUX_SOCK_TYPE_MASK, proto = r->rdx;
	uint64_t flags = r->rsi & ~(uint64_t)LINUX_SOCK_TYPE_MASK;

	if (domain != LINUX_AF_INET && domain != LINUX_AF_INET6 && domain != LINUX_AF_UNIX &&
	    domain != LINUX_AF_NETLINK)
		return -LINUX_EAFNOSUPPORT;
	if (flags & ~(uint64_t)(LINUX_SOCK_NONBLOCK | LINUX_SOCK_CLOEXEC) || type > 10)
		return -LINUX_EINVAL;
	if (domain == LINUX_AF_NETLINK) {
		/* netlink(7): SOCK_RAW or SOCK_DGRAM; only NETLINK_ROUTE here. */
		if (type != LINUX_SOCK_RAW && type != LINUX_SOCK_DGRAM)
			return -LINUX_ESOCKTNOSUPPORT;
		if (proto != LINUX_NETLINK_ROUTE)
			return -LINUX_EPROTONOSUPPORT;
		return socket_make(p, (int)type, LINUX_AF_NETLINK, 0, -1, flags);
	}
	if (domain == LINUX_AF_UNIX) {
		if (proto && proto != LINUX_AF_UNIX)
			return -LINUX_EPROTONOSUPPORT;
		if (type != LINUX_SOCK_STREAM && type != LINUX_SOCK_DGRAM &&
		    type != LINUX_SOCK_SEQPACKET)
			return -LINUX_ESOCKTNOSUPPORT;
		return socket_make(p, (int)type, LINUX_AF_UNIX, 0, -1, flags);
	}
	if (type == LINUX_SOCK_STREAM && proto && proto != LINUX_IPPROTO_TCP)
		return -LINUX_EPROTONOSUPPORT;
	if (type == LINUX_SOCK_DGRAM && proto && proto != LINUX_IPPROTO_UDP)
		return -LINUX_EPROTONOSUPPORT;
	if (type != LINUX_SOCK_STREAM && type != LINUX_SOCK_DGRAM)
		return -LINUX_ESOCKTNOSUPPORT;
	long fd = socket_make(p, (int)type, (uint16_t)domain, 0, -1, flags);
	/* No netstack now (it is starting, or starting again after a
	 * crash): wait for its name, up to NETSTACK_WAIT, before ENETDOWN;
	 * a server such as iperf3 would otherwise exit at once. */
	uint64_t now = (uint64_t)sys_clock();
	if (fd != -LINUX_ENETDOWN || (p->current->sleep_at && p->current->sleep_at <= now)) {
		p->current->sleep_at = 0;
		return fd;
	}
	if (!p->current->sleep_at) {
		p->current->sleep_at = now + NETSTACK_WAIT;
		p->current->sleep_rem = 0;
		signal_timer_arm();
	}
	return SYSCALL_BLOCK;
}

long posix_bind(struct process *p, struct user_regs *r)
{
	struct sock_addr a;
	bool unspec;
	long err;
	struct psock *s = socket_fd(p, r->rdi, NULL, &err);
	uint64_t out[1];

	if (!s)
		return err;
	if (netlink(s))
		return netlink_bind(p, s, r->rsi, r->rdx);
	if (s->family == LINUX_AF_UNIX)
		return unix_bind(p, s, r->rsi, r->rdx);
	if ((err = socket_addr_in(p, s, r->rsi, r->rdx, &a, &unspec)) < 0)
		return err;
	if (unspec && s->family == LINUX_AF_INET && !a.addr)
		unspec = false;         /* Linux takes AF_UNSPEC with INADDR_ANY */
	if (unspec)
		return -LINUX_EAFNOSUPPORT;
	if (s->bound || s->listening || s->connected || s->connecting)
		return -LINUX_EINVAL;
	uint64_t w[3] = { (uint64_t)s->id, a.addr, a.port };
	if ((err = socket_call(s, SOCK_BIND, w, 3, out, 1)) < 0)
		return err;
	s->bound = true;
	return 0;
}

long posix_listen(struct process *p, struct user_regs *r)
{
	long err;
	struct psock *s = socket_fd(p, r->rdi, NULL, &err);
	int backlog = (int)r->rsi;

	if (!s)
		return err;
	if ((s->type != LINUX_SOCK_STREAM && s->type != LINUX_SOCK_SEQPACKET) || netlink(s))
		return -LINUX_EOPNOTSUPP;
	if (s->family == LINUX_AF_UNIX)
		return unix_listen(p, s, backlog);
	if (s->connected || s->connecting)
		return -LINUX_EINVAL;
	/* Linux lets backlog + 1 connections wait (sk_acceptq_is_full is
	 * "more than sk_max_ack_backlog"), a negative backlog is somaxconn's;
	 * the netstack's queue holds LISTEN_MAX. */
	uint64_t w[2] = { (uint64_t)s->id, backlog < 0 || backlog >= LISTEN_MAX - 1 ? LISTEN_MAX
									      : (uint64_t)backlog + 1 };
	if (!s->listening && socket_linger_adopt(s, (int)w[1])) {
		s->listening = s->bound = true;
		return 0;       /* the listener its account just closed, taken over */
	}
	/* One not taken over (another session's: ids are per session) would
	 * hold the port: EADDRINUSE, and the linger kept going. */
	if (!s->listening)
		socket_linger_end(s->account, 0);
	if ((err = socket_call(s, SOCK_LISTEN, w, 2, NULL, 0)) < 0)
		return err;
	if (!s->listening)
		s->backlog = (int)w[1];         /* the netstack keeps its first */
	s->listening = s->bound = true;
	return 0;
}

static long accept_common(struct process *p, struct user_regs *r, uint64_t flags)
{
	struct file *f;
	long err, fd;
	struct psock *s = socket_fd(p, r->rdi, &f, &err);
	uint64_t out[3];

	if (!s)
		return err;
	if (flags & ~(uint64_t)(LINUX_SOCK_NONBLOCK | LINUX_SOCK_CLOEXEC))
		return -LINUX_EINVAL;
	if (netlink(s))
		return -LINUX_EOPNOTSUPP;
	if (unix_dgram(s) && !s->listening)     /* a datagram's, a seqpacket not listening */
		return s->type == LINUX_SOCK_SEQPACKET ? -LINUX_EINVAL : -LINUX_EOPNOTSUPP;
	if (s->family == LINUX_AF_UNIX)
		return unix_accept(p, f, s, r->rsi, r->rdx, flags);
	if (!s->listening)
		return -LINUX_EINVAL;
	uint64_t w[2] = { (uint64_t)s->id, SOCK_NONBLOCK };
	err = socket_call(s, SOCK_ACCEPT, w, 2, out, 3);
	if (s->dead)
		return -LINUX_ECONNABORTED;     /* the netstack went: listen again */
	if (err == -LINUX_EAGAIN)
		return f->flags & LINUX_O_NONBLOCK ? -LINUX_EAGAIN
						   : socket_timed(p, &s->rcvtimeo, SYSCALL_BLOCK);
	socket_timed(p, &s->rcvtimeo, 0);      /* its deadline, if any, is done */
	if (err < 0)
		return err;
	if ((fd = socket_make(p, LINUX_SOCK_STREAM, s->family, s->session, (int)out[0], flags)) < 0)
		return fd;
	struct psock *n = socket_of(fd_file(p, (uint64_t)fd));
	n->connected = n->bound = true;
	struct sock_addr peer = { (uint32_t)out[1], (uint16_t)out[2] };
	if ((err = socket_addr_out(p, n, r->rsi, r->rdx, &peer)) < 0) {
		fd_close(p, (uint64_t)fd);
		return err;
	}
	return fd;
}

long posix_accept(struct process *p, struct user_regs *r)
{
	return accept_common(p, r, 0);
}

long posix_accept4(struct process *p, struct user_regs *r)
{
	return accept_common(p, r, r->r10);
}

/* A blocking connect's later tries: done, failed, or waiting still. */
static long connect_wait(struct file *f, struct psock *s)
{
	socket_poll(f);         /* notes the connect's end */
	if (s->connecting && !s->dead)
		return SYSCALL_BLOCK;
	s->connect_waiter = 0;
	if (s->connected)
		return 0;
	int e = socket_take_error(s);
	return e ? -e : -LINUX_ECONNREFUSED;
}

long posix_connect(struct process *p, struct user_regs *r)
{
	struct file *f;
	struct sock_addr a;
	bool unspec;
	long err;
	struct psock *s = socket_fd(p, r->rdi, &f, &err);

	if (!s)
		return err;
	if (netlink(s))
		return netlink_connect(p, s, r->rsi, r->rdx);
	if (s->family == LINUX_AF_UNIX)
		return unix_connect(p, f, s, r->rsi, r->rdx);
	if (s->type == LINUX_SOCK_STREAM && s->connect_waiter == p->pid)
		return connect_wait(f, s);
	if ((err = socket_addr_in(p, s, r->rsi, r->rdx, &a, &unspec)) < 0)
		return err == -LINUX_EADDRNOTAVAIL ? -LINUX_ENETUNREACH : err;
	if (s->type == LINUX_SOCK_DGRAM && unspec) {
		s->connected = false;   /* the netstack keeps the peer's filter */
		return 0;
	}
	if (unspec)
		return -LINUX_EAFNOSUPPORT;
	if (s->dead)
		return -LINUX_ENETUNREACH;
	uint64_t w[4] = { (uint64_t)s->id, a.addr, a.port, SOCK_NONBLOCK };
	if (s->type == LINUX_SOCK_DGRAM) {
		if ((err = socket_call(s, SOCK_CONNECT, w, 4, NULL, 0)) < 0)
			return err;
		s->connected = s->bound = true;
		return 0;
	}
	if (s->connected || s->listening)
		return -LINUX_EISCONN;
	if (s->connecting)
		return -LINUX_EALREADY;
	if (!a.port)
		return -LINUX_ECONNREFUSED;
	err = socket_call(s, SOCK_CONNECT, w, 4, NULL, 0);
	if (err == 0) {
		s->connected = s->bound = true;
		return 0;
	}
	if (err != -LINUX_EINPROGRESS)
		return err;
	s->connecting = s->bound = true;
	if (f->flags & LINUX_O_NONBLOCK)
		return -LINUX_EINPROGRESS;
	s->connect_waiter = p->pid;
	return SYSCALL_BLOCK;
}

long posix_shutdown(struct process *p, struct user_regs *r)
{
	long err;
	struct psock *s = socket_fd(p, r->rdi, NULL, &err);
	uint64_t how = r->rsi;

	if (!s)
		return err;
	if (netlink(s))
		return -LINUX_EOPNOTSUPP;      /* Linux's sock_no_shutdown */
	if (how > LINUX_SHUT_RDWR)
		return -LINUX_EINVAL;
	if (!s->connected && !s->connecting && !s->dead && !unix_dgram(s))
		return -LINUX_ENOTCONN;
	if (unix_dgram(s)) {
		unix_dgram_shutdown(s, how);
		return 0;
	}
	if (s->family == LINUX_AF_UNIX) {
		unix_shutdown(s, how);
		return 0;
	}
	/* Only the sending side reaches the netstack: lwIP answers data
	 * arriving after its receive side is shut with a reset, Linux does
	 * not (the reading side is the server's: reads give the end). */
	if (how != LINUX_SHUT_RD && s->type == LINUX_SOCK_STREAM && !s->shut_wr && !s->dead) {
		uint64_t w[2] = { (uint64_t)s->id, SOCK_SHUT_WR };
		if ((err = socket_call(s, SOCK_SHUTDOWN, w, 2, NULL, 0)) < 0)
			return err;
	}
	s->shut_rd |= how != LINUX_SHUT_WR;
	s->shut_wr |= how != LINUX_SHUT_RD;
	return 0;
}

static long name_common(struct process *p, struct user_regs *r, bool peer)
{
	long err;
	struct psock *s = socket_fd(p, r->rdi, NULL, &err);
	struct sock_addr a = { 0, 0 };
	uint64_t out[2];

	if (!s)
		return err;
	if (netlink(s))
		return netlink_name(p, s, peer, r->rsi, r->rdx);
	if (peer && !s->connected)
		return -LINUX_ENOTCONN;
	if (s->family == LINUX_AF_UNIX)
		return unix_name_out(p, s, peer, r->rsi, r->rdx);
	if (!s->dead) {
		uint64_t w[2] = { (uint64_t)s->id, peer };
		if ((err = socket_call(s, SOCK_NAME, w, 2, out, 2)) < 0 && peer)
			return err;
		if (err == 0)
			a = (struct sock_addr){ (uint32_t)out[0], (uint16_t)out[1] };
	}
	return socket_addr_out(p, s, r->rsi, r->rdx, &a);
}

long posix_getsockname(struct process *p, struct user_regs *r)
{
	return name_common(p, r, false);
}

long posix_getpeername(struct process *p, struct user_regs *r)
{
	return name_common(p, r, true);
}
