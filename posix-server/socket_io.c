/*
 * Sending and receiving on sockets (socket.h; docs/posix.md "Sockets"):
 * user buffers (struct uio), then send and receive on TCP and UDP
 * sockets through the netstack's socket service (AF_UNIX goes to
 * socket_unix.c and socket_dgram.c), SIGPIPE, and the SO_RCVTIMEO /
 * SO_SNDTIMEO limits. socket.c holds the table and readiness.
 */
#include "clock.h"
#include "file.h"
#include "signals.h"
#include "socket.h"
#include "syscall.h"

#define UDP_MAX      65507      /* the largest IPv4 datagram's data */
#define SEND_STAGE_MIN 16384    /* staged for a stream whose send buffer was full */

/* ---- user buffers ---- */

static bool uio_vec(struct process *p, const struct uio *u, uint64_t i, struct linux_iovec *v)
{
	if (u->single) {
		*v = *u->single;
		return true;
	}
	return as_copy_in(&p->as, v, u->va + i * sizeof(*v), sizeof(*v)) == 0;
}

long uio_total(struct process *p, const struct uio *u)
{
	uint64_t total = 0;
	struct linux_iovec v;

	for (uint64_t i = 0; i < u->count; i++) {
		if (!uio_vec(p, u, i, &v))
			return -LINUX_EFAULT;
		if ((int64_t)v.len < 0 || total + v.len > 0x7FFFF000UL)
			return -LINUX_EINVAL;
		total += v.len;
	}
	return (long)total;
}

long uio_copy(struct process *p, const struct uio *u, uint64_t skip, uint8_t *buf,
		     uint64_t n, bool out)
{
	struct linux_iovec v;

	for (uint64_t i = 0; i < u->count && n; i++) {
		if (!uio_vec(p, u, i, &v))
			return -LINUX_EFAULT;
		if (v.len <= skip) {
			skip -= v.len;
			continue;
		}
		uint64_t k = v.len - skip < n ? v.len - skip : n;
		long r = 0;
		if (u->kernel && !out)
			memcpy(buf, u->kernel + skip, k);
		else if (u->kernel)
			memcpy(u->kernel + skip, buf, k);
		else
			r = out ? as_copy_out(&p->as, v.base + skip, buf, k)
				: as_copy_in(&p->as, buf, v.base + skip, k);
		if (r < 0)
			return -LINUX_EFAULT;
		buf += k;
		n -= k;
		skip = 0;
	}
	return 0;
}

/* Whether a copy of n bytes into u from its byte skip on would reach
 * only writable regions of the process (true for the server's own). */
static bool uio_writable(struct process *p, const struct uio *u, uint64_t skip, uint64_t n)
{
	struct linux_iovec v;

	if (u->kernel)
		return true;
	for (uint64_t i = 0; i < u->count && n; i++) {
		if (!uio_vec(p, u, i, &v))
			return false;
		if (v.len <= skip) {
			skip -= v.len;
			continue;
		}
		uint64_t va = v.base + skip, k = v.len - skip < n ? v.len - skip : n;
		if (va + k < va)
			return false;
		for (uint64_t at = va; at < va + k; ) {
			const struct as_region *r = as_region_at(&p->as, at);
			if (!r || !(r->rights & IPC_MAP_WRITE))
				return false;
			at = r->end;
		}
		n -= k;
		skip = 0;
	}
	return true;
}

/* ---- sending and receiving ---- */

/* A write that cannot go (EPIPE): Linux's SIGPIPE unless MSG_NOSIGNAL. */
long socket_broken(struct process *p, uint64_t flags)
{
	if (!(flags & LINUX_MSG_NOSIGNAL)) {
		if (p->actions[LINUX_SIGPIPE - 1].handler == LINUX_SIG_DFL &&
		    !(p->current->sigmask & 1UL << (LINUX_SIGPIPE - 1)))
			printf("posix: %s (pid %d): write to a socket that cannot send: SIGPIPE\n",
			       p->name, p->pid);
		signal_send_thread(p->current, LINUX_SIGPIPE, LINUX_SI_USER, p->pid, 0);
	}
	return -LINUX_EPIPE;
}

bool socket_nonblocking(const struct file *f, uint64_t flags)
{
	return (f->flags & LINUX_O_NONBLOCK) || (flags & LINUX_MSG_DONTWAIT);
}

