#include "kmem.h"
#include "klog.h"
#include "paging.h"

#include "lib/string.h"

struct frame_allocator kmem_frames;
uint64_t kmem_small_frames;
uint16_t *kmem_pt_used;

void kmem_init(const struct mm_range *usable, int n)
{
	if (n == 0)
		panic("mm: no usable memory");
	uint64_t top = usable[n - 1].end;
	uint64_t map_bytes = frame_bitmap_bytes(top);
	uint64_t used_bytes = (top / FRAME_SIZE + 1) * sizeof(uint16_t);
	uint64_t bytes = map_bytes + used_bytes;
	uint64_t bitmap_phys = 0;

	/* The bitmap must be reachable through the boot physical map
	 * (first 1 GiB) before paging_init builds the full one. */
	for (int i = 0; i < n; i++) {
		if (usable[i].end - usable[i].start >= bytes &&
		    usable[i].start + bytes <= (1ULL << 30)) {
			bitmap_phys = usable[i].start;
			break;
		}
	}
	if (!bitmap_phys)
		panic("mm: no room for the %lu-byte frame bitmap and table counts", bytes);
	frame_init(&kmem_frames, phys_to_virt(bitmap_phys), top);
	kmem_pt_used = phys_to_virt(bitmap_phys + map_bytes);
	memset(kmem_pt_used, 0, used_bytes);
	for (int i = 0; i < n; i++)
		frame_add_range(&kmem_frames, usable[i].start, usable[i].end);
	frame_reserve_range(&kmem_frames, bitmap_phys, bitmap_phys + bytes);
}

/* The spare page tables (all zero) are free memory too: the last frames
 * given when the bitmap has none. */
uint64_t kmem_alloc_frame(void)
{
	uint64_t f = frame_alloc(&kmem_frames);

	return f ? f : pt_spare_take();
}

uint64_t kmem_alloc_frame_zeroed(void)
{
	uint64_t f = frame_alloc(&kmem_frames);

	if (f)
		memset(phys_to_virt(f), 0, FRAME_SIZE);
	return f ? f : pt_spare_take();
}

void kmem_free_frame(uint64_t phys)
{
	if (!frame_free(&kmem_frames, phys))
		panic("mm: freeing frame %lx that is not allocated", phys);
}

/* Size classes 32, 64, ..., 2048: free lists of equal-sized blocks. */
#define KMALLOC_MIN_SHIFT 5
#define KMALLOC_MAX_SHIFT 11
#define KMALLOC_CLASSES (KMALLOC_MAX_SHIFT - KMALLOC_MIN_SHIFT + 1)

struct free_block {
	struct free_block *next;
};

static struct free_block *free_lists[KMALLOC_CLASSES];

static int size_class(size_t size)
{
	int c = 0;

	while (((size_t)1 << (c + KMALLOC_MIN_SHIFT)) < size)
		c++;
	return c;
}

void *kmalloc(size_t size)
{
	if (size == 0)
		size = 1;
	if (size > (1u << KMALLOC_MAX_SHIFT)) {
		uint64_t pages = (size + FRAME_SIZE - 1) / FRAME_SIZE;
		uint64_t phys = frame_alloc_contig(&kmem_frames, pages, 1);
		if (!phys)
			return NULL;
		memset(phys_to_virt(phys), 0, pages * FRAME_SIZE);
		return phys_to_virt(phys);
	}
	int c = size_class(size);
	if (!free_lists[c]) {
		uint64_t frame = kmem_alloc_frame();
		if (!frame)
			return NULL;
		size_t block = (size_t)1 << (c + KMALLOC_MIN_SHIFT);
		char *base = phys_to_virt(frame);
		kmem_small_frames++;
		for (size_t off = 0; off < FRAME_SIZE; off += block) {
			struct free_block *b = (struct free_block *)(base + off);
			b->next = free_lists[c];
			free_lists[c] = b;
		}
	}
	struct free_block *b = free_lists[c];
	free_lists[c] = b->next;
	memset(b, 0, (size_t)1 << (c + KMALLOC_MIN_SHIFT));
	return b;
}

void kfree(void *p, size_t size)
{
	if (!p)
		return;
	if (size > (1u << KMALLOC_MAX_SHIFT)) {
		uint64_t pages = (size + FRAME_SIZE - 1) / FRAME_SIZE;
		if (!frame_free_contig(&kmem_frames, virt_to_phys(p), pages))
			panic("kfree: %p (%zu bytes) was not allocated", p, size);
		return;
	}
	struct free_block *b = p;
	int c = size_class(size);
	b->next = free_lists[c];
	free_lists[c] = b;
}
