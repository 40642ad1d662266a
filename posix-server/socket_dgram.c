/*
 * AF_UNIX datagram sockets (SOCK_DGRAM; socket.h, Linux's unix(7)),
 * inside the server. Each socket has a receive queue: its messages, each
 * a record (struct record, the sender's name, the bytes) in a ring of
 * the server's pages taken as it fills and given back when it empties.
 * A send puts one whole message into the receiver's queue or nothing: a
 * queue that has no room (DGRAM_BUDGET bytes, each message charged its
 * length and DGRAM_COST, as Linux charges a sender's buffer; or
 * DGRAM_QLEN messages from senders the receiver is not connected to, as
 * Linux's max_dgram_qlen)
 * is EAGAIN for a non-blocking send, and a blocking one waits
 * (SYSCALL_BLOCK) until a receive makes room — the server never waits;
 * so when the sender's share of memory has no page for it, until a page
 * is given back (share_memory_full: ENOMEM when nothing would free one).
 * A receive takes one message (MSG_PEEK: looks at it), cut to the
 * buffer (MSG_TRUNC: the whole length returned), with its sender's name.
 * Names and connect follow Linux: a sender to a socket connected to
 * another is EPERM, to a path without a socket ECONNREFUSED, and a
 * socket whose connected peer closed has its next send ECONNREFUSED
 * (and is disconnected: ENOTCONN after).
 *
 * SOCK_SEQPACKET pairs (socketpair, or a connect to a named listening
 * seqpacket socket and its accept: socket_unix.c) are datagram pairs
 * that end as a connection does (Linux's unix_seqpacket_*): a peer's shutdown of
 * writing, or its end, is the end of the messages (a receive then
 * returns 0, a send is EPIPE, poll says POLLRDHUP, POLLHUP when both
 * ways are shut); a peer that ends with messages unread leaves
 * ECONNRESET, reported once by the next call.
 */
#include "file.h"
#include "memory.h"
#include "socket.h"
#include "syscall.h"

#define DGRAM_RING    (256UL * 1024)    /* bytes a receive queue's ring holds */
#define DGRAM_BUDGET  212992UL          /* what a queue takes: Linux's default SO_SNDBUF */
#define DGRAM_COST    768UL             /* charged per message beside its bytes (as
					 * Linux's socket buffer's overhead, about) */
#define DGRAM_PAGES   (DGRAM_RING / PAGE_SIZE)
#define DGRAM_QLEN    10                /* Linux's net.unix.max_dgram_qlen default */
#define DGRAM_MSG_MAX (212992UL - 32)   /* Linux: the default SO_SNDBUF less 32 */

/* A message's record in the ring: its length and its sender's name
 * (name_len bytes after the record), then its bytes. */
struct record {
	uint32_t len;
	uint8_t name_len;
	uint8_t pad[3];
};

struct dgram_queue {
	void *pages[DGRAM_PAGES];
	uint64_t head, bytes;           /* the oldest record's ring offset, bytes held */
	uint64_t charge;                /* what its messages cost (DGRAM_BUDGET) */
	unsigned count;                 /* messages held */
	int peer;                       /* connected: socks[] index sent to; -1: none */
	bool peer_gone;                 /* the peer closed: the next send is refused */
};

/* By socks[] index; a socket's queue is empty when it is made. */
static struct dgram_queue queues[SOCKET_MAX];
static uint32_t room_news;              /* receives that made room (writers' edges) */

static struct dgram_queue *queue_of(const struct psock *s)
{
	return &queues[s - socks];
}

bool unix_dgram(const struct psock *s)
{
	return s->family == LINUX_AF_UNIX && s->type != LINUX_SOCK_STREAM;
}

static bool seqpacket(const struct psock *s)
{
	return s->type == LINUX_SOCK_SEQPACKET;
}

/* s's error to report (SO_ERROR), taken: -errno, or 0. */
static long take_error(struct psock *s)
{
	int e = s->err;

	s->err = 0;
	return -(long)e;
}

void unix_dgram_made(struct psock *s)
{
	*queue_of(s) = (struct dgram_queue){ .peer = -1 };
}

/* Move n bytes between the ring from offset at and the server's buf or
 * the user buffer u from its byte skip (to_ring: into the ring, whose
 * pages are made as needed, charged to p's account: a sender holds the
 * queues it fills within its share of memory). 0, -EFAULT, -ENOMEM. */
