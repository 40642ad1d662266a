/*
 * A stream socket's received data, waiting for its client (the receive
 * side of socket_tcp.c; docs/netstack.md, "Received TCP data").
 *
 * A client's RECV copies from the socket's entries straight into its
 * session buffer. An entry is either segments kept as lwIP delivered
 * them (their pbufs: pool buffers, which go back to the NIC as they are
 * read, or lwIP's heap), appended to the last kept entry while it stays
 * within a pbuf chain's 64 KiB, or a chunk that data is copied into.
 * Segments are kept when that is safe, and copied otherwise:
 *
 *   - only dense ones (at least RX_KEEP_MIN bytes per pbuf): a peer's
 *     small segments are copied and cost what they carry, not a pbuf,
 *     let alone a 2 KiB pool buffer, each;
 *   - pool buffers only while every socket together keeps at most half
 *     of lwIP's share of the pool (rx_kept_bound): the NICs never lack
 *     receive buffers, and lwIP keeps half its share for out-of-order
 *     segments and everything else; a client that does not read pins
 *     at most that, and what comes past it is copied, as before;
 *   - and each socket at most its fair share of that bound: the bound
 *     split evenly between the sockets keeping pool buffers (itself
 *     counted). A socket that needs its share while the bound is taken
 *     gets it from those over theirs: their newest kept entries are
 *     copied into lwIP's heap (rx_reclaim), as Linux collapses a
 *     socket's receive queue under memory pressure (tcp_collapse), so
 *     a stream that came first (iperf3 -P 4's first) or whose reader
 *     stopped cannot hold the whole bound while the others copy;
 *   - what a socket keeps is bounded by its window as chunks were (the
 *     window is opened only as the client reads), and let go when the
 *     socket closes: a dead client's session ends (socket_session.c)
 *     and gives it all back.
 */
#include "socket_service.h"
#include "heap.h"
#include "lwip/mem.h"

/* What pbuf_alloc asks of mem_malloc for n bytes, and mem_malloc of the
 * heap (lwIP's mem.c keeps a size word before the block under
 * MEM_STATS), with the heap's header: within a block of RX_CHUNK's and
 * RX_ENTRY_MAX's classes. */
#define RX_HEAP_BYTES(n) (LWIP_MEM_ALIGN_SIZE(sizeof(struct pbuf)) + LWIP_MEM_ALIGN_SIZE(n) + \
			  LWIP_MEM_ALIGN_SIZE(sizeof(mem_size_t)) + HEAP_HDR_BYTES)
_Static_assert(RX_HEAP_BYTES(RX_CHUNK) <= 16384 && RX_HEAP_BYTES(RX_ENTRY_MAX) <= 65536,
	       "a chunk fits a 16 KiB block, a collapsed entry 64 KiB");

static unsigned rx_kept_all;    /* pool buffers every socket's entries hold */
static struct sock *keepers;    /* the sockets holding some (s->rx_kept > 0) */
static unsigned keepers_n;
static uint64_t rx_collapsed;    /* entries copied out of pool buffers for another's share */
static uint64_t rx_lent;         /* bytes lent (SOCK_RECV_LEND) */
static uint64_t rx_lent_now;     /* pool buffers lent now, every session's */

/* What every socket together may keep. */
static unsigned rx_kept_bound(void)
{
	return pool_lwip_share() / 2;
}

/* A socket's share: the bound split between the sockets keeping pool
 * buffers, s among them. */
static unsigned rx_share(const struct sock *s)
{
	return rx_kept_bound() / (keepers_n + (s->rx_kept ? 0 : 1));
}

/* s's entries hold n more pool buffers (n may be 0). */
static void kept_add(struct sock *s, unsigned n)
{
	if (!n)
		return;
	if (!s->rx_kept) {
		s->rx_keeper_prev = NULL;
		s->rx_keeper_next = keepers;
		if (keepers)
			keepers->rx_keeper_prev = s;
		keepers = s;
		keepers_n++;
	}
	s->rx_kept += n;
	rx_kept_all += n;
}

/* ... n fewer. */
static void kept_sub(struct sock *s, unsigned n)
{
	if (!n)
		return;
	s->rx_kept -= n;
	rx_kept_all -= n;
	if (!s->rx_kept) {
		if (s->rx_keeper_prev)
			s->rx_keeper_prev->rx_keeper_next = s->rx_keeper_next;
		else
			keepers = s->rx_keeper_next;
		if (s->rx_keeper_next)
			s->rx_keeper_next->rx_keeper_prev = s->rx_keeper_prev;
		s->rx_keeper_next = s->rx_keeper_prev = NULL;
		keepers_n--;
	}
}

