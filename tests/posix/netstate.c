/*
 * What a program learns of the network's state, differential: `netstate
 * PEER` (PEER: the test's peer in its namespace,
 * tests/system/test_posix_net.py; nothing listens on its UDP port 7779).
 * ICMP errors given to UDP sockets as Linux's udp(7) says: a datagram
 * from a connected socket to a port where nobody listens draws a port
 * unreachable, which the socket's next receive or send reports once as
 * ECONNREFUSED (and poll as POLLERR until then); an unconnected socket
 * is told nothing; getsockopt(SO_ERROR) takes the error as a call would.
 * The ports a connect or a send gives UDP and TCP sockets that had none
 * are not one after another (RFC 6056: a peer cannot foretell them and forge
 * such errors). /proc/net/dev lists lo first, its packets counted
 * (each both ways). NETLINK_ROUTE's RTM_GETNEIGH dump: well formed, and
 * a neighbour with a MAC on the network of the interface that holds
 * the peer's. A second dump asked while one is being read is EBUSY, and
 * the first ends after it; a receive with MSG_PEEK goes on with a dump
 * as any receive does.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EAGAIN) X(ECONNREFUSED) X(EBUSY) X(EINVAL)
#include "check.h"

#include "nldump.h"

#define NOBODY_PORT 7779
#define BUF 65536

static struct in_addr peer;
static unsigned char buf[BUF] __attribute__((aligned(8)));

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

/* revents of one poll for POLLIN on s (timeout ms), as names. */
static const char *polled(int s, int timeout)
{
	static char out[64];
	struct pollfd p = { s, POLLIN, 0 };
	int r = poll(&p, 1, timeout);

	snprintf(out, sizeof(out), "%d%s%s%s", r, p.revents & POLLIN ? " POLLIN" : "",
		 p.revents & POLLERR ? " POLLERR" : "", p.revents & POLLHUP ? " POLLHUP" : "");
	return out;
}

/* ---- ICMP errors to UDP sockets ---- */

/* Before each datagram that draws a port unreachable: the peer's Linux
 * sends one a second to a host after a burst of 6 (icmp(7)
 * icmp_ratelimit; three runs of this program and the tests before it
 * come from the same address), so one is due again after this. */
static void icmp_token(void)
{
	usleep(1100000);
}

static void udp_errors(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(NOBODY_PORT),
				  .sin_addr = peer };
	char got[8];

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	report("connect UDP to the peer's port 7779", connect(u, (struct sockaddr *)&to, sizeof(to)));
	icmp_token();
	report("send", send(u, "x", 1, 0));
	printf("poll: %s\n", polled(u, 3000));
	report("recv", recv(u, got, sizeof(got), MSG_DONTWAIT));
	report("recv again", recv(u, got, sizeof(got), MSG_DONTWAIT));
	printf("poll after: %s\n", polled(u, 0));
	icmp_token();
	report("send again", send(u, "y", 1, 0));
	printf("poll: %s\n", polled(u, 3000));
	report("send with the error there", send(u, "z", 1, 0));
	report("recv after", recv(u, got, sizeof(got), MSG_DONTWAIT));
	close(u);

	/* Unconnected: sendto draws the same message, which nobody gets. */
	int v = socket(AF_INET, SOCK_DGRAM, 0);
	icmp_token();
	report("sendto the port, unconnected", sendto(v, "x", 1, 0, (struct sockaddr *)&to,
						       sizeof(to)));
	printf("poll: %s\n", polled(v, 1000));
	report("recv", recv(v, got, sizeof(got), MSG_DONTWAIT));
	close(v);

	/* Over lo: the netstack's own port unreachable, the same way. */
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons(NOBODY_PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int w = socket(AF_INET, SOCK_DGRAM, 0);
	report("connect UDP to 127.0.0.1:7779", connect(w, (struct sockaddr *)&lo, sizeof(lo)));
	icmp_token();
	report("send", send(w, "x", 1, 0));
	printf("poll: %s\n", polled(w, 3000));
	report("recv", recv(w, got, sizeof(got), MSG_DONTWAIT));
	close(w);

	/* getsockopt(SO_ERROR) takes the error as a call would: poll stops
	 * saying POLLERR and the next receive has nothing to report. */
	int x = socket(AF_INET, SOCK_DGRAM, 0);
	int e = -1;
	socklen_t len = sizeof(e);
	report("connect UDP to 127.0.0.1:7779 again", connect(x, (struct sockaddr *)&lo, sizeof(lo)));
	icmp_token();
	report("send", send(x, "x", 1, 0));
	printf("poll: %s\n", polled(x, 3000));
	report("getsockopt SO_ERROR", getsockopt(x, SOL_SOCKET, SO_ERROR, &e, &len));
	printf("SO_ERROR: %s\n", e == ECONNREFUSED ? "ECONNREFUSED" : e == 0 ? "0" : "another");
	printf("poll after: %s\n", polled(x, 0));
	report("recv", recv(x, got, sizeof(got), MSG_DONTWAIT));
	close(x);
}

