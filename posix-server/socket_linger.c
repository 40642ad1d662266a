/*
 * A TCP listener closed and opened again on the same port (socket.h;
 * docs/posix.md, "A listener opened again"). Debian's iperf3 3.12, as
 * `iperf3 -s`, closes its listening socket at the end of every test and
 * makes a new one for the next (close, socket, setsockopt, bind, listen:
 * iperf_server_api.c's cleanup_server and iperf_server_listen). A
 * client's SYN that comes in between is reset ("unable to connect to
 * server: Connection refused"), and one that the old listener took
 * before its close is reset with it ("unable to receive control
 * message: Connection reset by peer"). On Linux the gap is a few
 * microseconds; on Mica under TCG on a loaded host it is a few system
 * calls of a guest whose virtual CPU may wait milliseconds for a host
 * CPU, so a client started right after the last one (a shell loop)
 * sometimes hit it (1 in 20 back-to-back runs).
 *
 * So the netstack listener of a socket its account's process closes
 * lingers, still listening and queueing connections, while that process
 * goes on with calls that cannot be waiting for it (LINGER_CALLS: closing,
 * memory, making and setting up sockets). A listen on a socket bound to
 * the same address and port by the same account, in the same netstack
 * session, takes the lingering listener over, with the connections it
 * queued; the socket's own netstack socket is closed instead. Any other
 * call of the account's processes, the end of one of them, or
 * LINGER_NS on the clock (looked at by the server's timer, at least
 * every 5 s: load_sample's) closes it as a close would have. The one
 * difference a peer can see: within that moment, a SYN is answered and
 * the connection reset afterwards instead of the SYN being reset.
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
	return true;
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

bool socket_linger_adopt(struct psock *s)
{
	uint64_t mine[2], theirs[2];

	if (!socket_lingering || s->dead || local_name(s, mine) < 0)
		return false;
	for (unsigned i = 0; i < SOCKET_MAX; i++) {
		struct psock *l = &socks[i];
		if (!l->used || !l->lingering || l->dead || l->account != s->account ||
		    l->session != s->session || local_name(l, theirs) < 0 ||
		    theirs[0] != mine[0] || theirs[1] != mine[1])
			continue;
		uint64_t w[1] = { (uint64_t)s->id };
		socket_call(s, SOCK_CLOSE, w, 1, NULL, 0);
		socket_session_count(s->session, -1);
		s->id = l->id;
		s->every_edge = l->every_edge;
		l->lingering = false;
		l->used = false;
		socket_lingering--;
		return true;
	}
	return false;
}
