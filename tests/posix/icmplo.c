/*
 * Port unreachables over lo are not rate-limited, differential: `icmplo
 * [PEER]` (PEER unused; tests/system/test_posix_net.py runs it with the
 * others). Linux limits the ICMP errors it sends to a host to a burst of
 * 6 and then one a second (icmp(7), icmp_ratelimit), but not those whose
 * route is the loopback device (net/ipv4/icmp.c, icmpv4_xrlim_allow): so
 * a connected UDP socket on 127.0.0.1 learns of every datagram that
 * found nobody at the port (udp(7): ECONNREFUSED, once, by the next
 * receive). Twenty in a row, none waited for (the global limit, a burst
 * of 50, is not reached).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EAGAIN) X(ECONNREFUSED)
#include "check.h"

#define NOBODY_PORT 7779        /* where nobody listens, as netstate.c's */
#define ROUNDS 20

int main(void)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons(NOBODY_PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int sent = 0, refused = 0, other = 0;
	char got[8];

	int s = socket(AF_INET, SOCK_DGRAM, 0);
	report("connect UDP to 127.0.0.1:7779", connect(s, (struct sockaddr *)&lo, sizeof(lo)));
	for (int i = 0; i < ROUNDS; i++) {
		if (send(s, "x", 1, 0) == 1)
			sent++;
		struct pollfd p = { s, POLLIN, 0 };
		poll(&p, 1, 1000);      /* the error comes at once; a second at most */
		ssize_t n = recv(s, got, sizeof(got), MSG_DONTWAIT);
		if (n < 0 && errno == ECONNREFUSED)
			refused++;
		else
			other++;
	}
	printf("%d sends to 127.0.0.1:7779: %d sent, %d refused, %d not\n", ROUNDS, sent, refused,
	       other);
	close(s);
	printf("icmplo: done\n");
	return 0;
}
