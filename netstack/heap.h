/*
 * lwIP's heap allocator (lwipopts.h: MEM_LIBC_MALLOC, mem_clib_malloc and
 * mem_clib_free are these): a binary buddy system (Knuth, The Art of
 * Computer Programming, vol. 1, 2.5, "the buddy system") over one run of
 * 2^log2 bytes, lwIP's heap (pool_heap_init: DMA memory mapped read-only
 * into the drivers, or the program's heap window).
 *
 * Why not lwIP's own (mem.c): it searches first fit from its lowest free
 * block, block by block, used ones included, so an allocation costs in
 * proportion to the blocks in use below the first that fits. A TCP sender
 * has one block in use per segment in flight (its headers, or headers and
 * data), about 700 with a 1 MiB send buffer; measured on e1000 from the
 * guest (docs/netstack.md, "lwIP's heap"), each allocation walked ~90 to
 * ~360 blocks, 6% to 20% of the virtual CPU. Here an allocation and a
 * free cost at most one step per size class (HEAP_CLASSES).
 *
 * A block is 2^k bytes (HEAP_MIN_LOG2 <= k <= log2) at an offset that is
 * a multiple of its size, with an 8-byte header (struct heap_hdr) before
 * what heap_alloc returns (8-byte aligned if base is). A free block of
 * class k is on free[k], a list linked through its bytes after the
 * header; freeing a block joins it with its buddy (the block at offset
 * XOR 2^k) while that is free and of the same class. The price is up to
 * half a block unused (a 1.5 KiB segment takes 2 KiB); the heap is 16 MiB
 * for lwIP's MEM_SIZE and its TCP_SND_BUF of 1 MiB.
 */
#ifndef MICA_NETSTACK_HEAP_H
#define MICA_NETSTACK_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_HDR_BYTES 8         /* before what heap_alloc returns */
#define HEAP_MIN_LOG2 5         /* 32 bytes: the header and a free block's links */
#define HEAP_MAX_LOG2 28        /* NETQ_HEAP_LOG2_MAX */
#define HEAP_CLASSES  (HEAP_MAX_LOG2 + 1)
/* Blocks of up to 2^HEAP_QUICK_MAX_LOG2 bytes given back are kept whole,
 * up to HEAP_QUICK_MAX of each size, for the next allocation of that size
 * (not joined with their buddies: a lone block taken and given back, as
 * an acknowledgement's, would split a large block down and join it up
 * again every time); all of them are joined again before an allocation
 * fails for want of a block. */
#define HEAP_QUICK_MAX_LOG2 11
#define HEAP_QUICK_MAX      64

struct heap {
	uint8_t *base;
	unsigned log2;                  /* the run is 2^log2 bytes */
	uint32_t free[HEAP_CLASSES];    /* offset of the first free block of class k, or HEAP_NONE */
	uint32_t quick[HEAP_QUICK_MAX_LOG2 + 1];        /* kept whole (above), the same way */
	uint32_t nquick[HEAP_QUICK_MAX_LOG2 + 1];
	uint64_t used;                  /* bytes in blocks given out */
	uint64_t bad_frees;             /* heap_free of something not given out: ignored */
};

/* Start with the whole run free: base (8-byte aligned), 2^log2 bytes
 * (HEAP_MIN_LOG2..HEAP_MAX_LOG2). false: log2 out of range. */
bool heap_init(struct heap *h, void *base, unsigned log2);
/* n bytes (8-byte aligned when base is), or NULL when no block is free
 * that holds them and the header. */
void *heap_alloc(struct heap *h, size_t n);
/* The bytes of the block heap_alloc takes for n (used grows by them):
 * n and the header rounded up to a power of two, 2^HEAP_MIN_LOG2 at
 * least. What a bound on heap use must count (socket_udp.c). */
size_t heap_block_bytes(size_t n);
/* p from heap_alloc back (NULL: nothing). Anything else (a pointer not
 * given out, given back twice) is counted in bad_frees and ignored. */
void heap_free(struct heap *h, void *p);
/* The blocks kept whole for reuse joined again (heap_alloc does it before
 * it fails). */
void heap_join_quick(struct heap *h);

/* lwIP's: heap_init'ed by the netstack before lwip_init (main.c). */
extern struct heap lwip_heap;
void *netstack_mem_malloc(size_t n);
void netstack_mem_free(void *p);

#endif
