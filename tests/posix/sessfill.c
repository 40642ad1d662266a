/*
 * sessfill (Mica only): connections its own listeners never accept fill
 * the netstack's session they are in (each waits in the netstack until
 * accepted), while the POSIX server counts only its own sockets there.
 * It listens on 10 ports of 127.0.0.1 (backlog 16) and makes 120 client
 * sockets, each connected to one of them before the next: 130 sockets in
 * all, within an account's share of the netstack's (144). Every
 * socket() must succeed: the server opens another session when the
 * netstack says one is full (it answered ENFILE with the second unused,
 * about 85 sockets in, for every process). Lines:
 *
 *   sessfill: 130 sockets made       (or "N sockets made, then socket(): E")
 *   sessfill: done
 *
 * tests/system/test_tcp_segments.py runs it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTENERS 10
#define CLIENTS   120
#define PORT      7300

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int made = 0, err = 0;

	for (int i = 0; i < LISTENERS; i++) {
		int l = socket(AF_INET, SOCK_STREAM, 0);
		a.sin_port = htons(PORT + i);
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0) {
			printf("sessfill: listener %d: %s\n", i, strerror(errno));
			return 1;
		}
		made++;
	}
	for (int k = 0; k < CLIENTS; k++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (c < 0) {
			err = errno;
			break;
		}
		made++;
		a.sin_port = htons(PORT + k % LISTENERS);
		if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == EINPROGRESS) {
			struct pollfd p = { .fd = c, .events = POLLOUT };
			poll(&p, 1, 2000);      /* the handshake: the netstack holds it now */
		}
	}
	if (err)
		printf("sessfill: %d sockets made, then socket(): %s\n", made, strerror(err));
	else
		printf("sessfill: %d sockets made\n", made);
	printf("sessfill: done\n");
	return 0;
}
