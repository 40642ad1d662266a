/*
 * The link to the netstack's socket service (socket.h, docs/posix.md
 * "Sockets"): the netstack's "net" endpoint (looked up without waiting;
 * its name watched, so that its end or a new netstack is a notification
 * bit) and up to SOCKET_SESSIONS sessions shared by every process, each
 * with a buffer (the netstack's memory) mapped into the server's
 * heap window (in `net_region`, below): when the netstack dies its pages
 * go from under the server,
 * and a copy that touches them then gets a zero page from init's pager
 * (which backs the heap window) instead of killing the server. The
 * server is one thread and every call to the netstack is SOCK_NONBLOCK,
 * so a call stages its data in the buffer, makes the call and is done
 * with the buffer before the next: one buffer serves every socket of a
 * session.
 *
 * A buffer is 1 MiB with a send area (proto/socket.h, SOCK_SEND_LENT:
 * a stream's writes staged there are sent by reference) when the
 * netstack has one free, else 256 KiB (SOCK_EBUSY: asked again for the
 * session's next opening). Its layout (size: 1 MiB or 256 KiB):
 *
 *   [0, SOCK_SEND_AREA_AT)            staged copies (socket_buffer), once
 *                                     a SEND offered a run of the area
 *   [0, size - BATCH_BYTES)           staged copies, before that or
 *                                     without an area
 *   [SOCK_SEND_AREA_AT, size - SOCK_SEND_AREA_TAIL)   the send area, the
 *                                     netstack's offers (socket_io.c)
 *   [size - BATCH_BYTES, size)        the UDP batch (socket_batch.c,
 *                                     socket_batch_buffer), which goes
 *                                     before any other call on the
 *                                     session (socket_call)
 *
 * so the batch never meets the send area (BATCH_BYTES <=
 * SOCK_SEND_AREA_TAIL) nor, at either size, the copies.
 *
 * When the netstack goes (a call's IPC fails, or init says its name
 * went), every session and socket goes with it and waiting calls are
 * woken; a new socket opens a new session once the netstack is back.
 *
 * Lending (proto/socket.h, docs/posix.md "Sockets"): when the manifest
 * lets the server look up the netstack's private SOCK_LEND_NAME, its
 * sessions are opened through it and the netstack's packet pool is
 * mapped read-only at `pool_window` (in the heap window too, so a copy
 * from it after the netstack died gets zero pages, as the buffers do);
 * a stream's RECV then gets slices of the pool, which socket_io.c copies
 * into the process before the server's next call to the netstack.
 *
 * The netstack's replies map pages only into `net_region`, one naturally
 * aligned block of the heap window reserved for them and used as the
 * receive window of every session's opening:
 *
 *   net_region  +------------------------------+
 *               | the pool (SOCK_LEND_POOL_MAX) | pool_window
 *               +------------------------------+
 *               | session 0's buffer           | windows[0]
 *               | session 1's buffer ...       | windows[1]
 *               +------------------------------+
 *               | (unused)                     |
 *               +------------------------------+ + 2^NET_REGION_LOG2
 *
 * so a netstack that maps elsewhere (buggy or hostile) reaches none of
 * the heap the server uses: the kernel drops what lands outside, and the
 * session is refused when the buffer or the pool did not all arrive.
 */
#include "clock.h"
#include "socket.h"
#include "syscall.h"

#include "lib/names.h"
#include "lib/netsock.h"

#define SESSION_LOG2 SOCK_BUFFER_SEND_LOG2   /* with a send area, if the netstack can */
#define NET_REGION_LOG2 23      /* 8 MiB: the pool's window, then the buffers */
_Static_assert(SOCK_LEND_POOL_MAX + SOCKET_SESSIONS * (1UL << SESSION_LOG2) <=
	       1UL << NET_REGION_LOG2, "the pool and every buffer in the region");
_Static_assert(SOCK_LEND_POOL_MAX % (1UL << SESSION_LOG2) == 0,
	       "each buffer aligned to its size after the pool");
_Static_assert(BATCH_BYTES <= SOCK_SEND_AREA_TAIL, "the batch after the send area");
_Static_assert(SOCK_SEND_AREA_AT + BATCH_BYTES <= (1UL << SOCK_BUFFER_MAX_LOG2),
	       "copies and the batch apart in a 256 KiB buffer");

struct session {
	struct net_session ns;
	bool open;
	bool lend;                      /* opened through SOCK_LEND_NAME: RECV lends */
	bool send_area;                 /* a SEND offered a run: nothing else staged
					   at or past SOCK_SEND_AREA_AT */
	uint32_t offer_at, offer_len;   /* the latest TCP SEND reply's offer */
	unsigned sockets;               /* sockets of ours in it */
};

