#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/inet_csum.h"
#include "lib/netq_gso.h"
#include "proto/netq.h"
#include "unit.h"

static _Alignas(4096) uint8_t area_mem[NETQ_RINGS_SIZE];
#define POOL_SIZE (1u << 20)    /* the pool is mapped apart; only its size matters here */

static struct netq_area *area_init(void)
{
	struct netq_area *a = (struct netq_area *)area_mem;

	memset(area_mem, 0, sizeof(area_mem));
	a->magic = NETQ_MAGIC;
	a->version = NETQ_VERSION;
	a->ring_size = NETQ_RING_SIZE;
	a->buf_size = NETQ_BUF_SIZE;
	a->pool_offset = NETQ_POOL_OFFSET;
	a->nbufs = POOL_SIZE / NETQ_BUF_SIZE;
	a->pool_size = POOL_SIZE;
	for (int i = 0; i < NETQ_RINGS; i++)
		netq_ring_reset(netq_ring(area_mem, i));
	return a;
}

TEST(netq_push_pop_in_order_until_full)
{
	area_init();
	struct netq_ring *r = netq_ring(area_mem, NETQ_RX_READY);
	struct netq_desc d;

	CHECK(!netq_pop(r, &d));
	CHECK_EQ(netq_space(r), NETQ_RING_SIZE);
	for (uint32_t i = 0; i < NETQ_RING_SIZE; i++)
		CHECK(netq_push(r, (struct netq_desc){ .offset = i, .len = 60 }));
	CHECK(!netq_push(r, (struct netq_desc){ 0 }));
	CHECK_EQ(netq_count(r), NETQ_RING_SIZE);
	for (uint32_t i = 0; i < NETQ_RING_SIZE; i++) {
		CHECK(netq_pop(r, &d));
		CHECK_EQ(d.offset, i);
	}
	CHECK(!netq_pop(r, &d));
}

TEST(netq_indices_wrap_at_2_32)
{
	area_init();
	struct netq_ring *r = netq_ring(area_mem, NETQ_TX_READY);
	struct netq_desc d;

	r->head = r->tail = 0xFFFFFFF0u;
	for (uint32_t i = 0; i < 40; i++)
		CHECK(netq_push(r, (struct netq_desc){ .offset = i }));
	CHECK_EQ(netq_count(r), 40);
	for (uint32_t i = 0; i < 40; i++) {
		CHECK(netq_pop(r, &d));
		CHECK_EQ(d.offset, i);
	}
	CHECK_EQ(r->head, 40 - 0x10);
}

TEST(netq_garbage_indices_are_clamped)
{
	area_init();
	struct netq_ring *r = netq_ring(area_mem, NETQ_RX_FREE);

	r->head = 12345678;     /* a hostile producer */
	CHECK_EQ(netq_count(r), NETQ_RING_SIZE);
	r->head = 0;
	r->tail = 999;          /* a hostile consumer */
	CHECK_EQ(netq_space(r), 0);
}

TEST(netq_signal_only_a_waiting_consumer)
{
	area_init();
	struct netq_ring *r = netq_ring(area_mem, NETQ_RX_READY);
	struct netq_desc d;

	CHECK(netq_push(r, (struct netq_desc){ .offset = 1 }));
	CHECK(!netq_wake_needed(r));            /* nobody waits */
	CHECK(!netq_prepare_wait(r));           /* not empty: must not sleep */
	CHECK_EQ(r->waiting, 0);
	CHECK(netq_pop(r, &d));
	CHECK(netq_prepare_wait(r));            /* empty: may sleep */
	CHECK(netq_push(r, (struct netq_desc){ .offset = 2 }));
	CHECK(netq_wake_needed(r));             /* exactly one wake-up */
	CHECK(!netq_wake_needed(r));
}

