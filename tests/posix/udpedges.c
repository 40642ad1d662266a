/*
 * Readiness of a UDP socket as datagrams keep coming, differential:
 * `udpedges` (tests/system/test_posix_net.py runs it with the others),
 * over 127.0.0.1. poll(2) says readable while a datagram is left,
 * however it came (before or after a partial drain, while the reader
 * holds datagrams it was told of, after a MSG_PEEK, a recvmmsg, or
 * with a full receive buffer dropping some) and wakes a waiting poll
 * for a datagram that comes once everything was read; epoll(7)'s
 * EPOLLET reports each datagram's arrival, also to a socket still
 * readable, and level-triggered epoll keeps reporting what is left.
 * Mica's netstack signals a datagram to a socket its client was told
 * is readable only when asked to (docs/netstack.md, "Socket service"),
 * and its SOCK_RECV_MANY answer tells what is left: these are the cases
 * that must not lose a wake-up.
 *
 * Datagrams over 127.0.0.1 come in the order sent, so a check that needs
 * every datagram sent so far to be there first waits for a fence (one
 * byte sent to a socket of its own, after them): on Linux they are there
 * when send returns, on Mica once the netstack passed them on.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EAGAIN)
#include "check.h"

#define WAIT_MS 5000            /* loopback datagrams come at once; a slow host's five seconds */
#define BIG 1460                /* iperf3's; 60 are more than the POSIX server's 64 KiB stash,
				   and 70 within SO_RCVBUF's default on Linux and Mica */

static char buf[65536];
static int sender, fence_rx, fence_tx;

/* poll(2) of s for POLLIN within ms: what it said. */
static const char *readable(int s, int ms)
{
	struct pollfd p = { s, POLLIN, 0 };
	int n = poll(&p, 1, ms);

	return n < 0 ? "error" : n == 0 ? "not readable" : (p.revents & POLLIN) ? "readable" : "other";
}

/* n datagrams of len bytes from the sender: how many went. */
static int send_n(int n, size_t len)
{
	int sent = 0;

	memset(buf, 'u', len);
	for (int i = 0; i < n; i++)
		sent += send(sender, buf, len, 0) == (long)len;
	return sent;
}

/* Every datagram sent so far is at its socket: the fence came after them. */
static void fence(void)
{
	char b;

	send(fence_tx, "f", 1, 0);
	if (recv(fence_rx, &b, 1, 0) != 1)
		printf("fence: %s\n", err(errno));
}

/* Every datagram s holds now, read without waiting: how many. */
static int drain(int s)
{
	int got = 0;
	long n;

	while ((n = recv(s, buf, sizeof(buf), MSG_DONTWAIT)) >= 0)
		got++;
	show("  then recv", n);
	return got;
}

/* An epoll_wait of ep for up to ms: how many, and whether IN. */
static void edge(const char *what, int ep, int ms)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, ms);

	printf("%s: %d%s\n", what, n, n == 1 && (ev.events & EPOLLIN) ? " IN" : "");
}

/* A UDP socket bound to 127.0.0.1 (any port): the socket, its address in a. */
static int bound(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	*a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(s, (struct sockaddr *)a, sizeof(*a));
	getsockname(s, (struct sockaddr *)a, &len);
	return s;
}

/* The sender and the fence aimed at a (a new receiver). */
static void aim(const struct sockaddr_in *a)
{
	report("connect the sender", connect(sender, (const struct sockaddr *)a, sizeof(*a)));
}

/* iperf3's way: a poll, then one read, as datagrams keep coming; some
 * were already there when the reader took the first (more than the
 * server's stash holds). */
static void poll_and_read(int s)
{
	int got = 0, bad = 0;

	printf("sent: %d\n", send_n(60, BIG));
	for (int i = 0; i < 5; i++) {
		bad += strcmp(readable(s, WAIT_MS), "readable") != 0;
		bad += recv(s, buf, sizeof(buf), 0) != BIG;
		got++;
	}
	printf("five read, polls and reads wrong: %d\n", bad);
	printf("sent more, none read: %d\n", send_n(10, BIG));
	while (got < 70 && !strcmp(readable(s, WAIT_MS), "readable")) {
		if (recv(s, buf, sizeof(buf), MSG_DONTWAIT) != BIG)
			break;
		got++;
	}
	printf("read back: %d of 70\n", got);
	fence();
	printf("after all: %s\n", readable(s, 0));
	printf("sent after a drain: %d\n", send_n(1, 10));
	printf("new datagram after a drain: %s\n", readable(s, WAIT_MS));
	printf("drained: %d\n", drain(s));
}

