/*
 * txsum: sends a TCP stream and says what went, for the POSIX server's
 * staged sends (tests/system/test_tx_stage.py; docs/posix.md, "iperf3":
 * a write is staged in the session buffer a buffer's worth at a time and
 * offered to the netstack from where its last take ended). `txsum PORT`
 * listens on PORT, accepts one connection and writes to it WRITES pieces
 * of a 2 MiB buffer filled with a pattern, each from another place
 * (stepping 5 pages and 24 bytes) and of another size (131072, 65549,
 * 100000 bytes, or three iovecs of 1000, 7 and 65536 bytes with writev),
 * blocking, then closes it and prints `txsum: N bytes fnv1a HEX` (FNV-1a,
 * 64 bits, of the bytes written). `txsum PORT CONNS [SECONDS]` accepts
 * CONNS connections (at most 4) and writes the same to each, the first
 * by this process and each other by a child of its own
 * (tests/system/test_tx_lend.py: one peer that stops reading beside
 * another), and with SECONDS dies by SIGALRM that long after its start.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITES 160
#define SPAN (2u << 20)

static unsigned char buf[SPAN + 140000];

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* All of n bytes at p, in as many writes as it takes. */
static int send_all(int s, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t k = write(s, p, n);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4)
		return 2;
	int port = atoi(argv[1]), one = 1, conns = argc > 2 ? atoi(argv[2]) : 1;
	if (conns < 1 || conns > 4)
		return 2;
	if (argc > 3)
		alarm((unsigned)atoi(argv[3]));
	uint32_t x = 0x2545F491;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, conns)) {
		perror("txsum: bind/listen");
		return 1;
	}
	printf("txsum: listening on %d\n", port);
	fflush(stdout);
	int c[4], s;
	for (int i = 0; i < conns; i++)
		if ((c[i] = accept(l, NULL, NULL)) < 0) {
			perror("txsum: accept");
			return 1;
		}
	s = c[0];
	for (int i = 1; i < conns; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("txsum: fork");
			return 1;
		}
		if (pid == 0) {
			s = c[i];
			break;
		}
	}
	for (int i = 0; i < conns; i++)
		if (c[i] != s)
			close(c[i]);
	static const size_t sizes[] = { 131072, 65549, 100000 };
	uint64_t h = 0xcbf29ce484222325ULL, total = 0;
	for (unsigned k = 0; k < WRITES; k++) {
		const unsigned char *p = buf + (k * (5 * 4096u + 24)) % SPAN;
		size_t n;
		if (k % 4 == 3) {
			struct iovec v[3] = { { (void *)p, 1000 }, { (void *)(p + 1000), 7 },
					      { (void *)(p + 1007), 65536 } };
			n = 1000 + 7 + 65536;
			ssize_t w = writev(s, v, 3);
			if (w <= 0 || send_all(s, p + w, n - (size_t)w)) {
				perror("txsum: writev");
				return 1;
			}
		} else {
			n = sizes[k % 4];
			if (send_all(s, p, n)) {
				perror("txsum: write");
				return 1;
			}
		}
		h = fnv(h, p, n);
		total += n;
	}
	close(s);
	printf("txsum: %llu bytes fnv1a %016llx\n", (unsigned long long)total,
	       (unsigned long long)h);
	fflush(stdout);
	while (wait(NULL) > 0)
		;
	return 0;
}
