/*
 * setsockopt and getsockopt (docs/posix.md "Sockets"). TCP_NODELAY,
 * SO_KEEPALIVE and a UDP socket's SO_RCVBUF reach the netstack; the
 * other options a program sets are
 * kept and read back as Linux would (the buffer sizes doubled, as Linux
 * does) but change nothing in the netstack, whose windows are fixed;
 * SO_RCVTIMEO and SO_SNDTIMEO bound the calls that wait (socket_timed).
 * What is not here is ENOPROTOOPT, as from a kernel without it.
 */
#include "file.h"
#include "socket.h"
#include "syscall.h"

#define BUF_MIN      4608       /* Linux's least SO_RCVBUF (twice SOCK_MIN_RCVBUF) */
#define BUF_MAX      (8 << 20)
#define MSS_DEFAULT  536        /* TCP_MAXSEG before a connection (as Linux) */
#define MSS_ETHERNET 1460
#define CONGESTION   "reno"     /* lwIP's: slow start, congestion avoidance, fast recovery */

/* The int option value at va (len bytes). 0, -EINVAL, -EFAULT. */
static long int_in(struct process *p, uint64_t va, uint64_t len, int *v)
{
	if ((uint32_t)len < sizeof(int))
		return -LINUX_EINVAL;
	return as_copy_in(&p->as, v, va, sizeof(*v)) < 0 ? -LINUX_EFAULT : 0;
}

/* value (size bytes) to the option buffer at va, its length at lenva:
 * at most the room given, as Linux. */
static long opt_out(struct process *p, uint64_t va, uint64_t lenva, const void *value,
		    uint32_t size)
{
	int32_t room;

	if (as_copy_in(&p->as, &room, lenva, sizeof(room)) < 0)
		return -LINUX_EFAULT;
	if (room < 0)
		return -LINUX_EINVAL;
	if ((uint32_t)room < size)
		size = (uint32_t)room;
	if (as_copy_out(&p->as, va, value, size) < 0 ||
	    as_copy_out(&p->as, lenva, &size, sizeof(size)) < 0)
		return -LINUX_EFAULT;
	return 0;
}

/* An option of one int kept in s: where, or NULL. */
static int *int_option(struct psock *s, uint64_t level, uint64_t name)
{
	bool tcp = s->type == LINUX_SOCK_STREAM && socket_netstack(s);

	switch (level) {
	case LINUX_SOL_SOCKET:
		switch (name) {
		case LINUX_SO_REUSEADDR: return &s->reuseaddr;
		case LINUX_SO_REUSEPORT: return &s->reuseport;
		case LINUX_SO_KEEPALIVE: return &s->keepalive;
		case LINUX_SO_BROADCAST: return &s->broadcast;
		case LINUX_SO_SNDBUF: return &s->sndbuf;
		case LINUX_SO_RCVBUF: return &s->rcvbuf;
		}
		return NULL;
	case LINUX_IPPROTO_TCP:
		if (!tcp)
			return NULL;
		switch (name) {
		case LINUX_TCP_NODELAY: return &s->nodelay;
		case LINUX_TCP_MAXSEG: return &s->maxseg;
		case LINUX_TCP_KEEPIDLE: return &s->keepidle;
		case LINUX_TCP_KEEPINTVL: return &s->keepintvl;
		case LINUX_TCP_KEEPCNT: return &s->keepcnt;
		}
		return NULL;
	case LINUX_IPPROTO_IP:
		if (!socket_netstack(s))
			return NULL;
		switch (name) {
		case LINUX_IP_TOS: return &s->tos;
		case LINUX_IP_TTL: return &s->ttl;
		}
		return NULL;
	case LINUX_IPPROTO_IPV6:
		if (s->family != LINUX_AF_INET6)
			return NULL;
		switch (name) {
		case LINUX_IPV6_V6ONLY: return &s->v6only;
		case LINUX_IPV6_TCLASS: return &s->tclass;
		}
		return NULL;
	}
	return NULL;
}