/* Eight UDP sockets given ports by connect, eight by sendto, eight TCP
 * sockets by connect: how many ports follow the one before (random
 * choices: hardly ever one). */
static void ephemeral_ports(void)
{
	/* To a socket of ours (no port unreachable drawn). */
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t to_len = sizeof(to);
	int r = socket(AF_INET, SOCK_DGRAM, 0), s[16];
	unsigned port[16], next = 0;

	if (bind(r, (struct sockaddr *)&to, sizeof(to)) ||
	    getsockname(r, (struct sockaddr *)&to, &to_len)) {
		printf("udp ports: receiver: %s\n", strerror(errno));
		return;
	}
	for (int i = 0; i < 16; i++) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);

		s[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (i < 8 ? connect(s[i], (struct sockaddr *)&to, sizeof(to))
			  : sendto(s[i], "", 0, 0, (struct sockaddr *)&to, sizeof(to)) != 0) {
			printf("udp ports: socket %d: %s\n", i, strerror(errno));
			return;
		}
		getsockname(s[i], (struct sockaddr *)&a, &len);
		port[i] = ntohs(a.sin_port);
		next += i % 8 && port[i] == port[i - 1] + 1;
	}
	printf("udp ports following the one before: %s\n", next <= 1 ? "at most one" : "several");
	for (int i = 0; i < 16; i++)
		close(s[i]);
	close(r);

	/* TCP: eight connects to a listener of ours. */
	int l = socket(AF_INET, SOCK_STREAM, 0);
	to.sin_port = 0;
	to_len = sizeof(to);
	if (bind(l, (struct sockaddr *)&to, sizeof(to)) || listen(l, 8) ||
	    getsockname(l, (struct sockaddr *)&to, &to_len)) {
		printf("tcp ports: listener: %s\n", strerror(errno));
		return;
	}
	next = 0;
	for (int i = 0; i < 8; i++) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);

		s[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s[i], (struct sockaddr *)&to, sizeof(to))) {
			printf("tcp ports: socket %d: %s\n", i, strerror(errno));
			return;
		}
		getsockname(s[i], (struct sockaddr *)&a, &len);
		port[i] = ntohs(a.sin_port);
		next += i && port[i] == port[i - 1] + 1;
	}
	printf("tcp ports following the one before: %s\n", next <= 1 ? "at most one" : "several");
	for (int i = 0; i < 8; i++)
		close(s[i]);
	close(l);
}

/* ---- lo in /proc/net/dev ---- */