static struct session sessions[SOCKET_SESSIONS];
static cap_slot_t net_ep = CAP_SLOT_NONE;      /* the netstack's "net" */
static cap_slot_t lend_ep = CAP_SLOT_NONE;     /* its "net-lend", if we may look it up */
static uint8_t *pool_window;                    /* SOCK_LEND_POOL_MAX, aligned to it */
static uint64_t pool_size;                      /* bytes of it mapped */
static uint64_t net_generation;
static cap_slot_t ready_notif, net_notif;       /* badged copies of the server's */
static uint8_t *windows[SOCKET_SESSIONS];       /* where each session's buffer goes */
static uint8_t *net_region;                     /* the pool's window and the buffers */

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
		se->lend = false;
		se->send_area = false;
		se->offer_len = 0;
	}
	socket_all_dead();
	if (lend_ep != CAP_SLOT_NONE) {
		/* The pool went with the netstack; zero pages a copy faulted
		 * in there make room for the next one's. */
		sys_mem_unmap(fpage((uint64_t)pool_window, log2_ceil(SOCK_LEND_POOL_MAX)),
			      MEM_UNMAP_SELF);
		sys_cap_delete(lend_ep);
		slot_free(lend_ep);
		lend_ep = CAP_SLOT_NONE;
	}
	if (net_ep != CAP_SLOT_NONE) {
		sys_cap_delete(net_ep);
		slot_free(net_ep);
		net_ep = CAP_SLOT_NONE;
	}
	printf("posix: the netstack went: its sockets are closed\n");
	socket_wake_all();
}

/* A lending session through lend_ep: its buffer at va, the pool
 * read-only at pool_window; the reply may map into net_region only. */
static long session_open_lend(struct net_session *ns, uint8_t *va, unsigned log2)
{
	unsigned pool_log2;
	long err = net_session_open_lend(ns, lend_ep, va, log2, ready_notif, pool_window,
					 fpage((uint64_t)net_region, NET_REGION_LOG2), &pool_log2);

	if (err == 0) {
		pool_size = 1UL << pool_log2;
		return 0;
	}
	if (err == -SOCK_EFAULT)
		printf_limited("posix: the netstack's answer did not map the session's buffer and "
			       "pool where asked; session refused\n");
	/* Whatever it did map of the pool goes too, unless a session open
	 * now has the pool there. */
	bool pool_used = false;
	for (unsigned i = 0; i < SOCKET_SESSIONS; i++)
		pool_used |= sessions[i].open && sessions[i].lend;
	if (!pool_used)
		sys_mem_unmap(fpage((uint64_t)pool_window, log2_ceil(SOCK_LEND_POOL_MAX)),
			      MEM_UNMAP_SELF);
	return err;
}

static long session_open(struct session *se, void *va, unsigned log2)
{
	return se->lend ? session_open_lend(&se->ns, va, log2)
			: net_session_open(&se->ns, net_ep, va, log2, ready_notif);
}

/* A session with room for one more socket, none of those in skip (a
 * bit each: the netstack said they are full): its index, or -errno
 * (-ENETDOWN: no netstack now). */
long socket_session_take(unsigned skip)
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
	if (net_ep != CAP_SLOT_NONE && lend_ep == CAP_SLOT_NONE && pool_window) {
		/* Refused (no `lookup net-lend` in the manifest) or not there:
		 * sessions copy, as through "net". */
		lend_ep = slot_alloc();
		long e = lend_ep == CAP_SLOT_NONE ? 0 : ns_lookup_now(SOCK_LEND_NAME, lend_ep, NULL);
		if (e < 0) {
			slot_free(lend_ep);
			lend_ep = CAP_SLOT_NONE;
			if (e == -ERR_NO_RIGHTS)
				pool_window = NULL;     /* refused: not asked again */
		}
	}
	for (unsigned i = 0; i < SOCKET_SESSIONS; i++) {
		if (skip & (1u << i))
			continue;
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
	se->lend = lend_ep != CAP_SLOT_NONE;
	/* 1 MiB with a send area; the netstack has none free: 256 KiB. */
	err = session_open(se, va, SESSION_LOG2);
	if (err == -SOCK_EBUSY)
		err = session_open(se, va, SOCK_BUFFER_MAX_LOG2);
	if (err < 0) {
		if (err == -SOCK_EIO)
			net_lost();
		return err == -SOCK_EIO ? -LINUX_ENETDOWN : err;
	}
	se->open = true;
	se->send_area = false;
	se->offer_len = 0;
	se->sockets = 0;
	return free;
}

void socket_session_count(int session, int delta)
{
	sessions[session].sockets += (unsigned)delta;
}

const uint8_t *socket_pool(const struct psock *s, uint64_t *size)
{
	*size = pool_size;
	return sessions[s->session].lend ? pool_window : NULL;
}

