/*
 * Large segments on the way out (docs/netstack.md, "Large segments"): a
 * TCP aggregate received over several pool buffers (NETQ_F_TSO4, iface.c)
 * and forwarded leaves whole, from the buffers it arrived in, to a driver
 * that offers NETQ_OFFLOAD_TX_TSO4: the NIC cuts it into segments of its
 * segment size. To any other (e1000, the switch off), it is cut here
 * (GSO): each segment is the aggregate's headers rewritten for it
 * (lib/netq_gso.c) and its part of the payload, copied into a free pool
 * buffer, its TCP checksum left to the NIC or summed here.
 *
 * The aggregate's own TCP checksum is never trusted on the way out: it
 * may be partial (the host left it so) or stale (NAT rewrote the
 * addresses); the NIC or GSO sums each segment afresh from its data.
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
		pbuf_ref(p);
		b->tx_hold = p;
		b->tx_iface = ifc;
		b->tx_offset = d[i].offset;
	}
	netq_push_chain(netq_ring(ifc->rings, NETQ_TX_READY), d, n);
	ifc->counters.tx_tso++;
	ifc->counters.tx_zero_copy++;
	ifc->counters.tx_csum_offloaded++;
	return true;
}

/* Cut here: one pool buffer per segment. False when not all could go
 * (no buffer or ring room: the rest is dropped; TCP sends it again). */
static bool send_cut(struct iface *ifc, struct pbuf *p, const struct netq_gso *g)
{
	struct netq_ring *tx = netq_ring(ifc->rings, NETQ_TX_READY);
	uint8_t hdr[14 + 60 + 60];
	uint32_t at = 0;

	if (pbuf_copy_partial(p, hdr, g->hdr_len, 0) != g->hdr_len)
		return false;
	for (unsigned i = 0; i < g->nsegs; i++) {
		struct iface_buf *b;
		if (!netq_space(tx) || !(b = pool_take_free()))
			return false;
		uint8_t *f = pool_byte(b->start);
		unsigned len = netq_gso_headers(hdr, g, i, f);
		pbuf_copy_partial(p, f + g->hdr_len, (u16_t)len, (u16_t)(g->hdr_len + at));
		at += len;
		struct netq_desc d = { .offset = b->start, .len = (uint16_t)(g->hdr_len + len) };
		struct netq_l4 l4;
		if (!netq_frame_l4(f, d.len, &l4)) {
			pool_to_free_stack(b);  /* cannot be: the headers were checked */
			return false;
		}
		if (ifc->offloads & NETQ_OFFLOAD_TX_CSUM) {
			netq_csum_leave(f, &l4, &d);
			ifc->counters.tx_csum_offloaded++;
		} else {
			netq_csum_fill(f, &l4);
			ifc->counters.tx_csum_software++;
		}
		b->place = BUF_TX;
		b->iface = ifc;
		b->tx_offset = d.offset;
		netq_push(tx, d);
		ifc->counters.tx_gso_segments++;
		ifc->counters.tx_packets++;
		ifc->counters.tx_bytes += d.len;
		LINK_STATS_INC(link.xmit);
	}
	return true;
}

bool segment_output(struct iface *ifc, struct pbuf *p, uint16_t seg_size)
{
	struct netq_gso g;

	/* The headers are in the first pbuf (the received frame's first
	 * buffer, where the driver put them). */
	if (!netq_gso_parse(p->payload, p->len, p->tot_len, seg_size, &g))
		return false;
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
	if (room < 8)
		return false;
	if (g.seg_size > room) {
		g.seg_size = (uint16_t)room;
		g.nsegs = g.payload ? (g.payload + room - 1) / room : 1;
	}
	bool all = send_cut(ifc, p, &g);
	ifc->pushed_since_flush = true;
	return all;
}
