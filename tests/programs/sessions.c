/*
 * A socket-service client that uses what the netstack promises to its
 * limit (tests/system/test_net.py): every session (SOCK_MAX_SESSIONS) with
 * the largest buffer, each buffer written through; then a session
 * capability kept past SOCK_END, which must no longer reach anything,
 * even the next session given the same badge.
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netsock.h"
#include "proto/socket.h"

#define LOG2 SOCK_BUFFER_MAX_LOG2
#define WINDOW (PROGRAM_OWN_BASE + (4UL << 30))

static struct net_session sessions[SOCK_MAX_SESSIONS + 1];

static void *buffer(unsigned i)
{
	return (void *)(WINDOW + ((uint64_t)i << LOG2));
}

int main(uint64_t arg)
{
	cap_slot_t net = slot_alloc();
	unsigned opened = 0;
	long err;

	if ((err = ns_lookup(SOCK_SERVICE_NAME, net)) < 0) {
		printf("sessions: no netstack: %s\n", mica_strerror(err));
		return 1;
	}
	for (; opened < SOCK_MAX_SESSIONS; opened++) {
		if ((err = net_session_open(&sessions[opened], net, buffer(opened), LOG2,
					    CAP_SLOT_NONE)) < 0)
			break;
		memset(sessions[opened].buf, 0xA5, sessions[opened].size);
	}
	long more = net_session_open(&sessions[opened], net, buffer(opened), LOG2, CAP_SLOT_NONE);
	printf("sessions: opened %u of %u with %lu KiB each, then %s\n", opened,
	       SOCK_MAX_SESSIONS, (1UL << LOG2) >> 10, more < 0 ? "refused" : "one more");
	for (unsigned i = 0; i < opened; i++)
		net_session_end(&sessions[i]);

	/* A copy of a session's capability outlives SOCK_END. */
	struct net_session first, second, stale;
	cap_slot_t kept = slot_alloc();
	if (net_session_open(&first, net, buffer(0), 12, CAP_SLOT_NONE) < 0 ||
	    sys_cap_copy(first.cap, CAP_SLOT_SELF, kept, CAP_RIGHTS_ALL, 0) < 0) {
		printf("sessions: FAILED to open a session\n");
		return 1;
	}
	net_session_end(&first);
	if (net_session_open(&second, net, buffer(1), 12, CAP_SLOT_NONE) < 0) {
		printf("sessions: FAILED to open the second session\n");
		return 1;
	}
	long sock = sock_open(&second, SOCK_STREAM);
	stale = second;
	stale.cap = kept;
	long through_stale = sock_close(&stale, (int)sock);
	long still_there = sock_close(&second, (int)sock);
	printf("sessions: an ended session's capability: %s; the next session's socket "
	       "closed by its owner: %s\n", through_stale == 0 ? "still works" : "refused",
	       still_there == 0 ? "yes" : "no");
	net_session_end(&second);
	return 0;
}
