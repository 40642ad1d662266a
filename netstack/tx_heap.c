/*
 * lwIP's own frames sent by reference from its heap (docs/netstack.md,
 * "Sending from lwIP's heap"). When the manifest's dma= has room, lwIP's
 * heap is one run of DMA memory (pool_heap_init), mapped read-only into
 * every driver beside the pool (proto/netq.h, NETQ_HEAP_OFFSET). A TCP
 * segment lwIP built there with tcp_write's copy is one PBUF_RAM, its
 * headers in front of its data, so it goes to a driver that offers
 * NETQ_OFFLOAD_TX_HEAP as one descriptor (or, merged, as the payload part
 * of one), without the copy into a pool buffer every other frame takes.
 *
 * A segment whose data lwIP queued by reference (tcp_write without the
 * copy: a PBUF_ROM, whose bytes never change) is a chain, its headers in
 * one PBUF_RAM and its data in one or more ROM pbufs; when those bytes lie
 * in the heap too (the netstack's iperf client keeps its pattern there),
 * it goes as a chain of heap descriptors to a driver that also gathers
 * chains and completes checksums (tx_heap_frame), one hold for each.
 *
 * The driver's hold is a pbuf reference: taken when the descriptor is
 * given, dropped when tx-done brings its offset back, or when the driver
 * dies (tx_heap_reclaim). While it is held, lwIP 2.1 neither sends the
 * segment again nor moves it back to the unsent queue
 * (tcp_output_segment_busy: the pbuf's ref is above 1), so nothing it
 * does rewrites or trims the bytes the NIC reads, and an acknowledged
 * segment's memory is freed only at the driver's tx-done. A driver can
 * read the heap but not write it.
 *
 * The references of one driver are a FIFO in the order given
 * (tx_heap_head, tx_heap_tail): tx-done comes back in that order from
 * both NICs' drivers, so the oldest entry is the one named and the look
 * up costs one comparison; one out of order is searched for and its
 * entry emptied, and the tail skips emptied entries. At most
 * TX_HEAP_REFS are held (past that, frames are copied), and a tx-done
 * offset matching no entry is a bad descriptor (counted by the caller).
 *
 * A driver that never gives one back (buggy or hostile) would keep that
 * segment from ever being sent again, and its connection would wait for
 * ever: a reference held for TX_HEAP_HOLD_MAX_MS is given up
 * (tx_heap_expire, from the loop's timers), counted and logged, and lwIP
 * sends the segment again at its next retransmission timeout. The
 * driver may still read those bytes after lwIP reused them (a wrong
 * frame of its own on the wire; it could read them anyway), and its late
 * tx-done names nothing (bad_desc) or a newer hold at the same offset.
 */
#include "netstack.h"

#include "lib/inet_csum.h"
#include "lib/netq_csum.h"

/* Longer than any driver that works holds a frame: a NIC sends a frame in
 * microseconds and a ring of them (256) at 10 Mb/s in a third of a
 * second; lwIP's retransmission timeout is a second at least, so this
 * adds about two to the wait of a segment whose tx-done never comes. */
#define TX_HEAP_HOLD_MAX_MS 2000

uint32_t tx_heap_held(const struct iface *ifc)
{
	return ifc->tx_heap_head - ifc->tx_heap_tail;
}

/* q's bytes as a descriptor of the heap, if they all lie in it. */
static bool in_heap(const struct pbuf *q, struct netq_desc *d)
{
	const uint8_t *at = q->payload;

	if ((q->flags & PBUF_FLAG_IS_CUSTOM) || at < pool.heap || !q->len ||
	    (size_t)(at - pool.heap) + q->len > (1UL << pool.heap_log2) || q->len > NETQ_FRAME_MAX)
		return false;
	*d = (struct netq_desc){ .offset = NETQ_HEAP_OFFSET + (uint32_t)(at - pool.heap),
				 .len = q->len };
	return true;
}

