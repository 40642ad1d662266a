/*
 * AF_NETLINK sockets of protocol NETLINK_ROUTE: the sockets, their
 * receive queues and port ids (netlink(7)); what a send asks is answered
 * by netlink_route.c (rtnetlink(7)).
 *
 * A receive takes one datagram (MSG_PEEK: looks; MSG_TRUNC: its whole
 * length), its sender the kernel's address (nl_pid 0); any receive, a
 * peek too, lets a dump being read make its next datagram. The queue holds
 * at most NL_QUEUE bytes (pages taken as it fills, given back when it
 * empties), all queues together NL_PAGES_ALL pages (the server's memory,
 * which no account is charged for): an answer that does not fit is
 * dropped and the next receive says ENOBUFS, as Linux's netlink_overrun. Nothing ever arrives
 * unasked (no multicast groups' events): a blocking receive on an empty
 * queue waits until a signal, as Linux's would with nothing changing.
 *
 * Port ids (nl_pid) as Linux's netlink_autobind: bind with 0, connect or
 * the first send picks the process's pid if no socket has it, else
 * negative numbers from -4097 down; bind may name one (EADDRINUSE).
 */
#include "file.h"
#include "memory.h"
#include "netinfo.h"
#include "netlink.h"
#include "socket.h"
#include "syscall.h"

#define NL_PAGES_ALL   64               /* pages all queues hold together (256 KiB); the
					 * queues of an account's sockets SHARE of them */
#define NL_SEND_MAX    16384            /* a send's bytes (more: EMSGSIZE) */
#define NL_PORT_ROVER  (-4097)

struct sockaddr_nl {
	uint16_t family, pad;
	uint32_t pid, groups;
};

static struct nlq queues[SOCKET_MAX];   /* by socks[] index */
static unsigned pages_held;             /* by all queues (NL_PAGES_ALL at most) */
static int32_t rover = NL_PORT_ROVER;

static uint8_t scratch[NL_SEND_MAX] __attribute__((aligned(8)));  /* a send's bytes; a
								     receive's datagram */

static struct nlq *queue_of(const struct psock *s)
{
	return &queues[s - socks];
}

bool netlink(const struct psock *s)
{
	return s->family == LINUX_AF_NETLINK;
}

void netlink_made(struct psock *s)
{
	*queue_of(s) = (struct nlq){ 0 };
}

/* ---- the receive queue: records of a length word and a datagram ---- */

/* Pages the queues of sockets of q's socket's account hold. */
static unsigned pages_of_account(const struct nlq *q)
{
	int account = socks[q - queues].account;
	unsigned n = 0;

	for (unsigned i = 0; i < SOCKET_MAX; i++)
		if (socks[i].used && netlink(&socks[i]) && socks[i].account == account)
			for (unsigned k = 0; k < NL_PAGES; k++)
				n += queues[i].pages[k] != NULL;
	return n;
}

/* Move n bytes between the ring from offset at and buf (in: into the
 * ring, whose pages are made as needed). 0 or -ENOMEM. */
static long ring_move(struct nlq *q, uint64_t at, uint8_t *buf, uint64_t n, bool in)
{
	for (uint64_t done = 0; done < n;) {
		uint64_t pos = (at + done) % NL_QUEUE, off = pos % PAGE_SIZE;
		uint64_t k = PAGE_SIZE - off < n - done ? PAGE_SIZE - off : n - done;
		void **page = &q->pages[pos / PAGE_SIZE];
		if (!*page && in) {
			if (pages_held >= NL_PAGES_ALL || pages_of_account(q) >= SHARE(NL_PAGES_ALL) ||
			    !(*page = process_as_ops.page_alloc(NULL)))
				return -LINUX_ENOMEM;
			pages_held++;
		}
		if (in)
			memcpy((uint8_t *)*page + off, buf + done, k);
		else
			memcpy(buf + done, (uint8_t *)*page + off, k);
		done += k;
	}
	return 0;
}

/* An empty queue's pages given back. */
static void queue_free_pages(struct nlq *q)
{
	for (unsigned i = 0; i < NL_PAGES; i++)
		if (q->pages[i]) {
			process_as_ops.page_free(NULL, q->pages[i]);
			q->pages[i] = NULL;
			pages_held--;
		}
	q->head = q->bytes = 0;
}

bool netlink_queue_put(struct nlq *q, uint8_t *buf, uint32_t n)
{
	uint32_t len = n;
	uint64_t size = 4 + ((n + 3) & ~3U);

	if (q->bytes + size > NL_QUEUE)
		return false;
	uint64_t tail = (q->head + q->bytes) % NL_QUEUE;
	if (ring_move(q, tail, (uint8_t *)&len, 4, true) < 0 ||
	    ring_move(q, (tail + 4) % NL_QUEUE, buf, n, true) < 0) {
		if (!q->count)
			queue_free_pages(q);
		return false;
	}
	q->bytes += size;
	q->count++;
	q->news++;
	return true;
}

