/*
 * Socket addresses (socket.h; docs/posix.md "Sockets"): struct
 * sockaddr_in, or sockaddr_in6 holding the unspecified address or an
 * IPv4-mapped one (::ffff:a.b.c.d), to and from the server's IPv4
 * endpoint; the socket behind a descriptor.
 */
#include "file.h"
#include "socket.h"

#define SOCKADDR_MAX 128        /* sizeof(struct sockaddr_storage) */
#define SIN6_LEN_MIN 24         /* sockaddr_in6 without scope_id (RFC 2133) */

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

struct psock *socket_fd(struct process *p, uint64_t fd, struct file **fp, long *err)
{
	struct file *f = fd_file(p, fd);
	struct psock *s = f ? socket_of(f) : NULL;

	*err = !f ? -LINUX_EBADF : -LINUX_ENOTSOCK;
	if (fp)
		*fp = f;
	return s;
}

long socket_addr_in(struct process *p, const struct psock *s, uint64_t va, uint64_t len,
		     struct sock_addr *a, bool *unspec)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
	static const uint8_t any[16];
	union {
		uint16_t family;
		struct linux_sockaddr_in in;
		struct linux_sockaddr_in6 in6;
	} u = { 0 };

	*unspec = false;
	if ((uint32_t)len > SOCKADDR_MAX || (uint32_t)len < sizeof(u.family))
		return -LINUX_EINVAL;
	if (as_copy_in(&p->as, &u, va, len < sizeof(u) ? len : sizeof(u)) < 0)
		return -LINUX_EFAULT;
	if (u.family == LINUX_AF_UNSPEC) {
		*unspec = true;
		return 0;
	}
	if (s->family == LINUX_AF_INET) {
		if (len < sizeof(u.in))
			return -LINUX_EINVAL;
		if (u.family != LINUX_AF_INET)
			return -LINUX_EAFNOSUPPORT;
		*a = (struct sock_addr){ u.in.addr, swap16(u.in.port) };
		return 0;
	}
	if (len < SIN6_LEN_MIN)
		return -LINUX_EINVAL;
	if (u.family != LINUX_AF_INET6)
		return -LINUX_EAFNOSUPPORT;
	a->port = swap16(u.in6.port);
	if (!memcmp(u.in6.addr, any, 16))
		a->addr = 0;
	else if (!memcmp(u.in6.addr, mapped, 12) && !s->v6only)
		memcpy(&a->addr, u.in6.addr + 12, 4);
	else
		return -LINUX_EADDRNOTAVAIL;
	return 0;
}

long socket_addr_out(struct process *p, const struct psock *s, uint64_t va, uint64_t lenva,
		      const struct sock_addr *a)
{
	union {
		struct linux_sockaddr_in in;
		struct linux_sockaddr_in6 in6;
	} u;
	uint32_t size;
	int32_t room;

	if (!va)
		return 0;
	memset(&u, 0, sizeof(u));
	if (s->family == LINUX_AF_UNIX) {
		u.in.family = LINUX_AF_UNIX;    /* unnamed: the family alone */
		size = sizeof(u.in.family);
	} else if (s->family == LINUX_AF_INET) {
		u.in = (struct linux_sockaddr_in){ LINUX_AF_INET, swap16(a->port), a->addr, { 0 } };
		size = sizeof(u.in);
	} else {
		u.in6.family = LINUX_AF_INET6;
		u.in6.port = swap16(a->port);
		if (a->addr) {
			u.in6.addr[10] = u.in6.addr[11] = 0xFF;
			memcpy(u.in6.addr + 12, &a->addr, 4);
		}
		size = sizeof(u.in6);
	}
	if (as_copy_in(&p->as, &room, lenva, sizeof(room)) < 0)
		return -LINUX_EFAULT;
	if (room < 0)
		return -LINUX_EINVAL;
	if (as_copy_out(&p->as, va, &u, (uint32_t)room < size ? (uint32_t)room : size) < 0 ||
	    as_copy_out(&p->as, lenva, &size, sizeof(size)) < 0)
		return -LINUX_EFAULT;
	return 0;
}