TEST(netq_descriptors_are_checked_against_the_area)
{
	struct netq_area *a = area_init();
	uint32_t pool = NETQ_POOL_OFFSET;

	CHECK(netq_desc_valid(a, (struct netq_desc){ .offset = pool, .len = 60 }, false));
	CHECK(netq_desc_valid(a, (struct netq_desc){ .offset = pool + NETQ_BUF_SIZE }, true));
	CHECK(!netq_desc_valid(a, (struct netq_desc){ .offset = pool + 2 }, true));
	CHECK(!netq_desc_valid(a, (struct netq_desc){ .offset = 0, .len = 60 }, false)); /* the rings */
	CHECK(!netq_desc_valid(a, (struct netq_desc){ .offset = pool + 100,
						       .len = NETQ_BUF_SIZE - 99 }, false));
	CHECK(!netq_desc_valid(a, (struct netq_desc){ .offset = pool }, false));
	CHECK(!netq_desc_valid(a, (struct netq_desc){ .offset = pool + a->nbufs * NETQ_BUF_SIZE,
						       .len = 60 }, false));
	CHECK(!netq_desc_valid(a, (struct netq_desc){ .offset = 0xFFFFFF00u, .len = 60 }, false));
	CHECK(!netq_desc_valid(a, (struct netq_desc){ .offset = NETQ_RINGS_SIZE, .len = 60 }, false));
	CHECK(netq_area_check(a, POOL_SIZE) == NULL);
	CHECK(netq_area_check(a, POOL_SIZE / 2) != NULL);
	a->nbufs = POOL_SIZE / NETQ_BUF_SIZE + 1;
	CHECK(netq_area_check(a, POOL_SIZE) != NULL);
	a->nbufs = 1;
	a->magic = 0;
	CHECK(netq_area_check(a, POOL_SIZE) != NULL);
}

TEST(netq_heap_descriptors_only_on_tx_and_inside_the_heap)
{
	struct netq_area *a = area_init();
	uint32_t heap = NETQ_HEAP_OFFSET, pool = NETQ_POOL_OFFSET;

	/* No heap given: nothing of it is valid. */
	CHECK(!netq_tx_desc_valid(a, (struct netq_desc){ .offset = heap, .len = 60 }));
	CHECK(netq_tx_desc_valid(a, (struct netq_desc){ .offset = pool, .len = 60 }));
	a->heap_size = 1U << 24;
	CHECK(netq_area_check(a, POOL_SIZE) == NULL);
	/* Anywhere inside, across a 2 KiB boundary too; never on rx. */
	CHECK(netq_tx_desc_valid(a, (struct netq_desc){ .offset = heap + 2000, .len = 1514 }));
	CHECK(!netq_desc_valid(a, (struct netq_desc){ .offset = heap, .len = 60 }, false));
	CHECK(!netq_desc_valid(a, (struct netq_desc){ .offset = heap }, true));
	CHECK(netq_tx_desc_valid(a, (struct netq_desc){ .offset = heap + (1U << 24) - 60,
							 .len = 60 }));
	CHECK(!netq_tx_desc_valid(a, (struct netq_desc){ .offset = heap + (1U << 24) - 59,
							  .len = 60 }));
	CHECK(!netq_tx_desc_valid(a, (struct netq_desc){ .offset = heap + 64,
							  .len = NETQ_FRAME_MAX + 1 }));
	CHECK(!netq_tx_desc_valid(a, (struct netq_desc){ .offset = heap, .len = 0 }));
	CHECK(!netq_tx_desc_valid(a, (struct netq_desc){ .offset = heap - 60, .len = 60 }));
	/* The pool's rules still hold for pool offsets. */
	CHECK(!netq_tx_desc_valid(a, (struct netq_desc){ .offset = pool + 100,
							  .len = NETQ_BUF_SIZE - 99 }));
	a->heap_size = 3U << 20;
	CHECK(netq_area_check(a, POOL_SIZE) != NULL);   /* not a power of two */
	a->heap_size = 1U << (NETQ_HEAP_LOG2_MAX + 1);
	CHECK(netq_area_check(a, POOL_SIZE) != NULL);
}

/* Two threads through one ring with the wait handshake: every item
 * arrives once, in order, and no wake-up is lost (a lost one hangs the
 * consumer, caught by the deadline). */
#define STRESS_ITEMS 2000000u
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int signalled;
static unsigned long wakeups;

static void *producer(void *arg)
{
	struct netq_ring *r = arg;

	for (uint32_t i = 0; i < STRESS_ITEMS;) {
		while (i < STRESS_ITEMS && netq_push(r, (struct netq_desc){ .offset = i }))
			i++;
		if (netq_wake_needed(r)) {
			pthread_mutex_lock(&lock);
			signalled = 1;
			wakeups++;
			pthread_cond_signal(&cond);
			pthread_mutex_unlock(&lock);
		}
	}
	return NULL;
}

