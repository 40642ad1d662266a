#include "paging.h"
#include "cpu.h"
#include "klog.h"
#include "kmem.h"

#include "lib/string.h"

static uint64_t kernel_root;
uint64_t pt_generation = 1;

static inline uint64_t *table(uint64_t phys) { return phys_to_virt(phys & PTE_ADDR); }

static inline unsigned index_of(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

static bool canonical(uint64_t va)
{
	uint64_t top = va >> 47;
	return top == 0 || top == 0x1FFFF;
}

/*
 * kmem_pt_used counts the present entries of each table below a PML4:
 * an entry is made present only by walk and map_at_level and cleared (to
 * 0) only by pt_unmap and pt_prune, which keep the count, so a table whose
 * count is 0 is all zero. pt_prune frees such tables without reading them.
 */
static inline uint16_t *used_of(const uint64_t *t_or_entry)
{
	return &kmem_pt_used[virt_to_phys(t_or_entry) / FRAME_SIZE];
}

/* Tables pt_prune freed, all zero (count 0), kept for the next walk so
 * it need not zero a frame: a task mapping and unmapping one page in an
 * otherwise empty region frees and remakes up to three tables each
 * time. Unlinked and flushed from the TLB before they came here, as any
 * freed table; counted as free in pt_spare_tables for leak checks. */
#define SPARE_TABLES 8
static uint64_t spare[SPARE_TABLES];
static unsigned nspare;

unsigned pt_spare_tables(void)
{
	return nspare;
}

uint64_t pt_spare_take(void)
{
	return nspare ? spare[--nspare] : 0;
}

/* A zeroed table frame with a count of 0, or 0 when memory is exhausted. */
static uint64_t table_alloc(void)
{
	uint64_t frame = nspare ? spare[--nspare] : kmem_alloc_frame_zeroed();

	if (frame)
		kmem_pt_used[frame / FRAME_SIZE] = 0;
	return frame;
}

/* Entry at level (0 = PT) for va, creating tables above it as needed;
 * NULL when a table cannot be allocated or a large page is in the way. */
static uint64_t *walk(uint64_t root, uint64_t va, int level, bool create,
		      unsigned *new_tables)
{
	uint64_t *t = table(root);

	for (int l = 3; l > level; l--) {
		uint64_t *e = &t[index_of(va, l)];
		if (!(*e & PTE_PRESENT)) {
			if (!create)
				return NULL;
			uint64_t frame = table_alloc();
			if (!frame)
				return NULL;
			if (new_tables)
				(*new_tables)++;
			/* Upper levels are permissive; leaves decide. */
			*e = frame | PTE_PRESENT | PTE_WRITE | (va < USER_TOP ? PTE_USER : 0);
			(*used_of(t))++;
		} else if (*e & PTE_LARGE) {
			return NULL;
		}
		t = table(*e);
	}
	return &t[index_of(va, level)];
}

static int map_at_level(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags,
			int level, unsigned *new_tables)
{
	uint64_t align = level ? LARGE_PAGE_SIZE : PAGE_SIZE;

	if ((va | pa) & (align - 1) || !canonical(va))
		return PT_BAD_ARGUMENT;
	uint64_t *e = walk(root, va, level, true, new_tables);
	if (!e)
		return PT_NO_MEMORY;
	if (*e & PTE_PRESENT)
		return PT_EXISTS;
	*e = pa | flags | PTE_PRESENT | (level ? PTE_LARGE : 0);
	(*used_of(e))++;
	pt_generation++;
	return PT_OK;
}

int pt_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags,
	   unsigned *new_tables)
{
	return map_at_level(root, va, pa, flags, 0, new_tables);
}

int pt_map_large(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags)
{
	return map_at_level(root, va, pa, flags, 1, NULL);
}

int pt_tables_needed(uint64_t root, uint64_t va)
{
	uint64_t *t = table(root);
	int needed = 0;

	for (int l = 3; l > 0; l--) {
		uint64_t e = t[index_of(va, l)];
		if (!(e & PTE_PRESENT))
			return needed + l;
		t = table(e);
	}
	return needed;
}

bool pt_protect(uint64_t root, uint64_t va, uint64_t clear_flags)
{
	uint64_t *e = walk(root, va, 0, false, NULL);

	if (!e || !(*e & PTE_PRESENT))
		return false;
	*e &= ~clear_flags;
	pt_generation++;
	if (root == read_cr3())
		invlpg(va);
	return true;
}

bool pt_extend(uint64_t root, uint64_t va, uint64_t flags)
{
	uint64_t *e = walk(root, va, 0, false, NULL);

	if (!e || !(*e & PTE_PRESENT))
		return false;
	*e |= flags & PTE_WRITE;
	if (!(flags & PTE_NX))
		*e &= ~PTE_NX;
	pt_generation++;
	/* A stale read-only entry would only fault again; drop it anyway. */
	if (root == read_cr3())
		invlpg(va);
	return true;
}

