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
 */
#include "netstack.h"

uint32_t tx_heap_held(const struct iface *ifc)
{
	return ifc->tx_heap_head - ifc->tx_heap_tail;
}

uint32_t tx_heap_offset(struct iface *ifc, struct pbuf *p)
{
	const uint8_t *at = p->payload;

	if (!pool.heap_log2 || !(ifc->offloads & NETQ_OFFLOAD_TX_HEAP) || p->next ||
	    p->type_internal != (u8_t)PBUF_RAM || (p->flags & PBUF_FLAG_IS_CUSTOM) ||
	    at < pool.heap || (size_t)(at - pool.heap) + p->len > (1UL << pool.heap_log2) ||
	    !p->len || p->len > NETQ_FRAME_MAX || tx_heap_held(ifc) >= TX_HEAP_REFS)
		return 0;
	return NETQ_HEAP_OFFSET + (uint32_t)(at - pool.heap);
}

void tx_heap_hold(struct iface *ifc, struct pbuf *p, uint32_t offset)
{
	pbuf_ref(p);
	ifc->tx_heap[ifc->tx_heap_head++ % TX_HEAP_REFS] = (struct tx_heap_ref){ offset, p };
	ifc->counters.tx_by_reference++;
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
	while (ifc->tx_heap_tail != ifc->tx_heap_head &&
	       !ifc->tx_heap[ifc->tx_heap_tail % TX_HEAP_REFS].p)
		ifc->tx_heap_tail++;
	return true;
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
