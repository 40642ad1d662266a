/*
 * UDP datagrams sent in batches (socket.h; docs/posix.md, "UDP from
 * Mica: sent in batches"): a UDP socket's send that Linux would answer
 * with success is answered at once, its datagram kept in its session's
 * batch (the last BATCH_BYTES of the session buffer, which
 * socket_buffer leaves out), and the batch goes to the netstack with one
 * SOCK_SEND with SOCK_SEND_MANY — one call, one round of the netstack's
 * loop and one kick of the NIC for up to BATCH_MAX datagrams instead of
 * one each.
 *
 * Only what cannot fail where Linux's send would: a socket whose last
 * send to the same place (the connected peer, or the same address and
 * port) went straight and succeeded — its first datagram anywhere, a
 * connect or a bind (socket_call), and an error reported all make the
 * next one go straight again, so a route missing, a bind refused, an
 * ICMP error pending are reported by the send as on Linux. What still
 * fails in the netstack (the route gone since, an ICMP error that came
 * meanwhile, no memory) is counted there (sock_udp_send_dropped) and its
 * error kept for the socket's next call (SO_ERROR, POLLERR, a send or a
 * receive), as Linux reports an ICMP error that came after a send.
 *
 * The batch goes (socket_batch_flush) when it is full; before any other
 * call to the netstack on its session (socket_call: the order of every
 * socket's calls is kept); before any system call of its process other
 * than another send on its socket, or a poll, select or epoll_wait that
 * does not wait (socket_batch_call), and when one of them waits
 * (socket_batch_block); and by the server's timer when no send came for
 * BATCH_IDLE_NS (a process that computes after sending) or its first
 * datagram waited BATCH_AGE_NS (one that sends on without another call).
 * A netstack that goes takes the batches with it, counted as what it
 * held is lost with it.
 */
#include "clock.h"
#include "file.h"
#include "socket.h"
#include "syscall.h"

#define BATCH_MAX       32              /* datagrams a batch holds at most */
#define BATCH_DGRAM_MAX 16384           /* larger ones go straight */
#define BATCH_IDLE_NS   1000000UL       /* no send for this long: the batch goes */
#define BATCH_AGE_NS    10000000UL      /* the longest a datagram waits here */

_Static_assert(BATCH_MAX <= SOCK_SEND_MANY_MAX, "a batch is one SOCK_SEND_MANY");

struct batch {
	struct psock *s;                /* whose datagrams (NULL: none) */
	int pid;                        /* the process that sent them */
	uint32_t used, count;           /* bytes of the area, datagrams */
	uint32_t seen;                  /* count at the timer's last look */
	uint64_t first, due;            /* ns of the clock: its first datagram, the
					   timer's next look */
};

static struct batch batches[SOCKET_SESSIONS];
unsigned socket_batched;                /* batches held */
static uint64_t batch_lost;             /* datagrams the netstack took with it */

void socket_batch_flush(unsigned session)
{
	struct batch *b = &batches[session];
	struct psock *s = b->s;
	uint64_t at, out[4] = { 0 };

	if (!s)
		return;
	b->s = NULL;                    /* first: socket_call flushes, not again */
	socket_batched--;
	socket_batch_buffer(s, &at);
	uint64_t w[6] = { (uint64_t)s->id, at, b->used, SOCK_NONBLOCK | SOCK_SEND_MANY, 0, 0 };
	long r = socket_call(s, SOCK_SEND, w, 6, out, 4);
	if (r < 0) {
		batch_lost += b->count;
		printf("posix: %u datagrams batched were lost with the netstack (%lu in all)\n",
		       b->count, (unsigned long)batch_lost);
		return;
	}
	if (out[2] || out[0] < b->count) {
		/* Counted by the netstack; its error is the socket's, for
		 * the next call, and the next send goes straight. */
		s->batch_ok = false;
		if (!s->err)
			s->err = out[1] && out[1] < 4096 ? (int)out[1] : LINUX_EIO;
		socket_wake_all();      /* a poll waiting sees POLLERR */
	}
	socket_poll_known(s, (unsigned)out[3]);     /* as a send's (socket_io.c) */
}

