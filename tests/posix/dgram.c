/*
 * AF_UNIX datagram sockets, differential (Linux's unix(7), socket(2)):
 * socketpair(SOCK_DGRAM) keeps message boundaries (an empty message
 * too); a short buffer truncates (recvmsg's MSG_TRUNC flag; recv with
 * MSG_TRUNC returns the whole length); MSG_PEEK; FIONREAD is the next
 * message's length; read and write; poll; a queue that fills (EAGAIN
 * when non-blocking, a blocking sender waits for the reader: a forked
 * child sends more than fits); sockets bound to paths and abstract
 * names, recvfrom with the sender's address (0 bytes for an unnamed
 * sender); connect, getpeername, EPERM to a socket connected to
 * another, AF_UNSPEC disconnects; ECONNREFUSED to a path whose socket
 * closed, ENOENT to none, EPROTOTYPE to a stream socket's; a pair's
 * peer closed: ECONNREFUSED, then ENOTCONN; EMSGSIZE; accept and listen
 * EOPNOTSUPP. SOCK_SEQPACKET pairs: boundaries and truncation, a
 * peer's shutdown (EPIPE to its sends, 0 to reads, POLLRDHUP), a peer
 * that closes with messages unread (ECONNRESET once, then EPIPE and 0;
 * no SIGPIPE), connect EISCONN, listen and accept EINVAL. Counts that
 * depend on the host's limits are not printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EAGAIN) X(ENOTCONN) X(ECONNREFUSED) X(ENOENT) X(EPERM) \
	X(EPROTOTYPE) X(EMSGSIZE) X(EOPNOTSUPP) X(EADDRINUSE) X(EISCONN) X(EPIPE) X(ECONNRESET)
#include "check.h"

static char dir[64], abname[32];

static socklen_t addr(struct sockaddr_un *a, const char *name, int abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		memcpy(a->sun_path + 1, name, strlen(name));
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	}
	snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

static int dgram(void)
{
	return socket(AF_UNIX, SOCK_DGRAM, 0);
}

/* A message received with recvfrom: its bytes and who sent it. */
static void recv_from(const char *what, int fd, int flags)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	char buf[64] = "";
	long n = recvfrom(fd, buf, sizeof(buf) - 1, flags, (struct sockaddr *)&a, &len);

	if (n < 0) {
		show(what, n);
		return;
	}
	long name = (long)len - (long)offsetof(struct sockaddr_un, sun_path);
	if (len == 0)
		printf("%s: %ld '%s' from an unnamed socket (length 0)\n", what, n, buf);
	else if (a.sun_path[0] == 0)
		printf("%s: %ld '%s' from the abstract name: %s\n", what, n, buf,
		       name - 1 == (long)strlen(abname) && !memcmp(a.sun_path + 1, abname, strlen(abname))
		       ? "yes" : "no");
	else
		printf("%s: %ld '%s' from %s, length right %s\n", what, n, buf,
		       a.sun_path + strlen(dir) + 1, name == (long)strlen(a.sun_path) + 1 ? "yes" : "no");
}

