/*
 * Physical memory (init is sigma0): the first RAM region, one byte of use
 * per page, every page init hands out mapped at its place in
 * ROOT_RAM_WINDOW first. Device memory goes through ROOT_MMIO_WINDOW.
 */
#include "init.h"

static struct mem_info ram, mmio;
static uint8_t *ram_used;       /* one byte per page of the region */
static uint64_t ram_pages, ram_next;    /* no free page below ram_next */

bool ram_init(void)
{
	if (sys_mem_info(ROOT_SLOT_FIRST_RAM, (uint64_t)&ram) < 0)
		return false;
	ram_pages = ram.size / PAGE_SIZE;
	/* The page-use map itself: its first pages, mapped by hand. */
	uint64_t map_pages = (ram_pages + PAGE_SIZE - 1) / PAGE_SIZE;
	if (sys_mem_map(ROOT_SLOT_FIRST_RAM, 0, ROOT_RAM_WINDOW, map_pages,
			IPC_MAP_READ | IPC_MAP_WRITE) < 0)
		return false;
	ram_used = (uint8_t *)ROOT_RAM_WINDOW;
	memset(ram_used, 0, map_pages * PAGE_SIZE);
	for (uint64_t i = 0; i < map_pages; i++)
		ram_used[i] = 1;
	ram_next = map_pages;
	sys_mem_info(ROOT_SLOT_MMIO, (uint64_t)&mmio);
	return true;
}

void *ram_page_at(uint64_t index)
{
	return (void *)(ROOT_RAM_WINDOW + index * PAGE_SIZE);
}

uint64_t ram_phys(uint64_t index)
{
	return ram.base + index * PAGE_SIZE;
}

void *ram_page_alloc(void)
{
	for (; ram_next < ram_pages; ram_next++) {
		if (ram_used[ram_next])
			continue;
		/* Executable too: a program can get no more than we have, and
		 * its code lives in these pages. */
		if (sys_mem_map(ROOT_SLOT_FIRST_RAM, ram_next * PAGE_SIZE,
				(uint64_t)ram_page_at(ram_next), 1,
				IPC_MAP_READ | IPC_MAP_WRITE | IPC_MAP_EXEC) < 0)
			return NULL;
		ram_used[ram_next] = 1;
		memset(ram_page_at(ram_next), 0, PAGE_SIZE);
		return ram_page_at(ram_next);
	}
	return NULL;
}

int64_t ram_run_alloc(uint64_t n, unsigned rights)
{
	for (uint64_t first = 0; first + n <= ram_pages; first += n) {
		uint64_t i = 0;
		while (i < n && !ram_used[first + i])
			i++;
		if (i < n)
			continue;
		if (sys_mem_map(ROOT_SLOT_FIRST_RAM, first * PAGE_SIZE, (uint64_t)ram_page_at(first), n,
				rights) < 0)
			return -1;
		memset(ram_page_at(first), 0, n * PAGE_SIZE);
		memset(ram_used + first, 1, n);
		return (int64_t)first;
	}
	return -1;
}

void ram_page_free(void *page)
{
	uint64_t i = ((uint64_t)page - ROOT_RAM_WINDOW) / PAGE_SIZE;

	sys_mem_unmap(fpage((uint64_t)page, 12), MEM_UNMAP_SELF);
	ram_used[i] = 0;
	if (i < ram_next)
		ram_next = i;
}

void ram_run_free(uint64_t first, uint64_t n)
{
	for (uint64_t k = 0; k < n; k++)
		ram_page_free(ram_page_at(first + k));
}

uint64_t ram_pages_total(void)
{
	return ram_pages;
}

uint64_t ram_pages_free(void)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < ram_pages; i++)
		n += !ram_used[i];
	return n;
}

bool mmio_contains(uint64_t base, uint64_t size)
{
	return base >= mmio.base && size <= mmio.size && base - mmio.base <= mmio.size - size;
}

uint64_t mmio_window_addr(uint64_t phys)
{
	return ROOT_MMIO_WINDOW + (phys - mmio.base);
}

bool mmio_page_prepare(uint64_t window_addr)
{
	uint64_t offset = window_addr - ROOT_MMIO_WINDOW;

	/* Mapped already (by an earlier fault, or another program's): fine. */
	sys_mem_map(ROOT_SLOT_MMIO, offset, window_addr, 1, IPC_MAP_READ | IPC_MAP_WRITE);
	return true;
}
