/*
 * Single-producer/single-consumer packet rings (include/proto/netq.h).
 *
 * Ordering: the producer fills a descriptor, then publishes it with a
 * release store of head; the consumer reads head with acquire before it
 * reads the descriptor, and frees the slot with a release store of tail.
 * The wake-up handshake is the classic store/load pair on two variables
 * (head vs. waiting), which needs a full fence on both sides: the producer
 * stores head then loads waiting; the consumer stores waiting then loads
 * head. With sequentially consistent fences in between, at least one of
 * them sees the other's store, so a frame is never left unsignalled.
 */
#include "proto/netq.h"

void netq_ring_reset(struct netq_ring *r)
{
	__atomic_store_n(&r->head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->tail, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->waiting, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->space_waiting, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Entries in the ring, clamped: the other side may be hostile or dead and
 * leave nonsense in its index. */
static unsigned used(uint32_t head, uint32_t tail)
{
	uint32_t n = head - tail;

	return n > NETQ_RING_SIZE ? NETQ_RING_SIZE : n;
}

unsigned netq_count(const struct netq_ring *r)
{
	return used(__atomic_load_n(&r->head, __ATOMIC_ACQUIRE), r->tail);
}

unsigned netq_space(const struct netq_ring *r)
{
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	return NETQ_RING_SIZE - used(r->head, tail);
}

bool netq_push(struct netq_ring *r, struct netq_desc d)
{
	if (!netq_space(r))
		return false;
	r->desc[r->head % NETQ_RING_SIZE] = d;
	__atomic_store_n(&r->head, r->head + 1, __ATOMIC_RELEASE);
	return true;
}

bool netq_push_chain(struct netq_ring *r, const struct netq_desc *d, unsigned n)
{
	if (netq_space(r) < n)
		return false;
	for (unsigned i = 0; i < n; i++)
		r->desc[(r->head + i) % NETQ_RING_SIZE] = d[i];
	__atomic_store_n(&r->head, r->head + n, __ATOMIC_RELEASE);
	return true;
}

/* Take a waiting flag from 1 to 0 after a full fence (the other half of
 * the store/load pair described above). */
static bool take_flag(uint32_t *flag)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(flag, __ATOMIC_RELAXED))
		return false;
	return __atomic_exchange_n(flag, 0, __ATOMIC_SEQ_CST) != 0;
}

bool netq_wake_needed(struct netq_ring *r)
{
	return take_flag(&r->waiting);
}

bool netq_space_wake_needed(struct netq_ring *r)
{
	return take_flag(&r->space_waiting);
}

