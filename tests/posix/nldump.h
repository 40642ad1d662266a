/*
 * NETLINK_ROUTE for the programs of tests/posix (netif.c, netstate.c):
 * the host's <linux/netlink.h>, <linux/rtnetlink.h> and
 * <linux/neighbour.h> (musl's builds find them after musl's own headers:
 * the Makefile's -idirafter), a request sent, an attribute found, the
 * messages of a dump walked to its NLMSG_DONE (netlink(7), rtnetlink(7)).
 * Static inline; included after check.h.
 */
#ifndef MICA_TESTS_POSIX_NLDUMP_H
#define MICA_TESTS_POSIX_NLDUMP_H

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

/* Send one request to the kernel (nl_pid 0): a header of type, flags and
 * seq, then n bytes of body (at most 240). send's result. */
static inline int nl_send(int s, unsigned short type, unsigned short flags, unsigned seq,
			  const void *body, unsigned n)
{
	unsigned char req[256] __attribute__((aligned(8)));
	struct nlmsghdr h = { (unsigned)sizeof(h) + n, type, flags, seq, 0 };
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	memset(req, 0, sizeof(req));
	memcpy(req, &h, sizeof(h));
	if (n)
		memcpy(req + sizeof(h), body, n);
	return (int)sendto(s, req, NLMSG_ALIGN(h.nlmsg_len), 0, (struct sockaddr *)&to, sizeof(to));
}

/* The attribute of type want among those from at to end: its value and
 * length (*len), or NULL. */
static inline const unsigned char *nl_attr(const unsigned char *at, const unsigned char *end,
					   unsigned short want, unsigned *len)
{
	while (at + 4 <= end) {
		unsigned short l, t;
		memcpy(&l, at, 2);
		memcpy(&t, at + 2, 2);
		if (l < 4 || at + l > end)
			break;
		if ((t & NLA_TYPE_MASK) == want) {
			*len = l - 4u;
			return at + 4;
		}
		at += NLA_ALIGN(l);
	}
	return NULL;
}

/* Each message of a dump: its header and its body from body to end. */
typedef void nl_each_fn(const struct nlmsghdr *h, const unsigned char *body,
			const unsigned char *end, void *ctx);

/* Read datagrams into buf (size bytes) and hand each message before
 * NLMSG_DONE to each: how many there were, or -1 when a datagram did
 * not come within 5 s, was cut or malformed, or a thousand came
 * without the NLMSG_DONE (which is not handed on: *done, if not NULL,
 * takes its header). */
static inline int nl_walk(int s, unsigned char *buf, size_t size, nl_each_fn *each, void *ctx,
			  struct nlmsghdr *done)
{
	int count = 0;

	for (int datagrams = 0; datagrams < 1000; datagrams++) {
		struct pollfd pfd = { s, POLLIN, 0 };
		if (poll(&pfd, 1, 5000) != 1)
			return -1;
		ssize_t n = recv(s, buf, size, 0);
		if (n <= 0)
			return -1;
		for (size_t off = 0; off + sizeof(struct nlmsghdr) <= (size_t)n;) {
			struct nlmsghdr h;
			memcpy(&h, buf + off, sizeof(h));
			if (h.nlmsg_len < sizeof(h) || off + h.nlmsg_len > (size_t)n)
				return -1;
			if (h.nlmsg_type == NLMSG_DONE) {
				if (done)
					*done = h;
				return count;
			}
			each(&h, buf + off + sizeof(h), buf + off + h.nlmsg_len, ctx);
			count++;
			off += NLMSG_ALIGN(h.nlmsg_len);
		}
	}
	return -1;
}

#endif