static long ring_move(struct process *p, struct dgram_queue *q, uint64_t at, void *buf,
		      const struct uio *u, uint64_t skip, uint64_t n, bool to_ring)
{
	uint64_t done = 0;

	while (done < n) {
		uint64_t pos = (at + done) % DGRAM_RING, off = pos % PAGE_SIZE;
		uint64_t k = PAGE_SIZE - off < n - done ? PAGE_SIZE - off : n - done;
		void **page = &q->pages[pos / PAGE_SIZE];
		if (!*page && to_ring && !(*page = process_as_ops.page_alloc(p)))
			return -LINUX_ENOMEM;
		uint8_t *ring = (uint8_t *)*page + off;
		if (buf && to_ring)
			memcpy(ring, (uint8_t *)buf + done, k);
		else if (buf)
			memcpy((uint8_t *)buf + done, ring, k);
		else if (uio_copy(p, u, skip + done, ring, k, !to_ring) < 0)
			return -LINUX_EFAULT;
		done += k;
	}
	return 0;
}

/* An empty queue's pages given back (a send that failed part way may
 * have made some: they hold no message). */
static void queue_free(struct dgram_queue *q)
{
	for (unsigned i = 0; i < DGRAM_PAGES; i++)
		if (q->pages[i]) {
			process_as_ops.page_free(NULL, q->pages[i]);
			q->pages[i] = NULL;
		}
	q->head = q->bytes = q->charge = 0;
}

/* The oldest message dropped; an empty queue gives its pages back. */
static void queue_drop(struct dgram_queue *q)
{
	struct record h;

	ring_move(NULL, q, q->head, &h, NULL, 0, sizeof(h), false);
	uint64_t size = sizeof(h) + h.name_len + h.len;
	q->head = (q->head + size) % DGRAM_RING;
	q->bytes -= size;
	q->charge -= h.len + DGRAM_COST;
	q->count--;
	if (!q->count)
		queue_free(q);
	room_news++;
	threads_wake_all();     /* senders waiting for room */
}

/* Whether to (socks[] index) has room for a message of len bytes from s. */
static bool room_for(const struct psock *s, int to, uint64_t len)
{
	const struct dgram_queue *q = &queues[to];

	/* The largest message (DGRAM_MSG_MAX) fits an empty queue. */
	if (q->count && q->charge + len + DGRAM_COST > DGRAM_BUDGET)
		return false;
	/* As Linux: the count bounds only senders the receiver is not
	 * connected to (a pair's are bounded by the bytes). */
	return q->peer == (int)(s - socks) || q->count <= DGRAM_QLEN;
}

long unix_dgram_send(struct process *p, struct file *f, struct psock *s, const struct uio *u,
		     uint64_t flags, uint64_t va, uint64_t len)
{
	struct dgram_queue *q = queue_of(s);
	char name[UNIX_PATH_MAX];
	long total = uio_total(p, u), to;

	if (total < 0)
		return total;
	if (flags & LINUX_MSG_OOB)
		return -LINUX_EOPNOTSUPP;
	if (seqpacket(s) && !s->connected)
		return -LINUX_ENOTCONN;
	if (seqpacket(s))
		va = 0;                 /* as Linux: a connection's address is ignored */
	long n = 0;
	if (va && (n = unix_name_in(p, va, len, name)) <= 0)
		return n ? n : -LINUX_EINVAL;
	if (!va && q->peer < 0)
		return -LINUX_ENOTCONN;
	/* Linux's order: the size, the sender's error and shutdown, then
	 * the receiver. */
	if ((uint64_t)total > DGRAM_MSG_MAX)
		return -LINUX_EMSGSIZE;
	if (s->err)
		return take_error(s);
	if (s->shut_wr)
		return -LINUX_EPIPE;
	if (va) {
		if ((to = unix_find(p, name, n)) < 0)
			return to;
		if (socks[to].type != s->type)
			return -LINUX_EPROTOTYPE;
	} else {
		to = q->peer;
	}
	if (to == q->peer && q->peer_gone) {
		if (seqpacket(s))
			return -LINUX_EPIPE;
		q->peer = -1;           /* as Linux: refused once, then not connected */
		q->peer_gone = false;
		s->connected = false;
		return -LINUX_ECONNREFUSED;
	}
	struct psock *r = &socks[to];
	struct dgram_queue *rq = &queues[to];
	if (rq->peer >= 0 && (rq->peer != (int)(s - socks) || rq->peer_gone))
		return -LINUX_EPERM;    /* it is connected to another (or one gone) */
	if (r->shut_rd)
		return -LINUX_EPIPE;
	if (!room_for(s, (int)to, (uint64_t)total))
		return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	struct record h = { (uint32_t)total, s->name_len, { 0 } };
	uint64_t at = (rq->head + rq->bytes) % DGRAM_RING;
	long err;
	if ((err = ring_move(p, rq, at, &h, NULL, 0, sizeof(h), true)) < 0 ||
	    (err = ring_move(p, rq, at + sizeof(h), s->name, NULL, 0, s->name_len, true)) < 0 ||
	    (err = ring_move(p, rq, at + sizeof(h) + s->name_len, NULL, u, 0, (uint64_t)total,
			     true)) < 0) {
		if (!rq->count)
			queue_free(rq);  /* the pages it made for this record alone */
		/* The sender's share of memory full: as a full queue. */
		if (err == -LINUX_ENOMEM && !memory_room(p->account))
			return share_memory_full(p->current, socket_nonblocking(f, flags));
		return err;     /* nothing counted: the record is not there */
	}
	rq->bytes += sizeof(h) + s->name_len + (uint64_t)total;
	rq->charge += (uint64_t)total + DGRAM_COST;
	rq->count++;
	r->edges[0]++;
	threads_wake_all();     /* its readers */
	return total;
}

