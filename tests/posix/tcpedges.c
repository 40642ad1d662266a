/*
 * Readiness of a TCP stream as data keeps coming, differential: `tcpedges
 * PEER` (tests/system/test_posix_net.py runs it with the others), over a
 * connection to itself on 127.0.0.1 and from the test's peer (port
 * 7770's `drip`: data in pieces a second apart). poll(2) says
 * readable while data is left, however it came (before or after a
 * partial read, before or after the last poll), and wakes a waiting
 * poll for data that comes once everything was read; epoll(7)'s
 * EPOLLET reports each arrival of data, also to a socket still
 * readable — from the peer, whose pieces come with nothing else to
 * signal (on 127.0.0.1 the sender's acknowledged data is news too).
 * Mica's netstack signals data to a socket its client was told is
 * readable only when asked to (docs/netstack.md, "Socket service"):
 * these are the cases that must not lose a wake-up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EAGAIN)
#include "check.h"

#define CONTROL 7770            /* the peer's command port (sockets.c) */
#define WAIT_MS 5000            /* loopback data comes at once; a slow host's five seconds */

static char buf[8192];

/* poll(2) of s for POLLIN within ms: what it said. */
static const char *readable(int s, int ms)
{
	struct pollfd p = { s, POLLIN, 0 };
	int n = poll(&p, 1, ms);

	return n < 0 ? "error" : n == 0 ? "not readable" : (p.revents & POLLIN) ? "readable" : "other";
}

/* Everything s holds now, read without waiting: the bytes. */
static long drain(int s)
{
	long got = 0, n;

	while ((n = recv(s, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		got += n;
	show("  then recv", n);
	return got;
}

/* Bytes read by one recv of up to len that may wait (the data is on its way). */
static long read_some(int s, long len)
{
	return recv(s, buf, (size_t)len, 0);
}

/* An epoll_wait of ep for up to ms: how many, and whether IN. */
static void edge(const char *what, int ep, int ms)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, ms);

	printf("%s: %d%s\n", what, n, n == 1 && (ev.events & EPOLLIN) ? " IN" : "");
}

/* EPOLLET on a connection from the peer that sends 100 bytes three
 * times, a second apart, none of them read before the last. */
static void drip(const char *peer)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(CONTROL) };
	int s = socket(AF_INET, SOCK_STREAM, 0), ep = epoll_create1(0);

	inet_aton(peer, &a.sin_addr);
	report("connect to the peer", connect(s, (struct sockaddr *)&a, sizeof(a)));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 2 };
	report("epoll_ctl add, EPOLLET", epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	report("send drip", send(s, "drip 100 3 1000\n", 16, 0));
	edge("drip, first", ep, WAIT_MS);
	edge("drip, second, none read", ep, WAIT_MS);
	edge("drip, third, none read", ep, WAIT_MS);
	printf("drained: %ld\n", drain(s));
	close(s);
	close(ep);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	static char data[4000];

	const char *peer = argc > 1 ? argv[1] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(data, 'e', sizeof(data));
	int l = socket(AF_INET, SOCK_STREAM, 0);
	report("bind 127.0.0.1:0", bind(l, (struct sockaddr *)&a, sizeof(a)));
	report("listen", listen(l, 1));
	getsockname(l, (struct sockaddr *)&a, &len);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	report("connect", connect(c, (struct sockaddr *)&a, sizeof(a)));
	int s = accept(l, NULL, NULL);
	report("accept", s < 0 ? -1 : 0);

	/* Level: readable while anything is left. */
	report("send 1000", send(c, data, 1000, 0));
	printf("first data: %s\n", readable(s, WAIT_MS));
	report("recv 100", read_some(s, 100));
	printf("after a partial read: %s\n", readable(s, 0));
	report("send 1000 more", send(c, data, 1000, 0));
	printf("more came: %s\n", readable(s, WAIT_MS));
	report("recv 100", read_some(s, 100));
	sleep(1);               /* the second 1000 surely there */
	printf("drained: %ld more\n", drain(s));
	printf("after draining: %s\n", readable(s, 0));
	/* Data after everything was read wakes a waiting poll. */
	report("send 10", send(c, data, 10, 0));
	printf("new data after a drain: %s\n", readable(s, WAIT_MS));
	printf("drained: %ld\n", drain(s));
	/* Several sends while the reader holds data it was told of: all
	 * of them arrive, and poll keeps saying so. */
	for (int i = 0; i < 4; i++)
		send(c, data, sizeof(data), 0);
	printf("four sends: %s\n", readable(s, WAIT_MS));
	long got = 0;
	while (got < 4 * (long)sizeof(data)) {
		if (strcmp(readable(s, WAIT_MS), "readable"))
			break;
		long n = read_some(s, 3000);
		if (n <= 0)
			break;
		got += n;
	}
	printf("read back: %ld of %ld\n", got, 4 * (long)sizeof(data));

	/* Edge-triggered epoll: every arrival is an edge. */
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 1 };
	report("epoll_ctl add, EPOLLET", epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	report("send 100", send(c, data, 100, 0));
	edge("first data", ep, WAIT_MS);
	report("send 100 more, none read", send(c, data, 100, 0));
	edge("another arrival", ep, WAIT_MS);
	report("send 100 more, none read", send(c, data, 100, 0));
	edge("and another", ep, WAIT_MS);
	sleep(1);
	printf("drained: %ld\n", drain(s));
	report("send 10", send(c, data, 10, 0));
	edge("after a drain", ep, WAIT_MS);
	close(ep);
	close(c);
	close(s);
	close(l);
	if (peer)
		drip(peer);
	printf("tcpedges: done\n");
	return 0;
}
