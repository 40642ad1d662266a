/*
 * The socket calls that move data with an address or a message header
 * (socket.h; docs/posix.md "Sockets"): sendto, recvfrom, sendmsg,
 * recvmsg (man 2 send, man 2 recv). The rest are in sys_socket.c.
 */
#include "file.h"
#include "socket.h"
#include "syscall.h"

long posix_sendto(struct process *p, struct user_regs *r)
{
	struct file *f;
	long err;
	struct psock *s = socket_fd(p, r->rdi, &f, &err);
	struct linux_iovec v = { r->rsi, r->rdx };
	struct uio u = { &v, 0, 1, NULL };
	struct sock_addr to;
	bool unspec;

	if (!s)
		return err;
	if (netlink(s))
		return netlink_send(p, s, &u, r->r10, r->r8, r->r9);
	if (unix_dgram(s))
		return socket_timed(p, &s->sndtimeo, unix_dgram_send(p, f, s, &u, r->r10, r->r8, r->r9));
	if (r->r8 && s->type == LINUX_SOCK_DGRAM) {
		if ((err = socket_addr_in(p, s, r->r8, r->r9, &to, &unspec)) < 0)
			return err;
		if (unspec)
			return -LINUX_EAFNOSUPPORT;
	}
	return socket_send(p, f, &u, r->r10, r->r8 && s->type == LINUX_SOCK_DGRAM ? &to : NULL);
}

long posix_recvfrom(struct process *p, struct user_regs *r)
{
	struct file *f;
	long err, n;
	struct psock *s = socket_fd(p, r->rdi, &f, &err);
	struct linux_iovec v = { r->rsi, r->rdx };
	struct uio u = { &v, 0, 1, NULL };
	struct sock_addr from = { 0, 0 };
	bool truncated;
	uint64_t whole, flags = r->r10;
	uint32_t none = 0;

	if (!s)
		return err;
	if (netlink(s))
		return socket_timed(p, &s->rcvtimeo, netlink_recv(p, f, s, &u, flags, r->r8, r->r9, 0));
	if (unix_dgram(s))
		return unix_dgram_recv_named(p, f, s, &u, flags, r->r8, r->r9, 0);
	n = socket_recv(p, f, &u, flags, &from, &truncated, &whole);
	if (n < 0)
		return n;
	if (r->r8 && s->type == LINUX_SOCK_DGRAM && (err = socket_addr_out(p, s, r->r8, r->r9, &from)) < 0)
		return err;
	if (r->r8 && s->type == LINUX_SOCK_STREAM && as_copy_out(&p->as, r->r9, &none, 4) < 0)
		return -LINUX_EFAULT;
	return truncated && (flags & LINUX_MSG_TRUNC) ? (long)whole : n;
}

/* The msghdr at va and its vector checked: 0, -EFAULT, -EMSGSIZE. */
static long msg_in(struct process *p, uint64_t va, struct linux_msghdr *m, struct uio *u)
{
	if (as_copy_in(&p->as, m, va, sizeof(*m)) < 0)
		return -LINUX_EFAULT;
	if (m->iovlen > LINUX_IOV_MAX)
		return -LINUX_EMSGSIZE;
	*u = (struct uio){ NULL, m->iov, m->iovlen, NULL };
	long total = uio_total(p, u);
	return total < 0 ? total : 0;
}

long posix_sendmsg(struct process *p, struct user_regs *r)
{
	struct file *f;
	long err;
	struct psock *s = socket_fd(p, r->rdi, &f, &err);
	struct linux_msghdr m;
	struct uio u;
	struct sock_addr to;
	bool unspec, named;

	if (!s)
		return err;
	if ((err = msg_in(p, r->rsi, &m, &u)) < 0)
		return err;
	if (netlink(s))
		return netlink_send(p, s, &u, r->rdx, m.name, m.namelen);
	if (unix_dgram(s))
		return socket_timed(p, &s->sndtimeo,
				    unix_dgram_send(p, f, s, &u, r->rdx, m.name, m.namelen));
	named = m.name && s->type == LINUX_SOCK_DGRAM;
	if (named && (err = socket_addr_in(p, s, m.name, m.namelen, &to, &unspec)) < 0)
		return err;
	if (named && unspec)
		return -LINUX_EAFNOSUPPORT;
	return socket_send(p, f, &u, r->rdx, named ? &to : NULL);
}

long posix_recvmsg(struct process *p, struct user_regs *r)
{
	struct file *f;
	long err, n;
	struct psock *s = socket_fd(p, r->rdi, &f, &err);
	struct linux_msghdr m;
	struct uio u;
	struct sock_addr from = { 0, 0 };
	bool truncated;
	uint64_t whole, flags = r->rdx;

	if (!s)
		return err;
	if ((err = msg_in(p, r->rsi, &m, &u)) < 0)
		return err;
	if (netlink(s))
		return socket_timed(p, &s->rcvtimeo,
				    netlink_recv(p, f, s, &u, flags, m.name,
						 r->rsi + __builtin_offsetof(struct linux_msghdr, namelen),
						 r->rsi));
	if (unix_dgram(s))
		return unix_dgram_recv_named(p, f, s, &u, flags, m.name,
					     r->rsi + __builtin_offsetof(struct linux_msghdr, namelen),
					     r->rsi);
	n = socket_recv(p, f, &u, flags, &from, &truncated, &whole);
	if (n < 0)
		return n;
	uint64_t lenva = r->rsi + __builtin_offsetof(struct linux_msghdr, namelen);
	if (m.name && s->type == LINUX_SOCK_DGRAM) {
		if ((err = socket_addr_out(p, s, m.name, lenva, &from)) < 0)
			return err;
	} else {
		m.namelen = 0;
		if (as_copy_out(&p->as, lenva, &m.namelen, sizeof(m.namelen)) < 0)
			return -LINUX_EFAULT;
	}
	struct { uint64_t controllen; int32_t flags; } tail = { 0, truncated ? LINUX_MSG_TRUNC : 0 };
	if (as_copy_out(&p->as, r->rsi + __builtin_offsetof(struct linux_msghdr, controllen),
			&tail.controllen, 8) < 0 ||
	    as_copy_out(&p->as, r->rsi + __builtin_offsetof(struct linux_msghdr, flags),
			&tail.flags, 4) < 0)
		return -LINUX_EFAULT;
	return truncated && (flags & LINUX_MSG_TRUNC) ? (long)whole : n;
}