static long send_dgram(struct process *p, struct psock *s, const struct uio *u, uint64_t total,
		       const struct sock_addr *to)
{
	uint64_t size, out[3] = { 0 };
	uint8_t *buf = socket_buffer(s, &size);

	if (total > UDP_MAX)
		return -LINUX_EMSGSIZE;
	if (!to && !s->connected)
		return -LINUX_EDESTADDRREQ;
	if (s->dead)
		return -LINUX_ENETDOWN;
	if (s->err)
		return -socket_take_error(s);   /* a batch's (socket_batch.c) */
	long kept = socket_batch_add(p, s, u, total, to);
	if (kept)
		return kept;
	if (uio_copy(p, u, 0, buf, total, false) < 0)
		return -LINUX_EFAULT;
	uint64_t w[6] = { (uint64_t)s->id, 0, total, SOCK_NONBLOCK, to ? to->addr : 0,
			  to ? to->port : 0 };
	/* The answer carries the socket's poll bits after it, kept, so
	 * that a sender pacing itself with a select before each datagram,
	 * as iperf3 -u -b does, asks the netstack nothing for it
	 * (socket_poll), and its next datagram may be batched. */
	long r = socket_call(s, SOCK_SEND, w, 6, out, 3);
	if (r < 0)
		return r;
	socket_poll_known(s, (unsigned)out[1]);
	s->bound = true;
	/* The next ones there may be batched, unless they stay in this
	 * host: a receiver here sees a datagram when its send returned,
	 * as on Linux (a poll that does not wait finds it). */
	s->batch_ok = !(out[2] & SOCK_SENT_LOCAL);
	s->batch_to = to ? *to : (struct sock_addr){ 0, 0 };
	return (long)out[0];
}

static long send_any(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		     const struct sock_addr *to)
{
	struct psock *s = socket_of(f);
	long total = uio_total(p, u);
	uint64_t size, done = p->current->io_done;
	uint8_t *buf = socket_buffer(s, &size);

	if (total < 0)
		return total;
	if (netlink(s))
		return netlink_send(p, s, u, flags, 0, 0);
	if (unix_dgram(s))
		return unix_dgram_send(p, f, s, u, flags, 0, 0);
	if (s->family == LINUX_AF_UNIX)
		return unix_send(p, f, s, u, flags);
	if (s->type == LINUX_SOCK_DGRAM)
		return send_dgram(p, s, u, (uint64_t)total, to);
	if (s->err && !done)
		return -socket_take_error(s);
	if (s->shut_wr || s->dead)
		return socket_broken(p, flags);
	if (s->connecting)
		return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	if (!s->connected)
		return s->listening ? -LINUX_ENOTCONN : socket_broken(p, flags);
	/* The data is staged in the buffer once, a buffer's worth at a time,
	 * and offered from where the netstack's last take ended: what it did
	 * not take is not copied again (the buffer is this call's until it
	 * returns or waits). */
	uint64_t staged = 0, at = 0, base = 0, out2[4];
	bool lent = false;
	while (done < (uint64_t)total) {
		/* Full at the last SEND and no notification since (the
		 * netstack sends one when it has room again): no call. */
		if (at == staged && s->tx_room_known && !s->tx_room) {
			if (socket_nonblocking(f, flags))
				return done ? (long)done : -LINUX_EAGAIN;
			p->current->io_done = done;
			return SYSCALL_BLOCK;
		}
		if (at == staged) {
			/* Into the send area's offered run, if there is one
			 * (proto/socket.h, SOCK_SEND_LENT): sent from there by
			 * reference, not copied again. */
			uint32_t offer_at, offer = socket_send_offer(s, &offer_at);
			uint64_t cap = (lent = offer >= SEND_STAGE_MIN) ? offer : size;
			base = lent ? offer_at : 0;
			staged = (uint64_t)total - done < cap ? (uint64_t)total - done : cap;
			/* No more than the room the last SEND left, if known
			 * (at least SEND_STAGE_MIN: acknowledgements may have
			 * made some since). */
			if (s->tx_room_known && staged > s->tx_room)
				staged = s->tx_room > SEND_STAGE_MIN ? s->tx_room
				       : staged < SEND_STAGE_MIN ? staged : SEND_STAGE_MIN;
			at = 0;
			if (uio_copy(p, u, done, buf + base, staged, false) < 0)
				return done ? (long)done : -LINUX_EFAULT;
			socket_count_staged(staged);
		}
		uint64_t w[6] = { (uint64_t)s->id, base + at, staged - at,
				  SOCK_NONBLOCK | (lent ? SOCK_SEND_LENT : 0), 0, 0 };
		out2[2] = out2[3] = 0;
		long r = socket_call(s, SOCK_SEND, w, 6, out2, 4);
		if (r == -LINUX_EINVAL && lent) {
			/* Not the netstack's standing offer (another call's
			 * reply moved it): the rest staged again, copied. */
			out2[2] = out2[3] = 0;
			socket_send_offered(s, &out2[2]);
			at = staged;
			continue;
		}
		if (r >= 0)
			socket_send_offered(s, &out2[2]);
		/* (Never more than offered; nothing taken is waiting.) */
		uint64_t took = r < 0 ? 0 : out2[0] < staged - at ? out2[0] : staged - at;
		s->tx_room_known = r >= 0 || r == -LINUX_EAGAIN;
		s->tx_room = r >= 0 ? (uint32_t)(out2[1] < UINT32_MAX ? out2[1] : UINT32_MAX) : 0;
		if (r == -LINUX_EAGAIN || (r >= 0 && !took)) {
			if (socket_nonblocking(f, flags))
				return done ? (long)done : -LINUX_EAGAIN;
			p->current->io_done = done;
			return SYSCALL_BLOCK;
		}
		if (r < 0) {
			if (done)
				return (long)done;
			if (r == -LINUX_EPIPE || r == -LINUX_ENOTCONN)
				return socket_broken(p, flags);
			return r;
		}
		done += took;
		at += took;
		/* What is left of a run goes on only from where the new
		 * offer starts; otherwise it is staged again. */
		uint32_t offer_at;
		if (lent && at < staged &&
		    (socket_send_offer(s, &offer_at) < staged - at || offer_at != base + at))
			at = staged;
		if (lent)
			socket_count_lent(took);
	}
	return (long)done;
}

