#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