/* The pool buffers p's pbufs are in. */
static unsigned pool_bufs(struct pbuf *p)
{
	unsigned n = 0;

	for (; p; p = p->next)
		n += iface_in_pool_buffer(p);
	return n;
}

/* Free an entry's chain, counting the pool buffers it let go of. */
static void rx_free(struct sock *s, struct pbuf *p)
{
	kept_sub(s, pool_bufs(p));
	pbuf_free(p);
}

/* Whether received data may take `bytes` more of lwIP's heap for s. The
 * heap (16 MiB) is everyone's: frames sent, ARP answers, SYN-ACKs, UDP
 * datagrams; and the windows of lwIP's 192 connections (256 KiB each)
 * are three times it. So received data is copied into it only while the
 * heap stays within RX_HEAP_SHARE of it in use; past that, a socket that
 * holds nothing may still take one chunk (its reader keeps up), others
 * refuse (lwIP holds the segment and offers it again from its timer).
 * Without it, 64 connections to a service that did not accept them took
 * the whole heap with 256 KiB each, and the netstack took no new
 * connection (once not even ARP was answered), also after their peer
 * had closed them: their data waits for the accept. */
#define RX_HEAP_SHARE(size) ((size) / 8 * 5)
/* Past the share, a socket holding less than RX_HEAP_FLOOR bytes not
 * read yet may still take, while the heap stays within RX_HEAP_HARD:
 * as Linux lets a socket below tcp_rmem[0] charge memory under
 * tcp_memory_pressure. So connections that filled the heap to the share
 * (64 a service does not accept: about 160 KiB each) leave a fresh one
 * its first 64 KiB, which they hold already; without it a fresh one got
 * a chunk only while it held nothing, each refused segment waiting for
 * the peer's retransmission, and a 64 KiB echo beside them stalled. */
#define RX_HEAP_HARD(size) ((size) / 8 * 7)
#define RX_HEAP_FLOOR 65536

/* The bytes s holds that its client has not read. */
static uint64_t rx_unread(const struct sock *s)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < s->rxq_n; i++)
		n += s->rxq[(s->rxq_head + i) % RXQ_MAX]->tot_len;
	return n;
}

static bool rx_heap_room(const struct sock *s, uint64_t bytes)
{
	uint64_t size = (uint64_t)1 << lwip_heap.log2;

	return lwip_heap.used + bytes <= RX_HEAP_SHARE(size) ||
	       (lwip_heap.used + bytes <= RX_HEAP_HARD(size) &&
		rx_unread(s) + bytes <= RX_HEAP_FLOOR) ||
	       (!s->rxq_n && bytes <= 16384);
}

/* Copy k's entry i (kept segments) into one pbuf of lwIP's heap in its
 * place, letting its pool buffers go. False when the heap has no room. */
static bool rx_collapse(struct sock *k, unsigned i)
{
	struct pbuf **e = &k->rxq[(k->rxq_head + i) % RXQ_MAX], *p = *e;
	unsigned bufs = pool_bufs(p);

	if (!bufs || !p->tot_len)
		return true;
	if (!rx_heap_room(k, p->tot_len))
		return false;
	struct pbuf *c = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
	if (!c)
		return false;
	pbuf_copy_partial(p, c->payload, p->tot_len, 0);
	*e = c;
	kept_sub(k, bufs);
	pbuf_free(p);
	rx_collapsed++;
	return true;
}

/* Make room under the bound for `need` pool buffers of s, from the
 * sockets keeping more than their share (s's share: one more keeper
 * when s is none yet), newest entries first. A socket it reaches comes
 * down to its share at once, not only by the room s needs now: else the
 * first socket would stay above its share whenever the others stall
 * below theirs (the bound not reached again). Bounded: a pool buffer is
 * copied out at most once, at most the bound's buffers in one call.
 * True when there is room. */
