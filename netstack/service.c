/*
 * The netstack's endpoint: the names it is published under, which service
 * a request is for, and the capability a request may bring. The loop
 * (main.c) receives on it; docs/netstack.md and docs/netmgmt.md.
 *
 * One endpoint (with the netstack's notification bound to its thread)
 * serves every client. The capabilities to it are told apart by badge:
 *
 *   badge                 published as / given by     served by
 *   SOCK_BADGE_OPEN       SOCK_SERVICE_NAME ("net")   socket_session.c: SOCK_SESSION
 *   SOCK_BADGE_LEND       SOCK_LEND_NAME ("net-lend", socket_session.c: SOCK_SESSION,
 *                         private: init's manifest)   a lending one
 *   1..SOCK_MAX_SESSIONS  SOCK_SESSION's reply        socket_session.c: socket calls
 *   SERVICE_BADGE_MGMT    NETMGMT_NAME ("netmgmt",    netmgmt.c
 *                         private: init's manifest)
 *   SERVICE_BADGE_MGMT_RO NETMGMT_RO_NAME             netmgmt.c: reads only
 *                         ("netmgmt-ro")
 *
 * The published copies carry no receive right (and the management one
 * no grant right), so a client can only send requests. Every one is
 * badged: the kernel lets the holder of an unbadged copy make copies with
 * any badge it likes (sys_cap_copy), which would give it the management
 * badge, the lending one or another client's session. Nobody holds an
 * unbadged copy but the netstack; a request without a badge is refused.
 */
#include "netstack.h"

#include "lib/names.h"
#include "proto/socket.h"
#include "socket_service.h"

#define SERVICE_BADGE_MGMT (1UL << 32)  /* past every session's badge */
#define SERVICE_BADGE_MGMT_RO (SERVICE_BADGE_MGMT | 1)
_Static_assert(SERVICE_BADGE_MGMT > SOCK_MAX_SESSIONS, "the management badge is no session's");

static cap_slot_t endpoint, recv_slot;
static bool cap_arrived;                /* the request brought a capability into recv_slot */

void service_answer(cap_slot_t reply, uint64_t err, const uint64_t *w, unsigned n)
{
	struct msg m = msg_from_words(err, w, err ? 0 : n);
	ipc_reply(reply, &m);
}

/* A copy of the endpoint with rights and badge, published as name
 * (private_name: only for programs the manifest lets look it up). */
static long publish(const char *name, uint64_t rights, uint64_t badge, bool private_name)
{
	cap_slot_t cap = slot_alloc();
	long e = cap == CAP_SLOT_NONE ? -ERR_NO_MEMORY
				      : sys_cap_copy(endpoint, CAP_SLOT_SELF, cap, rights, badge);

	if (e >= 0)
		e = private_name ? ns_register_private(name, cap) : ns_register(name, cap);
	if (e == -ERR_SLOT_IN_USE)
		printf("netstack: '%s' is taken by another program (init says which): "
		       "is a second netstack in the manifest?\n", name);
	else if (e < 0)
		printf("netstack: cannot register '%s': %s\n", name, mica_strerror(e));
	return e;
}

long service_init(cap_slot_t ep)
{
	long e;

	endpoint = ep;
	recv_slot = slot_alloc();
	socket_init(ep);
	/* net-lend before net: a client that finds net finds it too. */
	if ((e = publish(NETMGMT_NAME, CAP_RIGHT_WRITE, SERVICE_BADGE_MGMT, true)) < 0 ||
	    (e = publish(NETMGMT_RO_NAME, CAP_RIGHT_WRITE, SERVICE_BADGE_MGMT_RO, false)) < 0 ||
	    (e = publish(SOCK_LEND_NAME, CAP_RIGHT_WRITE | CAP_RIGHT_GRANT, SOCK_BADGE_LEND, true)) < 0 ||
	    (e = publish(SOCK_SERVICE_NAME, CAP_RIGHT_WRITE | CAP_RIGHT_GRANT, SOCK_BADGE_OPEN,
			  false)) < 0)
		return e;
	return 0;
}

long service_receive(struct msg *m, cap_slot_t reply, bool nonblock)
{
	struct ipc_buffer *b = ipc_buffer();

	/* Set each time: the netstack's own calls (names, drivers) use these too. */
	b->recv_cap_slot = recv_slot;
	b->recv_window = 0;
	return ipc_recv(endpoint | (nonblock ? IPC_NONBLOCK : 0), reply, m);
}

cap_slot_t service_take_cap(void)
{
	if (!cap_arrived)
		return CAP_SLOT_NONE;
	cap_slot_t got = recv_slot;
	recv_slot = slot_alloc();
	cap_arrived = false;
	return got;
}

bool service_has_cap(void)
{
	return cap_arrived;
}

bool service_request(struct msg *m, cap_slot_t reply)
{
	bool answered = true;

	cap_arrived = ipc_buffer()->recv_cap_count != 0;
	if (m->badge == SERVICE_BADGE_MGMT || m->badge == SERVICE_BADGE_MGMT_RO)
		netmgmt_request(m, reply, m->badge == SERVICE_BADGE_MGMT_RO);
	else
		answered = socket_request(m, reply);
	/* A capability the request brought and nobody kept. */
	if (cap_arrived)
		sys_cap_delete(recv_slot);
	cap_arrived = false;
	return answered;
}
