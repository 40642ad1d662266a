/*
 * lwIP's heap allocator: a binary buddy system (heap.h says why).
 */
#include "heap.h"

#define HEAP_NONE  UINT32_MAX
#define HEAP_MAGIC 0x48656170u          /* "Heap" */

/* Before every block. A free block's links follow it (and a block kept
 * whole for reuse's). */
struct heap_hdr {
	uint32_t magic;
	uint8_t class;
	uint8_t used;                   /* BLOCK_* */
	uint16_t pad;
};

enum { BLOCK_FREE, BLOCK_USED, BLOCK_QUICK };

struct heap_links {
	uint32_t next, prev;            /* offsets of free blocks of the class, or HEAP_NONE */
};

_Static_assert(sizeof(struct heap_hdr) == HEAP_HDR_BYTES && sizeof(struct heap_hdr) +
	       sizeof(struct heap_links) <= 1u << HEAP_MIN_LOG2, "a free block holds its links");

struct heap lwip_heap;

static struct heap_hdr *hdr_at(struct heap *h, uint32_t off)
{
	return (struct heap_hdr *)(h->base + off);
}

static struct heap_links *links_at(struct heap *h, uint32_t off)
{
	return (struct heap_links *)(h->base + off + sizeof(struct heap_hdr));
}

static void push_free(struct heap *h, uint32_t off, unsigned k)
{
	*hdr_at(h, off) = (struct heap_hdr){ .magic = HEAP_MAGIC, .class = (uint8_t)k,
					     .used = BLOCK_FREE };
	*links_at(h, off) = (struct heap_links){ .next = h->free[k], .prev = HEAP_NONE };
	if (h->free[k] != HEAP_NONE)
		links_at(h, h->free[k])->prev = off;
	h->free[k] = off;
}

static void unlink_free(struct heap *h, uint32_t off, unsigned k)
{
	struct heap_links *l = links_at(h, off);

	if (l->prev != HEAP_NONE)
		links_at(h, l->prev)->next = l->next;
	else
		h->free[k] = l->next;
	if (l->next != HEAP_NONE)
		links_at(h, l->next)->prev = l->prev;
}

bool heap_init(struct heap *h, void *base, unsigned log2)
{
	if (log2 < HEAP_MIN_LOG2 || log2 > HEAP_MAX_LOG2)
		return false;
	*h = (struct heap){ .base = base, .log2 = log2 };
	for (unsigned k = 0; k < HEAP_CLASSES; k++)
		h->free[k] = HEAP_NONE;
	for (unsigned k = 0; k <= HEAP_QUICK_MAX_LOG2; k++)
		h->quick[k] = HEAP_NONE;
	push_free(h, 0, log2);
	return true;
}

/* The block at off, of class k, free: joined with its buddy while that is
 * free and whole (of the same class), onto its free list. */
static void release(struct heap *h, uint32_t off, unsigned k)
{
	struct heap_hdr *b = hdr_at(h, off);

	while (k < h->log2) {
		uint32_t buddy = off ^ (1u << k);
		struct heap_hdr *bh = hdr_at(h, buddy);
		if (bh->magic != HEAP_MAGIC || bh->used != BLOCK_FREE || bh->class != k)
			break;
		unlink_free(h, buddy, k);
		/* The upper one's header is inside the joined block now. */
		if (buddy < off) {
			b->magic = 0;
			off = buddy;
		} else {
			bh->magic = 0;
		}
		b = hdr_at(h, off);
		k++;
	}
	push_free(h, off, k);
}

void heap_join_quick(struct heap *h)
{
	for (unsigned k = HEAP_MIN_LOG2; k <= HEAP_QUICK_MAX_LOG2; k++) {
		while (h->quick[k] != HEAP_NONE) {
			uint32_t off = h->quick[k];
			h->quick[k] = links_at(h, off)->next;
			release(h, off, k);
		}
		h->nquick[k] = 0;
	}
}

/* The class of the block that holds n bytes and the header. */
static unsigned class_for(size_t n)
{
	unsigned k = HEAP_MIN_LOG2;

	while (((size_t)1 << k) - sizeof(struct heap_hdr) < n)
		k++;
	return k;
}

size_t heap_block_bytes(size_t n)
{
	return (size_t)1 << class_for(n);
}

void *heap_alloc(struct heap *h, size_t n)
{
	unsigned want, k;

	if (!h->base || n > ((size_t)1 << h->log2) - sizeof(struct heap_hdr))
		return NULL;
	want = class_for(n);
	uint32_t off;
	if (want <= HEAP_QUICK_MAX_LOG2 && (off = h->quick[want]) != HEAP_NONE) {
		h->quick[want] = links_at(h, off)->next;
		h->nquick[want]--;
		hdr_at(h, off)->used = BLOCK_USED;
		h->used += 1u << want;
		return h->base + off + sizeof(struct heap_hdr);
	}
	for (k = want; k <= h->log2 && h->free[k] == HEAP_NONE; k++)
		;
	if (k > h->log2) {
		bool kept = false;
		for (unsigned q = HEAP_MIN_LOG2; q <= HEAP_QUICK_MAX_LOG2; q++)
			kept |= h->nquick[q] != 0;
		if (!kept)
			return NULL;
		heap_join_quick(h);
		return heap_alloc(h, n);        /* once: nothing is kept now */
	}
	off = h->free[k];
	unlink_free(h, off, k);
	/* Halve it until it is of the class wanted: each upper half free. */
	while (k > want) {
		k--;
		push_free(h, off + (1u << k), k);
	}
	*hdr_at(h, off) = (struct heap_hdr){ .magic = HEAP_MAGIC, .class = (uint8_t)k,
					     .used = BLOCK_USED };
	h->used += 1u << k;
	return h->base + off + sizeof(struct heap_hdr);
}

void heap_free(struct heap *h, void *p)
{
	if (!p)
		return;
	uint8_t *at = (uint8_t *)p - sizeof(struct heap_hdr);
	size_t off = (size_t)(at - h->base);
	struct heap_hdr *b = (struct heap_hdr *)at;

	if (!h->base || at < h->base || off >= ((size_t)1 << h->log2) ||
	    off % (1u << HEAP_MIN_LOG2) || b->magic != HEAP_MAGIC || b->used != BLOCK_USED ||
	    b->class < HEAP_MIN_LOG2 || b->class > h->log2 || off % ((size_t)1 << b->class)) {
		h->bad_frees++;
		return;
	}
	unsigned k = b->class;
	h->used -= 1u << k;
	if (k <= HEAP_QUICK_MAX_LOG2 && h->nquick[k] < HEAP_QUICK_MAX) {
		b->used = BLOCK_QUICK;
		links_at(h, (uint32_t)off)->next = h->quick[k];
		h->quick[k] = (uint32_t)off;
		h->nquick[k]++;
		return;
	}
	release(h, (uint32_t)off, k);
}

void *netstack_mem_malloc(size_t n)
{
	return heap_alloc(&lwip_heap, n);
}

void netstack_mem_free(void *p)
{
	heap_free(&lwip_heap, p);
}
