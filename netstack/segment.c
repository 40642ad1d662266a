/*
 * Large segments on the way out (docs/netstack.md, "Large segments"): a
 * TCP aggregate received over several pool buffers (NETQ_F_TSO4, iface.c)
 * and forwarded leaves whole, from the buffers it arrived in, to a driver
 * that offers NETQ_OFFLOAD_TX_TSO4: the NIC cuts it into segments of its
 * segment size. To any other (the switch off, a smaller MTU), it is cut
 * here (GSO): each segment is the aggregate's headers rewritten for it
 * (lib/netq_gso.c) and its part of the payload. To a NIC that gathers a
 * frame from several buffers (NETQ_OFFLOAD_TX_SG) and completes checksums,
 * without copying the payload: a segment is a chain of its headers, in a
 * header buffer shared by many segments, and slices of the buffers the
 * aggregate arrived in, each buffer held until the last slice of it comes
 * back (tx_refs, TX_SLICES). To any other, the payload is copied into a
 * free pool buffer per segment, its TCP checksum left to the NIC or
 * summed here.
 *
 * The aggregate's own TCP checksum is never trusted on the way out: it
 * may be partial (the host left it so) or stale (NAT rewrote the
 * addresses); the NIC or GSO sums each segment afresh from its data.
 *
 * lwIP's own TCP builds segments of at most its MSS (docs/drivers.md says
 * why it cannot be made to build larger ones); toward a NIC that cuts
 * aggregates, the segments one round of the loop sends on a connection
 * are merged back into one (segment_coalesce): the NIC then handles one
 * frame where it had dozens, and cuts it into exactly the segments lwIP
 * made. On unless the netstack's `merge=off`: docs/netstack.md, "Large
 * segments".
 */
#include "netstack.h"

#include "lib/inet_csum.h"
#include "lib/netq_csum.h"
#include "lib/netq_gso.h"
#include "lwip/stats.h"

/* Whole, zero-copy: every pbuf of p is a pool buffer not on its way out
 * yet; each is held (with a reference to p) until the driver gives it
 * back. False when p cannot go so (then it is cut here). */
static bool send_whole(struct iface *ifc, struct pbuf *p, const struct netq_gso *g)
{
	struct netq_desc d[NETQ_CHAIN_MAX];
	unsigned n = 0;

	for (struct pbuf *q = p; q; q = q->next) {
		if (n == NETQ_CHAIN_MAX || !q->len || !iface_in_pool_buffer(q) ||
		    ((struct iface_buf *)q)->tx_hold)
			return false;
		d[n++] = (struct netq_desc){ .offset = (uint32_t)((uint8_t *)q->payload - pool.mem) +
						       NETQ_POOL_OFFSET,
					     .len = q->len, .flags = NETQ_F_MORE };
	}
	if (n < 2 || netq_space(netq_ring(ifc->rings, NETQ_TX_READY)) < n)
		return false;
	d[n - 1].flags = 0;
	uint8_t *f = p->payload;
	struct netq_l4 l4 = { .ip = g->ip, .l4 = g->tcp, .csum = (uint16_t)(g->tcp + 16),
			      .end = (uint16_t)(g->hdr_len + g->payload), .proto = 6 };
	netq_csum_leave(f, &l4, &d[0]);
	d[0].flags |= NETQ_F_TSO4;
	d[0].seg_size = g->seg_size;
	unsigned i = 0;
	for (struct pbuf *q = p; q; q = q->next, i++) {
		struct iface_buf *b = (struct iface_buf *)q;
		pool_tx_hold(b, p, ifc);
		b->tx_offset = d[i].offset;
		b->tx_refs = 1;
	}
	netq_push_chain(netq_ring(ifc->rings, NETQ_TX_READY), d, n);
	ifc->counters.tx_tso++;
	ifc->counters.tx_zero_copy++;
	ifc->counters.tx_csum_offloaded += g->nsegs;   /* each segment's, by the NIC */
	return true;
}

/* Cut here: one pool buffer per segment. False when not all could go
 * (no buffer or ring room: the rest is dropped and counted, tx_dropped;
 * TCP sends it again). */