long unix_dgram_recv(struct process *p, struct file *f, struct psock *s, const struct uio *u,
		     uint64_t flags, char *name, unsigned *name_len, bool *truncated,
		     uint64_t *whole)
{
	struct dgram_queue *q = queue_of(s);
	long total = uio_total(p, u);
	struct record h;

	*name_len = 0;
	*truncated = false;
	*whole = 0;
	if (total < 0)
		return total;
	if (seqpacket(s) && !s->connected)
		return -LINUX_ENOTCONN;
	if (s->err)
		return take_error(s);   /* as Linux: before what is queued */
	if (!q->count) {
		if (s->shut_rd)
			return 0;
		return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	}
	ring_move(NULL, q, q->head, &h, NULL, 0, sizeof(h), false);
	ring_move(NULL, q, q->head + sizeof(h), name, NULL, 0, h.name_len, false);
	*name_len = h.name_len;
	uint64_t n = (uint64_t)total < h.len ? (uint64_t)total : h.len;
	/* As Linux: a bad buffer is EFAULT, the message taken all the same. */
	if (ring_move(p, q, q->head + sizeof(h) + h.name_len, NULL, u, 0, n, false) < 0) {
		if (!(flags & LINUX_MSG_PEEK))
			queue_drop(q);
		return -LINUX_EFAULT;
	}
	*truncated = n < h.len;
	*whole = h.len;
	if (!(flags & LINUX_MSG_PEEK))
		queue_drop(q);
	return (long)n;
}

long unix_dgram_next(const struct psock *s)
{
	const struct dgram_queue *q = queue_of(s);
	struct record h;

	if (!q->count)
		return 0;
	ring_move(NULL, (struct dgram_queue *)q, q->head, &h, NULL, 0, sizeof(h), false);
	return h.len;
}

/* Whether the pages of a one-byte message from s to (socks[] index) are
 * made (else they are to be had from the sender's share of memory). */
static bool room_made(const struct psock *s, int to)
{
	const struct dgram_queue *q = &queues[to];
	uint64_t at = q->head + q->bytes, n = sizeof(struct record) + s->name_len + 1;

	return q->pages[(at % DGRAM_RING) / PAGE_SIZE] &&
	       q->pages[((at + n - 1) % DGRAM_RING) / PAGE_SIZE];
}

unsigned unix_dgram_poll(const struct psock *s)
{
	const struct dgram_queue *q = queue_of(s);
	unsigned bits = q->count ? LINUX_POLLIN | LINUX_POLLRDNORM : 0;

	if (s->err)
		bits |= LINUX_POLLERR;
	if (s->shut_rd)
		bits |= LINUX_POLLIN | LINUX_POLLRDNORM | LINUX_POLLRDHUP;
	if (s->shut_rd && s->shut_wr)
		bits |= LINUX_POLLHUP;
	if (q->peer < 0 || q->peer_gone ||
	    (room_for(s, q->peer, 1) && (room_made(s, q->peer) || !share_memory_waits())))
		bits |= LINUX_POLLOUT | LINUX_POLLWRNORM;
	return bits;
}

void unix_dgram_edges(const struct psock *s, uint32_t edges[2])
{
	edges[0] = s->edges[0];
	edges[1] = s->edges[1] + room_news + memory_wakes;
}

long unix_dgram_connect(struct process *p, struct psock *s, uint64_t va, uint64_t len)
{
	struct dgram_queue *q = queue_of(s);
	char name[UNIX_PATH_MAX];
	uint16_t family;
	long n, to;

	if ((uint32_t)len < sizeof(family))
		return -LINUX_EINVAL;
	if (as_copy_in(&p->as, &family, va, sizeof(family)) < 0)
		return -LINUX_EFAULT;
	if (family == LINUX_AF_UNSPEC) {        /* as Linux: disconnects */
		q->peer = -1;
		q->peer_gone = false;
		s->connected = false;
		s->peer_len = 0;
		return 0;
	}
	if ((n = unix_name_in(p, va, len, name)) <= 0)
		return n ? n : -LINUX_EINVAL;
	if ((to = unix_find(p, name, n)) < 0)
		return to;
	if (socks[to].type != s->type)
		return -LINUX_EPROTOTYPE;
	if (queues[to].peer >= 0 && queues[to].peer != (int)(s - socks))
		return -LINUX_EPERM;
	q->peer = (int)to;
	q->peer_gone = false;
	s->connected = true;
	memcpy(s->peer, socks[to].name, socks[to].name_len);
	s->peer_len = socks[to].name_len;
	s->peer_pid = p->pid;
	return 0;
}

