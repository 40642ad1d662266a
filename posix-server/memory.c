/*
 * The pages of every process's memory: runs of 4 MiB from init
 * (INIT_PAGES_ALLOC, charged to the manifest's memory= allowance), handed
 * out one 4 KiB page at a time through the address-space operations. A
 * page given back is revoked from the process it was mapped to and kept
 * for the next; the runs stay the server's until it ends.
 *
 * Copy-on-write: after a fork a page is owned by the parent and the
 * child at once (lib/aspace.h, as_share). Each page of a run has a count
 * of its owners beyond the first; the page goes back to the free list
 * when its last owner gives it up.
 *
 * The file cache: a page of a root-filesystem file that a process maps
 * (mmap, memory_file_page) is read into a page once, kept in a table by
 * (node, page index), and owned by the cache and by every process that
 * maps it, copy-on-write like a fork's. When the last process lets it go,
 * the cache does too (the root filesystem never changes; tmpfs files are
 * not cached: their pages are copied at mmap).
 */
#include "memory.h"
#include "posix.h"
#include "vdso_map.h"
#include "vfs.h"

#include "proto/program.h"
#include "uapi/memory.h"

#define MEMORY_RUN       (4UL << 20)
#define MEMORY_RUN_PAGES (MEMORY_RUN / PAGE_SIZE)
#define MEMORY_RUNS_MAX  256            /* 1 GiB */

struct free_page {
	struct free_page *next;
};

static struct free_page *free_pages;
uint64_t memory_revokes;
static uint64_t pages_reserve, pages_used;

/* The runs (each MEMORY_RUN-aligned: init's grant_run places 2^k pages
 * at a multiple of their size, init/pages.c), and for each page of them its owners
 * beyond the first. */
static uint8_t *runs[MEMORY_RUNS_MAX];
static uint16_t extra_owners[MEMORY_RUNS_MAX][MEMORY_RUN_PAGES];
static uint16_t cache_slot[MEMORY_RUNS_MAX][MEMORY_RUN_PAGES];   /* slot + 1, or 0 */
/* The account a process's page is charged to (charges[] index + 1), or 0:
 * the server's own (tables of its own, pipes, tmpfs, the file cache). */
static uint8_t charged_to[MEMORY_RUNS_MAX][MEMORY_RUN_PAGES];
static unsigned nruns;

/* The runs by address (address / MEMORY_RUN): open addressing, linear
 * probing, at most half used; a run's number + 1, or 0 (free). Runs are
 * never given back, so nothing is removed. */
#define RUN_SLOTS (2 * MEMORY_RUNS_MAX)
static uint16_t run_slots[RUN_SLOTS];

static unsigned run_home(uintptr_t key)
{
	return (unsigned)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (RUN_SLOTS - 1);
}

/* The count of page's owners beyond the first (and its slot in the file
 * cache, if slot), or NULL (not a page of a run: a table or a pipe's
 * buffer from elsewhere). Each page a fork shares, a write copies or a
 * process gives back asks: its run is looked up, not searched for. */
static uint16_t *owners_of(const void *page, uint16_t **slot)
{
	uintptr_t key = (uintptr_t)page / MEMORY_RUN;

	for (unsigned h = run_home(key), r; (r = run_slots[h]) != 0; h = (h + 1) & (RUN_SLOTS - 1)) {
		if ((uintptr_t)runs[r - 1] / MEMORY_RUN != key)
			continue;
		unsigned at = (unsigned)((uintptr_t)page % MEMORY_RUN / PAGE_SIZE);
		if (slot)
			*slot = &cache_slot[r - 1][at];
		return &extra_owners[r - 1][at];
	}
	static uint16_t no_slot;
	if (slot)
		*slot = &no_slot;
	return NULL;
}

/* The account page is charged to (charged_to), or NULL: not a page of a run. */
static uint8_t *charged_to_of(const void *page)
{
	uint16_t *extra = owners_of(page, NULL);

	return extra ? &charged_to[0][0] + (extra - &extra_owners[0][0]) : NULL;
}

/* ---- the file cache: open addressing, linear probing ---- */

#define CACHE_SLOTS 8192                /* at most half used: 16 MiB of files */

struct cache_entry {
	int node;
	uint32_t index;                 /* the page's in the file */
	void *page;                     /* NULL: a free slot */
};

static struct cache_entry cache[CACHE_SLOTS];
static unsigned cache_used;

static unsigned cache_home(int node, uint32_t index)
{
	return (unsigned)((((uint64_t)node << 32 | index) * 0x9E3779B97F4A7C15ULL) >> 40) &
	       (CACHE_SLOTS - 1);
}