long posix_setsockopt(struct process *p, struct user_regs *r)
{
	long err;
	struct file *f = fd_file(p, r->rdi);
	struct psock *s = f ? socket_of(f) : NULL;
	uint64_t level = r->rsi, name = r->rdx, va = r->r10, len = r->r8;
	int v;

	if (!s)
		return f ? -LINUX_ENOTSOCK : -LINUX_EBADF;
	if (s->family == LINUX_AF_UNIX && level != LINUX_SOL_SOCKET)
		return -LINUX_EOPNOTSUPP;       /* as Linux: no protocol level */
	if (netlink(s) && level != LINUX_SOL_SOCKET)
		return netlink_setsockopt(p, level, name, va, len);
	if (level == LINUX_SOL_SOCKET && (name == LINUX_SO_RCVTIMEO || name == LINUX_SO_SNDTIMEO)) {
		struct linux_timeval tv;
		if ((uint32_t)len < sizeof(tv))
			return -LINUX_EINVAL;
		if (as_copy_in(&p->as, &tv, va, sizeof(tv)) < 0)
			return -LINUX_EFAULT;
		/* As Linux's sock_set_timeout (socket(7)): microseconds out
		 * of range are EDOM; a negative time means not waiting at all. */
		if (tv.usec < 0 || tv.usec >= 1000000)
			return -LINUX_EDOM;
		if (tv.sec < 0)
			tv = (struct linux_timeval){ .sec = SOCKET_TIMEO_NOWAIT, .usec = 0 };
		*(name == LINUX_SO_RCVTIMEO ? &s->rcvtimeo : &s->sndtimeo) = tv;
		return 0;
	}
	if (level == LINUX_SOL_SOCKET && name == LINUX_SO_LINGER) {
		if ((uint32_t)len < sizeof(s->linger))
			return -LINUX_EINVAL;
		return as_copy_in(&p->as, &s->linger, va, sizeof(s->linger)) < 0 ? -LINUX_EFAULT : 0;
	}
	if (level == LINUX_IPPROTO_TCP && name == LINUX_TCP_CONGESTION && s->type == LINUX_SOCK_STREAM &&
	    socket_netstack(s)) {
		char want[16] = { 0 };
		if (as_copy_in(&p->as, want, va, len < sizeof(want) - 1 ? len : sizeof(want) - 1) < 0)
			return -LINUX_EFAULT;
		return strcmp(want, CONGESTION) ? -LINUX_ENOENT : 0;
	}
	int *slot = int_option(s, level, name);
	if (!slot)
		return -LINUX_ENOPROTOOPT;
	if ((err = int_in(p, va, len, &v)) < 0)
		return err;
	if (level == LINUX_SOL_SOCKET && (name == LINUX_SO_SNDBUF || name == LINUX_SO_RCVBUF)) {
		/* Linux doubles what it is given (room for its bookkeeping). */
		int64_t twice = (int64_t)v * 2;
		v = (int)(twice < BUF_MIN ? BUF_MIN : twice > BUF_MAX ? BUF_MAX : twice);
	}
	if (level == LINUX_SOL_SOCKET && name == LINUX_SO_RCVBUF && s->type == LINUX_SOCK_DGRAM &&
	    socket_netstack(s)) {
		/* A UDP socket's queue in the netstack is bounded by it, up
		 * to Linux's default net.core.rmem_max (twice). */
		if (v > SOCK_RCVBUF_MAX)
			v = SOCK_RCVBUF_MAX;
		uint64_t w[3] = { (uint64_t)s->id, SOCK_OPT_RCVBUF, (uint64_t)v };
		if (!s->dead && (err = socket_call(s, SOCK_SETOPT, w, 3, NULL, 0)) < 0)
			return err;
	}
	if (level == LINUX_IPPROTO_TCP && name == LINUX_TCP_MAXSEG && v && (v < 88 || v > 32767))
		return -LINUX_EINVAL;
	if (level == LINUX_IPPROTO_TCP &&
	    (name == LINUX_TCP_KEEPIDLE || name == LINUX_TCP_KEEPINTVL || name == LINUX_TCP_KEEPCNT) &&
	    (v < 1 || v > 32767))
		return -LINUX_EINVAL;
	if (level == LINUX_IPPROTO_IPV6 && name == LINUX_IPV6_V6ONLY && s->bound)
		return -LINUX_EINVAL;
	bool to_net = (level == LINUX_IPPROTO_TCP && name == LINUX_TCP_NODELAY) ||
		      (level == LINUX_SOL_SOCKET && name == LINUX_SO_KEEPALIVE &&
		       s->type == LINUX_SOCK_STREAM);
	if (to_net && !s->listening && !s->dead && socket_netstack(s)) {
		uint64_t w[3] = { (uint64_t)s->id,
				  name == LINUX_TCP_NODELAY && level == LINUX_IPPROTO_TCP
					  ? SOCK_OPT_NODELAY : SOCK_OPT_KEEPALIVE, v != 0 };
		if ((err = socket_call(s, SOCK_SETOPT, w, 3, NULL, 0)) < 0 && err != -LINUX_ENOPROTOOPT)
			return err;
	}
	bool flag = (level == LINUX_SOL_SOCKET && name != LINUX_SO_SNDBUF && name != LINUX_SO_RCVBUF) ||
		    (level == LINUX_IPPROTO_TCP && name == LINUX_TCP_NODELAY) ||
		    (level == LINUX_IPPROTO_IPV6 && name == LINUX_IPV6_V6ONLY);
	*slot = flag ? v != 0 : v;
	return 0;
}