static bool send_cut(struct iface *ifc, struct pbuf *p, const struct netq_gso *g)
{
	struct netq_ring *tx = netq_ring(ifc->rings, NETQ_TX_READY);
	uint8_t hdr[14 + 60 + 60];
	uint32_t at = 0;

	if (pbuf_copy_partial(p, hdr, g->hdr_len, 0) != g->hdr_len) {
		ifc->counters.tx_dropped += g->nsegs;
		return false;
	}
	for (unsigned i = 0; i < g->nsegs; i++) {
		struct iface_buf *b;
		if (!netq_space(tx) || !(b = pool_take_tx(ifc))) {
			ifc->counters.tx_dropped += g->nsegs - i;
			return false;
		}
		uint8_t *f = pool_byte(b->start);
		unsigned len = netq_gso_headers(hdr, g, i, f);
		pbuf_copy_partial(p, f + g->hdr_len, (u16_t)len, (u16_t)(g->hdr_len + at));
		at += len;
		struct netq_desc d = { .offset = b->start, .len = (uint16_t)(g->hdr_len + len) };
		struct netq_l4 l4;
		if (!netq_frame_l4(f, d.len, &l4)) {
			pool_to_free_stack(b);  /* cannot be: the headers were checked */
			ifc->counters.tx_dropped += g->nsegs - i;
			return false;
		}
		if (ifc->offloads & NETQ_OFFLOAD_TX_CSUM) {
			netq_csum_leave(f, &l4, &d);
			ifc->counters.tx_csum_offloaded++;
		} else {
			netq_csum_fill(f, &l4);
			ifc->counters.tx_csum_software++;
		}
		b->tx_offset = d.offset;
		b->tx_refs = 1;
		netq_push(tx, d);
		ifc->counters.tx_gso_segments++;
		ifc->counters.tx_packets++;
		ifc->counters.tx_bytes += d.len;
		LINK_STATS_INC(link.xmit);
	}
	return true;
}

/* Where the next payload byte is: a pbuf of the aggregate and a byte in it. */
struct slice_at {
	struct pbuf *q;
	unsigned off;
};

/* Can p's payload go as slices? Every pbuf is a pool buffer not on its
 * way out yet, and fewer than NETQ_CHAIN_MAX of them (so a segment's
 * chain, its header and one slice per pbuf it touches, is never too long). */
static bool sliceable(struct pbuf *p)
{
	unsigned npbufs = 0;

	for (struct pbuf *q = p; q; q = q->next, npbufs++)
		if (!q->len || !iface_in_pool_buffer(q) || ((struct iface_buf *)q)->tx_hold ||
		    npbufs + 1 >= NETQ_CHAIN_MAX)
			return false;
	return true;
}

/* Hold a buffer of the aggregate p for one more slice on ifc. */
static void slice_hold(struct iface *ifc, struct pbuf *p, struct iface_buf *b)
{
	if (!b->tx_hold) {
		pool_tx_hold(b, p, ifc);
		b->tx_offset = TX_SLICES;
		b->tx_refs = 0;
	}
	b->tx_refs++;
}

/*
 * Cut here without copying the payload (ifc gathers chains and completes
 * checksums; p is sliceable): each segment is a chain of its headers
 * (rewritten into a slot of a header buffer shared by the segments,
 * NETQ_TX_CHAIN_HEAD_MIN bytes at least, TCP checksum partial) and the
 * slices of p's buffers holding its payload. A segment goes only whole:
 * false when the ring or the pool has no room for the next (the rest is
 * dropped, as send_cut does; TCP sends it again).
 */