TEST(netq_two_threads_lose_nothing)
{
	area_init();
	struct netq_ring *r = netq_ring(area_mem, NETQ_RX_READY);
	pthread_t t;
	uint32_t expect = 0;
	struct netq_desc d;

	bool in_order = true;

	pthread_create(&t, NULL, producer, r);
	while (expect < STRESS_ITEMS) {
		while (netq_pop(r, &d)) {
			in_order &= d.offset == expect;
			expect++;
		}
		if (expect == STRESS_ITEMS || !netq_prepare_wait(r))
			continue;
		struct timespec deadline;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 10;
		pthread_mutex_lock(&lock);
		while (!signalled)
			if (pthread_cond_timedwait(&cond, &lock, &deadline)) {
				pthread_mutex_unlock(&lock);
				pthread_join(t, NULL);
				CHECK(!"a wake-up was lost");
			}
		signalled = 0;
		pthread_mutex_unlock(&lock);
	}
	pthread_join(t, NULL);
	CHECK_EQ(expect, STRESS_ITEMS);
	CHECK(in_order);
	CHECK(wakeups < STRESS_ITEMS);
}

TEST(netq_producer_waits_for_room)
{
	area_init();
	struct netq_ring *r = netq_ring(area_mem, NETQ_TX_DONE);
	struct netq_desc d;

	for (uint32_t i = 0; i < NETQ_RING_SIZE - 1; i++)
		CHECK(netq_push(r, (struct netq_desc){ .offset = i }));
	CHECK(!netq_prepare_wait_space(r, 1));  /* one slot left: no sleep */
	CHECK(netq_prepare_wait_space(r, 2));   /* needs two: sleep */
	CHECK(netq_pop(r, &d));
	CHECK(netq_space_wake_needed(r));       /* the consumer wakes it once */
	CHECK(!netq_space_wake_needed(r));
}

TEST(netq_peek_looks_without_taking)
{
	area_init();
	struct netq_ring *r = netq_ring(area_mem, NETQ_RX_FREE);
	struct netq_desc d;

	r->head = r->tail = 0xFFFFFFFEu;        /* across the wrap */
	CHECK(!netq_peek(r, 0, &d));
	for (uint32_t i = 0; i < 5; i++)
		CHECK(netq_push(r, (struct netq_desc){ .offset = 100 + i, .len = (uint16_t)i }));
	CHECK(netq_pop(r, &d));
	CHECK_EQ(d.offset, 100);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK(netq_peek(r, i, &d));
		CHECK_EQ(d.offset, 101 + i);
		CHECK_EQ(d.len, 1 + i);
	}
	CHECK(!netq_peek(r, 4, &d));
	CHECK_EQ(netq_count(r), 4);             /* nothing was taken */
	CHECK(netq_pop(r, &d));
	CHECK_EQ(d.offset, 101);
	r->head = r->tail + 100000;             /* a hostile producer: clamped */
	CHECK(netq_peek(r, NETQ_RING_SIZE - 1, &d));
	CHECK(!netq_peek(r, NETQ_RING_SIZE, &d));
}

TEST(netq_skip_overrun_only_past_a_ring)
{
	area_init();
	struct netq_ring *r = netq_ring(area_mem, NETQ_RX_READY);
	struct netq_desc d;

	CHECK(!netq_skip_overrun(r));           /* empty */
	for (uint32_t i = 0; i < NETQ_RING_SIZE; i++)
		CHECK(netq_push(r, (struct netq_desc){ .offset = i }));
	CHECK(!netq_skip_overrun(r));           /* full is not an overrun */
	CHECK_EQ(netq_count(r), NETQ_RING_SIZE);
	CHECK(netq_pop(r, &d));
	CHECK_EQ(d.offset, 0);
	r->head = r->tail + NETQ_RING_SIZE + 1; /* one too many */
	CHECK(netq_skip_overrun(r));
	CHECK_EQ(r->tail, r->head);
	CHECK_EQ(netq_count(r), 0);
	CHECK(!netq_skip_overrun(r));
	r->tail = 0xFFFFFFF0u;                  /* far ahead, across the wrap */
	r->head = r->tail + 100000;
	CHECK(netq_skip_overrun(r));
	CHECK(!netq_pop(r, &d));
	CHECK(netq_push(r, (struct netq_desc){ .offset = 7 }));   /* usable again */
	CHECK(netq_pop(r, &d));
	CHECK_EQ(d.offset, 7);
}

