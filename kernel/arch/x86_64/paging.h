/*
 * 4-level page tables. A page table tree is named by the physical address
 * of its PML4. Intermediate tables come from the frame allocator and are
 * reached through the physical map.
 */
#ifndef MICA_PAGING_H
#define MICA_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

#define PTE_PRESENT  (1ULL << 0)
#define PTE_WRITE    (1ULL << 1)
#define PTE_USER     (1ULL << 2)
#define PTE_PWT      (1ULL << 3)
#define PTE_PCD      (1ULL << 4)
#define PTE_LARGE    (1ULL << 7)
#define PTE_GLOBAL   (1ULL << 8)
#define PTE_NX       (1ULL << 63)
#define PTE_ADDR     0x000FFFFFFFFFF000ULL
#define PTE_UNCACHED (PTE_PCD | PTE_PWT)

static inline void *phys_to_virt(uint64_t phys) { return (void *)(phys + PHYS_MAP_BASE); }
static inline uint64_t virt_to_phys(const void *virt)
{
	uint64_t v = (uint64_t)virt;
	return v >= KERNEL_VMA ? v - KERNEL_VMA : v - PHYS_MAP_BASE;
}

enum pt_error {
	PT_OK = 0,
	PT_NO_MEMORY = -1,   /* no frame for an intermediate table */
	PT_EXISTS = -2,      /* something is mapped there already */
	PT_BAD_ARGUMENT = -3 /* misaligned or non-canonical address */
};

/* Build the kernel's own tables (physical map up to phys_top, rounded up to
 * at least 4 GiB, plus the kernel window) and switch to them. */
void paging_init(uint64_t phys_top, uint64_t (*cacheable)(uint64_t start, uint64_t end));

/* Physical address of the kernel's PML4. */
uint64_t paging_kernel_root(void);

/* A new PML4 sharing the kernel half; 0 when out of memory. */
uint64_t pt_create(void);

/* Map one 4 KiB page va -> pa with flags (PTE_*; PRESENT is implied);
 * *new_tables (if not NULL) is increased by the page tables it made. */
int pt_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags,
	   unsigned *new_tables);

/* How many page-table frames mapping va would have to create (0..3). */
int pt_tables_needed(uint64_t root, uint64_t va);

/* Clear flags (e.g. PTE_WRITE) of the 4 KiB mapping at va; false if none. */
bool pt_protect(uint64_t root, uint64_t va, uint64_t clear_flags);

/* Give the 4 KiB mapping at va the write access (PTE_WRITE in flags)
 * and execute access (no PTE_NX in flags) that flags have and it lacks;
 * nothing else changes. false if there is no such mapping. */
bool pt_extend(uint64_t root, uint64_t va, uint64_t flags);

/* Map one 2 MiB page (va, pa 2 MiB aligned). */
int pt_map_large(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags);

/* Remove the 4 KiB mapping at va; returns its old entry (0 if none). */
uint64_t pt_unmap(uint64_t root, uint64_t va);

/* After va's 4 KiB mapping went: free the tables on its path that map
 * nothing any more (its page table, then the directory above it, then
 * the one above that; never root itself). Returns how many tables it freed (0..3). User half only. */
unsigned pt_prune(uint64_t root, uint64_t va);

/* Tables pt_prune freed and keeps zeroed for the next ones made (at most
 * 8): free memory, which a leak check adds to the free frames. */
unsigned pt_spare_tables(void);

/* One of them (an all-zero frame, no longer in any table or TLB) for
 * kmem's allocator when it has no other frame; 0 when none is kept. */
uint64_t pt_spare_take(void);

/* The leaf entry for va (4 KiB or 2 MiB), or 0 when unmapped. */
uint64_t pt_lookup(uint64_t root, uint64_t va);

/* Counts the changes to mappings (pt_map, pt_map_large, pt_protect,
 * pt_unmap, pt_destroy; never 0). What a page-table walk found (a kernel
 * pointer, or that nothing is mapped) holds while this has not moved:
 * ipc.c caches IPC buffers so. */
extern uint64_t pt_generation;

/* Free every user-half table of root and root itself (not the pages). */
void pt_destroy(uint64_t root);

#endif
