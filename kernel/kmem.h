/*
 * Kernel memory: the kernel's pool of physical frames (its size is kmem= on
 * the command line; the rest of RAM goes to the root task) and the
 * allocator for kernel objects, both set up at boot. Frames are reached
 * through the physical map.
 */
#ifndef MICA_KMEM_H
#define MICA_KMEM_H

#include <stddef.h>
#include <stdint.h>

#include "frame_allocator.h"
#include "boot_memmap.h"

extern struct frame_allocator kmem_frames;
/* Frames kmalloc has carved into small blocks: they never go back to
 * kmem_frames (live objects or free lists), so a leak check adds them. */
extern uint64_t kmem_small_frames;
/* Per frame (index: physical address / FRAME_SIZE): how many present
 * entries the page table in it has, kept by paging.c for the tables it
 * makes below a PML4, so an emptied table is found without reading its
 * 512 entries. Carved next to the frame bitmap. */
extern uint16_t *kmem_pt_used;

/* Set up the frame pool from the usable ranges; the bitmap (and
 * kmem_pt_used) is carved from the first range large enough. */
void kmem_init(const struct mm_range *usable, int n);

/* One frame (physical address), or 0 when memory is exhausted. */
uint64_t kmem_alloc_frame(void);
uint64_t kmem_alloc_frame_zeroed(void);
void kmem_free_frame(uint64_t phys);

/*
 * Kernel object allocator: power-of-two size classes from 32 bytes to
 * 2 KiB carved from frames, whole frames above that. kmalloc returns
 * zeroed memory or NULL; kfree takes the size that was asked for.
 */
void *kmalloc(size_t size);
void kfree(void *p, size_t size);

#endif
