#include <stdint.h>
#include <stdlib.h>

#include "frame_allocator.h"
#include "unit.h"

#define MiB (1ULL << 20)

static struct frame_allocator fa;
static uint64_t bitmap[(64 * MiB / FRAME_SIZE) / 64];

/* 64 MiB of address space with 1..63 MiB free. */
static void setup(void)
{
	frame_init(&fa, bitmap, 64 * MiB);
	frame_add_range(&fa, 1 * MiB, 63 * MiB);
}

TEST(frame_counts_free_frames)
{
	setup();
	CHECK_EQ(fa.free, 62 * MiB / FRAME_SIZE);
	CHECK_EQ(fa.total, fa.free);
}

TEST(frame_alloc_lowest_first_and_free)
{
	setup();
	uint64_t a = frame_alloc(&fa), b = frame_alloc(&fa);
	CHECK_EQ(a, 1 * MiB);
	CHECK_EQ(b, 1 * MiB + FRAME_SIZE);
	CHECK(!frame_is_free(&fa, a));
	CHECK(frame_free(&fa, a));
	CHECK(frame_is_free(&fa, a));
	CHECK_EQ(frame_alloc(&fa), a);      /* reused */
}

TEST(frame_free_rejects_double_free_and_bad_addresses)
{
	setup();
	uint64_t a = frame_alloc(&fa);
	uint64_t before = fa.free;
	CHECK(frame_free(&fa, a));
	CHECK(!frame_free(&fa, a));          /* double free */
	CHECK(!frame_free(&fa, a + 1));      /* misaligned */
	CHECK(!frame_free(&fa, 64 * MiB));   /* out of range */
	CHECK(!frame_free(&fa, 0));          /* frame 0 */
	CHECK_EQ(fa.free, before + 1);
}

TEST(frame_never_hands_out_frame_zero)
{
	frame_init(&fa, bitmap, 64 * MiB);
	frame_add_range(&fa, 0, 2 * FRAME_SIZE);
	CHECK_EQ(fa.free, 1);
	CHECK_EQ(frame_alloc(&fa), FRAME_SIZE);
	CHECK_EQ(frame_alloc(&fa), FRAME_NONE);
}

TEST(frame_exhaustion_returns_none_then_recovers)
{
	frame_init(&fa, bitmap, 64 * MiB);
	frame_add_range(&fa, 1 * MiB, 1 * MiB + 4 * FRAME_SIZE);
	uint64_t got[4];
	for (int i = 0; i < 4; i++)
		CHECK((got[i] = frame_alloc(&fa)) != FRAME_NONE);
	CHECK_EQ(frame_alloc(&fa), FRAME_NONE);
	CHECK(frame_free(&fa, got[2]));
	CHECK_EQ(frame_alloc(&fa), got[2]);
}

TEST(frame_contig_respects_alignment_and_holes)
{
	setup();
	/* Punch a hole: the first aligned 16-frame run must skip it. */
	frame_reserve_range(&fa, 1 * MiB + 3 * FRAME_SIZE, 1 * MiB + 4 * FRAME_SIZE);
	uint64_t p = frame_alloc_contig(&fa, 16, 16);
	CHECK(p != FRAME_NONE);
	CHECK_EQ(p % (16 * FRAME_SIZE), 0);
	CHECK(p >= 1 * MiB + 4 * FRAME_SIZE);
	for (int i = 0; i < 16; i++)
		CHECK(!frame_is_free(&fa, p + i * FRAME_SIZE));
	uint64_t before = fa.free;
	CHECK(frame_free_contig(&fa, p, 16));
	CHECK_EQ(fa.free, before + 16);
}

/* Runs are found past a taken low part, at odd bit offsets and across
 * words, and a frame freed below the hint is found again. */
TEST(frame_contig_skips_taken_words_and_finds_freed_ones)
{
	setup();
	frame_reserve_range(&fa, 1 * MiB, 9 * MiB + 5 * FRAME_SIZE);
	uint64_t p = frame_alloc_contig(&fa, 3, 1);
	CHECK_EQ(p, 9 * MiB + 5 * FRAME_SIZE);
	/* 70 frames from a 64-frame boundary, a word and a bit beyond. */
	uint64_t q = frame_alloc_contig(&fa, 70, 64);
	CHECK_EQ(q, 9 * MiB + 64 * FRAME_SIZE);
	uint64_t r = frame_alloc_contig(&fa, 2, 1);
	CHECK_EQ(r, p + 3 * FRAME_SIZE);
	CHECK(frame_free(&fa, 2 * MiB + 7 * FRAME_SIZE));
	CHECK_EQ(frame_alloc_contig(&fa, 1, 1), 2 * MiB + 7 * FRAME_SIZE);
	/* A hole too short for the run is passed over. */
	CHECK(frame_free(&fa, 3 * MiB));
	CHECK(frame_alloc_contig(&fa, 2, 1) != 3 * MiB);
}

TEST(frame_contig_rejects_bad_requests)
{
	setup();
	CHECK_EQ(frame_alloc_contig(&fa, 0, 1), FRAME_NONE);
	CHECK_EQ(frame_alloc_contig(&fa, 4, 3), FRAME_NONE);       /* not a power of two */
	CHECK_EQ(frame_alloc_contig(&fa, 63 * MiB / FRAME_SIZE, 1), FRAME_NONE);
}

TEST(frame_free_contig_partial_double_free_changes_nothing)
{
	setup();
	uint64_t p = frame_alloc_contig(&fa, 4, 1);
	CHECK(frame_free(&fa, p + 2 * FRAME_SIZE));
	uint64_t before = fa.free;
	CHECK(!frame_free_contig(&fa, p, 4));
	CHECK_EQ(fa.free, before);
	CHECK(!frame_is_free(&fa, p));
}

TEST(frame_random_alloc_free_keeps_count)
{
	setup();
	uint64_t start = fa.free;
	static uint64_t held[4096];
	int n = 0;
	srand(1);
	for (int i = 0; i < 20000; i++) {
		if (n < 4096 && (n == 0 || rand() % 3)) {
			uint64_t f = frame_alloc(&fa);
			CHECK(f != FRAME_NONE);
			held[n++] = f;
		} else {
			int k = rand() % n;
			CHECK(frame_free(&fa, held[k]));
			held[k] = held[--n];
		}
	}
	CHECK_EQ(fa.free, start - n);
	while (n)
		CHECK(frame_free(&fa, held[--n]));
	CHECK_EQ(fa.free, start);
}
