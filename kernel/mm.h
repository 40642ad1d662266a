/*
 * Kernel memory: the physical frame pool and the allocator for kernel
 * objects. Frames are reached through the physical map.
 */
#ifndef MICA_MM_H
#define MICA_MM_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "memmap.h"

extern struct frame_allocator mm_frames;

/* Set up the frame pool from the usable ranges; the bitmap is carved from
 * the first range large enough. */
void mm_init(const struct mm_range *usable, int n);

/* One frame (physical address), or 0 when memory is exhausted. */
uint64_t mm_alloc_frame(void);
uint64_t mm_alloc_frame_zeroed(void);
void mm_free_frame(uint64_t phys);

/*
 * Kernel object allocator: power-of-two size classes from 32 bytes to
 * 2 KiB carved from frames, whole frames above that. kmalloc returns
 * zeroed memory or NULL; kfree takes the size that was asked for.
 */
void *kmalloc(size_t size);
void kfree(void *p, size_t size);

#endif
