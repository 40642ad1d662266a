/*
 * The pages of every process's memory: runs of 4 MiB from init
 * (INIT_PAGES_ALLOC, charged to the manifest's memory= allowance), handed
 * out one 4 KiB page at a time through the address-space operations. A
 * page given back is revoked from the process it was mapped to and kept
 * for the next; the runs stay the server's until it ends.
 */
#include "posix.h"
#include "vfs.h"

#define MEMORY_RUN (4UL << 20)

struct free_page {
	struct free_page *next;
};

static struct free_page *free_pages;
static uint64_t pages_reserve, pages_used;

/* One more run from init, cut into free pages: false when refused. */
static bool memory_grow(void)
{
	long err;
	uint8_t *run = pages_alloc(MEMORY_RUN, &err);

	if (!run)
		return false;
	for (uint64_t off = 0; off < MEMORY_RUN; off += PAGE_SIZE) {
		struct free_page *f = (struct free_page *)(run + off);
		f->next = free_pages;
		free_pages = f;
	}
	pages_reserve += MEMORY_RUN / PAGE_SIZE;
	return true;
}

static void *page_alloc(void *ctx)
{
	if (!free_pages && !memory_grow())
		return NULL;
	struct free_page *f = free_pages;
	free_pages = f->next;
	pages_reserve--;
	pages_used++;
	memset(f, 0, PAGE_SIZE);
	return f;
}

static void page_free(void *ctx, void *page)
{
	sys_mem_unmap(fpage((uint64_t)page, 12), 0);
	struct free_page *f = page;
	f->next = free_pages;
	free_pages = f;
	pages_reserve++;
	pages_used--;
}

/* The table of a process's pages: one page while it is small, a run of
 * its own from init beyond. */
static void *table_alloc(void *ctx, size_t bytes)
{
	return bytes == PAGE_SIZE ? page_alloc(ctx) : pages_alloc(bytes, NULL);
}

static void table_free(void *ctx, void *table, size_t bytes)
{
	if (bytes == PAGE_SIZE)
		page_free(ctx, table);
	else
		pages_free(table);
}

static void *tmpfs_page_alloc(void)
{
	return page_alloc(NULL);
}

static void tmpfs_page_free(void *page)
{
	page_free(NULL, page);
}

const struct vfs_ops vfs_page_ops = { tmpfs_page_alloc, tmpfs_page_free };

const struct as_ops process_as_ops = { page_alloc, page_free, NULL, table_alloc, table_free };

void memory_counts(uint64_t *used, uint64_t *reserve)
{
	*used = pages_used;
	*reserve = pages_reserve;
}
