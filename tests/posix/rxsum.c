/*
 * rxsum: receives TCP streams and says what came, for the lent receive
 * path (tests/system/test_rx_lend.py; docs/netstack.md "Received TCP
 * data"). `rxsum PORT N` listens on PORT, accepts N connections one after
 * the other and reads each to its end, in turn with read() of 128 KiB,
 * readv() into three odd pieces (1000, 7 and 65536 bytes) and
 * recv(MSG_WAITALL) of 100000, so that a read ends inside a pool buffer
 * and crosses iovecs; then prints `rxsum: N bytes fnv1a HEX` (FNV-1a,
 * 64 bits) for the connection. `rxsum PORT 0 [SECS]` accepts one
 * connection, reads 1 byte and then nothing more, sleeping, with data
 * waiting: killed by SIGALRM after SECS seconds if given (a process that
 * dies with data kept for it), else until something kills it.
 * `rxsum PORT -1` accepts one connection, sends "hi\n" on it (a POSIX
 * server's session then has its send area in use), waits a second for
 * data to queue, says how much one read() of 128 KiB got, and reads the
 * rest as above.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static unsigned char buf[131072];

#define FNV_BASIS 0xcbf29ce484222325ULL      /* FNV-1a 64's offset basis */

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Reads s to its end, turn by turn with read, readv and recv(MSG_WAITALL),
 * h and total carrying on from bytes already read; says the count and the
 * hash. 0, or 1 after a failed read. */
static int receive_all(int s, uint64_t h, uint64_t total)
{
	for (unsigned k = 0;; k++) {
		ssize_t n;
		if (k % 3 == 0) {
			n = read(s, buf, sizeof(buf));
			if (n > 0)
				h = fnv(h, buf, (size_t)n);
		} else if (k % 3 == 1) {
			struct iovec v[3] = { { buf, 1000 }, { buf + 1000, 7 },
					      { buf + 1007, 65536 } };
			n = readv(s, v, 3);
			if (n > 0)
				h = fnv(h, buf, (size_t)n);     /* the pieces are adjacent */
		} else {
			n = recv(s, buf, 100000, MSG_WAITALL);
			if (n > 0)
				h = fnv(h, buf, (size_t)n);
		}
		if (n < 0) {
			perror("rxsum: read");
			return 1;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
	}
	printf("rxsum: %llu bytes fnv1a %016llx\n", (unsigned long long)total,
	       (unsigned long long)h);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
		return 2;
	int port = atoi(argv[1]), conns = atoi(argv[2]), one = 1;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4)) {
		perror("rxsum: bind/listen");
		return 1;
	}
	printf("rxsum: listening on %d\n", port);
	fflush(stdout);
	if (conns < 0) {
		int s = accept(l, NULL, NULL);
		if (s < 0 || write(s, "hi\n", 3) != 3) {
			perror("rxsum: accept/write");
			return 1;
		}
		sleep(1);
		ssize_t n = read(s, buf, sizeof(buf));
		printf("rxsum: after a send, a first read of %zd bytes\n", n);
		if (n < 0) {
			perror("rxsum: read");
			return 1;
		}
		return receive_all(s, fnv(FNV_BASIS, buf, (size_t)n), (uint64_t)n);
	}
	for (int c = 0; c < (conns ? conns : 1); c++) {
		int s = accept(l, NULL, NULL);
		if (s < 0) {
			perror("rxsum: accept");
			return 1;
		}
		if (!conns) {
			char b;
			ssize_t n = read(s, &b, 1);
			printf("rxsum: read %zd byte, now stalled\n", n);
			fflush(stdout);
			if (argc == 4)
				alarm((unsigned)atoi(argv[3]));
			for (;;)
				pause();
		}
		if (receive_all(s, FNV_BASIS, 0))
			return 1;
		close(s);
	}
	return 0;
}