static void pairs(void)
{
	int sv[2];
	char buf[64];

	show("socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	show("send one", send(sv[0], "one", 3, 0));
	show("send two", send(sv[0], "two!!", 5, 0));
	show("send empty", send(sv[0], "", 0, 0));
	show("write three", write(sv[0], "three", 5));
	int avail = -1;
	show("FIONREAD", ioctl(sv[1], FIONREAD, &avail));
	printf("FIONREAD says %d\n", avail);
	struct pollfd pf = { sv[1], POLLIN | POLLOUT, 0 };
	int ready = poll(&pf, 1, 0);
	printf("poll: %d in %d out %d\n", ready, !!(pf.revents & POLLIN), !!(pf.revents & POLLOUT));
	show("recv peek", recv(sv[1], buf, sizeof(buf), MSG_PEEK));
	show("recv one", recv(sv[1], buf, sizeof(buf), 0));
	show("recv two", recv(sv[1], buf, sizeof(buf), 0));
	show("recv empty", recv(sv[1], buf, sizeof(buf), 0));
	show("read three", read(sv[1], buf, sizeof(buf)));
	show("recv nothing, MSG_DONTWAIT", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
	recv_from("recvfrom, the other way", sv[0], MSG_DONTWAIT);
	show("send back", send(sv[1], "back", 4, 0));
	recv_from("recvfrom, the other way", sv[0], 0);

	/* Truncation. */
	show("send ten", send(sv[0], "0123456789", 10, 0));
	show("send ten", send(sv[0], "abcdefghij", 10, 0));
	show("send ten", send(sv[0], "ABCDEFGHIJ", 10, 0));
	struct iovec v = { buf, 4 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	long n = recvmsg(sv[1], &m, 0);
	printf("recvmsg into 4: %ld '%.4s' MSG_TRUNC %d\n", n, buf, !!(m.msg_flags & MSG_TRUNC));
	show("recv 4 with MSG_TRUNC", recv(sv[1], buf, 4, MSG_TRUNC));
	show("recv 20", recv(sv[1], buf, 20, 0));
	show("send too long", send(sv[0], malloc(300000), 300000, 0));
	show("accept", accept(sv[0], NULL, NULL));
	show("listen", listen(sv[0], 1));

	/* Full: non-blocking sends fail at last; what went is all there. */
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	int sent = 0;
	long r;
	while ((r = send(sv[0], "x", 1, 0)) == 1 && sent < 100000)
		sent++;
	show("sends until full", r);
	pf = (struct pollfd){ sv[0], POLLOUT, 0 };
	printf("poll of the full sender: %d\n", poll(&pf, 1, 0));
	int got = 0;
	while (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 1)
		got++;
	printf("received all that was sent: %s\n", got == sent ? "yes" : "no");

	close(sv[1]);
	show("send to a closed peer", send(sv[0], "x", 1, 0));
	show("send again", send(sv[0], "x", 1, 0));
	close(sv[0]);
}

static void names(void)
{
	struct sockaddr_un ra, sa, xa, ab;
	socklen_t rlen = addr(&ra, "r", 0), slen = addr(&sa, "s", 0), xlen = addr(&xa, "x", 0);
	snprintf(abname, sizeof(abname), "mica-dgram-%d", (int)getpid());
	socklen_t ablen = addr(&ab, abname, 1);
	int r = dgram(), s = dgram(), u = dgram(), a = dgram();

	show("sendto nothing", sendto(u, "x", 1, 0, (struct sockaddr *)&ra, rlen));
	show("send unconnected", send(u, "x", 1, 0));
	show("bind r", bind(r, (struct sockaddr *)&ra, rlen));
	show("bind s", bind(s, (struct sockaddr *)&sa, slen));
	show("bind another to r", bind(u, (struct sockaddr *)&ra, rlen));
	show("bind abstract", bind(a, (struct sockaddr *)&ab, ablen));
	show("sendto r from s", sendto(s, "hello", 5, 0, (struct sockaddr *)&ra, rlen));
	show("sendto r from unnamed", sendto(u, "anon", 4, 0, (struct sockaddr *)&ra, rlen));
	show("sendto r from abstract", sendto(a, "abs", 3, 0, (struct sockaddr *)&ra, rlen));
	show("sendto abstract from s", sendto(s, "to-abs", 6, 0, (struct sockaddr *)&ab, ablen));
	recv_from("r gets", r, 0);
	recv_from("r gets", r, 0);
	recv_from("r gets", r, 0);
	recv_from("abstract gets", a, 0);

	/* connect: the default peer, and who may send. */
	show("connect s to r", connect(s, (struct sockaddr *)&ra, rlen));
	show("send on s", send(s, "via connect", 11, 0));
	recv_from("r gets", r, 0);
	struct sockaddr_un pa;
	socklen_t plen = sizeof(pa);
	show("getpeername of s", getpeername(s, (struct sockaddr *)&pa, &plen));
	printf("peer is r: %s\n", plen == rlen && !strcmp(pa.sun_path, ra.sun_path) ? "yes" : "no");
	show("connect r to s", connect(r, (struct sockaddr *)&sa, slen));
	show("sendto r from unnamed, r connected to s", sendto(u, "x", 1, 0, (struct sockaddr *)&ra, rlen));
	show("connect r to nothing (AF_UNSPEC)",
	     connect(r, (struct sockaddr *)&(struct sockaddr){ .sa_family = AF_UNSPEC }, sizeof(struct sockaddr)));
	show("sendto r from unnamed again", sendto(u, "y", 1, 0, (struct sockaddr *)&ra, rlen));
	recv_from("r gets", r, 0);

	/* The named queue fills: EAGAIN without waiting. */
	int sent = 0;
	long rr;
	while ((rr = sendto(u, "z", 1, MSG_DONTWAIT, (struct sockaddr *)&ra, rlen)) == 1 && sent < 100000)
		sent++;
	show("sends to r until full", rr);
	int got = 0;
	char buf[8];
	while (recv(r, buf, sizeof(buf), MSG_DONTWAIT) == 1)
		got++;
	printf("r received all: %s\n", got == sent ? "yes" : "no");

	/* A blocking sender waits for room: a child sends more than fits. */
	pid_t child = fork();
	if (child == 0) {
		for (int i = 0; i < 40; i++) {
			char msg[16];
			snprintf(msg, sizeof(msg), "m%d", i);
			if (sendto(u, msg, strlen(msg), 0, (struct sockaddr *)&ra, rlen) < 0)
				_exit(1);
		}
		_exit(0);
	}
	int order = 1;
	for (int i = 0; i < 40; i++) {
		char msg[16], want[16];
		long n = recv(r, msg, sizeof(msg) - 1, 0);
		msg[n > 0 ? n : 0] = 0;
		snprintf(want, sizeof(want), "m%d", i);
		order &= !strcmp(msg, want);
	}
	int status;
	waitpid(child, &status, 0);
	printf("40 from a blocking sender, in order: %s, child exit %d\n", order ? "yes" : "no",
	       WEXITSTATUS(status));

	/* A stream socket's path is the wrong type; a closed one's refuses. */
	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	show("bind x (a stream)", bind(st, (struct sockaddr *)&xa, xlen));
	show("listen x", listen(st, 1));
	show("sendto x", sendto(u, "x", 1, 0, (struct sockaddr *)&xa, xlen));
	show("connect to x", connect(u, (struct sockaddr *)&xa, xlen));
	close(r);
	show("sendto r, closed", sendto(u, "x", 1, 0, (struct sockaddr *)&ra, rlen));
	show("send on s, its peer closed", send(s, "x", 1, 0));
	show("send on s again", send(s, "x", 1, 0));
	unlink(ra.sun_path);
	show("sendto r, unlinked", sendto(u, "x", 1, 0, (struct sockaddr *)&ra, rlen));
	close(s);
	close(u);
	close(a);
	close(st);
	unlink(sa.sun_path);
	unlink(xa.sun_path);
}

static void seqpackets(void)
{
	int sv[2];
	char buf[64];
	struct pollfd pf;

	show("socketpair SOCK_SEQPACKET", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	show("send", send(sv[0], "hello", 5, 0));
	show("send", send(sv[0], "world!", 6, 0));
	struct iovec v = { buf, 3 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	long n = recvmsg(sv[1], &m, 0);
	printf("recvmsg into 3: %ld MSG_TRUNC %d\n", n, !!(m.msg_flags & MSG_TRUNC));
	show("recv", recv(sv[1], buf, sizeof(buf), 0));
	show("connect", connect(sv[0], (struct sockaddr *)&(struct sockaddr_un){ AF_UNIX, "x" }, 4));
	show("listen", listen(sv[0], 1));
	show("accept", accept(sv[0], NULL, NULL));
	show("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR));
	show("send after it", send(sv[0], "x", 1, 0));
	show("the peer's recv", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
	pf = (struct pollfd){ sv[1], POLLIN | POLLOUT | POLLRDHUP, 0 };
	poll(&pf, 1, 0);
	printf("the peer's poll: in %d out %d rdhup %d hup %d\n", !!(pf.revents & POLLIN),
	       !!(pf.revents & POLLOUT), !!(pf.revents & POLLRDHUP), !!(pf.revents & POLLHUP));
	show("the peer sends back", send(sv[1], "y", 1, 0));
	close(sv[0]);
	pf = (struct pollfd){ sv[1], POLLIN | POLLOUT | POLLRDHUP, 0 };
	poll(&pf, 1, 0);
	printf("closed with a message unread; poll: in %d out %d rdhup %d hup %d err %d\n",
	       !!(pf.revents & POLLIN), !!(pf.revents & POLLOUT), !!(pf.revents & POLLRDHUP),
	       !!(pf.revents & POLLHUP), !!(pf.revents & POLLERR));
	show("recv", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
	show("recv again", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
	show("send", send(sv[1], "y", 1, 0));
	close(sv[1]);
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	close(sv[1]);
	show("send to a closed peer, nothing unread", send(sv[0], "z", 1, 0));
	show("recv", recv(sv[0], buf, sizeof(buf), 0));
	close(sv[0]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof(dir), "/tmp/dgram-%d", (int)getpid());
	if (mkdir(dir, 0700) < 0) {
		perror("mkdir");
		return 1;
	}
	pairs();
	names();
	seqpackets();
	rmdir(dir);
	printf("dgram: done\n");
	return 0;
}
