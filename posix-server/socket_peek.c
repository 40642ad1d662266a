/*
 * What a socket received and the process has not read yet, held by the
 * server (socket.h): MSG_PEEK and FIONREAD on a stream, and every read
 * of a UDP socket. The netstack's SOCK_RECV takes what it gives, so
 *
 * - a stream's peek takes bytes into the socket's stash (up to
 *   STASH_MAX), and later reads are served from it first; FIONREAD counts
 *   what the stash holds after filling it (at most STASH_MAX of what is
 *   queued; Linux counts all);
 * - a UDP socket's reads take as many datagrams as the stash holds with
 *   one call (SOCK_RECV_MANY: each a struct sock_dgram and its bytes, as
 *   the netstack laid them out), and the reads and polls that follow are
 *   served from it without asking the netstack, until it is empty: a
 *   reader such as iperf3 makes a select and a read a datagram, and each
 *   would otherwise be a call to the netstack. The call's answer carries
 *   the socket's poll bits after it (what the netstack has left), kept as
 *   if polled (socket_poll_known), so the select after the stash's last
 *   datagram asks nothing either; the netstack signals a datagram that
 *   comes only when those bits said nothing was left. FIONREAD is the
 *   next datagram's length, as Linux. A peek leaves the datagram there;
 *   a read whose copy faults takes it, as Linux's;
 * - a stream's read into a buffer that a copy would fault in
 *   (socket_io.c) takes what comes into the stash too, so that the bytes
 *   stay for the next read when the copy faults (Linux: EFAULT, the data
 *   still queued).
 *
 * Each socket slot's stash is STASH_MAX bytes of the server's heap
 * window, taken the first time a socket in that slot needs it and kept
 * for the slot. So what a UDP socket has received and not read is its
 * netstack queue (its SO_RCVBUF) and at most STASH_MAX here.
 */
#include "socket.h"
#include "syscall.h"

#define STASH_MAX 65536         /* the largest UDP datagram fits, with its header */

static uint8_t *stash_mem[SOCKET_MAX];

/* The stashed datagram at the stash's read position. */
static struct sock_dgram stash_head(const struct psock *s, unsigned slot)
{
	struct sock_dgram h;

	memcpy(&h, stash_mem[slot] + s->stash_off, sizeof(h));
	return h;
}

long stash_fill(struct psock *s, unsigned slot)
{
	bool dgram = s->type == LINUX_SOCK_DGRAM;
	uint64_t size, out[6];
	uint8_t *buf = socket_buffer(s, &size);

	if (s->stashed)
		return dgram ? stash_head(s, slot).len : s->stash_len;
	if (!stash_mem[slot] && !(stash_mem[slot] = mem_heap(STASH_MAX)))
		return -LINUX_ENOMEM;
	if (s->dead)
		return dgram ? -LINUX_ENETDOWN : 0;
	uint64_t w[4] = { (uint64_t)s->id, 0, STASH_MAX < size ? STASH_MAX : size,
			  SOCK_NONBLOCK | (dgram ? SOCK_RECV_MANY : 0) };
	long r = socket_call(s, SOCK_RECV, w, 4, out, dgram ? 3 : 6);
	if (r < 0)
		return r;
	if (dgram)
		socket_poll_known(s, (unsigned)out[2]);   /* what the netstack has left */
	if (out[0] > w[2])
		return -LINUX_EIO;      /* not what the netstack may answer */
	memcpy(stash_mem[slot], buf, out[0]);
	s->stash_off = 0;
	s->stash_len = (uint32_t)out[0];
	s->stash_dgram = dgram;
	if (!dgram) {
		s->stashed = out[0] > 0;        /* 0 bytes: the end of the stream */
		s->stash_from = (struct sock_addr){ (uint32_t)out[1], (uint16_t)out[2] };
		return (long)out[0];
	}
	s->stashed = out[1] > 0 && out[0] >= sizeof(struct sock_dgram);
	if (!s->stashed)
		return -LINUX_EAGAIN;
	struct sock_dgram h = stash_head(s, slot);
	if (sizeof(h) + h.len > s->stash_len) {
		s->stashed = false;
		return -LINUX_EIO;
	}
	return h.len;
}

long stash_take(struct process *p, struct psock *s, unsigned slot, const struct uio *u,
		uint64_t total, bool peek, struct sock_addr *from, bool *truncated, uint64_t *whole)
{
	if (s->stash_dgram) {
		struct sock_dgram h = stash_head(s, slot);
		uint64_t n = total < h.len ? total : h.len;
		/* A copy that faults takes the datagram all the same, as
		 * Linux's udp_recvmsg (a peek leaves it). */
		long c = uio_copy(p, u, 0, stash_mem[slot] + s->stash_off + sizeof(h), n, true);
		if (!peek) {
			s->stash_off += (uint32_t)SOCK_DGRAM_NEXT(h.len);
			/* The next header must be whole and its bytes inside. */
			s->stashed = s->stash_off + sizeof(h) <= s->stash_len &&
				     s->stash_off + sizeof(h) + stash_head(s, slot).len <= s->stash_len;
		}
		if (c < 0)
			return -LINUX_EFAULT;
		if (from)
			*from = (struct sock_addr){ h.addr, h.port };
		*truncated = h.whole > n;
		*whole = h.whole;
		return (long)n;
	}
	uint64_t n = total < s->stash_len ? total : s->stash_len;

	if (uio_copy(p, u, 0, stash_mem[slot], n, true) < 0)
		return -LINUX_EFAULT;
	if (from)
		*from = s->stash_from;
	if (!peek) {
		memmove(stash_mem[slot], stash_mem[slot] + n, s->stash_len - n);
		s->stash_len -= (uint32_t)n;
		s->stashed = s->stash_len > 0;
	}
	return (long)n;
}