/* TCP_INFO: what is known here (the state, the segment sizes); the
 * netstack does not report its timers and windows yet, so they are 0. */
static void tcp_info_of(const struct psock *s, struct linux_tcp_info *t)
{
	memset(t, 0, sizeof(*t));
	t->state = s->listening ? LINUX_TCP_LISTEN : s->connected ? LINUX_TCP_ESTABLISHED
								  : LINUX_TCP_CLOSE;
	t->snd_mss = t->rcv_mss = t->advmss = s->connected ? MSS_ETHERNET : MSS_DEFAULT;
	t->pmtu = 1500;
}

long posix_getsockopt(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);
	struct psock *s = f ? socket_of(f) : NULL;
	uint64_t level = r->rsi, name = r->rdx, va = r->r10, lenva = r->r8;
	int v;

	if (!s)
		return f ? -LINUX_ENOTSOCK : -LINUX_EBADF;
	if (s->family == LINUX_AF_UNIX && level != LINUX_SOL_SOCKET)
		return -LINUX_EOPNOTSUPP;
	if (netlink(s) && level != LINUX_SOL_SOCKET)
		return netlink_getsockopt(p, level, name, va, lenva);
	if (level == LINUX_SOL_SOCKET) {
		switch (name) {
		case LINUX_SO_TYPE: v = s->type; return opt_out(p, va, lenva, &v, sizeof(v));
		case LINUX_SO_DOMAIN: v = s->family; return opt_out(p, va, lenva, &v, sizeof(v));
		case LINUX_SO_PROTOCOL:
			v = !socket_netstack(s) ? 0 : s->type == LINUX_SOCK_STREAM ? LINUX_IPPROTO_TCP
											  : LINUX_IPPROTO_UDP;
			return opt_out(p, va, lenva, &v, sizeof(v));
		case LINUX_SO_PEERCRED: {
			/* struct ucred: the peer's pid, uid and gid (everybody is
			 * root); a socket without a peer: pid 0 and the overflow ids. */
			int32_t cred[3] = { s->peer_pid, s->peer_pid ? 0 : 65534, s->peer_pid ? 0 : 65534 };
			if (s->family != LINUX_AF_UNIX || (!s->connected && !s->listening))
				cred[0] = 0, cred[1] = cred[2] = 65534;
			return opt_out(p, va, lenva, cred, sizeof(cred));
		}
		case LINUX_SO_ACCEPTCONN: v = s->listening; return opt_out(p, va, lenva, &v, sizeof(v));
		case LINUX_SO_ERROR: v = socket_take_error(s); return opt_out(p, va, lenva, &v, sizeof(v));
		case LINUX_SO_RCVTIMEO: case LINUX_SO_SNDTIMEO: {
			struct linux_timeval tv = name == LINUX_SO_RCVTIMEO ? s->rcvtimeo : s->sndtimeo;
			if (tv.sec == SOCKET_TIMEO_NOWAIT)
				tv.sec = 0;     /* Linux's 0 jiffies reads back as 0 */
			return opt_out(p, va, lenva, &tv, sizeof(tv));
		}
		case LINUX_SO_LINGER: return opt_out(p, va, lenva, &s->linger, sizeof(s->linger));
		}
	}
	if (level == LINUX_IPPROTO_TCP && s->type == LINUX_SOCK_STREAM && socket_netstack(s)) {
		struct linux_tcp_info t;
		switch (name) {
		case LINUX_TCP_INFO:
			tcp_info_of(s, &t);
			return opt_out(p, va, lenva, &t, sizeof(t));
		case LINUX_TCP_CONGESTION:
			return opt_out(p, va, lenva, CONGESTION "\0\0\0\0\0\0\0\0\0\0\0", 16);
		case LINUX_TCP_MAXSEG:
			v = s->maxseg ? s->maxseg : s->connected ? MSS_ETHERNET : MSS_DEFAULT;
			return opt_out(p, va, lenva, &v, sizeof(v));
		case LINUX_TCP_KEEPIDLE: case LINUX_TCP_KEEPINTVL: case LINUX_TCP_KEEPCNT: {
			int *slot = int_option(s, level, name);
			/* Linux's defaults: 7200 s idle, 75 s between, 9 probes. */
			v = *slot ? *slot : name == LINUX_TCP_KEEPIDLE ? 7200 : name == LINUX_TCP_KEEPINTVL ? 75 : 9;
			return opt_out(p, va, lenva, &v, sizeof(v));
		}
		}
	}
	int *slot = int_option(s, level, name);
	if (!slot)
		return -LINUX_ENOPROTOOPT;
	v = *slot;
	return opt_out(p, va, lenva, &v, sizeof(v));
}