/* Remove page (cached) from the table, closing the gap so that every
 * entry stays reachable from its home slot. */
static void cache_drop(void *page)
{
	uint16_t *slot;

	owners_of(page, &slot);
	unsigned mask = CACHE_SLOTS - 1, hole = *slot - 1U;
	*slot = 0;
	for (unsigned i = (hole + 1) & mask; cache[i].page; i = (i + 1) & mask) {
		unsigned home = cache_home(cache[i].node, cache[i].index);
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			cache[hole] = cache[i];
			owners_of(cache[hole].page, &slot);
			*slot = (uint16_t)(hole + 1);
			hole = i;
		}
	}
	cache[hole].page = NULL;
	cache_used--;
}

static uint64_t memory_allowance(void);

/* One more run from init, cut into free pages: false when refused, said
 * (a burst, then one a second): what it costs a process (ENOMEM, EFAULT,
 * SIGKILL at a fault) is not a mystery then. */
static bool memory_grow(void)
{
	long err = 0;
	uint8_t *run = nruns < MEMORY_RUNS_MAX ? pages_alloc(MEMORY_RUN, &err) : NULL;

	if (!run) {
		printf_limited("posix: memory: no %lu MiB more from init after %u runs (%lu MiB; "
			       "memory= %lu MiB): %s (see the console's mem; docs/posix.md, "
			       "\"Room for more\")\n", MEMORY_RUN >> 20, nruns,
			       nruns * (MEMORY_RUN >> 20), memory_allowance() * PAGE_SIZE >> 20,
			       err ? mica_strerror(err) : "the server's runs are all used");
		return false;
	}
	if ((uintptr_t)run % MEMORY_RUN) {     /* not as grant_run places them */
		printf("posix: init gave a memory run at %p, not aligned to its size: refused\n",
		       (void *)run);
		pages_free(run);
		return false;
	}
	unsigned h = run_home((uintptr_t)run / MEMORY_RUN);
	while (run_slots[h])
		h = (h + 1) & (RUN_SLOTS - 1);
	runs[nruns++] = run;
	run_slots[h] = (uint16_t)nruns;
	for (uint64_t off = 0; off < MEMORY_RUN; off += PAGE_SIZE) {
		struct free_page *f = (struct free_page *)(run + off);
		f->next = free_pages;
		free_pages = f;
	}
	pages_reserve += MEMORY_RUN / PAGE_SIZE;
	return true;
}

/* ---- each account's share of memory= (docs/posix.md, "Limits") ---- */

/* The pages of processes each account holds: an account's entry is
 * taken at its first page and given back with its last. */
#define CHARGES_MAX 255
static struct charge {
	int account;
	unsigned pages;                 /* 0: a free entry */
} charges[CHARGES_MAX];

/* What a process's page may not take of memory= (in pages): left for the
 * server's own pages (pipes, sockets, tmpfs, its tables). */
#define MEMORY_RESERVE(all) ((all) / 16)

/* The manifest's memory= in pages (0: not known, nothing is bounded). */
static uint64_t memory_allowance(void)
{
	return ((const struct program_info *)PROGRAM_INFO_ADDR)->memory / PAGE_SIZE;
}

uint64_t memory_account_share(void)
{
	uint64_t all = memory_allowance(), share = SHARE(all - MEMORY_RESERVE(all));

	return all && share < PROCESS_MAX_PAGES ? share : PROCESS_MAX_PAGES;
}

/* account's entry of charges[], made if new (index + 1), or 0 (full). */
static unsigned charge_of(int account)
{
	static unsigned last;           /* the last one asked for: a process's pages come in runs */
	unsigned free = 0;

	if (last && charges[last - 1].pages && charges[last - 1].account == account)
		return last;
	for (unsigned i = 0; i < CHARGES_MAX; i++)
		if (charges[i].pages && charges[i].account == account)
			return last = i + 1;
		else if (!charges[i].pages && !free)
			free = i + 1;
	if (free)
		charges[free - 1].account = account;
	return last = free;
}

/* Whether a page for a process of account may be taken: its account
 * holds less than its share (the rest left for the others), and
 * MEMORY_RESERVE(memory=) is left. *charge: the account's entry (0: none). */
static bool charge_allowed(int account, unsigned *charge)
{
	uint64_t all = memory_allowance();

	*charge = charge_of(account);
	if (!all)
		return true;
	if (pages_used + MEMORY_RESERVE(all) >= all)
		return false;
	return !*charge || charges[*charge - 1].pages < memory_account_share();
}

bool memory_room(int account)
{
	unsigned charge;

	return charge_allowed(account, &charge);
}

bool memory_waited;
uint32_t memory_wakes;