static bool rx_reclaim(struct sock *s, unsigned need)
{
	unsigned share = rx_share(s);

	for (struct sock *k = keepers, *next; k && rx_kept_all + need > rx_kept_bound(); k = next) {
		next = k->rx_keeper_next;       /* k leaves the list when it keeps none */
		for (unsigned i = k->rxq_n; k != s && k->rx_kept > share && i--; )
			if (!rx_collapse(k, i))
				return false;
	}
	return rx_kept_all + need <= rx_kept_bound();
}

/* Room left in the last chunk (0 when the last entry is not one). */
static uint32_t tail_room(const struct sock *s)
{
	const struct pbuf *t = s->rx_tail;

	return t ? (uint32_t)(s->rx_tail_end - ((uint8_t *)t->payload + t->len)) : 0;
}

/* Copy n bytes of p from offset into the last chunk's room. */
static void tail_fill(struct sock *s, struct pbuf *p, uint16_t offset, uint16_t n)
{
	struct pbuf *t = s->rx_tail;

	pbuf_copy_partial(p, (uint8_t *)t->payload + t->len, n, offset);
	t->len = (u16_t)(t->len + n);
	t->tot_len = t->len;
}

/* Keep p as it came: appended to the last entry when that is kept
 * segments with room in a chain's 64 KiB, else a new entry. False when
 * it should be copied instead (sparse, past s's share or the bound on
 * kept pool buffers, when the last chunk still has room for it, or when
 * rxq is full). */
static bool rx_keep(struct sock *s, struct pbuf *p)
{
	unsigned bufs = 0, pooled = 0;
	struct pbuf *last = s->rxq_n ? s->rxq[(s->rxq_head + s->rxq_n - 1) % RXQ_MAX] : NULL;
	bool append = last && !s->rx_tail && (uint32_t)last->tot_len + p->tot_len <= RX_ENTRY_MAX;

	for (struct pbuf *q = p; q; q = q->next) {
		bufs++;
		if (iface_in_pool_buffer(q))
			pooled++;
		else if ((q->flags & PBUF_FLAG_IS_CUSTOM) || !pbuf_match_type(q, PBUF_RAM))
			return false;   /* only pool buffers and lwIP's heap are kept */
	}
	if (p->tot_len < bufs * RX_KEEP_MIN || tail_room(s) >= p->tot_len ||
	    (!append && s->rxq_n == RXQ_MAX) || (bufs > pooled && !rx_heap_room(s, 0)))
		return false;   /* (heap pbufs kept count as the heap's, rx_heap_room) */
	if (pooled && (s->rx_kept + pooled > rx_share(s) ||
		       (rx_kept_all + pooled > rx_kept_bound() && !rx_reclaim(s, pooled))))
		return false;
	if (append) {
		pbuf_cat(last, p);
	} else {
		s->rxq[(s->rxq_head + s->rxq_n++) % RXQ_MAX] = p;
		s->rx_tail = NULL;      /* what is copied next starts a chunk after it */
	}
	kept_add(s, pooled);
	return true;
}

err_t sock_rx_append(struct sock *s, struct pbuf *p)
{
	uint32_t room = tail_room(s), len = p->tot_len;
	unsigned need = len > room ? (len - room + RX_CHUNK - 1) / RX_CHUNK : 0;
	struct pbuf *fresh[(0xFFFF + RX_CHUNK - 1) / RX_CHUNK + 1];

	if (rx_keep(s, p))
		return ERR_OK;
	if (s->rxq_n + need > RXQ_MAX || (need && !rx_heap_room(s, (uint64_t)need * 16384)))
		return ERR_MEM;
	for (unsigned i = 0; i < need; i++) {
		if (!(fresh[i] = pbuf_alloc(PBUF_RAW, RX_CHUNK, PBUF_RAM))) {
			while (i--)
				pbuf_free(fresh[i]);
			return ERR_MEM;
		}
	}
	uint16_t done = (uint16_t)(len < room ? len : room);
	if (done)
		tail_fill(s, p, 0, done);
	for (unsigned i = 0; i < need; i++) {
		struct pbuf *c = fresh[i];
		s->rx_tail = c;
		s->rx_tail_end = (uint8_t *)c->payload + RX_CHUNK;
		c->len = c->tot_len = 0;
		s->rxq[(s->rxq_head + s->rxq_n++) % RXQ_MAX] = c;
		uint16_t n = (uint16_t)(len - done < RX_CHUNK ? len - done : RX_CHUNK);
		tail_fill(s, p, done, n);
		done = (uint16_t)(done + n);
	}
	pbuf_free(p);
	return ERR_OK;
}