void unix_dgram_closed(struct psock *s)
{
	struct dgram_queue *q = queue_of(s);
	int si = (int)(s - socks);
	bool unread = q->count || s->embryo;   /* as Linux: an embryo's peer is reset */

	while (q->count)
		queue_drop(q);
	queue_free(q);          /* pages of a send that failed part way behind the last */
	q->peer = -1;
	for (unsigned i = 0; i < SOCKET_MAX; i++)
		if (socks[i].used && unix_dgram(&socks[i]) && queues[i].peer == si) {
			queues[i].peer_gone = true;
			if (seqpacket(&socks[i])) {
				/* As Linux: the connection ends both ways. */
				socks[i].shut_rd = socks[i].shut_wr = true;
				if (unread)
					socks[i].err = LINUX_ECONNRESET;
				socks[i].edges[0]++;
			}
			socks[i].edges[1]++;
		}
}

void unix_dgram_shutdown(struct psock *s, uint64_t how)
{
	struct dgram_queue *q = queue_of(s);
	bool rd = how != LINUX_SHUT_WR, wr = how != LINUX_SHUT_RD;

	s->shut_rd |= rd;
	s->shut_wr |= wr;
	s->edges[0]++;
	s->edges[1]++;
	if (seqpacket(s) && q->peer >= 0 && !q->peer_gone) {
		struct psock *peer = &socks[q->peer];
		peer->shut_rd |= wr;    /* our writing shut: its reading ends */
		peer->shut_wr |= rd;
		peer->edges[0]++;
		peer->edges[1]++;
	}
	threads_wake_all();
}

void unix_dgram_join(struct psock *a, struct psock *b)
{
	queue_of(a)->peer = (int)(b - socks);
	queue_of(b)->peer = (int)(a - socks);
	queue_of(a)->peer_gone = queue_of(b)->peer_gone = false;
	a->connected = b->connected = true;
}

long unix_dgram_pair(struct process *p, int type, uint64_t flags, uint64_t va)
{
	long fd[2] = { -1, -1 };

	for (int i = 0; i < 2; i++)
		if ((fd[i] = socket_make(p, type, LINUX_AF_UNIX, 0, -1, flags)) < 0) {
			if (i)
				fd_close(p, (uint64_t)fd[0]);
			return fd[i];
		}
	struct psock *a = socket_of(fd_file(p, (uint64_t)fd[0]));
	struct psock *b = socket_of(fd_file(p, (uint64_t)fd[1]));
	unix_dgram_join(a, b);
	a->peer_pid = b->peer_pid = p->pid;
	int pair[2] = { (int)fd[0], (int)fd[1] };
	if (as_copy_out(&p->as, va, pair, sizeof(pair)) == 0)
		return 0;
	fd_close(p, (uint64_t)fd[0]);
	fd_close(p, (uint64_t)fd[1]);
	return -LINUX_EFAULT;
}

long unix_dgram_recv_named(struct process *p, struct file *f, struct psock *s, const struct uio *u,
			   uint64_t flags, uint64_t va, uint64_t lenva, uint64_t msg)
{
	char name[UNIX_PATH_MAX];
	unsigned name_len;
	bool truncated;
	uint64_t whole, none = 0;
	long n = socket_timed(p, &s->rcvtimeo, unix_dgram_recv(p, f, s, u, flags, name, &name_len,
								   &truncated, &whole)), err;

	if (n < 0)
		return n;
	/* As Linux: an unnamed sender's address is 0 bytes long. */
	if (va && name_len && (err = unix_addr_out(p, name, name_len, va, lenva)) < 0)
		return err;
	if ((va || msg) && !name_len && as_copy_out(&p->as, lenva, &none, 4) < 0)
		return -LINUX_EFAULT;
	if (msg) {
		int32_t msg_flags = truncated ? LINUX_MSG_TRUNC : 0;
		if (as_copy_out(&p->as, msg + __builtin_offsetof(struct linux_msghdr, controllen),
				&none, 8) < 0 ||
		    as_copy_out(&p->as, msg + __builtin_offsetof(struct linux_msghdr, flags),
				&msg_flags, 4) < 0)
			return -LINUX_EFAULT;
	}
	return truncated && (flags & LINUX_MSG_TRUNC) ? (long)whole : n;
}