/* A lending RECV's slice table: at the end of the session buffer. */
#define LEND_TABLE (SOCK_LEND_SLICES * sizeof(struct sock_slice))
/* A read of 128 KiB (iperf3's block) is one RECV, send area or not
 * (test_rx_lend's read_after_a_send). */
_Static_assert(SOCK_SEND_AREA_AT - LEND_TABLE >= (128u << 10), "a 128 KiB read is one RECV");

/* Where slice i's bytes are, checked against the pool and the read (at:
 * where it starts in the read): NULL if outside. */
static const uint8_t *slice_bytes(const struct sock_slice *sl, const uint8_t *buf,
				  const uint8_t *pool, uint64_t pool_size, uint64_t at, uint64_t n)
{
	if (sl->len > n - at)
		return NULL;
	if (sl->pool == SOCK_SLICE_COPIED)
		return buf + at;
	if (sl->pool < pool_size && sl->len <= pool_size - sl->pool)
		return pool + sl->pool;
	return NULL;
}

/* The n bytes a lending RECV took, described by its `slices` slices (the
 * table at buf + room), copied to the process's u from skip on, each
 * straight from the pool or, copied there by the netstack, from the
 * buffer. Every slice is checked against the pool and the read. Into one
 * user buffer (read, recv) a page of the process at a time, gathered from
 * the slices (a slice is 2 KiB at most: one look-up of the process's page
 * per 4 KiB, not per slice); else slice by slice. 0 or -errno. */