/* Describe n bytes at `at` in l's table: a pool slice, or the copied
 * bytes (joined to the last slice when that is copied too). False when
 * the table is full. */
static bool slice_add(struct rx_lend *l, uint32_t pool_at, uint32_t n)
{
	struct sock_slice *last = l->n ? &l->slices[l->n - 1] : NULL;

	if (pool_at == SOCK_SLICE_COPIED && last && last->pool == SOCK_SLICE_COPIED) {
		last->len += n;
		return true;
	}
	if (l->n == l->max)
		return false;
	l->slices[l->n++] = (struct sock_slice){ .pool = pool_at, .len = n };
	return true;
}

/* What every lending session together may hold lent: a quarter of
 * lwIP's share of the pool (64 buffers of a 1024-buffer pool, whose
 * lwIP share is 256), beside the sockets' half of it
 * (rx_kept_bound). Past it a RECV copies. Lent buffers leave their
 * socket's share when lent: counted there, the socket copied what came
 * while its last read was lent (a third of iperf3's bytes). */
static unsigned rx_lend_bound(void)
{
	return pool_lwip_share() / 4;
}

/* p (a pool pbuf) lent to s's session: taken off s's kept buffers when it
 * left the entry (counted), else a reference while the entry keeps it. */
static void lend_keep(struct sock *s, struct pbuf *p, bool counted)
{
	struct session *se = s->session;

	if (counted)
		kept_sub(s, 1);
	se->lent[se->lent_n++] = p;
	rx_lent_now++;
}

uint32_t sock_rx_take(struct sock *s, uint8_t *to, uint32_t len, struct rx_lend *l)
{
	struct pbuf **first = &s->rxq[s->rxq_head], *p = *first;
	uint32_t done = 0;

	while (p && done < len) {
		uint32_t n = p->len < len - done ? p->len : len - done;
		bool lend = l && iface_in_pool_buffer(p) && rx_lent_now < rx_lend_bound();
		if (lend) {
			if (!slice_add(l, (uint32_t)((uint8_t *)p->payload - pool.mem), n))
				break;
			rx_lent += n;
		} else {
			if (l && !slice_add(l, SOCK_SLICE_COPIED, n))
				break;
			memcpy(to + done, p->payload, n);
		}
		done += n;
		if (n < p->len) {
			if (lend) {     /* the entry keeps it: the session a reference */
				pbuf_ref(p);
				lend_keep(s, p, false);
			}
			pbuf_remove_header(p, (size_t)n);
			break;
		}
		/* Emptied: freed (an emptied chunk too, the tail one
		 * included), or lent; the rest of the chain is the entry. */
		struct pbuf *next = p->next;
		p->next = NULL;
		if (lend) {
			p->tot_len = p->len;
			lend_keep(s, p, true);
		} else {
			kept_sub(s, iface_in_pool_buffer(p));
			if (p == s->rx_tail)
				s->rx_tail = NULL;
			pbuf_free(p);
		}
		p = next;
	}
	/* Empty pbufs left at a chain's end go with it. */
	if (p && !p->tot_len && p != s->rx_tail) {
		rx_free(s, p);
		p = NULL;
	}
	*first = p;
	if (!p) {
		s->rxq_head = (s->rxq_head + 1) % RXQ_MAX;
		s->rxq_n--;
	}
	return done;
}

void sock_rx_return(struct session *se)
{
	for (unsigned i = 0; i < se->lent_n; i++)
		pbuf_free(se->lent[i]);
	rx_lent_now -= se->lent_n;
	se->lent_n = 0;
}

void sock_rx_drop_all(struct sock *s)
{
	for (; s->rxq_n; s->rxq_n--, s->rxq_head = (s->rxq_head + 1) % RXQ_MAX)
		rx_free(s, s->rxq[s->rxq_head]);
	s->rx_tail = NULL;
}

void socket_rx_lent(uint64_t *bytes, uint64_t *now)
{
	*bytes = rx_lent;
	*now = rx_lent_now;
}

void socket_rx_kept(uint64_t *most, uint64_t *collapsed)
{
	unsigned m = 0;

	for (const struct sock *k = keepers; k; k = k->rx_keeper_next)
		if (k->rx_kept > m)
			m = k->rx_kept;
	*most = m;
	*collapsed = rx_collapsed;
}
