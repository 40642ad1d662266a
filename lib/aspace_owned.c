/* A pager's record of a client address space, its owned pages
 * (include/lib/aspace.h): the table (open addressing, linear probing),
 * visiting and sharing them. */
#include "lib/aspace.h"
#include "lib/string.h"
#include "uapi/errors.h"
#include "aspace_owned.h"

static unsigned slot_of(const struct aspace *as, uint64_t va)
{
	return (unsigned)(((va >> 12) * 0x9E3779B97F4A7C15ULL) >> 32) & (as->capacity - 1);
}

struct as_page *as_owned_find(const struct aspace *as, uint64_t va)
{
	if (!as->capacity)
		return NULL;
	for (unsigned i = slot_of(as, va);; i = (i + 1) & (as->capacity - 1)) {
		struct as_page *e = &as->table[i];
		if (!e->page)
			return NULL;
		if (e->va == va)
			return e;
	}
}

static void table_put(struct aspace *as, uint64_t va, void *page)
{
	unsigned i = slot_of(as, va);

	while (as->table[i].page)
		i = (i + 1) & (as->capacity - 1);
	as->table[i].va = va;
	as->table[i].page = page;
}

/* Room for one more owned page: the table doubles (from AS_TABLE_FIRST
 * entries) when it would be more than half full. */
static bool table_room(struct aspace *as)
{
	if (as->npages >= as->max_pages)
		return false;
	if (as->npages < as->capacity / 2)
		return true;
	unsigned capacity = as->capacity ? 2 * as->capacity : AS_TABLE_FIRST;
	if (!as->ops->table_alloc || capacity < as->capacity)
		return false;
	struct as_page *table = as->ops->table_alloc(as->ctx, capacity * sizeof(*table));
	if (!table)
		return false;
	struct as_page *old = as->table;
	unsigned old_capacity = as->capacity;
	memset(table, 0, capacity * sizeof(*table));
	as->table = table;
	as->capacity = capacity;
	for (unsigned i = 0; i < old_capacity; i++)
		if (old[i].page)
			table_put(as, old[i].va, old[i].page);
	if (old)
		as->ops->table_free(as->ctx, old, old_capacity * sizeof(*old));
	return true;
}

void *as_owned_add(struct aspace *as, uint64_t va)
{
	if (!table_room(as))
		return NULL;
	void *page = as->ops->page_alloc(as->ctx);
	if (!page)
		return NULL;
	table_put(as, va, page);
	as->npages++;
	return page;
}

/* Take the entry e out of the table, its page kept (the page), and close
 * the gap, so that every entry stays reachable from its home slot. */
static void *page_take(struct aspace *as, struct as_page *e)
{
	unsigned mask = as->capacity - 1, hole = (unsigned)(e - as->table);
	void *page = e->page;

	for (unsigned i = (hole + 1) & mask; as->table[i].page; i = (i + 1) & mask) {
		unsigned home = slot_of(as, as->table[i].va);
		/* Move entry i into the hole unless its home lies cyclically
		 * in (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			as->table[hole] = as->table[i];
			hole = i;
		}
	}
	as->table[hole].page = NULL;
	as->table[hole].va = 0;
	return page;
}

/* Free the owned page at entry e. */
static void page_remove(struct aspace *as, struct as_page *e)
{
	as->ops->page_free(as->ctx, page_take(as, e));
	as->npages--;
}

void as_move_pages(struct aspace *as, uint64_t start, uint64_t size, uint64_t to)
{
	uint64_t end = start + size;

	if (!size || to == start)
		return;
	/* As as_owned_free_range: short ranges page by page, long ones by
	 * the table; a page put at its new address (outside the range) is
	 * never taken again. */
	if (size / AS_PAGE_SIZE <= as->capacity) {
		for (uint64_t va = start; va < end; va += AS_PAGE_SIZE) {
			struct as_page *e = as_owned_find(as, va);
			if (e)
				table_put(as, to + (va - start), page_take(as, e));
		}
		return;
	}
	for (unsigned i = 0; i < as->capacity;) {
		struct as_page *e = &as->table[i];
		if (e->page && e->va >= start && e->va < end) {
			uint64_t va = e->va;
			table_put(as, to + (va - start), page_take(as, e));
		} else {
			i++;
		}
	}
}

void as_owned_free_range(struct aspace *as, uint64_t start, uint64_t end)
{
	/* A short range page by page; a long one (which may be far larger
	 * than the pages it holds) by walking the table. Removal shifts
	 * entries back, so an entry is looked at again after a removal. */
	if ((end - start) / AS_PAGE_SIZE <= as->capacity) {
		for (uint64_t va = start; va < end; va += AS_PAGE_SIZE) {
			struct as_page *e = as_owned_find(as, va);
			if (e)
				page_remove(as, e);
		}
		return;
	}
	for (unsigned i = 0; i < as->capacity;) {
		struct as_page *e = &as->table[i];
		if (e->page && e->va >= start && e->va < end)
			page_remove(as, e);
		else
			i++;
	}
}

void as_each_owned(const struct aspace *as, uint64_t start, uint64_t end,
		   void (*fn)(void *ctx, uint64_t va, void *page), void *ctx)
{
	start &= ~PAGE_MASK;
	if (end <= start)
		return;
	if ((end - start) / AS_PAGE_SIZE <= as->capacity) {
		for (uint64_t va = start; va < end; va += AS_PAGE_SIZE) {
			const struct as_page *e = as_owned_find(as, va);
			if (e)
				fn(ctx, va, e->page);
		}
		return;
	}
	for (unsigned i = 0; i < as->capacity; i++) {
		const struct as_page *e = &as->table[i];
		if (e->page && e->va >= start && e->va < end)
			fn(ctx, e->va, e->page);
	}
}

long as_share(struct aspace *to, const struct aspace *from)
{
	if (to->nregions || to->capacity || !from->ops->page_share || from->npages > to->max_pages)
		return from->npages > to->max_pages ? -ERR_NO_MEMORY : -ERR_INVALID_ARG;
	struct as_page *table = NULL;
	size_t bytes = from->capacity * sizeof(*from->table);
	if (from->capacity && !(table = to->ops->table_alloc(to->ctx, bytes)))
		return -ERR_NO_MEMORY;
	if (as_regions_copy(to, from) < 0) {
		if (table)
			to->ops->table_free(to->ctx, table, bytes);
		return -ERR_NO_MEMORY;
	}
	if (from->capacity) {
		memcpy(table, from->table, bytes);
		to->table = table;
		to->capacity = from->capacity;
		to->npages = from->npages;
		for (unsigned i = 0; i < from->capacity; i++)
			if (table[i].page)
				from->ops->page_share(from->ctx, table[i].page);
		if (from->ops->share_flush)
			from->ops->share_flush(from->ctx);
	}
	for (unsigned i = 0; i < to->nregions; i++)
		if (to->regions[i].kind == AS_OBJECT)
			to->ops->object_hold(to->ctx, to->regions[i].object);
	return 0;
}

long as_adopt(struct aspace *as, uint64_t va, void *page)
{
	const struct as_region *r = as_region_at(as, va);

	if (!r || r->kind != AS_ANON || va & PAGE_MASK || as_owned_find(as, va) || !as->ops->page_share)
		return -ERR_INVALID_ARG;
	if (!table_room(as))
		return -ERR_NO_MEMORY;
	table_put(as, va, page);
	as->npages++;
	as->ops->page_share(as->ctx, page);
	if (as->ops->share_flush)
		as->ops->share_flush(as->ctx);
	return 0;
}
