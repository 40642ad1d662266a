/*
 * A TCP listener closed and opened again on the same port at once, as
 * Debian's iperf3 -s does between tests (socket.h; docs/posix.md, "A
 * listener opened again"). A listener its account's process closes
 * lingers, still listening, while that process makes only calls that
 * cannot be waiting for it (linger_keeps); a listen on the same address
 * and port by the same account and session, with the same backlog (the
 * netstack keeps a listener's first), takes it over with the
 * connections it queued (a listen that takes none over closes the
 * account's lingering ones first: one may hold its port). Any other call
 * of the account's processes (before it is made), the end of one of
 * them, or LINGER_NS on the clock closes it as the close would have.
 */
#include "clock.h"
#include "socket.h"
#include "syscall.h"

#define LINGER_NS (500UL * 1000000)     /* at most, then closed */

unsigned socket_lingering;              /* lingering listeners */

static bool linger_keeps(uint64_t nr)
{
	switch (nr) {
	case LINUX_NR_close: case LINUX_NR_munmap: case LINUX_NR_mmap: case LINUX_NR_brk:
	case LINUX_NR_mprotect: case LINUX_NR_madvise: case LINUX_NR_socket:
	case LINUX_NR_setsockopt: case LINUX_NR_getsockopt: case LINUX_NR_bind:
	case LINUX_NR_listen: case LINUX_NR_fcntl: case LINUX_NR_clock_gettime:
	case LINUX_NR_gettimeofday: case LINUX_NR_getrusage: case LINUX_NR_getpid:
		return true;
	default:
		return false;
	}
}

bool socket_linger(struct psock *s)
{
	if (!s->listening || s->dead || !socket_netstack(s) || s->type != LINUX_SOCK_STREAM ||
	    s->account != share_account)
		return false;
	s->lingering = true;
	s->linger_until = (uint64_t)sys_clock() + LINGER_NS;
	socket_lingering++;
	signal_timer_arm();             /* closed at linger_until at the latest */
	return true;
}

uint64_t socket_linger_first(void)
{
	uint64_t first = 0;

	for (unsigned i = 0; socket_lingering && i < SOCKET_MAX; i++) {
		const struct psock *s = &socks[i];
		if (s->used && s->lingering && (!first || s->linger_until < first))
			first = s->linger_until;
	}
	return first;
}

static void linger_close(struct psock *s)
{
	uint64_t w[1] = { (uint64_t)s->id };

	if (!s->dead) {
		socket_call(s, SOCK_CLOSE, w, 1, NULL, 0);
		socket_session_count(s->session, -1);
	}
	s->lingering = false;
	s->used = false;
	socket_lingering--;
	socket_wake_all();
}

void socket_linger_end(int account, uint64_t now)
{
	for (unsigned i = 0; socket_lingering && i < SOCKET_MAX; i++) {
		struct psock *s = &socks[i];
		if (s->used && s->lingering && (s->account == account || s->linger_until <= now))
			linger_close(s);
	}
}

void socket_linger_call(struct process *p, uint64_t nr)
{
	if (!linger_keeps(nr))
		socket_linger_end(p->account, 0);
}

/* The socket's local address and port, from the netstack: 0 or -errno. */
static long local_name(struct psock *s, uint64_t out[2])
{
	uint64_t w[2] = { (uint64_t)s->id, 0 };

	return socket_call(s, SOCK_NAME, w, 2, out, 2);
}

bool socket_linger_adopt(struct psock *s, int backlog)
{
	uint64_t mine[2], theirs[2];

	if (!socket_lingering || s->dead || local_name(s, mine) < 0)
		return false;
	for (unsigned i = 0; i < SOCKET_MAX; i++) {
		struct psock *l = &socks[i];
		if (!l->used || !l->lingering || l->dead || l->account != s->account ||
		    l->session != s->session || l->backlog != backlog ||
		    local_name(l, theirs) < 0 ||
		    theirs[0] != mine[0] || theirs[1] != mine[1])
			continue;
		uint64_t w[1] = { (uint64_t)s->id };
		socket_call(s, SOCK_CLOSE, w, 1, NULL, 0);
		socket_session_count(s->session, -1);
		s->id = l->id;
		s->every_edge = l->every_edge;
		s->backlog = l->backlog;
		s->poll_valid = false;  /* the bits known were s's own id's */
		l->lingering = false;
		l->used = false;
		socket_lingering--;
		return true;
	}
	return false;
}
