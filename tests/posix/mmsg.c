/*
 * recvmmsg and sendmmsg, differential (Linux's recvmmsg(2), sendmmsg(2)):
 * on an AF_UNIX datagram pair, messages sent and received in vectors
 * with each msg_len; MSG_WAITFORONE; EAGAIN when nothing waits and
 * MSG_DONTWAIT; a cut message's MSG_TRUNC; the timeout looked at only
 * after each message ({0, 0}: one message), and what is left written
 * back; the errors (a bad timeout, vector, descriptor or flag; vlen 0);
 * sendmmsg returning the count before a message that fails, or that
 * message's error; a blocking recvmmsg waiting for its second message
 * (a forked child sends it) and one interrupted by a signal after its
 * first (it returns 1).
 *
 * With an address (the test's peer, whose UDP port 7771 echoes), over
 * the network: 100 datagrams of 500 bytes sent with sendmmsg and echoed
 * back before the program reads any: all 100 wait with the default
 * SO_RCVBUF, in order (drained with recvmmsg), and with SO_RCVBUF 2048
 * only a few (the receive buffer bounds the queue).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ECHO_PORT 7771
#define COUNT     100
#define SIZE      500

static const char *err(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	case EFAULT: return "EFAULT";
	case EBADF: return "EBADF";
	case ENOTSOCK: return "ENOTSOCK";
	case EMSGSIZE: return "EMSGSIZE";
	case EINTR: return "EINTR";
	default: return strerror(e);
	}
}

static void show(const char *what, long r)
{
	int e = errno;

	printf("%s: %ld %s\n", what, r < 0 ? -1 : r, err(r < 0 ? e : 0));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static long mmsg_recv(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *t)
{
	return syscall(SYS_recvmmsg, fd, v, n, flags, t);
}

static long mmsg_send(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	return syscall(SYS_sendmmsg, fd, v, n, flags);
}

/* n entries over bufs of len bytes each. */
static void vec(struct mmsghdr *m, struct iovec *io, char (*bufs)[64], unsigned n, size_t len)
{
	memset(m, 0, n * sizeof(*m));
	for (unsigned i = 0; i < n; i++) {
		io[i] = (struct iovec){ bufs[i], len };
		m[i].msg_hdr.msg_iov = &io[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_len = 12345;
	}
}

/* Messages "a", "bb", "ccc"... from first, n of them, sent with sendmmsg. */
static long send_letters(int fd, unsigned first, unsigned n)
{
	struct mmsghdr m[8];
	struct iovec io[8];
	char bufs[8][64];

	vec(m, io, bufs, n, 0);
	for (unsigned i = 0; i < n; i++) {
		memset(bufs[i], 'a' + (int)(first + i), first + i + 1);
		io[i].iov_len = first + i + 1;
	}
	return mmsg_send(fd, m, n, 0);
}

static void show_got(const char *what, long r, struct mmsghdr *m, char (*bufs)[64])
{
	show(what, r);
	for (long i = 0; i < r; i++)
		printf("  %ld: len %u \"%.*s\"%s\n", i, m[i].msg_len, (int)m[i].msg_len, bufs[i],
		       m[i].msg_hdr.msg_flags & MSG_TRUNC ? " MSG_TRUNC" : "");
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void local(void)
{
	int sv[2], pfd[2];
	struct mmsghdr m[10];
	struct iovec io[10];
	char bufs[10][64];
	struct timespec t;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0 || pipe(pfd) < 0) {
		perror("socketpair");
		return;
	}
	show("sendmmsg 5", send_letters(sv[0], 0, 5));
	vec(m, io, bufs, 10, 64);
	show_got("recvmmsg 3", mmsg_recv(sv[1], m, 3, 0, NULL), m, bufs);
	vec(m, io, bufs, 10, 64);
	show_got("recvmmsg 10 MSG_WAITFORONE", mmsg_recv(sv[1], m, 10, MSG_WAITFORONE, NULL), m, bufs);
	show("recvmmsg empty MSG_DONTWAIT", mmsg_recv(sv[1], m, 4, MSG_DONTWAIT, NULL));
	show("recvmmsg 0", mmsg_recv(sv[1], m, 0, 0, NULL));

	/* Cut to a short buffer. */
	show("send 10 bytes", send(sv[0], "0123456789", 10, 0));
	vec(m, io, bufs, 10, 4);
	show_got("recvmmsg into 4 bytes", mmsg_recv(sv[1], m, 2, MSG_DONTWAIT, NULL), m, bufs);

	/* The timeout: looked at after each message. */
	send_letters(sv[0], 0, 3);
	t = (struct timespec){ 0, 0 };
	vec(m, io, bufs, 10, 64);
	show_got("recvmmsg 3 timeout 0", mmsg_recv(sv[1], m, 3, 0, &t), m, bufs);
	printf("  left %ld.%09ld\n", (long)t.tv_sec, t.tv_nsec);
	vec(m, io, bufs, 10, 64);
	show_got("recvmmsg the rest", mmsg_recv(sv[1], m, 3, MSG_DONTWAIT, NULL), m, bufs);
	send_letters(sv[0], 3, 3);
	t = (struct timespec){ 5, 0 };
	vec(m, io, bufs, 10, 64);
	show_got("recvmmsg 3 timeout 5 s", mmsg_recv(sv[1], m, 3, 0, &t), m, bufs);
	printf("  left at most 5 s and over 4 s: %s\n",
	       t.tv_sec * 1000000000L + t.tv_nsec <= 5000000000L && t.tv_sec >= 4 ? "yes" : "no");

	/* Errors. */
	send_letters(sv[0], 0, 1);
	t = (struct timespec){ 0, 1000000000 };
	show("recvmmsg timeout nsec 1e9", mmsg_recv(sv[1], m, 1, 0, &t));
	t = (struct timespec){ -1, 0 };
	show("recvmmsg timeout -1 s", mmsg_recv(sv[1], m, 1, 0, &t));
	show("recvmmsg bad timeout pointer", mmsg_recv(sv[1], m, 1, 0, (struct timespec *)8));
	show("recvmmsg bad vector", mmsg_recv(sv[1], (struct mmsghdr *)8, 1, 0, NULL));
	show("recvmmsg MSG_CMSG_COMPAT", mmsg_recv(sv[1], m, 1, (int)0x80000000, NULL));
	show("recvmmsg bad descriptor", mmsg_recv(99, m, 1, 0, NULL));
	show("recvmmsg a pipe", mmsg_recv(pfd[0], m, 1, 0, NULL));
	vec(m, io, bufs, 10, 64);
	show_got("the message is still there", mmsg_recv(sv[1], m, 2, MSG_DONTWAIT, NULL), m, bufs);
	show("sendmmsg 0", mmsg_send(sv[0], m, 0, 0));
	show("sendmmsg bad vector", mmsg_send(sv[0], (struct mmsghdr *)8, 1, 0));
	show("sendmmsg a pipe", mmsg_send(pfd[1], m, 1, 0));
	show("sendmmsg MSG_CMSG_COMPAT", mmsg_send(sv[0], m, 1, (int)0x80000000));
	size_t big = 300000;
	char *huge = calloc(1, big);
	vec(m, io, bufs, 3, 8);
	io[1] = (struct iovec){ huge, big };
	show("sendmmsg the second too long", mmsg_send(sv[0], m, 3, 0));
	printf("  msg_len %u %u\n", m[0].msg_len, m[1].msg_len);
	vec(m, io, bufs, 3, 8);
	io[0] = (struct iovec){ huge, big };
	show("sendmmsg the first too long", mmsg_send(sv[0], m, 3, 0));
	free(huge);
	vec(m, io, bufs, 10, 64);
	show("recvmmsg what came", mmsg_recv(sv[1], m, 10, MSG_DONTWAIT, NULL));

	/* A blocking recvmmsg waits for its second message. */
	send_letters(sv[0], 0, 1);
	pid_t pid = fork();
	if (pid == 0) {
		sleep_ms(200);
		send_letters(sv[0], 1, 1);
		_exit(0);
	}
	vec(m, io, bufs, 10, 64);
	show_got("recvmmsg 2, the second later", mmsg_recv(sv[1], m, 2, 0, NULL), m, bufs);
	waitpid(pid, NULL, 0);

	/* ... and a signal after the first: its count. */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	send_letters(sv[0], 2, 1);
	struct itimerval it = { { 0, 0 }, { 0, 200000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	vec(m, io, bufs, 10, 64);
	show_got("recvmmsg 2, a signal after the first", mmsg_recv(sv[1], m, 2, 0, NULL), m, bufs);
	close(sv[0]);
	close(sv[1]);
	close(pfd[0]);
	close(pfd[1]);
}

/* Datagrams echoed back by the peer before any is read: how many wait. */
static void echoed(const char *host, int rcvbuf)
{
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
	static char data[COUNT][SIZE], got[128][SIZE];
	struct mmsghdr m[128];
	struct iovec io[128];

	inet_pton(AF_INET, host, &to.sin_addr);
	if (rcvbuf)
		setsockopt(u, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	connect(u, (struct sockaddr *)&to, sizeof(to));
	long sent = 0;
	for (int g = 0; g < COUNT / 10; g++) {
		memset(m, 0, sizeof(m));
		for (int i = 0; i < 10; i++) {
			int k = g * 10 + i;
			memset(data[k], k, SIZE);
			io[i] = (struct iovec){ data[k], SIZE };
			m[i].msg_hdr.msg_iov = &io[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		long r = mmsg_send(u, m, 10, 0);
		sent += r > 0 ? r : 0;
		sleep_ms(10);
	}
	printf("SO_RCVBUF %d: sendmmsg sent %ld\n", rcvbuf, sent);
	/* Until the echoes stop coming: nothing is read meanwhile. */
	struct pollfd pf = { u, POLLIN, 0 };
	poll(&pf, 1, 5000);
	sleep_ms(2000);
	long kept = 0, in_order = 1, r;
	do {
		memset(m, 0, sizeof(m));
		for (int i = 0; i < 128; i++) {
			io[i] = (struct iovec){ got[i], SIZE };
			m[i].msg_hdr.msg_iov = &io[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		r = mmsg_recv(u, m, 128, MSG_DONTWAIT, NULL);
		for (long i = 0; i < r; i++) {
			if (m[i].msg_len != SIZE || (unsigned char)got[i][0] < kept + i)
				in_order = 0;
		}
		kept += r > 0 ? r : 0;
		/* With the default buffer all fit: any still on their way
		 * (a loaded host) are waited for too. */
		if (r < 0 && !rcvbuf && kept < COUNT && poll(&pf, 1, 3000) == 1)
			r = 1;
	} while (r > 0);
	if (!rcvbuf)
		printf("  default SO_RCVBUF: all %d waited: %s, in order: %s\n", COUNT,
		       kept == COUNT ? "yes" : "no", in_order ? "yes" : "no");
	else
		printf("  some waited: %s, fewer than 20: %s\n", kept > 0 ? "yes" : "no",
		       kept < 20 ? "yes" : "no");
	if ((!rcvbuf && kept != COUNT) || (rcvbuf && (kept == 0 || kept >= 20)))
		printf("  (%ld waited)\n", kept);
	close(u);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	local();
	if (argc > 1) {
		echoed(argv[1], 0);
		echoed(argv[1], 2048);
	}
	printf("mmsg: done\n");
	return 0;
}