/* A zeroed page charged to account (charged: else to nobody), or NULL:
 * the account's share is full, or there is no memory. */
static void *page_take(bool charged, int account)
{
	unsigned charge = 0;

	if (charged && !charge_allowed(account, &charge))
		return NULL;
	if (!free_pages && !memory_grow())
		return NULL;
	struct free_page *f = free_pages;
	free_pages = f->next;
	pages_reserve--;
	pages_used++;
	memset(f, 0, PAGE_SIZE);
	uint8_t *to = charged_to_of(f);
	if (to && charge) {
		*to = (uint8_t)charge;
		charges[charge - 1].pages++;
	}
	return f;
}

static void *page_alloc(void *ctx)
{
	const struct process *owner = ctx;

	return page_take(owner != NULL, owner ? owner->account : 0);
}

static void page_free(void *ctx, void *page)
{
	const struct process *owner = ctx;
	uint16_t *slot, *extra = owners_of(page, &slot);

	if (extra && *extra) {
		/* The other owners keep it. A process whose task is gone
		 * (its end) has no mapping of it left; a live one (munmap,
		 * exec) loses it with every other's, who fault it in again. */
		(*extra)--;
		if (!owner || owner->task.task) {
			sys_mem_unmap(fpage((uint64_t)page, 12), 0);
			memory_revokes++;
		}
		if (*extra || !*slot)
			return;
		cache_drop(page);       /* only the file cache had it still */
	}
	sys_mem_unmap(fpage((uint64_t)page, 12), 0);
	uint8_t *to = charged_to_of(page);
	if (to && *to) {
		charges[*to - 1].pages--;
		*to = 0;
	}
	struct free_page *f = page;
	f->next = free_pages;
	free_pages = f;
	pages_reserve++;
	pages_used--;
	if (memory_waited) {
		memory_waited = false;  /* set again by those that still find no room */
		memory_wakes++;
		threads_wake_all();
	}
}

/* Tables of 8 to 64 KiB (a process's owned pages past 128, its regions
 * past 64) are cut from runs of MEMORY_RUN taken for them and kept by
 * size when given back: init gives a program at most PROGRAM_MAX_CHUNKS
 * (64) allocations, so one each would stop the 64 processes' tables. */
#define TABLE_CLASSES 4                 /* 8, 16, 32, 64 KiB */
static struct free_page *tables_free[TABLE_CLASSES];
static uint8_t *table_run;              /* what is left of the run tables are cut from */
static uint64_t table_run_left;

static int table_class(size_t bytes)
{
	for (int c = 0; c < TABLE_CLASSES; c++)
		if (bytes == (2 * PAGE_SIZE) << c)
			return c;
	return -1;
}

static void table_put(void *table, int c)
{
	struct free_page *f = table;

	f->next = tables_free[c];
	tables_free[c] = f;
}

/* A table for a process (lib/aspace.h): one page of the pool while it is
 * small, a cut of a table run up to 64 KiB, a run of its own from init
 * beyond. Counted among the pages in use. */
static void *table_alloc(void *ctx, size_t bytes)
{
	int c = table_class(bytes);
	void *t;

	if (bytes == PAGE_SIZE)
		return page_alloc(ctx);
	if (c < 0) {
		if ((t = pages_alloc(bytes, NULL)))
			pages_used += bytes / PAGE_SIZE;
		return t;
	}
	if ((t = tables_free[c])) {
		tables_free[c] = tables_free[c]->next;
	} else {
		if (table_run_left < bytes) {
			uint8_t *run = pages_alloc(MEMORY_RUN, NULL);
			if (!run)
				return NULL;
			/* The old run's rest (a multiple of 8 KiB) for the smallest. */
			for (; table_run_left; table_run_left -= 2 * PAGE_SIZE, table_run += 2 * PAGE_SIZE)
				table_put(table_run, 0);
			table_run = run;
			table_run_left = MEMORY_RUN;
		}
		t = table_run;
		table_run += bytes;
		table_run_left -= bytes;
	}
	memset(t, 0, bytes);
	pages_used += bytes / PAGE_SIZE;
	return t;
}

static void table_free(void *ctx, void *table, size_t bytes)
{
	int c = table_class(bytes);

	if (bytes == PAGE_SIZE) {
		page_free(ctx, table);
		return;
	}
	pages_used -= bytes / PAGE_SIZE;
	if (c < 0)
		pages_free(table);
	else
		table_put(table, c);
}

void *memory_page_alloc(void)
{
	return page_alloc(NULL);
}

void memory_page_free(void *page)
{
	page_free(NULL, page);
}

/* A tmpfs page: charged to the file's account (0: the server's, to nobody). */
static void *file_page_alloc(int account)
{
	return page_take(account != 0, account);
}

