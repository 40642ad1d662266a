#include "frame_allocator.h"

static inline bool bit_get(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static inline void bit_set(uint64_t *bm, uint64_t i)
{
	bm[i / 64] |= 1ULL << (i % 64);
}

static inline void bit_clear(uint64_t *bm, uint64_t i)
{
	bm[i / 64] &= ~(1ULL << (i % 64));
}

uint64_t frame_bitmap_bytes(uint64_t top)
{
	uint64_t frames = (top + FRAME_SIZE - 1) / FRAME_SIZE;

	return (frames + 63) / 64 * 8;
}

void frame_init(struct frame_allocator *fa, uint64_t *bitmap, uint64_t top)
{
	fa->bitmap = bitmap;
	fa->nframes = (top + FRAME_SIZE - 1) / FRAME_SIZE;
	fa->free = 0;
	fa->total = 0;
	fa->hint = 0;
	for (uint64_t w = 0; w < (fa->nframes + 63) / 64; w++)
		bitmap[w] = ~0ULL;
}

void frame_add_range(struct frame_allocator *fa, uint64_t start, uint64_t end)
{
	uint64_t first = (start + FRAME_SIZE - 1) / FRAME_SIZE;
	uint64_t last = end / FRAME_SIZE;   /* exclusive */

	if (first == 0)
		first = 1;
	if (last > fa->nframes)
		last = fa->nframes;
	for (uint64_t f = first; f < last; f++) {
		if (bit_get(fa->bitmap, f)) {
			bit_clear(fa->bitmap, f);
			fa->free++;
			fa->total++;
		}
	}
	fa->hint = 0;
}

void frame_reserve_range(struct frame_allocator *fa, uint64_t start, uint64_t end)
{
	uint64_t first = start / FRAME_SIZE;
	uint64_t last = (end + FRAME_SIZE - 1) / FRAME_SIZE;

	if (last > fa->nframes)
		last = fa->nframes;
	for (uint64_t f = first; f < last; f++) {
		if (!bit_get(fa->bitmap, f)) {
			bit_set(fa->bitmap, f);
			fa->free--;
			fa->total--;
		}
	}
}

uint64_t frame_alloc(struct frame_allocator *fa)
{
	uint64_t words = (fa->nframes + 63) / 64;

	for (uint64_t w = fa->hint; w < words; w++) {
		if (fa->bitmap[w] == ~0ULL)
			continue;
		uint64_t f = w * 64 + (uint64_t)__builtin_ctzll(~fa->bitmap[w]);
		if (f >= fa->nframes)
			break;
		bit_set(fa->bitmap, f);
		fa->free--;
		fa->hint = w;
		return f * FRAME_SIZE;
	}
	fa->hint = words;
	return FRAME_NONE;
}

/* The first frame at or above f that is a multiple of align (a power of
 * two). */
static inline uint64_t align_up(uint64_t f, uint64_t align)
{
	return (f + align - 1) & ~(align - 1);
}

uint64_t frame_alloc_contig(struct frame_allocator *fa, uint64_t count,
			    uint64_t align_frames)
{
	if (count == 0 || align_frames == 0 || (align_frames & (align_frames - 1)))
		return FRAME_NONE;
	if (count > fa->free)
		return FRAME_NONE;
	/* From the lowest word that may have a free frame (frame 0 is never
	 * free); used frames are skipped a word's worth at a time, so a
	 * memory whose low part is all taken costs a word per 64 frames. */
	uint64_t f = align_up(fa->hint * 64 > align_frames ? fa->hint * 64 : align_frames,
			      align_frames);
	while (f + count <= fa->nframes) {
		uint64_t used = fa->bitmap[f / 64] >> (f % 64);
		if (used & 1) {
			f = align_up(f + (~used ? (uint64_t)__builtin_ctzll(~used) : 64), align_frames);
			continue;
		}
		uint64_t run = 0;
		while (run < count && !bit_get(fa->bitmap, f + run))
			run++;
		if (run == count) {
			for (uint64_t i = 0; i < count; i++)
				bit_set(fa->bitmap, f + i);
			fa->free -= count;
			return f * FRAME_SIZE;
		}
		/* Skip past the used frame, to the next aligned start. */
		f = align_up(f + run + 1, align_frames);
	}
	return FRAME_NONE;
}

bool frame_free_contig(struct frame_allocator *fa, uint64_t phys, uint64_t count)
{
	if (phys % FRAME_SIZE || count == 0)
		return false;
	uint64_t first = phys / FRAME_SIZE;
	if (first == 0 || first >= fa->nframes || count > fa->nframes - first)
		return false;
	for (uint64_t i = 0; i < count; i++)
		if (!bit_get(fa->bitmap, first + i))
			return false;
	for (uint64_t i = 0; i < count; i++)
		bit_clear(fa->bitmap, first + i);
	fa->free += count;
	if (first / 64 < fa->hint)
		fa->hint = first / 64;
	return true;
}

bool frame_free(struct frame_allocator *fa, uint64_t phys)
{
	return frame_free_contig(fa, phys, 1);
}

bool frame_is_free(const struct frame_allocator *fa, uint64_t phys)
{
	uint64_t f = phys / FRAME_SIZE;

	return f < fa->nframes && !bit_get(fa->bitmap, f);
}