static bool send_sliced(struct iface *ifc, struct pbuf *p, const struct netq_gso *g)
{
	struct netq_ring *tx = netq_ring(ifc->rings, NETQ_TX_READY);
	unsigned stride = (g->hdr_len + 7u) & ~7u, per_buf = NETQ_BUF_SIZE / stride, used = per_buf;
	const uint8_t *hdr = p->payload;        /* the headers lie in the first pbuf */
	struct slice_at at = { p, g->hdr_len };
	struct iface_buf *h = NULL;

	for (unsigned i = 0; i < g->nsegs; i++) {
		struct netq_desc d[1 + NETQ_CHAIN_MAX];
		struct pbuf *from[1 + NETQ_CHAIN_MAX];
		uint32_t first = i * (uint32_t)g->seg_size;
		unsigned len = g->payload - first < g->seg_size ? g->payload - first : g->seg_size;
		unsigned n = 1;
		struct slice_at next = at;
		/* The slices, planned before anything is taken. */
		for (unsigned left = len; left;) {
			while (next.off >= next.q->len) {
				next.q = next.q->next;
				next.off = 0;
			}
			unsigned take = next.q->len - next.off < left ? next.q->len - next.off : left;
			uint32_t off = (uint32_t)((uint8_t *)next.q->payload + next.off - pool.mem) +
				       NETQ_POOL_OFFSET;
			from[n] = next.q;
			d[n++] = (struct netq_desc){ .offset = off, .len = (uint16_t)take,
						     .flags = NETQ_F_MORE };
			next.off += take;
			left -= take;
		}
		if (netq_space(tx) < n)
			return false;
		if (used == per_buf) {
			if (!(h = pool_take_tx(ifc)))
				return false;
			h->tx_offset = TX_SLICES;
			h->tx_refs = 0;
			used = 0;
		}
		uint32_t hoff = h->start + used++ * stride;
		uint8_t *f = pool_byte(hoff);
		netq_gso_headers(hdr, g, i, f);
		struct netq_l4 l4 = { .ip = g->ip, .l4 = g->tcp, .csum = (uint16_t)(g->tcp + 16),
				      .end = (uint16_t)(g->hdr_len + len), .proto = 6 };
		d[0] = (struct netq_desc){ .offset = hoff, .len = g->hdr_len, .flags = NETQ_F_MORE };
		netq_csum_leave(f, &l4, &d[0]);
		h->tx_refs++;
		for (unsigned k = 1; k < n; k++)
			slice_hold(ifc, p, (struct iface_buf *)from[k]);
		d[n - 1].flags &= (uint16_t)~NETQ_F_MORE;
		netq_push_chain(tx, d, n);
		at = next;
		ifc->counters.tx_gso_segments++;
		ifc->counters.tx_gso_zero_copy++;
		ifc->counters.tx_csum_offloaded++;
		ifc->counters.tx_packets++;
		ifc->counters.tx_bytes += g->hdr_len + len;
		LINK_STATS_INC(link.xmit);
	}
	return true;
}

bool segment_output(struct iface *ifc, struct pbuf *p, uint16_t seg_size)
{
	struct netq_gso g;

	/* The headers are in the first pbuf (the received frame's first
	 * buffer, where the driver put them). */
	if (!netq_gso_parse(p->payload, p->len, p->tot_len, seg_size, &g)) {
		ifc->counters.tx_dropped++;
		return false;
	}
	bool whole = (ifc->offloads & NETQ_OFFLOAD_TX_TSO4) &&
		     g.hdr_len - g.ip + (unsigned)seg_size <= ifc->netif.mtu;
	if (whole && send_whole(ifc, p, &g)) {
		ifc->counters.tx_packets++;
		ifc->counters.tx_bytes += p->tot_len;
		LINK_STATS_INC(link.xmit);
		ifc->pushed_since_flush = true;
		return true;
	}
	/* Segments no longer than the MTU allows (forward.c refused an
	 * aggregate with DF whose segments are longer). */
	unsigned room = ifc->netif.mtu > g.hdr_len - g.ip ? ifc->netif.mtu - (g.hdr_len - g.ip) : 0;
	if (room < 8) {
		ifc->counters.tx_dropped++;
		return false;
	}
	if (g.seg_size > room) {
		g.seg_size = (uint16_t)room;
		g.nsegs = g.payload ? (g.payload + room - 1) / room : 1;
	}
	const uint32_t gather = NETQ_OFFLOAD_TX_SG | NETQ_OFFLOAD_TX_CSUM;
	bool all = (ifc->offloads & gather) == gather && g.payload && sliceable(p) ?
		   send_sliced(ifc, p, &g) : send_cut(ifc, p, &g);
	ifc->pushed_since_flush = true;
	return all;
}

#define TCP_ACK 0x10
#define TCP_PSH 0x08

static bool merging;

void segment_merge_configure(bool on)
{
	merging = on;
}