unsigned tx_heap_frame(struct iface *ifc, struct pbuf *p, struct netq_desc *d)
{
	const uint32_t chains = NETQ_OFFLOAD_TX_SG | NETQ_OFFLOAD_TX_CSUM;
	unsigned n = 0;

	if (!pool.heap_log2 || !(ifc->offloads & NETQ_OFFLOAD_TX_HEAP) ||
	    p->type_internal != (u8_t)PBUF_RAM || p->tot_len > NETQ_FRAME_MAX)
		return 0;
	for (struct pbuf *q = p; q; q = q->next) {
		if (n == TX_HEAP_CHAIN_MAX || (q != p && q->type_internal != (u8_t)PBUF_ROM) ||
		    !in_heap(q, &d[n]))
			return 0;
		d[n].flags = q->next ? NETQ_F_MORE : 0;
		n++;
	}
	if (tx_heap_held(ifc) + n > TX_HEAP_REFS)
		return 0;
	/* A chain: its checksum completed by the NIC, so a TCP segment
	 * whose headers all lie in the first pbuf (offload_tx's test). */
	struct netq_l4 l4;
	if (n > 1 && ((ifc->offloads & chains) != chains || p->len < NETQ_TX_CHAIN_HEAD_MIN ||
		      !netq_frame_l4(p->payload, p->tot_len, &l4) || l4.proto != 6 ||
		      l4.l4 + 20u > p->len || l4.l4 + (((uint8_t *)p->payload)[l4.l4 + 12] >> 4) * 4u >
		      p->len || inet_get16((uint8_t *)p->payload + l4.csum) != 0 || forward_sending()))
		return 0;
	return n;
}

void tx_heap_hold(struct iface *ifc, struct pbuf *p, uint32_t offset)
{
	pbuf_ref(p);
	ifc->tx_heap[ifc->tx_heap_head++ % TX_HEAP_REFS] = (struct tx_heap_ref){ offset, p, 0 };
	ifc->counters.tx_by_reference++;
}

/* The tail past entries emptied. */
static void tail_forward(struct iface *ifc)
{
	while (ifc->tx_heap_tail != ifc->tx_heap_head &&
	       !ifc->tx_heap[ifc->tx_heap_tail % TX_HEAP_REFS].p)
		ifc->tx_heap_tail++;
}

bool tx_heap_done(struct iface *ifc, uint32_t offset)
{
	uint32_t i = ifc->tx_heap_tail;

	while (i != ifc->tx_heap_head && (!ifc->tx_heap[i % TX_HEAP_REFS].p ||
					  ifc->tx_heap[i % TX_HEAP_REFS].offset != offset))
		i++;
	if (i == ifc->tx_heap_head)
		return false;
	struct tx_heap_ref *r = &ifc->tx_heap[i % TX_HEAP_REFS];
	pbuf_free(r->p);
	r->p = NULL;
	tail_forward(ifc);
	return true;
}

/* Each held entry is stamped the first time a look finds it, and given
 * up at a look TX_HEAP_HOLD_MAX_MS after that: nothing is paid per frame
 * (the looks come with lwIP's cyclic timers, every 250 ms to 1 s). */
void tx_heap_expire(struct iface *ifc, uint32_t now_ms)
{
	uint32_t stamp = now_ms ? now_ms : 1;

	for (uint32_t i = ifc->tx_heap_tail; i != ifc->tx_heap_head; i++) {
		struct tx_heap_ref *r = &ifc->tx_heap[i % TX_HEAP_REFS];
		if (!r->p)
			continue;
		if (!r->seen_ms) {
			r->seen_ms = stamp;
			continue;
		}
		if (stamp - r->seen_ms < TX_HEAP_HOLD_MAX_MS)
			continue;
		pbuf_free(r->p);
		r->p = NULL;
		ifc->counters.tx_heap_given_up++;
		printf_limited("netstack: %s: the driver kept a frame of lwIP's heap (offset %#x) "
			       "%u ms: given up, TCP may send it again (%lu so far)\n",
			       ifc->cfg.name, r->offset, TX_HEAP_HOLD_MAX_MS,
			       (unsigned long)ifc->counters.tx_heap_given_up);
	}
	tail_forward(ifc);
}

unsigned tx_heap_reclaim(struct iface *ifc)
{
	unsigned count = 0;

	for (; ifc->tx_heap_tail != ifc->tx_heap_head; ifc->tx_heap_tail++) {
		struct tx_heap_ref *r = &ifc->tx_heap[ifc->tx_heap_tail % TX_HEAP_REFS];
		if (r->p) {
			pbuf_free(r->p);
			r->p = NULL;
			count++;
		}
	}
	return count;
}