long socket_batch_add(struct process *p, struct psock *s, const struct uio *u, uint64_t total,
		      const struct sock_addr *to)
{
	struct batch *b = &batches[s->session];
	struct sock_addr where = to ? *to : (struct sock_addr){ 0, 0 };
	uint64_t skip, room = BATCH_BYTES;

	/* Bits known without an error: no notification since the last
	 * answer (an ICMP error that came is one). */
	if (!s->batch_ok || !total || total > BATCH_DGRAM_MAX || s->err || !s->poll_valid ||
	    (s->poll_bits & SOCK_POLLERR) ||
	    where.addr != s->batch_to.addr || where.port != s->batch_to.port)
		return 0;
	if (b->s && (b->s != s || b->pid != p->pid))
		socket_batch_flush(s->session);
	uint8_t *area = socket_batch_buffer(s, &skip);
	if (b->s && SOCK_DGRAM_NEXT(total) > room - b->used)
		socket_batch_flush(s->session);
	if (s->dead)
		return 0;
	struct sock_dgram h = { .len = (uint32_t)total, .addr = where.addr, .port = where.port };
	uint32_t at = b->s ? b->used : 0;       /* a new batch starts the area */
	if (uio_copy(p, u, 0, area + at + sizeof(h), total, false) < 0)
		return -LINUX_EFAULT;
	memcpy(area + at, &h, sizeof(h));
	if (!b->s) {
		uint64_t now = (uint64_t)sys_clock();
		*b = (struct batch){ .s = s, .pid = p->pid, .first = now, .due = now + BATCH_IDLE_NS };
		socket_batched++;
		signal_timer_arm();
	}
	b->used += (uint32_t)SOCK_DGRAM_NEXT(total);
	b->count++;
	if (b->count == BATCH_MAX || room - b->used < sizeof(h))
		socket_batch_flush(s->session);
	return (long)total;
}

void socket_batch_drop(void)
{
	for (unsigned i = 0; i < SOCKET_SESSIONS; i++)
		if (batches[i].s) {
			batch_lost += batches[i].count;
			batches[i].s = NULL;
			socket_batched--;
		}
}

/* p's batches go. */
static void flush_process(const struct process *p)
{
	for (unsigned i = 0; i < SOCKET_SESSIONS; i++)
		if (batches[i].s && batches[i].pid == p->pid)
			socket_batch_flush(i);
}

/* Whether p's call nr (arguments in r) may leave p's batches held: a
 * send on a socket whose batch it is, or a readiness call (which waits:
 * socket_batch_block). */
static bool batch_keeps(struct process *p, const struct user_regs *r)
{
	switch (r->rax) {
	case LINUX_NR_select: case LINUX_NR_pselect6: case LINUX_NR_poll: case LINUX_NR_ppoll:
	case LINUX_NR_epoll_wait: case LINUX_NR_epoll_pwait: case LINUX_NR_epoll_pwait2:
	case LINUX_NR_clock_gettime: case LINUX_NR_gettimeofday:
		return true;
	case LINUX_NR_write: case LINUX_NR_writev: case LINUX_NR_sendto: case LINUX_NR_sendmsg:
	case LINUX_NR_sendmmsg: {
		struct file *f;
		long err;
		struct psock *s = socket_fd(p, r->rdi, &f, &err);
		return s && batches[s->session].s == s;
	}
	default:
		return false;
	}
}

void socket_batch_call(struct process *p, const struct user_regs *r)
{
	if (!batch_keeps(p, r))
		flush_process(p);
}

void socket_batch_block(struct process *p)
{
	flush_process(p);
}

uint64_t socket_batch_first(void)
{
	uint64_t first = 0;

	for (unsigned i = 0; i < SOCKET_SESSIONS; i++)
		if (batches[i].s && (!first || batches[i].due < first))
			first = batches[i].due;
	return first;
}

void socket_batch_expire(uint64_t now)
{
	for (unsigned i = 0; i < SOCKET_SESSIONS; i++) {
		struct batch *b = &batches[i];
		if (!b->s || b->due > now)
			continue;
		/* No send since the last look (BATCH_IDLE_NS ago), or its
		 * first datagram waited long enough: it goes. Else the next
		 * look (no clock read a send: the count tells). */
		if (b->count == b->seen || now >= b->first + BATCH_AGE_NS) {
			socket_batch_flush(i);
		} else {
			b->seen = b->count;
			b->due = now + BATCH_IDLE_NS;
		}
	}
}
