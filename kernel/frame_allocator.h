/*
 * Physical frame allocator: one bit per 4 KiB frame (1 = in use), so that
 * single frames and physically contiguous runs (for DMA) come from the same
 * map. Pure logic, unit-tested on the host; the kernel keeps one instance.
 *
 * Not thread-safe by itself: the kernel runs it with interrupts off.
 */
#ifndef MICA_FRAME_ALLOCATOR_H
#define MICA_FRAME_ALLOCATOR_H

#include <stdbool.h>
#include <stdint.h>

#define FRAME_SIZE 4096UL
#define FRAME_NONE 0   /* frame 0 is never handed out */

struct frame_allocator {
	uint64_t *bitmap;      /* nframes bits, 1 = in use */
	uint64_t nframes;      /* frames covered: physical 0 .. nframes*4K */
	uint64_t free;         /* frames currently free */
	uint64_t total;        /* frames ever made free by frame_add_range */
	uint64_t hint;         /* lowest word that may have a free frame */
};

/* Bytes of bitmap needed to cover physical memory up to top. */
uint64_t frame_bitmap_bytes(uint64_t top);

/* Start with every frame in use; bitmap must hold frame_bitmap_bytes(top). */
void frame_init(struct frame_allocator *fa, uint64_t *bitmap, uint64_t top);

/* Mark the whole frames inside [start, end) free. Frame 0 stays in use. */
void frame_add_range(struct frame_allocator *fa, uint64_t start, uint64_t end);

/* Mark [start, end) in use again (taken out of the free pool). */
void frame_reserve_range(struct frame_allocator *fa, uint64_t start, uint64_t end);

/* One frame, lowest address first; FRAME_NONE when memory is exhausted. */
uint64_t frame_alloc(struct frame_allocator *fa);

/* count contiguous frames whose first address is a multiple of
 * align_frames frames (a power of two); FRAME_NONE if no such run. */
uint64_t frame_alloc_contig(struct frame_allocator *fa, uint64_t count,
			    uint64_t align_frames);

/* Free count frames from phys. Returns false, changing nothing, if phys is
 * misaligned, out of range, or any of the frames is already free. */
bool frame_free_contig(struct frame_allocator *fa, uint64_t phys, uint64_t count);
bool frame_free(struct frame_allocator *fa, uint64_t phys);

bool frame_is_free(const struct frame_allocator *fa, uint64_t phys);

#endif