static void proc_net_dev(void)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512], first[32] = "";
	unsigned long v[16];
	bool counted = false;

	for (int i = 0; f && fgets(line, sizeof(line), f); i++) {
		char name[32];
		if (i < 2 || sscanf(line, " %31[^:]: %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu "
					  "%lu %lu %lu %lu", name, &v[0], &v[1], &v[2], &v[3], &v[4],
				    &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12],
				    &v[13], &v[14], &v[15]) != 17)
			continue;
		if (!first[0])
			snprintf(first, sizeof(first), "%s", name);
		if (!strcmp(name, "lo"))
			counted = v[1] > 0 && v[1] == v[9] && v[0] == v[8] && v[0] > v[1] * 20;
	}
	if (f)
		fclose(f);
	printf("/proc/net/dev: first interface %s; lo's packets counted, as many each way, "
	       "bytes with headers: %s\n", first, yes(counted));
}

/* ---- netlink ---- */

static int send_dump(int s, unsigned short type, unsigned seq, unsigned char family)
{
	unsigned char body[12] = { family };

	return nl_send(s, type, NLM_F_REQUEST | NLM_F_DUMP, seq, body, sizeof(body));
}

/* An address dump's message: the interface whose network holds the
 * peer's address (ctx: its index). */
static void each_addr(const struct nlmsghdr *h, const unsigned char *body,
		      const unsigned char *end, void *ctx)
{
	struct ifaddrmsg ia;
	unsigned len;
	struct in_addr a;

	memcpy(&ia, body, sizeof(ia));
	const unsigned char *local = nl_attr(body + sizeof(ia), end, IFA_LOCAL, &len);
	if (h->nlmsg_type != RTM_NEWADDR || !local || len != 4 || !ia.ifa_prefixlen ||
	    ia.ifa_prefixlen >= 32)
		return;
	memcpy(&a, local, 4);
	uint32_t mask = htonl(~0U << (32 - ia.ifa_prefixlen));
	if (((a.s_addr ^ peer.s_addr) & mask) == 0)
		*(int *)ctx = (int)ia.ifa_index;
}

/* The interface index holding the peer's network (from an address
 * dump), or 0. */
static int peer_ifindex(int s)
{
	int index = 0;

	send_dump(s, RTM_GETADDR, 1, AF_INET);
	nl_walk(s, buf, sizeof(buf), each_addr, &index, NULL);
	return index;
}

struct neigh_seen {
	int index;              /* the peer's interface */
	bool formed, found;
	int count;
};

static void each_neigh(const struct nlmsghdr *h, const unsigned char *body,
		       const unsigned char *end, void *ctx)
{
	struct neigh_seen *n = ctx;
	struct ndmsg nd;
	unsigned len, maclen = 0;

	memcpy(&nd, body, sizeof(nd));
	const unsigned char *a = body + NLMSG_ALIGN(sizeof(nd));
	const unsigned char *dst = nl_attr(a, end, NDA_DST, &len);
	const unsigned char *mac = nl_attr(a, end, NDA_LLADDR, &maclen);
	n->formed &= h->nlmsg_seq == 2 && (h->nlmsg_flags & NLM_F_MULTI) &&
		     h->nlmsg_type == RTM_NEWNEIGH && nd.ndm_family == AF_INET && dst && len == 4 &&
		     nd.ndm_ifindex > 0;
	n->count++;
	if (dst && len == 4 && nd.ndm_ifindex == n->index && mac && maclen == 6 &&
	    !(nd.ndm_state & (NUD_INCOMPLETE | NUD_FAILED)))
		n->found = true;
}

static void neighbours(int s, int index)
{
	struct neigh_seen n = { index, true, false, 0 };
	struct nlmsghdr done = { 0 };

	send_dump(s, RTM_GETNEIGH, 2, AF_INET);
	bool ended = nl_walk(s, buf, sizeof(buf), each_neigh, &n, &done) >= 0;
	n.formed &= done.nlmsg_seq == 2 && (done.nlmsg_flags & NLM_F_MULTI);
	printf("RTM_GETNEIGH dump: ended: %s, IPv4 neighbours with an address and an interface: "
	       "%s, one with a MAC on the peer's network: %s\n", yes(ended),
	       yes(n.formed && n.count > 0), yes(n.found));
}