/* The oldest datagram's length (it must be there). */
static uint32_t queue_peek_len(struct nlq *q)
{
	uint32_t len;

	ring_move(q, q->head, (uint8_t *)&len, 4, false);
	return len;
}

static void queue_drop(struct nlq *q)
{
	uint32_t len = queue_peek_len(q);

	q->head = (q->head + 4 + ((len + 3) & ~3U)) % NL_QUEUE;
	q->bytes -= 4 + ((len + 3) & ~3U);
	if (!--q->count)
		queue_free_pages(q);
}

/* The socket's port id, chosen now if it has none (netlink_autobind). */
static int32_t autobind(struct process *p, struct psock *s)
{
	struct nlq *q = queue_of(s);
	int32_t want = p->pid;

	if (q->port)
		return q->port;
	for (bool taken = true; taken;) {
		taken = false;
		for (unsigned i = 0; i < SOCKET_MAX && !taken; i++)
			taken = socks[i].used && netlink(&socks[i]) && queues[i].port == want;
		if (taken)
			want = rover--;
		if (rover < -1000000000)
			rover = NL_PORT_ROVER;
	}
	q->port = want;
	return want;
}

/* A sockaddr_nl from user address va (len bytes): 0, -EINVAL, -EFAULT. */
static long addr_in(struct process *p, uint64_t va, uint64_t len, struct sockaddr_nl *a)
{
	if (len < sizeof(*a))
		return -LINUX_EINVAL;
	if (as_copy_in(&p->as, a, va, sizeof(*a)) < 0)
		return -LINUX_EFAULT;
	return a->family == LINUX_AF_NETLINK ? 0 : -LINUX_EINVAL;
}

long netlink_bind(struct process *p, struct psock *s, uint64_t va, uint64_t len)
{
	struct nlq *q = queue_of(s);
	struct sockaddr_nl a;
	long err = addr_in(p, va, len, &a);

	if (err < 0)
		return err;
	if (q->port && a.pid && (int32_t)a.pid != q->port)
		return -LINUX_EINVAL;
	for (unsigned i = 0; a.pid && !q->port && i < SOCKET_MAX; i++)
		if (socks[i].used && netlink(&socks[i]) && queues[i].port == (int32_t)a.pid)
			return -LINUX_EADDRINUSE;
	if (a.pid)
		q->port = (int32_t)a.pid;
	autobind(p, s);
	q->groups = a.groups;
	s->bound = true;
	return 0;
}

long netlink_connect(struct process *p, struct psock *s, uint64_t va, uint64_t len)
{
	struct sockaddr_nl a;
	long err;

	if (len >= sizeof(uint16_t)) {
		uint16_t family;
		if (as_copy_in(&p->as, &family, va, sizeof(family)) < 0)
			return -LINUX_EFAULT;
		if (family == LINUX_AF_UNSPEC) {
			s->connected = false;
			return 0;
		}
	}
	if ((err = addr_in(p, va, len, &a)) < 0)
		return err;
	if (a.groups)
		return -LINUX_EPERM;
	autobind(p, s);
	s->connected = a.pid == 0;      /* only the kernel's side is here */
	return s->connected ? 0 : -LINUX_ECONNREFUSED;
}

long netlink_name(struct process *p, struct psock *s, bool peer, uint64_t va, uint64_t lenva)
{
	struct nlq *q = queue_of(s);
	struct sockaddr_nl a = { LINUX_AF_NETLINK, 0, peer ? 0 : (uint32_t)q->port,
				 peer ? 0 : q->groups };
	uint32_t room;

	if (!va)
		return 0;
	if (as_copy_in(&p->as, &room, lenva, sizeof(room)) < 0)
		return -LINUX_EFAULT;
	if ((int32_t)room < 0)
		return -LINUX_EINVAL;
	if (as_copy_out(&p->as, va, &a, room < sizeof(a) ? room : sizeof(a)) < 0)
		return -LINUX_EFAULT;
	room = sizeof(a);
	return as_copy_out(&p->as, lenva, &room, sizeof(room)) < 0 ? -LINUX_EFAULT : 0;
}

long netlink_send(struct process *p, struct psock *s, const struct uio *u, uint64_t flags,
		  uint64_t va, uint64_t len)
{
	struct nlq *q = queue_of(s);
	struct sockaddr_nl a;
	long total = uio_total(p, u), err;

	if (total < 0)
		return total;
	if (flags & LINUX_MSG_OOB)
		return -LINUX_EOPNOTSUPP;
	if (va) {
		if ((err = addr_in(p, va, len, &a)) < 0)
			return err;
		if (a.groups)
			return -LINUX_EPERM;
		if (a.pid)
			return -LINUX_ECONNREFUSED;     /* another process's socket: not here */
	}
	if ((uint64_t)total > NL_SEND_MAX)
		return -LINUX_EMSGSIZE;
	/* The netstack's answer first (this call waits for it, the server
	 * does not); nothing has been done yet when it waits. */
	if ((err = netinfo_wait(p, NETINFO_IFS_ROUTES)) != 0)
		return err;
	if (uio_copy(p, u, 0, scratch, (uint64_t)total, false) < 0)
		return -LINUX_EFAULT;
	autobind(p, s);
	netlink_answer(q, scratch, (uint64_t)total);
	threads_wake_all();     /* receivers waiting */
	return total;
}