uint64_t pt_unmap(uint64_t root, uint64_t va)
{
	uint64_t *e = walk(root, va, 0, false, NULL);

	if (!e || !(*e & PTE_PRESENT))
		return 0;
	uint64_t old = *e;
	*e = 0;
	(*used_of(e))--;
	pt_generation++;
	if (root == read_cr3())
		invlpg(va);
	return old;
}

unsigned pt_prune(uint64_t root, uint64_t va)
{
	uint64_t *path[4];      /* path[l]: the table of level l on va's way */
	unsigned freed = 0;

	if (va >= USER_TOP)
		return 0;
	path[3] = table(root);
	for (int l = 3; l > 0; l--) {
		uint64_t e = path[l][index_of(va, l)];
		if (!(e & PTE_PRESENT) || (e & PTE_LARGE))
			return 0;
		path[l - 1] = table(e);
	}
	for (int l = 0; l < 3 && *used_of(path[l]) == 0; l++) {
		path[l + 1][index_of(va, l + 1)] = 0;
		(*used_of(path[l + 1]))--;
		freed++;
	}
	if (!freed)
		return 0;
	pt_generation++;
	/* The paging-structure caches may hold the tables: drop them before
	 * a frame can be used again. */
	if (root == read_cr3())
		write_cr3(root);
	for (unsigned l = 0; l < freed; l++) {
		if (nspare < SPARE_TABLES)
			spare[nspare++] = virt_to_phys(path[l]);
		else
			kmem_free_frame(virt_to_phys(path[l]));
	}
	return freed;
}

uint64_t pt_lookup(uint64_t root, uint64_t va)
{
	uint64_t *t = table(root);

	if (!canonical(va))
		return 0;
	for (int l = 3; l >= 0; l--) {
		uint64_t e = t[index_of(va, l)];
		if (!(e & PTE_PRESENT))
			return 0;
		if (l == 0 || (e & PTE_LARGE))
			return e;
		t = table(e);
	}
	return 0;
}

static void free_tree(uint64_t phys, int level)
{
	if (level > 0) {
		uint64_t *t = table(phys);
		for (int i = 0; i < 512; i++)
			if ((t[i] & PTE_PRESENT) && !(t[i] & PTE_LARGE))
				free_tree(t[i] & PTE_ADDR, level - 1);
	}
	kmem_free_frame(phys);
}

void pt_destroy(uint64_t root)
{
	uint64_t *t = table(root);

	pt_generation++;
	for (int i = 0; i < 256; i++)
		if (t[i] & PTE_PRESENT)
			free_tree(t[i] & PTE_ADDR, 2);
	kmem_free_frame(root);
}

uint64_t pt_create(void)
{
	uint64_t root = kmem_alloc_frame_zeroed();

	if (root) {
		kmem_pt_used[root / FRAME_SIZE] = 0;
		memcpy(table(root) + 256, table(kernel_root) + 256, 256 * 8);
	}
	return root;
}

uint64_t paging_kernel_root(void)
{
	return kernel_root;
}

void paging_init(uint64_t phys_top, uint64_t (*cacheable)(uint64_t, uint64_t))
{
	const uint64_t four_gib = 4ULL << 30;
	uint64_t top = phys_top < four_gib ? four_gib : phys_top;

	top = (top + LARGE_PAGE_SIZE - 1) & ~(uint64_t)(LARGE_PAGE_SIZE - 1);
	kernel_root = kmem_alloc_frame_zeroed();
	if (!kernel_root)
		panic("paging: no memory for the kernel page tables");
	/* The kernel half uses two PML4 slots only: 256 (physical map) and 511
	 * (kernel window). Their PDPTs exist from now on, so every address
	 * space made by pt_create shares them, including later additions. */
	static const int kernel_slots[] = { 256, 511 };
	for (int i = 0; i < 2; i++) {
		uint64_t pdpt = kmem_alloc_frame_zeroed();
		if (!pdpt)
			panic("paging: no memory for the kernel page tables");
		table(kernel_root)[kernel_slots[i]] = pdpt | PTE_PRESENT | PTE_WRITE;
	}
	/* Physical map: RAM cached, the rest (MMIO) uncached; never executable. */
	for (uint64_t pa = 0; pa < top; pa += LARGE_PAGE_SIZE) {
		uint64_t flags = PTE_WRITE | PTE_GLOBAL | PTE_NX;
		if (!cacheable(pa, pa + LARGE_PAGE_SIZE))
			flags |= PTE_UNCACHED;
		if (pt_map_large(kernel_root, PHYS_MAP_BASE + pa, pa, flags))
			panic("paging: cannot map physical %lx", pa);
	}
	/* Kernel window: the first 1 GiB at -2 GiB (image, boot data). */
	for (uint64_t pa = 0; pa < (1ULL << 30); pa += LARGE_PAGE_SIZE)
		if (pt_map_large(kernel_root, KERNEL_VMA + pa, pa, PTE_WRITE | PTE_GLOBAL))
			panic("paging: cannot map the kernel window");
	write_cr3(kernel_root);
	__asm__ volatile("mov %%cr4, %%rax; or $0x80, %%rax; mov %%rax, %%cr4" ::: "rax"); /* PGE */
}