bool netq_prepare_wait_space(struct netq_ring *r, unsigned need)
{
	__atomic_store_n(&r->space_waiting, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (netq_space(r) < need)
		return true;
	__atomic_store_n(&r->space_waiting, 0, __ATOMIC_RELAXED);
	return false;
}

bool netq_pop(struct netq_ring *r, struct netq_desc *d)
{
	if (!netq_count(r))
		return false;
	*d = r->desc[r->tail % NETQ_RING_SIZE];
	__atomic_store_n(&r->tail, r->tail + 1, __ATOMIC_RELEASE);
	return true;
}

bool netq_peek(const struct netq_ring *r, unsigned i, struct netq_desc *d)
{
	if (i >= netq_count(r))
		return false;
	*d = r->desc[(r->tail + i) % NETQ_RING_SIZE];
	return true;
}

bool netq_skip_overrun(struct netq_ring *r)
{
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (head - r->tail <= NETQ_RING_SIZE)
		return false;
	__atomic_store_n(&r->tail, head, __ATOMIC_RELEASE);
	return true;
}

bool netq_prepare_wait(struct netq_ring *r)
{
	__atomic_store_n(&r->waiting, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!netq_count(r))
		return true;
	__atomic_store_n(&r->waiting, 0, __ATOMIC_RELAXED);
	return false;
}

bool netq_desc_valid(const struct netq_area *a, struct netq_desc d, bool buffer_start)
{
	if (d.offset < a->pool_offset)
		return false;
	uint32_t rel = d.offset - a->pool_offset;
	uint32_t buf = rel / NETQ_BUF_SIZE, in = rel % NETQ_BUF_SIZE;
	if (buf >= a->nbufs)
		return false;
	if (buffer_start)
		return in == 0;
	return d.len > 0 && in + d.len <= NETQ_BUF_SIZE;
}

bool netq_tx_desc_valid(const struct netq_area *a, struct netq_desc d)
{
	if (d.offset >= NETQ_HEAP_OFFSET && d.offset < NETQ_POOL_OFFSET)
		return d.len > 0 && d.len <= NETQ_FRAME_MAX &&
		       (uint64_t)(d.offset - NETQ_HEAP_OFFSET) + d.len <= a->heap_size;
	return netq_desc_valid(a, d, false);
}

const char *netq_area_check(const struct netq_area *a, uint64_t pool_size)
{
	if (a->magic != NETQ_MAGIC || a->version != NETQ_VERSION)
		return "not a netq area (magic or version)";
	if (a->ring_size != NETQ_RING_SIZE || a->buf_size != NETQ_BUF_SIZE ||
	    a->pool_offset != NETQ_POOL_OFFSET)
		return "ring size, buffer size or pool offset differ from this driver's";
	if (a->pool_size != pool_size)
		return "pool size differs from what was mapped";
	if (a->nbufs == 0 || (uint64_t)a->nbufs * NETQ_BUF_SIZE > pool_size)
		return "the buffers do not fit the pool";
	if (a->heap_size && ((a->heap_size & (a->heap_size - 1)) ||
			     a->heap_size > 1U << NETQ_HEAP_LOG2_MAX))
		return "the heap's size is not a power of two within NETQ_HEAP_LOG2_MAX";
	return 0;
}

bool netq_meta_valid(struct netq_desc d, uint16_t known)
{
	if ((d.flags & ~known) || d.reserved)
		return false;
	if (d.flags & NETQ_F_TSO4) {
		if (!(d.flags & (NETQ_F_CSUM_PARTIAL | NETQ_F_CSUM_VALID)) ||
		    d.seg_size < NETQ_SEG_MIN || d.seg_size > NETQ_SEG_MAX)
			return false;
	} else if (d.seg_size) {
		return false;
	}
	if (!(d.flags & NETQ_F_CSUM_PARTIAL))
		return !d.csum_start && !d.csum_offset;
	if ((d.flags & NETQ_F_TSO4) &&
	    (d.csum_offset != 16 || (uint32_t)d.csum_start + 20 > d.len))
		return false;   /* TCP's checksum field, in a whole TCP header here */
	return d.csum_start >= 34 && (uint32_t)d.csum_start + d.csum_offset + 2 <= d.len;
}

bool netq_chain_add(struct netq_chain *c, struct netq_desc d)
{
	if (c->n == 0)
		c->first = d;
	else if ((d.flags & ~NETQ_F_MORE) || d.csum_start || d.csum_offset || d.seg_size ||
		 d.reserved)
		c->bad = true;
	if (c->n >= NETQ_CHAIN_MAX)
		c->bad = true;
	else
		c->n++;
	c->len += d.len;
	return d.flags & NETQ_F_MORE;
}

bool netq_chain_valid(const struct netq_chain *c, uint16_t known)
{
	uint32_t max = c->first.flags & NETQ_F_TSO4 ? NETQ_GSO_FRAME_MAX : NETQ_FRAME_MAX;
	unsigned head_min = c->tx ? NETQ_TX_CHAIN_HEAD_MIN : NETQ_CHAIN_HEAD_MIN;

	if (c->bad || c->n == 0 || c->len < 14 || c->len > max)
		return false;
	if (c->n > 1 && (!(known & NETQ_F_MORE) || c->first.len < head_min))
		return false;
	return netq_meta_valid(c->first, known);
}