long netlink_recv(struct process *p, struct file *f, struct psock *s, const struct uio *u,
		  uint64_t flags, uint64_t va, uint64_t lenva, uint64_t msg)
{
	struct nlq *q = queue_of(s);
	long total = uio_total(p, u);

	if (total < 0)
		return total;
	if (flags & LINUX_MSG_OOB)
		return -LINUX_EOPNOTSUPP;
	if (q->overrun) {
		q->overrun = false;
		q->dumping = false;     /* what it lost is not made again */
		return -LINUX_ENOBUFS;
	}
	if (!q->count)
		return socket_nonblocking(f, flags) ? -LINUX_EAGAIN : SYSCALL_BLOCK;
	uint32_t len = queue_peek_len(q);
	uint64_t n = (uint64_t)total < len ? (uint64_t)total : len;
	ring_move(q, (q->head + 4) % NL_QUEUE, scratch, len, false);
	if (uio_copy(p, u, 0, scratch, n, true) < 0)
		return -LINUX_EFAULT;
	if (va) {
		long err = netlink_name(p, s, true, va, lenva);
		if (err < 0)
			return err;
	} else if (msg) {
		uint32_t zero = 0;
		if (as_copy_out(&p->as, lenva, &zero, sizeof(zero)) < 0)
			return -LINUX_EFAULT;
	}
	if (msg) {
		uint64_t controllen = 0;
		int32_t mflags = n < len ? LINUX_MSG_TRUNC : 0;
		if (as_copy_out(&p->as, msg + __builtin_offsetof(struct linux_msghdr, controllen),
				&controllen, 8) < 0 ||
		    as_copy_out(&p->as, msg + __builtin_offsetof(struct linux_msghdr, flags), &mflags,
				4) < 0)
			return -LINUX_EFAULT;
	}
	if (!(flags & LINUX_MSG_PEEK))
		queue_drop(q);
	netlink_dump_read(q);           /* a peek too, as Linux's netlink_recvmsg */
	return (flags & LINUX_MSG_TRUNC) ? (long)len : (long)n;
}

unsigned netlink_poll(const struct psock *s)
{
	const struct nlq *q = &queues[s - socks];

	return LINUX_POLLOUT | LINUX_POLLWRNORM |
	       (q->count ? LINUX_POLLIN | LINUX_POLLRDNORM : 0) | (q->overrun ? LINUX_POLLERR : 0);
}

void netlink_edges(const struct psock *s, uint32_t edges[2])
{
	edges[0] = queues[s - socks].news;
	edges[1] = 0;
}

long netlink_fionread(const struct psock *s)
{
	struct nlq *q = &queues[s - socks];

	return q->count ? (long)queue_peek_len(q) : 0;
}

void netlink_closed(struct psock *s)
{
	struct nlq *q = queue_of(s);

	queue_free_pages(q);
	*q = (struct nlq){ 0 };
}

/* SOL_NETLINK's options (netlink(7)) that programs set: taken and read
 * back as 0, as they change nothing here (no groups' events, no extended
 * acknowledgements: NETLINK_EXT_ACK is taken, and errors carry none).
 * Another level is ENOPROTOOPT, as Linux's netlink_setsockopt. */
static bool known_option(uint64_t level, uint64_t name)
{
	/* ADD_MEMBERSHIP 1, DROP_MEMBERSHIP 2, PKTINFO 3, BROADCAST_ERROR 4,
	 * NO_ENOBUFS 5, LISTEN_ALL_NSID 8, CAP_ACK 10, EXT_ACK 11,
	 * GET_STRICT_CHK 12 */
	return level == LINUX_SOL_NETLINK && name >= 1 && name <= 12 && name != 6 && name != 7 &&
	       name != 9;
}

long netlink_setsockopt(struct process *p, uint64_t level, uint64_t name, uint64_t va,
			uint64_t len)
{
	uint32_t v;

	if (!known_option(level, name))
		return -LINUX_ENOPROTOOPT;
	if ((uint32_t)len < sizeof(v))
		return -LINUX_EINVAL;
	return as_copy_in(&p->as, &v, va, sizeof(v)) < 0 ? -LINUX_EFAULT : 0;
}

long netlink_getsockopt(struct process *p, uint64_t level, uint64_t name, uint64_t va,
			uint64_t lenva)
{
	int32_t room;
	uint32_t v = 0, n = sizeof(v);

	if (!known_option(level, name) || name <= 2)
		return -LINUX_ENOPROTOOPT;
	if (as_copy_in(&p->as, &room, lenva, sizeof(room)) < 0)
		return -LINUX_EFAULT;
	if (room < (int32_t)sizeof(v))
		return -LINUX_EINVAL;
	if (as_copy_out(&p->as, va, &v, n) < 0 || as_copy_out(&p->as, lenva, &n, sizeof(n)) < 0)
		return -LINUX_EFAULT;
	return 0;
}
