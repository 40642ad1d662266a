/*
 * epoll's edge-triggered and one-shot watches, differential (Linux's
 * epoll(7), epoll_ctl(2)): EPOLLET reports a watch once per readiness
 * edge — each write to a pipe, an eventfd or a socket is one, a file
 * still ready without news is not reported again —, EPOLL_CTL_MOD
 * queues it again; an eventfd's EPOLLOUT edge comes with a read, not a
 * write; EPOLLONESHOT disables a watch once reported until
 * EPOLL_CTL_MOD; EPOLLEXCLUSIVE is taken when added, and EINVAL with
 * EPOLL_CTL_MOD or with EPOLLONESHOT; a blocking epoll_wait wakes for a
 * forked child's write to an edge-triggered pipe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EEXIST) X(ENOENT)
#include "check.h"

static const char *bits(uint32_t ev)
{
	static char s[64];

	snprintf(s, sizeof(s), "%s%s%s%s", ev & EPOLLIN ? " IN" : "", ev & EPOLLOUT ? " OUT" : "",
		 ev & EPOLLHUP ? " HUP" : "", ev & EPOLLERR ? " ERR" : "");
	return s;
}

/* One epoll_wait of ep (timeout ms): how many, and the first's events and data. */
static void wait_on(const char *what, int ep, int ms)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, ms);

	if (n < 0)
		show(what, n);
	else if (n == 0)
		printf("%s: 0\n", what);
	else
		printf("%s: %d, data %llu,%s\n", what, n, (unsigned long long)ev[0].data.u64, bits(ev[0].events));
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void pipes(void)
{
	int p[2], ep = epoll_create1(0), lt = epoll_create1(0);
	char c;

	pipe(p);
	show("add the read end, EPOLLET", add(ep, p[0], EPOLLIN | EPOLLET, 1));
	show("add it level-triggered elsewhere", add(lt, p[0], EPOLLIN, 2));
	wait_on("empty", ep, 0);
	write(p[1], "a", 1);
	wait_on("a write", ep, 0);
	wait_on("no news", ep, 0);
	wait_on("level-triggered", lt, 0);
	wait_on("level-triggered again", lt, 0);
	write(p[1], "b", 1);
	wait_on("another write", ep, 0);
	read(p[0], &c, 1);
	wait_on("a read, bytes left", ep, 0);
	show("EPOLL_CTL_MOD", mod(ep, p[0], EPOLLIN | EPOLLET, 3));
	wait_on("after MOD", ep, 0);
	wait_on("no news", ep, 0);
	close(p[1]);
	wait_on("the writer closed", ep, 0);
	wait_on("no news", ep, 0);
	close(p[0]);
	close(ep);
	close(lt);

	/* A blocking wait for a child's write. */
	ep = epoll_create1(0);
	pipe(p);
	add(ep, p[0], EPOLLIN | EPOLLET, 4);
	pid_t child = fork();
	if (child == 0) {
		usleep(100000);
		write(p[1], "x", 1);
		_exit(0);
	}
	wait_on("blocking, the child writes", ep, -1);
	waitpid(child, NULL, 0);
	wait_on("no news, 50 ms", ep, 50);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void eventfds(void)
{
	int e = eventfd(0, EFD_NONBLOCK), ep = epoll_create1(0), out = epoll_create1(0);
	uint64_t v = 1;

	show("add an eventfd, EPOLLIN|EPOLLET", add(ep, e, EPOLLIN | EPOLLET, 5));
	show("add it, EPOLLOUT|EPOLLET", add(out, e, EPOLLOUT | EPOLLET, 6));
	wait_on("zero", ep, 0);
	wait_on("writable, added", out, 0);
	wait_on("writable, no news", out, 0);
	write(e, &v, 8);
	wait_on("a write", ep, 0);
	wait_on("no news", ep, 0);
	wait_on("a write, for EPOLLOUT", out, 0);
	write(e, &v, 8);
	wait_on("another write", ep, 0);
	read(e, &v, 8);
	wait_on("a read, for EPOLLIN", ep, 0);
	wait_on("a read, for EPOLLOUT", out, 0);
	close(e);
	close(ep);
	close(out);
}

static void sockets(int type, const char *name)
{
	int sv[2], ep = epoll_create1(0);
	char buf[16], what[64];

	socketpair(AF_UNIX, type, 0, sv);
	add(ep, sv[1], EPOLLIN | EPOLLET, 7);
	snprintf(what, sizeof(what), "%s: nothing", name);
	wait_on(what, ep, 0);
	send(sv[0], "hi", 2, 0);
	snprintf(what, sizeof(what), "%s: a send", name);
	wait_on(what, ep, 0);
	snprintf(what, sizeof(what), "%s: no news", name);
	wait_on(what, ep, 0);
	send(sv[0], "hi", 2, 0);
	snprintf(what, sizeof(what), "%s: another send", name);
	wait_on(what, ep, 0);
	recv(sv[1], buf, sizeof(buf), 0);
	snprintf(what, sizeof(what), "%s: a receive", name);
	wait_on(what, ep, 0);
	close(sv[0]);
	close(sv[1]);
	close(ep);
}

static void oneshot(void)
{
	int p[2], ep = epoll_create1(0);

	pipe(p);
	write(p[1], "a", 1);
	show("add, EPOLLONESHOT", add(ep, p[0], EPOLLIN | EPOLLONESHOT, 8));
	wait_on("ready", ep, 0);
	wait_on("disabled", ep, 0);
	write(p[1], "b", 1);
	wait_on("disabled, a write", ep, 0);
	show("add it again", add(ep, p[0], EPOLLIN, 9));
	show("EPOLL_CTL_MOD", mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 10));
	wait_on("armed again", ep, 0);
	wait_on("disabled", ep, 0);
	show("EPOLL_CTL_MOD, EPOLLONESHOT|EPOLLET", mod(ep, p[0], EPOLLIN | EPOLLONESHOT | EPOLLET, 11));
	wait_on("armed again", ep, 0);
	write(p[1], "c", 1);
	wait_on("disabled, a write", ep, 0);

	/* EPOLLEXCLUSIVE. */
	int q[2];
	pipe(q);
	show("add, EPOLLEXCLUSIVE|EPOLLONESHOT", add(ep, q[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 12));
	show("add, EPOLLEXCLUSIVE|EPOLLRDHUP", add(ep, q[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP, 12));
	show("add, EPOLLEXCLUSIVE", add(ep, q[0], EPOLLIN | EPOLLEXCLUSIVE, 12));
	show("EPOLL_CTL_MOD of it", mod(ep, q[0], EPOLLIN, 13));
	show("EPOLL_CTL_MOD with EPOLLEXCLUSIVE", mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 13));
	char c;
	read(p[0], &c, 1);
	read(p[0], &c, 1);
	read(p[0], &c, 1);
	write(q[1], "d", 1);
	wait_on("exclusive, ready", ep, 0);
	wait_on("exclusive, level-triggered", ep, 0);
	show("EPOLL_CTL_DEL of it", epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL));
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(ep);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pipes();
	eventfds();
	sockets(SOCK_STREAM, "stream pair");
	sockets(SOCK_DGRAM, "datagram pair");
	oneshot();
	printf("epollet: done\n");
	return 0;
}