/* A TCP segment of lwIP's that may be merged: IPv4 without options, only
 * ACK (and PSH), a payload, its checksum still to be made (lwIP leaves
 * TCP's 0, offload.c), its headers within the first `first` bytes of its
 * `len`. Fills l4 and *payload. */
static bool mergeable(const uint8_t *f, unsigned first, unsigned len, struct netq_l4 *l4,
		      unsigned *payload)
{
	if (!netq_frame_l4(f, len, l4) || l4->proto != 6 || f[14] != 0x45 || l4->l4 + 20u > first ||
	    inet_get16(f + l4->csum))
		return false;
	unsigned thl = (f[l4->l4 + 12] >> 4) * 4u;
	if (l4->l4 + thl > first || l4->l4 + thl > l4->end ||
	    (f[l4->l4 + 13] & (uint8_t)~TCP_PSH) != TCP_ACK)
		return false;
	*payload = l4->end - l4->l4 - thl;
	return *payload > 0;
}

static uint32_t seq_of(const uint8_t *f, const struct netq_l4 *l4)
{
	return (uint32_t)inet_get16(f + l4->l4 + 4) << 16 | inet_get16(f + l4->l4 + 6);
}

/* Does the segment f (parsed) continue the aggregate c, whose first frame
 * is first? The same addresses, ports, acknowledgement, window, TCP
 * header and options, TTL and DF; the next sequence number; no longer
 * than the segment size, after full-sized segments only. (__builtin_memcmp:
 * the compiler inlines those of a constant size, -ffreestanding or not.) */
static bool continues(const struct tx_coalesce *c, const uint8_t *first, const uint8_t *f,
		      const struct netq_l4 *l4, unsigned payload)
{
	unsigned hdr = l4->end - payload;

	return hdr == c->hdr && c->last == c->seg && payload <= c->seg &&
	       seq_of(f, l4) == c->next_seq && c->len + payload <= NETQ_GSO_FRAME_MAX &&
	       first[15] == f[15] &&                           /* TOS */
	       !__builtin_memcmp(first + 22, f + 22, 2) &&     /* TTL, protocol */
	       inet_get16(first + 20) == inet_get16(f + 20) && /* DF, no fragment */
	       !__builtin_memcmp(first + 26, f + 26, 8) &&     /* addresses */
	       !__builtin_memcmp(first + 34, f + 34, 4) &&     /* ports */
	       !__builtin_memcmp(first + 42, f + 42, 5) &&     /* ack, data offset */
	       !__builtin_memcmp(first + 48, f + 48, 2) &&     /* window */
	       !__builtin_memcmp(first + 54, f + 54, hdr - 54); /* options */
}

void segment_flush(struct iface *ifc)
{
	struct tx_coalesce *c = &ifc->coalesce;
	struct netq_ring *tx = netq_ring(ifc->rings, NETQ_TX_READY);

	if (!c->n)
		return;
	uint8_t *f = pool_byte(c->d[0].offset);
	if (c->segs == 1) {
		/* As offload_tx would (it may be a forwarded frame's turn now). */
		struct netq_l4 l4;
		if (netq_frame_l4(f, c->len, &l4))
			netq_csum_leave(f, &l4, &c->d[0]);
		ifc->counters.tx_csum_offloaded++;
	} else {
		/* The first frame's headers become the aggregate's. */
		inet_put16(f + 16, (uint16_t)(c->len - 14));
		inet_put16(f + 24, 0);
		inet_put16(f + 24, inet_fold(inet_sum(f + 14, 20, 0)));
		if (c->psh)
			f[34 + 13] |= TCP_PSH;
		struct netq_l4 l4 = { .ip = 14, .l4 = 34, .csum = 34 + 16, .end = (uint16_t)c->len,
				      .proto = 6 };
		netq_csum_leave(f, &l4, &c->d[0]);
		c->d[0].flags |= NETQ_F_TSO4;
		c->d[0].seg_size = c->seg;
		ifc->counters.tx_tso++;
		ifc->counters.tx_csum_offloaded += c->segs;     /* each segment's, by the NIC */
	}
	for (unsigned i = 0; i < c->n; i++)
		c->d[i].flags = (uint16_t)((c->d[i].flags & ~NETQ_F_MORE) |
					   (i + 1 < c->n ? NETQ_F_MORE : 0));
	unsigned n = c->n;
	c->n = 0;
	if (!netq_push_chain(tx, c->d, n)) {
		/* Cannot be: room was kept for it. Everything goes back as if
		 * the driver had sent it (TCP sends it again). */
		for (unsigned i = 0; i < n; i++)
			iface_tx_done(ifc, c->d[i].offset);
		ifc->counters.tx_dropped++;
		return;
	}
	ifc->counters.tx_bytes += c->len;
	ifc->counters.tx_packets++;     /* one frame for the driver, merged or not */
	ifc->pushed_since_flush = true;
}