uint8_t *socket_buffer(const struct psock *s, uint64_t *size)
{
	const struct session *se = &sessions[s->session];

	*size = se->send_area ? SOCK_SEND_AREA_AT : se->ns.size - BATCH_BYTES;
	return se->ns.buf;
}

uint8_t *socket_batch_buffer(const struct psock *s, uint64_t *at)
{
	const struct session *se = &sessions[s->session];

	*at = se->ns.size - BATCH_BYTES;
	return se->ns.buf + *at;
}

/* The session's send area's offered run (proto/socket.h,
 * SOCK_SEND_LENT): its offset in the buffer, and its length (0: none). */
uint32_t socket_send_offer(const struct psock *s, uint32_t *at)
{
	const struct session *se = &sessions[s->session];

	*at = se->offer_at;
	return se->offer_len;
}

/* A TCP SEND's reply's offer, [2] and [3], checked against the buffer. */
void socket_send_offered(const struct psock *s, const uint64_t *out)
{
	struct session *se = &sessions[s->session];

	se->offer_len = 0;
	if (out[1] && out[0] >= SOCK_SEND_AREA_AT && out[0] < se->ns.size - BATCH_BYTES &&
	    out[1] <= se->ns.size - BATCH_BYTES - out[0]) {
		se->offer_at = (uint32_t)out[0];
		se->offer_len = (uint32_t)out[1];
		se->send_area = true;
	}
}

/* syscount=1: the calls made to the netstack (socket_call) by label and
 * the readiness signals taken (socket_notified), every process's, since
 * the last count line (socket_count_report). */
#define COUNTED_LABELS 32
static struct {
	uint32_t calls[COUNTED_LABELS], signals;
	uint64_t staged;                /* bytes of writes copied into a session */
	uint64_t lent;                  /* bytes the netstack took by reference */
} net_counts;

void socket_count_staged(uint64_t bytes)
{
	net_counts.staged += bytes;
}

void socket_count_lent(uint64_t bytes)
{
	net_counts.lent += bytes;
}

void socket_count_report(const struct process *p)
{
	uint32_t total = 0, *c = net_counts.calls;

	if (!syscall_count)
		return;
	for (unsigned i = 0; i < COUNTED_LABELS; i++)
		total += c[i];
	printf("posix: %s (pid %d) netstack calls: %u in all, readiness signals %u; recv %u, "
	       "poll_all %u, poll %u, send %u, other %u; staged: %lu bytes; "
	       "by reference: %lu bytes\n", p->name, p->pid, total, net_counts.signals,
	       c[SOCK_RECV], c[SOCK_POLL_ALL], c[SOCK_POLL], c[SOCK_SEND],
	       total - c[SOCK_RECV] - c[SOCK_POLL_ALL] - c[SOCK_POLL] - c[SOCK_SEND],
	       net_counts.staged, net_counts.lent);
	memset(&net_counts, 0, sizeof(net_counts));
}

long socket_call(struct psock *s, uint64_t label, uint64_t *w, unsigned n, uint64_t *out,
		 unsigned nout)
{
	if (socket_batched)
		socket_batch_flush(s->session);    /* first: the calls' order is kept */
	if (s->dead)
		return -LINUX_ECONNRESET;
	if (label == SOCK_CONNECT || label == SOCK_BIND)
		s->batch_ok = false;            /* its next send goes straight */
	if (syscall_count)
		net_counts.calls[label < COUNTED_LABELS ? label : 0]++;
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
		net_counts.signals += syscall_count;
		socket_polls_stale();
		socket_wake_all();
	}
}

void socket_init(void)
{
	uint64_t size = 1UL << SESSION_LOG2, region = 1UL << NET_REGION_LOG2;

	/* The region, aligned to its size (what the heap holds up to the
	 * next boundary is left unused; called at start, when that is
	 * little). */
	uint64_t at = (uint64_t)mem_heap(0);
	uint64_t skip = ((at + region - 1) & ~(region - 1)) - at;
	uint8_t *raw = mem_heap(skip + region);
	net_region = raw ? raw + skip : NULL;
	pool_window = net_region;
	for (unsigned i = 0; i < SOCKET_SESSIONS; i++)
		windows[i] = net_region ? net_region + SOCK_LEND_POOL_MAX + i * size : NULL;
	ready_notif = slot_alloc();
	net_notif = slot_alloc();
	if (sys_cap_copy(signal_notification, CAP_SLOT_SELF, ready_notif, CAP_RIGHT_WRITE,
			 SOCKET_NOTIFY_READY) < 0 ||
	    sys_cap_copy(signal_notification, CAP_SLOT_SELF, net_notif, CAP_RIGHT_WRITE,
			 SOCKET_NOTIFY_NET) < 0 ||
	    ns_watch(SOCK_SERVICE_NAME, net_notif) < 0)
		printf("posix: cannot watch the netstack's name: sockets will not notice its end\n");
}