/* The files' times: CLOCK_REALTIME (sys_info.c's), in ns. */
static uint64_t file_time_now(void)
{
	return (uint64_t)sys_clock() + (uint64_t)vdso_realtime_offset();
}

/* What tmpfs makes now is charged to the account whose call it is. */
static int file_account(void)
{
	return share_account;
}

const struct vfs_ops vfs_page_ops = { file_page_alloc, memory_page_free, file_time_now,
				      file_account };

/* Pages shared whose write access is still to be revoked (share_flush):
 * a fork's in one mem_unmap_list call for each SHARE_BATCH pages. */
#define SHARE_BATCH 256
static uint64_t share_pending[SHARE_BATCH];
static unsigned share_npending;

static void share_flush(void *ctx)
{
	/* It cannot fail on what as_share queued (pages of ours, 1..256);
	 * if it did, parent and child would write one page: say so and
	 * revoke them one by one. */
	if (share_npending &&
	    sys_mem_unmap_list((uint64_t)share_pending, share_npending, MEM_UNMAP_WRITE_ONLY) < 0) {
		printf("posix: mem_unmap_list refused %u pages: revoked one by one\n", share_npending);
		for (unsigned i = 0; i < share_npending; i++)
			sys_mem_unmap(share_pending[i], MEM_UNMAP_WRITE_ONLY);
	}
	share_npending = 0;
}

/* Copy-on-write (lib/aspace.h): write access revoked from every process
 * the page is mapped to (at share_flush, which as_share and as_adopt
 * call before they return); the next write faults and gets a copy. */
static void page_share(void *ctx, void *page)
{
	uint16_t *extra = owners_of(page, NULL);

	if (!extra || *extra == UINT16_MAX)
		return;         /* never: every owned page is of a run, PROCESS_MAX owners */
	(*extra)++;
	if (share_npending == SHARE_BATCH)
		share_flush(ctx);
	share_pending[share_npending++] = fpage((uint64_t)page, 12);
}

static unsigned page_owners(void *ctx, void *page)
{
	uint16_t *extra = owners_of(page, NULL);

	return extra ? *extra + 1U : 1U;
}

const struct as_ops process_as_ops = {
	page_alloc, page_free, NULL, table_alloc, table_free, page_share, page_owners,
	shmem_page, shmem_hold, shmem_release, share_flush,
};

void memory_counts(uint64_t *used, uint64_t *reserve)
{
	*used = pages_used;
	*reserve = pages_reserve;
}

uint64_t memory_cache_pages(void)
{
	return cache_used;
}

void *memory_file_page(int node, uint64_t index)
{
	unsigned i = cache_home(node, (uint32_t)index);
	const struct vfs_node *n = &vfs_nodes[node];

	if (!n->data || index >= UINT32_MAX)
		return NULL;
	for (; cache[i].page; i = (i + 1) & (CACHE_SLOTS - 1))
		if (cache[i].node == node && cache[i].index == index)
			return cache[i].page;
	uint64_t off = index * PAGE_SIZE;
	void *page = cache_used < CACHE_SLOTS / 2 && off < n->size ? page_alloc(NULL) : NULL;
	uint16_t *slot;
	if (!page)
		return NULL;
	memcpy(page, n->data + off, n->size - off < PAGE_SIZE ? n->size - off : PAGE_SIZE);
	cache[i] = (struct cache_entry){ node, (uint32_t)index, page };
	cache_used++;
	owners_of(page, &slot);
	*slot = (uint16_t)(i + 1);
	return page;
}

void memory_file_page_unused(void *page)
{
	uint16_t *slot, *extra = owners_of(page, &slot);

	if (extra && !*extra && *slot) {
		cache_drop(page);
		page_free(NULL, page);
	}
}

void memory_log(void)
{
	struct task_info ti = { 0 };

	sys_task_info(CAP_SLOT_SELF, (uint64_t)&ti);
	printf("posix: memory: %lu pages in use, %lu kept; kernel quota %lu bytes used\n",
	       pages_used, pages_reserve, ti.quota_used);
}

static void trim_page(void *ctx, uint64_t va, void *page)
{
	if (va != *(uint64_t *)ctx) {
		sys_mem_unmap(fpage((uint64_t)page, 12), 0);
		memory_revokes++;
	}
}

void memory_trim(struct process *p, uint64_t keep)
{
	keep &= ~(PAGE_SIZE - 1);
	as_each_owned(&p->as, 0, USER_SPACE_TOP, trim_page, &keep);
	if (keep)
		shmem_revoke(p, 0, keep);
	shmem_revoke(p, keep + PAGE_SIZE, USER_SPACE_TOP);
}
