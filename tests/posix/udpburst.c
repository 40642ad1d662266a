/*
 * UDP datagrams sent in bursts, differential: `udpburst PEER`
 * (tests/system/test_posix_net.py runs it with the others, against the
 * namespace's peer: UDP 7771 echoes, nothing on 7772). On Mica the POSIX
 * server answers such sends at once and sends them in batches
 * (posix-server/socket_batch.c, docs/posix.md "UDP from Mica"); this is
 * what must not change: every datagram of a burst, of sizes from 1 byte
 * to more than a batch takes (those go straight, between batched ones),
 * on a connected socket and with sendto, arrives once and in order with
 * its bytes (each echoed datagram's sequence number, length and
 * checksum are checked), also when two sockets' sends are interleaved;
 * the errors a send reports at once still come at once after batched
 * sends (EMSGSIZE, EDESTADDRREQ), and an ICMP port unreachable that came
 * after a send is the next send's ECONNREFUSED, as on Linux.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EMSGSIZE) X(EDESTADDRREQ) X(ECONNREFUSED) X(EAGAIN)
#include "check.h"

#define ECHO    7771
#define CLOSED  7772
#define BURSTS  12
#define PER     20              /* datagrams a burst: within the peer's receive buffer */
#define WAIT_MS 5000
#define BIG     20000           /* larger than a batch takes: sent straight */

static unsigned char out[65536], in[65536];
static struct sockaddr_in peer;

/* Datagram seq's length: 1 to 3000 bytes, some 1472 (a frame's), one a
 * burst BIG. */
static size_t length_of(unsigned seq)
{
	if (seq % PER == 7)
		return BIG;
	if (seq % 5 == 0)
		return 1472;
	return 1 + (seq * 2654435761u >> 7) % 3000;
}

static uint32_t checksum(const unsigned char *b, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* Datagram seq into out (its sequence number first, then bytes of it). */
static size_t fill(unsigned seq)
{
	size_t n = length_of(seq);

	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(seq * 31 + i * 7);
	if (n >= 4)
		memcpy(out, &seq, 4);
	return n;
}

/* Datagram seq sent on s (to the peer's port, or connected: port 0). */
static int send_one(int s, unsigned seq, int port)
{
	size_t n = fill(seq);
	struct sockaddr_in to = peer;

	to.sin_port = htons((uint16_t)port);
	long r = port ? sendto(s, out, n, 0, (struct sockaddr *)&to, sizeof(to))
		      : send(s, out, n, 0);
	return r == (long)n;
}

/* The echo of datagram seq on s, within WAIT_MS: 1 when its length and
 * bytes are seq's. */
static int echoed(int s, unsigned seq)
{
	struct pollfd p = { s, POLLIN, 0 };

	if (poll(&p, 1, WAIT_MS) != 1)
		return 0;
	long n = recv(s, in, sizeof(in), 0);
	size_t want = fill(seq);
	return n == (long)want && checksum(in, want) == checksum(out, want);
}

/* BURSTS bursts of PER datagrams on a (port: with sendto) and, if b >= 0,
 * b's interleaved, every one's echo read after each burst. */
static void bursts(const char *what, int a, int b, int port)
{
	unsigned sent = 0, back = 0, seq_a = 0, seq_b = 0;

	for (unsigned k = 0; k < BURSTS; k++) {
		unsigned first_a = seq_a, first_b = seq_b;
		for (unsigned i = 0; i < PER; i++) {
			if (b >= 0 && i % 2)
				sent += send_one(b, 1000 + seq_b++, 0);
			else
				sent += send_one(a, seq_a++, port);
		}
		for (unsigned s = first_a; s < seq_a; s++)
			back += echoed(a, s);
		for (unsigned s = first_b; s < seq_b; s++)
			back += echoed(b, 1000 + s);
	}
	printf("udpburst: %s: %u of %u datagrams sent, %u echoed in order with their bytes\n",
	       what, sent, BURSTS * PER, back);
}

static int udp(int connect_to)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = peer;

	to.sin_port = htons((uint16_t)connect_to);
	if (s < 0 || (connect_to && connect(s, (struct sockaddr *)&to, sizeof(to)) < 0))
		printf("udpburst: socket: %s\n", err(errno));
	return s;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	peer.sin_family = AF_INET;
	if (argc < 2 || !inet_aton(argv[1], &peer.sin_addr)) {
		printf("usage: udpburst PEER\n");
		return 2;
	}
	int c = udp(ECHO), u = udp(0), c2 = udp(ECHO);

	/* One echoed first, alone: the peer's address resolved (lwIP holds
	 * one datagram while it asks, Linux a few). */
	send_one(c, 0, 0);
	printf("udpburst: the peer echoes: %d\n", echoed(c, 0));
	bursts("connected", c, -1, 0);
	bursts("sendto", u, -1, ECHO);
	bursts("two sockets interleaved", c, c2, 0);

	/* Errors a send reports at once, after sends that were batched. */
	for (unsigned i = 0; i < 5; i++)
		send_one(c, i, 0);
	show("udpburst: send of 65508 bytes after a burst", send(c, out, 65508, 0));
	for (unsigned i = 0; i < 5; i++)
		send_one(u, i, ECHO);
	show("udpburst: send without an address on an unconnected socket", send(u, out, 10, 0));
	show("udpburst: sendto of 65508 bytes after a burst",
	     sendto(u, out, 65508, 0, (struct sockaddr *)&(struct sockaddr_in){
		     .sin_family = AF_INET, .sin_port = htons(ECHO), .sin_addr = peer.sin_addr },
		     sizeof(peer)));
	unsigned back = 0;
	for (unsigned i = 0; i < 5; i++)
		back += echoed(c, i);
	for (unsigned i = 0; i < 5; i++)
		back += echoed(u, i);
	printf("udpburst: the 10 sent around them echoed: %u\n", back);

	/* An ICMP port unreachable that came after a send: the next one's. */
	int r = udp(CLOSED);
	show("udpburst: send to a port nobody listens on", send(r, out, 100, 0));
	nanosleep(&(struct timespec){ 0, 500000000 }, NULL);
	show("udpburst: the next send, the port's refusal come", send(r, out, 100, 0));
	show("udpburst: the one after", send(r, out, 100, 0));
	nanosleep(&(struct timespec){ 0, 500000000 }, NULL);
	int e = -1;
	socklen_t len = sizeof(e);
	getsockopt(r, SOL_SOCKET, SO_ERROR, &e, &len);
	printf("udpburst: SO_ERROR then: %s\n", err(e));
	send_one(r, 0, 0);
	nanosleep(&(struct timespec){ 0, 500000000 }, NULL);
	show("udpburst: a receive after sends refused", recv(r, in, sizeof(in), MSG_DONTWAIT));
	show("udpburst: and again", recv(r, in, sizeof(in), MSG_DONTWAIT));
	close(r);
	close(c);
	close(c2);
	close(u);
	printf("udpburst: done\n");
	return 0;
}
