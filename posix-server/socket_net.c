/*
 * The link to the netstack's socket service (socket.h, docs/posix.md
 * "Sockets"): the netstack's "net" endpoint (looked up without waiting;
 * its name watched, so that its end or a new netstack is a notification
 * bit) and up to SOCKET_SESSIONS sessions shared by every process, each
 * with a 256 KiB buffer (the netstack's memory) mapped into the server's
 * heap window: when the netstack dies its pages go from under the server,
 * and a copy that touches them then gets a zero page from init's pager
 * (which backs the heap window) instead of killing the server. The
 * server is one thread and every call to the netstack is SOCK_NONBLOCK,
 * so a call stages its data in the buffer, makes the call and is done
 * with the buffer before the next: one buffer serves every socket of a
 * session.
 *
 * When the netstack goes (a call's IPC fails, or init says its name
 * went), every session and socket goes with it and waiting calls are
 * woken; a new socket opens a new session once the netstack is back.
 */
#include "clock.h"
#include "socket.h"
#include "syscall.h"

#include "lib/names.h"
#include "lib/netsock.h"

#define SESSION_LOG2 SOCK_BUFFER_MAX_LOG2

struct session {
	struct net_session ns;
	bool open;
	unsigned sockets;               /* sockets of ours in it */
};

static struct session sessions[SOCKET_SESSIONS];
static cap_slot_t net_ep = CAP_SLOT_NONE;      /* the netstack's "net" */
static uint64_t net_generation;
static cap_slot_t ready_notif, net_notif;       /* badged copies of the server's */
static uint8_t *windows[SOCKET_SESSIONS];       /* where each session's buffer goes */

/* The netstack went: every session and socket with it. */
static void net_lost(void)
{
	for (unsigned i = 0; i < SOCKET_SESSIONS; i++) {
		struct session *se = &sessions[i];
		if (!se->open)
			continue;
		sys_cap_delete(se->ns.cap);
		slot_free(se->ns.cap);
		/* What is left there (zero pages a copy faulted in): the
		 * next session's buffer goes in its place. */
		sys_mem_unmap(fpage((uint64_t)se->ns.buf, SESSION_LOG2), MEM_UNMAP_SELF);
		se->open = false;
	}
	socket_all_dead();
	if (net_ep != CAP_SLOT_NONE) {
		sys_cap_delete(net_ep);
		slot_free(net_ep);
		net_ep = CAP_SLOT_NONE;
	}
	printf("posix: the netstack went: its sockets are closed\n");
	socket_wake_all();
}

/* A session with room for one more socket: its index, or -errno
 * (-ENETDOWN: no netstack now). */
long socket_session_take(void)
{
	long free = -1, err;

	if (net_ep == CAP_SLOT_NONE) {
		net_ep = slot_alloc();
		if (net_ep == CAP_SLOT_NONE)
			return -LINUX_ENOMEM;
		if (ns_lookup_now(SOCK_SERVICE_NAME, net_ep, &net_generation) < 0) {
			slot_free(net_ep);
			net_ep = CAP_SLOT_NONE;
			return -LINUX_ENETDOWN;
		}
	}
	for (unsigned i = 0; i < SOCKET_SESSIONS; i++) {
		if (sessions[i].open && sessions[i].sockets < SOCK_MAX_SOCKETS)
			return i;
		if (!sessions[i].open && free < 0)
			free = i;
	}
	if (free < 0)
		return -LINUX_ENFILE;
	struct session *se = &sessions[free];
	void *va = windows[free];
	if (!va)
		return -LINUX_ENOMEM;
	if ((err = net_session_open(&se->ns, net_ep, va, SESSION_LOG2, ready_notif)) < 0) {
		if (err == -SOCK_EIO)
			net_lost();
		return err == -SOCK_EIO ? -LINUX_ENETDOWN : err;
	}
	se->open = true;
	se->sockets = 0;
	return free;
}

void socket_session_count(int session, int delta)
{
	sessions[session].sockets += (unsigned)delta;
}

uint8_t *socket_buffer(const struct psock *s, uint64_t *size)
{
	*size = sessions[s->session].ns.size;
	return sessions[s->session].ns.buf;
}

long socket_call(struct psock *s, uint64_t label, uint64_t *w, unsigned n, uint64_t *out,
		 unsigned nout)
{
	if (s->dead)
		return -LINUX_ECONNRESET;
	if (label != SOCK_POLL && label != SOCK_POLL_ALL)
		s->poll_valid = false;
	long r = net_call(&sessions[s->session].ns, label, w, n, out, nout);
	if (r == -SOCK_EIO) {
		net_lost();
		return -LINUX_ECONNRESET;
	}
	return r;
}

void socket_notified(uint64_t bits)
{
	if (bits & SOCKET_NOTIFY_NET) {
		/* The netstack's name changed: gone, or a new netstack. */
		cap_slot_t probe = slot_alloc();
		uint64_t generation = 0;
		bool same = probe != CAP_SLOT_NONE &&
			    ns_lookup_now(SOCK_SERVICE_NAME, probe, &generation) == 0 &&
			    generation == net_generation;
		if (probe != CAP_SLOT_NONE) {
			sys_cap_delete(probe);
			slot_free(probe);
		}
		if (!same && net_ep != CAP_SLOT_NONE)
			net_lost();
	}
	if (bits & (SOCKET_NOTIFY_READY | SOCKET_NOTIFY_NET)) {
		socket_polls_stale();
		socket_wake_all();
	}
}

void socket_init(void)
{
	uint64_t size = 1UL << SESSION_LOG2;

	for (unsigned i = 0; i < SOCKET_SESSIONS; i++) {
		uint8_t *raw = mem_heap(2 * size);     /* aligned to its size within */
		windows[i] = raw ? (uint8_t *)(((uintptr_t)raw + size - 1) & ~(size - 1)) : NULL;
	}
	ready_notif = slot_alloc();
	net_notif = slot_alloc();
	if (sys_cap_copy(signal_notification, CAP_SLOT_SELF, ready_notif, CAP_RIGHT_WRITE,
			 SOCKET_NOTIFY_READY) < 0 ||
	    sys_cap_copy(signal_notification, CAP_SLOT_SELF, net_notif, CAP_RIGHT_WRITE,
			 SOCKET_NOTIFY_NET) < 0 ||
	    ns_watch(SOCK_SERVICE_NAME, net_notif) < 0)
		printf("posix: cannot watch the netstack's name: sockets will not notice its end\n");
}

