/*
 * A TCP listener closed and opened again on the same port at once, as
 * Debian's iperf3 3.12 -s does at the end of every test: `relisten
 * [PEER]` (tests/system/test_posix_net.py runs it with the others, and
 * compares its lines with what Mica is meant to print, not with
 * Linux's: the take-over is Mica-only, a deliberate divergence from
 * Linux made for iperf3 -s, docs/posix.md "A listener opened again").
 * A connection made to 127.0.0.1 before the close is accepted by the
 * new listener on Mica (posix-server/socket_linger.c: the closed
 * listener lingers while the process only closes, sets up and binds
 * sockets, and a listen on the same address and port takes it over);
 * Linux resets it at the close (so "after relisten: none" there). A
 * listen with another backlog takes nothing over (Mica's netstack keeps
 * a listener's first backlog): "none" on both; on Mica it closes the
 * lingering listener first, as a listen in another netstack session
 * than the lingering one does (without that: "listener: Address in
 * use"). Then a close followed by
 * a connect, which ends the lingering: refused, as on Linux. Last a
 * listener on PORT + 1 closed while the process makes no call for 2.5 s
 * (only the vDSO's clock): the peer's connect to it 1 s after (its
 * "later" command on port 7770) is refused, as on Linux (the linger
 * ends after 500 ms on the server's timer; it once lasted until some
 * other timer's time came, up to 5 s, and the peer's SYN was answered).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ECONNREFUSED) X(ECONNRESET)
#include "check.h"

#define PORT 7790

static struct sockaddr_in lo;                   /* 127.0.0.1:PORT */

/* A listener on 127.0.0.1:PORT with backlog, as iperf3's netannounce
 * makes it (backlog_listener(4)). */
static int backlog_listener(int backlog)
{
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (const struct sockaddr *)&lo, sizeof(lo)) < 0 || listen(s, backlog) < 0)
		printf("listener: %s\n", err(errno));
	return s;
}

static int listener(void)
{
	return backlog_listener(4);
}

static int readable(int s, int ms)
{
	struct pollfd p = { s, POLLIN, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* A listener closed, then 2.5 s without a call: the peer's connect 1 s
 * after the close is refused (the peer says which). */
static void closed_while_busy(const char *peer)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(PORT + 1) };
	struct sockaddr_in ctl = { .sin_family = AF_INET, .sin_port = htons(7770) };
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	char answer[32] = "none\n";
	size_t got = 0;
	ssize_t n;

	inet_aton(peer, &ctl.sin_addr);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (const struct sockaddr *)&any, sizeof(any)) < 0 || listen(l, 4) < 0 ||
	    connect(c, (const struct sockaddr *)&ctl, sizeof(ctl)) < 0) {
		printf("closed while busy: %s\n", err(errno));
		return;
	}
	char cmd[32];
	int len = snprintf(cmd, sizeof(cmd), "later 1000 %d\n", PORT + 1);
	write(c, cmd, (size_t)len);
	close(l);
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 2500;)
		;
	while (got < sizeof(answer) - 1 && (n = read(c, answer + got, 1)) == 1 && answer[got] != '\n')
		got++;
	answer[got] = 0;
	printf("connect 1 s after a close, the process busy: %s\n", got ? answer : "none");
	close(c);
}

int main(int argc, char **argv)
{
	char got = 0;

	lo = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(PORT),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int l = listener();
	int c = socket(AF_INET, SOCK_STREAM, 0);

	report("connect", connect(c, (const struct sockaddr *)&lo, sizeof(lo)));
	printf("queued: %s\n", readable(l, 2000) ? "yes" : "no");
	close(l);
	l = listener();
	int a = readable(l, 1000) ? accept(l, NULL, NULL) : -1;
	printf("after relisten: %s\n", a >= 0 ? "a connection" : "none");
	if (a >= 0) {
		ssize_t n = write(c, "x", 1);
		printf("it carries data: %s\n",
		       n == 1 && readable(a, 2000) && read(a, &got, 1) == 1 && got == 'x' ? "yes" : "no");
		close(a);
	}
	close(c);
	close(l);
	l = listener();
	c = socket(AF_INET, SOCK_STREAM, 0);
	connect(c, (const struct sockaddr *)&lo, sizeof(lo));
	readable(l, 2000);
	close(l);
	l = backlog_listener(8);
	printf("after relisten with another backlog: %s\n", readable(l, 1000) ? "a connection"
									    : "none");
	close(c);
	close(l);
	c = socket(AF_INET, SOCK_STREAM, 0);
	report("connect after a plain close", connect(c, (const struct sockaddr *)&lo, sizeof(lo)));
	close(c);
	if (argc > 1)
		closed_while_busy(argv[1]);
	printf("relisten: done\n");
	return 0;
}