static void peek_and_fionread(int s)
{
	int n = -1;

	send_n(1, 123);
	printf("one sent: %s\n", readable(s, WAIT_MS));
	report("peek", recv(s, buf, sizeof(buf), MSG_PEEK));
	printf("after a peek: %s\n", readable(s, 0));
	report("FIONREAD", ioctl(s, FIONREAD, &n));
	printf("FIONREAD said %d\n", n);
	report("recv", recv(s, buf, sizeof(buf), 0));
	printf("after its read: %s\n", readable(s, 0));
	send_n(1, 50);
	send_n(1, 60);
	fence();
	report("peek", recv(s, buf, sizeof(buf), MSG_PEEK));
	report("recv", recv(s, buf, sizeof(buf), 0));
	printf("one of two read: %s\n", readable(s, 0));
	report("recv", recv(s, buf, sizeof(buf), 0));
	printf("both read: %s\n", readable(s, 0));
	send_n(1, 70);
	printf("another: %s\n", readable(s, WAIT_MS));
	report("peek, then", recv(s, buf, sizeof(buf), MSG_PEEK));
	report("recv", recv(s, buf, sizeof(buf), 0));
}

static void mmsg(int s)
{
	static char b[5][200];
	struct iovec iov[5];
	struct mmsghdr m[5];

	memset(m, 0, sizeof(m));
	for (int i = 0; i < 5; i++) {
		iov[i] = (struct iovec){ b[i], sizeof(b[i]) };
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	printf("sent: %d\n", send_n(5, 100));
	fence();
	report("recvmmsg of 3", recvmmsg(s, m, 3, MSG_DONTWAIT, NULL));
	printf("two left: %s\n", readable(s, 0));
	report("recvmmsg of 3", recvmmsg(s, m, 3, MSG_DONTWAIT, NULL));
	printf("none left: %s\n", readable(s, 0));
	report("recvmmsg", recvmmsg(s, m, 3, MSG_DONTWAIT, NULL));
	printf("sent: %d\n", send_n(2, 100));
	printf("more: %s\n", readable(s, WAIT_MS));
	fence();
	report("recvmmsg of 3", recvmmsg(s, m, 3, MSG_DONTWAIT, NULL));
}

/* EPOLLET: every datagram's arrival is an edge, read or not; level:
 * reported while one is left. */
static void epolls(int s)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 1 };

	report("epoll_ctl add, EPOLLET", epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	send_n(1, 100);
	edge("first datagram", ep, WAIT_MS);
	send_n(1, 100);
	edge("another arrival, none read", ep, WAIT_MS);
	send_n(1, 100);
	edge("and another", ep, WAIT_MS);
	report("recv one", recv(s, buf, sizeof(buf), 0));
	send_n(1, 100);
	edge("one more after a partial read", ep, WAIT_MS);
	fence();
	printf("drained: %d\n", drain(s));
	send_n(1, 10);
	edge("after a drain", ep, WAIT_MS);
	printf("drained: %d\n", drain(s));
	close(ep);

	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	report("epoll_ctl add, level", epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	send_n(2, 100);
	fence();
	edge("two there", ep, WAIT_MS);
	report("recv one", recv(s, buf, sizeof(buf), 0));
	edge("one left", ep, 0);
	report("recv one", recv(s, buf, sizeof(buf), 0));
	edge("none left", ep, 0);
	send_n(1, 100);
	edge("new after a drain", ep, WAIT_MS);
	printf("drained: %d\n", drain(s));
	close(ep);
}

/* SO_RCVBUF at its least: most of a burst is dropped (how many differs
 * with each kernel's accounting: not printed); what got in is readable,
 * and the next datagram after a drain still wakes a poll. */
static void full_buffer(void)
{
	struct sockaddr_in a;
	int s = bound(&a), one = 1;

	report("SO_RCVBUF 1", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)));
	aim(&a);
	printf("sent: %d\n", send_n(40, 1000));
	fence();
	printf("full: %s\n", readable(s, 0));
	int got = drain(s);
	printf("some read, most dropped: %s\n", got > 0 && got < 20 ? "yes" : "no");
	printf("after a drain: %s\n", readable(s, 0));
	send_n(1, 1000);
	printf("new after a drain: %s\n", readable(s, WAIT_MS));
	printf("drained: %d\n", drain(s));
	close(s);
}

int main(void)
{
	struct sockaddr_in a, f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	int s = bound(&a);
	fence_rx = bound(&f);
	sender = socket(AF_INET, SOCK_DGRAM, 0);
	fence_tx = socket(AF_INET, SOCK_DGRAM, 0);
	report("connect the fence", connect(fence_tx, (struct sockaddr *)&f, sizeof(f)));
	aim(&a);

	/* Level: readable while a datagram is left. */
	send_n(3, 100);
	fence();
	printf("three there: %s\n", readable(s, WAIT_MS));
	report("recv", recv(s, buf, sizeof(buf), 0));
	printf("after a partial drain: %s\n", readable(s, 0));
	report("recv", recv(s, buf, sizeof(buf), 0));
	report("recv", recv(s, buf, sizeof(buf), 0));
	printf("after the last: %s\n", readable(s, 0));
	report("recv, none left", recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	send_n(1, 10);
	printf("new datagram after a drain: %s\n", readable(s, WAIT_MS));
	printf("drained: %d\n", drain(s));

	poll_and_read(s);
	peek_and_fionread(s);
	mmsg(s);
	epolls(s);
	full_buffer();
	close(s);
	close(sender);
	close(fence_rx);
	close(fence_tx);
	printf("udpedges: done\n");
	return 0;
}