/* Each datagram's first message, until the NLMSG_DONE of seq last (or
 * none for 2 s): into line (size bytes). */
static void datagrams(int s, unsigned last, char *line, size_t size)
{
	size_t at = 0;

	line[0] = 0;
	for (int d = 0; d < 20; d++) {
		struct pollfd p = { s, POLLIN, 0 };
		if (poll(&p, 1, 2000) != 1)
			break;
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		struct nlmsghdr h;
		if (n < (ssize_t)sizeof(h))
			break;
		memcpy(&h, buf, sizeof(h));
		int err = 0;
		if (h.nlmsg_type == NLMSG_ERROR)
			memcpy(&err, buf + sizeof(h), 4);
		at += (size_t)snprintf(line + at, size - at, "%s%s seq %u", at ? ", " : "",
				       h.nlmsg_type == NLMSG_DONE ? "done" : h.nlmsg_type == NLMSG_ERROR ?
				       (err == -EBUSY ? "error EBUSY" : "error") :
				       h.nlmsg_type == RTM_NEWADDR ? "addresses" :
				       h.nlmsg_type == RTM_NEWROUTE ? "routes" : "other", h.nlmsg_seq);
		if ((h.nlmsg_type == NLMSG_DONE && h.nlmsg_seq == last) || at >= size - 40)
			break;
	}
}

static void busy(int s)
{
	char line[256];

	send_dump(s, RTM_GETADDR, 10, AF_INET);
	send_dump(s, RTM_GETROUTE, 11, AF_INET);
	datagrams(s, 10, line, sizeof(line));
	printf("a route dump asked while an address dump is read: %s\n", line);
	/* Read now, a dump is answered again. */
	send_dump(s, RTM_GETROUTE, 12, AF_INET);
	ssize_t n = recv(s, buf, sizeof(buf), 0);
	struct nlmsghdr h = { 0 };
	if (n >= (ssize_t)sizeof(h))
		memcpy(&h, buf, sizeof(h));
	printf("after its end, a route dump: %s\n", h.nlmsg_type == RTM_NEWROUTE ? "routes" : "other");
	while (poll(&(struct pollfd){ s, POLLIN, 0 }, 1, 300) == 1 && recv(s, buf, sizeof(buf), 0) > 0)
		;
}

/* A receive with MSG_PEEK goes on with a dump as any receive does
 * (Linux's netlink_recvmsg): the address dump's first datagram peeked,
 * its NLMSG_DONE is made, the dump is over, and a route dump asked then
 * is answered, not EBUSY. */
static void peeked(int s)
{
	char line[256];
	struct nlmsghdr h = { 0 };

	send_dump(s, RTM_GETADDR, 20, AF_INET);
	ssize_t n = poll(&(struct pollfd){ s, POLLIN, 0 }, 1, 2000) == 1 ?
		    recv(s, buf, sizeof(buf), MSG_PEEK) : -1;
	if (n >= (ssize_t)sizeof(h))
		memcpy(&h, buf, sizeof(h));
	printf("an address dump's first datagram peeked: %s\n",
	       h.nlmsg_type == RTM_NEWADDR ? "addresses" : "other");
	send_dump(s, RTM_GETROUTE, 21, AF_INET);
	datagrams(s, 21, line, sizeof(line));
	printf("a route dump asked after the peek: %s\n", line);
}

static void netlink(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct timeval tv = { 3, 0 };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int index = peer_ifindex(s);
	printf("an interface holds the peer's network: %s\n", yes(index > 0));
	neighbours(s, index);
	busy(s);
	peeked(s);
	close(s);
}

int main(int argc, char **argv)
{
	if (argc < 2 || inet_pton(AF_INET, argv[1], &peer) != 1) {
		fprintf(stderr, "usage: netstate PEER\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	udp_errors();
	ephemeral_ports();
	proc_net_dev();
	netlink();
	printf("netstate: done\n");
	return 0;
}
