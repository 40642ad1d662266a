/* netstack/heap.c: lwIP's heap, a binary buddy system. */
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "unit.h"

#define LOG2 16                 /* a 64 KiB heap */

static _Alignas(64) uint8_t mem[1 << LOG2];

/* The heap is whole again: one free block of the run's size. */
static bool whole(const struct heap *h)
{
	for (unsigned k = 0; k < HEAP_CLASSES; k++)
		if ((h->free[k] != UINT32_MAX) != (k == h->log2))
			return false;
	return h->free[h->log2] == 0 && h->used == 0;
}

TEST(heap_gives_aligned_blocks_that_hold_what_was_asked)
{
	struct heap h;

	CHECK(heap_init(&h, mem, LOG2));
	uint8_t *a = heap_alloc(&h, 1), *b = heap_alloc(&h, 24), *c = heap_alloc(&h, 25);
	uint8_t *d = heap_alloc(&h, 1500);
	CHECK(a && b && c && d);
	CHECK_EQ((uintptr_t)a % 8, 0);
	CHECK_EQ((uintptr_t)d % 8, 0);
	/* 1 and 24 bytes take 32 (8 of header), 25 takes 64, 1500 takes 2048. */
	CHECK_EQ(h.used, 32 + 32 + 64 + 2048);
	CHECK_EQ(heap_block_bytes(1) + heap_block_bytes(24) + heap_block_bytes(25) +
		 heap_block_bytes(1500), h.used);
	CHECK_EQ(heap_block_bytes(0), 32);
	CHECK_EQ(heap_block_bytes(2040), 2048);
	CHECK_EQ(heap_block_bytes(2041), 4096);
	memset(d, 0xAB, 1500);
	memset(c, 0xCD, 25);
	CHECK_EQ(d[0], 0xAB);
	CHECK_EQ(c[24], 0xCD);
	heap_free(&h, a);
	heap_free(&h, c);
	heap_free(&h, b);
	heap_free(&h, d);
	heap_join_quick(&h);
	CHECK(whole(&h));
}

/* A small block given back is kept whole for the next of its size (not
 * joined up to the top and split down again); kept blocks are joined
 * again before an allocation would fail. */
TEST(heap_keeps_small_blocks_whole_and_joins_them_when_short)
{
	struct heap h;
	uint8_t *small[HEAP_QUICK_MAX + 1];

	CHECK(heap_init(&h, mem, LOG2));
	uint8_t *a = heap_alloc(&h, 100);
	heap_free(&h, a);
	CHECK(heap_alloc(&h, 100) == a);
	heap_free(&h, a);
	CHECK_EQ(h.nquick[7], 1);
	/* The whole run asked for: only once the kept block is joined. */
	uint8_t *all = heap_alloc(&h, (1u << LOG2) - 8);
	CHECK(all != NULL);
	CHECK_EQ(h.nquick[7], 0);
	heap_free(&h, all);
	/* At most HEAP_QUICK_MAX kept of a size; the rest joined at once. */
	for (int i = 0; i <= HEAP_QUICK_MAX; i++)
		CHECK((small[i] = heap_alloc(&h, 100)) != NULL);
	for (int i = 0; i <= HEAP_QUICK_MAX; i++)
		heap_free(&h, small[i]);
	CHECK_EQ(h.nquick[7], HEAP_QUICK_MAX);
	heap_free(&h, small[0]);                /* kept: not given out */
	CHECK_EQ(h.bad_frees, 1);
	heap_join_quick(&h);
	CHECK(whole(&h));
}

TEST(heap_refuses_what_does_not_fit_and_bad_frees)
{
	struct heap h;

	CHECK(!heap_init(&h, mem, HEAP_MIN_LOG2 - 1));
	CHECK(!heap_init(&h, mem, HEAP_MAX_LOG2 + 1));
	CHECK(heap_init(&h, mem, LOG2));
	CHECK(heap_alloc(&h, (1u << LOG2) - 7) == NULL);
	uint8_t *all = heap_alloc(&h, (1u << LOG2) - 8);
	CHECK(all != NULL);
	CHECK(heap_alloc(&h, 1) == NULL);
	heap_free(&h, all + 8);                 /* not a block's start */
	heap_free(&h, mem + sizeof(mem) + 64);  /* outside */
	CHECK_EQ(h.bad_frees, 2);
	heap_free(&h, all);
	heap_free(&h, all);                     /* twice */
	CHECK_EQ(h.bad_frees, 3);
	heap_free(&h, NULL);
	CHECK(whole(&h));
}

/* Random sizes taken and given back in random order, each block's bytes
 * checked to be its own (no two overlap), until everything is back and the
 * heap is one block again. */
TEST(heap_random_blocks_never_overlap_and_join_again)
{
	struct heap h;
	enum { SLOTS = 200 };
	uint8_t *p[SLOTS] = { 0 };
	size_t n[SLOTS] = { 0 };

	CHECK(heap_init(&h, mem, LOG2));
	srand(16);
	for (int round = 0; round < 20000; round++) {
		int i = rand() % SLOTS;
		if (p[i]) {
			for (size_t j = 0; j < n[i]; j++)
				CHECK_EQ(p[i][j], (uint8_t)(i + j));
			heap_free(&h, p[i]);
			p[i] = NULL;
			continue;
		}
		n[i] = rand() % 4 ? (size_t)(rand() % 120) : (size_t)(rand() % 3000);
		if (!(p[i] = heap_alloc(&h, n[i])))
			continue;               /* full: fine, some will come back */
		CHECK(p[i] >= mem && p[i] + n[i] <= mem + sizeof(mem));
		for (size_t j = 0; j < n[i]; j++)
			p[i][j] = (uint8_t)(i + j);
	}
	for (int i = 0; i < SLOTS; i++) {
		for (size_t j = 0; p[i] && j < n[i]; j++)
			CHECK_EQ(p[i][j], (uint8_t)(i + j));
		heap_free(&h, p[i]);
	}
	CHECK_EQ(h.bad_frees, 0);
	heap_join_quick(&h);
	CHECK(whole(&h));
}
