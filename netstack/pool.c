/*
 * The one pool of packet buffers every interface shares (docs/netstack.md,
 * "Buffers"): DMA memory from init, mapped into every NIC driver beside
 * that driver's own rings, so that a frame received by one NIC can leave
 * by another from the buffer it arrived in. Here: the buffers' records,
 * the free stack and lwIP's share; which driver holds what, and moving
 * buffers through the rings, are iface.c's.
 */
#include "netstack.h"

#define POOL_LOG2_SMALL 21      /* 2 MiB, 1024 buffers: one or two interfaces */
#define POOL_LOG2_LARGE 22      /* 4 MiB, 2048 buffers: three or four, if dma= allows */
#define POOL_MAX_BUFS ((1U << POOL_LOG2_LARGE) / NETQ_BUF_SIZE)

struct netstack_pool pool;

/* The records of the buffers; lwIP's pbufs for received frames are in
 * them, so they must lie below the DMA window (see iface.c). */
static struct iface_buf bufs[POOL_MAX_BUFS];

static struct {
	uint8_t *mem;
	uint64_t phys;
} rings[NETSTACK_MAX_NICS];

uint8_t *pool_heap_init(void)
{
	_Static_assert(MEM_SIZE + 64 <= 1UL << NETSTACK_HEAP_LOG2 &&
		       NETSTACK_HEAP_LOG2 <= NETQ_HEAP_LOG2_MAX, "lwIP's heap fits its DMA run");
	uint64_t phys;
	uint8_t *heap = dma_alloc(1UL << NETSTACK_HEAP_LOG2, &phys);

	if (heap) {
		pool.heap = heap;
		pool.heap_phys = phys;
		pool.heap_log2 = NETSTACK_HEAP_LOG2;
		return heap;
	}
	printf("netstack: lwIP's heap is not DMA memory (dma= has no room for its %u KiB beside "
	       "the pool): every frame lwIP sends is copied\n", (1U << NETSTACK_HEAP_LOG2) >> 10);
	return pool.heap = mem_heap(MEM_SIZE + 64);
}

long pool_init(unsigned interfaces)
{
	unsigned log2 = interfaces > 2 ? POOL_LOG2_LARGE : POOL_LOG2_SMALL;

	/* The rings first: they are needed whatever the pool's size. */
	for (unsigned i = 0; i < interfaces && i < NETSTACK_MAX_NICS; i++)
		if (!(rings[i].mem = dma_alloc(NETQ_RINGS_SIZE, &rings[i].phys)))
			return -ERR_NO_MEMORY;
	pool.mem = dma_alloc(1UL << log2, &pool.phys);
	if (!pool.mem && log2 == POOL_LOG2_LARGE) {
		/* The manifest's dma= (4096 KiB, as for one or two) leaves no
		 * room for the large pool beside the rings: the small one. */
		log2 = POOL_LOG2_SMALL;
		if ((pool.mem = dma_alloc(1UL << log2, &pool.phys)))
			printf("netstack: a 2 MiB pool for %u interfaces: dma= has no room for 4 MiB "
			       "beside the rings (dma=%u would)\n", interfaces,
			       (1U << (POOL_LOG2_LARGE - 10)) + interfaces * (NETQ_RINGS_SIZE >> 10));
	}
	if (!pool.mem)
		return -ERR_NO_MEMORY;
	if ((uintptr_t)&bufs[POOL_MAX_BUFS - 1] >= (uintptr_t)pool.mem)
		return -ERR_RANGE;
	pool.log2 = log2;
	pool.nbufs = (1U << log2) / NETQ_BUF_SIZE;
	pool.bufs = bufs;
	if (!(pool.free_stack = mem_heap(pool.nbufs * sizeof(*pool.free_stack))))
		return -ERR_NO_MEMORY;
	for (uint32_t i = pool.nbufs; i-- > 0;) {
		bufs[i] = (struct iface_buf){ .start = NETQ_POOL_OFFSET + i * NETQ_BUF_SIZE };
		pool_to_free_stack(&bufs[i]);
	}
	return 0;
}

uint8_t *pool_rings(unsigned i, uint64_t *phys)
{
	*phys = rings[i].phys;
	return rings[i].mem;
}

struct iface_buf *pool_buf_at(uint32_t offset)
{
	if (offset < NETQ_POOL_OFFSET || (offset - NETQ_POOL_OFFSET) / NETQ_BUF_SIZE >= pool.nbufs)
		return NULL;
	return &pool.bufs[(offset - NETQ_POOL_OFFSET) / NETQ_BUF_SIZE];
}

uint8_t *pool_byte(uint32_t offset)
{
	if (offset < NETQ_POOL_OFFSET)
		return pool.heap + (offset - NETQ_HEAP_OFFSET);
	return netq_pool_byte(pool.mem, offset);
}

void pool_leave_tx(struct iface_buf *b)
{
	if (b->place == BUF_TX)
		pool.ntx--;
}

void pool_to_free_stack(struct iface_buf *b)
{
	pool_leave_tx(b);
	b->place = BUF_FREE;
	b->iface = NULL;
	b->tx_refs = 0;
	pool.free_stack[pool.nfree++] = b->start;
}

struct iface_buf *pool_take_free(void)
{
	return pool.nfree ? pool_buf_at(pool.free_stack[--pool.nfree]) : NULL;
}

struct iface_buf *pool_peek_free(void)
{
	return pool.nfree ? pool_buf_at(pool.free_stack[pool.nfree - 1]) : NULL;
}

struct iface_buf *pool_take_tx(struct iface *ifc)
{
	struct iface_buf *b;

	if (pool.ntx >= pool_tx_share() || !(b = pool_take_free()))
		return NULL;
	b->place = BUF_TX;
	b->iface = ifc;
	pool.ntx++;
	return b;
}

/* The most buffers sending may take off the free stack at once (copies,
 * segments' headers): a quarter of the pool. With lwIP's quarter and the
 * receive half, every kind of use has its own bound, so that sending
 * never leaves the NICs without receive buffers (issue 16). */
uint32_t pool_tx_share(void)
{
	return pool.nbufs / 4;
}

uint32_t pool_rx_reserve(void)
{
	return pool.ntx < pool_tx_share() ? pool_tx_share() - pool.ntx : 0;
}

/* The most buffers lwIP may hold: a quarter of the pool, so that what a
 * remote host makes it keep (out-of-order segments, fragments, frames
 * waiting for ARP) never takes what the NICs need. */
uint32_t pool_lwip_share(void)
{
	return pool.nbufs / 4;
}

/* What lwIP keeps: a buffer also waiting in a driver's tx ring is bounded
 * by that ring, not by anything a remote host sends. */
uint32_t pool_lwip_kept(void)
{
	return pool.nlwip - pool.ntx_hold;
}

void pool_tx_hold(struct iface_buf *b, struct pbuf *p, struct iface *ifc)
{
	pbuf_ref(p);
	b->tx_hold = p;
	b->tx_iface = ifc;
	pool.ntx_hold++;
}

struct pbuf *pool_tx_unhold(struct iface_buf *b)
{
	struct pbuf *p = b->tx_hold;

	b->tx_hold = NULL;
	b->tx_iface = NULL;
	pool.ntx_hold--;
	return p;
}

bool iface_pool_low(void)
{
	return pool_lwip_kept() >= pool_lwip_share();
}