TEST(netq_push_chain_publishes_all_or_nothing)
{
	struct netq_ring *r = netq_ring(area_init(), NETQ_TX_READY);
	struct netq_desc d[3] = { { .offset = 1, .flags = NETQ_F_MORE }, { .offset = 2, .flags = NETQ_F_MORE },
				  { .offset = 3 } };
	struct netq_desc got;

	for (unsigned i = 0; i < NETQ_RING_SIZE - 2; i++)
		CHECK(netq_push(r, (struct netq_desc){ .offset = 100 }));
	CHECK(!netq_push_chain(r, d, 3));               /* two free slots: nothing pushed */
	CHECK_EQ(netq_count(r), NETQ_RING_SIZE - 2);
	for (unsigned i = 0; i < NETQ_RING_SIZE - 2; i++)
		CHECK(netq_pop(r, &got));
	CHECK(netq_push_chain(r, d, 3));
	CHECK_EQ(netq_count(r), 3);
	for (unsigned i = 0; i < 3; i++) {
		CHECK(netq_pop(r, &got));
		CHECK_EQ(got.offset, i + 1);
	}
}

/* A chain of n descriptors of len bytes each (the first with flags and
 * seg_size), through netq_chain_add; returns what netq_chain_valid says. */
static bool chain_of(unsigned n, uint16_t len, uint16_t flags, uint16_t seg, uint16_t known)
{
	struct netq_chain c = { 0 };

	for (unsigned i = 0; i < n; i++) {
		struct netq_desc d = { .len = len, .flags = i + 1 < n ? NETQ_F_MORE : 0 };
		if (i == 0) {
			d.flags |= flags;
			d.seg_size = seg;
		}
		if (netq_chain_add(&c, d) != (i + 1 < n))
			return false;
	}
	return netq_chain_valid(&c, known);
}

TEST(netq_chains_are_bounded_and_checked)
{
	const uint16_t rx = NETQ_F_RX_KNOWN | NETQ_F_TSO_KNOWN;
	const uint16_t agg = NETQ_F_TSO4 | NETQ_F_CSUM_VALID;

	CHECK(chain_of(1, 60, 0, 0, NETQ_F_RX_KNOWN));
	CHECK(chain_of(2, 700, 0, 0, rx));              /* 1400 bytes over two buffers */
	CHECK(!chain_of(2, 700, 0, 0, NETQ_F_RX_KNOWN)); /* chains from a driver without TSO */
	CHECK(!chain_of(2, 1000, 0, 0, rx));            /* 2000 bytes, not an aggregate */
	CHECK(chain_of(33, 1985, agg, 1448, rx));       /* 65505 bytes */
	CHECK(!chain_of(33, 1990, agg, 1448, rx));      /* 65670: past NETQ_GSO_FRAME_MAX */
	CHECK(!chain_of(NETQ_CHAIN_MAX + 1, 200, agg, 1448, rx));
	CHECK(chain_of(NETQ_CHAIN_MAX, 200, agg, 1448, rx));
	CHECK(!chain_of(2, NETQ_CHAIN_HEAD_MIN - 1, 0, 0, rx));        /* headers may be split */
	CHECK(chain_of(2, NETQ_CHAIN_HEAD_MIN, 0, 0, rx));
	CHECK(!chain_of(3, 2000, agg, 0, rx));          /* TSO4 without a segment size */
	CHECK(!chain_of(3, 2000, agg, NETQ_SEG_MAX + 1, rx));
	CHECK(!chain_of(3, 2000, agg, NETQ_SEG_MIN - 1, rx));
	CHECK(!chain_of(3, 2000, NETQ_F_TSO4, 1448, rx));       /* nobody vouched for its sums */
	CHECK(!chain_of(1, 60, 0, 1448, rx));           /* a segment size without TSO4 */
	CHECK(!chain_of(1, 8, 0, 0, rx));               /* a runt */

	/* Metadata on a later descriptor, or a too long chain: bad, and the
	 * caller is told to go on to the chain's end. */
	struct netq_chain c = { 0 };
	CHECK(netq_chain_add(&c, (struct netq_desc){ .len = 100, .flags = NETQ_F_MORE }));
	CHECK(!netq_chain_add(&c, (struct netq_desc){ .len = 100, .seg_size = 1 }));
	CHECK(!netq_chain_valid(&c, rx));
	c = (struct netq_chain){ 0 };
	for (unsigned i = 0; i < 3 * NETQ_CHAIN_MAX; i++)
		CHECK(netq_chain_add(&c, (struct netq_desc){ .len = 100, .flags = NETQ_F_MORE }));
	CHECK(c.bad && c.n == NETQ_CHAIN_MAX);
	CHECK(!netq_chain_add(&c, (struct netq_desc){ .len = 100 }));
	CHECK(!netq_chain_valid(&c, rx));
}

