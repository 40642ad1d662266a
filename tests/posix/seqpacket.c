/*
 * Named AF_UNIX seqpacket sockets, differential (Linux's unix(7),
 * SOCK_SEQPACKET): bind to a path, listen (EINVAL unbound), connect
 * (ECONNREFUSED to a socket not listening, EPROTOTYPE from a stream
 * socket or a datagram's send, EISCONN twice, EAGAIN past the backlog
 * when non-blocking), accept (EAGAIN when none waits, EINVAL of a socket
 * not listening), poll of the listener; messages sent before the accept
 * kept in order with their boundaries, a short buffer's MSG_TRUNC,
 * replies, the names each side sees, SO_PEERCRED of a forked client, the
 * end of messages when the peer closes; ENOTCONN to send or receive
 * unconnected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EAGAIN) X(ENOTCONN) X(ECONNREFUSED) X(EPROTOTYPE) X(EISCONN) \
	X(EOPNOTSUPP) X(EPIPE) X(ECONNRESET)
#include "check.h"

static struct sockaddr_un addr;
static char dir[] = "/tmp/seqpktXXXXXX";

static int seq(void)
{
	return socket(AF_UNIX, SOCK_SEQPACKET, 0);
}

/* The name fd has (peer: its peer's) as the path's last part, or a word. */
static const char *name_of(int fd, int peer)
{
	static struct sockaddr_un names[4];
	static unsigned k;
	struct sockaddr_un *ap = &names[k++ % 4], a;
	socklen_t len = sizeof(a);
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &len)
		     : getsockname(fd, (struct sockaddr *)&a, &len);
	if (r < 0)
		return outcome(r);
	if (len <= sizeof(sa_family_t))
		return "unnamed";
	*ap = a;
	const char *slash = strrchr(ap->sun_path, '/');
	return slash ? slash + 1 : ap->sun_path;
}

static const char *got(int fd, size_t room)
{
	static char b[4][64];
	static unsigned k;
	char *s = b[k++ % 4];
	struct iovec v = { s, room };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	ssize_t n = recvmsg(fd, &m, 0);
	if (n < 0)
		return outcome(n);
	s[n] = 0;
	if (m.msg_flags & MSG_TRUNC)
		strcat(s, " (MSG_TRUNC)");
	if (n == 0)
		return "end";
	return s;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(20);
	if (!mkdtemp(dir))
		return 1;
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/sock", dir);
	struct sockaddr *sa = (struct sockaddr *)&addr;

	int l = seq();
	printf("socket: %s\n", l >= 0 ? "ok" : outcome(l));
	printf("listen unbound: %s\n", outcome(listen(l, 4)));
	printf("accept not listening: %s\n", outcome(accept(l, NULL, NULL)));
	printf("send unconnected: %s\n", outcome(send(l, "x", 1, 0)));
	printf("bind: %s\n", outcome(bind(l, sa, sizeof(addr))));
	int c = seq();
	printf("connect, not listening: %s\n", outcome(connect(c, sa, sizeof(addr))));
	printf("listen: %s\n", outcome(listen(l, 4)));
	fcntl(l, F_SETFL, O_NONBLOCK);
	printf("accept, none waits: %s\n", outcome(accept(l, NULL, NULL)));
	fcntl(l, F_SETFL, 0);
	printf("recv on the listener: %s\n", outcome(recv(l, (char[4]){ 0 }, 4, 0)));

	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("stream connect: %s\n", outcome(connect(st, sa, sizeof(addr))));
	int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
	printf("datagram sendto: %s\n", outcome(sendto(dg, "x", 1, 0, sa, sizeof(addr))));

	printf("connect: %s\n", outcome(connect(c, sa, sizeof(addr))));
	printf("connect again: %s\n", outcome(connect(c, sa, sizeof(addr))));
	struct pollfd pf = { l, POLLIN, 0 };
	int pr = poll(&pf, 1, 0);
	printf("listener polled: %d %s\n", pr, pf.revents & POLLIN ? "POLLIN" : "-");
	long s1 = send(c, "one", 3, 0), s2 = send(c, "three", 5, 0), s3 = send(c, "hello", 5, 0);
	printf("send before accept: %s %s %s\n", outcome(s1), outcome(s2), outcome(s3));
	int a = accept(l, NULL, NULL);
	printf("accept: %s\n", a >= 0 ? "ok" : outcome(a));
	const char *n1 = name_of(a, 0), *n2 = name_of(a, 1), *n3 = name_of(c, 0), *n4 = name_of(c, 1);
	printf("accepted's name %s, its peer %s; client's name %s, its peer %s\n", n1, n2, n3, n4);
	const char *m1 = got(a, 64), *m2 = got(a, 64), *m3 = got(a, 2);
	printf("messages: %s | %s | %s\n", m1, m2, m3);
	printf("reply: %s", outcome(send(a, "reply", 5, 0)));
	printf(", client got %s\n", got(c, 64));
	close(c);
	const char *end = got(a, 64);
	printf("after the client's close: %s, then %s\n", end, outcome(send(a, "x", 1, MSG_NOSIGNAL)));
	close(a);

	/* A forked client: its pid is the accepted socket's SO_PEERCRED. */
	pid_t child = fork();
	if (child == 0) {
		int k = seq();
		connect(k, sa, sizeof(addr));
		send(k, "from the child", 14, 0);
		char b[8];
		recv(k, b, sizeof(b), 0);       /* until the parent closes */
		_exit(0);
	}
	a = accept(l, NULL, NULL);
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cred, &clen);
	const char *from = got(a, 64);
	printf("child: %s, peer is the child %s\n", from, cred.pid == child ? "yes" : "no");
	close(a);
	waitpid(child, NULL, 0);

	/* The backlog: listen(0) takes one. */
	listen(l, 0);
	int c1 = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	int c2 = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	long r1 = connect(c1, sa, sizeof(addr));
	const char *e1 = outcome(r1);
	long r2 = connect(c2, sa, sizeof(addr));
	printf("backlog 0: %s, then %s\n", e1, outcome(r2));
	close(l);
	printf("after the listener's close: %s\n", got(c1, 64));
	unlink(addr.sun_path);
	rmdir(dir);
	return 0;
}