bool segment_coalesce(struct iface *ifc, struct iface_buf *b, const struct netq_desc *d,
		      unsigned n, uint32_t *given, unsigned *ngiven)
{
	struct tx_coalesce *c = &ifc->coalesce;
	const uint8_t *f = pool_byte(d[0].offset);
	struct netq_l4 l4;
	unsigned payload, len = 0;

	if (n > TX_HEAP_CHAIN_MAX)
		return false;
	for (unsigned i = 0; i < n; i++)
		len += d[i].len;
	if (!merging || (ifc->offloads & (NETQ_OFFLOAD_TX_TSO4 | NETQ_OFFLOAD_TX_CSUM)) !=
	    (NETQ_OFFLOAD_TX_TSO4 | NETQ_OFFLOAD_TX_CSUM) || forward_sending() ||
	    !mergeable(f, d[0].len, len, &l4, &payload) || l4.end != len)
		return false;
	bool psh = f[l4.l4 + 13] & TCP_PSH;
	unsigned hdr = len - payload;
	/* Its payload, where it lies: the rest of the first descriptor after
	 * the headers, then the others. */
	struct netq_desc part[TX_HEAP_CHAIN_MAX];
	unsigned k = 0;
	if (d[0].len > hdr)
		part[k++] = (struct netq_desc){ .offset = d[0].offset + hdr,
						.len = (uint16_t)(d[0].len - hdr) };
	for (unsigned i = 1; i < n; i++)
		part[k++] = (struct netq_desc){ .offset = d[i].offset, .len = d[i].len };
	struct netq_ring *tx = netq_ring(ifc->rings, NETQ_TX_READY);
	if (c->n && c->n + k <= NETQ_CHAIN_MAX && netq_space(tx) >= c->n + k + 1 &&
	    continues(c, pool_byte(c->d[0].offset), f, &l4, payload)) {
		/* The payload's parts as the aggregate's next ones. */
		for (unsigned i = 0; i < k; i++) {
			c->d[c->n++] = part[i];
			given[i] = part[i].offset;
		}
		*ngiven = k;
		if (b) {
			b->tx_offset = given[0];
			b->tx_refs = 1;
		}
		c->len += payload;
		c->next_seq += payload;
		c->last = (uint16_t)payload;
		c->psh = psh;
		c->segs++;
		if (psh || payload < c->seg)
			segment_flush(ifc);     /* nothing can follow it */
		return true;
	}
	segment_flush(ifc);
	/* A new aggregate starts with a full segment that may be cut again:
	 * whole in its first descriptor, or a chain whose first holds at
	 * least the headers. */
	if (psh || payload < NETQ_SEG_MIN || payload > NETQ_SEG_MAX ||
	    d[0].len < (n == 1 ? NETQ_CHAIN_HEAD_MIN : NETQ_TX_CHAIN_HEAD_MIN) ||
	    n > NETQ_CHAIN_MAX || netq_space(tx) < n + 2)
		return false;
	*c = (struct tx_coalesce){ .n = n, .len = len, .hdr = (uint16_t)hdr, .segs = 1,
				   .seg = (uint16_t)payload, .last = (uint16_t)payload,
				   .next_seq = seq_of(f, &l4) + payload };
	for (unsigned i = 0; i < n; i++) {
		c->d[i] = d[i];
		given[i] = d[i].offset;
	}
	*ngiven = n;
	if (b) {
		b->tx_offset = d[0].offset;
		b->tx_refs = 1;
	}
	return true;
}