/* A chain's first descriptor holds every header an aggregate can have:
 * Ethernet, then IPv4 and TCP with 40 bytes of options each. */
TEST(netq_chain_head_holds_the_longest_headers)
{
	CHECK_EQ(NETQ_CHAIN_HEAD_MIN, 14 + 60 + 60);
	const uint16_t rx = NETQ_F_RX_KNOWN | NETQ_F_TSO_KNOWN;
	struct netq_chain c = { 0 };
	netq_chain_add(&c, (struct netq_desc){ .len = 14 + 60 + 60 - 1, .flags = NETQ_F_MORE |
					       NETQ_F_TSO4 | NETQ_F_CSUM_VALID, .seg_size = 1448 });
	netq_chain_add(&c, (struct netq_desc){ .len = 1000 });
	CHECK(!netq_chain_valid(&c, rx));       /* the TCP header's last option byte would be apart */
	c = (struct netq_chain){ 0 };
	netq_chain_add(&c, (struct netq_desc){ .len = 14 + 60 + 60, .flags = NETQ_F_MORE |
					       NETQ_F_TSO4 | NETQ_F_CSUM_VALID, .seg_size = 1448 });
	netq_chain_add(&c, (struct netq_desc){ .len = 1000 });
	CHECK(netq_chain_valid(&c, rx));
}

/* A crafted first buffer cannot make the aggregate's parser read past
 * it: each length up to the longest headers, in a block of exactly that
 * size (the sanitizer sees any byte read beyond), headers claiming the
 * most options; parsed only once they all fit. */
TEST(netq_gso_parse_reads_only_the_first_buffer)
{
	uint8_t h[14 + 60 + 60] = { 0 };
	struct netq_gso g;

	h[12] = 0x08;
	h[14] = 0x4F;                           /* IHL 15: 60 bytes */
	inet_put16(h + 16, 60 + 60 + 1000);
	h[14 + 9] = 6;
	h[14 + 60 + 12] = 0xF0;                 /* data offset 15: 60 bytes */
	for (unsigned first = 0; first <= sizeof(h); first++) {
		uint8_t *f = malloc(first ? first : 1);
		memcpy(f, h, first);
		bool ok = netq_gso_parse(f, first, 14 + 60 + 60 + 1000, 1448, &g);
		free(f);
		CHECK_EQ(ok, first == sizeof(h));
	}
	CHECK_EQ(g.hdr_len, NETQ_CHAIN_HEAD_MIN);
}

/* Transmit chains (netq 5): a header descriptor of its own may be as short
 * as Ethernet, IPv4 and TCP headers (the payload in slices of other
 * buffers), to a driver that takes chains (TX_SG: MORE only) or TSO4. */
TEST(netq_transmit_chains_may_have_short_heads)
{
	const uint16_t sg = NETQ_F_TX_KNOWN | NETQ_F_SG_KNOWN;
	struct netq_chain c = { .tx = true };

	CHECK(netq_chain_add(&c, (struct netq_desc){ .len = NETQ_TX_CHAIN_HEAD_MIN,
						     .flags = NETQ_F_MORE }));
	CHECK(!netq_chain_add(&c, (struct netq_desc){ .len = 1448 }));
	CHECK(netq_chain_valid(&c, sg));
	CHECK(!netq_chain_valid(&c, NETQ_F_TX_KNOWN));  /* chains only to a driver taking them */
	c.tx = false;
	CHECK(!netq_chain_valid(&c, sg));               /* received chains keep the longer head */
	c = (struct netq_chain){ .tx = true };
	netq_chain_add(&c, (struct netq_desc){ .len = NETQ_TX_CHAIN_HEAD_MIN - 1,
					       .flags = NETQ_F_MORE });
	netq_chain_add(&c, (struct netq_desc){ .len = 1448 });
	CHECK(!netq_chain_valid(&c, sg));
	/* TSO4 needs the TSO flag known: SG alone is not enough. */
	c = (struct netq_chain){ .tx = true };
	netq_chain_add(&c, (struct netq_desc){ .len = 66, .flags = NETQ_F_MORE | NETQ_F_TSO4 |
							       NETQ_F_CSUM_PARTIAL,
					       .csum_start = 34, .csum_offset = 16, .seg_size = 1448 });
	netq_chain_add(&c, (struct netq_desc){ .len = 2000 });
	CHECK(!netq_chain_valid(&c, sg));
	CHECK(netq_chain_valid(&c, NETQ_F_TX_KNOWN | NETQ_F_TSO_KNOWN));
}