static long copy_slices(struct process *p, const struct uio *u, uint64_t skip, uint8_t *buf,
			uint64_t room, const uint8_t *pool, uint64_t pool_size, uint64_t n,
			uint64_t slices)
{
	struct sock_slice t[SOCK_LEND_SLICES];  /* ours: checked once, then used */
	uint64_t at = 0;

	if (slices > SOCK_LEND_SLICES)
		return -LINUX_EIO;
	memcpy(t, buf + room, slices * sizeof(*t));
	for (uint64_t i = 0; i < slices; i++) {
		if (!slice_bytes(&t[i], buf, pool, pool_size, at, n))
			return -LINUX_EIO;
		at += t[i].len;
	}
	if (at != n)
		return -LINUX_EIO;
	if (!u->single || u->kernel) {
		at = 0;
		for (uint64_t i = 0; i < slices; i++) {
			const uint8_t *from = slice_bytes(&t[i], buf, pool, pool_size, at, n);
			if (uio_copy(p, u, skip + at, (uint8_t *)from, t[i].len, true) < 0)
				return -LINUX_EFAULT;   /* (uio_copy only reads from) */
			at += t[i].len;
		}
		return 0;
	}
	uint64_t va = u->single->base + skip, left = n, i = 0, in = 0;
	uint64_t writable_start = 0, writable_end = 0;  /* the last region looked at */
	at = 0;
	if (va + n < va)
		return -LINUX_EFAULT;
	while (left) {
		uint64_t page_va = va & ~(AS_PAGE_SIZE - 1), off = va - page_va;
		uint64_t k = AS_PAGE_SIZE - off < left ? AS_PAGE_SIZE - off : left;
		uint8_t *page;
		if (page_va < writable_start || page_va >= writable_end) {
			const struct as_region *r = as_region_at(&p->as, page_va);
			if (!r || !(r->rights & IPC_MAP_WRITE))
				return -LINUX_EFAULT;
			writable_start = r->start;
			writable_end = r->end;
		}
		if (!(page = as_page(&p->as, page_va)))
			return -LINUX_EFAULT;
		for (uint64_t done = 0; done < k; ) {
			const uint8_t *from = slice_bytes(&t[i], buf, pool, pool_size, at, n);
			uint64_t m = t[i].len - in < k - done ? t[i].len - in : k - done;
			memcpy(page + off + done, from + in, m);
			done += m;
			in += m;
			if (in == t[i].len) {
				at += in;
				in = 0;
				i++;
			}
		}
		va += k;
		left -= k;
	}
	return 0;
}

static long recv_any(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		     struct sock_addr *from, bool *truncated, uint64_t *whole)
{
	struct psock *s = socket_of(f);
	long total = uio_total(p, u);
	uint64_t size, done = p->current->io_done, out[5] = { 0 };
	uint8_t *buf = socket_buffer(s, &size);

	*truncated = false;
	*whole = 0;
	if (total < 0)
		return total;
	if (netlink(s))
		return netlink_recv(p, f, s, u, flags, 0, 0, 0);
	if (flags & LINUX_MSG_OOB)
		return s->type == LINUX_SOCK_DGRAM ? -LINUX_EOPNOTSUPP : -LINUX_EINVAL;
	if (unix_dgram(s)) {
		char name[UNIX_PATH_MAX];
		unsigned name_len;
		return unix_dgram_recv(p, f, s, u, flags, name, &name_len, truncated, whole);
	}
	if (s->family == LINUX_AF_UNIX)
		return unix_recv(p, f, s, u, flags);
	/* A UDP socket's reads are served from its stash, filled with as
	 * many datagrams as it holds; a stream's only after a peek. */
	bool dgram = s->type == LINUX_SOCK_DGRAM;
	if (dgram && s->err)
		return -socket_take_error(s);   /* a batch's (socket_batch.c), before what came */
	if (dgram && !s->stashed) {
		long r = stash_fill(s, (unsigned)(s - socks));
		if (r == -LINUX_EAGAIN)
			return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
		if (r < 0)
			return r;
	}
	if (!dgram && !s->stashed && (flags & LINUX_MSG_PEEK) && !done && !s->err && total) {
		long r = stash_fill(s, (unsigned)(s - socks));
		if (r == -LINUX_EAGAIN && !s->dead)
			return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
		if (r < 0 && r != -LINUX_EAGAIN)
			return r == -LINUX_ECONNRESET && s->type == LINUX_SOCK_STREAM ? 0 : r;
		if (r == 0 && !s->stashed)
			return 0;       /* the end of the stream */
	}
	if (s->stashed && !done)
		return stash_take(p, s, (unsigned)(s - socks), u, (uint64_t)total,
				  flags & LINUX_MSG_PEEK, from, truncated, whole);
	if (s->err && !done)
		return -socket_take_error(s);
	if (s->dead || s->shut_rd)
		return (long)done;
	if (s->connecting)
		return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	if (!s->connected)
		return -LINUX_ENOTCONN;
	if (!total)
		return 0;
	uint64_t pool_size;
	const uint8_t *pool = s->type == LINUX_SOCK_STREAM ? socket_pool(s, &pool_size) : NULL;
	while (done < (uint64_t)total) {
		/* Lending: the slice table at the buffer's end, the copied
		 * bytes' range before it. */
		uint64_t room = pool ? size - LEND_TABLE : size;
		uint64_t chunk = (uint64_t)total - done < room ? (uint64_t)total - done : room;
		uint64_t w[6] = { (uint64_t)s->id, 0, chunk, SOCK_NONBLOCK | (pool ? SOCK_RECV_LEND : 0),
				  room, SOCK_LEND_SLICES };
		/* A buffer a copy would fault in: what comes goes to the
		 * stash and is copied from there, and stays there when the
		 * copy faults (Linux: EFAULT, the data still queued). */
		bool faulty = !uio_writable(p, u, done, chunk);
		long r = faulty ? stash_fill(s, (unsigned)(s - socks))
			        : socket_call(s, SOCK_RECV, w, pool ? 6 : 4, out, 5);
		if (r == -LINUX_EAGAIN) {
			if (socket_nonblocking(f, flags) || (done && !(flags & LINUX_MSG_WAITALL)))
				return done ? (long)done : -LINUX_EAGAIN;
			p->current->io_done = done;
			return SYSCALL_BLOCK;
		}
		if (r < 0)
			return done ? (long)done : r;
		if (faulty && !r)
			break;                  /* the end of the stream */
		if (faulty)
			return done ? (long)done : stash_take(p, s, (unsigned)(s - socks), u,
							       (uint64_t)total, false, from,
							       truncated, whole);
		if (s->type == LINUX_SOCK_STREAM)
			socket_poll_known(s, (unsigned)out[4]);   /* what is left */
		if (!out[0])
			break;                  /* the end of the stream */
		if (out[0] > chunk)
			return done ? (long)done : -LINUX_EIO;
		long c = pool ? copy_slices(p, u, done, buf, room, pool, pool_size, out[0], out[3])
			      : uio_copy(p, u, done, buf, out[0], true);
		if (c < 0)
			return done ? (long)done : c;
		if (from)
			*from = (struct sock_addr){ (uint32_t)out[1], (uint16_t)out[2] };
		done += out[0];
		if (!(flags & LINUX_MSG_WAITALL))
			break;
	}
	return (long)done;
}

