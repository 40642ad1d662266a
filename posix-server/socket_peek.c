/*
 * What a socket received and the process has not read yet, held by the
 * server: MSG_PEEK and FIONREAD (socket.h). The netstack's SOCK_RECV
 * takes what it gives, so a peek takes bytes into the socket's stash
 * (up to STASH_MAX: a TCP stream's first bytes, or one whole UDP
 * datagram with its sender), and later reads are served from it first.
 * FIONREAD counts what the stash holds after filling it: for TCP at most
 * STASH_MAX of what is queued (Linux counts all), for UDP the next
 * datagram's length, as Linux.
 *
 * Each socket slot's stash is 64 KiB of the server's heap window, taken
 * the first time a socket in that slot peeks and kept for the slot.
 */
#include "socket.h"
#include "syscall.h"

#define STASH_MAX 65536         /* the largest UDP datagram fits */

static uint8_t *stash_mem[SOCKET_MAX];

long stash_fill(struct psock *s, unsigned slot)
{
	uint64_t size, out[6];
	uint8_t *buf = socket_buffer(s, &size);

	if (s->stashed)
		return s->stash_len;
	if (!stash_mem[slot] && !(stash_mem[slot] = mem_heap(STASH_MAX)))
		return -LINUX_ENOMEM;
	if (s->dead)
		return s->type == LINUX_SOCK_DGRAM ? -LINUX_ENETDOWN : 0;
	uint64_t w[4] = { (uint64_t)s->id, 0, STASH_MAX < size ? STASH_MAX : size, SOCK_NONBLOCK };
	long r = socket_call(s, SOCK_RECV, w, 4, out, 6);
	if (r < 0)
		return r;
	memcpy(stash_mem[slot], buf, out[0]);
	s->stashed = out[0] || s->type == LINUX_SOCK_DGRAM;     /* 0 bytes of TCP: the end */
	s->stash_len = (uint32_t)out[0];
	s->stash_from = (struct sock_addr){ (uint32_t)out[1], (uint16_t)out[2] };
	s->stash_whole = s->type == LINUX_SOCK_DGRAM ? (uint32_t)out[3] : (uint32_t)out[0];
	s->stash_dgram = s->type == LINUX_SOCK_DGRAM;
	return (long)out[0];
}

long stash_take(struct process *p, struct psock *s, unsigned slot, const struct uio *u,
		uint64_t total, bool peek, struct sock_addr *from, bool *truncated, uint64_t *whole)
{
	uint64_t n = total < s->stash_len ? total : s->stash_len;

	if (uio_copy(p, u, 0, stash_mem[slot], n, true) < 0)
		return -LINUX_EFAULT;
	if (from)
		*from = s->stash_from;
	if (s->stash_dgram) {
		*truncated = s->stash_whole > n;
		*whole = s->stash_whole;
		if (!peek)
			s->stashed = false;
		return (long)n;
	}
	if (!peek) {
		memmove(stash_mem[slot], stash_mem[slot] + n, s->stash_len - n);
		s->stash_len -= (uint32_t)n;
		s->stashed = s->stash_len > 0;
	}
	return (long)n;
}
