/*
 * tcphold: listens on TCP ports 7100..7100+LISTENERS-1 (backlog 16, the
 * netstack's most) and never accepts: a service that is slow to accept,
 * for tests/system/test_tcp_segments.py. The netstack answers the
 * connections and takes in their data until each window is full. And a
 * UDP socket on port UDP_PORT that it never reads: the netstack queues
 * datagrams to it up to its receive buffer.
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netsock.h"
#include "proto/nameservice.h"
#include "proto/program.h"

#define LISTENERS  4
#define UDP_PORT   7200
#define BUF_LOG2   12
#define BUF_WINDOW (PROGRAM_OWN_BASE + (2UL << 30))

int main(uint64_t arg)
{
	static struct net_session s;
	cap_slot_t net = slot_alloc(), idle = slot_alloc();
	long err;

	(void)arg;
	if ((err = ns_lookup(SOCK_SERVICE_NAME, net)) < 0 ||
	    (err = net_session_open(&s, net, (void *)BUF_WINDOW, BUF_LOG2, CAP_SLOT_NONE)) < 0) {
		printf("tcphold: no netstack: %s\n", mica_strerror(err));
		return 1;
	}
	for (unsigned i = 0; i < LISTENERS; i++) {
		long l = sock_open(&s, SOCK_STREAM);
		if (l < 0 || (err = sock_bind(&s, (int)l, 0, (uint16_t)(7100 + i))) < 0 ||
		    (err = sock_listen(&s, (int)l, 16)) < 0) {
			printf("tcphold: listen on %u: %ld\n", 7100 + i, l < 0 ? l : err);
			return 1;
		}
	}
	long u = sock_open(&s, SOCK_DGRAM);
	if (u < 0 || (err = sock_bind(&s, (int)u, 0, UDP_PORT)) < 0) {
		printf("tcphold: bind UDP %u: %ld\n", UDP_PORT, u < 0 ? u : err);
		return 1;
	}
	printf("tcphold: listening on %u ports from 7100, UDP on %u\n", LISTENERS, UDP_PORT);
	sys_obj_create(CAP_NOTIFICATION, idle, 0);
	for (;;)
		sys_notify_wait(idle, 0);
}