long socket_timed(struct process *p, const struct linux_timeval *limit, long r)
{
	uint64_t now = (uint64_t)sys_clock();

	if (limit->sec == SOCKET_TIMEO_NOWAIT && r == SYSCALL_BLOCK)
		return p->current->io_done ? (long)p->current->io_done : -LINUX_EAGAIN;
	if (limit->sec <= 0 && limit->usec <= 0)
		return r;
	if (r != SYSCALL_BLOCK) {
		p->current->sleep_at = 0;
		return r;
	}
	if (!p->current->sleep_at) {
		p->current->sleep_at = now + (uint64_t)limit->sec * 1000000000UL + (uint64_t)limit->usec * 1000;
		p->current->sleep_rem = 0;
		signal_timer_arm();
		return SYSCALL_BLOCK;
	}
	if (now < p->current->sleep_at)
		return SYSCALL_BLOCK;
	p->current->sleep_at = 0;
	return p->current->io_done ? (long)p->current->io_done : -LINUX_EAGAIN;
}

long socket_send(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		 const struct sock_addr *to)
{
	long r = socket_timed(p, &socket_of(f)->sndtimeo, send_any(p, f, u, flags, to));

	if (r != SYSCALL_BLOCK)
		syscall_count_bytes(p, r, 0);
	return r;
}

long socket_recv(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		 struct sock_addr *from, bool *truncated, uint64_t *whole)
{
	long r = socket_timed(p, &socket_of(f)->rcvtimeo,
			      recv_any(p, f, u, flags, from, truncated, whole));

	if (r != SYSCALL_BLOCK)
		syscall_count_bytes(p, 0, r);
	return r;
}

long socket_io(struct process *p, struct file *f, const struct uio *u, bool write)
{
	bool truncated;
	uint64_t whole;

	if (write)
		return socket_send(p, f, u, 0, NULL);
	return socket_recv(p, f, u, 0, NULL, &truncated, &whole);
}
